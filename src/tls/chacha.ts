/**
 * ChaCha20-Poly1305 decryption of TLS records in JavaScript (RFC 8439), without an OpenSSL
 * context per record (`createDecipheriv` costs about 3–10 µs per call whatever the length).
 *
 *   §2.3 the ChaCha20 block function: 16 little-endian words (constants, key, block counter,
 *        nonce), 20 rounds, added to the input; §2.4 the plaintext is the ciphertext XOR the blocks
 *        from counter 1; §2.6 the one-time Poly1305 key is the first 32 bytes of block 0;
 *   §2.5 Poly1305: r (clamped) and s from that key; for each 16-byte block, h = (h + block +
 *        2^128)·r mod 2^130 − 5; the tag is (h + s) mod 2^128;
 *   §2.8 the AEAD: Poly1305 over aad ‖ zeros to 16 ‖ ciphertext ‖ zeros to 16 ‖ le64(aad length) ‖
 *        le64(ciphertext length) — every block is whole, so 2^128 is always added.
 * Poly1305's numbers are 10 limbs of 13 bits held in doubles: a product of limbs and the sums of
 * ten of them (times 5 for the reduction) stay far below 2^53, so the arithmetic is exact.
 * The tag is checked before the plaintext is handed on; a record that fails it gives nothing.
 * Little-endian machines only (typed arrays in memory order): elsewhere the caller uses OpenSSL.
 */

import { AAD_MAX, aeadWasm, CHACHA_KEY, CHACHA_NONCE, IN, WASM_MAX, type AeadWasm } from './wasm/aead.js';

export const CHACHA_JS = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Records with at most this many ciphertext bytes take this path; longer ones createDecipheriv,
 * faster beyond it (measured, CPU µs per record, chacha.ts against createDecipheriv: 64 B 1.3 / 3.8,
 * 256 B 2.6 / 4.6, 512 B 4.4 / 4.7, 1 KiB 8.4 / 5.9; docs/performance.md).
 */
export const CHACHA_JS_MAX = 512;
/** The same when the key opens records in WebAssembly (wasm/aead.ts; measured, docs/performance.md). */
export const CHACHA_WASM_MAX = 8192;

let maxOverride = -1;
/** For the benchmark's side-by-side figures (0: none takes this path; -1: the defaults above). */
export function setChaChaJsMax(bytes: number): void {
  maxOverride = bytes;
}

const M13 = 8192;
const INV13 = 1 / 8192;
/** A last partial block, zero-padded. */
const PAD = new Uint8Array(16);

export class ChaChaKey {
  /** The initial state: constants, key; counter and nonce filled per block. */
  readonly #state = new Uint32Array(16);
  /** Key stream blocks for one record (block 0 first), and their bytes. */
  #ks = new Uint32Array(16 * 17);
  #ksBytes = new Uint8Array(this.#ks.buffer);
  #out = Buffer.alloc(512);
  readonly #r = new Float64Array(10);
  readonly #h = new Float64Array(10);
  /** The plaintext length of the last record opened (the buffer returned is longer). */
  length = 0;
  /** The WebAssembly module when it is there: every record it can take is opened there. */
  readonly #wasm: AeadWasm | null = aeadWasm();

  constructor(key: Uint8Array) {
    const s = this.#state;
    s[0] = 0x61707865;
    s[1] = 0x3320646e;
    s[2] = 0x79622d32;
    s[3] = 0x6b206574;
    const k = Buffer.from(key.buffer, key.byteOffset, 32);
    for (let i = 0; i < 8; i++) s[4 + i] = k.readUInt32LE(4 * i);
  }

  /** Block `counter` of the key stream into ks[16·slot ..]. */
  #block(counter: number, slot: number): void {
    const s = this.#state;
    s[12] = counter;
    let x0 = s[0]!, x1 = s[1]!, x2 = s[2]!, x3 = s[3]!, x4 = s[4]!, x5 = s[5]!, x6 = s[6]!, x7 = s[7]!; // prettier-ignore
    let x8 = s[8]!, x9 = s[9]!, x10 = s[10]!, x11 = s[11]!, x12 = s[12]!, x13 = s[13]!, x14 = s[14]!, x15 = s[15]!; // prettier-ignore
    for (let i = 0; i < 10; i++) {
      // Columns.
      x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16); x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20); x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24); x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25); // prettier-ignore
      x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16); x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20); x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24); x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25); // prettier-ignore
      x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16); x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20); x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24); x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25); // prettier-ignore
      x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16); x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20); x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24); x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25); // prettier-ignore
      // Diagonals.
      x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16); x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20); x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24); x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25); // prettier-ignore
      x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16); x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20); x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24); x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25); // prettier-ignore
      x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16); x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20); x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24); x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25); // prettier-ignore
      x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16); x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20); x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24); x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25); // prettier-ignore
    }
    const o = this.#ks;
    const q = 16 * slot;
    o[q] = x0 + s[0]!; o[q + 1] = x1 + s[1]!; o[q + 2] = x2 + s[2]!; o[q + 3] = x3 + s[3]!; // prettier-ignore
    o[q + 4] = x4 + s[4]!; o[q + 5] = x5 + s[5]!; o[q + 6] = x6 + s[6]!; o[q + 7] = x7 + s[7]!; // prettier-ignore
    o[q + 8] = x8 + s[8]!; o[q + 9] = x9 + s[9]!; o[q + 10] = x10 + s[10]!; o[q + 11] = x11 + s[11]!; // prettier-ignore
    o[q + 12] = x12 + s[12]!; o[q + 13] = x13 + s[13]!; o[q + 14] = x14 + s[14]!; o[q + 15] = x15 + s[15]!; // prettier-ignore
  }

  /** Poly1305 over `b[p .. p+n)` as 16-byte blocks, the last zero-padded: h = (h + block + 2^128)·r mod 2^130 − 5. */
  #poly(b: Uint8Array, p: number, n: number): void {
    const H = this.#h;
    const R = this.#r;
    let h0 = H[0]!, h1 = H[1]!, h2 = H[2]!, h3 = H[3]!, h4 = H[4]!, h5 = H[5]!, h6 = H[6]!, h7 = H[7]!, h8 = H[8]!, h9 = H[9]!; // prettier-ignore
    const r0 = R[0]!, r1 = R[1]!, r2 = R[2]!, r3 = R[3]!, r4 = R[4]!, r5 = R[5]!, r6 = R[6]!, r7 = R[7]!, r8 = R[8]!, r9 = R[9]!; // prettier-ignore
    const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5, s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9; // prettier-ignore
    const end = p + n;
    for (; p < end; p += 16) {
      let m = b;
      let q = p;
      if (end - p < 16) {
        PAD.fill(0);
        PAD.set(b.subarray(p, end));
        m = PAD;
        q = 0;
      }
      const t0 = m[q]! | (m[q + 1]! << 8), t1 = m[q + 2]! | (m[q + 3]! << 8), t2 = m[q + 4]! | (m[q + 5]! << 8), t3 = m[q + 6]! | (m[q + 7]! << 8); // prettier-ignore
      const t4 = m[q + 8]! | (m[q + 9]! << 8), t5 = m[q + 10]! | (m[q + 11]! << 8), t6 = m[q + 12]! | (m[q + 13]! << 8), t7 = m[q + 14]! | (m[q + 15]! << 8); // prettier-ignore
      h0 += t0 & 0x1fff;
      h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
      h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
      h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
      h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
      h5 += (t4 >>> 1) & 0x1fff;
      h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
      h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
      h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
      h9 += (t7 >>> 5) | 2048; // and 2^128
      let d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6 + h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
      let d1 = h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7 + h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
      let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8 + h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
      let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9 + h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
      let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
      let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
      let d6 = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
      let d7 = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
      let d8 = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
      let d9 = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
      let c = Math.floor(d0 * INV13);
      h0 = d0 - c * M13;
      d1 += c;
      c = Math.floor(d1 * INV13);
      h1 = d1 - c * M13;
      d2 += c;
      c = Math.floor(d2 * INV13);
      h2 = d2 - c * M13;
      d3 += c;
      c = Math.floor(d3 * INV13);
      h3 = d3 - c * M13;
      d4 += c;
      c = Math.floor(d4 * INV13);
      h4 = d4 - c * M13;
      d5 += c;
      c = Math.floor(d5 * INV13);
      h5 = d5 - c * M13;
      d6 += c;
      c = Math.floor(d6 * INV13);
      h6 = d6 - c * M13;
      d7 += c;
      c = Math.floor(d7 * INV13);
      h7 = d7 - c * M13;
      d8 += c;
      c = Math.floor(d8 * INV13);
      h8 = d8 - c * M13;
      d9 += c;
      c = Math.floor(d9 * INV13);
      h9 = d9 - c * M13;
      h0 += c * 5;
      c = Math.floor(h0 * INV13);
      h0 -= c * M13;
      h1 += c;
    }
    H[0] = h0; H[1] = h1; H[2] = h2; H[3] = h3; H[4] = h4; H[5] = h5; H[6] = h6; H[7] = h7; H[8] = h8; H[9] = h9; // prettier-ignore
  }

  /**
   * Opens a record: ciphertext `data[off .. off+len)`, its tag at `tagOff`, the 12-byte nonce as
   * three little-endian words, additional data `aad`. Null when the tag does not verify; else the
   * buffer whose first `length` bytes are the plaintext (valid until the next call).
   */
  open(n0: number, n1: number, n2: number, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    if (this.#wasm !== null && len <= WASM_MAX && aad.length <= AAD_MAX) return this.#openWasm(this.#wasm, n0, n1, n2, aad, data, off, len, tagOff);
    const s = this.#state;
    s[13] = n0;
    s[14] = n1;
    s[15] = n2;
    const blocks = 1 + ((len + 63) >> 6);
    if (this.#ks.length < 16 * blocks) {
      this.#ks = new Uint32Array(16 * blocks);
      this.#ksBytes = new Uint8Array(this.#ks.buffer);
    }
    this.#block(0, 0);
    // The one-time key: r (clamped) as 13-bit limbs; s kept in the key stream's first block.
    const kb = this.#ksBytes;
    const rb = R_BYTES;
    for (let i = 0; i < 16; i++) rb[i] = kb[i]! & CLAMP[i]!;
    const r = this.#r;
    const t0 = rb[0]! | (rb[1]! << 8), t1 = rb[2]! | (rb[3]! << 8), t2 = rb[4]! | (rb[5]! << 8), t3 = rb[6]! | (rb[7]! << 8); // prettier-ignore
    const t4 = rb[8]! | (rb[9]! << 8), t5 = rb[10]! | (rb[11]! << 8), t6 = rb[12]! | (rb[13]! << 8), t7 = rb[14]! | (rb[15]! << 8); // prettier-ignore
    r[0] = t0 & 0x1fff;
    r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    r[5] = (t4 >>> 1) & 0x1fff;
    r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    r[9] = t7 >>> 5;
    this.#h.fill(0);
    this.#poly(aad, 0, aad.length);
    this.#poly(data, off, len);
    const lens = LENS;
    lens.fill(0);
    lens[0] = aad.length & 0xff;
    lens[1] = aad.length >>> 8;
    lens[8] = len & 0xff;
    lens[9] = (len >>> 8) & 0xff;
    lens[10] = (len >>> 16) & 0xff;
    this.#poly(lens, 0, 16);
    if (!this.#tagMatches(kb, data, tagOff)) return null;
    for (let b = 1; b < blocks; b++) this.#block(b, b);
    if (this.#out.length < len) this.#out = Buffer.alloc(Math.max(len, 2 * this.#out.length));
    const out = this.#out;
    for (let i = 0; i < len; i++) out[i] = kb[64 + i]! ^ data[off + i]!;
    this.length = len;
    return out;
  }

  /** 'wasm' when records are opened in WebAssembly, else 'js'. */
  get engine(): 'wasm' | 'js' {
    return this.#wasm !== null ? 'wasm' : 'js';
  }

  /** The longest ciphertext open() takes (longer records: createDecipheriv). */
  get maxLength(): number {
    return maxOverride >= 0 ? maxOverride : this.#wasm !== null ? CHACHA_WASM_MAX : CHACHA_JS_MAX;
  }

  /**
   * open() in WebAssembly (wasm/aead.wat, chacha_open): key, nonce, aad, ciphertext and tag copied
   * in; the module checks the tag before it makes the plaintext, read back from its memory.
   */
  #openWasm(w: AeadWasm, n0: number, n1: number, n2: number, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    const m = w.i32;
    const s = this.#state;
    const k = CHACHA_KEY >> 2;
    for (let i = 0; i < 8; i++) m[k + i] = s[4 + i]!;
    m[CHACHA_NONCE >> 2] = n0;
    m[(CHACHA_NONCE >> 2) + 1] = n1;
    m[(CHACHA_NONCE >> 2) + 2] = n2;
    const u8 = w.u8;
    if (tagOff === off + len) u8.set(data.subarray(off, off + len + 16), IN);
    else {
      u8.set(data.subarray(off, off + len), IN);
      u8.set(data.subarray(tagOff, tagOff + 16), IN + len);
    }
    for (let i = 0; i < aad.length; i++) u8[i] = aad[i]!;
    if (w.chachaOpen(aad.length, len) === 0) return null;
    this.length = len;
    return w.out;
  }

  /** (h mod 2^130 − 5) + s mod 2^128, against the tag (little-endian). */
  #tagMatches(kb: Uint8Array, data: Uint8Array, tagOff: number): boolean {
    const h = this.#h;
    // Full carry (limbs are integers below 2^31 here): every limb below 2^13.
    let c = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) {
        const v = h[i]! + c;
        c = v >>> 13;
        h[i] = v & 0x1fff;
      }
      h[0] = h[0]! + c * 5;
      c = 0;
    }
    // h − p = h + 5 − 2^130: when that is not negative, it is the value mod p.
    const g = G;
    c = 5;
    for (let i = 0; i < 10; i++) {
      const v = h[i]! + c;
      c = v >>> 13;
      g[i] = v & 0x1fff;
    }
    const u = c > 0 ? g : h;
    const u0 = u[0]!, u1 = u[1]!, u2 = u[2]!, u3 = u[3]!, u4 = u[4]!, u5 = u[5]!, u6 = u[6]!, u7 = u[7]!, u8 = u[8]!, u9 = u[9]!; // prettier-ignore
    // The low 128 bits as 16-bit words (the inverse of the split in #poly), plus s, against the tag.
    const w = W16;
    w[0] = (u0 | (u1 << 13)) & 0xffff;
    w[1] = ((u1 >>> 3) | (u2 << 10)) & 0xffff;
    w[2] = ((u2 >>> 6) | (u3 << 7)) & 0xffff;
    w[3] = ((u3 >>> 9) | (u4 << 4)) & 0xffff;
    w[4] = ((u4 >>> 12) | (u5 << 1) | (u6 << 14)) & 0xffff;
    w[5] = ((u6 >>> 2) | (u7 << 11)) & 0xffff;
    w[6] = ((u7 >>> 5) | (u8 << 8)) & 0xffff;
    w[7] = ((u8 >>> 8) | (u9 << 5)) & 0xffff;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const t = w[i]! + (kb[16 + 2 * i]! | (kb[17 + 2 * i]! << 8)) + carry;
      carry = t >>> 16;
      if ((t & 0xffff) !== (data[tagOff + 2 * i]! | (data[tagOff + 2 * i + 1]! << 8))) return false;
    }
    return true;
  }
}

const CLAMP = Uint8Array.of(0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f);
const R_BYTES = new Uint8Array(16);
const LENS = new Uint8Array(16);
const G = new Float64Array(10);
const W16 = new Uint32Array(8);

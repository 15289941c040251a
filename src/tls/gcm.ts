/**
 * AES-GCM decryption of TLS records without a new OpenSSL context per record.
 *
 * `createDecipheriv` costs about 10 µs per call on Node 20 / OpenSSL 3 whatever the length (the
 * cipher is fetched and set up each time), which is most of the cost of a short MySQL record. Here
 * one AES-ECB cipher per key, made once, turns counter blocks into key stream, and GHASH runs in
 * JavaScript — both from NIST SP 800-38D:
 *   H = E(K, 0^128); J0 = IV ‖ 0^31 ‖ 1 (96-bit IV, §7.2); the plaintext's counter blocks start at
 *   inc32(J0); S = GHASH_H(A ‖ 0^v ‖ C ‖ 0^u ‖ [len(A)]64 ‖ [len(C)]64); T = E(K, J0) ⊕ S.
 * The tag is checked before any plaintext is made.
 *
 * Key stream ahead of need. A TLS record's nonce is a fixed IV XOR a 64-bit number n (RFC 8446
 * §5.3: the sequence number; RFC 5288 §3: salt ‖ the record's explicit nonce, which
 * implementations fill with the sequence number). The counter blocks of the next records are thus
 * known before they arrive: one ECB call makes the first blocks (J0 and the key stream) of BATCH
 * consecutive numbers, so short records cost one OpenSSL call per BATCH records instead of one
 * each. A batch holds, per record, as many blocks as the longest record since the previous batch
 * needed (at most KS_BLOCKS: J0 and 256 bytes), so a direction of short queries does not pay for
 * the key stream of long replies. A record longer than its batch starts a new batch long enough
 * for it; one longer than KS_BLOCKS gets its own key stream in one call; a number outside the
 * batch starts a new batch there.
 *
 * GHASH multiplies in GF(2^128) with the spec's bit order (x_0 is the most significant bit of the
 * first byte; multiplying by α shifts right and reduces with R = 11100001 ‖ 0^120). Two table
 * methods, same product:
 *   - small (4 KiB per key): Horner's rule one byte at a time over a table of b·H for every byte b
 *     and a shared table of the reduction of the 8 bits shifted out (16 steps of shift, reduce,
 *     look up per block);
 *   - positional (64 KiB per key): since X·H is linear in X, a table per byte position p of
 *     b·H·α^(8p) for every byte b; X·H is the XOR of 16 look-ups, no shifting (about 2.3× faster,
 *     measured). A key switches to it after POSITIONAL_AFTER records, so handshake keys and short
 *     connections never pay its memory or its setup (about 30 µs).
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { AAD_MAX, aeadWasm, IN, KS, TABLE_BYTES, WASM_MAX, type AeadWasm } from './wasm/aead.js';

/**
 * Records with at most this many ciphertext bytes take this path with the JavaScript GHASH; longer
 * ones createDecipheriv, faster beyond it (measured, CPU µs per record, gcm.ts against
 * createDecipheriv: 256 B 1.2 / 2.6, 1 KiB 4.0 / 4.3, 1.5 KiB 6.5 / 4.4; docs/performance.md).
 */
export const GCM_JS_MAX = 1024;
/** The same for a key whose GHASH runs in WebAssembly (wasm/aead.ts; measured, docs/performance.md). */
export const GCM_WASM_MAX = 2048;

let maxOverride = -1;
/** For the benchmark's side-by-side figures: the largest ciphertext that takes this path (0: none; -1: the defaults above). */
export function setGcmJsMax(bytes: number): void {
  maxOverride = bytes;
}

/** Records per batch of key stream made ahead. */
export const BATCH = 64;
/** Blocks of key stream made ahead per record: E(J0) and 16 blocks (256 bytes). */
export const KS_BLOCKS = 17;
/** Records opened under one key before it builds its positional GHASH tables. */
export const POSITIONAL_AFTER = 32;

const RED = new Int32Array(256);
for (let rem = 0; rem < 256; rem++) {
  let r = 0;
  // Integer bit b of the byte shifted out is x_(127-b), which becomes α^(128+7-b) = α^(7-b)·R.
  for (let b = 0; b < 8; b++) if ((rem >> b) & 1) r ^= 0xe100 >>> (7 - b);
  RED[rem] = r << 16;
}

/** Typed arrays use the machine's byte order: little-endian nearly everywhere. */
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The 32-bit word whose bytes in memory (native order) are x's big-endian bytes. */
function native(x: number): number {
  return LITTLE ? ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24) : x | 0;
}

/**
 * Counter blocks for the ECB calls, shared by every key (filled and consumed within one call), and
 * their 32-bit view: grown to the largest batch, 17 KiB.
 */
const CTR = { b: new ArrayBuffer(0), w: new Uint32Array(0) };

/** Scratch for a zero-padded block. */
const PAD = new Int32Array(4);

/** Byte i of the key stream words from ks[j] on (bytes in memory order). */
function keyByte(ks: Int32Array, j: number, i: number): number {
  const w = ks[j + (i >> 2)]!;
  return LITTLE ? (w >>> (8 * (i & 3))) & 0xff : (w >>> (24 - 8 * (i & 3))) & 0xff;
}

/** b[p .. p+4) as a native-order word. */
function readNative(b: Uint8Array, p: number): number {
  return native((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export class GcmKey {
  readonly #ecb: Cipher;
  /** H·α^j for j = 0..127, four big-endian words each. */
  readonly #powers = new Int32Array(512);
  /** Small tables: T[4b .. 4b+3] = b·H, where bit 7 of b is α^0 and bit 0 is α^7. */
  readonly #t = new Int32Array(1024);
  /** Positional tables, once built: P[4(256p + b) ..] = b·H·α^(8p). */
  #p: Int32Array | null = null;
  /** Or, once built, the address of the positional tables in the WebAssembly memory (-1: none). */
  #tab = -1;
  #wasm: AeadWasm | null = null;
  #opened = 0;
  /** The fixed part of every nonce, as three little-endian reads of its bytes. */
  readonly #base0: number;
  readonly #base1: number;
  readonly #base2: number;
  /** The batch: #per blocks of key stream for each of the numbers #first .. #first + #batch - 1. */
  #ks: Int32Array = new Int32Array(0);
  #first = -1;
  /** Records in the current batch: 4 at first, doubling to BATCH (a handshake key opens a few). */
  #batch = 0;
  /** Blocks per record in the current batch (J0 and the key stream), and the most any record wanted since it was made. */
  #per = 0;
  #want = 2;
  /** Plaintext of the last record opened (a view of it is returned: valid until the next open), and its words. */
  #out32 = new Int32Array(128);
  #out = Buffer.from(this.#out32.buffer);
  /** The plaintext length of the last record opened (the buffer returned is longer). */
  length = 0;
  #z0 = 0;
  #z1 = 0;
  #z2 = 0;
  #z3 = 0;

  /**
   * `base`: the 12 bytes the record's number is XORed into (the last 8, big-endian) to make its
   * nonce: the TLS 1.3 IV; salt ‖ 0^64 for TLS 1.2. Omitted: zeros (nonces given whole).
   */
  constructor(key: Uint8Array, base: Uint8Array = new Uint8Array(12)) {
    this.#ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    const b = Buffer.from(base.buffer, base.byteOffset, 12);
    this.#base0 = readNative(b, 0);
    this.#base1 = readNative(b, 4);
    this.#base2 = readNative(b, 8);
    const h = this.#ecb.update(Buffer.alloc(16));
    let v0 = h.readInt32BE(0);
    let v1 = h.readInt32BE(4);
    let v2 = h.readInt32BE(8);
    let v3 = h.readInt32BE(12);
    const pw = this.#powers;
    for (let j = 0; j < 128; j++) {
      pw[4 * j] = v0; // H·α^j
      pw[4 * j + 1] = v1;
      pw[4 * j + 2] = v2;
      pw[4 * j + 3] = v3;
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    this.#fill(this.#t, 0, 0, pw);
  }

  /** Which GHASH this key uses now: 'small' tables, 'positional' tables in JavaScript, or 'wasm'. */
  get engine(): 'small' | 'positional' | 'wasm' {
    return this.#tab >= 0 ? 'wasm' : this.#p !== null ? 'positional' : 'small';
  }

  /** The longest ciphertext open() takes for this key (longer records: createDecipheriv). */
  get maxLength(): number {
    return maxOverride >= 0 ? maxOverride : this.#tab >= 0 ? GCM_WASM_MAX : GCM_JS_MAX;
  }

  /**
   * t[off + 4b ..] = b·H·α^(8p) for every byte b (bit 7 of b is the lowest power), from the powers
   * pw (big-endian words; or the same byte-swapped, which XOR commutes with).
   */
  #fill(t: Int32Array, off: number, p: number, pw: Int32Array): void {
    for (let b = 1; b < 256; b++) {
      const low = b & -b;
      const j = 8 * p + 7 - (31 - Math.clz32(low));
      const from = off + 4 * (b ^ low);
      const to = off + 4 * b;
      t[to] = t[from]! ^ pw[4 * j]!;
      t[to + 1] = t[from + 1]! ^ pw[4 * j + 1]!;
      t[to + 2] = t[from + 2]! ^ pw[4 * j + 2]!;
      t[to + 3] = t[from + 3]! ^ pw[4 * j + 3]!;
    }
  }

  /** Y = (Y ⊕ X)·H for one block X given as four words, with the small tables. */
  #block(x0: number, x1: number, x2: number, x3: number): void {
    const a0 = this.#z0 ^ x0;
    const a1 = this.#z1 ^ x1;
    const a2 = this.#z2 ^ x2;
    const a3 = this.#z3 ^ x3;
    const t = this.#t;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    // Bytes 15 down to 0: the low byte of a3 first.
    for (let i = 0; i < 16; i++) {
      const word = i < 4 ? a3 : i < 8 ? a2 : i < 12 ? a1 : a0;
      const rem = z3 & 0xff;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ RED[rem]!;
      const k = ((word >>> ((i & 3) << 3)) & 0xff) << 2;
      z0 ^= t[k]!;
      z1 ^= t[k + 1]!;
      z2 ^= t[k + 2]!;
      z3 ^= t[k + 3]!;
    }
    this.#z0 = z0;
    this.#z1 = z1;
    this.#z2 = z2;
    this.#z3 = z3;
  }

  /** Counter blocks for `count` records from number `n`, blocks `from` .. `to` - 1 of each (block 0 is J0), into CTR. */
  #counters(n: number, count: number, from: number, to: number): number {
    const per = to - from;
    if (CTR.w.length < 4 * per * count) {
      CTR.b = new ArrayBuffer(16 * per * count);
      CTR.w = new Uint32Array(CTR.b);
    }
    const w = CTR.w;
    let q = 0;
    for (let r = 0; r < count; r++) {
      const m = n + r;
      const w0 = this.#base0;
      const w1 = this.#base1 ^ native(Math.floor(m / 0x100000000) >>> 0);
      const w2 = this.#base2 ^ native(m >>> 0);
      for (let j = from; j < to; j++) {
        w[q] = w0;
        w[q + 1] = w1;
        w[q + 2] = w2;
        w[q + 3] = native(j + 1);
        q += 4;
      }
    }
    return 16 * per * count;
  }

  /** ECB of the first `bytes` of CTR, as 32-bit words (aligned: copied when OpenSSL's buffer is not). */
  #encrypt(bytes: number): Int32Array {
    const b = this.#ecb.update(new Uint8Array(CTR.b, 0, bytes));
    if ((b.byteOffset & 3) === 0) return new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
    const w = new Int32Array(b.length >> 2);
    new Uint8Array(w.buffer).set(b);
    return w;
  }

  /**
   * Opens `data[off .. off+len)` (ciphertext without its tag) whose 16-byte tag is at `tagOff`:
   * the record numbered n (0 ≤ n < 2^53: its nonce is the base XOR n), with additional data `aad`.
   * Null when the tag does not verify. The plaintext is the first `length` bytes of the buffer
   * returned (no view is made per record), valid until the next call.
   */
  open(n: number, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    const blocks = 1 + ((len + 15) >> 4);
    if (blocks > this.#per) this.#want = Math.min(KS_BLOCKS, Math.max(this.#want, blocks));
    if (blocks > this.#per || this.#first < 0 || n < this.#first || n >= this.#first + this.#batch) {
      if (blocks > KS_BLOCKS) {
        // Longer than any key stream made ahead: this record's own, in one call.
        return this.#open(this.#encrypt(this.#counters(n, 1, 0, blocks)), 0, aad, data, off, len, tagOff);
      }
      // A new batch, as long per record as the longest record (up to KS_BLOCKS) since the last one.
      this.#batch = Math.min(BATCH, Math.max(4, 2 * this.#batch));
      this.#per = Math.max(this.#want, blocks);
      this.#want = 2;
      this.#ks = this.#encrypt(this.#counters(n, this.#batch, 0, this.#per));
      // With WebAssembly tables, the batch goes into the key's slot at once (one copy per batch).
      if (this.#tab >= 0) this.#wasm!.i32.set(this.#ks, (this.#tab + TABLE_BYTES) >> 2);
      this.#first = n;
    } else if (blocks > this.#want) this.#want = blocks;
    return this.#open(this.#ks, 4 * this.#per * (n - this.#first), aad, data, off, len, tagOff);
  }

  /** As open, for a nonce given whole (a TLS 1.2 explicit nonce that is not a small number): key stream made for this record alone. */
  openNonce(nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    const blocks = 1 + ((len + 15) >> 4);
    if (CTR.w.length < 4 * blocks) {
      CTR.b = new ArrayBuffer(16 * blocks);
      CTR.w = new Uint32Array(CTR.b);
    }
    const w = CTR.w;
    const w0 = readNative(nonce, 0);
    const w1 = readNative(nonce, 4);
    const w2 = readNative(nonce, 8);
    for (let j = 0; j < blocks; j++) {
      w[4 * j] = w0;
      w[4 * j + 1] = w1;
      w[4 * j + 2] = w2;
      w[4 * j + 3] = native(j + 1);
    }
    return this.#open(this.#encrypt(16 * blocks), 0, aad, data, off, len, tagOff);
  }

  /**
   * Builds the positional tables: in the WebAssembly memory when it is there (the tables' words in
   * memory order, i.e. each entry's 16 bytes in the specification's order), else in JavaScript.
   */
  #positional(): void {
    const w = aeadWasm();
    const tab = w === null ? -1 : w.slot(this);
    if (w !== null && tab >= 0) {
      const pw = this.#powers.map(native);
      for (let i = 0; i < 16; i++) this.#fill(w.i32, (tab >> 2) + 1024 * i, i, pw);
      w.i32.set(this.#ks, (tab + TABLE_BYTES) >> 2);
      this.#wasm = w;
      this.#tab = tab;
      return;
    }
    const t = new Int32Array(16 * 1024);
    for (let i = 0; i < 16; i++) this.#fill(t, 1024 * i, i, this.#powers);
    this.#p = t;
  }

  /**
   * open() in WebAssembly (wasm/aead.wat, gcm_open): the record's ciphertext, tag and aad copied
   * in, its key stream (E(J0) first) already there (the batch, in the key's slot) or copied in (a
   * record's own); the module checks the tag before it makes the plaintext, which is read back
   * from its memory.
   */
  #openWasm(w: AeadWasm, ks: Int32Array, k: number, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    const u8 = w.u8;
    let at = this.#tab + TABLE_BYTES + 4 * k;
    if (ks !== this.#ks) {
      w.i32.set(ks.subarray(k, k + 4 + 4 * ((len + 15) >> 4)), KS >> 2);
      at = KS;
    }
    if (tagOff === off + len) u8.set(data.subarray(off, off + len + 16), IN);
    else {
      u8.set(data.subarray(off, off + len), IN);
      u8.set(data.subarray(tagOff, tagOff + 16), IN + len);
    }
    for (let i = 0; i < aad.length; i++) u8[i] = aad[i]!;
    if (w.gcmOpen(this.#tab, at, aad.length, len) === 0) return null;
    this.length = len;
    return w.out;
  }

  /**
   * GHASH of aad and ciphertext, the plaintext made into #out on the way (key stream: words ks[k ..],
   * E(J0) first), then the tag check: the plaintext, or null (and #out holds nothing anyone sees).
   * One loop over the blocks (aad, ciphertext, its last partial block, lengths) with the state in
   * locals; the positional product is written out inline (a call per block costs as much).
   */
  #open(ks: Int32Array, k: number, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    if (this.#p === null && this.#tab < 0 && ++this.#opened > POSITIONAL_AFTER) this.#positional();
    if (this.#tab >= 0 && len <= WASM_MAX && aad.length <= AAD_MAX) return this.#openWasm(this.#wasm!, ks, k, aad, data, off, len, tagOff);
    if (this.#out32.length < (len + 15) >> 2) {
      this.#out32 = new Int32Array(Math.max((len + 15) >> 2, 2 * this.#out32.length));
      this.#out = Buffer.from(this.#out32.buffer);
    }
    const out = this.#out32;
    const outBytes = this.#out;
    const p = this.#p;
    const aadBlocks = (aad.length + 15) >> 4;
    const full = len >> 4;
    const tail = len & 15;
    const cipherEnd = aadBlocks + full + (tail > 0 ? 1 : 0);
    const total = cipherEnd + 1;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    let q = off;
    let o = 0;
    let j = k + 4;
    for (let b = 0; b < total; b++) {
      let x0: number;
      let x1: number;
      let x2: number;
      let x3: number;
      if (b >= aadBlocks && b < aadBlocks + full) {
        x0 = (data[q]! << 24) | (data[q + 1]! << 16) | (data[q + 2]! << 8) | data[q + 3]!;
        x1 = (data[q + 4]! << 24) | (data[q + 5]! << 16) | (data[q + 6]! << 8) | data[q + 7]!;
        x2 = (data[q + 8]! << 24) | (data[q + 9]! << 16) | (data[q + 10]! << 8) | data[q + 11]!;
        x3 = (data[q + 12]! << 24) | (data[q + 13]! << 16) | (data[q + 14]! << 8) | data[q + 15]!;
        out[o] = ks[j]! ^ native(x0);
        out[o + 1] = ks[j + 1]! ^ native(x1);
        out[o + 2] = ks[j + 2]! ^ native(x2);
        out[o + 3] = ks[j + 3]! ^ native(x3);
        q += 16;
        o += 4;
        j += 4;
      } else if (b === total - 1) {
        x0 = 0;
        x1 = aad.length * 8;
        x2 = Math.floor(len / 0x20000000);
        x3 = (len * 8) | 0;
      } else {
        // The aad's blocks, or the ciphertext's last partial block: zero-padded.
        const inAad = b < aadBlocks;
        const src = inAad ? aad : data;
        const from = inAad ? 16 * b : q;
        const n = inAad ? Math.min(16, aad.length - 16 * b) : tail;
        const w = PAD;
        w[0] = w[1] = w[2] = w[3] = 0;
        for (let i = 0; i < n; i++) w[i >> 2]! |= src[from + i]! << (24 - 8 * (i & 3));
        x0 = w[0]!;
        x1 = w[1]!;
        x2 = w[2]!;
        x3 = w[3]!;
        if (!inAad) {
          for (let i = 0; i < n; i++) outBytes[4 * o + i] = keyByte(ks, j, i) ^ data[q + i]!;
        }
      }
      if (p === null) {
        this.#z0 = z0;
        this.#z1 = z1;
        this.#z2 = z2;
        this.#z3 = z3;
        this.#block(x0, x1, x2, x3);
        z0 = this.#z0;
        z1 = this.#z1;
        z2 = this.#z2;
        z3 = this.#z3;
        continue;
      }
      const a0 = z0 ^ x0;
      const a1 = z1 ^ x1;
      const a2 = z2 ^ x2;
      const a3 = z3 ^ x3;
      let m = (a0 >>> 24) << 2;
      z0 = p[m]!;
      z1 = p[m + 1]!;
      z2 = p[m + 2]!;
      z3 = p[m + 3]!;
      m = (0x100 | ((a0 >>> 16) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x200 | ((a0 >>> 8) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x300 | (a0 & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x400 | (a1 >>> 24)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x500 | ((a1 >>> 16) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x600 | ((a1 >>> 8) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x700 | (a1 & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x800 | (a2 >>> 24)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0x900 | ((a2 >>> 16) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xa00 | ((a2 >>> 8) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xb00 | (a2 & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xc00 | (a3 >>> 24)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xd00 | ((a3 >>> 16) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xe00 | ((a3 >>> 8) & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
      m = (0xf00 | (a3 & 255)) << 2;
      z0 ^= p[m]!; z1 ^= p[m + 1]!; z2 ^= p[m + 2]!; z3 ^= p[m + 3]!; // prettier-ignore
    }
    // T = E(J0) ⊕ S, against the record's tag (compared as native words).
    const ok =
      (readNative(data, tagOff) ^ ks[k]!) === native(z0) &&
      (readNative(data, tagOff + 4) ^ ks[k + 1]!) === native(z1) &&
      (readNative(data, tagOff + 8) ^ ks[k + 2]!) === native(z2) &&
      (readNative(data, tagOff + 12) ^ ks[k + 3]!) === native(z3);
    if (!ok) return null;
    this.length = len;
    return outBytes;
  }
}

/**
 * AES-GCM decryption for small records without a new OpenSSL context per record.
 *
 * `createDecipheriv` costs about 10 µs per call on Node 20 / OpenSSL 3 whatever the length (the
 * cipher is fetched and set up each time), which is most of the cost of a short MySQL record. Here
 * one AES-ECB cipher per key, made once, turns counter blocks into key stream, and GHASH runs in
 * JavaScript — both from NIST SP 800-38D:
 *   H = E(K, 0^128); J0 = IV ‖ 0^31 ‖ 1 (96-bit IV, §7.2); the plaintext's counter blocks start at
 *   inc32(J0); S = GHASH_H(A ‖ 0^v ‖ C ‖ 0^u ‖ [len(A)]64 ‖ [len(C)]64); T = E(K, J0) ⊕ S.
 * GHASH multiplies in GF(2^128) with the spec's bit order (x_0 is the most significant bit of the
 * first byte; multiplying by α shifts right and reduces with R = 11100001 ‖ 0^120), by Horner's
 * rule one byte at a time over tables of b·H for every byte b and of the reduction of the 8 bits
 * shifted out. The tag is checked before any plaintext is made.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** Records with at most this many ciphertext bytes take this path; longer ones createDecipheriv, faster per byte (measured crossover: bench/tls.ts, docs/performance.md). */
export let GCM_JS_MAX = 256;

/** For the benchmark's side-by-side figure: the largest ciphertext that takes this path (0: none). */
export function setGcmJsMax(bytes: number): void {
  GCM_JS_MAX = bytes;
}

const RED = new Int32Array(256);
for (let rem = 0; rem < 256; rem++) {
  let r = 0;
  // Integer bit b of the byte shifted out is x_(127-b), which becomes α^(128+7-b) = α^(7-b)·R.
  for (let b = 0; b < 8; b++) if ((rem >> b) & 1) r ^= 0xe100 >>> (7 - b);
  RED[rem] = r << 16;
}

export class GcmKey {
  readonly #ecb: Cipher;
  /** T[4b .. 4b+3] = b·H as four big-endian 32-bit words, where bit 7 of b is α^0 and bit 0 is α^7. */
  readonly #t = new Int32Array(1024);
  #ctr = Buffer.alloc(16 * 8);
  readonly #pad = new Int32Array(4);
  #z0 = 0;
  #z1 = 0;
  #z2 = 0;
  #z3 = 0;

  constructor(key: Uint8Array) {
    this.#ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    const h = this.#ecb.update(Buffer.alloc(16));
    let v0 = h.readInt32BE(0);
    let v1 = h.readInt32BE(4);
    let v2 = h.readInt32BE(8);
    let v3 = h.readInt32BE(12);
    const powers: number[][] = [];
    for (let j = 0; j < 8; j++) {
      powers.push([v0, v1, v2, v3]); // H·α^j
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    const t = this.#t;
    for (let b = 0; b < 256; b++) {
      for (let j = 0; j < 8; j++) {
        if ((b >> j) & 1) {
          const p = powers[7 - j]!;
          t[4 * b] ^= p[0]!;
          t[4 * b + 1] ^= p[1]!;
          t[4 * b + 2] ^= p[2]!;
          t[4 * b + 3] ^= p[3]!;
        }
      }
    }
  }

  /** Y = (Y ⊕ X)·H for one block X given as four words. */
  #block(x0: number, x1: number, x2: number, x3: number): void {
    const t = this.#t;
    const a0 = this.#z0 ^ x0;
    const a1 = this.#z1 ^ x1;
    const a2 = this.#z2 ^ x2;
    const a3 = this.#z3 ^ x3;
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

  /** GHASH over `b[p .. p+n)`, the last block padded with zeros. */
  #bytes(b: Uint8Array, p: number, n: number): void {
    const end = p + n;
    for (; p + 16 <= end; p += 16) {
      this.#block(
        (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!,
        (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!,
        (b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!,
        (b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!,
      );
    }
    if (p < end) {
      const w = this.#pad;
      w.fill(0);
      for (let i = 0; p + i < end; i++) w[i >> 2] |= b[p + i]! << (24 - 8 * (i & 3));
      this.#block(w[0]!, w[1]!, w[2]!, w[3]!);
    }
  }

  /**
   * Opens `data[off .. off+len)` (ciphertext without its tag) whose 16-byte tag is at `tagOff`,
   * with a 12-byte nonce and additional data; null when the tag does not verify.
   */
  open(nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, off: number, len: number, tagOff: number): Buffer | null {
    const blocks = 1 + ((len + 15) >> 4);
    if (this.#ctr.length < 16 * blocks) this.#ctr = Buffer.alloc(16 * blocks);
    const ctr = this.#ctr;
    for (let i = 0; i < blocks; i++) {
      ctr.set(nonce, 16 * i);
      ctr.writeUInt32BE(i + 1, 16 * i + 12);
    }
    const ks = this.#ecb.update(ctr.subarray(0, 16 * blocks));
    this.#z0 = this.#z1 = this.#z2 = this.#z3 = 0;
    this.#bytes(aad, 0, aad.length);
    this.#bytes(data, off, len);
    this.#block(0, aad.length * 8, Math.floor(len / 0x20000000), (len * 8) | 0);
    const tag = [this.#z0 ^ ks.readInt32BE(0), this.#z1 ^ ks.readInt32BE(4), this.#z2 ^ ks.readInt32BE(8), this.#z3 ^ ks.readInt32BE(12)];
    for (let i = 0; i < 4; i++) {
      const p = tagOff + 4 * i;
      if (((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) !== tag[i]) return null;
    }
    for (let i = 0; i < len; i++) ks[16 + i]! ^= data[off + i]!;
    return ks.subarray(16, 16 + len);
  }
}

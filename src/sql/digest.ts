/**
 * The digest: a short, stable id of a fingerprint, printed in reports: 16 lower-case hex digits,
 * the two 32-bit MurmurHash3 (x86_32) values of the fingerprint's UTF-8 bytes with seeds
 * 0x5e12_c09e and 0x0d16_e575, high lane first.
 *
 * Nothing secret goes into it (the fingerprint is already redacted), so it needs no cryptographic
 * strength, only spread: with 64 bits, a capture with a million distinct fingerprints has a chance
 * of about 3·10⁻⁸ that any two share a digest. MurmurHash3 is simple to reimplement exactly in any
 * language, so other tools can compute the same ids.
 *
 * The value is part of Periscope's output format: changing this function changes every report's
 * ids, so its results are pinned by a test.
 */

export const SEED_HIGH = 0x5e12c09e;
export const SEED_LOW = 0x0d16e575;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What `hashBytes` computes: the two lanes (unsigned) and whether every byte was ASCII. */
export interface Hash {
  high: number;
  low: number;
  ascii: boolean;
}

export function newHash(): Hash {
  return { high: 0, low: 0, ascii: true };
}

/**
 * Both MurmurHash3 lanes of `b[s, e)`, into `out`. `view`: a DataView over the same memory as
 * `b` (offset 0 = b[0]), to read the 4-byte blocks in one load each.
 */
export function hashBytes(b: Uint8Array, s: number, e: number, view: DataView | null, out: Hash): void {
  let h1 = SEED_HIGH;
  let h2 = SEED_LOW;
  let or = 0;
  const len = e - s;
  const blocksEnd = s + (len & ~3);
  let i = s;
  for (; i < blocksEnd; i += 4) {
    const w = view !== null ? view.getInt32(i, true) : b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    or |= w;
    let k = Math.imul(w, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 ^= k;
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = b[i]!;
    if (tail > 1) k ^= b[i + 1]! << 8;
    if (tail > 2) k ^= b[i + 2]! << 16;
    or |= k;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h1 ^= k;
    h2 ^= k;
  }
  out.high = fmix32(h1 ^ len);
  out.low = fmix32(h2 ^ len);
  out.ascii = (or & 0x80808080) === 0;
}

/** MurmurHash3 x86_32 of `b[s, e)` with `seed` (unsigned): the reference `hashBytes` computes both lanes of. */
export function murmur3(b: Uint8Array, s: number, e: number, seed: number): number {
  let h = seed | 0;
  const len = e - s;
  const blocksEnd = s + (len & ~3);
  let i = s;
  for (; i < blocksEnd; i += 4) {
    let k = Math.imul(b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24), C1);
    k = Math.imul((k << 15) | (k >>> 17), C2);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = b[i]!;
    if (tail > 1) k ^= b[i + 1]! << 8;
    if (tail > 2) k ^= b[i + 2]! << 16;
    k = Math.imul(k, C1);
    k = Math.imul((k << 15) | (k >>> 17), C2);
    h ^= k;
  }
  return fmix32(h ^ len);
}

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));

function hex8(h: number): string {
  return HEX2[h >>> 24]! + HEX2[(h >>> 16) & 255]! + HEX2[(h >>> 8) & 255]! + HEX2[h & 255]!;
}

/** The 16 hex digits of a hash. */
export function hashDigest(h: Hash): string {
  return hex8(h.high) + hex8(h.low);
}

const encoder = new TextEncoder();

/** The digest of a fingerprint (a string: its UTF-8 bytes are hashed). */
export function digest(fingerprint: string): string {
  const bytes = encoder.encode(fingerprint);
  const h = newHash();
  hashBytes(bytes, 0, bytes.length, null, h);
  return hashDigest(h);
}

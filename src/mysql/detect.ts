/**
 * Recognising MySQL from the bytes alone, where the handshake that would say so was not captured:
 *
 * - `sniffCompressed`: does a chunk of a stream begin with packets of the compressed protocol?
 *   The 7-byte header checks itself against the payload: a zlib or zstd payload must decompress
 *   to exactly the uncompressed length announced (zlib's Adler-32, zstd's frame structure); a
 *   payload sent as is (uncompressed length 0) must consist of whole MySQL packets.
 * - `ContentClassifier` (below): do the two directions of a connection on a port nobody named
 *   look like MySQL commands and their responses?
 */
import * as zlib from 'node:zlib';
import { isZlibHeader, isZstdFrame, type CompressionAlgorithm, type Inflate } from './compression.js';

const u24 = (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);

/** The largest payload a compressed packet announces (the protocol's 3-byte lengths). */
const MAX_LEN = 0xffffff;

/** Bytes a partial zlib payload must inflate to, cleanly, to count as evidence. */
const MIN_PARTIAL_INFLATE = 32;

/** Do MySQL packets (int<3> length, int<1> sequence id, payload) fill `b[from, to)` exactly? */
function wholePackets(b: Uint8Array, from: number, to: number): boolean {
  let q = from;
  while (to - q >= 4) q += 4 + u24(b, q);
  return q === to;
}

/** Inflate, bounded by the length announced: the output, or null when it fails or is longer. */
function tryInflate(inflate: Inflate, payload: Uint8Array, rawLen: number): Uint8Array | null {
  try {
    const out = inflate(payload);
    return out.length === rawLen ? out : null;
  } catch {
    return null;
  }
}

const zlibBounded = (max: number): Inflate => (b) => zlib.inflateSync(b, { maxOutputLength: Math.max(1, max) });

/**
 * Does `b[off, off+len)` — a chunk that starts where a compressed packet would start (a TCP
 * segment) — hold compressed-protocol packets? Every packet in the chunk must agree:
 *
 *   int<3> compressed length (≥ 1), int<1> sequence id, int<3> uncompressed length, payload
 *
 * and at least one give proof: a zlib (or zstd, when `zstd` can decompress it) payload that
 * decompresses to exactly the uncompressed length; or, when every payload is sent as is, whole
 * MySQL packets in each and the chunk ending exactly at a packet's end. A zlib payload cut by the
 * chunk's end counts when what arrived inflates cleanly to at least 32 bytes. Returns the
 * algorithm proven ('zlib' when only uncompressed payloads were seen), or null.
 */
export function sniffCompressed(b: Uint8Array, off: number, len: number, zstd: Inflate | null): CompressionAlgorithm | null {
  const end = off + len;
  let p = off;
  let proof: CompressionAlgorithm | null = null;
  let packets = 0;
  let plainOnly = true;
  while (p < end) {
    if (end - p < 7) return null;
    const compLen = u24(b, p);
    const rawLen = u24(b, p + 4);
    if (compLen === 0) return null;
    const body = p + 7;
    const have = Math.min(compLen, end - body);
    const whole = have === compLen;
    if (rawLen === 0) {
      // Sent as is: MySQL packets inside (whole, unless a long one goes on in the next packet).
      if (!whole) {
        if (packets === 0) return null;
        plainOnly = false; // no proof from a cut payload: the chunk decides on what came before
        break;
      }
      // A long packet may go on in the next compressed packet: consistent, but no proof.
      if (!wholePackets(b, body, body + compLen)) {
        if (compLen < 16384) return null;
        plainOnly = false;
      }
    } else {
      plainOnly = false;
      if (rawLen > MAX_LEN) return null;
      const payload = b.subarray(body, body + have);
      if (isZstdFrame(b, body, have)) {
        if (!whole) {
          if (packets === 0) return null;
          break;
        }
        if (zstd === null) {
          // Cannot be checked here: the shape alone (a frame magic where a payload begins) is
          // taken as zstd, so that the user is told it cannot be decoded, rather than nothing.
          proof ??= 'zstd';
        } else if (tryInflate(zstd, payload, rawLen) !== null) proof = 'zstd';
        else return null;
      } else if (isZlibHeader(b, body, have)) {
        if (whole) {
          if (tryInflate(zlibBounded(rawLen), payload, rawLen) === null) return null;
          proof = 'zlib';
        } else {
          let out: Uint8Array;
          try {
            out = zlib.inflateSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, rawLen) });
          } catch {
            return null;
          }
          if (out.length < Math.min(MIN_PARTIAL_INFLATE, rawLen)) return null;
          proof ??= 'zlib';
          break;
        }
      } else {
        return null;
      }
    }
    packets++;
    p = body + compLen;
  }
  if (proof !== null) return proof;
  // Only payloads sent as is: whole packets at both levels, the chunk ending with the last.
  return plainOnly && packets > 0 && p === end ? 'zlib' : null;
}

/**
 * One direction's record protection under one key: the nonce and additional data of a record
 * with a given sequence number, and its AEAD open.
 *
 *   TLS 1.3 (RFC 8446 §5.2, §5.3): nonce = iv XOR seq (left-padded to 12 bytes);
 *     AAD = the record header (type 23, 0x0303, length of the ciphertext with its tag).
 *   TLS 1.2 AES-GCM (RFC 5288 §3, RFC 5246 §6.2.3.3): nonce = 4-byte salt ‖ the record's
 *     8-byte explicit nonce; AAD = seq ‖ type ‖ version ‖ plaintext length.
 *   TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): nonce = 12-byte iv XOR seq, no explicit nonce;
 *     AAD as for GCM.
 * The tag is the last 16 bytes. A record whose tag does not verify gives null: never plaintext.
 */
import { createDecipheriv, createSecretKey, type DecipherGCM, type KeyObject } from 'node:crypto';
import type { AeadSuite } from './suites.js';
import type { TrafficKey } from './keys.js';
import { GcmKey } from './gcm.js';
import { CHACHA_JS, ChaChaKey } from './chacha.js';

/** x with its bytes reversed (a big-endian number as the little-endian word of the same bytes). */
const bswap = (x: number): number => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

export const TAG_LENGTH = 16;

export class RecordKey {
  readonly suite: AeadSuite;
  readonly #key: KeyObject;
  readonly #iv: Buffer;
  /** Reused for every record: createDecipheriv and setAAD consume them at once. */
  readonly #nonce = Buffer.alloc(12);
  readonly #aad: Buffer;
  readonly #tls13: boolean;
  readonly #explicit: number;
  readonly #rawKey: Buffer;
  /** AES-GCM for records up to its maxLength (gcm.ts), made on the first record. */
  #gcm: GcmKey | null = null;
  /** ChaCha20-Poly1305 in JavaScript (chacha.ts), made on the first record. */
  #chacha: ChaChaKey | null = null;
  /** The fixed nonce part for chacha.ts (the 12-byte IV as little-endian words). */
  #ivw: [number, number, number] = [0, 0, 0];
  /** The nonce's fixed part for gcm.ts: the TLS 1.3 IV; TLS 1.2: salt ‖ 0^64 (the explicit nonce is XORed in). */
  readonly #gcmBase: Buffer;

  constructor(suite: AeadSuite, key: TrafficKey) {
    this.suite = suite;
    this.#key = createSecretKey(key.key);
    this.#rawKey = Buffer.from(key.key);
    this.#iv = Buffer.from(key.iv);
    this.#tls13 = suite.tls13;
    this.#explicit = suite.explicitNonceLength;
    this.#aad = Buffer.alloc(this.#tls13 ? 5 : 13);
    if (this.#iv.length === 12) this.#ivw = [this.#iv.readUInt32LE(0), this.#iv.readUInt32LE(4), this.#iv.readUInt32LE(8)];
    this.#gcmBase = Buffer.alloc(12);
    this.#iv.copy(this.#gcmBase, 0, 0, Math.min(12, this.#iv.length));
  }

  /** The plaintext length of the last record opened: the first bytes of the buffer open returned. */
  plainLength = 0;

  /** Bytes of a record body that are not plaintext (explicit nonce + tag). */
  get overhead(): number {
    return this.#explicit + TAG_LENGTH;
  }

  /**
   * The TLS 1.2 GCM explicit nonce of a record body as a number when it is below 2^53 (most
   * implementations send the sequence number there): a hint for the sequence number. Else -1.
   */
  explicitSeq(body: Uint8Array, offset: number, length: number): number {
    if (this.#explicit === 0 || length < 8) return -1;
    const hi = ((body[offset]! << 24) | (body[offset + 1]! << 16) | (body[offset + 2]! << 8) | body[offset + 3]!) >>> 0;
    const lo = ((body[offset + 4]! << 24) | (body[offset + 5]! << 16) | (body[offset + 6]! << 8) | body[offset + 7]!) >>> 0;
    if (hi >= 0x200000) return -1;
    return hi * 0x100000000 + lo;
  }

  /** The record's nonce (in #nonce): salt ‖ explicit nonce (TLS 1.2 GCM), else IV XOR the sequence number. */
  #nonceOf(hi: number, lo: number, body: Uint8Array, offset: number): Buffer {
    const nonce = this.#nonce;
    if (this.#explicit > 0) {
      this.#iv.copy(nonce, 0, 0, 4);
      nonce.set(body.subarray(offset, offset + 8), 4);
    } else {
      this.#iv.copy(nonce, 0, 0, 12);
      nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ hi) >>> 0, 4);
      nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ lo) >>> 0, 8);
    }
    return nonce;
  }

  /**
   * Opens one record body (`body[offset .. offset+length)`), or null when the tag does not verify.
   * The plaintext is the first `plainLength` bytes of the buffer returned, which the next call may
   * reuse: valid until then.
   */
  open(seq: number, type: number, version: number, body: Uint8Array, offset: number, length: number): Buffer | null {
    const overhead = this.#explicit + TAG_LENGTH;
    if (length < overhead) return null;
    const hi = Math.floor(seq / 0x100000000) >>> 0;
    const lo = seq >>> 0;
    const aad = this.#aad;
    if (this.#tls13) {
      aad[0] = type;
      aad[1] = version >> 8;
      aad[2] = version & 0xff;
      aad[3] = length >> 8;
      aad[4] = length & 0xff;
    } else {
      const plain = length - overhead;
      aad.writeUInt32BE(hi, 0);
      aad.writeUInt32BE(lo, 4);
      aad[8] = type;
      aad[9] = version >> 8;
      aad[10] = version & 0xff;
      aad[11] = plain >> 8;
      aad[12] = plain & 0xff;
    }
    const end = offset + length;
    const cipherLength = length - overhead;
    if (this.suite.aead !== 'chacha20-poly1305' && cipherLength <= (this.#gcm ??= new GcmKey(this.#rawKey, this.#gcmBase)).maxLength) {
      // The record's number in its nonce: TLS 1.3 the sequence number; TLS 1.2 the explicit nonce
      // (the sequence number in practice; another value is opened with its nonce whole).
      const n = this.#explicit === 0 ? seq : this.explicitSeq(body, offset, length);
      const g = this.#gcm;
      const out = n >= 0 ? g.open(n, aad, body, offset + this.#explicit, cipherLength, end - TAG_LENGTH) : g.openNonce(this.#nonceOf(hi, lo, body, offset), aad, body, offset + this.#explicit, cipherLength, end - TAG_LENGTH);
      this.plainLength = g.length;
      return out;
    }
    if (this.suite.aead === 'chacha20-poly1305' && CHACHA_JS && cipherLength <= (this.#chacha ??= new ChaChaKey(this.#rawKey)).maxLength) {
      // RFC 8446 §5.3, RFC 7905 §2: nonce = IV XOR the sequence number (its last 8 bytes).
      const c = this.#chacha;
      const w = this.#ivw;
      const out = c.open(w[0], (w[1] ^ bswap(hi)) >>> 0, (w[2] ^ bswap(lo)) >>> 0, aad, body, offset, cipherLength, end - TAG_LENGTH);
      this.plainLength = c.length;
      return out;
    }
    try {
      // ChaCha20-Poly1305 is an AEAD with the same calls as GCM (its type is not in @types/node's overloads).
      const d = createDecipheriv(this.suite.aead as 'aes-128-gcm', this.#key, this.#nonceOf(hi, lo, body, offset), { authTagLength: TAG_LENGTH }) as DecipherGCM;
      d.setAAD(aad);
      d.setAuthTag(body.subarray(end - TAG_LENGTH, end));
      const out = d.update(body.subarray(offset + this.#explicit, end - TAG_LENGTH));
      d.final();
      this.plainLength = out.length;
      return out;
    } catch {
      return null;
    }
  }
}

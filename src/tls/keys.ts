/**
 * Key derivation from the key log's secrets, with `node:crypto` HMAC only.
 *
 * TLS 1.3 (RFC 8446 §7.1, §7.3, §7.2): HKDF-Expand-Label (RFC 5869 HKDF-Expand with the label
 * "tls13 " + label), traffic key and IV from a traffic secret, and the next traffic secret of a
 * KeyUpdate ("traffic upd").
 *
 * TLS 1.2 (RFC 5246 §5, §6.3): the PRF P_<hash> and the key block of "key expansion" over
 * server_random + client_random: client/server MAC keys (none for AEAD), client/server write
 * keys, client/server write IVs (4-byte salt for GCM, RFC 5288 §3; 12 bytes for ChaCha20, RFC 7905 §2).
 */
import { createHmac } from 'node:crypto';
import type { AeadSuite, HashName } from './suites.js';

const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48 };

export function hashLength(h: HashName): number {
  return HASH_LENGTH[h];
}

/** RFC 5869 §2.3 HKDF-Expand(PRK, info, L). */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  let prev: Buffer = Buffer.alloc(0);
  let filled = 0;
  for (let i = 1; filled < length; i++) {
    prev = createHmac(hash, prk).update(prev).update(info).update(Buffer.of(i)).digest();
    filled += prev.copy(out, filled);
  }
  return out;
}

/** RFC 8446 §7.1 HKDF-Expand-Label(Secret, Label, Context, Length). */
export function hkdfExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return hkdfExpand(hash, secret, info, length);
}

export interface TrafficKey {
  key: Buffer;
  iv: Buffer;
}

/** RFC 8446 §7.3: [sender]_write_key and _iv from a traffic secret. */
export function tls13TrafficKey(suite: AeadSuite, secret: Uint8Array): TrafficKey {
  const empty = new Uint8Array(0);
  return { key: hkdfExpandLabel(suite.hash, secret, 'key', empty, suite.keyLength), iv: hkdfExpandLabel(suite.hash, secret, 'iv', empty, 12) };
}

/** RFC 8446 §7.2: application_traffic_secret_N+1. */
export function tls13NextSecret(hash: HashName, secret: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, secret, 'traffic upd', new Uint8Array(0), hashLength(hash));
}

/** RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret, label + seed), `length` bytes. */
export function prf12(hash: HashName, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'ascii'), seed]);
  const out = Buffer.alloc(length);
  let a: Buffer = labelSeed; // A(0)
  let filled = 0;
  while (filled < length) {
    a = createHmac(hash, secret).update(a).digest(); // A(i)
    const block = createHmac(hash, secret).update(a).update(labelSeed).digest();
    filled += block.copy(out, filled);
  }
  return out;
}

export interface KeyBlock12 {
  client: TrafficKey;
  server: TrafficKey;
}

/** RFC 5246 §6.3: the key block of an AEAD suite (no MAC keys). */
export function tls12KeyBlock(suite: AeadSuite, masterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): KeyBlock12 {
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const block = prf12(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 2 * iv);
  return {
    client: { key: block.subarray(0, k), iv: block.subarray(2 * k, 2 * k + iv) },
    server: { key: block.subarray(k, 2 * k), iv: block.subarray(2 * k + iv, 2 * k + 2 * iv) },
  };
}

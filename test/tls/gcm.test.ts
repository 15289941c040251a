/** The JavaScript GHASH path (src/tls/gcm.ts) against OpenSSL's AES-GCM, at every length up to 300 bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { GcmKey } from '../../src/tls/gcm.js';
import { prng } from '../builders/prng.js';

test('GcmKey.open decrypts what OpenSSL sealed (AES-128 and AES-256, AAD of 5 and 13 bytes, 0–300 bytes) and refuses any flipped bit', () => {
  const rnd = prng(15);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (const keyLength of [16, 32]) {
    const key = bytes(keyLength);
    const g = new GcmKey(key);
    for (let n = 0; n <= 300; n++) {
      const iv = bytes(12);
      const aad = bytes(n % 2 === 0 ? 5 : 13);
      const plain = bytes(n);
      const c = createCipheriv(keyLength === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
      c.setAAD(aad);
      const record = Buffer.concat([bytes(3), c.update(plain), c.final(), c.getAuthTag()]);
      const out = g.open(iv, aad, record, 3, n, 3 + n);
      assert.ok(out !== null && Buffer.from(out).equals(plain), `length ${n}`);
      const bit = Math.floor(rnd() * (n + 16) * 8);
      const bad = Buffer.from(record);
      bad[3 + (bit >> 3)]! ^= 1 << (bit & 7);
      assert.equal(g.open(iv, aad, bad, 3, n, 3 + n), null, `length ${n}, bit ${bit} flipped`);
      const badAad = Buffer.from(aad);
      badAad[0]! ^= 0x80;
      assert.equal(g.open(iv, badAad, record, 3, n, 3 + n), null);
    }
  }
});

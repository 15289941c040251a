/** ChaCha20-Poly1305 in JavaScript (src/tls/chacha.ts) against OpenSSL's, at every length up to 600 bytes. */
import { engineTest } from './engines.js';
import assert from 'node:assert/strict';
import { createCipheriv, type CipherGCM } from 'node:crypto';
import { ChaChaKey } from '../../src/tls/chacha.js';
import { prng } from '../builders/prng.js';

engineTest('ChaChaKey.open decrypts what OpenSSL sealed (AAD of 5 and 13 bytes, 0–600 bytes) and refuses any flipped bit', (wasm) => {
  const rnd = prng(8439);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (let round = 0; round < 2; round++) {
    const key = bytes(32);
    const k = new ChaChaKey(key);
    assert.equal(k.engine, wasm ? 'wasm' : 'js');
    for (let n = 0; n <= 600; n++) {
      const nonce = bytes(12);
      const aad = bytes(n % 2 === 0 ? 5 : 13);
      const plain = bytes(n);
      // (ChaCha20-Poly1305 has the calls of GCM; its name is not in @types/node's overloads.)
      const c = createCipheriv('chacha20-poly1305' as 'aes-128-gcm', key, nonce, { authTagLength: 16 }) as CipherGCM;
      c.setAAD(aad);
      const record = Buffer.concat([bytes(3), c.update(plain), c.final(), c.getAuthTag()]);
      const [w0, w1, w2] = [nonce.readUInt32LE(0), nonce.readUInt32LE(4), nonce.readUInt32LE(8)];
      const out = k.open(w0, w1, w2, aad, record, 3, n, 3 + n);
      assert.ok(out !== null && k.length === n && Buffer.from(out.subarray(0, n)).equals(plain), `length ${n}`);
      const bit = Math.floor(rnd() * (n + 16) * 8);
      const bad = Buffer.from(record);
      bad[3 + (bit >> 3)]! ^= 1 << (bit & 7);
      assert.equal(k.open(w0, w1, w2, aad, bad, 3, n, 3 + n), null, `length ${n}, bit ${bit} flipped`);
      assert.equal(k.open(w0 ^ 1, w1, w2, aad, record, 3, n, 3 + n), null, `length ${n}, another nonce`);
    }
  }
});

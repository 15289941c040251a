/**
 * The JavaScript AES-GCM path (src/tls/gcm.ts): the GCM specification's test vectors, and
 * OpenSSL's AES-GCM as the oracle at every length up to 300 bytes and beyond the key stream made
 * ahead, for nonces given whole and for numbered records (key stream in batches), with both GHASH
 * table methods (small, then positional after POSITIONAL_AFTER records).
 */
import { engineTest } from './engines.js';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { BATCH, GcmKey, KS_BLOCKS, POSITIONAL_AFTER } from '../../src/tls/gcm.js';
import { prng } from '../builders/prng.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function seal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): { body: Buffer; tag: Buffer } {
  const c = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return { body, tag: c.getAuthTag() };
}

/** The TLS 1.3 nonce of record n: the IV with n XORed into its last 8 bytes (RFC 8446 §5.3). */
function nonceOf(iv: Uint8Array, n: number): Buffer {
  const out = Buffer.from(iv);
  out.writeUInt32BE((out.readUInt32BE(4) ^ Math.floor(n / 0x100000000)) >>> 0, 4);
  out.writeUInt32BE((out.readUInt32BE(8) ^ n) >>> 0, 8);
  return out;
}

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 2, 3, 4 and 16 (the
// 96-bit IV cases; the NIST GCM validation uses the same construction).
const VECTORS = [
  { name: 'test case 2', k: '00000000000000000000000000000000', iv: '000000000000000000000000', p: '00000000000000000000000000000000', a: '', c: '0388dace60b6a392f328c2b971b2fe78', t: 'ab6e47d42cec13bdf53a67b21257bddf' },
  {
    name: 'test case 3',
    k: 'feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    a: '',
    c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
    t: '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    name: 'test case 4',
    k: 'feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    t: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    name: 'test case 16 (AES-256)',
    k: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    c: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    t: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

engineTest('GcmKey opens the GCM specification test vectors, with both GHASH tables, by nonce and by record number', (wasm) => {
  for (const v of VECTORS) {
    const record = Buffer.concat([hex(v.c), hex(v.t)]);
    const n = v.c.length / 2;
    // By nonce, first with the small tables, then (after POSITIONAL_AFTER records) the positional ones.
    const g = new GcmKey(hex(v.k));
    for (let i = 0; i <= POSITIONAL_AFTER + 1; i++) {
      const out = g.openNonce(hex(v.iv), hex(v.a), record, 0, n, n);
      assert.equal(out?.subarray(0, g.length).toString('hex'), v.p, `${v.name}, open ${i} (${g.engine} GHASH)`);
    }
    assert.equal(g.engine, wasm ? 'wasm' : 'positional', 'the last opens used the positional tables');
    // By number: the IV as the base and n = 0 is the same nonce.
    const byNumber = new GcmKey(hex(v.k), hex(v.iv));
    assert.equal(byNumber.open(0, hex(v.a), record, 0, n, n)?.subarray(0, byNumber.length).toString('hex'), v.p, `${v.name}, numbered`);
    const bad = Buffer.from(record);
    bad[n + 15]! ^= 1;
    assert.equal(g.openNonce(hex(v.iv), hex(v.a), bad, 0, n, n), null, `${v.name}: a flipped tag bit is refused`);
  }
});

engineTest('GcmKey.openNonce decrypts what OpenSSL sealed (AES-128 and AES-256, AAD of 5 and 13 bytes, 0–300 bytes) and refuses any flipped bit', () => {
  const rnd = prng(15);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (const keyLength of [16, 32]) {
    const key = bytes(keyLength);
    const g = new GcmKey(key);
    for (let n = 0; n <= 300; n++) {
      const iv = bytes(12);
      const aad = bytes(n % 2 === 0 ? 5 : 13);
      const plain = bytes(n);
      const s = seal(key, iv, aad, plain);
      const record = Buffer.concat([bytes(3), s.body, s.tag]);
      const out = g.openNonce(iv, aad, record, 3, n, 3 + n);
      assert.ok(out !== null && g.length === n && out.subarray(0, n).equals(plain), `length ${n}`);
      const bit = Math.floor(rnd() * (n + 16) * 8);
      const bad = Buffer.from(record);
      bad[3 + (bit >> 3)]! ^= 1 << (bit & 7);
      assert.equal(g.openNonce(iv, aad, bad, 3, n, 3 + n), null, `length ${n}, bit ${bit} flipped`);
      const badAad = Buffer.from(aad);
      badAad[0]! ^= 0x80;
      assert.equal(g.openNonce(iv, badAad, record, 3, n, 3 + n), null);
    }
  }
});

engineTest('GcmKey.open of numbered records: key stream made ahead in batches, lengths past it, jumps, numbers past 2^32, wrong numbers refused', () => {
  const rnd = prng(16);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (const keyLength of [16, 32]) {
    const key = bytes(keyLength);
    const iv = bytes(12);
    const g = new GcmKey(key, iv);
    // In order across several batches, then a jump back, a jump ahead, and numbers above 2^32.
    const numbers = [...Array.from({ length: 3 * BATCH + 5 }, (_, i) => i), 7, 1000, 1001, 2 ** 32 + 3, 2 ** 40 + 77, 2 ** 53 - 1];
    numbers.forEach((n, i) => {
      // Short records, and now and then one longer than the key stream made ahead (KS_BLOCKS - 1 blocks).
      const len = i % 9 === 8 ? 16 * (KS_BLOCKS - 1) + Math.floor(rnd() * 3000) : Math.floor(rnd() * 300);
      const aad = bytes(5);
      const plain = bytes(len);
      const s = seal(key, nonceOf(iv, n), aad, plain);
      const record = Buffer.concat([s.body, s.tag]);
      const out = g.open(n, aad, record, 0, len, len);
      assert.ok(out !== null && g.length === len && out.subarray(0, len).equals(plain), `record ${n}, ${len} bytes`);
      // The same record under the neighbouring numbers: refused (the tag proves the number).
      if (n > 0) assert.equal(g.open(n - 1, aad, record, 0, len, len), null, `record ${n} as ${n - 1}`);
      assert.equal(g.open(n + 1, aad, record, 0, len, len), null, `record ${n} as ${n + 1}`);
    });
  }
});

/**
 * The WebAssembly module of src/tls (src/tls/wasm): its committed bytes are those of its source,
 * RFC 8439's AEAD vector, and a differential property test of both engines against node:crypto
 * (random keys, nonces, AAD and lengths 0–2,000; every flipped bit refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createCipheriv, type CipherGCM } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { GcmKey, POSITIONAL_AFTER } from '../../src/tls/gcm.js';
import { ChaChaKey } from '../../src/tls/chacha.js';
import { AEAD_WAT_SHA256, AEAD_WASM_BASE64 } from '../../src/tls/wasm/aead-bytes.js';
import { AAD_MAX, aeadWasm, MAX_SLOTS, WASM_MAX } from '../../src/tls/wasm/aead.js';
import { engineTest } from './engines.js';

/** The repository root: this file runs as build/test/tls/wasm.test.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('the committed module is assembled from src/tls/wasm/aead.wat (its SHA-256; byte for byte when wabt is installed)', async (t) => {
  const source = readFileSync(join(ROOT, 'src', 'tls', 'wasm', 'aead.wat'), 'utf8');
  assert.equal(createHash('sha256').update(source).digest('hex'), AEAD_WAT_SHA256, 'aead.wat changed since aead-bytes.ts was made: run node scripts/tls-wasm.mjs');
  const script = join(ROOT, 'scripts', 'tls-wasm.mjs');
  const gen = (await import(script)) as {
    loadWabt(): Promise<unknown>;
    assemble(wabt: unknown, source: string): Promise<Uint8Array>;
    render(source: string, bytes: Uint8Array): string;
    defaultWabt(): string;
  };
  const wabt = await gen.loadWabt();
  if (wabt === null) {
    t.skip(`wabt not installed at ${gen.defaultWabt()} (npm install --prefix /tmp/wabt wabt): the bytes themselves are not re-assembled`);
    return;
  }
  const bytes = await gen.assemble(wabt, source);
  assert.equal(Buffer.from(bytes).toString('base64'), AEAD_WASM_BASE64, 'the bytes differ from a fresh assembly: run node scripts/tls-wasm.mjs');
  assert.equal(readFileSync(join(ROOT, 'src', 'tls', 'wasm', 'aead-bytes.ts'), 'utf8'), gen.render(source, bytes));
});

test('the module loads here (Node >= 20 has WebAssembly SIMD)', () => {
  assert.notEqual(aeadWasm(), null);
});

// RFC 8439 §2.8.2: the AEAD_CHACHA20_POLY1305 test vector.
const RFC8439 = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('07000000 4041424344454647'),
  aad: hex('50515253c0c1c2c3c4c5c6c7'),
  plain: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  cipher: hex(`d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6 3dbea45e8ca9671282fafb69da92728b
    1a71de0a9e060b2905d6a5b67ecd3b36 92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b 6116`),
  tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
};

engineTest('RFC 8439 §2.8.2: the AEAD test vector opens to the sunscreen text; a flipped tag bit is refused', (wasm) => {
  const k = new ChaChaKey(RFC8439.key);
  assert.equal(k.engine, wasm ? 'wasm' : 'js');
  const n = RFC8439.cipher.length;
  const record = Buffer.concat([RFC8439.cipher, RFC8439.tag]);
  const w = [0, 4, 8].map((i) => RFC8439.nonce.readUInt32LE(i)) as [number, number, number];
  const out = k.open(w[0], w[1], w[2], RFC8439.aad, record, 0, n, n);
  assert.ok(out !== null);
  assert.equal(out.subarray(0, k.length).toString(), RFC8439.plain.toString());
  record[n + 15]! ^= 0x80;
  assert.equal(k.open(w[0], w[1], w[2], RFC8439.aad, record, 0, n, n), null);
});

function seal(alg: string, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Buffer {
  const c = createCipheriv(alg as 'aes-128-gcm', key, nonce, { authTagLength: 16 }) as CipherGCM;
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const record = fc.record({
  nonce: bytes(12),
  aad: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(5, 13, AAD_MAX, AAD_MAX + 1).chain((n) => bytes(n))),
  plain: fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 40 }).chain((n) => bytes(n))),
  lead: fc.integer({ min: 0, max: 7 }),
  flip: fc.nat(),
});

engineTest('AES-GCM (128, 256) and ChaCha20-Poly1305 against node:crypto: random keys, nonces, AAD, lengths 0–2,000; any flipped bit refused', (wasm) => {
  for (const alg of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305']) {
    fc.assert(
      fc.property(bytes(alg === 'aes-128-gcm' ? 16 : 32), fc.array(record, { minLength: 1, maxLength: 6 }), (key, records) => {
        // A GCM key opens POSITIONAL_AFTER records first, so that the records below use the positional tables (WebAssembly's or JavaScript's).
        const g = new GcmKey(key);
        const warm = seal(alg, key, new Uint8Array(12), new Uint8Array(0), new Uint8Array(0));
        if (alg !== 'chacha20-poly1305') for (let i = 0; i <= POSITIONAL_AFTER; i++) assert.ok(g.openNonce(new Uint8Array(12), new Uint8Array(0), warm, 0, 0, 0));
        const c = new ChaChaKey(alg === 'chacha20-poly1305' ? key : new Uint8Array(32));
        for (const r of records) {
          const n = r.plain.length;
          const sealed = seal(alg, key, r.nonce, r.aad, r.plain);
          const body = Buffer.concat([Buffer.alloc(r.lead, 0xee), sealed]);
          const nb = Buffer.from(r.nonce);
          const open = (b: Buffer): Buffer | null =>
            alg === 'chacha20-poly1305' ? c.open(nb.readUInt32LE(0), nb.readUInt32LE(4), nb.readUInt32LE(8), r.aad, b, r.lead, n, r.lead + n) : g.openNonce(r.nonce, r.aad, b, r.lead, n, r.lead + n);
          const out = open(body);
          const length = alg === 'chacha20-poly1305' ? c.length : g.length;
          assert.ok(out !== null, `${alg}, ${n} bytes, ${r.aad.length} of AAD: opened`);
          assert.ok(length === n && Buffer.from(out.subarray(0, n)).equals(r.plain), `${alg}, ${n} bytes: the plaintext`);
          const bit = r.flip % ((n + 16) * 8);
          const bad = Buffer.from(body);
          bad[r.lead + (bit >> 3)]! ^= 1 << (bit & 7);
          assert.equal(open(bad), null, `${alg}, ${n} bytes, bit ${bit} flipped`);
        }
        if (alg !== 'chacha20-poly1305') assert.equal(g.engine, wasm ? 'wasm' : 'positional');
        else assert.equal(c.engine, wasm ? 'wasm' : 'js');
      }),
      { numRuns: 60 },
    );
  }
});

engineTest('the longest record the module takes, and one byte more (JavaScript then), against node:crypto', () => {
  const key = Buffer.alloc(32, 7);
  const nonce = Buffer.alloc(12, 9);
  const aad = Buffer.from([23, 3, 3, 0x41, 0x10]);
  for (const n of [WASM_MAX, WASM_MAX + 1]) {
    const plain = Buffer.alloc(n, 0x5a);
    const c = new ChaChaKey(key);
    const sealed = seal('chacha20-poly1305', key, nonce, aad, plain);
    const out = c.open(nonce.readUInt32LE(0), nonce.readUInt32LE(4), nonce.readUInt32LE(8), aad, sealed, 0, n, n);
    assert.ok(out !== null && c.length === n && Buffer.from(out.subarray(0, n)).equals(plain), `ChaCha20-Poly1305, ${n} bytes`);
    const g = new GcmKey(key.subarray(0, 16));
    const warm = seal('aes-128-gcm', key.subarray(0, 16), nonce, aad, Buffer.alloc(0));
    for (let i = 0; i <= POSITIONAL_AFTER; i++) g.openNonce(nonce, aad, warm, 0, 0, 0);
    const gs = seal('aes-128-gcm', key.subarray(0, 16), nonce, aad, plain);
    const gout = g.openNonce(nonce, aad, gs, 0, n, n);
    assert.ok(gout !== null && g.length === n && gout.subarray(0, n).equals(plain), `AES-128-GCM, ${n} bytes`);
  }
});

test('bounded: past MAX_SLOTS keys holding WebAssembly tables at once, a key keeps JavaScript tables and still opens records', () => {
  const w = aeadWasm()!;
  const key = Buffer.alloc(16, 3);
  const nonce = Buffer.alloc(12, 4);
  const aad = Buffer.from([23, 3, 3, 0, 16]);
  const record = seal('aes-128-gcm', key, nonce, aad, Buffer.alloc(0));
  const busy = (): GcmKey => {
    const g = new GcmKey(key);
    for (let i = 0; i <= POSITIONAL_AFTER; i++) assert.ok(g.openNonce(nonce, aad, record, 0, 0, 0));
    return g;
  };
  const held: GcmKey[] = [];
  while (w.slotsInUse < MAX_SLOTS) {
    const g = busy();
    assert.equal(g.engine, 'wasm');
    held.push(g);
  }
  const over = busy();
  assert.equal(over.engine, 'positional', 'no slot left: JavaScript tables');
  assert.equal(w.slotsInUse, MAX_SLOTS);
  const plain = Buffer.from('still opened');
  const r = seal('aes-128-gcm', key, nonce, aad, plain);
  assert.equal(over.openNonce(nonce, aad, r, 0, plain.length, plain.length)?.subarray(0, over.length).toString(), 'still opened');
  assert.equal(held[0]!.openNonce(nonce, aad, r, 0, plain.length, plain.length)?.subarray(0, plain.length).toString(), 'still opened', 'the first key, after the memory grew');
});

/**
 * Real sessions: node:tls (OpenSSL) client and server over recorded raw streams, with the
 * client's key log; what the decryptor delivers must be what each application wrote, byte for
 * byte, in order — for TLS 1.3 × 3 suites and TLS 1.2 × ECDHE-RSA / ECDHE-ECDSA / DHE-RSA / RSA
 * key exchange × AES-128/256-GCM / ChaCha20-Poly1305. Unsupported suites and versions are named.
 */
import { test } from 'node:test';
import { engineTest } from './engines.js';
import assert from 'node:assert/strict';
import { TlsConnection } from '../../src/tls/connection.js';
import { RecordingSink, decrypt, feed, makeSession, type SessionOptions } from './session.js';

interface Case {
  name: string;
  opts: SessionOptions;
  version: string;
  suite: number;
}

const T13: SessionOptions = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
const T12: SessionOptions = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };

const CASES: Case[] = [
  { name: 'TLS_AES_128_GCM_SHA256', opts: { ...T13, ciphers: 'TLS_AES_128_GCM_SHA256' }, version: 'TLS 1.3', suite: 0x1301 },
  { name: 'TLS_AES_256_GCM_SHA384', opts: { ...T13, ciphers: 'TLS_AES_256_GCM_SHA384' }, version: 'TLS 1.3', suite: 0x1302 },
  { name: 'TLS_CHACHA20_POLY1305_SHA256', opts: { ...T13, ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, version: 'TLS 1.3', suite: 0x1303 },
  { name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', opts: { ...T12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 0xc02f },
  { name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', opts: { ...T12, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 0xc030 },
  { name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', opts: { ...T12, ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }, version: 'TLS 1.2', suite: 0xcca8 },
  { name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', opts: { ...T12, ecdsa: true, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 0xc02b },
  { name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', opts: { ...T12, ecdsa: true, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 0xc02c },
  { name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', opts: { ...T12, ecdsa: true, ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }, version: 'TLS 1.2', suite: 0xcca9 },
  { name: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', opts: { ...T12, dhparam: 'auto', ciphers: 'DHE-RSA-AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 0x009e },
  { name: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', opts: { ...T12, dhparam: 'auto', ciphers: 'DHE-RSA-AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 0x009f },
  { name: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', opts: { ...T12, dhparam: 'auto', ciphers: 'DHE-RSA-CHACHA20-POLY1305' }, version: 'TLS 1.2', suite: 0xccaa },
  { name: 'TLS_RSA_WITH_AES_128_GCM_SHA256', opts: { ...T12, ciphers: 'AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 0x009c },
  { name: 'TLS_RSA_WITH_AES_256_GCM_SHA384', opts: { ...T12, ciphers: 'AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 0x009d },
];

for (const c of CASES) {
  engineTest(`${c.version} ${c.name}: the plaintext delivered is what each side wrote (a 70 kB reply spans many records)`, async () => {
    const s = await makeSession(c.opts);
    assert.equal(s.cipher, c.name, 'node negotiated the suite asked for');
    const { conn, sink } = decrypt(s);
    feed(conn, s.chunks);
    assert.deepEqual(conn.info.state, 'decrypting', conn.info.reason ?? '');
    assert.equal(conn.info.version, c.version);
    assert.equal(conn.info.cipherSuite, c.suite);
    assert.equal(conn.info.cipherName, c.name);
    assert.equal(conn.info.reason, null);
    assert.ok(sink.text(0).equals(s.plain[0]), 'client → server plaintext');
    assert.ok(sink.text(1).equals(s.plain[1]), 'server → client plaintext');
    assert.deepEqual(sink.gaps, []);
    assert.equal(conn.counters.authFailures, 0);
    assert.equal(conn.counters.recordsUndecryptable, 0);
    assert.equal(conn.counters.plaintextBytes, s.plain[0].length + s.plain[1].length);
    assert.ok(conn.counters.recordsDecrypted > 6, 'the 70 kB reply took several records');
  });
}

test('a session whose secret is not in the key log: no-secret, with the client random to look for; nothing delivered, one gap per direction', async () => {
  const s = await makeSession({ ...T13, exchanges: [[100, 100]] });
  const { conn, sink } = decrypt(s, '# an empty key log\n');
  feed(conn, s.chunks);
  const info = conn.info;
  assert.equal(info.state, 'no-secret');
  assert.match(info.clientRandom ?? '', /^[0-9a-f]{64}$/);
  assert.ok(s.keylog.includes(info.clientRandom!), 'the random named is the one the client logged');
  assert.ok(info.reason!.includes(info.clientRandom!));
  assert.match(info.reason!, /--keylog/);
  assert.deepEqual(sink.data, [[], []]);
  assert.deepEqual(sink.gaps.map((g) => [g.dir, g.bytes]).sort(), [[0, -1], [1, -1]]);
  assert.ok(conn.counters.recordsUndecryptable > 0);
  assert.equal(conn.counters.recordsDecrypted, 0);
});

test('a key log that grows later (live): the lookup is retried in a later flight and decryption starts then', async () => {
  const s = await makeSession({ ...T13, exchanges: [[10, 10], [20, 20], [30, 30]] });
  const { conn, sink, keylog } = decrypt(s, '');
  // The first 60 % of the session arrives before the client's key log lines do.
  const cut = Math.floor(s.chunks.length * 0.6);
  feed(conn, s.chunks.slice(0, cut));
  assert.equal(conn.info.state, 'no-secret');
  keylog.addText(s.keylog);
  feed(conn, s.chunks.slice(cut));
  assert.equal(conn.info.state, 'decrypting', conn.info.reason ?? '');
  // The last reply is delivered whole, after a gap that told the sink what it missed.
  assert.ok(sink.text(1).subarray(-30).equals(s.plain[1].subarray(-30)));
  assert.ok(sink.gaps.some((g) => g.dir === 1 && g.bytes === -1));
});

test('a lookup that failed is not repeated on every record of the same flight', async () => {
  const s = await makeSession({ ...T13, exchanges: [[10, 100_000]] });
  let calls = 0;
  const conn = new TlsConnection(() => {
    calls++;
    return null;
  }, new RecordingSink());
  feed(conn, s.chunks);
  const flights = s.chunks.reduce((n, c, i) => n + (i > 0 && s.chunks[i - 1]!.dir !== c.dir ? 1 : 0), 1);
  assert.ok(conn.counters.records > 10);
  assert.ok(calls <= flights, `${calls} lookups for ${flights} flights`);
});

test('a CBC suite is unsupported, by name', async () => {
  const s = await makeSession({ ...T12, ciphers: 'ECDHE-RSA-AES128-SHA256', exchanges: [[10, 10]] });
  const { conn, sink } = decrypt(s);
  feed(conn, s.chunks);
  assert.equal(conn.info.state, 'unsupported-suite');
  assert.equal(conn.info.cipherName, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256');
  assert.match(conn.info.reason!, /TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 cannot be decrypted/);
  assert.deepEqual(sink.data, [[], []]);
  assert.equal(sink.gaps.length, 2);
});

test('TLS 1.1 is an unsupported version, in words', async (t) => {
  let s;
  try {
    s = await makeSession({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', exchanges: [[10, 10]] });
  } catch (e) {
    t.skip(`this OpenSSL refuses TLS 1.1: ${(e as Error).message}`);
    return;
  }
  const { conn } = decrypt(s);
  feed(conn, s.chunks);
  assert.equal(conn.info.state, 'unsupported-version');
  assert.equal(conn.info.version, 'TLS 1.1');
  assert.match(conn.info.reason!, /^TLS 1\.1 cannot be decrypted/);
});

/**
 * Known answers: the TLS 1.3 key schedule and record protection against RFC 8448 §3, and the
 * TLS 1.2 PRF (P_SHA256, P_SHA384) against the vectors published on the IETF TLS list
 * (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html).
 */
import { test } from 'node:test';
import { engineTest } from './engines.js';
import assert from 'node:assert/strict';
import { prf12, tls13TrafficKey } from '../../src/tls/keys.js';
import { aeadSuite } from '../../src/tls/suites.js';
import { TlsConnection } from '../../src/tls/connection.js';
import * as V from '../fixtures/tls/rfc8448.js';
import { RecordingSink, feed, type Chunk } from './session.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const suite = aeadSuite(0x1301)!;

test('RFC 8448 §3: traffic keys and IVs from the handshake and application traffic secrets', () => {
  const shs = tls13TrafficKey(suite, V.SERVER_HS_SECRET);
  assert.deepEqual(new Uint8Array(shs.key), V.SERVER_HS_KEY);
  assert.deepEqual(new Uint8Array(shs.iv), V.SERVER_HS_IV);
  const chs = tls13TrafficKey(suite, V.CLIENT_HS_SECRET);
  assert.deepEqual(new Uint8Array(chs.key), V.CLIENT_HS_KEY);
  assert.deepEqual(new Uint8Array(chs.iv), V.CLIENT_HS_IV);
  const sap = tls13TrafficKey(suite, V.SERVER_AP_SECRET);
  assert.deepEqual(new Uint8Array(sap.key), V.SERVER_AP_KEY);
  assert.deepEqual(new Uint8Array(sap.iv), V.SERVER_AP_IV);
});

function rfcConversation(): Chunk[] {
  return [
    { dir: 0, bytes: V.CLIENT_HELLO_RECORD },
    { dir: 1, bytes: V.SERVER_HELLO_RECORD },
    { dir: 1, bytes: V.SERVER_FLIGHT_RECORD },
    { dir: 0, bytes: V.CLIENT_FINISHED_RECORD },
    { dir: 1, bytes: V.SERVER_TICKET_RECORD },
    { dir: 0, bytes: V.CLIENT_APP_RECORD },
    { dir: 1, bytes: V.SERVER_APP_RECORD },
    { dir: 0, bytes: V.CLIENT_ALERT_RECORD },
    { dir: 1, bytes: V.SERVER_ALERT_RECORD },
  ];
}

engineTest('RFC 8448 §3: the protected records decrypt; handshake, ticket and alerts are not delivered, application data is', () => {
  const sink = new RecordingSink();
  let lookups = 0;
  const conn = new TlsConnection((random) => {
    lookups++;
    assert.deepEqual(random, V.CLIENT_RANDOM);
    return { clientHandshake: V.CLIENT_HS_SECRET, serverHandshake: V.SERVER_HS_SECRET, clientTraffic0: V.CLIENT_AP_SECRET, serverTraffic0: V.SERVER_AP_SECRET };
  }, sink);
  feed(conn, rfcConversation());
  assert.equal(lookups, 1);
  assert.deepEqual(new Uint8Array(sink.text(0)), V.APP_PAYLOAD);
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
  assert.deepEqual(sink.gaps, []);
  assert.deepEqual(conn.counters, { records: 9, recordsDecrypted: 7, plaintextBytes: 100, recordsUndecryptable: 0, authFailures: 0, resyncs: 0, bytesSkipped: 0, keyUpdates: 0 });
  assert.deepEqual(conn.info, {
    state: 'decrypting',
    version: 'TLS 1.3',
    cipherSuite: 0x1301,
    cipherName: 'TLS_AES_128_GCM_SHA256',
    clientRandom: Buffer.from(V.CLIENT_RANDOM).toString('hex'),
    reason: null,
  });
});

engineTest('RFC 8448 §3 byte by byte: every record split at every byte gives the same plaintext', () => {
  const sink = new RecordingSink();
  const conn = new TlsConnection(() => ({ clientHandshake: V.CLIENT_HS_SECRET, serverHandshake: V.SERVER_HS_SECRET, clientTraffic0: V.CLIENT_AP_SECRET, serverTraffic0: V.SERVER_AP_SECRET }), sink);
  feed(conn, rfcConversation(), () => 1);
  assert.deepEqual(new Uint8Array(sink.text(0)), V.APP_PAYLOAD);
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
  assert.equal(conn.counters.recordsDecrypted, 7);
});

test('RFC 8448 §3 with the application secrets only: the handshake records fail, application data still decrypts', () => {
  const sink = new RecordingSink();
  const conn = new TlsConnection(() => ({ clientTraffic0: V.CLIENT_AP_SECRET, serverTraffic0: V.SERVER_AP_SECRET }), sink);
  feed(conn, rfcConversation());
  // The server's handshake flight and the client's Finished are under keys the log did not give.
  assert.equal(conn.counters.authFailures, 2);
  assert.deepEqual(new Uint8Array(sink.text(0)), V.APP_PAYLOAD);
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
});

test('TLS 1.2 PRF, P_SHA256: 100 bytes of the published vector', () => {
  const out = prf12('sha256', hex('9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35'), 'test label', hex('a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c'), 100);
  assert.equal(
    out.toString('hex'),
    hex(`e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
      6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
      4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
      87 34 7b 66`).toString('hex'),
  );
});

test('TLS 1.2 PRF, P_SHA384: 148 bytes of the published vector', () => {
  const out = prf12('sha384', hex('b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df'), 'test label', hex('cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65'), 148);
  assert.equal(
    out.toString('hex'),
    hex(`7b 0c 18 e9 ce d4 10 ed 18 04 f2 cf a3 4a 33 6a 1c 14 df fb 49 00 bb 5f d7 94 21 07 e8 1c 83 cd
      e9 ca 0f aa 60 be 9f e3 4f 82 b1 23 3c 91 46 a0 e5 34 cb 40 0f ed 27 00 88 4f 9d c2 36 f8 0e dd
      8b fa 96 11 44 c9 e8 d7 92 ec a7 22 a7 b3 2f c3 d4 16 d4 73 eb c2 c5 fd 4a bf da d0 5d 91 84 25
      9b 5b f8 cd 4d 90 fa 0d 31 e2 de c4 79 e4 f1 a2 60 66 f2 ee a9 a6 92 36 a3 e5 26 55 c9 e9 ae e6
      91 c8 f3 a2 68 54 30 8d 5e aa 3b e8 5e 09 90 70 3d 73 e5 6f`).toString('hex'),
  );
});

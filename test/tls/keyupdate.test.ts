/**
 * KeyUpdate (RFC 8446 §4.6.3, §7.2): node has no API to send one, so the records are crafted on
 * the RFC 8448 §3 session with the RFC's formulas (the next secret is computed here with a plain
 * HMAC, independently of src/tls/keys.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { TlsConnection } from '../../src/tls/connection.js';
import { GapReason } from '../../src/tcp/stream.js';
import * as V from '../fixtures/tls/rfc8448.js';
import { RecordingSink, feed, seal13, type Chunk } from './session.js';

/** HKDF-Expand-Label(secret, label, "", length) for SHA-256, length ≤ 32 (one HMAC block). */
function expandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.of(0, length, full.length), full, Buffer.of(0), Buffer.of(1)]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

const C_AP1 = expandLabel(V.CLIENT_AP_SECRET, 'traffic upd', 32);
const C_AP2 = expandLabel(C_AP1, 'traffic upd', 32);
const keyOf = (s: Uint8Array): [Buffer, Buffer] => [expandLabel(s, 'key', 16), expandLabel(s, 'iv', 12)];
const secrets = () => ({ clientHandshake: V.CLIENT_HS_SECRET, serverHandshake: V.SERVER_HS_SECRET, clientTraffic0: V.CLIENT_AP_SECRET, serverTraffic0: V.SERVER_AP_SECRET });

const KEY_UPDATE = Uint8Array.of(24, 0, 0, 1, 0); // KeyUpdate, update_not_requested
const seal = (secret: Uint8Array, seq: number, type: number, content: Uint8Array): Uint8Array => {
  const [k, iv] = keyOf(secret);
  return seal13('aes-128-gcm', k, iv, seq, type, content);
};

function conversation(): { chunks: Chunk[]; after: Buffer } {
  const after = Buffer.from('SELECT 1 after the first key update; and more after the second');
  const chunks: Chunk[] = [
    { dir: 0, bytes: V.CLIENT_HELLO_RECORD },
    { dir: 1, bytes: V.SERVER_HELLO_RECORD },
    { dir: 1, bytes: V.SERVER_FLIGHT_RECORD },
    { dir: 0, bytes: V.CLIENT_FINISHED_RECORD },
    { dir: 1, bytes: V.SERVER_TICKET_RECORD },
    { dir: 0, bytes: V.CLIENT_APP_RECORD }, // seq 0 under client application secret 0
    { dir: 0, bytes: seal(V.CLIENT_AP_SECRET, 1, 22, KEY_UPDATE) },
    { dir: 0, bytes: seal(C_AP1, 0, 23, after.subarray(0, 35)) },
    { dir: 0, bytes: seal(C_AP1, 1, 22, KEY_UPDATE) },
    { dir: 0, bytes: seal(C_AP2, 0, 23, after.subarray(35)) },
    { dir: 1, bytes: V.SERVER_APP_RECORD },
  ];
  return { chunks, after };
}

test('KeyUpdate: the next application traffic secret ("traffic upd") decrypts what follows; counted', () => {
  const { chunks, after } = conversation();
  const sink = new RecordingSink();
  const conn = new TlsConnection(secrets, sink);
  feed(conn, chunks);
  assert.ok(sink.text(0).equals(Buffer.concat([V.APP_PAYLOAD, after])));
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
  assert.equal(conn.counters.keyUpdates, 2);
  assert.equal(conn.counters.authFailures, 0);
  assert.deepEqual(sink.gaps, []);
});

test('KeyUpdate lost in a gap: the next epoch is tried after the loss and found by its tag', () => {
  const { chunks, after } = conversation();
  const sink = new RecordingSink();
  const conn = new TlsConnection(secrets, sink);
  const lost = chunks[8]!; // the second KeyUpdate
  feed(conn, chunks.slice(0, 8));
  conn.onGap(0, lost.bytes.length, GapReason.Unseen, 1, 0);
  feed(conn, chunks.slice(9));
  assert.ok(sink.text(0).equals(Buffer.concat([V.APP_PAYLOAD, after])));
  assert.equal(conn.counters.keyUpdates, 2);
  assert.equal(conn.counters.resyncs, 1);
  assert.equal(conn.counters.bytesSkipped, lost.bytes.length);
  assert.deepEqual(sink.gaps, [{ dir: 0, bytes: lost.bytes.length, reason: GapReason.Unseen }]);
});

test('a HelloRetryRequest is recognised by its random; the real ServerHello is awaited', () => {
  // An HRR: a ServerHello whose random is SHA-256("HelloRetryRequest"), suite 0x1302 (not the one chosen later).
  const hrrBody = Buffer.concat([
    Buffer.of(3, 3),
    Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
    Buffer.of(0, 0x13, 0x02, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4),
  ]);
  const hrr = Buffer.concat([Buffer.of(22, 3, 3, 0, hrrBody.length + 4, 2, 0, 0, hrrBody.length), hrrBody]);
  const { chunks } = conversation();
  chunks.splice(1, 0, { dir: 1, bytes: hrr }, { dir: 1, bytes: Uint8Array.of(20, 3, 3, 0, 1, 1) }, { dir: 0, bytes: V.CLIENT_HELLO_RECORD });
  const sink = new RecordingSink();
  const conn = new TlsConnection(secrets, sink);
  feed(conn, chunks);
  assert.equal(conn.info.cipherName, 'TLS_AES_128_GCM_SHA256');
  assert.equal(conn.info.state, 'decrypting');
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
});

test("a key log with the server's secrets only: the server's data is decrypted, the client's is dark (one gap), no authentication failure", () => {
  const sink = new RecordingSink();
  const conn = new TlsConnection(() => ({ serverHandshake: V.SERVER_HS_SECRET, serverTraffic0: V.SERVER_AP_SECRET }), sink);
  feed(conn, conversation().chunks);
  assert.deepEqual(new Uint8Array(sink.text(1)), V.APP_PAYLOAD);
  assert.deepEqual(sink.data[0], []);
  assert.deepEqual(sink.gaps, [{ dir: 0, bytes: -1, reason: GapReason.Undecryptable }]);
  assert.equal(conn.counters.authFailures, 0);
  assert.equal(conn.info.state, 'decrypting');
  assert.match(conn.info.reason!, /could not be decrypted/);
});

/** The connection phase's pure functions (src/mysql/handshake.ts) on crafted packets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cap } from '../../src/mysql/constants.js';
import type { Packet } from '../../src/mysql/framing.js';
import { loginEnd, negotiate, readAuthReply, readGreeting } from '../../src/mysql/handshake.js';
import { parseHandshakeResponse } from '../../src/mysql/packets.js';
import { Dir } from '../../src/tcp/stream.js';
import { CAP, CLIENT_BASE_CAPS, authMoreData, authSwitch, err, greetingPayload, handshakeResponse41, ok, sslRequest } from '../builders/mysql-builder.js';

function packet(payload: Uint8Array, seq = 2): Packet {
  return { seq, length: payload.length, b0: payload[0] ?? -1, payload, truncated: false, firstSec: 0, firstNsec: 0, lastSec: 0, lastNsec: 0 };
}

test('negotiate: the client capabilities within the server\'s, and what follows from them', () => {
  const r = parseHandshakeResponse(handshakeResponse41({ capabilities: CLIENT_BASE_CAPS | CAP.DEPRECATE_EOF | CAP.COMPRESS | CAP.QUERY_ATTRIBUTES }))!;
  const all = negotiate(0xffffffff, 0, r);
  assert.deepEqual([all.deprecateEof, all.queryAttributes, all.compression, all.tls], [true, true, 'zlib', false]);
  // A server without CLIENT_DEPRECATE_EOF and compression: neither is used.
  const old = negotiate(0xffffffff & ~(Cap.DeprecateEof | Cap.Compress), 0, r);
  assert.deepEqual([old.deprecateEof, old.compression], [false, null]);
  assert.equal(negotiate(0xffffffff, 0, parseHandshakeResponse(sslRequest())!).tls, true);
});

test('readGreeting: a greeting, a refusal before the handshake, or not MySQL', () => {
  const g = readGreeting(packet(greetingPayload(), 0));
  assert.equal(g.kind === 'greeting' && g.greeting.serverVersion, '8.0.36');
  // (before the handshake no SQL state is sent: the server does not know the client speaks 4.1)
  const refused = readGreeting(packet(err(1040, 'Too many connections', null), 0));
  assert.deepEqual(refused.kind === 'refused' && [refused.err?.code, refused.err?.message], [1040, 'Too many connections']);
  assert.equal(readGreeting(packet(Uint8Array.of(0x48, 0x54, 0x54, 0x50), 0)).kind, 'not-mysql');
});

test('readAuthReply: OK, ERR, auth switch, more data, anything else', () => {
  assert.equal(readAuthReply(packet(ok()), CLIENT_BASE_CAPS).kind, 'ok');
  assert.equal(readAuthReply(packet(err(1045, 'Access denied')), CLIENT_BASE_CAPS).kind, 'err');
  assert.deepEqual(readAuthReply(packet(authSwitch('mysql_native_password')), CLIENT_BASE_CAPS), { kind: 'switch', plugin: 'mysql_native_password' });
  assert.deepEqual(readAuthReply(packet(authMoreData([3])), CLIENT_BASE_CAPS), { kind: 'more', what: 'fast authentication succeeded' });
  assert.deepEqual(readAuthReply(packet(authMoreData([4])), CLIENT_BASE_CAPS), { kind: 'more', what: 'full authentication required' });
  assert.equal(readAuthReply(packet(Uint8Array.of(0x42)), CLIENT_BASE_CAPS).kind, 'unexpected');
});

test('loginEnd: who ended an unfinished login, and how', () => {
  assert.equal(loginEnd('fin', Dir.ClientToServer), 'client_closed');
  assert.equal(loginEnd('rst', Dir.ServerToClient), 'server_reset');
  assert.equal(loginEnd('fin', null), 'closed');
  assert.equal(loginEnd('idle-timeout', null), 'timed_out');
  assert.equal(loginEnd('capture-end', null), 'capture_end');
});

/**
 * `eventLine` writes the JSON line of an event without building its object first (issue 19): it
 * must be `JSON.stringify(eventJson(e))` byte for byte, for every value an event can hold,
 * including the odd ones (a field left undefined, NaN, strings JSON must escape, lone surrogates,
 * the optional members). The golden files pin the same on every recorded capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventJson, eventLine } from '../../analyze/events/command.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { SqlNormalizer } from '../../src/sql/index.js';

const sql = new SqlNormalizer();

function base(): CommandEvent {
  return {
    conn: 1,
    sec: 1700000000,
    nsec: 123456789,
    client: '10.0.0.1:50000',
    server: '10.0.0.2:3306',
    connId: 42,
    user: 'app',
    db: 'shop',
    cmd: 'query',
    sql: "SELECT * FROM t WHERE a = 'x' AND b = 5",
    sqlTruncated: false,
    params: null,
    paramTypes: null,
    status: 'ok',
    latencyUs: 120,
    responseUs: 100,
    rows: 3,
    affectedRows: null,
    insertId: null,
    warnings: 0,
    errorCode: null,
    sqlState: null,
    error: null,
    noIndexUsed: false,
    noGoodIndexUsed: false,
    serverStatus: 2,
    bytesIn: 40,
    bytesOut: 300,
    resultSets: 1,
    tls: false,
    tlsVersion: null,
    tlsCipher: null,
    tlsDecrypted: null,
    compressed: false,
    noBackslashEscapes: null,
    ended: null,
    durationUs: null,
  } as CommandEvent;
}

const variants: [string, (e: CommandEvent) => void][] = [
  ['plain', () => {}],
  ['strings JSON escapes', (e) => { e.sql = 'SELECT "q", \'\\n\', \u0001\t\n\u2028 é 😀 \ud800 lone'; e.user = 'a"b\\c'; }],
  ['an error', (e) => { e.status = 'error' as CommandEvent['status']; e.errorCode = 1062; e.sqlState = '23000'; e.error = "Duplicate entry 'secret' for key 'PRIMARY'"; }],
  ['prepared, params', (e) => { e.cmd = 'stmt_execute'; e.params = ['1', null, 'x"y']; e.paramTypes = [3, 6, 253]; }],
  ['not SQL', (e) => { e.cmd = 'ping'; e.sql = null; }],
  ['NaN and Infinity', (e) => { e.latencyUs = NaN; e.responseUs = Infinity; e.rows = -0; }],
  ['fractions and big numbers', (e) => { e.latencyUs = 0.5; e.insertId = 2 ** 53 + 2; e.affectedRows = 1e21; }],
  ['undefined fields are left out', (e) => { (e as unknown as Record<string, unknown>).db = undefined; (e as unknown as Record<string, unknown>).warnings = undefined; }],
  ['a login that ended', (e) => { e.cmd = 'connect'; e.sql = null; e.ended = 'ok' as CommandEvent['ended']; e.durationUs = 900; }],
  ['no_backslash_escapes on', (e) => { e.noBackslashEscapes = true; e.sql = "SELECT 'a\\' , 'b'"; }],
  ['backslash, mode unknown', (e) => { e.sql = "SELECT 'a\\'b'"; }],
  ['unknown statement', (e) => { e.cmd = 'stmt_execute'; e.sql = null; e.unknownStatement = { id: 7, params: 2, types: [3, 253], columns: ['a', 'b'] }; }],
  ['TLS', (e) => { e.tls = true; e.tlsVersion = 'TLS 1.3'; e.tlsCipher = 'TLS_AES_128_GCM_SHA256'; e.tlsDecrypted = true; }],
  ['timestamps in the same second and the next', (e) => { e.nsec = 999; }],
  ['timestamp out of range', (e) => { e.sec = 1e16; }],
];

for (const [name, change] of variants) {
  test(`eventLine is JSON.stringify(eventJson(e)): ${name}`, () => {
    for (const redact of [true, false]) {
      const e = base();
      change(e);
      assert.equal(eventLine(e, redact, sql), JSON.stringify(eventJson(e, redact, sql)), `redact ${redact}`);
    }
  });
}

test('eventLine: consecutive events across seconds keep their own date (the cached second)', () => {
  for (const sec of [1700000000, 1700000000, 1700000001, 1699999999, 0, 1700000001]) {
    const e = base();
    e.sec = sec;
    assert.equal(eventLine(e, true, sql), JSON.stringify(eventJson(e, true, sql)));
  }
});

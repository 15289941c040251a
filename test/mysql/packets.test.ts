/**
 * Every wire-structure parser of src/mysql/packets.ts over crafted bytes (builders and annotated
 * hex), including damaged input: parsers return null (or partial values) and never throw.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { binaryValue, isTerminator, parseEof, parseErr, parseExecute, parseGreeting, parseHandshakeResponse, parseOk, parsePrepareOk } from '../../src/mysql/packets.js';
import { ByteReader } from '../../src/bytes/reader.js';
import { ascii, concat, hex, ByteWriter } from '../builders/bytes.js';
import {
  CAP,
  CLIENT_BASE_CAPS,
  bin,
  eof,
  err,
  greetingPayload,
  handshakeResponse320,
  handshakeResponse41,
  lenenc,
  lenencStr,
  ok,
  okEof,
  prepareOk,
  schemaChange,
  sslRequest,
  stmtExecute,
  textRow,
  type BinaryParam,
} from '../builders/mysql-builder.js';

const P41 = CAP.PROTOCOL_41 | CAP.TRANSACTIONS;

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Protocol::HandshakeV10
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('parseGreeting', () => {
  test('MySQL 5.7: mysql_native_password, 32-bit capabilities, charset, status', () => {
    const caps = 0x807ff7ff; // 5.7: lower 0xf7ff, upper 0x807f (no DEPRECATE_EOF...)
    const g = parseGreeting(greetingPayload({ version: '5.7.44-log', connectionId: 0x01020304, capabilities: caps, charset: 8, status: 0x0002, authPlugin: 'mysql_native_password' }));
    assert.deepEqual(g, { protocol: 10, serverVersion: '5.7.44-log', connectionId: 0x01020304, capabilities: caps, mariaCapabilities: 0, charset: 8, status: 2, authPlugin: 'mysql_native_password' });
  });

  test('MySQL 8.0: caching_sha2_password, DEPRECATE_EOF and QUERY_ATTRIBUTES in the upper bits', () => {
    const caps = 0xdfffffff;
    const g = parseGreeting(greetingPayload({ version: '8.0.36', connectionId: 8, capabilities: caps }));
    assert.equal(g?.capabilities, caps);
    assert.ok(g!.capabilities & CAP.DEPRECATE_EOF);
    assert.ok(g!.capabilities & CAP.QUERY_ATTRIBUTES);
    assert.equal(g?.authPlugin, 'caching_sha2_password');
    assert.equal(g?.mariaCapabilities, 0, 'CLIENT_LONG_PASSWORD set (MySQL): the reserved bytes are not MariaDB capabilities');
  });

  test('MariaDB 10.11: 5.5.5- prefix, CLIENT_LONG_PASSWORD clear, extended capabilities in the reserved bytes', () => {
    const caps = 0xc1fff7fe; // MariaDB clears bit 0 (CLIENT_MYSQL) to announce its extended capabilities
    const g = parseGreeting(greetingPayload({ version: '5.5.5-10.11.6-MariaDB-0+deb12u1', connectionId: 42, capabilities: caps, mariaCapabilities: 0x1d, authPlugin: 'mysql_native_password' }));
    assert.deepEqual(g, { protocol: 10, serverVersion: '5.5.5-10.11.6-MariaDB-0+deb12u1', connectionId: 42, capabilities: caps, mariaCapabilities: 0x1d, charset: 255, status: 2, authPlugin: 'mysql_native_password' });
  });

  test('annotated MariaDB greeting (bytes as MariaDB 10.11 sends them, scramble replaced)', () => {
    const b = hex(`
      0a                                   # protocol 10
      35 2e 35 2e 35 2d 31 30 2e 31 31 00  # "5.5.5-10.11" NUL
      13 00 00 00                          # connection id 19
      61 61 61 61 61 61 61 61              # scramble part 1
      00                                   # filler
      fe f7                                # capabilities low (CLIENT_LONG_PASSWORD clear)
      2d                                   # charset 45 (utf8mb4_general_ci)
      02 00                                # status: autocommit
      ff 81                                # capabilities high
      15                                   # auth data length 21
      00 00 00 00 00 00                    # reserved
      1d 00 00 00                          # MariaDB extended capabilities
      62 62 62 62 62 62 62 62 62 62 62 62 00 # scramble part 2 (13 with NUL)
      6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00 # mysql_native_password
    `);
    const g = parseGreeting(b);
    assert.deepEqual(g, { protocol: 10, serverVersion: '5.5.5-10.11', connectionId: 19, capabilities: 0x81fff7fe, mariaCapabilities: 0x1d, charset: 45, status: 2, authPlugin: 'mysql_native_password' });
  });

  test('a pre-4.1 greeting ending after the lower capabilities', () => {
    const g = parseGreeting(greetingPayload({ version: '4.0.30', capabilities: 0x002c, short: true }));
    assert.deepEqual(g, { protocol: 10, serverVersion: '4.0.30', connectionId: 1, capabilities: 0x2c, mariaCapabilities: 0, charset: 0, status: 0, authPlugin: null });
  });

  test('the plugin name without its final NUL (MySQL 5.5.7 bug) is still read', () => {
    const g = parseGreeting(greetingPayload({ authPlugin: 'mysql_native_password', pluginWithoutNul: true }));
    assert.equal(g?.authPlugin, 'mysql_native_password');
  });

  test('auth data length below 21: part 2 is still at least 13 bytes', () => {
    const g = parseGreeting(greetingPayload({ authDataLength: 0, authPlugin: 'mysql_native_password' }));
    assert.equal(g?.authPlugin, 'mysql_native_password');
  });

  test('without CLIENT_PLUGIN_AUTH there is no plugin name', () => {
    const caps = 0xdfffffff & ~CAP.PLUGIN_AUTH;
    const g = parseGreeting(greetingPayload({ capabilities: caps, authPlugin: null }));
    assert.equal(g?.authPlugin, null);
  });

  const bad: [string, Uint8Array][] = [
    ['protocol 9', greetingPayload({ protocol: 9 })],
    ['an ERR packet', err(1040, 'Too many connections', null)],
    ['empty', new Uint8Array(0)],
    ['cut inside the version', ascii('\x0a8.0.3')],
    ['cut before the lower capabilities', greetingPayload().subarray(0, 1 + 7 + 4 + 8 + 1 + 1)],
  ];
  for (const [name, b] of bad) test(`null: ${name}`, () => assert.equal(parseGreeting(b), null));

  test('property: any bytes: null or a greeting, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      parseGreeting(b);
      parseGreeting(concat([10], b));
    }));
  });
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Protocol::HandshakeResponse41 / 320, SSLRequest
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('parseHandshakeResponse', () => {
  test('41 with lenenc auth data, database, plugin and connection attributes', () => {
    const attrs = { _client_name: 'libmysql', _os: 'Linux', program_name: 'mysql', _pid: '4242' };
    const r = parseHandshakeResponse(handshakeResponse41({ user: 'root', database: 'shop', authPlugin: 'caching_sha2_password', attributes: attrs, charset: 45, maxPacket: 1 << 30 }));
    assert.deepEqual(r, {
      capabilities: CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB,
      mariaCapabilities: 0,
      maxPacket: 1 << 30,
      charset: 45,
      sslRequest: false,
      user: 'root',
      database: 'shop',
      authPlugin: 'caching_sha2_password',
      attributes: attrs,
      zstdLevel: null,
    });
  });

  test('41 with SECURE_CONNECTION (int<1> auth length) and no plugin, no attributes', () => {
    const caps = CAP.LONG_PASSWORD | P41 | CAP.SECURE_CONNECTION | CAP.CONNECT_WITH_DB;
    const r = parseHandshakeResponse(handshakeResponse41({ capabilities: caps, user: 'u', database: 'd', authResponse: new Uint8Array(20).fill(0x00) }));
    assert.equal(r?.user, 'u');
    assert.equal(r?.database, 'd', 'an auth response holding NUL bytes does not end the field early');
    assert.equal(r?.authPlugin, null);
    assert.deepEqual(r?.attributes, {});
  });

  test('41 with a NUL-terminated auth response (neither SECURE_CONNECTION nor lenenc)', () => {
    const caps = CAP.LONG_PASSWORD | P41 | CAP.CONNECT_WITH_DB;
    const r = parseHandshakeResponse(handshakeResponse41({ capabilities: caps, user: 'u', database: 'd', authResponse: ascii('12345678') }));
    assert.deepEqual([r?.user, r?.database], ['u', 'd']);
  });

  test('41 with an auth response longer than 250 bytes (lenenc 0xfc) before the database', () => {
    const r = parseHandshakeResponse(handshakeResponse41({ user: 'u', database: 'd', authResponse: new Uint8Array(300).fill(7) }));
    assert.deepEqual([r?.user, r?.database, r?.authPlugin], ['u', 'd', 'caching_sha2_password']);
  });

  test('41 from a MariaDB client: extended capabilities in the last filler bytes', () => {
    const caps = (CLIENT_BASE_CAPS & ~CAP.LONG_PASSWORD) >>> 0;
    const r = parseHandshakeResponse(handshakeResponse41({ capabilities: caps, mariaCapabilities: 0x14, user: 'm' }));
    assert.equal(r?.mariaCapabilities, 0x14);
    assert.equal(r?.user, 'm');
  });

  test('41 with no database when CONNECT_WITH_DB is clear, even if bytes follow', () => {
    const r = parseHandshakeResponse(handshakeResponse41({ user: 'u' }));
    assert.equal(r?.database, null);
  });

  test('41 with attributes whose declared length exceeds the packet: the whole pairs are kept', () => {
    const full = handshakeResponse41({ user: 'u', attributes: { a: '1', bb: '22' } });
    const r = parseHandshakeResponse(full.subarray(0, full.length - 1)); // the last value is cut
    assert.deepEqual(r?.attributes, { a: '1' });
  });

  test('SSLRequest: 32 bytes with CLIENT_SSL', () => {
    const b = sslRequest();
    assert.equal(b.length, 32);
    const r = parseHandshakeResponse(b);
    assert.equal(r?.sslRequest, true);
    assert.equal(r?.user, null);
  });

  test('320 (pre-4.1): user after int<2> capabilities and int<3> max packet', () => {
    const r = parseHandshakeResponse(handshakeResponse320({ user: 'legacy', maxPacket: 0xffffff }));
    assert.deepEqual([r?.user, r?.maxPacket, r?.sslRequest, r?.database], ['legacy', 0xffffff, false, null]);
  });

  test('320 with CLIENT_CONNECT_WITH_DB: the database follows the NUL-terminated auth response', () => {
    const r = parseHandshakeResponse(handshakeResponse320({ user: 'legacy', database: 'olddb' }));
    assert.deepEqual([r?.user, r?.database], ['legacy', 'olddb']);
  });

  test('null: shorter than the fixed part', () => {
    assert.equal(parseHandshakeResponse(sslRequest().subarray(0, 20)), null);
    assert.equal(parseHandshakeResponse(new Uint8Array(1)), null);
  });

  test('property: any bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, p41) => {
      const x = b.slice();
      if (p41 && x.length > 1) x[1]! |= 0x02;
      parseHandshakeResponse(x);
    }));
  });
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// OK, ERR, EOF
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('parseOk', () => {
  test('annotated: OK of an INSERT (protocol 4.1, no session tracking)', () => {
    const b = hex(`
      00        # OK
      03        # affected rows 3
      01        # last insert id 1
      22 00     # status: autocommit | SERVER_STATUS_NO_INDEX_USED (0x20)
      01 00     # 1 warning
      26 52 65 63 6f 72 64 73 3a 20 33 # "&Records: 3" (info, string<EOF>)
    `);
    assert.deepEqual(parseOk(b, P41), { affectedRows: 3, insertId: 1, status: 0x22, warnings: 1, info: '&Records: 3', schema: null });
  });

  test('large affected rows and insert id (lenenc 0xfd, 0xfe)', () => {
    const r = parseOk(ok({ affectedRows: 0x123456, insertId: Number.MAX_SAFE_INTEGER }), P41);
    assert.equal(r?.affectedRows, 0x123456);
    assert.equal(r?.insertId, Number.MAX_SAFE_INTEGER);
  });

  test('with CLIENT_SESSION_TRACK: info as string<lenenc>, then the schema change of USE', () => {
    const b = ok({ sessionTrack: [{ type: 0, data: concat(lenencStr('autocommit'), lenencStr('OFF')) }, schemaChange('shop')], info: '' });
    const r = parseOk(b, P41 | CAP.SESSION_TRACK);
    assert.equal(r?.schema, 'shop');
    assert.equal(r!.status & 0x4000, 0x4000);
    assert.equal(r?.info, '');
  });

  test('with CLIENT_SESSION_TRACK but the packet ends after the warnings (MySQL omits empty info)', () => {
    const r = parseOk(ok({ affectedRows: 1, sessionTrackCaps: true }), P41 | CAP.SESSION_TRACK);
    assert.deepEqual(r, { affectedRows: 1, insertId: 0, status: 2, warnings: 0, info: '', schema: null });
  });

  test('with CLIENT_SESSION_TRACK, info present, no state change', () => {
    const r = parseOk(ok({ affectedRows: 2, info: 'Rows matched: 2  Changed: 2  Warnings: 0', sessionTrackCaps: true }), P41 | CAP.SESSION_TRACK);
    assert.equal(r?.info, 'Rows matched: 2  Changed: 2  Warnings: 0');
    assert.equal(r?.schema, null);
  });

  test('the 0xfe-header OK that ends a result set under CLIENT_DEPRECATE_EOF', () => {
    const r = parseOk(okEof(0x0022, 3), P41);
    assert.deepEqual([r?.status, r?.warnings], [0x22, 3]);
  });

  test('pre-4.1 with CLIENT_TRANSACTIONS: status, no warnings', () => {
    const r = parseOk(ok({ affectedRows: 1, protocol41: false, status: 0x0003 }), CAP.TRANSACTIONS);
    assert.deepEqual([r?.affectedRows, r?.status, r?.warnings], [1, 3, 0]);
  });

  test('null: cut inside the status, or a NULL marker where a count belongs', () => {
    assert.equal(parseOk(hex('00 00 00 02'), P41), null);
    assert.equal(parseOk(hex('00 fb 00 02 00 00 00'), P41), null);
  });

  test('a session-state block cut short: what was read is kept, nothing thrown', () => {
    const b = ok({ sessionTrack: [schemaChange('shop')] });
    const r = parseOk(b.subarray(0, b.length - 2), P41 | CAP.SESSION_TRACK);
    assert.ok(r !== null);
    assert.equal(r?.schema, null);
  });
});

describe('parseErr', () => {
  test('annotated: 1146 with SQL state', () => {
    const b = hex(`
      ff          # ERR
      7a 04       # 1146
      23          # '#'
      34 32 53 30 32 # "42S02"
      54 61 62 6c 65 # "Table"
    `);
    assert.deepEqual(parseErr(b, P41), { code: 1146, sqlState: '42S02', message: 'Table' });
  });
  test('without SQL state (before the handshake: too many connections)', () => {
    assert.deepEqual(parseErr(err(1040, 'Too many connections', null), 0), { code: 1040, sqlState: null, message: 'Too many connections' });
  });
  test('protocol 4.1 but no # marker: the message starts right after the code', () => {
    assert.deepEqual(parseErr(err(1045, 'Access denied', null), P41), { code: 1045, sqlState: null, message: 'Access denied' });
  });
  test('a message shorter than a SQL state is not mistaken for one', () => {
    assert.deepEqual(parseErr(concat([0xff, 0x10, 0x04], ascii('#ab')), P41), { code: 0x0410, sqlState: null, message: '#ab' });
  });
  test('null: cut inside the code', () => {
    assert.equal(parseErr(hex('ff 7a'), P41), null);
  });
});

describe('parseEof and isTerminator', () => {
  test('EOF: warnings then status', () => {
    assert.deepEqual(parseEof(eof(0x000a, 2)), { warnings: 2, status: 0x0a });
  });
  test('EOF cut short: zero values, no throw', () => {
    assert.deepEqual(parseEof(hex('fe 01')), { warnings: 0, status: 0 });
  });
  const row9 = concat([0xfe], new ByteWriter().u64(9n).toBytes());
  const cases: [string, Uint8Array, number, boolean | null, boolean][] = [
    ['5-byte EOF, classic', eof(), 5, false, true],
    ['5-byte EOF, unknown', eof(), 5, null, true],
    ['7-byte 0xfe OK, deprecate EOF', okEof(), 7, true, true],
    ['7-byte 0xfe OK, unknown: length < 9 says terminator', okEof(), 7, null, true],
    ['a row whose first value is 8-byte-length (0xfe), classic', row9, 9, false, false],
    ['a 0xfe OK with a long info, deprecate EOF', ok({ header: 0xfe, info: 'x'.repeat(40) }), 47, true, true],
    ['a row of 0xffffff bytes starting with 0xfe, deprecate EOF', row9, 0xffffff, true, false],
    ['a text row starting with a short string', textRow('a'), 2, true, false],
  ];
  for (const [name, b, len, dep, want] of cases) test(`isTerminator: ${name}`, () => assert.equal(isTerminator(b, len, dep), want));
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Prepared statements
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('parsePrepareOk', () => {
  test('annotated', () => {
    const b = hex(`
      00           # OK
      11 00 00 00  # statement id 17
      03 00        # 3 columns
      02 00        # 2 params
      00           # reserved
      01 00        # 1 warning
    `);
    assert.deepEqual(parsePrepareOk(b), { statementId: 17, columns: 3, params: 2, warnings: 1 });
  });
  test('without the warning count (9 bytes + reserved, old servers)', () => {
    assert.deepEqual(parsePrepareOk(prepareOk(5, 0, 1).subarray(0, 10)), { statementId: 5, columns: 0, params: 1, warnings: 0 });
  });
  test('MySQL 8 with metadata_follows after the warnings', () => {
    assert.deepEqual(parsePrepareOk(concat(prepareOk(0xffffffff, 1, 0, 0), [1])), { statementId: 0xffffffff, columns: 1, params: 0, warnings: 0 });
  });
  test('null: cut inside the counts', () => {
    assert.equal(parsePrepareOk(prepareOk(1, 1, 1).subarray(0, 7)), null);
  });
});

describe('parseExecute', () => {
  const exec = (params: BinaryParam[], o: { known?: number[] | null; qa?: boolean; flags?: number; sendTypes?: boolean; paramCount?: number | null } = {}): ReturnType<typeof parseExecute> =>
    parseExecute(stmtExecute({ stmtId: 7, params, queryAttributes: o.qa, flags: o.flags, sendTypes: o.sendTypes }), o.paramCount === undefined ? params.length : o.paramCount, o.known ?? null, o.qa ?? false);

  const values: [string, BinaryParam, string | null][] = [
    ['TINY -1', bin.tiny(-1), '-1'],
    ['TINY unsigned 255', bin.unsigned(bin.tiny(255)), '255'],
    ['SHORT -2', bin.short(-2), '-2'],
    ['SHORT unsigned 65534', bin.unsigned(bin.short(65534)), '65534'],
    ['YEAR 2024', bin.year(2024), '2024'],
    ['LONG -3', bin.long(-3), '-3'],
    ['LONG unsigned 4294967293', bin.unsigned(bin.long(-3)), '4294967293'],
    ['INT24 -4 (sent as 4 bytes)', bin.int24(-4), '-4'],
    ['LONGLONG -5', bin.longlong(-5n), '-5'],
    ['LONGLONG 2^63-1', bin.longlong(2n ** 63n - 1n), '9223372036854775807'],
    ['LONGLONG unsigned 2^64-1', bin.unsigned(bin.longlong(2n ** 64n - 1n)), '18446744073709551615'],
    ['FLOAT 1.5', bin.float(1.5), '1.5'],
    ['FLOAT 0.1 (shortest single-precision text)', bin.float(0.1), '0.1'],
    ['DOUBLE -1.25', bin.double(-1.25), '-1.25'],
    ['DOUBLE 1e300', bin.double(1e300), '1e+300'],
    ['DATE', bin.datetime(0x0a, [2026, 1, 2]), '2026-01-02'],
    ['DATE zero (length 0)', bin.datetime(0x0a, []), '0000-00-00'],
    ['DATETIME length 7', bin.datetime(0x0c, [2026, 1, 2, 3, 4, 5]), '2026-01-02 03:04:05'],
    ['DATETIME length 11 with µs', bin.datetime(0x0c, [2026, 12, 31, 23, 59, 58, 7]), '2026-12-31 23:59:58.000007'],
    ['DATETIME length 4 (date only)', bin.datetime(0x0c, [1999, 9, 9]), '1999-09-09 00:00:00'],
    ['DATETIME zero (length 0)', bin.datetime(0x0c, []), '0000-00-00 00:00:00'],
    ['TIMESTAMP length 11', bin.datetime(0x07, [2001, 2, 3, 4, 5, 6, 999999]), '2001-02-03 04:05:06.999999'],
    ['TIME negative with days', bin.time(true, 1, 2, 3, 4), '-26:03:04'],
    ['TIME with µs', bin.time(false, 0, 10, 0, 1, 500000), '10:00:01.500000'],
    ['TIME zero (length 0)', bin.time(false, 0, 0, 0, 0), '00:00:00'],
    ['VAR_STRING', bin.string('bob@example.com'), 'bob@example.com'],
    ['STRING UTF-8', bin.string(new TextEncoder().encode('Zoë ✓'), 0xfe), 'Zoë ✓'],
    ['VARCHAR 300 bytes (lenenc 0xfc)', bin.string('x'.repeat(300), 0x0f), 'x'.repeat(300)],
    ['BLOB', bin.string('blob', 0xfc), 'blob'],
    ['TINY_BLOB', bin.string('t', 0xf9), 't'],
    ['MEDIUM_BLOB', bin.string('m', 0xfa), 'm'],
    ['LONG_BLOB', bin.string('l', 0xfb), 'l'],
    ['NEWDECIMAL', bin.string('10.50', 0xf6), '10.50'],
    ['DECIMAL', bin.string('-3.25', 0x00), '-3.25'],
    ['JSON', bin.string('{"a":1}', 0xf5), '{"a":1}'],
    ['ENUM', bin.string('red', 0xf7), 'red'],
    ['SET', bin.string('a,b', 0xf8), 'a,b'],
    ['BIT', bin.string('1', 0x10), '1'],
    ['GEOMETRY', bin.string('geom', 0xff), 'geom'],
    ['NULL in the bitmap', bin.null(0xfd), null],
    ['MYSQL_TYPE_NULL without a bitmap bit', bin.nullType(), null],
  ];
  for (const [name, p, want] of values) {
    test(`one parameter: ${name}`, () => {
      const x = exec([p]);
      assert.deepEqual(x?.values, [want]);
      assert.deepEqual(x?.types, [p.type | (p.unsigned ? 0x8000 : 0)]);
      assert.equal(x?.statementId, 7);
    });
  }

  test('all the above in one execute: 40 parameters, a 5-byte NULL bitmap', () => {
    const x = exec(values.map((v) => v[1]));
    assert.deepEqual(x?.values, values.map((v) => v[2]));
  });

  test('NULL bitmap bits 0, 7, 8 and 15 of 16 parameters', () => {
    const ps = Array.from({ length: 16 }, (_, i) => ([0, 7, 8, 15].includes(i) ? bin.null(0x03) : bin.long(i)));
    const x = exec(ps);
    assert.deepEqual(x?.values, ps.map((p, i) => (p.value === null ? null : String(i))));
  });

  test('re-execute without types (new-params-bound 0): the known types are used', () => {
    const first = exec([bin.long(1), bin.string('a')]);
    const again = exec([bin.long(2), bin.string('b')], { known: first!.types, sendTypes: false });
    assert.deepEqual(again?.values, ['2', 'b']);
    assert.equal(again?.types, null, 'types are reported only when sent');
  });

  test('re-execute without types and no known types: values null, no throw', () => {
    assert.equal(exec([bin.long(2)], { sendTypes: false })?.values, null);
  });

  test('unknown statement (param count not known): id and flags only', () => {
    assert.deepEqual(exec([bin.long(1)], { paramCount: null }), { statementId: 7, flags: 0, types: null, values: null });
  });

  test('no parameters: an empty list', () => {
    assert.deepEqual(exec([], { flags: 1 }), { statementId: 7, flags: 1, types: null, values: [] });
  });

  test('query attributes: parameter_count, then types with names', () => {
    const x = exec([bin.named('id', bin.long(5)), bin.named('name', bin.string('ann'))], { qa: true, flags: 0x08 });
    assert.deepEqual(x?.values, ['5', 'ann']);
  });

  test('query attributes: count sent without PARAMETER_COUNT_AVAILABLE when the statement has params', () => {
    const x = exec([bin.long(5)], { qa: true });
    assert.deepEqual(x?.values, ['5']);
  });

  test('query attributes: a statement without params but with one attribute (PARAMETER_COUNT_AVAILABLE)', () => {
    const x = parseExecute(stmtExecute({ stmtId: 3, params: [bin.named('trace_id', bin.string('abc'))], queryAttributes: true, flags: 0x08 }), 0, null, true);
    assert.deepEqual(x?.values, ['abc']);
  });

  test('query attributes: no params, no flag: nothing more is sent', () => {
    assert.deepEqual(parseExecute(stmtExecute({ stmtId: 3, queryAttributes: false }), 0, null, true)?.values, []);
  });

  test('values cut short: values null, types kept', () => {
    const b = stmtExecute({ stmtId: 1, params: [bin.long(1), bin.string('abcdef')] });
    const x = parseExecute(b.subarray(0, b.length - 2), 2, null, false);
    assert.equal(x?.values, null);
    assert.deepEqual(x?.types, [0x03, 0xfd]);
  });

  test('a type this decoder does not know: values null', () => {
    const x = exec([{ type: 0x42, value: Uint8Array.of(1) }]);
    assert.equal(x?.values, null);
  });

  test('null: shorter than the fixed header', () => {
    assert.equal(parseExecute(hex('17 01 00 00 00 00 01 00'), 0, null, false), null);
  });

  test('property: any bytes after the header never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.option(fc.nat({ max: 20 })), fc.boolean(), (tail, count, qa) => {
      parseExecute(concat(hex('17 01 00 00 00 00 01 00 00 00'), tail), count, null, qa);
    }));
  });
});

describe('binaryValue', () => {
  test('reads exactly the value: the next field follows', () => {
    const r = new ByteReader(concat(bin.datetime(0x0c, [2020, 1, 1, 0, 0, 0, 1]).value!, [0x99]));
    assert.equal(binaryValue(r, 0x0c), '2020-01-01 00:00:00.000001');
    assert.equal(r.u8(), 0x99);
  });
  test('lenenc length past the end: ok=false, no throw', () => {
    const r = new ByteReader(concat(lenenc(100), ascii('short')));
    binaryValue(r, 0xfd);
    assert.equal(r.ok, false);
  });
});

test('parseHandshakeResponse: the HandshakeResponse320 example of the MySQL documentation', () => {
  // 11 00 00 01 | 85 24 (caps) | 00 00 00 (max packet) | "old" NUL | "GDSCQYR_" (auth, to the end)
  const r = parseHandshakeResponse(hex('85 24 00 00 00 6f 6c 64 00 47 44 53 43 51 59 52 5f'));
  assert.deepEqual([r?.capabilities, r?.maxPacket, r?.user, r?.database], [0x2485, 0, 'old', null]);
});

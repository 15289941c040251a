/**
 * The MySQL session state machine, table-driven: a scripted exchange of client and server packets
 * in, the command events out. Each case lists the events after the login (or all events, for the
 * connection phase), comparing only the fields it names.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Dir, GapReason } from '../../src/tcp/stream.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { ascii, concat } from '../builders/bytes.js';
import {
  CAP,
  CLIENT_BASE_CAPS,
  COM,
  authMoreData,
  authSwitch,
  bin,
  binaryRowLong,
  columnCount,
  columnDef,
  com,
  comQuery,
  eof,
  err,
  greetingPayload,
  handshakeResponse41,
  localInfileRequest,
  mysqlPacket,
  ok,
  okEof,
  prepareOk,
  schemaChange,
  sslRequest,
  stmtCommand,
  stmtExecute,
  textRow,
} from '../builders/mysql-builder.js';
import { Conv, DEPRECATE_EOF_CAPS } from './driver.js';

// Server status flags.
const AUTOCOMMIT = 0x0002;
const MORE_RESULTS = 0x0008;
const NO_GOOD_INDEX = 0x0010;
const NO_INDEX = 0x0020;
const CURSOR_EXISTS = 0x0040;
const LAST_ROW_SENT = 0x0080;

type Expect = Partial<CommandEvent>;

interface Case {
  name: string;
  /** Login with these client capabilities (default: classic, EOF packets); false: no login. */
  caps?: number | false;
  /** The exchange after the login. */
  run: (c: Conv) => void;
  /** Events after the login, fields compared one by one. */
  events: Expect[];
  check?: (c: Conv) => void;
}

function assertEvents(got: CommandEvent[], want: Expect[]): void {
  const view = got.map((e, i) => Object.fromEntries(Object.keys(want[i] ?? {}).map((k) => [k, e[k as keyof CommandEvent]])));
  assert.deepEqual(view, want, `events: ${JSON.stringify(got.map((e) => [e.cmd, e.status, e.sql]))}`);
}

function runCase(c: Case): Conv {
  const conv = new Conv();
  if (c.caps !== false) conv.login({ response: { capabilities: c.caps ?? CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB, user: 'app', database: 'shop' } });
  c.run(conv);
  conv.close();
  assertEvents(c.caps === false ? conv.events : conv.commands, c.events);
  c.check?.(conv);
  return conv;
}

const table = (name: string, cases: Case[]): void => {
  describe(name, () => {
    for (const c of cases) test(c.name, () => void runCase(c));
  });
};

/** Result set (classic, EOF after definitions and rows). */
function resultSet(c: Conv, cols: number, rows: (string | null)[][], endStatus = AUTOCOMMIT, seq0 = 1): number {
  let seq = seq0;
  c.s(seq++, columnCount(cols));
  for (let i = 0; i < cols; i++) c.s(seq++, columnDef(`c${i}`));
  c.s(seq++, eof());
  for (const r of rows) c.s(seq++, textRow(...r));
  c.s(seq++, eof(endStatus));
  return seq;
}

/** Result set under CLIENT_DEPRECATE_EOF (no EOF after the definitions, 0xfe OK at the end). */
function resultSetDeprecateEof(c: Conv, cols: number, rows: (string | null)[][], endStatus = AUTOCOMMIT, seq0 = 1): number {
  let seq = seq0;
  c.s(seq++, columnCount(cols));
  for (let i = 0; i < cols; i++) c.s(seq++, columnDef(`c${i}`));
  for (const r of rows) c.s(seq++, textRow(...r));
  c.s(seq++, okEof(endStatus));
  return seq;
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Connection phase
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('connection phase', () => {
  test('login OK: one connect event with user, database, server connection id and timings', () => {
    const c = new Conv();
    c.s(0, greetingPayload({ connectionId: 77 }), 1_000_000);
    c.c(1, handshakeResponse41({ user: 'app', database: 'shop' }), 1_000_200);
    c.s(2, ok(), 1_000_450);
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'ok', user: 'app', db: 'shop', connId: 77, latencyUs: 250, responseUs: 250, sql: null, tls: false, sec: 1, nsec: 200_000 }]);
    assert.equal(c.session.serverVersion, '8.0.36');
    assert.equal(c.session.stage, 'DISCONNECTED');
  });

  test('only a command waiting for its answer is in flight: an idle connection, logged in long ago, holds no event back', () => {
    const c = new Conv();
    c.s(0, greetingPayload(), 1_000_000);
    c.c(1, handshakeResponse41({ user: 'app' }), 1_000_100);
    assert.deepEqual(c.session.oldestPending(), { sec: 1, nsec: 100_000 }, 'the login, while it waits');
    c.s(2, ok(), 1_000_200);
    assert.equal(c.session.oldestPending(), null, 'logged in and idle');
    c.c(0, comQuery('SELECT 1'), 9_000_000);
    assert.deepEqual(c.session.oldestPending(), { sec: 9, nsec: 0 });
    c.s(1, ok(), 9_000_100);
    assert.equal(c.session.oldestPending(), null);
  });

  test('login error 1045: status error with code, SQL state and message; nothing after it decoded', () => {
    const c = new Conv();
    c.s(0, greetingPayload());
    c.c(1, handshakeResponse41({ user: 'bad' }));
    c.s(2, err(1045, "Access denied for user 'bad'@'10.0.0.1' (using password: YES)", '28000'));
    c.c(0, comQuery('SELECT 1'));
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'error', user: 'bad', errorCode: 1045, sqlState: '28000', error: "Access denied for user 'bad'@'10.0.0.1' (using password: YES)" }]);
  });

  test('server refuses before the greeting (1040 Too many connections): an error connect event', () => {
    const c = new Conv();
    c.s(0, err(1040, 'Too many connections', null));
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'error', errorCode: 1040, error: 'Too many connections' }]);
  });

  test('auth switch to mysql_native_password: latency to the switch request, response time to the OK after the last client packet', () => {
    const c = new Conv();
    c.s(0, greetingPayload({ authPlugin: 'caching_sha2_password' }), 1_000_000);
    c.c(1, handshakeResponse41({ user: 'app' }), 1_000_100);
    c.s(2, authSwitch('mysql_native_password'), 1_000_150);
    c.c(3, new Uint8Array(20).fill(0x5a), 1_000_300);
    c.s(4, ok(), 1_000_700);
    c.c(0, com(COM.PING), 1_001_000);
    c.s(1, ok(), 1_001_010);
    c.close();
    assertEvents(c.events, [
      { cmd: 'connect', status: 'ok', user: 'app', latencyUs: 50, responseUs: 400 },
      { cmd: 'ping', status: 'ok', latencyUs: 10 },
    ]);
    assert.ok(c.traceEvents().includes('AUTH_PLUGIN'));
  });

  test('caching_sha2_password fast authentication (more data 0x03, then OK)', () => {
    const c = new Conv();
    c.s(0, greetingPayload());
    c.c(1, handshakeResponse41({ user: 'app' }));
    c.s(2, authMoreData([0x03]));
    c.s(3, ok());
    c.c(0, comQuery('SELECT 1'));
    c.s(1, ok());
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'ok' }, { cmd: 'query', status: 'ok', sql: 'SELECT 1' }]);
    assert.ok(c.traces.some((t) => t.event === 'AUTH_MORE_DATA' && t.detail === 'fast authentication succeeded'));
  });

  test('caching_sha2_password full authentication (0x04, public key request, RSA-encrypted password): no auth data in any trace', () => {
    const c = new Conv();
    const secret = ascii('RSA-ENCRYPTED-PASSWORD-BYTES');
    c.s(0, greetingPayload());
    c.c(1, handshakeResponse41({ user: 'app', authResponse: ascii('SCRAMBLE-RESPONSE-32-BYTES-LONG!') }));
    c.s(2, authMoreData([0x04]));
    c.c(3, Uint8Array.of(0x02)); // request public key
    c.s(4, authMoreData(ascii('-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n')));
    c.c(5, secret);
    c.s(6, ok());
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'ok', user: 'app' }]);
    assert.ok(c.traces.some((t) => t.event === 'AUTH_MORE_DATA' && t.detail === 'full authentication required'));
    const needle = Buffer.from(secret).toString('latin1');
    for (const t of c.traces) {
      assert.ok(!t.detail.includes(needle));
      if (t.payload) assert.ok(!Buffer.from(t.payload).toString('latin1').includes(needle), `${t.event} carries the encrypted password`);
      if (t.event === 'SEND_AUTH_RESPONSE') assert.equal(t.payload, null);
    }
    assert.ok(!JSON.stringify(c.events).includes('SCRAMBLE-RESPONSE'));
  });

  test('SSL request: connect event marked TLS; nothing decoded afterwards', () => {
    const c = new Conv();
    c.s(0, greetingPayload());
    c.c(1, sslRequest());
    // TLS records (ClientHello, ServerHello...): never parsed as MySQL.
    c.raw(Dir.ClientToServer, Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03));
    c.raw(Dir.ServerToClient, Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76));
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', tls: true, user: null, status: 'incomplete' }]);
    assert.equal(c.session.tls, true);
    assert.equal(c.session.stage, 'DISCONNECTED');
    assert.equal(c.session.counters.protocolViolations, 0);
  });

  test('the connection closes during authentication: connect aborted (cut by the capture: incomplete)', () => {
    const c = new Conv();
    c.s(0, greetingPayload());
    c.c(1, handshakeResponse41({ user: 'app' }));
    c.close('rst');
    assertEvents(c.events, [{ cmd: 'connect', status: 'aborted', user: 'app', ended: 'reset' }]);
    assert.equal(c.session.counters.commandsIncomplete, 0);
    const d = new Conv();
    d.s(0, greetingPayload());
    d.c(1, handshakeResponse41({ user: 'app' }));
    d.close('capture-end');
    assertEvents(d.events, [{ cmd: 'connect', status: 'incomplete', user: 'app', ended: 'capture_end' }]);
    assert.equal(d.session.counters.commandsIncomplete, 1);
  });

  test('MariaDB greeting and client: extended capabilities negotiated, login OK', () => {
    const c = new Conv();
    c.s(0, greetingPayload({ version: '5.5.5-10.11.6-MariaDB', capabilities: 0xc1fff7fe, mariaCapabilities: 0x1d, authPlugin: 'mysql_native_password' }));
    c.c(1, handshakeResponse41({ capabilities: (CLIENT_BASE_CAPS & ~CAP.LONG_PASSWORD) >>> 0, mariaCapabilities: 0x04, user: 'm' }));
    c.s(2, ok());
    c.close();
    assertEvents(c.events, [{ cmd: 'connect', status: 'ok', user: 'm' }]);
    assert.equal(c.session.mariaCaps, 0x04);
    assert.equal(c.session.serverVersion, '5.5.5-10.11.6-MariaDB');
  });

  test('the session-tracked schema in the login OK becomes the current database', () => {
    const c = new Conv();
    c.login({ response: { capabilities: DEPRECATE_EOF_CAPS, user: 'app' }, ok: ok({ sessionTrack: [schemaChange('tracked')] }) });
    c.c(0, com(COM.PING));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [{ cmd: 'ping', db: 'tracked' }]);
  });
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Text protocol
// ──────────────────────────────────────────────────────────────────────────────────────────────

table('COM_QUERY', [
  {
    name: 'OK with affected rows, insert id, warnings; timings from packet times',
    run: (c) => {
      c.c(0, comQuery("INSERT INTO t VALUES (1), ('x')"), 2_000_000);
      c.s(1, ok({ affectedRows: 2, insertId: 5, warnings: 1 }), 2_000_300);
    },
    events: [{ cmd: 'query', status: 'ok', sql: "INSERT INTO t VALUES (1), ('x')", affectedRows: 2, insertId: 5, warnings: 1, rows: null, resultSets: 1, latencyUs: 300, responseUs: 300, user: 'app', db: 'shop', sec: 2, nsec: 0 }],
  },
  {
    name: 'result set with EOF packets: rows counted, no_index_used from the final EOF, latency to the first packet, response to the last',
    run: (c) => {
      c.c(0, comQuery('SELECT a, b FROM t'), 3_000_000);
      c.s(1, columnCount(2), 3_000_100);
      c.s(2, columnDef('a'));
      c.s(3, columnDef('b'));
      c.s(4, eof());
      c.s(5, textRow('1', null));
      c.s(6, textRow('2', 'x'));
      c.s(7, textRow(null, null));
      c.s(8, eof(AUTOCOMMIT | NO_INDEX, 2), 3_001_000);
    },
    events: [{ cmd: 'query', status: 'ok', rows: 3, noIndexUsed: true, noGoodIndexUsed: false, warnings: 2, resultSets: 1, affectedRows: null, latencyUs: 100, responseUs: 1000 }],
  },
  {
    name: 'result set with CLIENT_DEPRECATE_EOF: the 0xfe OK ends the rows',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, comQuery('SELECT a FROM t'));
      resultSetDeprecateEof(c, 1, [['1'], ['2']], AUTOCOMMIT | NO_GOOD_INDEX);
      c.c(0, comQuery('SELECT 2'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', rows: 2, noGoodIndexUsed: true, resultSets: 1 },
      { cmd: 'query', status: 'ok', sql: 'SELECT 2', rows: null },
    ],
  },
  {
    name: 'empty result set, classic and then deprecate-EOF style rows never start with 0xfe',
    run: (c) => {
      c.c(0, comQuery('SELECT a FROM t WHERE false'));
      resultSet(c, 1, []);
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', rows: 0, resultSets: 1 },
      { cmd: 'query', status: 'ok', rows: null },
    ],
  },
  {
    name: 'empty result set under CLIENT_DEPRECATE_EOF',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, comQuery('SELECT a FROM t WHERE false'));
      resultSetDeprecateEof(c, 1, []);
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', rows: 0 },
      { cmd: 'query', status: 'ok', rows: null },
    ],
  },
  {
    name: 'a row whose first value is 300 bytes (lenenc 0xfc) and one 0xfe-length value row',
    run: (c) => {
      c.c(0, comQuery('SELECT big FROM t'));
      c.s(1, columnCount(1));
      c.s(2, columnDef('big'));
      c.s(3, eof());
      c.s(4, textRow('x'.repeat(300)));
      // A first value announced with an 8-byte length (0xfe): the row is longer than 9 bytes, not an EOF.
      c.s(5, concat([0xfe, 4, 0, 0, 0, 0, 0, 0, 0], ascii('abcd')));
      c.s(6, eof());
    },
    events: [{ cmd: 'query', status: 'ok', rows: 2 }],
  },
  {
    name: 'multi-results (SERVER_MORE_RESULTS_EXISTS): two result sets in one event',
    run: (c) => {
      c.c(0, comQuery('SELECT 1; SELECT 2, 3'));
      const seq = resultSet(c, 1, [['1']], AUTOCOMMIT | MORE_RESULTS);
      resultSet(c, 2, [['2', '3'], ['4', '5']], AUTOCOMMIT, seq);
    },
    events: [{ cmd: 'query', status: 'ok', rows: 3, resultSets: 2 }],
  },
  {
    name: 'multi-statement of two INSERTs: affected rows summed over the OKs',
    run: (c) => {
      c.c(0, comQuery('INSERT INTO t VALUES (1); INSERT INTO t VALUES (2), (3)'));
      c.s(1, ok({ affectedRows: 1, insertId: 1, status: AUTOCOMMIT | MORE_RESULTS }));
      c.s(2, ok({ affectedRows: 2, insertId: 2 }));
    },
    events: [{ cmd: 'query', status: 'ok', affectedRows: 3, insertId: 2, resultSets: 2 }],
  },
  {
    name: 'stored procedure CALL: two result sets and the final OK',
    run: (c) => {
      c.c(0, comQuery('CALL report(1)'));
      let seq = resultSet(c, 1, [['a'], ['b']], AUTOCOMMIT | MORE_RESULTS);
      seq = resultSet(c, 1, [['c']], AUTOCOMMIT | MORE_RESULTS, seq);
      c.s(seq, ok({ affectedRows: 0 }));
    },
    events: [{ cmd: 'query', status: 'ok', rows: 3, resultSets: 3, sql: 'CALL report(1)' }],
  },
  {
    name: 'stored procedure CALL under CLIENT_DEPRECATE_EOF',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, comQuery('CALL report(1)'));
      const seq = resultSetDeprecateEof(c, 2, [['a', 'b']], AUTOCOMMIT | MORE_RESULTS);
      c.s(seq, ok({ affectedRows: 0 }));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', rows: 1, resultSets: 2 },
      { cmd: 'ping', status: 'ok' },
    ],
  },
  {
    name: 'ERR in the middle of a result set (query interrupted): status error, rows so far counted',
    run: (c) => {
      c.c(0, comQuery('SELECT SLEEP(10) FROM t'));
      c.s(1, columnCount(1));
      c.s(2, columnDef('s'));
      c.s(3, eof());
      c.s(4, textRow('0'));
      c.s(5, err(1317, 'Query execution was interrupted', '70100'));
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'error', errorCode: 1317, sqlState: '70100', rows: 1 },
      { cmd: 'query', status: 'ok' },
    ],
  },
  {
    name: 'ERR after the first result of a multi-statement',
    run: (c) => {
      c.c(0, comQuery('SELECT 1; SELECT * FROM missing'));
      const seq = resultSet(c, 1, [['1']], AUTOCOMMIT | MORE_RESULTS);
      c.s(seq, err(1146, "Table 'shop.missing' doesn't exist", '42S02'));
    },
    events: [{ cmd: 'query', status: 'error', errorCode: 1146, rows: 1, resultSets: 1 }],
  },
  {
    name: 'ERR 1064 right away',
    run: (c) => {
      c.c(0, comQuery('SELEC 1'));
      c.s(1, err(1064, 'You have an error in your SQL syntax', '42000'));
    },
    events: [{ cmd: 'query', status: 'error', errorCode: 1064, sqlState: '42000', error: 'You have an error in your SQL syntax', rows: null, resultSets: 0 }],
  },
  {
    name: 'two queries pipelined in one segment, then both responses in one segment',
    run: (c) => {
      c.cMany(0, [comQuery('SELECT 1')]);
      c.raw(Dir.ClientToServer, concat(mysqlPacket(0, comQuery('UPDATE t SET a = 1')), mysqlPacket(0, comQuery('SELECT 2'))));
      c.raw(Dir.ServerToClient, concat(mysqlPacket(1, ok()), mysqlPacket(1, ok({ affectedRows: 4 })), mysqlPacket(1, ok())));
    },
    events: [
      { cmd: 'query', sql: 'SELECT 1', status: 'ok', affectedRows: 0 },
      { cmd: 'query', sql: 'UPDATE t SET a = 1', status: 'ok', affectedRows: 4 },
      { cmd: 'query', sql: 'SELECT 2', status: 'ok' },
    ],
  },
  {
    name: 'a whole result set in one TCP segment',
    run: (c) => {
      c.c(0, comQuery('SELECT a FROM t'));
      c.sMany(1, [columnCount(1), columnDef('a'), eof(), textRow('1'), textRow('2'), eof()]);
    },
    events: [{ cmd: 'query', status: 'ok', rows: 2 }],
  },
  {
    name: 'query attributes (CLIENT_QUERY_ATTRIBUTES): the SQL after the attribute block',
    caps: DEPRECATE_EOF_CAPS | CAP.QUERY_ATTRIBUTES,
    run: (c) => {
      c.c(0, comQuery('SELECT 1', []));
      c.s(1, ok());
      c.c(0, comQuery('SELECT 2', [bin.named('trace_id', bin.string('abc-123')), bin.named('n', bin.long(7))]));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', sql: 'SELECT 1', status: 'ok' },
      { cmd: 'query', sql: 'SELECT 2', status: 'ok' },
    ],
  },
  {
    name: 'a query longer than maxRequestBytes is cut and marked',
    run: (c) => {
      const long = `SELECT '${'x'.repeat(2_000_000)}'`;
      c.c(0, comQuery(long));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', sqlTruncated: true, status: 'ok' }],
    check: (c) => assert.equal(c.commands[0]!.sql!.length, 1024 * 1024 - 1),
  },
]);

table('LOCAL INFILE', [
  {
    name: 'file request, file data, empty packet, OK: affected rows; the file bytes appear nowhere',
    run: (c) => {
      c.c(0, comQuery("LOAD DATA LOCAL INFILE '/tmp/secret.csv' INTO TABLE t"));
      c.s(1, localInfileRequest('/tmp/secret.csv'));
      c.c(2, ascii('SECRET-ROW-1,alice\n'));
      c.c(3, ascii('SECRET-ROW-2,bob\n'));
      c.c(4, new Uint8Array(0));
      c.s(5, ok({ affectedRows: 2, info: 'Records: 2  Deleted: 0  Skipped: 0  Warnings: 0' }));
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', affectedRows: 2 },
      { cmd: 'query', status: 'ok', sql: 'SELECT 1' },
    ],
    check: (c) => assertNoSecret(c, 'SECRET-ROW'),
  },
  {
    name: 'a file of 300 packets: sequence ids wrap through 0, still file data',
    run: (c) => {
      c.c(0, comQuery("LOAD DATA LOCAL INFILE 'big.csv' INTO TABLE t"));
      c.s(1, localInfileRequest('big.csv'));
      for (let i = 0; i < 300; i++) c.c((2 + i) & 0xff, concat([COM.QUERY], ascii(`SECRET-LINE-${i}\n`)));
      c.c((2 + 300) & 0xff, new Uint8Array(0));
      c.s((3 + 300) & 0xff, ok({ affectedRows: 300 }));
    },
    events: [{ cmd: 'query', status: 'ok', affectedRows: 300 }],
    check: (c) => {
      assertNoSecret(c, 'SECRET-LINE');
      assert.equal(c.session.counters.commands, 1);
      assert.equal(c.session.counters.protocolViolations, 0);
    },
  },
  {
    name: 'the server refuses LOCAL INFILE after the request (ERR after the empty packet)',
    run: (c) => {
      c.c(0, comQuery("LOAD DATA LOCAL INFILE 'x' INTO TABLE t"));
      c.s(1, localInfileRequest('x'));
      c.c(2, new Uint8Array(0));
      c.s(3, err(1148, 'The used command is not allowed with this MariaDB version', '42000'));
    },
    events: [{ cmd: 'query', status: 'error', errorCode: 1148 }],
  },
]);

function assertNoSecret(c: Conv, needle: string): void {
  assert.ok(!JSON.stringify(c.events).includes(needle), 'no event holds file bytes');
  for (const t of c.traces) {
    assert.ok(!t.detail.includes(needle), `trace ${t.event} detail holds file bytes`);
    if (t.payload) assert.ok(!Buffer.from(t.payload).toString('latin1').includes(needle), `trace ${t.event} payload holds file bytes`);
  }
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Prepared statements (binary protocol)
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** PREPARE_OK, param definitions, [EOF], column definitions, [EOF]. */
function prepareResponse(c: Conv, id: number, params: number, cols: number, withEof: boolean): void {
  let seq = 1;
  c.s(seq++, prepareOk(id, cols, params));
  for (let i = 0; i < params; i++) c.s(seq++, columnDef('?'));
  if (params > 0 && withEof) c.s(seq++, eof());
  for (let i = 0; i < cols; i++) c.s(seq++, columnDef(`c${i}`));
  if (cols > 0 && withEof) c.s(seq++, eof());
}

const SQL1 = 'SELECT id, name FROM t WHERE id = ? AND name <> ? AND x = ?';

table('prepared statements', [
  {
    name: 'prepare with params and columns (EOF packets), then a query decodes normally',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, SQL1));
      prepareResponse(c, 1, 3, 2, true);
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok', sql: SQL1, warnings: 0, rows: null },
      { cmd: 'query', status: 'ok' },
    ],
  },
  {
    name: 'prepare with params and columns (CLIENT_DEPRECATE_EOF: no EOF packets)',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, SQL1));
      prepareResponse(c, 1, 3, 2, false);
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'query', status: 'ok' },
    ],
  },
  ...[true, false].flatMap((withEof) =>
    [
      [0, 0],
      [2, 0],
      [0, 2],
    ].map(
      ([params, cols]): Case => ({
        name: `prepare with ${params} params and ${cols} columns, ${withEof ? 'EOF packets' : 'CLIENT_DEPRECATE_EOF'}`,
        caps: withEof ? undefined : DEPRECATE_EOF_CAPS,
        run: (c) => {
          c.c(0, com(COM.STMT_PREPARE, 'INSERT INTO t VALUES (?, ?)'));
          prepareResponse(c, 9, params!, cols!, withEof);
          c.c(0, com(COM.PING));
          c.s(1, ok());
        },
        events: [
          { cmd: 'stmt_prepare', status: 'ok' },
          { cmd: 'ping', status: 'ok' },
        ],
      }),
    ),
  ),
  {
    name: 'execute with binary rows: SQL from the prepare, parameters decoded (NULL, unsigned, date, string)',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, SQL1));
      prepareResponse(c, 1, 3, 1, true);
      c.c(0, stmtExecute({ stmtId: 1, params: [bin.unsigned(bin.longlong(2n ** 64n - 1n)), bin.null(0xfd), bin.datetime(0x0a, [2026, 1, 2])] }));
      c.s(1, columnCount(1));
      c.s(2, columnDef('id', 0x03));
      c.s(3, eof());
      c.s(4, binaryRowLong(1));
      c.s(5, binaryRowLong(2));
      c.s(6, eof(AUTOCOMMIT | NO_INDEX));
      // Re-execute without types (new-params-bound 0): the types of the first execute are used.
      c.c(0, stmtExecute({ stmtId: 1, params: [bin.unsigned(bin.longlong(7n)), bin.string('bob'), bin.datetime(0x0a, [2026, 3, 4])], sendTypes: false }));
      c.s(1, columnCount(1));
      c.s(2, columnDef('id', 0x03));
      c.s(3, eof());
      c.s(4, eof());
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', sql: SQL1, params: ['18446744073709551615', null, '2026-01-02'], rows: 2, noIndexUsed: true },
      { cmd: 'stmt_execute', status: 'ok', sql: SQL1, params: ['7', 'bob', '2026-03-04'], rows: 0 },
    ],
  },
  {
    name: 'execute returning OK (UPDATE): affected rows, insert id',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'UPDATE t SET a = ? WHERE id = ?'));
      prepareResponse(c, 4, 2, 0, false);
      c.c(0, stmtExecute({ stmtId: 4, params: [bin.double(1.25), bin.long(3)] }));
      c.s(1, ok({ affectedRows: 1 }));
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', sql: 'UPDATE t SET a = ? WHERE id = ?', params: ['1.25', '3'], affectedRows: 1 },
    ],
  },
  {
    name: 'execute returning a binary result set under CLIENT_DEPRECATE_EOF',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELECT id FROM t WHERE id > ?'));
      prepareResponse(c, 4, 1, 1, false);
      c.c(0, stmtExecute({ stmtId: 4, params: [bin.long(0)] }));
      c.sMany(1, [columnCount(1), columnDef('id', 0x03), binaryRowLong(1), binaryRowLong(2), binaryRowLong(3), okEof()]);
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', params: ['0'], rows: 3 },
    ],
  },
  {
    name: 'cursor execute (CURSOR_TYPE_READ_ONLY), then two fetches',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELECT id FROM t'));
      prepareResponse(c, 2, 0, 1, true);
      c.c(0, stmtExecute({ stmtId: 2, flags: 1 }));
      c.s(1, columnCount(1));
      c.s(2, columnDef('id', 0x03));
      c.s(3, eof(AUTOCOMMIT | CURSOR_EXISTS));
      c.c(0, stmtCommand(COM.STMT_FETCH, 2, [2, 0, 0, 0]));
      c.s(1, binaryRowLong(1));
      c.s(2, binaryRowLong(2));
      c.s(3, eof(AUTOCOMMIT | CURSOR_EXISTS));
      c.c(0, stmtCommand(COM.STMT_FETCH, 2, [2, 0, 0, 0]));
      c.s(1, binaryRowLong(3));
      c.s(2, eof(AUTOCOMMIT | CURSOR_EXISTS | LAST_ROW_SENT));
      c.c(0, stmtCommand(COM.STMT_CLOSE, 2));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', sql: 'SELECT id FROM t', rows: 0, params: [] },
      { cmd: 'stmt_fetch', status: 'ok', sql: 'SELECT id FROM t', rows: 2 },
      { cmd: 'stmt_fetch', status: 'ok', sql: 'SELECT id FROM t', rows: 1 },
      { cmd: 'stmt_close', status: 'none', sql: 'SELECT id FROM t', latencyUs: null },
      { cmd: 'ping', status: 'ok' },
    ],
  },
  {
    name: 'cursor execute under CLIENT_DEPRECATE_EOF (0xfe OK with SERVER_STATUS_CURSOR_EXISTS), then fetch',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELECT id FROM t'));
      prepareResponse(c, 2, 0, 1, false);
      c.c(0, stmtExecute({ stmtId: 2, flags: 1 }));
      c.sMany(1, [columnCount(1), columnDef('id', 0x03), okEof(AUTOCOMMIT | CURSOR_EXISTS)]);
      c.c(0, stmtCommand(COM.STMT_FETCH, 2, [9, 0, 0, 0]));
      c.sMany(1, [binaryRowLong(1), okEof(AUTOCOMMIT | CURSOR_EXISTS | LAST_ROW_SENT)]);
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', rows: 0 },
      { cmd: 'stmt_fetch', status: 'ok', rows: 1 },
    ],
  },
  {
    name: 'send_long_data and close: no response (status none); reset: OK; execute of a closed statement: no SQL',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'INSERT INTO t (blob) VALUES (?)'));
      prepareResponse(c, 3, 1, 0, true);
      c.c(0, stmtCommand(COM.STMT_SEND_LONG_DATA, 3, concat([0, 0], ascii('chunk of a blob'))));
      c.c(0, stmtCommand(COM.STMT_SEND_LONG_DATA, 3, concat([0, 0], ascii('another chunk'))));
      c.c(0, stmtExecute({ stmtId: 3, params: [{ type: 0xfc, value: new Uint8Array(0) }] }));
      c.s(1, ok({ affectedRows: 1 }));
      c.c(0, stmtCommand(COM.STMT_RESET, 3));
      c.s(1, ok());
      c.c(0, stmtCommand(COM.STMT_CLOSE, 3));
      c.c(0, stmtExecute({ stmtId: 3, params: [] }));
      c.s(1, err(1243, 'Unknown prepared statement handler (3) given to mysqld_stmt_execute', 'HY000'));
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_send_long_data', status: 'none', sql: 'INSERT INTO t (blob) VALUES (?)', latencyUs: null, responseUs: null },
      { cmd: 'stmt_send_long_data', status: 'none' },
      { cmd: 'stmt_execute', status: 'ok', affectedRows: 1 },
      { cmd: 'stmt_reset', status: 'ok', sql: 'INSERT INTO t (blob) VALUES (?)' },
      { cmd: 'stmt_close', status: 'none', sql: 'INSERT INTO t (blob) VALUES (?)' },
      { cmd: 'stmt_execute', status: 'error', sql: null, errorCode: 1243 },
    ],
  },
  {
    name: 'prepare error: the statement is not remembered',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELEC ?'));
      c.s(1, err(1064, 'syntax', '42000'));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'stmt_prepare', status: 'error', errorCode: 1064 },
      { cmd: 'ping', status: 'ok' },
    ],
  },
  {
    name: 'MariaDB pipelining: prepare and execute with statement id -1 in one segment, before the PREPARE_OK',
    run: (c) => {
      c.raw(Dir.ClientToServer, concat(mysqlPacket(0, com(COM.STMT_PREPARE, 'SELECT ? + 1')), mysqlPacket(0, stmtExecute({ stmtId: 0xffffffff, params: [bin.long(1)] }))));
      prepareResponse(c, 8, 1, 1, true);
      c.sMany(1, [columnCount(1), columnDef('x'), eof(), binaryRowLong(2), eof()]);
      // Later executes of -1 (the statement is known now): parameters decoded too.
      c.c(0, stmtExecute({ stmtId: 0xffffffff, params: [bin.long(5)] }));
      c.sMany(1, [columnCount(1), columnDef('x'), eof(), binaryRowLong(6), eof()]);
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok', sql: 'SELECT ? + 1' },
      { cmd: 'stmt_execute', status: 'ok', sql: 'SELECT ? + 1', rows: 1, params: null },
      { cmd: 'stmt_execute', status: 'ok', sql: 'SELECT ? + 1', rows: 1, params: ['5'] },
    ],
  },
  {
    name: 'execute with query attributes: SQL and parameters',
    caps: DEPRECATE_EOF_CAPS | CAP.QUERY_ATTRIBUTES,
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELECT ?'));
      prepareResponse(c, 5, 1, 1, false);
      c.c(0, stmtExecute({ stmtId: 5, params: [bin.long(42)], queryAttributes: true, flags: 0x08 }));
      c.sMany(1, [columnCount(1), columnDef('?'), binaryRowLong(42), okEof()]);
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok' },
      { cmd: 'stmt_execute', status: 'ok', sql: 'SELECT ?', params: ['42'], rows: 1 },
    ],
  },
]);

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Other commands
// ──────────────────────────────────────────────────────────────────────────────────────────────

table('other commands', [
  {
    name: 'init_db: OK, and the current database follows',
    run: (c) => {
      c.c(0, com(COM.INIT_DB, 'sales'));
      c.s(1, ok());
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'init_db', status: 'ok', sql: 'sales', db: 'shop' },
      { cmd: 'ping', status: 'ok', db: 'sales' },
    ],
  },
  {
    name: 'init_db refused: the database stays',
    run: (c) => {
      c.c(0, com(COM.INIT_DB, 'secret'));
      c.s(1, err(1044, "Access denied for user 'app'@'%' to database 'secret'", '42000'));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'init_db', status: 'error', errorCode: 1044 },
      { cmd: 'ping', db: 'shop' },
    ],
  },
  {
    name: 'USE db (no session tracking): the database follows once the server says OK',
    run: (c) => {
      c.c(0, comQuery('USE `sales`'));
      c.s(1, ok());
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'query', status: 'ok', sql: 'USE `sales`', db: 'shop' },
      { cmd: 'ping', db: 'sales' },
    ],
  },
  {
    name: 'USE db refused: the database stays',
    run: (c) => {
      c.c(0, comQuery('use secret'));
      c.s(1, err(1044, 'Access denied', '42000'));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', status: 'error' }, { cmd: 'ping', db: 'shop' }],
  },
  {
    name: 'USE db with session tracking: the schema from the OK',
    caps: DEPRECATE_EOF_CAPS,
    run: (c) => {
      c.c(0, comQuery('USE sales'));
      c.s(1, ok({ sessionTrack: [schemaChange('sales')] }));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', status: 'ok' }, { cmd: 'ping', db: 'sales' }],
  },
  {
    name: 'ping, statistics, set_option (EOF reply), debug (EOF reply), process_kill, reset_connection, refresh',
    run: (c) => {
      c.c(0, com(COM.PING));
      c.s(1, ok());
      c.c(0, com(COM.STATISTICS));
      c.s(1, ascii('Uptime: 3600  Threads: 1  Questions: 10  Slow queries: 0  Opens: 20  Open tables: 13  Queries per second avg: 0.002'));
      c.c(0, com(COM.SET_OPTION, [1, 0]));
      c.s(1, eof());
      c.c(0, com(COM.DEBUG));
      c.s(1, eof());
      c.c(0, com(COM.PROCESS_KILL, [42, 0, 0, 0]));
      c.s(1, ok());
      c.c(0, com(COM.RESET_CONNECTION));
      c.s(1, ok());
      c.c(0, com(COM.REFRESH, [0x01]));
      c.s(1, ok());
    },
    events: [
      { cmd: 'ping', status: 'ok' },
      { cmd: 'statistics', status: 'ok', rows: null },
      { cmd: 'set_option', status: 'ok' },
      { cmd: 'debug', status: 'ok' },
      { cmd: 'process_kill', status: 'ok', sql: '42' },
      { cmd: 'reset_connection', status: 'ok' },
      { cmd: 'refresh', status: 'ok' },
    ],
  },
  {
    name: 'field_list: column definitions until EOF; the table name as argument',
    run: (c) => {
      c.c(0, com(COM.FIELD_LIST, concat(ascii('customers'), [0], ascii('%'))));
      c.sMany(1, [columnDef('id'), columnDef('email'), columnDef('name'), eof()]);
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'field_list', status: 'ok', sql: 'customers' },
      { cmd: 'ping', status: 'ok' },
    ],
  },
  {
    name: 'field_list on a missing table: ERR',
    run: (c) => {
      c.c(0, com(COM.FIELD_LIST, concat(ascii('nope'), [0])));
      c.s(1, err(1146, "Table 'shop.nope' doesn't exist", '42S02'));
    },
    events: [{ cmd: 'field_list', status: 'error', errorCode: 1146 }],
  },
  {
    name: 'change_user with an auth switch: OK, the user follows, statements are forgotten',
    run: (c) => {
      c.c(0, com(COM.STMT_PREPARE, 'SELECT 1'));
      prepareResponse(c, 1, 0, 1, true);
      c.c(0, com(COM.CHANGE_USER, concat(ascii('bob'), [0], [20], new Uint8Array(20), ascii('sales'), [0])));
      c.s(1, authSwitch('mysql_native_password'));
      c.c(2, new Uint8Array(20).fill(1));
      c.s(3, ok());
      c.c(0, stmtExecute({ stmtId: 1 }));
      c.s(1, err(1243, 'Unknown prepared statement handler', 'HY000'));
    },
    events: [
      { cmd: 'stmt_prepare', status: 'ok', user: 'app' },
      { cmd: 'change_user', status: 'ok', user: 'bob' },
      // The new session's database is the one change_user asked for.
      { cmd: 'stmt_execute', status: 'error', user: 'bob', db: 'sales', sql: null },
    ],
  },
  {
    name: 'change_user refused: error, the user stays',
    run: (c) => {
      c.c(0, com(COM.CHANGE_USER, concat(ascii('eve'), [0], [0])));
      c.s(1, err(1045, 'Access denied', '28000'));
      c.c(0, com(COM.PING));
      c.s(1, ok());
    },
    events: [
      { cmd: 'change_user', status: 'error', errorCode: 1045 },
      { cmd: 'ping', user: 'app' },
    ],
  },
  {
    name: 'quit: status none, no response expected',
    run: (c) => {
      c.c(0, com(COM.QUIT));
    },
    events: [{ cmd: 'quit', status: 'none', latencyUs: null, bytesIn: 5, bytesOut: 0 }],
  },
  {
    name: 'binlog_dump: a replication connection; the binlog stream is not decoded into events',
    run: (c) => {
      c.c(0, com(COM.BINLOG_DUMP, concat([4, 0, 0, 0], [0, 0], [1, 0, 0, 0], ascii('mysql-bin.000001'))));
      for (let i = 0; i < 5; i++) c.s(1 + i, concat([0x00], new Uint8Array(30).fill(i)));
      c.c(0, comQuery('SELECT 1'));
    },
    events: [{ cmd: 'binlog_dump', status: 'none' }],
    check: (c) => {
      assert.equal(c.session.replication, true);
      assert.equal(c.session.counters.protocolViolations, 0);
    },
  },
  {
    name: 'unknown command byte: counted, no event; the next command (next segment) is decoded',
    run: (c) => {
      c.c(0, com(0x77, 'mystery'));
      c.s(1, err(1047, 'Unknown command', '08S01'));
      c.c(0, comQuery('SELECT 1'));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', status: 'ok', sql: 'SELECT 1' }],
    check: (c) => assert.equal(c.session.counters.unknownCommands, 1),
  },
  {
    name: 'unknown command followed by a command in the same segment: no invented event, no throw',
    run: (c) => {
      c.raw(Dir.ClientToServer, concat(mysqlPacket(0, com(0x77, 'x')), mysqlPacket(0, comQuery('SELECT 1'))));
      c.c(0, comQuery('SELECT 2'));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', status: 'ok', sql: 'SELECT 2' }],
    check: (c) => assert.equal(c.session.counters.unknownCommands, 1),
  },
  {
    name: 'a zero-length client packet where a command belongs: counted, no throw',
    run: (c) => {
      c.c(0, new Uint8Array(0));
      c.c(0, comQuery('SELECT 2'));
      c.s(1, ok());
    },
    events: [{ cmd: 'query', status: 'ok', sql: 'SELECT 2' }],
  },
]);

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Capture damage: mid-stream start, gaps, not MySQL
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('mid-stream start (no handshake captured)', () => {
  function midStream(): Conv {
    const c = new Conv({ synSeen: false });
    c.gap(Dir.ClientToServer, -1, GapReason.MidStreamStart);
    c.gap(Dir.ServerToClient, -1, GapReason.MidStreamStart);
    return c;
  }

  test('the tail of an earlier exchange is skipped; decoding resyncs at the first command', () => {
    const c = midStream();
    c.raw(Dir.ServerToClient, concat(textRow('tail of a row'), mysqlPacket(9, eof()))); // end of an unseen response
    c.raw(Dir.ClientToServer, ascii('ERE id = 5')); // end of an unseen query
    c.c(0, comQuery('SELECT a FROM t'));
    resultSet(c, 1, [['1'], ['2']]);
    c.c(0, com(COM.QUIT));
    c.close();
    assertEvents(c.events, [
      { cmd: 'query', status: 'ok', rows: 2, user: null, connId: null },
      { cmd: 'quit', status: 'none' },
    ]);
    assert.equal(c.session.counters.resyncs, 1);
    assert.equal(c.session.deprecateEof, false, 'EOF after the definitions: classic');
  });

  test('CLIENT_DEPRECATE_EOF inferred from a result set without EOF after the definitions', () => {
    const c = midStream();
    c.c(0, comQuery('SELECT a FROM t'));
    resultSetDeprecateEof(c, 1, [['1'], ['2'], ['3']]);
    c.c(0, comQuery('SELECT 1'));
    c.s(1, ok());
    c.close();
    assertEvents(c.events, [
      { cmd: 'query', status: 'ok', rows: 3 },
      { cmd: 'query', status: 'ok', rows: null },
    ]);
    assert.equal(c.session.deprecateEof, true);
  });

  test('CLIENT_DEPRECATE_EOF, first result set empty: the 7-byte 0xfe OK is not the EOF after the definitions', () => {
    const c = midStream();
    c.c(0, comQuery('SELECT a FROM t WHERE false'));
    resultSetDeprecateEof(c, 1, []);
    c.c(0, comQuery('SELECT a FROM t'));
    resultSetDeprecateEof(c, 1, [['1']]);
    c.close();
    assertEvents(c.events, [
      { cmd: 'query', status: 'ok', rows: 0 },
      { cmd: 'query', status: 'ok', rows: 1 },
    ]);
  });

  test('the first segment holds two pipelined commands (MariaDB prepare + execute -1): each gets its own response', () => {
    const c = midStream();
    c.raw(Dir.ClientToServer, concat(mysqlPacket(0, com(COM.STMT_PREPARE, 'SELECT ? + 1')), mysqlPacket(0, stmtExecute({ stmtId: 0xffffffff, params: [bin.long(1)] }))));
    c.sMany(1, [prepareOk(3, 1, 1), columnDef('?'), eof(), columnDef('x'), eof()]);
    c.sMany(1, [columnCount(1), columnDef('x'), eof(), binaryRowLong(2), eof()]);
    c.close();
    assertEvents(c.events, [
      { cmd: 'stmt_prepare', status: 'ok', sql: 'SELECT ? + 1' },
      { cmd: 'stmt_execute', status: 'ok', sql: 'SELECT ? + 1', rows: 1 },
    ]);
  });

  test('a prepared statement never seen: execute has no SQL, no params, and the response still decodes', () => {
    const c = midStream();
    c.c(0, stmtExecute({ stmtId: 12, params: [bin.long(1)] }));
    c.sMany(1, [columnCount(1), columnDef('a'), eof(), binaryRowLong(1), eof()]);
    c.close();
    assertEvents(c.events, [{ cmd: 'stmt_execute', status: 'ok', sql: null, params: null, rows: 1 }]);
  });
});

describe('gaps', () => {
  test('server bytes lost in the middle of a result set: the command is incomplete, the next command decoded, no invented event', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT a FROM big'));
    c.s(1, columnCount(1));
    c.s(2, columnDef('a'));
    c.s(3, eof());
    c.s(4, textRow('1'));
    c.gap(Dir.ServerToClient, 5000);
    c.raw(Dir.ServerToClient, concat(mysqlPacket(77, textRow('after the gap')), mysqlPacket(78, eof())));
    c.c(0, comQuery('SELECT 2'));
    c.s(1, ok());
    c.c(0, com(COM.PING));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [
      { cmd: 'query', sql: 'SELECT a FROM big', status: 'incomplete', rows: 1 },
      { cmd: 'query', sql: 'SELECT 2', status: 'ok' },
      { cmd: 'ping', status: 'ok' },
    ]);
    assert.equal(c.session.counters.commandsIncomplete, 1);
  });

  test('the first segment of a response lost: the rest is not mistaken for a response, later responses are not shifted', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT a FROM t'));
    const body = concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')), mysqlPacket(3, eof()), mysqlPacket(4, textRow('x')), mysqlPacket(5, eof()));
    c.gap(Dir.ServerToClient, 1); // the first byte of the response
    c.raw(Dir.ServerToClient, body.subarray(1)); // starts with "00 00 01 | 01": seq-like byte 1, length 65536
    c.c(0, comQuery('SELECT 2'));
    c.s(1, ok({ affectedRows: 2 }));
    c.c(0, comQuery('SELECT 3'));
    c.s(1, ok({ affectedRows: 3 }));
    c.close();
    assertEvents(c.commands, [
      { cmd: 'query', sql: 'SELECT a FROM t', status: 'incomplete' },
      { cmd: 'query', sql: 'SELECT 2', status: 'ok', affectedRows: 2 },
      { cmd: 'query', sql: 'SELECT 3', status: 'ok', affectedRows: 3 },
    ]);
  });

  test('a command sent while the server stream is lost, its response unrecognisable: the next command gets the next response', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT 1'));
    c.gap(Dir.ServerToClient, 11);
    c.c(0, com(COM.STMT_PREPARE, 'SELECT ?'));
    const prep = concat(mysqlPacket(1, prepareOk(1, 0, 1)), mysqlPacket(2, columnDef('?')), mysqlPacket(3, eof()));
    c.raw(Dir.ServerToClient, prep.subarray(0, 2)); // a segment too short to resynchronise on
    c.raw(Dir.ServerToClient, prep.subarray(2));
    c.c(0, com(COM.PING));
    c.s(1, ok());
    c.c(0, com(COM.PING));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [
      { cmd: 'query', status: 'incomplete' },
      { cmd: 'stmt_prepare', status: 'incomplete' },
      { cmd: 'ping', status: 'ok' },
      { cmd: 'ping', status: 'ok' },
    ]);
  });

  test('client bytes lost (a whole command): the response that has no command is skipped, the next command decoded', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT 1'));
    c.s(1, ok());
    c.gap(Dir.ClientToServer, 30);
    c.s(1, ok({ affectedRows: 9 })); // the response to the lost command
    c.c(0, comQuery('SELECT 3'));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [
      { cmd: 'query', sql: 'SELECT 1', status: 'ok' },
      { cmd: 'query', sql: 'SELECT 3', status: 'ok', affectedRows: 0 },
    ]);
  });

  test('the connection closes with a command waiting: incomplete; quit waiting is none', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT SLEEP(100)'));
    c.close('rst');
    assertEvents(c.commands, [{ cmd: 'query', status: 'incomplete', latencyUs: null }]);
  });
});

describe('not MySQL on the MySQL port', () => {
  test('HTTP: no events, no throw; nothing recognised', () => {
    const c = new Conv();
    c.raw(Dir.ClientToServer, ascii('GET / HTTP/1.1\r\nHost: db:3306\r\n\r\n'));
    c.raw(Dir.ServerToClient, ascii('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    c.close();
    assert.deepEqual(c.events, []);
    assert.equal(c.session.serverVersion, null);
    assert.equal(c.session.counters.commands, 0);
  });

  test('a server whose first packet is framed but is not a greeting: abandoned, marked as a violation', () => {
    const c = new Conv();
    c.s(0, ascii('\x42not a greeting at all'));
    c.c(1, handshakeResponse41());
    c.s(2, ok());
    c.c(0, comQuery('SELECT 1'));
    c.close();
    assert.deepEqual(c.events, []);
    assert.equal(c.session.counters.protocolViolations, 1);
    assert.ok(c.traceEvents().includes('ABANDONED'));
  });
});

describe('commands the capture lost', () => {
  test('a command lost in a client-side gap: its response is counted as a command not seen, no event is invented', () => {
    const c = new Conv();
    c.login();
    c.c(0, comQuery('SELECT 1'));
    c.s(1, ok());
    c.gap(Dir.ClientToServer, 20); // a whole COM_QUERY lost
    c.s(1, ok()); // … its answer arrives
    c.c(0, com(COM.PING));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [
      { cmd: 'query', sql: 'SELECT 1', status: 'ok' },
      { cmd: 'ping', status: 'ok' },
    ]);
    assert.equal(c.session.counters.commandsUnseen, 1);
    assert.equal(c.session.counters.protocolViolations, 0);
  });

  test('a capture that starts mid-connection: the answers to commands sent before it are counted, not shown', () => {
    const c = new Conv({ synSeen: false });
    c.gap(Dir.ClientToServer, -1, GapReason.MidStreamStart);
    c.gap(Dir.ServerToClient, -1, GapReason.MidStreamStart);
    c.s(1, ok()); // the end of a conversation that began before the capture
    c.c(0, comQuery('SELECT 2'));
    c.s(1, ok());
    c.close();
    assertEvents(c.commands, [{ cmd: 'query', sql: 'SELECT 2', status: 'ok' }]);
    assert.equal(c.session.counters.commandsUnseen, 1);
  });
});

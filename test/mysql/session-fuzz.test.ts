/**
 * Session fuzzing (fast-check): random bytes, and random sequences of plausible MySQL packets in
 * both directions with random chunking, gaps and closes, never make the session throw; the events
 * it emits are well-formed; and the state it holds stays bounded however long the input runs.
 *
 * `FUZZ_RUNS=20 node --test build/test/mysql/session-fuzz.test.js` runs 20 times as many cases.
 * A failing case prints its seed and path: replay it with `fc.assert(..., { seed, path })`, then
 * keep the packets it found as a table case in session.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Dir, GapReason } from '../../src/tcp/stream.js';
import { MysqlSession, type CommandEvent } from '../../src/mysql/session.js';
import { commandName } from '../../src/mysql/constants.js';
import { concat, ascii } from '../builders/bytes.js';
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
import { connInfo } from './driver.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
const runs = (n: number): number => Math.round(n * SCALE);

const MAX_REQUEST = 4096;
const MAX_RESPONSE = 1024;

/** The session's private state, for bound checks (not part of its API). */
interface Internals {
  exchange: { queue: { length: number } };
  wire: { framers: { keep: Uint8Array }[] };
}

type Step =
  | { kind: 'data'; dir: Dir; bytes: Uint8Array; split: number[] }
  | { kind: 'gap'; dir: Dir; bytes: number }
  | { kind: 'close' };

const STATUSES = new Set(['ok', 'error', 'none', 'incomplete']);

export function drive(steps: Step[], synSeen: boolean): { events: CommandEvent[]; session: MysqlSession } {
  const events: CommandEvent[] = [];
  let traces = 0;
  const session = new MysqlSession(connInfo({ synSeen }), (e) => events.push(e), { maxRequestBytes: MAX_REQUEST, maxResponseBytes: MAX_RESPONSE, trace: () => void traces++ });
  let us = 0;
  for (const s of steps) {
    us += 37;
    const sec = Math.floor(us / 1e6);
    const nsec = (us % 1e6) * 1000;
    if (s.kind === 'data') {
      let at = 0;
      for (const end of [...s.split.filter((x) => x > 0 && x < s.bytes.length).sort((a, b) => a - b), s.bytes.length]) {
        if (end <= at) continue;
        const buf = new Uint8Array(end - at + 1);
        buf.set(s.bytes.subarray(at, end), 1);
        session.onData(s.dir, buf, 1, end - at, sec, nsec);
        buf.fill(0xee);
        at = end;
      }
    } else if (s.kind === 'gap') session.onGap(s.dir, s.bytes, s.bytes < 0 ? GapReason.MidStreamStart : GapReason.Unseen, sec, nsec);
    else session.onClose('fin', sec, nsec);
  }
  session.onClose('capture-end', Math.floor(us / 1e6) + 1, 0);
  return { events, session };
}

export function checkEvents(events: CommandEvent[], session: MysqlSession): void {
  for (const e of events) {
    assert.ok(STATUSES.has(e.status), `status ${e.status}`);
    assert.ok(e.cmd === 'connect' || [...Array(256).keys()].some((b) => commandName(b) === e.cmd), `cmd ${e.cmd}`);
    for (const k of ['latencyUs', 'responseUs', 'rows', 'affectedRows', 'warnings'] as const) {
      const v = e[k];
      assert.ok(v === null || (Number.isFinite(v) && v >= 0), `${k} = ${v}`);
    }
    assert.ok(e.bytesIn >= 0 && e.bytesOut >= 0);
    if (e.sql !== null) assert.ok(e.sql.length <= MAX_REQUEST, 'SQL longer than the request bytes kept');
  }
  const logins = events.filter((e) => e.cmd === 'connect').length;
  assert.ok(logins <= 1, 'at most one login per connection');
  assert.ok(events.length - logins <= session.counters.commands, 'no more command events than commands');
  assert.equal(new Set(events).size, events.length, 'each event emitted once');
  const internals = session as unknown as Internals;
  assert.equal(internals.exchange.queue.length, 0, 'nothing pending after close');
  for (const f of internals.wire.framers) assert.ok(f.keep.length <= Math.max(MAX_REQUEST, MAX_RESPONSE), 'framer buffer within its limit');
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Arbitraries
// ──────────────────────────────────────────────────────────────────────────────────────────────

const dirArb = fc.constantFrom(Dir.ClientToServer, Dir.ServerToClient);
const splitArb = fc.array(fc.nat({ max: 300 }), { maxLength: 3 });

const randomBytesStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('data' as const), dir: dirArb, bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }), split: splitArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), dir: dirArb, bytes: fc.oneof(fc.constant(-1), fc.nat({ max: 5000 })) }) },
);

const textArb = fc.string({ maxLength: 40 });
const smallBin = fc.uint8Array({ maxLength: 30 });

const clientPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  textArb.map((s) => comQuery(s)),
  textArb.map((s) => comQuery(s, [bin.named('a', bin.string(s))])),
  textArb.map((s) => com(COM.STMT_PREPARE, s)),
  fc.tuple(fc.nat({ max: 4 }), fc.array(fc.constantFrom(bin.long(1), bin.string('x'), bin.null(), bin.double(2.5), bin.datetime(0x0c, [2020, 1, 2, 3, 4, 5])), { maxLength: 4 }), fc.nat({ max: 9 }), fc.boolean()).map(([id, params, flags, qa]) =>
    stmtExecute({ stmtId: id, params, flags, queryAttributes: qa }),
  ),
  fc.tuple(fc.constantFrom(COM.STMT_CLOSE, COM.STMT_RESET, COM.STMT_FETCH, COM.STMT_SEND_LONG_DATA), fc.nat({ max: 4 }), smallBin).map(([c, id, rest]) => stmtCommand(c, id, rest)),
  fc.constantFrom(COM.PING, COM.QUIT, COM.STATISTICS, COM.RESET_CONNECTION, COM.SET_OPTION, COM.DEBUG, COM.INIT_DB, COM.FIELD_LIST, COM.CHANGE_USER, COM.PROCESS_KILL, COM.BINLOG_DUMP, 0x77, 0xfa, 0x00).map((c) => com(c, 'arg\0x')),
  fc.constant(handshakeResponse41({ user: 'u', database: 'd' })),
  fc.constant(handshakeResponse41({ user: 'u', capabilities: CLIENT_BASE_CAPS | CAP.DEPRECATE_EOF | CAP.QUERY_ATTRIBUTES })),
  fc.constant(handshakeResponse41({ user: 'u', capabilities: CLIENT_BASE_CAPS | CAP.COMPRESS })),
  fc.constant(sslRequest()),
  smallBin,
  fc.constant(new Uint8Array(0)),
);

const serverPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.constantFrom(0, 0x0002, 0x0008, 0x0022, 0x0040, 0x0080, 0x4000)).map(([a, i, st]) => ok({ affectedRows: a, insertId: i, status: st })),
  fc.constant(ok({ sessionTrack: [schemaChange('db2')] })),
  fc.constantFrom(0x0002, 0x000a, 0x0042, 0x0082).map((st) => eof(st)),
  fc.constantFrom(0x0002, 0x000a, 0x0042).map((st) => okEof(st)),
  fc.nat({ max: 5000 }).map((c) => err(c, 'boom')),
  fc.nat({ max: 300 }).map((n) => columnCount(n)),
  fc.constant(columnDef('c')),
  fc.array(fc.option(textArb, { nil: null }), { minLength: 1, maxLength: 3 }).map((v) => textRow(...v)),
  fc.nat().map((v) => binaryRowLong(v)),
  fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })).map(([id, c, p]) => prepareOk(id, c, p)),
  fc.constant(localInfileRequest('f.csv')),
  fc.constant(greetingPayload()),
  fc.constant(greetingPayload({ version: '5.5.5-10.11.6-MariaDB', capabilities: 0xc1fff7fe, mariaCapabilities: 0x1d })),
  fc.constant(authSwitch()),
  fc.constantFrom(authMoreData([3]), authMoreData([4])),
  smallBin,
  fc.constant(new Uint8Array(0)),
);

/** A packet with a plausible sequence id (0, 1, small, or any). */
const seqArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) });
/** Client packets: mostly commands (sequence id 0). */
const clientSeqArb = fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: seqArb });

const packetStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('data' as const), dir: fc.constant(Dir.ClientToServer), bytes: fc.array(fc.tuple(clientSeqArb, clientPayload), { minLength: 1, maxLength: 3 }).map((ps) => concat(...ps.map(([s, p]) => mysqlPacket(s, p)))), split: splitArb }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('data' as const), dir: fc.constant(Dir.ServerToClient), bytes: fc.array(fc.tuple(seqArb, serverPayload), { minLength: 1, maxLength: 6 }).map((ps) => concat(...ps.map(([s, p]) => mysqlPacket(s, p)))), split: splitArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), dir: dirArb, bytes: fc.oneof(fc.constant(-1), fc.nat({ max: 5000 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('data' as const), dir: dirArb, bytes: fc.uint8Array({ minLength: 1, maxLength: 60 }), split: splitArb }) },
);

/** A conversation that starts with a real login, then random packets. */
const withLogin = (steps: Step[]): Step[] => [
  { kind: 'data', dir: Dir.ServerToClient, bytes: mysqlPacket(0, greetingPayload()), split: [] },
  { kind: 'data', dir: Dir.ClientToServer, bytes: mysqlPacket(1, handshakeResponse41({ user: 'u' })), split: [] },
  { kind: 'data', dir: Dir.ServerToClient, bytes: mysqlPacket(2, ok()), split: [] },
  ...steps,
];

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Properties
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('MysqlSession fuzzing', () => {
  test('random bytes in both directions, with gaps: never throws, events well-formed, bounded state', () => {
    fc.assert(
      fc.property(fc.array(randomBytesStep, { maxLength: 30 }), fc.boolean(), (steps, syn) => {
        const { events, session } = drive(steps, syn);
        checkEvents(events, session);
      }),
      { numRuns: runs(300) },
    );
  });

  test('random sequences of plausible packets after a login: never throws, events well-formed, bounded state', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(packetStep, { maxLength: 40 }), (steps) => {
        const { events, session } = drive(withLogin(steps), true);
        checkEvents(events, session);
        for (const e of events) seen.set(`${e.cmd} ${e.status}`, (seen.get(`${e.cmd} ${e.status}`) ?? 0) + 1);
      }),
      { numRuns: runs(1000) },
    );
    // The generator reaches the interesting states, not just violations.
    for (const k of ['connect ok', 'query ok', 'query error', 'query incomplete', 'stmt_execute ok', 'quit none']) assert.ok((seen.get(k) ?? 0) > 0, `no "${k}" event in any run: ${JSON.stringify([...seen])}`);
  });

  test('random sequences of plausible packets, mid-stream (no handshake): never throws', () => {
    fc.assert(
      fc.property(fc.array(packetStep, { maxLength: 40 }), (steps) => {
        const { events, session } = drive([{ kind: 'gap', dir: Dir.ClientToServer, bytes: -1 }, { kind: 'gap', dir: Dir.ServerToClient, bytes: -1 }, ...steps], false);
        checkEvents(events, session);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('bounded state on long inputs', () => {
  test('only the client direction captured (asymmetric capture): 20 000 queries never answered; pending commands stay bounded', () => {
    const events: CommandEvent[] = [];
    const s = new MysqlSession(connInfo(), (e) => events.push(e));
    const q = mysqlPacket(0, comQuery('SELECT * FROM t WHERE id = 1'));
    s.onData(Dir.ServerToClient, mysqlPacket(0, greetingPayload()), 0, mysqlPacket(0, greetingPayload()).length, 0, 0);
    const login = mysqlPacket(1, handshakeResponse41());
    s.onData(Dir.ClientToServer, login, 0, login.length, 0, 1000);
    s.onGap(Dir.ServerToClient, 30, GapReason.Unseen, 0, 2000); // the login OK was not captured
    let maxPending = 0;
    for (let i = 0; i < 20_000; i++) {
      s.onData(Dir.ClientToServer, q, 0, q.length, 1 + i, 0);
      maxPending = Math.max(maxPending, (s as unknown as Internals).exchange.queue.length);
    }
    assert.ok(maxPending <= 1024, `pending commands grew to ${maxPending}`);
    assert.ok(events.length >= 20_000 - 1024, 'the oldest commands are given up (incomplete) as they go');
    s.onClose('fin', 30_000, 0);
    assert.equal(events.filter((e) => e.cmd === 'query').length, 20_000);
  });

  test('one million rows: counted, not kept', () => {
    const events: CommandEvent[] = [];
    const s = new MysqlSession(connInfo(), (e) => events.push(e));
    const feed = (dir: Dir, b: Uint8Array): void => s.onData(dir, b, 0, b.length, 1, 0);
    feed(Dir.ServerToClient, mysqlPacket(0, greetingPayload()));
    feed(Dir.ClientToServer, mysqlPacket(1, handshakeResponse41()));
    feed(Dir.ServerToClient, mysqlPacket(2, ok()));
    feed(Dir.ClientToServer, mysqlPacket(0, comQuery('SELECT * FROM big')));
    feed(Dir.ServerToClient, concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')), mysqlPacket(3, eof())));
    const row = textRow('0123456789');
    const chunk = concat(...Array.from({ length: 1000 }, (_, i) => mysqlPacket((4 + i) & 0xff, row)));
    for (let i = 0; i < 1000; i++) feed(Dir.ServerToClient, chunk);
    feed(Dir.ServerToClient, mysqlPacket(0, eof()));
    s.onClose('fin', 2, 0);
    assert.equal(events[1]!.rows, 1_000_000);
    assert.ok((s as unknown as Internals).wire.framers[1]!.keep.length <= 64 * 1024);
  });

  test('a query of 8 MiB: the kept SQL is capped at maxRequestBytes', () => {
    const events: CommandEvent[] = [];
    const s = new MysqlSession(connInfo({ synSeen: false }), (e) => events.push(e), { maxRequestBytes: 1000 });
    s.onGap(Dir.ClientToServer, -1, GapReason.MidStreamStart, 0, 0);
    s.onGap(Dir.ServerToClient, -1, GapReason.MidStreamStart, 0, 0);
    const big = mysqlPacket(0, comQuery(`INSERT INTO t VALUES ('${'v'.repeat(8 << 20)}')`));
    for (let at = 0; at < big.length; at += 65536) s.onData(Dir.ClientToServer, big, at, Math.min(65536, big.length - at), 1, 0);
    const okp = mysqlPacket(1, ok({ affectedRows: 1 }));
    s.onData(Dir.ServerToClient, okp, 0, okp.length, 2, 0);
    s.onClose('fin', 3, 0);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.sql!.length, 999);
    assert.equal(events[0]!.sqlTruncated, true);
    assert.equal(events[0]!.bytesIn, big.length);
    assert.ok((s as unknown as Internals).wire.framers[0]!.keep.length <= 1000);
  });
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Model-based: random valid conversations decode to exactly the events of the model
// ──────────────────────────────────────────────────────────────────────────────────────────────

type Exchange =
  | { kind: 'ok'; affected: number }
  | { kind: 'err'; code: number }
  | { kind: 'select'; cols: number; rows: number }
  | { kind: 'multi'; rows: [number, number] }
  | { kind: 'prepare'; params: number; cols: number }
  | { kind: 'execute'; rows: number | null }
  | { kind: 'close' }
  /** `whole`: never cut into several segments. */
  | { kind: 'ping'; whole?: boolean }
  | { kind: 'init_db' }
  | { kind: 'field_list'; cols: number }
  | { kind: 'infile'; packets: number };

const exchangeArb: fc.Arbitrary<Exchange> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), affected: fc.nat({ max: 1000 }) }),
  fc.record({ kind: fc.constant('err' as const), code: fc.integer({ min: 1000, max: 4000 }) }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('select' as const), cols: fc.integer({ min: 1, max: 3 }), rows: fc.nat({ max: 6 }) }) },
  fc.record({ kind: fc.constant('multi' as const), rows: fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 })) }),
  fc.record({ kind: fc.constant('prepare' as const), params: fc.nat({ max: 3 }), cols: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('execute' as const), rows: fc.option(fc.nat({ max: 4 }), { nil: null }) }),
  fc.record({ kind: fc.constant('close' as const) }),
  fc.record({ kind: fc.constant('ping' as const) }),
  fc.record({ kind: fc.constant('init_db' as const) }),
  fc.record({ kind: fc.constant('field_list' as const), cols: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('infile' as const), packets: fc.nat({ max: 5 }) }),
);

interface Built {
  steps: Step[];
  expected: { cmd: string; status: string; rows: number | null; affectedRows: number | null }[];
}

/** The conversation's bytes (one client and one server burst per exchange) and the events it must give. */
export function build(deprecateEof: boolean, exchanges: Exchange[], cuts: number[][]): Built {
  const steps: Step[] = [];
  const expected: Built['expected'] = [{ cmd: 'connect', status: 'ok', rows: null, affectedRows: null }];
  const caps = CLIENT_BASE_CAPS | (deprecateEof ? CAP.DEPRECATE_EOF : 0);
  const c = (split: number[], ...ps: Uint8Array[]): void => void steps.push({ kind: 'data', dir: Dir.ClientToServer, bytes: concat(...ps.map((p, i) => mysqlPacket(i, p))), split });
  const srv = (split: number[], ...ps: Uint8Array[]): void => void steps.push({ kind: 'data', dir: Dir.ServerToClient, bytes: concat(...ps.map((p, i) => mysqlPacket((i + 1) & 0xff, p))), split });
  steps.push({ kind: 'data', dir: Dir.ServerToClient, bytes: mysqlPacket(0, greetingPayload()), split: [] });
  steps.push({ kind: 'data', dir: Dir.ClientToServer, bytes: mysqlPacket(1, handshakeResponse41({ capabilities: caps })), split: [] });
  steps.push({ kind: 'data', dir: Dir.ServerToClient, bytes: mysqlPacket(2, ok()), split: [] });
  const resultSet = (cols: number, rows: number, binary: boolean, more: boolean): Uint8Array[] => [
    columnCount(cols),
    ...Array.from({ length: cols }, (_, i) => columnDef(`c${i}`)),
    ...(deprecateEof ? [] : [eof()]),
    ...Array.from({ length: rows }, (_, i) => (binary ? binaryRowLong(i) : textRow(...Array.from({ length: cols }, () => `v${i}`)))),
    deprecateEof ? okEof(more ? 0x000a : 0x0002) : eof(more ? 0x000a : 0x0002),
  ];
  let prepared = 0;
  exchanges.forEach((x, i) => {
    const k = x.kind === 'ping' && x.whole ? [] : (cuts[i % cuts.length] ?? []);
    switch (x.kind) {
      case 'ok':
        c(k, comQuery('UPDATE t SET a = 1'));
        srv(k, ok({ affectedRows: x.affected }));
        expected.push({ cmd: 'query', status: 'ok', rows: null, affectedRows: x.affected });
        break;
      case 'err':
        c(k, comQuery('SELECT nope'));
        srv(k, err(x.code, 'no'));
        expected.push({ cmd: 'query', status: 'error', rows: null, affectedRows: null });
        break;
      case 'select':
        c(k, comQuery('SELECT * FROM t'));
        srv(k, ...resultSet(x.cols, x.rows, false, false));
        expected.push({ cmd: 'query', status: 'ok', rows: x.rows, affectedRows: null });
        break;
      case 'multi':
        c(k, comQuery('SELECT 1; SELECT 2'));
        srv(k, ...resultSet(1, x.rows[0], false, true), ...resultSet(2, x.rows[1], false, false));
        expected.push({ cmd: 'query', status: 'ok', rows: x.rows[0] + x.rows[1], affectedRows: null });
        break;
      case 'prepare': {
        c(k, com(COM.STMT_PREPARE, 'SELECT a FROM t WHERE b = ?'));
        const defs = (n: number): Uint8Array[] => (n === 0 ? [] : [...Array.from({ length: n }, () => columnDef('?')), ...(deprecateEof ? [] : [eof()])]);
        srv(k, prepareOk(++prepared, x.cols, x.params), ...defs(x.params), ...defs(x.cols));
        expected.push({ cmd: 'stmt_prepare', status: 'ok', rows: null, affectedRows: null });
        break;
      }
      case 'execute':
        c(k, stmtExecute({ stmtId: 99, params: [] }));
        if (x.rows === null) {
          srv(k, ok({ affectedRows: 1 }));
          expected.push({ cmd: 'stmt_execute', status: 'ok', rows: null, affectedRows: 1 });
        } else {
          srv(k, ...resultSet(1, x.rows, true, false));
          expected.push({ cmd: 'stmt_execute', status: 'ok', rows: x.rows, affectedRows: null });
        }
        break;
      case 'close':
        c(k, stmtCommand(COM.STMT_CLOSE, 99));
        expected.push({ cmd: 'stmt_close', status: 'none', rows: null, affectedRows: null });
        break;
      case 'ping':
        c(k, com(COM.PING));
        srv(k, ok());
        expected.push({ cmd: 'ping', status: 'ok', rows: null, affectedRows: 0 });
        break;
      case 'init_db':
        c(k, com(COM.INIT_DB, 'other'));
        srv(k, ok());
        expected.push({ cmd: 'init_db', status: 'ok', rows: null, affectedRows: 0 });
        break;
      case 'field_list':
        c(k, com(COM.FIELD_LIST, 't\0'));
        srv(k, ...Array.from({ length: x.cols }, (_, j) => columnDef(`c${j}`)), eof());
        expected.push({ cmd: 'field_list', status: 'ok', rows: null, affectedRows: null });
        break;
      case 'infile': {
        c(k, comQuery("LOAD DATA LOCAL INFILE 'f' INTO TABLE t"));
        srv([], localInfileRequest('f'));
        const data = Array.from({ length: x.packets }, (_, j) => ascii(`line ${j}\n`));
        steps.push({ kind: 'data', dir: Dir.ClientToServer, bytes: concat(...[...data, new Uint8Array(0)].map((p, j) => mysqlPacket((2 + j) & 0xff, p))), split: k });
        steps.push({ kind: 'data', dir: Dir.ServerToClient, bytes: mysqlPacket((3 + x.packets) & 0xff, ok({ affectedRows: x.packets })), split: [] });
        expected.push({ cmd: 'query', status: 'ok', rows: null, affectedRows: x.packets });
        break;
      }
    }
  });
  return { steps, expected };
}

describe('model-based conversations', () => {
  const convArb = fc.record({
    deprecateEof: fc.boolean(),
    exchanges: fc.array(exchangeArb, { minLength: 1, maxLength: 15 }),
    cuts: fc.array(fc.array(fc.nat({ max: 120 }), { maxLength: 4 }), { minLength: 1, maxLength: 4 }),
  });

  test('valid conversations, any segmentation: exactly the events of the model', () => {
    fc.assert(
      fc.property(convArb, ({ deprecateEof, exchanges, cuts }) => {
        const { steps, expected } = build(deprecateEof, exchanges, cuts);
        const { events, session } = drive(steps, true);
        assert.deepEqual(
          events.map((e) => ({ cmd: e.cmd, status: e.status, rows: e.rows, affectedRows: e.affectedRows })),
          expected,
        );
        assert.equal(session.counters.protocolViolations, 0);
        checkEvents(events, session);
      }),
      { numRuns: runs(400) },
    );
  });

  test('valid conversations mid-stream (handshake not captured): the same events after the first command', () => {
    fc.assert(
      fc.property(convArb, ({ deprecateEof, exchanges, cuts }) => {
        // After the capture starts, decoding resynchronises at a segment that starts with a whole
        // command, or with at least 16 bytes of a long one (as real segments do): no cut in the
        // first 21 bytes of a burst. A last ping gives the decoder a packet after the last prepare
        // (whether definitions end with EOF is learnt from the traffic).
        const { steps, expected } = build(deprecateEof, [...exchanges, { kind: 'ping', whole: true }], cuts.map((k) => k.filter((x) => x >= 21)));
        const { events, session } = drive([{ kind: 'gap', dir: Dir.ClientToServer, bytes: -1 }, { kind: 'gap', dir: Dir.ServerToClient, bytes: -1 }, ...steps.slice(3)], false);
        // Statements prepared before the capture are unknown, and whether result sets end with EOF
        // or OK is learnt from the traffic: compare command, status and rows.
        assert.deepEqual(
          events.map((e) => [e.cmd, e.status, e.rows]),
          expected.slice(1).map((e) => [e.cmd, e.status, e.rows]),
        );
        checkEvents(events, session);
      }),
      { numRuns: runs(400) },
    );
  });

  type Conv = { deprecateEof: boolean; exchanges: Exchange[]; cuts: number[][] };
  const oneBurstLost = (cv: Conv, which: number): void => {
    // Resynchronisation needs a segment that starts with a whole command: the last pings are not cut.
    const { steps, expected } = build(cv.deprecateEof, [...cv.exchanges, { kind: 'ping', whole: true }, { kind: 'ping', whole: true }], cv.cuts);
    const i = 3 + (which % (steps.length - 3 - 4)); // not the login, not the last two pings
    const lost = steps[i]! as Extract<Step, { kind: 'data' }>;
    const damaged: Step[] = [...steps.slice(0, i), { kind: 'gap', dir: lost.dir, bytes: lost.bytes.length }, ...steps.slice(i + 1)];
    const { events, session } = drive(damaged, true);
    checkEvents(events, session);
    assert.ok(events.length <= expected.length, 'no invented event');
    assert.deepEqual(
      events.slice(-2).map((e) => [e.cmd, e.status]),
      [
        ['ping', 'ok'],
        ['ping', 'ok'],
      ],
      'decoding recovers by the last two commands',
    );
  };

  test('valid conversations with one burst lost (a gap): never throws, never more events than commands, later commands recover', () => {
    fc.assert(
      fc.property(convArb, fc.nat(), oneBurstLost),
      { numRuns: runs(400) },
    );
  });

  // Found by the property above (about once in 15,000 cases): after the LOAD DATA query is lost,
  // the hunt took bytes inside the file's contents for a COM_QUERY announcing 1,802 bytes, which
  // swallowed every later command. The server's answer before that "query" was complete now
  // unmasks it (a server answers a request only once it has all of it).
  test('kept: a false command start inside LOCAL INFILE data after a gap is dropped when the server answers', () => {
    oneBurstLost({ deprecateEof: false, exchanges: [{ kind: 'infile', packets: 3 }, { kind: 'infile', packets: 0 }], cuts: [[31, 10]] }, 604318720);
    oneBurstLost(
      {
        deprecateEof: false,
        exchanges: [{ kind: 'init_db' }, { kind: 'err', code: 1000 }, { kind: 'init_db' }, { kind: 'multi', rows: [0, 0] }, { kind: 'infile', packets: 3 }, { kind: 'close' }],
        cuts: [[10, 31], [], [1], [1]],
      },
      2,
    );
  });
});

test('fuzz crash inputs found so far (kept as fixtures)', () => {
  const outline = (events: CommandEvent[]) => events.map((e) => [e.cmd, e.sql, e.status]);
  // Empty command packet (threw "Cannot read properties of undefined (reading 'toString')"): a
  // violation, no command, the login still reported.
  const empty = drive(withLogin([{ kind: 'data', dir: Dir.ClientToServer, bytes: mysqlPacket(0, new Uint8Array(0)), split: [] }]), true);
  checkEvents(empty.events, empty.session);
  assert.deepEqual(outline(empty.events), [['connect', null, 'ok']]);
  assert.deepEqual([empty.session.counters.commands, empty.session.counters.protocolViolations], [0, 1]);
  // Unknown command followed by a packet in the same segment (invented an empty packet, then
  // threw): the unknown byte is counted; the hunt for the next command starts with the next
  // segment, so the query's 13 bytes are counted as not decoded (never silently dropped).
  const unknown = drive(withLogin([{ kind: 'data', dir: Dir.ClientToServer, bytes: concat(mysqlPacket(0, com(0x77)), mysqlPacket(0, ascii('\x03SELECT 1'))), split: [] }]), true);
  checkEvents(unknown.events, unknown.session);
  assert.deepEqual(outline(unknown.events), [['connect', null, 'ok']]);
  const c = unknown.session.counters;
  assert.deepEqual([c.commands, c.unknownCommands, c.protocolViolations, c.resyncs, c.clientBytesUndecoded], [1, 1, 1, 0, 13]);
});

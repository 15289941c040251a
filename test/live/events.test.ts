/**
 * Real tcpdump, real MariaDB, real mysql2: capture the workload of workload.ts plus a connection
 * of our own whose results we keep (rows per SELECT, prepared statements with typed parameters,
 * multi-results, a stored procedure, change_user), then check `periscope events` against what
 * the clients did and what the server answered.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings, type MysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { runWorkload, type WorkloadResult, endAndWait } from './workload.js';
import { periscope } from '../cli/run.js';

const opts = await liveTestOptions();
let dir = '';
let file = '';
let workload: WorkloadResult;
let ours: Ours;

/** What our own connection did, and what mysql2 returned. */
interface Ours {
  /** SQL → rows mysql2 returned (summed over the result sets of one call). */
  rows: Map<string, number>;
  /** Statements executed with their parameters, as sent. */
  executes: { sql: string; params: (string | null)[] }[];
  connections: number;
}

const OWN = {
  select: 'SELECT id, email FROM customers ORDER BY id',
  selectNone: "SELECT id FROM customers WHERE email = 'nobody@example.com'",
  multi: 'SELECT 1 AS a; SELECT id FROM customers ORDER BY id LIMIT 2',
  call: 'CALL periscope_two_results()',
  byId: 'SELECT id, name FROM customers WHERE id > ? OR name = ?',
  types: 'SELECT ? AS i, ? AS neg, ? AS d, ? AS s, ? AS n',
  syntax: 'SELEC 1',
};

async function ownWork(s: MysqlSettings): Promise<Ours> {
  const o: Ours = { rows: new Map(), executes: [], connections: 0 };
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, multipleStatements: true });
  o.connections++;
  try {
    await ownQueries(c, s, o);
  } catch (e) {
    c.destroy(); // an open connection would keep the test process alive
    throw e;
  }
  await endAndWait(c);
  return o;
}

async function ownQueries(c: Connection, s: MysqlSettings, o: Ours): Promise<void> {
  const count = (r: unknown): number => (Array.isArray(r) ? (Array.isArray(r[0]) || (r[0] && typeof r[0] === 'object' && 'affectedRows' in (r[0] as object)) ? (r as unknown[]).reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 0), 0) : r.length) : 0);
  await c.query('DROP PROCEDURE IF EXISTS periscope_two_results');
  await c.query('CREATE PROCEDURE periscope_two_results() BEGIN SELECT id FROM customers; SELECT COUNT(*) FROM customers; END');
  for (const sql of [OWN.select, OWN.selectNone, OWN.multi, OWN.call]) {
    const [r] = await c.query(sql);
    o.rows.set(sql, count(r));
  }
  const [byId] = await c.execute<RowDataPacket[]>(OWN.byId, [1, null]);
  o.rows.set(OWN.byId, byId.length);
  o.executes.push({ sql: OWN.byId, params: ['1', null] });
  await c.execute(OWN.types, [2147483647, -5, 2.5, 'Zoë ✓', null]);
  o.executes.push({ sql: OWN.types, params: ['2147483647', '-5', '2.5', 'Zoë ✓', null] });
  await c.query(OWN.syntax).catch(() => undefined);
  await c.changeUser({ user: s.user, password: s.password, database: s.database });
  await c.query('DROP PROCEDURE periscope_two_results');
}

before(async () => {
  if (opts.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'periscope-live-events-'));
  file = join(dir, 'events.pcap');
  const s = mysqlSettings();
  await captureWhile({ file, filter: `tcp port ${s.port}` }, async () => {
    workload = await runWorkload(s, { connections: 2 });
    ours = await ownWork(s);
  });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Ev {
  cmd: string;
  sql: string | null;
  params?: (string | null)[] | null;
  status: string;
  user: string | null;
  rows: number | null;
  result_sets: number;
  error_code: number | null;
  affected_rows: number | null;
  latency_us: number | null;
  conn_id: number | null;
}

async function events(...args: string[]): Promise<Ev[]> {
  const r = await periscope('events', ...args, file);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /capture health|protocol violation/, 'nothing lost, nothing misread');
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Ev);
}

const WORKLOAD_PREPARED = ['SELECT id, name, balance FROM customers WHERE id = ? AND balance >= ?', 'UPDATE customers SET balance = balance + ? WHERE email = ?'];

test('one connect event per connection, every login OK', opts, async () => {
  const ev = await events('--no-redact');
  const logins = ev.filter((e) => e.cmd === 'connect');
  assert.equal(logins.length, workload.connections + ours.connections);
  for (const e of logins) {
    assert.equal(e.status, 'ok');
    assert.equal(e.user, mysqlSettings().user);
    assert.ok(e.conn_id !== null && e.latency_us !== null);
  }
  assert.equal(new Set(logins.map((e) => e.conn_id)).size, logins.length, 'each its own server connection id');
});

test('every query and execute of the workload, its two errors per connection with codes 1146 and 1062', opts, async () => {
  const ev = await events('--no-redact');
  const mine = new Set(Object.values(OWN));
  const theirs = ev.filter((e) => !mine.has(e.sql ?? '') && !/periscope_two_results/.test(e.sql ?? ''));
  const n = theirs.filter((e) => e.cmd === 'query' || e.cmd === 'stmt_execute').length;
  assert.equal(n, workload.queries, 'queries + executes = what the workload sent');
  const errors = theirs.filter((e) => e.status === 'error');
  assert.equal(errors.length, workload.errors);
  assert.deepEqual(errors.map((e) => e.error_code).sort(), Array.from({ length: workload.connections }, () => [1062, 1146]).flat().sort());
  assert.equal(ev.filter((e) => e.error_code === 1064).length, 1, 'our syntax error');
  for (const e of ev) if (e.cmd !== 'connect') assert.notEqual(e.status, 'incomplete', `${e.cmd} ${e.sql}`);
});

test('prepared statements: the SQL on every execute, parameters decoded under --no-redact', opts, async () => {
  const ev = await events('--no-redact');
  const executes = ev.filter((e) => e.cmd === 'stmt_execute');
  assert.ok(executes.length >= 3 * workload.connections + ours.executes.length);
  for (const e of executes) assert.ok(e.sql !== null && (WORKLOAD_PREPARED.includes(e.sql) || e.sql === OWN.byId || e.sql === OWN.types), `execute without its SQL: ${e.sql}`);
  const params = executes.filter((e) => WORKLOAD_PREPARED.includes(e.sql!)).map((e) => e.params);
  assert.deepEqual(
    params,
    Array.from({ length: workload.connections }, () => [
      ['1', '0'],
      ['2', '-100'],
      ['1.25', 'bob@example.com'],
    ]).flat(),
  );
  for (const x of ours.executes) {
    const e = executes.find((y) => y.sql === x.sql);
    assert.deepEqual(e?.params, x.params, x.sql);
  }
  const prepares = ev.filter((e) => e.cmd === 'stmt_prepare');
  assert.ok(prepares.every((e) => e.status === 'ok' && e.sql !== null));
});

test('redacted (the default): no parameters at all, literals masked', opts, async () => {
  const ev = await events();
  for (const e of ev) assert.ok(!('params' in e), `${e.cmd} has params`);
  const dup = ev.find((e) => e.error_code === 1062);
  assert.ok(dup && !dup.sql!.includes('ada@example.com'), 'the duplicate INSERT is masked');
  const raw = JSON.stringify(ev);
  for (const secret of ['bob@example.com', 'Zoë', 'Duplicate Ada']) assert.ok(!raw.includes(secret), `${secret} leaked`);
});

test('rows per SELECT match what mysql2 returned; multi-results and CALL in one event', opts, async () => {
  const ev = await events('--no-redact');
  for (const [sql, rows] of ours.rows) {
    const e = ev.find((x) => x.sql === sql && (x.cmd === 'query' || x.cmd === 'stmt_execute'));
    assert.ok(e, sql);
    assert.equal(e.rows, rows, sql);
    assert.equal(e.status, 'ok', sql);
  }
  assert.equal(ev.find((e) => e.sql === OWN.multi)?.result_sets, 2);
  // A CALL answers with its result sets and then the OK of the CALL itself.
  assert.equal(ev.find((e) => e.sql === OWN.call)?.result_sets, 3);
  // The workload's SELECTs: 3 customers, one COUNT row, one @@version row, on every connection.
  const all = ev.filter((e) => e.sql === 'SELECT id, email, name, balance FROM customers ORDER BY id');
  assert.deepEqual(all.map((e) => e.rows), Array.from({ length: workload.connections }, () => 3));
});

test('status none for stmt_close and quit; change_user and ping OK', opts, async () => {
  const ev = await events('--no-redact');
  const closes = ev.filter((e) => e.cmd === 'stmt_close');
  assert.ok(closes.length >= workload.connections);
  for (const e of [...closes, ...ev.filter((x) => x.cmd === 'quit')]) {
    assert.equal(e.status, 'none');
    assert.equal(e.latency_us, null);
  }
  assert.equal(ev.filter((e) => e.cmd === 'quit').length, workload.connections + ours.connections);
  assert.deepEqual(ev.filter((e) => e.cmd === 'change_user').map((e) => e.status), ['ok']);
  assert.ok(ev.filter((e) => e.cmd === 'ping').every((e) => e.status === 'ok'));
});

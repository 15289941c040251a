/**
 * Transactions, N+1 loops and retries from hand-made event sequences: every way a transaction
 * ends, idle time between its commands, and the loops and retries a connection's order shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator } from '../../analyze/aggregate/aggregate.js';
import { buildReport, type ReportContext } from '../../analyze/report/report.js';
import { txnVerb } from '../../analyze/aggregate/sessions.js';
import type { CommandEvent } from '../../src/mysql/session.js';

const T0 = 1_795_237_684;
const ctx: ReportContext = { version: 'test', files: [], filters: null, order: 'time', redacted: true, interrupted: false };
const AUTOCOMMIT = 0x2;
const IN_TRANS = 0x1;

/** A connection's commands one after another: each starts `gapUs` after the previous response ended. */
class Conn {
  private us = 0;
  readonly events: CommandEvent[] = [];
  constructor(readonly conn: number) {}
  cmd(sql: string | null, o: Partial<CommandEvent> & { gapUs?: number; inTrans?: boolean } = {}): this {
    const { gapUs = 100, inTrans = false, ...rest } = o;
    this.us += gapUs;
    const latency = rest.latencyUs ?? 50;
    this.events.push({
      conn: this.conn, sec: T0 + Math.floor(this.us / 1e6), nsec: (this.us % 1e6) * 1000, client: `10.0.0.${this.conn}:5000`, server: '10.0.0.1:3306', connId: this.conn, user: 'app', db: 'shop',
      cmd: 'query', sql, sqlTruncated: false, params: null, paramTypes: null, status: 'ok', latencyUs: latency, responseUs: latency, rows: null, affectedRows: 0, insertId: null, warnings: 0,
      errorCode: null, sqlState: null, error: null, noIndexUsed: false, noGoodIndexUsed: false, serverStatus: AUTOCOMMIT | (inTrans ? IN_TRANS : 0), bytesIn: 10, bytesOut: 10, resultSets: 1, tls: false, tlsVersion: null, tlsCipher: null, tlsDecrypted: null, noBackslashEscapes: false, ended: null, durationUs: null, compressed: false,
      ...rest,
    });
    this.us += latency;
    return this;
  }
}

const report = (...conns: Conn[]) => {
  const agg = new Aggregator();
  for (const c of conns) for (const e of c.events) agg.add(e);
  return buildReport(agg.toState(), ctx);
};

test('transactions: every end, their duration, commands and idle time', () => {
  const a = new Conn(1).cmd('BEGIN', { inTrans: true }).cmd('UPDATE t SET a = 1 WHERE id = 2', { inTrans: true, gapUs: 1000 }).cmd('COMMIT', { gapUs: 3000 });
  const b = new Conn(2).cmd('START TRANSACTION', { inTrans: true }).cmd('DELETE FROM t WHERE id = 3', { inTrans: true }).cmd('ROLLBACK');
  const c = new Conn(3).cmd('SET autocommit = 0').cmd('SELECT * FROM t WHERE id = 1', { inTrans: true }).cmd('CREATE TABLE u (a INT)');
  const d = new Conn(4).cmd('BEGIN', { inTrans: true }).cmd('UPDATE t SET a = 1 WHERE id = 4', { status: 'error', errorCode: 1213, serverStatus: null }).cmd('SELECT 1');
  const e = new Conn(5).cmd('BEGIN', { inTrans: true }).cmd(null, { cmd: 'quit', status: 'none', serverStatus: null, latencyUs: null, responseUs: null });
  const f = new Conn(6).cmd('BEGIN', { inTrans: true }).cmd('INSERT INTO t VALUES (1)', { inTrans: true, gapUs: 7000 });
  const g = new Conn(7).cmd('UPDATE t SET a = 2 WHERE id = 5').cmd('SELECT 1'); // autocommit: no transaction
  const r = report(a, b, c, d, e, f, g);
  const tx = r.transactions;
  assert.equal(tx.count, 6);
  assert.deepEqual(tx.ends, { commit: 1, rollback: 2, implicit: 1, disconnect: 1, unfinished: 1 });
  // Connection 1: BEGIN at 100 µs, its response ends at 150; UPDATE 1,150–1,200; COMMIT 4,200–4,250.
  const first = tx.slowest.find((t) => t.client === '10.0.0.1:5000')!;
  assert.deepEqual({ d: first.duration_us, idle: first.idle_us, max: first.max_idle_us, n: first.statements, end: first.end }, { d: 4150, idle: 4000, max: 3000, n: 3, end: 'commit' });
  assert.equal(first.digests.length, 3);
  const open = tx.slowest.find((t) => t.client === '10.0.0.6:5000')!;
  assert.deepEqual({ end: open.end, idle: open.idle_us, n: open.statements }, { end: 'unfinished', idle: 7000, n: 2 });
  assert.equal(tx.statements.sum, 3 + 3 + 2 + 2 + 1 + 2);
  assert.deepEqual(tx.slowest.map((t) => t.duration_us), [...tx.slowest.map((t) => t.duration_us)].sort((x, y) => y - x));
});

test('transactions: a snapshot counts what is open without closing it', () => {
  const agg = new Aggregator();
  const c = new Conn(1).cmd('BEGIN', { inTrans: true }).cmd('UPDATE t SET a = 1', { inTrans: true });
  for (const e of c.events) agg.add(e);
  assert.deepEqual(buildReport(agg.toState(), ctx).transactions.ends, { unfinished: 1 });
  const more = new Conn(1);
  more.cmd('COMMIT', { sec: T0 + 5 });
  agg.add(more.events[0]!);
  assert.deepEqual(buildReport(agg.toState(), ctx).transactions.ends, { commit: 1 });
});

test('txnVerb: COMMIT and ROLLBACK, not ROLLBACK TO SAVEPOINT', () => {
  assert.equal(txnVerb('commit'), 'commit');
  assert.equal(txnVerb(' /* x */ ROLLBACK WORK'), 'rollback');
  assert.equal(txnVerb('ROLLBACK TO SAVEPOINT a'), null);
  assert.equal(txnVerb('rollback work to a'), null);
  assert.equal(txnVerb('SELECT 1'), null);
});

test('N+1: a statement, then another repeated once per row, back to back', () => {
  const c = new Conn(1).cmd('SELECT id FROM orders WHERE customer = 7', { rows: 4 });
  for (let i = 0; i < 4; i++) c.cmd(`SELECT * FROM items WHERE order_id = ${i}`, { rows: 1, latencyUs: 30 });
  c.cmd('SELECT id FROM orders WHERE customer = 8', { rows: 3 });
  for (let i = 0; i < 2; i++) c.cmd(`SELECT * FROM items WHERE order_id = ${i}`, { rows: 1, latencyUs: 30 });
  // Not a loop: more children than rows would stop at the row count; one child is no loop.
  c.cmd('SELECT id FROM orders WHERE customer = 9', { rows: 5 }).cmd('SELECT * FROM items WHERE order_id = 1', { rows: 1 }).cmd('SELECT 1');
  const w = report(c).workload;
  assert.equal(w.n_plus_one.length, 1);
  const p = w.n_plus_one[0]!;
  assert.deepEqual({ loops: p.loops, calls: p.calls, time: p.time_us, max: p.max_loop, perRow: p.per_row, conns: p.connections }, { loops: 2, calls: 6, time: 180, max: 4, perRow: 1, conns: 1 });
});

test('retries: a deadlock followed by the same statement, a lock wait timeout that is not retried', () => {
  const c = new Conn(1)
    .cmd('UPDATE a SET x = 1 WHERE id = 1', { status: 'error', errorCode: 1213, serverStatus: null })
    .cmd('UPDATE a SET x = 1 WHERE id = 1')
    .cmd('UPDATE b SET y = 2 WHERE id = 1', { status: 'error', errorCode: 1205, serverStatus: null })
    .cmd('SELECT 1');
  const w = report(c).workload;
  const byCode = (code: string) => w.retries.find((r) => code in r.retried || code in r.not_retried)!;
  assert.deepEqual([byCode('1213').retried, byCode('1213').not_retried], [{ 1213: 1 }, {}]);
  assert.deepEqual([byCode('1205').retried, byCode('1205').not_retried], [{}, { 1205: 1 }]);
  assert.equal(w.retries.length, 2);
});

/**
 * The tables and connections views, and `(none)` against `(unknown)` databases, from hand-made
 * event sequences whose figures are known: per table calls, time, rows read and written, reads
 * against writes and top fingerprints; logins, lifetimes, idle time and prepared statements by
 * user and client; and both views the same after a merge of any split by connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator, type AggregateState } from '../../analyze/aggregate/aggregate.js';
import { buildReport, type ReportContext } from '../../analyze/report/report.js';
import { renderText } from '../../analyze/report/text.js';
import { connectionsText } from '../../analyze/report/views.js';
import { renderHtml } from '../../analyze/report/html.js';
import { tablesOfReport } from '../../analyze/schema/collect.js';
import type { CommandEvent } from '../../src/mysql/session.js';

const T0 = 1_795_237_684;
const ctx: ReportContext = { version: 'test', files: [], filters: null, order: 'time', redacted: true, interrupted: false };

/** A connection's commands one after another: each starts `gapUs` after the previous response ended. */
class Conn {
  private us = 0;
  readonly events: CommandEvent[] = [];
  constructor(
    readonly conn: number,
    private readonly who: { user: string | null; db: string | null; host?: string },
  ) {}
  cmd(sql: string | null, o: Partial<CommandEvent> & { gapUs?: number } = {}): this {
    const { gapUs = 100, ...rest } = o;
    this.us += gapUs;
    const latency = rest.responseUs !== undefined ? rest.responseUs : 50;
    this.events.push({
      conn: this.conn, sec: T0 + Math.floor(this.us / 1e6), nsec: (this.us % 1e6) * 1000, client: `${this.who.host ?? '10.0.0.9'}:${5000 + this.conn}`, server: '10.0.0.1:3306', connId: this.conn, user: this.who.user, db: this.who.db,
      cmd: 'query', sql, sqlTruncated: false, params: null, paramTypes: null, status: 'ok', latencyUs: latency, responseUs: latency, rows: null, affectedRows: null, insertId: null, warnings: 0,
      errorCode: null, sqlState: null, error: null, noIndexUsed: false, noGoodIndexUsed: false, serverStatus: 0x2, bytesIn: 10, bytesOut: 10, resultSets: 1, tls: false, tlsVersion: null, tlsCipher: null, tlsDecrypted: null, noBackslashEscapes: false, ended: null, durationUs: null, compressed: false,
      ...rest,
    });
    this.us += latency ?? 0;
    return this;
  }
  login(o: Partial<CommandEvent> = {}): this {
    return this.cmd(null, { cmd: 'connect', gapUs: 0, responseUs: 100, ...o });
  }
  quit(gapUs = 100): this {
    return this.cmd(null, { cmd: 'quit', status: 'none', latencyUs: null, responseUs: null, gapUs });
  }
}

/** The text report with its wrapped lines joined (continuations start with `#` and spaces). */
const unwrap = (text: string): string => text.replace(/\n# {5,}/g, ' ');

const stateOf = (...conns: Conn[]): AggregateState => {
  const agg = new Aggregator();
  for (const c of conns) for (const e of c.events) agg.add(e);
  return agg.toState();
};
const report = (...conns: Conn[]) => buildReport(stateOf(...conns), ctx);

/** The same connections analysed in two parts (by connection) and merged through JSON, as summaries are. */
function merged(parts: Conn[][]) {
  const agg = new Aggregator();
  for (const p of parts) agg.merge(JSON.parse(JSON.stringify(stateOf(...p))) as AggregateState);
  return buildReport(agg.toState(), ctx);
}

function tableConns(): Conn[] {
  const app = { user: 'app', db: 'shop' };
  return [
    new Conn(1, app)
      .cmd('SELECT o.id FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = 1', { responseUs: 1000, rows: 3 })
      .cmd('SELECT o.id FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = 2', { responseUs: 3000, rows: 5 })
      .cmd('INSERT INTO orders (id) VALUES (7)', { responseUs: 400, affectedRows: 1 }),
    new Conn(2, app)
      .cmd('UPDATE items SET n = 2 WHERE order_id = 7', { responseUs: 600, affectedRows: 4 })
      .cmd('SELECT 1', { responseUs: 20, rows: 1 })
      .cmd('CREATE TABLE archive.orders_old (id INT)', { responseUs: 9000, affectedRows: 0 }),
  ];
}

test('tables: calls, time, rows read and written, reads against writes, top fingerprints; a join counts for each table', () => {
  const r = report(...tableConns());
  const t = (name: string) => r.tables.tables.find((x) => x.table === name)!;
  assert.deepEqual(r.tables.tables.map((x) => x.table), ['archive.orders_old', 'items', 'orders'], 'ranked by time (items 4.6 ms, orders 4.4 ms)');
  const orders = t('orders');
  assert.equal(orders.calls, 3);
  assert.equal(orders.latency_us.total, 4400);
  assert.deepEqual(orders.reads, { calls: 2, time_us: 4000 });
  assert.deepEqual(orders.writes, { calls: 1, time_us: 400 });
  assert.equal(orders.rows_read, 8);
  assert.equal(orders.rows_written, 1);
  assert.deepEqual(orders.databases, { shop: 3 });
  assert.equal(orders.fingerprints, 2);
  assert.deepEqual(orders.top.map((f) => [f.kind, f.calls, f.time_us]), [['select', 2, 4000], ['insert', 1, 400]]);
  const items = t('items');
  assert.equal(items.calls, 3, 'the join counts for items too');
  assert.deepEqual(items.reads, { calls: 2, time_us: 4000 });
  assert.deepEqual(items.writes, { calls: 1, time_us: 600 });
  assert.equal(items.rows_read, 8);
  assert.equal(items.rows_written, 4);
  assert.equal(items.latency_us.max, 3000);
  const ddl = t('archive.orders_old');
  assert.deepEqual(ddl.other, { calls: 1, time_us: 9000 });
  assert.deepEqual(ddl.databases, {}, 'a qualified name needs no database');
  assert.deepEqual(r.tables.no_table, { calls: 1, time_us: 20, fingerprints: 1 });
  const text = unwrap(renderText(r, { limit: 10, color: false }));
  assert.match(text, /# Tables \(by time; 3 tables; a statement touching several tables counts for each\)/);
  assert.match(text, /orders: 3 calls \(2 read, 1 write\), avg 1\.47ms, .*rows read 8, written 1/);
  assert.match(text, /1 call of 1 statement naming no table \(20us\)/);
  const html = renderHtml(r);
  assert.match(html, /<section id="tables">.*<code>items<\/code>/s);
  // The HTML table has the text's and JSON's columns, Max latency included.
  const section = /<section id="tables">.*?<\/section>/s.exec(html)![0];
  const heads = [...section.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(heads.slice(0, 8), ['Table', 'Time', 'Time %', 'Calls', 'Avg', 'p95', 'Max', 'Reads']);
  const itemsRow = /<tr><td class="l"><code>items<\/code><\/td>(.*?)<\/tr>/s.exec(section)![1]!;
  const cells = [...itemsRow.matchAll(/<td data-v="([^"]*)">([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(cells[heads.indexOf('Max') - 1], ['3000', '3.00ms']);
});

function connectionConns(): Conn[] {
  const a = new Conn(1, { user: 'app', db: 'shop', host: '10.0.0.5' })
    .login()
    .cmd('SELECT ?', { cmd: 'stmt_prepare', gapUs: 1000 })
    .cmd('SELECT ?', { cmd: 'stmt_execute', gapUs: 200 })
    .cmd('SELECT ?', { cmd: 'stmt_execute', gapUs: 5000 })
    .cmd('SELECT ?', { cmd: 'stmt_execute' })
    .cmd('SELECT ?', { cmd: 'stmt_close', status: 'none', responseUs: null, latencyUs: null })
    .cmd('UPDATE t SET a = ?', { cmd: 'stmt_prepare' })
    .cmd('UPDATE t SET a = ?', { cmd: 'stmt_execute' })
    .quit(300);
  const b = new Conn(2, { user: 'bob', db: null, host: '10.0.0.6' }).login({ status: 'error', errorCode: 1045 });
  const c = new Conn(3, { user: 'bob', db: null, host: '10.0.0.6' }).login({ status: 'aborted', responseUs: null, latencyUs: null });
  // Opened before the capture: executes of statements whose PREPARE was not seen.
  const d = new Conn(4, { user: null, db: null, host: '10.0.0.7' }).cmd(null, { cmd: 'stmt_execute' }).cmd(null, { cmd: 'stmt_execute' });
  // Still open at the end, one statement prepared.
  const e = new Conn(5, { user: 'app', db: 'shop', host: '10.0.0.5' }).login().cmd('SELECT 2', { cmd: 'stmt_prepare' }).cmd('SELECT 2', { cmd: 'stmt_execute' });
  return [a, b, c, d, e];
}

test('connections: logins per second, lifetime and idle time, prepared statements, by user and client host', () => {
  const r = report(...connectionConns());
  const c = r.connections;
  assert.deepEqual([c.logins, c.login_errors, c.logins_aborted], [4, 1, 1]);
  assert.equal(c.peak.connects_per_s !== null && c.peak.connects_per_s >= (c.connects_per_s ?? 0), true, 'the peak is never below the average');
  // The peak says its unit and basis: these logins fall in one second the capture ran only part of.
  assert.equal(c.peak.basis, 'capture');
  assert.equal(c.peak.logins, 4);
  assert.ok(c.peak.covered_s !== null && c.peak.covered_s < 1);
  assert.ok(Math.abs(c.peak.connects_per_s! - 4 / c.peak.covered_s) < 0.1, 'logins over the covered part');
  const line = connectionsText(r).find(([k]) => k === 'Logins')![1];
  assert.match(line, /; peak [0-9,.]+\/s: 4 logins in the [0-9.]+ms of the capture inside the second from \S+Z\)/);
  assert.equal(c.whole, 1);
  // Over a capture that ran the whole second (files from T0 - 1 s to T0 + 2 s): the bucket's own rate.
  const files = [{ path: 'a.pcap', size: 1, format: 'pcap', packets: 1, first: new Date((T0 - 1) * 1000).toISOString().replace('.000Z', '.000000Z'), last: new Date((T0 + 2) * 1000).toISOString().replace('.000Z', '.000000Z'), damaged: false }];
  const whole = buildReport(stateOf(...connectionConns()), { ...ctx, files }).connections.peak;
  assert.deepEqual([whole.basis, whole.logins, whole.covered_s, whole.connects_per_s], ['bucket', 4, 1, 4]);
  // Connection 1: login at 0 (answered at 100), then gaps 1000, 200, 5000, 100, 100, 100, 100, and the quit 300 after the last response.
  assert.equal(c.idle_us.max, 1000 + 200 + 5000 + 100 + 100 + 100 + 100 + 300);
  assert.equal(c.max_idle_us.max, 5000);
  assert.equal(c.lifetime_us.max, 100 + 1000 + 50 + 200 + 50 + 5000 + 50 + 100 + 50 + 100 + 100 + 50 + 100 + 50 + 300);
  assert.deepEqual(c.prepared, { prepares: 3, executes: 5, executes_per_prepare: 1.667, executes_prepared_before: 2, closes: 1, never_closed: 1, open_at_end: 1 });
  const user = (u: string) => c.by_user.find((x) => x.user === u)!;
  assert.deepEqual(c.by_user.map((x) => x.user), ['app', 'bob', '(unknown)']);
  assert.deepEqual(user('app').prepared, { prepares: 3, executes: 5, executes_per_prepare: 1.667, executes_prepared_before: 0, closes: 1, never_closed: 1, open_at_end: 1 });
  assert.deepEqual([user('bob').logins, user('bob').login_errors, user('bob').logins_aborted, user('bob').whole], [2, 1, 1, 0]);
  assert.equal(user('(unknown)').prepared.executes_prepared_before, 2);
  assert.deepEqual(c.by_client.map((x) => [x.client, x.logins]), [['10.0.0.5', 2], ['10.0.0.6', 2], ['10.0.0.7', 0]]);
  const text = unwrap(renderText(r, { limit: 10, color: false }));
  assert.match(text, /# Connections\n#   Logins        4 \(/);
  assert.match(text, /3 prepares, 5 executes of them \(1\.667 per prepare\); 2 executes of statements prepared before the capture; 1 closed, 1 never closed/);
  assert.match(text, /By user       app: 2 logins; lifetime avg/);
  assert.match(renderHtml(r), /<section id="connections">.*<td class="l">\(unknown\)<\/td>/s);
});

test('tables and connections: a merge of any split by connection is the view of all', () => {
  for (const all of [tableConns(), connectionConns()]) {
    const whole = report(...all);
    for (let cut = 1; cut < all.length; cut++) {
      const m = merged([all.slice(0, cut), all.slice(cut)]);
      assert.deepEqual(m.tables, whole.tables);
      assert.deepEqual(m.connections, whole.connections);
    }
  }
});

test('databases: (none) when none was selected, (unknown) when the login was not captured', () => {
  const none = new Conn(1, { user: 'app', db: null }).login().cmd('SELECT * FROM lonely');
  const unknown = new Conn(2, { user: null, db: null }).cmd('SELECT * FROM sbtest1', { responseUs: 900 });
  const used = new Conn(3, { user: null, db: 'shop' }).cmd('SELECT * FROM orders');
  const r = report(none, unknown, used);
  assert.deepEqual(r.overall.databases, { '(none)': 1, '(unknown)': 1, shop: 1 });
  assert.deepEqual(r.overall.users, { '(unknown)': 2, app: 1 });
  const fp = (t: string) => r.fingerprints.find((f) => f.tables.includes(t))!;
  assert.deepEqual(fp('sbtest1').databases, { '(unknown)': 1 });
  assert.deepEqual(fp('lonely').databases, { '(none)': 1 });
  // Neither is a database to ask the server for: both are looked up by name.
  assert.deepEqual(tablesOfReport(r).unresolved, ['lonely', 'sbtest1']);
  assert.deepEqual(tablesOfReport(r).refs, [{ db: 'shop', table: 'orders' }]);
  const text = renderText(r, { limit: 10, color: false });
  assert.match(text, /Databases +\(none\) \(1\), \(unknown\) \(1\), shop \(1\)/);
  assert.match(text, /900us .* \?@10\.0\.0\.9:5002 db \(unknown\)/);
  assert.match(text, /Example +slowest: 50us at \S+, db \(none\), query/);
  assert.match(renderHtml(r), /<td class="l">\(unknown\)<\/td>/);
});

test('connections: change_user and reset_connection close a session\'s statements; past 16,382 open texts a connection still counts them', () => {
  const reset = new Conn(1, { user: 'app', db: 'shop' }).login().cmd('SELECT 1', { cmd: 'stmt_prepare' }).cmd(null, { cmd: 'reset_connection' }).cmd('SELECT 2', { cmd: 'stmt_prepare' }).cmd(null, { cmd: 'change_user' }).quit();
  assert.deepEqual(report(reset).connections.prepared, { prepares: 2, executes: 0, executes_per_prepare: 0, executes_prepared_before: 0, closes: 0, never_closed: 0, open_at_end: 0 });
  const leak = new Conn(2, { user: 'app', db: 'shop' }).login();
  const N = 16_382 + 8;
  for (let i = 0; i < N; i++) leak.cmd(`SELECT ${i}`, { cmd: 'stmt_prepare', gapUs: 1 });
  // Closes of 3 followed texts and of 5 past the bound (matched to the uncounted ones).
  for (const i of [0, 1, 2, N - 1, N - 2, N - 3, N - 4, N - 5]) leak.cmd(`SELECT ${i}`, { cmd: 'stmt_close', status: 'none', responseUs: null, latencyUs: null, gapUs: 1 });
  leak.quit();
  const p = report(leak).connections.prepared;
  assert.deepEqual([p.prepares, p.closes, p.never_closed, p.open_at_end], [N, 8, N - 8, 0]);
});

test('connections: a summary saved before the view is merged, and the report says its connections are left out', () => {
  const old = stateOf(...connectionConns());
  delete old.sessions!.connections;
  const agg = new Aggregator();
  agg.merge(JSON.parse(JSON.stringify(old)) as AggregateState);
  agg.merge(JSON.parse(JSON.stringify(stateOf(...tableConns()))) as AggregateState);
  const r = buildReport(agg.toState(), ctx);
  assert.equal(r.health.counters.summariesWithoutConnections, 1);
  assert.ok(r.health.notes.includes('1 summary saved before the connections view: the connections section leaves out their logins, lifetimes and prepared statements'), r.health.notes.join('\n'));
  assert.equal(r.connections.logins, 0);
});

test('connections: a TLS session whose login was not decrypted is not a login, as in the overall figures', () => {
  const seen = new Conn(1, { user: 'app', db: 'shop' }).login({ tls: true, tlsDecrypted: true }).cmd('SELECT 1').quit();
  const hidden = new Conn(2, { user: null, db: null }).login({ tls: true, tlsDecrypted: false, status: 'incomplete', latencyUs: null, responseUs: null });
  const r = report(seen, hidden);
  assert.equal(r.overall.logins, 1);
  assert.equal(r.overall.tls_logins_unseen, 1);
  assert.equal(r.connections.logins, r.overall.logins);
  assert.deepEqual(r.connections.by_user.map((g) => g.user), ['app']);
});

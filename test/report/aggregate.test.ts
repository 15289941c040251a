/**
 * The report's arithmetic: histogram percentiles within 1% of the exact ones, timelines and
 * aggregates that merge exactly (a merge of parts equals the aggregate of the whole, whatever the
 * split and the order), and the figures of a hand-made event list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LogHistogram } from '../../analyze/aggregate/histogram.js';
import { FINGERPRINT_BUCKETS, MAX_BUCKETS, Timeline } from '../../analyze/aggregate/timeline.js';
import { Aggregator, adminFingerprint, UNKNOWN_STATEMENT } from '../../analyze/aggregate/aggregate.js';
import { assessHealth, buildReport, FINGERPRINT_TIMELINES, profiled, type ReportContext } from '../../analyze/report/report.js';
import { renderText } from '../../analyze/report/text.js';
import type { CommandEvent } from '../../src/mysql/session.js';

/** The exact nearest-rank quantile. */
function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length - 1e-9)) - 1]!;
}

test('histogram: every quantile within 1% of the exact one, min/max/sum exact', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 3_600_000_000 })), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.001, max: 1, noNaN: true }), (values, q) => {
      const h = new LogHistogram();
      for (const v of values) h.add(v);
      const got = h.quantile(q)!;
      const want = exact(values, q);
      assert.ok(Math.abs(got - want) <= 0.01 * want + 1e-9, `q=${q}: ${got} vs exact ${want}`);
      assert.equal(h.min, Math.min(...values));
      assert.equal(h.max, Math.max(...values));
      assert.equal(h.sum, values.reduce((a, b) => a + b, 0));
    }),
  );
});

test('histogram: one value is reported exactly; empty has no quantile', () => {
  const h = new LogHistogram();
  assert.equal(h.quantile(0.5), null);
  h.add(1234);
  assert.equal(h.quantile(0.5), 1234);
  assert.equal(h.quantile(0.99), 1234);
});

test('histogram: merge of parts equals the histogram of all values (state for state)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 200 }), fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 200 }), (a, b) => {
      const all = new LogHistogram();
      const ha = new LogHistogram();
      const hb = new LogHistogram();
      for (const v of a) (all.add(v), ha.add(v));
      for (const v of b) (all.add(v), hb.add(v));
      ha.merge(LogHistogram.fromState(hb.toState()));
      assert.deepEqual(trim(ha.toState()), trim(all.toState()));
    }),
  );
});

/** Leading/trailing zero buckets do not change a histogram. */
function trim(s: ReturnType<LogHistogram['toState']>) {
  let lo = s.lo;
  const c = [...s.counts];
  while (c.length && c[0] === 0) (c.shift(), lo++);
  while (c.length && c[c.length - 1] === 0) c.pop();
  return { ...s, lo: c.length ? lo : 0, counts: c };
}

test('timeline: buckets coarsen past the limit, and a merge of parts equals the whole', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1_700_000_000, max: 1_700_000_000 + 20_000 }), fc.integer({ min: 0, max: 5000 }), fc.boolean()), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 300 }), (events, cut) => {
      const whole = new Timeline();
      const a = new Timeline();
      const b = new Timeline();
      events.forEach(([sec, us, err], i) => {
        whole.add(sec, us, err);
        (i < cut ? a : b).add(sec, us, err);
      });
      assert.ok(whole.count.length <= MAX_BUCKETS);
      const span = Math.max(...events.map((e) => e[0])) - Math.min(...events.map((e) => e[0]));
      // The width is the smallest power of two at which the span fits.
      assert.ok(whole.width === 1 || span / (whole.width / 2) >= MAX_BUCKETS - 1, `width ${whole.width} for span ${span}`);
      const merged = new Timeline();
      merged.merge(b);
      merged.merge(a);
      assert.deepEqual(merged.toState(), whole.toState());
      assert.equal(whole.count.reduce((x, y) => x + y, 0), events.length);
    }),
  );
});

let t0 = 1_795_237_684;
function ev(o: Partial<CommandEvent>): CommandEvent {
  return {
    conn: 1,
    sec: t0,
    nsec: 0,
    client: '10.0.0.5:50000',
    server: '10.0.0.1:3306',
    connId: 7,
    user: 'app',
    db: 'shop',
    cmd: 'query',
    sql: 'SELECT 1',
    sqlTruncated: false,
    params: null,
    paramTypes: null,
    status: 'ok',
    latencyUs: 100,
    responseUs: 120,
    rows: 1,
    affectedRows: null,
    insertId: null,
    warnings: 0,
    errorCode: null,
    sqlState: null,
    error: null,
    noIndexUsed: false,
    noGoodIndexUsed: false,
    serverStatus: 2,
    bytesIn: 10,
    bytesOut: 20,
    resultSets: 1,
    tls: false,
    tlsVersion: null,
    tlsCipher: null,
    tlsDecrypted: null,
    compressed: false,
    noBackslashEscapes: false,
    ended: null,
    durationUs: null,
    ...o,
    // The first byte comes at most 100 µs into the response unless a test says when.
    ...(o.latencyUs === undefined && o.responseUs !== undefined ? { latencyUs: o.responseUs === null ? null : Math.min(100, o.responseUs) } : {}),
  };
}

const ctx: ReportContext = { version: 'test', files: [], filters: null, order: 'time', redacted: true, interrupted: false };

test('timeline: commands without a latency (Quit, cut by the capture) count, but not in the average', () => {
  const agg = new Aggregator();
  agg.add(ev({ responseUs: 100 }));
  agg.add(ev({ responseUs: 300, nsec: 5 }));
  agg.add(ev({ cmd: 'quit', sql: null, responseUs: null, rows: null, status: 'none', nsec: 9 }));
  agg.add(ev({ sql: 'SELECT SLEEP(10)', status: 'incomplete', responseUs: null, rows: null, nsec: 10 }));
  const [p] = buildReport(agg.toState(), ctx).timeline.points;
  assert.deepEqual({ commands: p!.commands, timed: p!.timed, time: p!.time_us, avg: p!.avg_us, max: p!.max_us }, { commands: 4, timed: 2, time: 400, avg: 200, max: 300 });
  // A summary of before this field (no `timed`) reads as every command timed.
  const old = Timeline.fromState({ ...agg.toState().timeline, timed: undefined });
  assert.deepEqual(old.timed, old.count);
});

test('aggregate: figures of a hand-made list of events', () => {
  const agg = new Aggregator();
  const sqls = ["SELECT * FROM orders WHERE id = 1", "SELECT * FROM orders WHERE id = 22", "select * from orders where id=333"];
  sqls.forEach((sql, i) => agg.add(ev({ sql, nsec: i * 1000, responseUs: (i + 1) * 1000, rows: i })));
  agg.add(ev({ cmd: 'stmt_prepare', sql: 'SELECT * FROM orders WHERE id = ?', responseUs: 50, rows: null }));
  agg.add(ev({ cmd: 'stmt_execute', sql: 'SELECT * FROM orders WHERE id = ?', responseUs: 4000, rows: 5 }));
  agg.add(ev({ cmd: 'stmt_close', sql: null, responseUs: null, status: 'none', rows: null }));
  agg.add(ev({ sql: "INSERT INTO t VALUES ('x')", status: 'error', errorCode: 1062, sqlState: '23000', error: "Duplicate entry 'x' for key 'PRIMARY'", rows: null, responseUs: 10 }));
  agg.add(ev({ cmd: 'ping', sql: null, responseUs: 5, rows: null }));
  agg.add(ev({ cmd: 'connect', sql: null, responseUs: 300, rows: null, status: 'error', errorCode: 1045, error: "Access denied for user 'app'@'10.0.0.5'" }));
  agg.add(ev({ sql: 'SELECT SLEEP(10)', status: 'incomplete', responseUs: null, rows: null }));
  const r = buildReport(agg.toState(), ctx);
  const byFp = new Map(r.fingerprints.map((f) => [f.fingerprint, f]));
  const orders = byFp.get('select * from orders where id = ?')!;
  assert.ok(orders, [...byFp.keys()].join(' | '));
  assert.equal(orders.count, 4, 'three queries and one execute; the prepare is housekeeping');
  assert.deepEqual(orders.commands, { query: 3, stmt_execute: 1, stmt_prepare: 1 });
  assert.equal(orders.latency_us.total, 1000 + 2000 + 3000 + 4000);
  assert.equal(orders.latency_us.max, 4000);
  assert.equal(orders.latency_us.min, 1000);
  assert.equal(orders.housekeeping_us, 50);
  assert.equal(orders.prepared, true);
  assert.equal(orders.kind, 'select');
  assert.deepEqual(orders.tables, ['orders']);
  assert.deepEqual(orders.rows_sent, { sum: 0 + 1 + 2 + 5, avg: 2, max: 5 });
  assert.equal(orders.example!.cmd, 'stmt_execute', 'the slowest is the example');
  assert.equal(orders.rank, 1);
  const insert = byFp.get('insert into t values(?)')!;
  assert.equal(insert.errors, 1);
  assert.deepEqual(insert.errors_by_code, { '1062': 1 });
  assert.equal(insert.example!.sql, 'INSERT INTO t VALUES (?)', 'examples are redacted');
  assert.equal(r.errors.find((e) => e.code === 1062)!.message, 'Duplicate entry ? for key ?');
  assert.ok(!JSON.stringify(r).includes("'x'"), 'no literal anywhere in the report');
  assert.ok(!JSON.stringify(r).includes('10.0.0.5\''), 'login error message redacted');
  assert.equal(byFp.get(adminFingerprint('ping'))!.kind, 'admin');
  assert.equal(byFp.get(adminFingerprint('connect'))!.kind, 'connect');
  assert.equal(byFp.get(UNKNOWN_STATEMENT)!.count, 0, 'a close of an unknown statement is housekeeping');
  const sleep = byFp.get('select sleep(?)')!;
  assert.equal(sleep.incomplete, 1);
  assert.equal(sleep.latency_us.p50, null);
  assert.equal(r.overall.logins, 1);
  assert.equal(r.overall.login_errors, 1);
  assert.equal(r.overall.commands, 9);
  assert.equal(r.overall.queries, 6);
  assert.equal(r.overall.errors, 1);
  assert.equal(r.overall.incomplete, 1);
  assert.equal(r.slowest[0]!.latency_us, 4000);
  assert.equal(r.slowest[0]!.first_byte_us, 100);
  // The latency is the full response time, split into the time to the first byte and the transfer.
  assert.deepEqual(orders.first_byte_us, { total: 400, avg: 100, max: 100 });
  assert.deepEqual(orders.transfer_us, { total: 10_000 - 400, avg: 2400, max: 3900 });
  assert.equal(r.overall.first_byte_us.total + r.overall.transfer_us.total, r.overall.latency_us.total);
  assert.equal(r.histogram.reduce((a, b) => a + b.count, 0), 6, 'queries and ping with a latency');
});

test('aggregate: the latency of a report is the full response time, not the time to the first byte', () => {
  const agg = new Aggregator();
  agg.add(ev({ sql: 'SELECT * FROM big', latencyUs: 400, responseUs: 18_000, rows: 10_000 }));
  agg.add(ev({ sql: 'SELECT * FROM small WHERE id = 1', latencyUs: 900, responseUs: 1000, rows: 1, nsec: 1 }));
  const r = buildReport(agg.toState(), ctx);
  assert.equal(r.fingerprints[0]!.fingerprint, 'select * from big', 'ranked by full time');
  assert.deepEqual([r.fingerprints[0]!.latency_us.total, r.fingerprints[0]!.first_byte_us.total, r.fingerprints[0]!.transfer_us.total], [18_000, 400, 17_600]);
  assert.equal(r.overall.latency_us.max, 18_000);
  assert.equal(r.overall.query_time_us, 19_000);
  assert.equal(r.slowest[0]!.latency_us, 18_000);
  assert.equal(r.timeline.points[0]!.max_us, 18_000);
});

test('health: a capture with no packets, or no MySQL, is not good and says what to check', () => {
  const none = assessHealth({ files: 1, packets: 0 }, 0);
  assert.equal(none.status, 'bad');
  assert.match(none.notes.join('\n'), /no packets: nothing was captured or read\. Check the interface/);
  const other = assessHealth({ files: 1, packets: 120, tcpConnections: 3, mysqlConnections: 0 }, 0);
  assert.equal(other.status, 'bad');
  assert.match(other.notes.join('\n'), /no MySQL traffic in 120 packets: is the server on another port \(analyze --port 3307/);
  assert.equal(assessHealth({ files: 1, packets: 120, mysqlConnections: 1 }, 5).status, 'good');
  const text = renderText(buildReport(new Aggregator().toState(), ctx), { limit: 20, color: false });
  assert.match(text, /# Capture health: BAD: no MySQL command found\n#   - no packets/);
  assert.doesNotMatch(text, /health good/);
});

test('profiles: fingerprints without a call, or whose calls have no latency (Quit), are ranked last in JSON and left out of text', () => {
  const agg = new Aggregator();
  agg.add(ev({ cmd: 'quit', sql: null, responseUs: null, status: 'none', rows: null }));
  agg.add(ev({ cmd: 'quit', sql: null, responseUs: null, status: 'none', rows: null, conn: 2 }));
  agg.add(ev({ cmd: 'stmt_close', sql: null, responseUs: null, status: 'none', rows: null }));
  agg.add(ev({ sql: 'SELECT 1', responseUs: 50 }));
  agg.add(ev({ sql: 'SELECT SLEEP(9)', status: 'incomplete', responseUs: null, rows: null }));
  const r = buildReport(agg.toState(), { ...ctx, order: 'count' });
  assert.deepEqual(r.fingerprints.map((f) => [f.fingerprint, profiled(f)]), [
    ['select ?', true],
    ['select sleep(?)', true],
    ['administrator command: Quit', false],
    [UNKNOWN_STATEMENT, false],
  ]);
  const text = renderText(r, { limit: 20, color: false });
  assert.match(text, /Profile \(by calls; 2 of 4 fingerprints ranked;/);
  assert.doesNotMatch(text, /#\s+\d+ \w{16} .*administrator command: Quit/);
  assert.doesNotMatch(text, /Query \d+: .*admin/);
  assert.match(text.replace(/\n#    /g, ' '), /#  not ranked, no latency to rank: administrator command: Quit \(2 calls\); 1 with only housekeeping \(prepare, close\) and no call \(--format json has them\)/);
});

test('rates: over the capture, over the traffic (first to last command) and at the peak second, each labelled', () => {
  const agg = new Aggregator();
  agg.add(ev({ sec: t0, nsec: 0 }));
  agg.add(ev({ sec: t0, nsec: 500_000_000 }));
  agg.add(ev({ sec: t0 + 4, nsec: 0 }));
  const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('Z', '000Z');
  const file = { path: 'a.pcap', size: 1, format: 'pcap', packets: 10, first: iso(t0 - 5), last: iso(t0 + 5), damaged: false };
  const r = buildReport(agg.toState(), { ...ctx, files: [file] });
  assert.deepEqual(r.overall.rates.capture, { duration_s: 10, commands_per_s: 0.3, queries_per_s: 0.3 });
  assert.deepEqual(r.overall.rates.traffic, { first: iso(t0), last: iso(t0 + 4), duration_s: 4, commands_per_s: 0.75, queries_per_s: 0.75 });
  assert.deepEqual(r.overall.rates.peak, { t: iso(t0).replace('.000000Z', 'Z'), bucket_s: 1, commands_per_s: 2, basis: 'bucket' });
  assert.equal(r.overall.commands_per_s, r.overall.rates.capture.commands_per_s);
  const text = renderText(r, { limit: 20, color: false }).replace(/\n#\s{17}/g, ' ');
  assert.match(text, /#   Rates {9}0\.30 cmd\/s over the capture \(10\.00s\); 0\.75 cmd\/s over the traffic \(4\.00s, first to last command\); peak 2\.00 cmd\/s in the second from /);
});

test('rates: the peak is never below the average, on traffic shorter than a second or busiest in its partial seconds', () => {
  const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('Z', '000Z');
  // Three commands in 0.1 s across a second's boundary: 30/s on average; no whole second inside.
  const short = new Aggregator();
  for (const [sec, nsec] of [[t0, 900_000_000], [t0, 950_000_000], [t0 + 1, 0]] as const) short.add(ev({ sec, nsec }));
  const a = buildReport(short.toState(), ctx);
  assert.equal(a.overall.rates.traffic.commands_per_s, 30);
  assert.deepEqual(a.overall.rates.peak, { t: a.overall.rates.traffic.first, bucket_s: 1, commands_per_s: 30, basis: 'traffic' });
  assert.match(renderText(a, { limit: 20, color: false }).replace(/\n#\s{17}/g, ' '), /peak 30\.0 cmd\/s \(the traffic's average: no whole second inside it was busier\)/);
  // 2.5 s: busy partial first and last half-seconds (10 commands each), a quiet whole second between.
  const edges = new Aggregator();
  for (let i = 0; i < 10; i++) edges.add(ev({ sec: t0, nsec: 500_000_000 + i * 10_000_000 }));
  edges.add(ev({ sec: t0 + 1, nsec: 500_000_000 }));
  for (let i = 0; i < 10; i++) edges.add(ev({ sec: t0 + 2, nsec: i * 10_000_000 }));
  const b = buildReport(edges.toState(), { ...ctx, files: [{ path: 'a.pcap', size: 1, format: 'pcap', packets: 10, first: iso(t0), last: iso(t0 + 3), damaged: false }] });
  assert.ok(b.overall.rates.peak.commands_per_s! >= b.overall.rates.traffic.commands_per_s!, JSON.stringify(b.overall.rates));
  assert.ok(b.overall.rates.peak.commands_per_s! >= b.overall.rates.capture.commands_per_s!);
  assert.equal(b.overall.rates.peak.basis, 'traffic');
});

test('aggregate: raw aggregates keep the literals (--no-redact)', () => {
  const agg = new Aggregator({ raw: true });
  agg.add(ev({ sql: "SELECT * FROM t WHERE a = 'secret'" }));
  assert.equal(agg.toState().groups[0]!.sample!.sql, "SELECT * FROM t WHERE a = 'secret'");
});

test('aggregate: aborted logins are counted (report, text), and summaries made before read as 0', () => {
  const agg = new Aggregator();
  agg.add(ev({ cmd: 'connect', sql: null, status: 'ok' }));
  agg.add(ev({ cmd: 'connect', sql: null, status: 'aborted', ended: 'client_closed', durationUs: 2000, latencyUs: null, user: null }));
  agg.add(ev({ cmd: 'connect', sql: null, status: 'aborted', ended: 'server_closed', durationUs: 10_000_000, latencyUs: null }));
  agg.add(ev({ cmd: 'connect', sql: null, status: 'error', errorCode: 1045 }));
  const st = agg.toState();
  assert.equal(st.overall.loginsAborted, 2);
  const ctx: ReportContext = { files: [], filters: {}, order: 'time', limit: 10, redacted: true } as unknown as ReportContext;
  const r = buildReport(st, ctx);
  assert.equal(r.overall.logins, 4);
  assert.equal(r.overall.logins_aborted, 2);
  assert.equal(r.overall.login_errors, 1);
  const old = JSON.parse(JSON.stringify(st)) as typeof st;
  delete old.overall.loginsAborted;
  const merged = new Aggregator();
  merged.merge(old);
  merged.merge(st);
  assert.equal(merged.toState().overall.loginsAborted, 2);
});

/** Random events over a few shapes, users, clients and outcomes. */
const arbEvent = fc
  .record({
    shape: fc.integer({ min: 0, max: 5 }),
    lit: fc.integer({ min: 0, max: 1e6 }),
    sec: fc.integer({ min: 0, max: 7200 }),
    nsec: fc.integer({ min: 0, max: 999_999_999 }),
    lat: fc.option(fc.integer({ min: 0, max: 5_000_000 }), { freq: 8 }),
    user: fc.constantFrom('app', 'report', 'admin', null),
    client: fc.constantFrom('10.0.0.5:1000', '10.0.0.6:2000', '[::1]:3000'),
    status: fc.constantFrom('ok', 'ok', 'ok', 'error', 'incomplete', 'none', 'aborted'),
    rows: fc.option(fc.integer({ min: 0, max: 1000 })),
    conn: fc.integer({ min: 1, max: 5 }),
    inTrans: fc.boolean(),
  })
  .map((r): CommandEvent => {
    const cmds = ['query', 'query', 'stmt_execute', 'ping', 'connect', 'stmt_prepare'];
    const cmd = cmds[r.shape]!;
    const sql = cmd === 'ping' || cmd === 'connect' ? null : r.shape % 2 ? `SELECT * FROM t${r.shape} WHERE id = ${r.lit}` : `UPDATE t SET a = ${r.lit}`;
    const error = r.status === 'error';
    return ev({ cmd, sql, sec: t0 + r.sec, nsec: r.nsec, responseUs: r.status === 'incomplete' ? null : r.lat, latencyUs: r.status === 'incomplete' || r.lat === null ? null : Math.floor(r.lat / (1 + (r.lit % 4))), user: r.user, client: r.client, status: r.status as CommandEvent['status'], rows: r.rows, errorCode: error ? 1000 + (r.lit % 3) : null, error: error ? `failed near '${r.lit}'` : null, conn: r.conn, serverStatus: error ? null : r.inTrans ? 3 : 2 });
  });

// Any split that keeps each connection whole (what --threads does; transactions and N+1 loops
// follow a connection's order, so a connection cut in two is two partial ones).
test('aggregate: merging the aggregates of any split by connection equals the aggregate of all (property)', () => {
  fc.assert(
    fc.property(fc.array(arbEvent, { maxLength: 120 }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }), (events, parts) => {
      const whole = new Aggregator();
      for (const e of events) whole.add(e);
      const split = [new Aggregator(), new Aggregator(), new Aggregator()];
      events.forEach((e) => split[parts[e.conn]!]!.add(e));
      const merged = new Aggregator();
      for (const p of [split[2]!, split[0]!, split[1]!]) merged.merge(p.toState());
      const a = buildReport(merged.toState(), ctx);
      const b = buildReport(whole.toState(), ctx);
      // The same text, not only the same content: key order too (the JSON report is compared byte for byte).
      assert.equal(JSON.stringify(a), JSON.stringify(b));
    }),
    { numRuns: 150 },
  );
});

// A fingerprint's own timeline (the HTML page's chart on a click): per bucket its calls, errors and
// latency p50 / p95 / max, computed here from crafted events against the exact figures.
test('fingerprint timeline: calls, errors, p50 / p95 / max per bucket of crafted events', () => {
  const agg = new Aggregator();
  const second0 = Array.from({ length: 100 }, (_, i) => (i + 1) * 100); // 100 µs … 10 ms
  second0.forEach((us, i) => agg.add(ev({ sql: `SELECT * FROM a WHERE id = ${i}`, responseUs: us, nsec: i * 1000 })));
  // Nothing at t0+1 for this one (another fingerprint there); three calls at t0+2, one failing.
  agg.add(ev({ sql: 'SELECT * FROM b', sec: t0 + 1, responseUs: 50 }));
  [7000, 8000, 9000].forEach((us, i) => agg.add(ev({ sql: `SELECT * FROM a WHERE id = ${i}`, sec: t0 + 2, responseUs: us, status: i === 1 ? 'error' : 'ok', errorCode: i === 1 ? 1205 : null, rows: i === 1 ? null : 1 })));
  // A call cut by the capture counts as a call, without a latency.
  agg.add(ev({ sql: 'SELECT * FROM a WHERE id = 5', sec: t0 + 2, status: 'incomplete', responseUs: null, rows: null }));
  const r = buildReport(agg.toState(), ctx);
  const a = r.fingerprints.find((f) => f.fingerprint === 'select * from a where id = ?')!;
  assert.equal(a.timeline!.bucket_s, 1);
  const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
  assert.deepEqual(
    a.timeline!.points.map((p) => [p.t, p.calls, p.errors, p.max_us]),
    [
      [iso(t0), 100, 0, 10_000],
      [iso(t0 + 2), 4, 1, 9000],
    ],
    'a bucket without a call is left out; max is exact',
  );
  const near = (got: number | null, want: number) => assert.ok(got !== null && Math.abs(got - want) <= 0.01 * want, `${got} vs ${want}`);
  const [p0, p2] = a.timeline!.points;
  near(p0!.p50_us, exact(second0, 0.5));
  near(p0!.p95_us, exact(second0, 0.95));
  near(p2!.p50_us, exact([7000, 8000, 9000], 0.5));
  near(p2!.p95_us, 9000);
  const b = r.fingerprints.find((f) => f.fingerprint === 'select * from b')!;
  assert.deepEqual(b.timeline!.points, [{ t: iso(t0 + 1), calls: 1, errors: 0, p50_us: 50, p95_us: 50, max_us: 50 }]);
});

test(`fingerprint timeline: at most ${FINGERPRINT_BUCKETS} buckets (they widen), only the first ${FINGERPRINT_TIMELINES} ranks, merges exactly`, () => {
  const whole = new Aggregator();
  const parts = [new Aggregator(), new Aggregator()];
  // 200 s of one statement: 1 s buckets would be 200, so they are 4 s wide (50 buckets).
  for (let s = 0; s < 200; s++) {
    const e = ev({ sql: 'SELECT * FROM long_one', sec: t0 + s, responseUs: 1000 + s, conn: s % 2 });
    whole.add(e);
    parts[s % 2]!.add(e);
  }
  // More fingerprints than get a timeline, each slower than the last.
  for (let i = 0; i < FINGERPRINT_TIMELINES + 10; i++) {
    const e = ev({ sql: `SELECT * FROM t${i}`, sec: t0 + 3, responseUs: 10 + i });
    whole.add(e);
    parts[i % 2]!.add(e);
  }
  const merged = new Aggregator();
  for (const p of parts) merged.merge(JSON.parse(JSON.stringify(p.toState())));
  const r = buildReport(whole.toState(), ctx);
  assert.deepEqual(buildReport(merged.toState(), ctx).fingerprints, r.fingerprints, 'the merge of parts (through JSON, as summaries) equals the whole');
  const long = r.fingerprints.find((f) => f.fingerprint === 'select * from long_one')!;
  assert.equal(long.timeline!.bucket_s, 4);
  assert.equal(long.timeline!.points.length, 50);
  assert.ok(long.timeline!.points.length <= FINGERPRINT_BUCKETS);
  assert.deepEqual(long.timeline!.points.map((p) => p.calls), new Array(50).fill(4));
  assert.deepEqual(long.timeline!.points.slice(0, 2).map((p) => p.max_us), [1003, 1007]);
  const ranked = r.fingerprints.filter(profiled);
  assert.ok(ranked.length > FINGERPRINT_TIMELINES);
  ranked.forEach((f) => assert.equal(f.timeline !== null, f.rank <= FINGERPRINT_TIMELINES, `rank ${f.rank}`));
});

test('fingerprint timeline: memory stays within the budget; the fingerprints with the least time lose theirs', () => {
  const budget = 20_000;
  const agg = new Aggregator({ timelineCells: budget });
  // 40 fingerprints, the i-th with i times the latency of the first, each over 60 s with spread latencies.
  for (let s = 0; s < 60; s++) for (let i = 1; i <= 40; i++) for (let k = 0; k < 5; k++) agg.add(ev({ sql: `SELECT * FROM t${i}`, sec: t0 + s, nsec: k, responseUs: i * (100 + 97 * k + s) }));
  assert.ok(agg.fingerprintTimelineCells <= budget, `${agg.fingerprintTimelineCells} cells held`);
  const st = agg.toState();
  const held = st.groups.map((g) => g.timeline?.hist?.reduce((n, h) => n + 6 + h.counts.length, 5 * g.timeline.count.length) ?? 0);
  assert.equal(held.reduce((a, b) => a + b, 0), agg.fingerprintTimelineCells, 'the count held is the truth');
  const r = buildReport(st, ctx);
  const kept = r.fingerprints.filter((f) => f.timeline !== null).map((f) => f.rank);
  assert.ok(kept.length > 0 && kept.length < 40, `${kept.length} kept`);
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => i + 1), 'the slowest keep theirs');
  // A merge with a part that lost a fingerprint's timeline does not pretend to have all of it.
  const whole = new Aggregator();
  whole.merge(st);
  whole.merge(new Aggregator().toState());
  const again = buildReport(whole.toState(), ctx);
  assert.deepEqual(again.fingerprints.map((f) => f.timeline !== null), r.fingerprints.map((f) => f.timeline !== null));
});

test('logins: TLS sessions whose login was never seen are counted apart, not as logins', () => {
  const agg = new Aggregator();
  agg.add(ev({ cmd: 'connect', sql: null, conn: 1 }));
  agg.add(ev({ cmd: 'connect', sql: null, conn: 2, tls: true, tlsDecrypted: true }));
  agg.add(ev({ cmd: 'connect', sql: null, conn: 3, tls: true, tlsDecrypted: false, status: 'incomplete', latencyUs: null, responseUs: null }));
  agg.add(ev({ cmd: 'connect', sql: null, conn: 4, tls: true, tlsDecrypted: false, status: 'incomplete', latencyUs: null, responseUs: null }));
  const merged = new Aggregator();
  merged.merge(agg.toState());
  for (const r of [buildReport(agg.toState(), ctx), buildReport(merged.toState(), ctx)]) {
    assert.equal(r.overall.logins, 2);
    assert.equal(r.overall.tls_logins_unseen, 2);
    assert.match(renderText(r, { limit: 20, color: false }), /Connections +\d+; logins 2; 2 TLS sessions, login not seen \(no secret, or not decrypted\)/);
  }
});

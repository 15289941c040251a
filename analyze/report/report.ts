/**
 * The finished report: an aggregate's state turned into the figures a DBA reads, ranked. This is
 * the JSON of `--format json` (docs/report-json.md: stable names); the text, HTML and summary forms
 * are renderings of it. Pure: no clock, no I/O, so the same captures always give the same report.
 */
import { lexerFacts, StatementFactsCache } from '../../src/sql/facts.js';
import { isoTime } from '../../common/time.js';
import { LogHistogram } from '../aggregate/histogram.js';
import { OTHER_FINGERPRINTS, UNKNOWN_PREPARED, UNKNOWN_STATEMENT, unknownStatementTables, type AggregateState, type Health, type Sample, type Stat, type Tally } from '../aggregate/aggregate.js';
import { FINGERPRINT_BUCKETS, Timeline, type TimelineState } from '../aggregate/timeline.js';
import { newGroup, OTHERS, PER_CONNECTION_MAX, UNKNOWN, type ConnectionsState, type ConnGroupState, type SessionsState, type TxnSample } from '../aggregate/sessions.js';
import { tablesView, type TablesJson } from './tables.js';
import { findOpportunities, type Finding } from '../advise/rules.js';
import { parseTime } from '../run/filters.js';
import { count } from '../format.js';
import type { BundleInput } from '../bundle/source.js';

/** 2: latencies are full response times (1: time to the response's first packet). */
export const REPORT_VERSION = 2;

export const ORDERS = ['time', 'count', 'avg', 'p95', 'p99', 'max', 'errors', 'rows'] as const;
export type Order = (typeof ORDERS)[number];

/** One input file, as a report and a summary record it. */
export interface InputFile {
  path: string;
  size: number;
  format: string | null;
  packets: number;
  first: string | null;
  last: string | null;
  /** Read with errors (see the health section and stderr). */
  damaged: boolean;
}

/** A capture made by `periscope capture`, from its manifest. */
export interface CaptureInfo {
  dir: string;
  host: string;
  interface: string;
  filter: string;
  started: string;
  ended: string | null;
  ended_because: string;
  packets_dropped_by_kernel: number | null;
  files_deleted: number;
}

export interface ReportContext {
  version: string;
  files: InputFile[];
  /** Captures whose manifest was found in an input directory. */
  captures?: CaptureInfo[];
  /** Bundles the events were read from (periscope bundle), when any. */
  bundles?: BundleInput[];
  /** The filters applied, as given (null when none). */
  filters: Record<string, string | number | string[] | number[]> | null;
  order: Order;
  redacted: boolean;
  /** Reading was stopped early (Ctrl-C): the report covers part of the captures. */
  interrupted: boolean;
}

export interface LatencyFigures {
  total: number;
  min: number | null;
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** A part of the latency (time to first byte, transfer) over the timed calls: sum, mean, max. */
export interface PartFigures {
  total: number;
  avg: number | null;
  max: number | null;
}

export interface SampleJson {
  ts: string;
  cmd: string;
  sql: string | null;
  sql_truncated: boolean;
  digest: string | null;
  user: string | null;
  db: string | null;
  client: string;
  server: string;
  conn_id: number | null;
  latency_us: number | null;
  first_byte_us: number | null;
  rows: number | null;
  affected_rows: number | null;
  error_code: number | null;
}

/** Labels of `latency_by_decade`: `10us` counts 10 µs ≤ latency < 100 µs. */
export const DECADES = ['<1us', '1us', '10us', '100us', '1ms', '10ms', '100ms', '1s', '10s+'] as const;

/** Latency counts per decade (DECADES) of a histogram's buckets, each placed by its middle. */
export function byDecade(h: LogHistogram): number[] {
  const counts = new Array<number>(DECADES.length).fill(0);
  for (const [le, count] of h.buckets()) {
    const mid = le / 1.01;
    counts[le === 0 || mid < 1 ? 0 : Math.min(DECADES.length - 1, 1 + Math.floor(Math.log10(mid)))]! += count;
  }
  return counts;
}

export interface FingerprintJson {
  rank: number;
  digest: string;
  fingerprint: string;
  kind: string;
  tables: string[];
  count: number;
  share_of_count: number;
  share_of_time: number;
  qps: number | null;
  latency_us: LatencyFigures;
  /** The latency split: time to the response's first packet, and the rest (the result's transfer). */
  first_byte_us: PartFigures;
  transfer_us: PartFigures;
  /** Calls per latency decade (DECADES: <1us, 1us, 10us, …, 10s+). */
  latency_by_decade: number[];
  incomplete: number;
  errors: number;
  errors_by_code: Record<string, number>;
  rows_sent: { sum: number; avg: number | null; max: number };
  rows_affected: { sum: number; avg: number | null; max: number };
  warnings: { sum: number; commands: number };
  no_index_used: number;
  no_good_index_used: number;
  bytes_in: number;
  bytes_out: number;
  commands: Record<string, number>;
  prepared: boolean;
  housekeeping_us: number;
  users: Record<string, number>;
  databases: Record<string, number>;
  clients: Record<string, number>;
  servers: Record<string, number>;
  /** Distinct values beyond those listed (users, databases, clients, servers): commands counted. */
  others: { users: number; databases: number; clients: number; servers: number };
  first_seen: string | null;
  last_seen: string | null;
  example: SampleJson | null;
  /**
   * The fingerprint's own calls and latency over time, for the first FINGERPRINT_TIMELINES ranked
   * fingerprints; null for the others, and when it was not kept (memory budget, older summary).
   */
  timeline: FingerprintTimelineJson | null;
}

/** Ranked fingerprints that get their own timeline in a report (the HTML page's chart on a click). */
export const FINGERPRINT_TIMELINES = 50;

/** A fingerprint's timeline: its buckets with at least one call (`bucket_s` wide, at most FINGERPRINT_BUCKETS). */
export interface FingerprintTimelineJson {
  bucket_s: number;
  points: { t: string; calls: number; errors: number; p50_us: number | null; p95_us: number | null; max_us: number | null }[];
}

/** A fingerprint timeline's state as the report shows it: the buckets with calls, their percentiles. */
function fingerprintTimeline(s: TimelineState): FingerprintTimelineJson {
  const tl = Timeline.fromState(s, { maxBuckets: FINGERPRINT_BUCKETS, histograms: true });
  const points: FingerprintTimelineJson['points'] = [];
  tl.count.forEach((calls, i) => {
    if (calls === 0) return;
    const h = tl.hist[i]!;
    const q = (x: number) => {
      const v = h.quantile(x);
      return v === null ? null : Math.round(v);
    };
    points.push({ t: bucketTime(tl.start + i * tl.width), calls, errors: tl.errors[i]!, p50_us: q(0.5), p95_us: q(0.95), max_us: h.count ? h.max : null });
  });
  return { bucket_s: tl.width, points };
}

/** A bucket's start as the timelines write it: whole seconds. */
const bucketTime = (sec: number): string => isoTime({ sec, nsec: 0 }).replace('.000000Z', 'Z');

export interface HealthJson {
  status: 'good' | 'degraded' | 'bad';
  notes: string[];
  counters: Health;
}

export interface Report {
  periscope: { version: string; report_version: number };
  inputs: { files: InputFile[]; captures: CaptureInfo[]; bundles?: BundleInput[]; filters: ReportContext['filters']; order: Order; redacted: boolean; interrupted: boolean };
  health: HealthJson;
  overall: {
    first: string | null;
    last: string | null;
    duration_s: number | null;
    commands: number;
    queries: number;
    commands_per_s: number | null;
    queries_per_s: number | null;
    /**
     * The rate, three ways: over the capture's run time (the figures above), over the traffic's
     * span (first command to last) and at the busiest timeline bucket.
     */
    rates: {
      capture: { duration_s: number | null; commands_per_s: number | null; queries_per_s: number | null };
      traffic: { first: string | null; last: string | null; duration_s: number | null; commands_per_s: number | null; queries_per_s: number | null };
      /**
       * The busiest whole timeline bucket inside the traffic's span (`basis: 'bucket'`); when no
       * whole bucket lies inside it (traffic shorter than a second) or the partial first and last
       * seconds were busier than every whole one, the traffic's average (`basis: 'traffic'`, or
       * the capture's: `'capture'`), so that the peak is never below an average.
       */
      peak: { t: string | null; bucket_s: number; commands_per_s: number | null; basis: 'bucket' | 'traffic' | 'capture' | null };
    };
    query_time_us: number;
    /** Query time / duration: how many commands were running on average. */
    concurrency: number | null;
    latency_us: LatencyFigures;
    first_byte_us: PartFigures;
    transfer_us: PartFigures;
    connections: number;
    logins: number;
    login_errors: number;
    /** Logins cut short by the connection's end (connect events with status `aborted`). */
    logins_aborted: number;
    /** TLS sessions whose login was never seen (no secret, or not decrypted): not in `logins`. */
    tls_logins_unseen: number;
    errors: number;
    error_rate: number | null;
    incomplete: number;
    warnings: number;
    bytes_in: number;
    bytes_out: number;
    fingerprints: number;
    users: Record<string, number>;
    databases: Record<string, number>;
    clients: Record<string, number>;
    servers: Record<string, number>;
  };
  fingerprints: FingerprintJson[];
  errors: { code: number; sql_state: string | null; message: string; count: number; fingerprints: Record<string, number> }[];
  slowest: SampleJson[];
  histogram: { le_us: number; count: number }[];
  /** Commands per latency decade (DECADES). */
  histogram_by_decade: number[];
  timeline: { bucket_s: number; points: { t: string; commands: number; errors: number; timed: number; time_us: number; avg_us: number | null; max_us: number }[] };
  transactions: TransactionsJson;
  /** Patterns of the order of commands on each connection (what `advise` reads). */
  workload: WorkloadJson;
  /** Per table: calls, time, rows read and written, reads against writes, top fingerprints (tables.ts). */
  tables: TablesJson;
  /** Logins, connection lifetimes and idle time, prepared statements: overall, by user, by client host. */
  connections: ConnectionsJson;
  /** Optimization opportunities without the schema (`periscope advise` adds the schema's): docs/advise.md. */
  findings: Finding[];
}

/** Connection figures of one user or client host. */
export interface ConnGroupJson {
  logins: number;
  login_errors: number;
  logins_aborted: number;
  /** Connections seen from login to quit. */
  whole: number;
  lifetime_us: { avg: number | null; max: number | null };
  idle_us: { total: number; max: number | null };
  prepared: PreparedJson;
}

export interface PreparedJson {
  prepares: number;
  /** Executes of statements prepared in the capture, and per prepare (the reuse). */
  executes: number;
  executes_per_prepare: number | null;
  /** Executes of statements prepared before the capture (not in the reuse). */
  executes_prepared_before: number;
  closes: number;
  /** Prepared and never closed: the connection quit with them open. */
  never_closed: number;
  /** Prepared, not closed by the capture's end, on connections still open (or whose end was not seen). */
  open_at_end: number;
}

export interface ConnectionsJson {
  logins: number;
  login_errors: number;
  logins_aborted: number;
  /** Logins per second over the capture's run time (overall.duration_s), and the busiest timeline bucket. */
  connects_per_s: number | null;
  /**
   * The busiest bucket: `logins` in it, per second of `covered_s`, the part of it the capture ran
   * (`basis`: `bucket` when it ran the whole bucket, `capture` when only part: a capture shorter
   * than a second is not diluted by the rest of that second).
   */
  peak: { t: string | null; bucket_s: number; connects_per_s: number | null; logins: number; covered_s: number | null; basis: 'bucket' | 'capture' | null };
  /** Connections seen from login to quit: their lifetime, idle time (summed per connection) and longest idle wait. */
  whole: number;
  lifetime_us: LatencyFigures;
  idle_us: LatencyFigures;
  max_idle_us: LatencyFigures;
  prepared: PreparedJson;
  by_user: (ConnGroupJson & { user: string })[];
  by_client: (ConnGroupJson & { client: string })[];
}

export interface TransactionJson {
  start: string;
  client: string;
  server: string;
  conn_id: number | null;
  user: string | null;
  db: string | null;
  duration_us: number;
  idle_us: number;
  max_idle_us: number;
  statements: number;
  end: string;
  digests: string[];
}

export interface TransactionsJson {
  count: number;
  /** commit, rollback, implicit, disconnect, unfinished → count. */
  ends: Record<string, number>;
  duration_us: LatencyFigures;
  /** Per transaction: the time between its commands (the client's time, locks held). */
  idle_us: LatencyFigures;
  /** Per transaction: its longest wait between two commands. */
  max_idle_us: LatencyFigures;
  statements: { sum: number; avg: number | null; max: number };
  slowest: TransactionJson[];
}

export interface WorkloadJson {
  n_plus_one: { parent: string; child: string; loops: number; calls: number; time_us: number; max_loop: number; per_row: number; first: string; connections: number }[];
  retries: { digest: string; retried: Record<string, number>; not_retried: Record<string, number> }[];
  /** Patterns past the bound, not kept. */
  dropped: number;
  /** Connections seen from login to quit, by commands run: index k holds those with k commands (the last: 20 or more). */
  commands_per_connection: number[];
}

const EMPTY_SESSIONS: SessionsState = {
  transactions: { count: 0, ends: {}, duration: new LogHistogram().toState(), idle: new LogHistogram().toState(), maxIdle: new LogHistogram().toState(), statements: { sum: 0, max: 0 }, slowest: [] },
  nPlusOne: [],
  retries: [],
  dropped: 0,
};

function txnJson(t: TxnSample): TransactionJson {
  return { start: ts(t.start), client: t.client, server: t.server, conn_id: t.connId, user: t.user, db: t.db, duration_us: t.durationUs, idle_us: t.idleUs, max_idle_us: t.maxIdleUs, statements: t.statements, end: t.end, digests: t.digests };
}

function sessionsJson(st: SessionsState): { transactions: TransactionsJson; workload: WorkloadJson } {
  const t = st.transactions;
  return {
    transactions: {
      count: t.count,
      ends: t.ends,
      duration_us: latencyFigures(LogHistogram.fromState(t.duration)),
      idle_us: latencyFigures(LogHistogram.fromState(t.idle)),
      max_idle_us: latencyFigures(LogHistogram.fromState(t.maxIdle)),
      statements: { sum: t.statements.sum, avg: round(ratio(t.statements.sum, t.count), 3), max: t.statements.max },
      slowest: t.slowest.map(txnJson),
    },
    workload: {
      n_plus_one: st.nPlusOne.map((p) => ({ parent: p.parent, child: p.child, loops: p.loops, calls: p.calls, time_us: p.timeUs, max_loop: p.maxLoop, per_row: p.perRow, first: ts(p.first), connections: p.connections })),
      retries: st.retries.map((r) => ({ digest: r.digest, retried: r.retried, not_retried: r.notRetried })),
      dropped: st.dropped,
      commands_per_connection: st.commandsPerConnection ?? new Array<number>(PER_CONNECTION_MAX + 1).fill(0),
    },
  };
}

const facts = new StatementFactsCache();

function latencyFigures(h: LogHistogram): LatencyFigures {
  const r = (v: number | null) => (v === null ? null : Math.round(v));
  return { total: h.sum, min: h.count ? h.min : null, avg: r(h.mean), p50: r(h.quantile(0.5)), p95: r(h.quantile(0.95)), p99: r(h.quantile(0.99)), max: h.count ? h.max : null };
}

function partFigures(s: Stat | undefined): PartFigures {
  if (s === undefined || s.n === 0) return { total: s?.sum ?? 0, avg: null, max: null };
  return { total: s.sum, avg: Math.round(s.sum / s.n), max: s.max };
}

const ts = (t: { sec: number; nsec: number }) => isoTime(t);
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const round = (v: number | null, digits = 6): number | null => (v === null ? null : Number(v.toFixed(digits)));

/** Counts by name, biggest first (ties by name): the same order however the events were split. */
function byCount(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * A tally's key as reports print it: '' is `(none)` (no database selected, the anonymous user),
 * UNKNOWN `(unknown)` (a connection whose login the capture did not see), OTHERS `(others)`.
 */
export function keyName(k: string): string {
  return k === '' ? '(none)' : k === UNKNOWN ? '(unknown)' : k === OTHERS ? '(others)' : k;
}

/** A command's database as reports print it (`(none)`, `(unknown)`): as the filters name it. */
export { dbName } from '../run/filters.js';

/** A tally as an object, biggest first (ties by name). */
function ranked(t: Tally): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t.counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) out[keyName(k)] = v;
  return out;
}

function preparedJson(g: ConnGroupState): PreparedJson {
  return { prepares: g.prepares, executes: g.executes, executes_per_prepare: round(ratio(g.executes, g.prepares), 3), executes_prepared_before: g.executesUnknown, closes: g.closes, never_closed: g.neverClosed, open_at_end: g.openAtEnd };
}

function connGroupJson(g: ConnGroupState): ConnGroupJson {
  return {
    logins: g.logins,
    login_errors: g.loginErrors,
    logins_aborted: g.loginsAborted,
    whole: g.whole,
    lifetime_us: { avg: g.whole ? Math.round(g.lifetimeUs / g.whole) : null, max: g.whole ? g.maxLifetimeUs : null },
    idle_us: { total: g.idleUs, max: g.whole ? g.maxIdleUs : null },
    prepared: preparedJson(g),
  };
}

const EMPTY_CONNECTIONS = (): ConnectionsState => {
  const h = new LogHistogram().toState();
  return { logins: new Timeline().toState(), lifetime: h, idle: h, maxIdle: h, all: newGroup(), byUser: {}, byClient: {} };
};

/**
 * The connections view. `window`: the capture's run time (ISO first and last, and seconds), the
 * rate is over it; the peak is the busiest timeline bucket's logins per second of the capture
 * inside it (a capture shorter than a bucket is not diluted by the rest of it, so the peak is never
 * below the average).
 */
function connectionsJson(c: ConnectionsState, window: { first: string | null; last: string | null; duration: number | null }): ConnectionsJson {
  const tl = Timeline.fromState(c.logins);
  const secs = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso) / 1000 + fracUs(iso) / 1e6);
  const from = secs(window.first);
  const to = secs(window.last);
  let peak: ConnectionsJson['peak'] = { t: null, bucket_s: tl.width, connects_per_s: null, logins: 0, covered_s: null, basis: null };
  tl.count.forEach((n, i) => {
    if (n === 0) return;
    const b = tl.start + i * tl.width;
    const inside = from !== null && to !== null ? Math.min(b + tl.width, to) - Math.max(b, from) : 0;
    const part = inside > 1e-6 && inside < tl.width;
    const rate = n / (part ? inside : tl.width);
    if (peak.connects_per_s === null || rate > peak.connects_per_s) {
      peak = { t: isoTime({ sec: b, nsec: 0 }).replace('.000000Z', 'Z'), bucket_s: tl.width, connects_per_s: round(rate, 3), logins: n, covered_s: part ? round(inside, 6) : tl.width, basis: part ? 'capture' : 'bucket' };
    }
  });
  const duration = window.duration;
  // Busiest first, then by name: the same order however the captures were split.
  const rows = <K extends string>(m: Record<string, ConnGroupState>, key: K) =>
    Object.entries(m)
      .sort((a, b) => b[1].logins - a[1].logins || b[1].whole - a[1].whole || b[1].prepares + b[1].executes + b[1].executesUnknown - (a[1].prepares + a[1].executes + a[1].executesUnknown) || (a[0] < b[0] ? -1 : 1))
      .map(([k, g]) => ({ [key]: keyName(k), ...connGroupJson(g) }) as ConnGroupJson & Record<K, string>);
  return {
    logins: c.all.logins,
    login_errors: c.all.loginErrors,
    logins_aborted: c.all.loginsAborted,
    connects_per_s: duration && duration > 0 ? round(c.all.logins / duration, 3) : null,
    peak,
    whole: c.all.whole,
    lifetime_us: latencyFigures(LogHistogram.fromState(c.lifetime)),
    idle_us: latencyFigures(LogHistogram.fromState(c.idle)),
    max_idle_us: latencyFigures(LogHistogram.fromState(c.maxIdle)),
    prepared: preparedJson(c.all),
    by_user: rows(c.byUser, 'user'),
    by_client: rows(c.byClient, 'client'),
  };
}

function sampleJson(s: Sample): SampleJson {
  return { ts: ts(s.ts), cmd: s.cmd, sql: s.sql, sql_truncated: s.sqlTruncated, digest: s.digest, user: s.user, db: s.db, client: s.client, server: s.server, conn_id: s.connId, latency_us: s.latencyUs, first_byte_us: s.firstByteUs, rows: s.rows, affected_rows: s.affectedRows, error_code: s.errorCode };
}

/**
 * Statement kind and tables. node-sql-parser (slow: up to milliseconds a statement) is asked only
 * for the first PARSED_GROUPS fingerprints in rank order; the lexer answers for the rest.
 */
function kindOf(fp: string, parse: boolean): { kind: string; tables: string[] } {
  if (fp === UNKNOWN_STATEMENT) return { kind: 'execute', tables: [] };
  if (fp.startsWith(UNKNOWN_PREPARED)) return { kind: 'execute', tables: unknownStatementTables(fp) };
  if (fp === OTHER_FINGERPRINTS) return { kind: 'other', tables: [] };
  if (fp.startsWith('administrator command: ')) return { kind: fp === 'administrator command: Connect' ? 'connect' : 'admin', tables: [] };
  const f = parse ? facts.get(fp) : lexerFacts(fp);
  return { kind: f.kind, tables: f.tables };
}

const PARSED_GROUPS = 1000;

/**
 * Does a fingerprint belong in a ranked profile? Not when it has no call (only housekeeping: the
 * close of a statement the capture never saw prepared) or when none of its calls can have a
 * latency (Quit: no reply in the protocol). JSON keeps them, ranked after all the others; the
 * text and HTML profiles leave them out and say so.
 */
export function profiled(f: FingerprintJson): boolean {
  return f.count > 0 && (f.latency_us.max !== null || f.incomplete > 0 || f.errors > 0);
}

function sortKey(order: Order, f: FingerprintJson): number {
  switch (order) {
    case 'time':
      return f.latency_us.total;
    case 'count':
      return f.count;
    case 'avg':
      return f.latency_us.avg ?? -1;
    case 'p95':
      return f.latency_us.p95 ?? -1;
    case 'p99':
      return f.latency_us.p99 ?? -1;
    case 'max':
      return f.latency_us.max ?? -1;
    case 'errors':
      return f.errors;
    case 'rows':
      return f.rows_sent.sum;
    default: {
      const never: never = order;
      return never;
    }
  }
}

/** Judge the capture's health from its counters: what a DBA must know before trusting the figures. */
/** The --since / --until filters as ISO times (null when not given). */
function filterWindow(filters: Record<string, unknown> | null | undefined): { since: string | null; until: string | null } {
  const at = (k: 'since' | 'until'): string | null => (filters?.[k] === undefined ? null : ts(parseTime(k, String(filters[k]))));
  return { since: at('since'), until: at('until') };
}

/**
 * When the --since / --until window lies wholly before or after the capture: what to say (the
 * report's range is then the capture's own, and it has no command); null otherwise.
 */
export function windowBeside(r: Report): string | null {
  const { since, until } = filterWindow(r.inputs.filters);
  const { first, last } = r.overall;
  if (first === null || last === null || (since === null && until === null)) return null;
  const where = since !== null && since > last ? 'after' : until !== null && until <= first ? 'before' : null;
  if (where === null) return null;
  return `the --since/--until window (${since ?? 'the start'} to ${until ?? 'the end'}) is wholly ${where} the capture: nothing in it`;
}

/**
 * Why a report has no command, for the place its figures would be: TLS not decrypted (and what to
 * give), a time window beside the capture, the filters, or no MySQL traffic; null when it has
 * commands.
 */
export function noCommandReason(r: Report): string | null {
  if (r.overall.commands > 0) return null;
  const c = (k: string): number => r.health.counters[k] ?? 0;
  const tls = c('tlsConnections') - c('tlsDecrypted');
  if (tls > 0) {
    const what = `${tls} of ${count(c('mysqlConnections'), 'MySQL connection')} ${tls === 1 ? 'uses' : 'use'} TLS that could not be decrypted`;
    return c('tlsNoSecret') > 0 ? `no command could be read: ${what}: give the clients' key log with --keylog FILE (docs/tls.md)` : `no command could be read: ${what} ('periscope events' says why; docs/tls.md)`;
  }
  const beside = windowBeside(r);
  if (beside !== null) return beside;
  if (r.inputs.filters !== null) return 'none passed the filters (stderr names what the capture holds)';
  if (c('mysqlConnections') === 0) return 'no command could be read: no MySQL traffic found (see the capture health)';
  return 'no command could be read: the MySQL connections carry no complete command (see the capture health)';
}

export function assessHealth(h: Health, commands: number, interrupted = false): HealthJson {
  const c = (k: string) => h[k] ?? 0;
  const notes: string[] = [];
  let status: HealthJson['status'] = 'good';
  const worse = (s: 'degraded' | 'bad') => {
    if (s === 'bad' || status === 'good') status = s;
  };
  const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(a / b < 0.01 ? 2 : 1)}%` : '');
  if (interrupted) {
    worse('degraded');
    notes.push('interrupted (Ctrl-C): this report covers only what was read before');
  }
  // Nothing to report is not good health: say what was missing and what to check.
  if (c('packets') === 0) {
    worse('bad');
    notes.push('no packets: nothing was captured or read. Check the interface (-i any), the port and host filters, that the capture ran while the application was busy, and that the files are the ones written');
  } else if (c('mysqlConnections') === 0 && commands === 0) {
    worse('bad');
    notes.push(`no MySQL traffic in ${count(c('packets'), 'packet')}: is the server on another port (analyze --port 3307; 3306 and ports seen in a server greeting are read)? Was the capture filter on the database traffic? 'periscope info' lists the connections the capture holds`);
  }
  if (c('filesFailed') > 0) {
    worse('degraded');
    notes.push(`${count(c('filesFailed'), 'capture file')} could not be read completely (damaged or cut short); see the messages on stderr`);
  }
  if (c('filesCutShort') > 0) notes.push(`${count(c('filesCutShort'), 'capture file')} ${c('filesCutShort') === 1 ? 'ends' : 'end'} inside a packet record (cut short while being written, or copied before tcpdump ended): the last packet is not in the report`);
  if (c('captureEndedEarly') > 0) {
    worse('degraded');
    notes.push(`${count(c('captureEndedEarly'), 'capture')} ended early, by a limit or a failure (see inputs.captures): traffic after that is not in the report`);
  }
  if (c('captureStillRunning') > 0) notes.push(`${count(c('captureStillRunning'), 'capture')} still running (or killed without a clean stop): the newest file may be incomplete`);
  if (c('captureFilesDeleted') > 0) notes.push(`${count(c('captureFilesDeleted'), 'older capture file')} deleted by the ring buffer (--max-files): the report starts at the oldest file kept`);
  if (c('kernelDropsKnown') > 0 && c('kernelDrops') > 0) {
    const r = c('kernelDrops') / (c('kernelDrops') + c('packets'));
    worse(r > 0.001 ? 'bad' : 'degraded');
    notes.push(`the kernel dropped ${count(c('kernelDrops'), 'packet')} while capturing (${pct(c('kernelDrops'), c('kernelDrops') + c('packets'))}): commands are missing; capture with a larger buffer (-B) or a narrower filter`);
  }
  if (c('packetsNotAnalysed') > 0) {
    const r = c('packetsNotAnalysed') / (c('packetsNotAnalysed') + c('packets'));
    worse(r > 0.001 ? 'bad' : 'degraded');
    notes.push(`${count(c('packetsNotAnalysed'), 'packet')} captured by tcpdump never reached the analyzer (periscope live; ${pct(c('packetsNotAnalysed'), c('packetsNotAnalysed') + c('packets'))}): their commands are missing`);
  }
  if (c('streamDamaged') > 0) {
    worse('degraded');
    notes.push(`the pcap stream from tcpdump was damaged at ${count(c('streamDamaged'), 'place')} (bytes lost in the pipe; periscope live): the packets there are missing`);
  }
  const lost = c('commandsIncomplete') + c('commandsUnseen');
  if (lost > 0) {
    const r = lost / Math.max(1, commands + c('commandsUnseen'));
    worse(r > 0.01 ? 'bad' : 'degraded');
    notes.push(`${count(lost, 'command')} lost or cut by the capture (${c('commandsIncomplete')} without their full response, ${count(c('commandsUnseen'), 'response')} whose command was not captured): ${pct(lost, commands + c('commandsUnseen'))} of commands`);
  }
  if (c('connectionsEvicted') > 0) {
    worse('degraded');
    notes.push(`${count(c('connectionsEvicted'), 'connection')} closed early, the least recently active first, to stay within --memory-budget / --max-connections: what they sent later is decoded as from connections begun mid-stream`);
  }
  if (c('clientBytesUndecoded') > 0) {
    worse('degraded');
    notes.push(`${count(c('clientBytesUndecoded'), 'byte')} from clients never decoded (skipped after a gap, or before a connection's first whole command): commands in them are missing`);
  }
  if (c('retransmitted') + c('outOfOrder') > 0) {
    notes.push(`${count(c('retransmitted'), 'TCP segment')} retransmitted (or captured twice) and ${c('outOfOrder')} out of order: put in order, nothing lost by them`);
  }
  if (c('bytesLost') > 0) {
    worse('degraded');
    notes.push(`${count(c('bytesLost'), 'byte')} of TCP payload missing in ${count(c('gaps'), 'gap')}${c('bytesCutBySnaplen') > 0 ? ` (${c('bytesCutBySnaplen')} cut by the snap length: capture whole packets, -s 0)` : ''}`);
  }
  const tlsUnread = c('tlsConnections') - c('tlsDecrypted');
  if (c('tlsDecrypted') > 0) notes.push(`${c('tlsDecrypted')} of ${count(c('tlsConnections'), 'TLS connection')} decrypted with the key log's secrets: their commands are in this report`);
  if (c('tlsPartial') > 0) {
    worse('degraded');
    notes.push(`${count(c('tlsPartial'), 'decrypted TLS connection')} with records that could not be decrypted (a direction whose secret the key log lacks, or damage): commands are missing ('periscope events' says which)`);
  }
  if (tlsUnread > 0) {
    worse(tlsUnread * 2 > c('mysqlConnections') ? 'bad' : 'degraded');
    const why = [
      c('tlsNoSecret') > 0 ? `${c('tlsNoSecret')} without a secret in the key log` : '',
      c('tlsUnsupported') > 0 ? `${c('tlsUnsupported')} with an unsupported TLS version or cipher suite` : '',
      c('tlsFailed') > 0 ? `${c('tlsFailed')} that failed to decrypt or whose handshake was not captured` : '',
    ].filter((x) => x !== '');
    const todo = c('tlsNoSecret') > 0 ? "give the clients' key log with --keylog FILE; 'periscope events' names each connection with its client random" : "'periscope events' names each connection and why";
    notes.push(`${tlsUnread} of ${count(c('mysqlConnections'), 'MySQL connection')} ${tlsUnread === 1 ? 'uses' : 'use'} TLS that could not be decrypted${why.length > 0 ? ` (${why.join(', ')})` : ''}: their commands cannot be seen (${todo}; docs/tls.md)`);
  }
  if (c('replicationConnections') > 0) notes.push(`${count(c('replicationConnections'), 'replication connection')} (binlog streams are not analysed)`);
  if (c('undecodableConnections') > 0) {
    worse('degraded');
    notes.push(`${count(c('undecodableConnections'), 'connection')} whose decoding stopped early (e.g. zstd compression on this Node.js version)`);
  }
  if (c('protocolViolations') > 0) {
    worse('degraded');
    notes.push(`${count(c('protocolViolations'), 'protocol violation')} (unexpected packets); ${count(c('resyncs'), 'resynchronisation')}`);
  }
  for (const k of Object.keys(h).sort()) {
    const m = /^detectedPort:(\d+):connections$/.exec(k);
    if (m === null) continue;
    const port = m[1]!;
    notes.push(`port ${port} looks like MySQL: ${count(c(`detectedPort:${port}:commands`), 'command')} decoded in ${count(c(k), 'connection')}, detected from content (no greeting or SYN seen; --port ${port} to say so)`);
  }
  if (c('midStreamConnections') > 0) notes.push(`${count(c('midStreamConnections'), 'connection')} began before the capture (their logins, users and first commands may be unknown)`);
  if (c('summariesWithoutConnections') > 0) notes.push(`${count(c('summariesWithoutConnections'), 'summary', 'summaries')} saved before the connections view: the connections section leaves out their logins, lifetimes and prepared statements`);
  if (c('eventsForced') > 0) notes.push(`${count(c('eventsForced'), 'event')} reported out of time order (too many commands in flight)`);
  return { status, notes, counters: { ...h } };
}

/** What a report is of, for its title: the capture file, how many, or the live traffic. */
export function reportSubject(r: Report): string {
  const b = r.inputs.bundles ?? [];
  if (b.length > 0) return b.length === 1 ? `bundle ${b[0]!.path}` : `${b.length.toLocaleString('en-US')} bundles`;
  const files = r.inputs.files;
  if (files.length === 1) return files[0]!.path;
  return files.length === 0 ? 'live traffic (periscope live)' : `${files.length.toLocaleString('en-US')} capture files`;
}

/** One line per capture made by `periscope capture` (its manifest), as the report's heading shows it. */
export function captureLines(r: Report, max = 5): string[] {
  const bundles = (r.inputs.bundles ?? []).slice(0, max).map((b) => `from the redacted events of bundle ${b.path} (${count(b.events, 'event')}; made ${b.created} on ${b.host} by Periscope ${b.periscope}${b.filters ? `, with ${Object.entries(b.filters).map(([k, v]) => `--${k} ${Array.isArray(v) ? v.join(',') : v}`).join(' ')}` : ''}; SHA-256 ${b.sha256.slice(0, 16)}…)`);
  return [...bundles, ...r.inputs.captures.slice(0, max).map((c) => `captured on ${c.host} (${c.interface}, ${c.filter}) from ${c.started} to ${c.ended ?? '-'}, ended: ${c.ended_because}`)];
}

/** The filters given, as options (`--since … --user a,b`), or null for none. */
export function filtersText(r: Report): string | null {
  const f = r.inputs.filters;
  return f ? Object.entries(f).map(([k, v]) => `--${k} ${Array.isArray(v) ? v.join(',') : v}`).join(' ') : null;
}

/** Build the report of an aggregate. */
/**
 * The peak rate: the busiest timeline bucket lying whole inside the traffic's span [first, last]
 * (a first or last bucket the traffic covers only in part would be divided by a width it did not
 * run for), but never below the averages given (first the traffic's, then the capture's): a
 * capture shorter than a bucket, or busier in its partial seconds, has its average as its peak.
 */
function peakRate(points: { t: string; commands: number }[], width: number, start: number, first: { sec: number; nsec: number } | null, last: { sec: number; nsec: number } | null, averages: [basis: 'traffic' | 'capture', t: string | null, rate: number | null][]): Report['overall']['rates']['peak'] {
  let peak: Report['overall']['rates']['peak'] = { t: null, bucket_s: width, commands_per_s: null, basis: null };
  if (first !== null && last !== null) {
    const from = first.sec + first.nsec / 1e9;
    const to = last.sec + last.nsec / 1e9;
    points.forEach((p, i) => {
      const b = start + i * width;
      if (b < from || b + width > to) return;
      const r = round(p.commands / width, 3)!;
      if (peak.commands_per_s === null || r > peak.commands_per_s) peak = { t: p.t, bucket_s: width, commands_per_s: r, basis: 'bucket' };
    });
  }
  for (const [basis, t, rate] of averages) if (rate !== null && (peak.commands_per_s === null || rate > peak.commands_per_s)) peak = { t, bucket_s: width, commands_per_s: rate, basis };
  return peak;
}

export function buildReport(st: AggregateState, ctx: ReportContext): Report {
  const files = [...ctx.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const firsts = files.map((f) => f.first).filter((x): x is string => x !== null);
  const lasts = files.map((f) => f.last).filter((x): x is string => x !== null);
  const o = st.overall;
  // Time range: of the capture when known (a quiet capture still lasted: from its manifest's start
  // to its end when `periscope capture` made it, else from its first packet to its last), else of
  // the events; within --since/--until when given (rates are per second of the window looked at).
  let first = firsts.length ? firsts.sort()[0]! : o.first ? ts(o.first) : null;
  let last = lasts.length ? lasts.sort()[lasts.length - 1]! : o.last ? ts(o.last) : null;
  const ran = captureWindow(ctx.captures ?? []);
  if (ran !== null && first !== null && last !== null) {
    if (ran.first < first) first = ran.first;
    if (ran.last > last) last = ran.last;
  }
  const { since, until } = filterWindow(ctx.filters);
  // A window beside the capture, not over it: the capture's own range (nothing is in the window;
  // the renderers say so), not the window's bounds as if the capture had run then.
  const beside = first !== null && last !== null && ((since !== null && since > last) || (until !== null && until <= first));
  if (!beside) {
    if (since !== null && first !== null && since > first) first = since;
    if (until !== null && last !== null && until < last) last = until;
  }
  if (first !== null && last !== null && last < first) last = first;
  const duration = first !== null && last !== null ? Math.max(0, (Date.parse(last) - Date.parse(first)) / 1000 + (fracUs(last) - fracUs(first)) / 1e6) : null;
  const perSec = (n: number) => (duration && duration > 0 ? round(n / duration, 3) : null);
  // No command rate from no command: 0/s would read as an idle server when nothing could be read (TLS without its key log).
  const cmdPerSec = (n: number) => (o.commands > 0 ? perSec(n) : null);
  const overallHist = LogHistogram.fromState(o.latency);
  const totalTime = overallHist.sum;
  // Shares are of every group's time and calls (logins and administrator commands included).
  const groupTime = st.groups.reduce((n, g) => n + g.latency.sum, 0);
  const totalCount = st.groups.reduce((n, g) => n + g.count, 0);

  const timelines = new Map<FingerprintJson, TimelineState | null>();
  const fps: FingerprintJson[] = st.groups.map((g) => {
    const h = LogHistogram.fromState(g.latency);
    const errors = Object.values(g.errors).reduce((a, b) => a + b, 0);
    return {
      rank: 0,
      digest: g.digest,
      fingerprint: g.fingerprint,
      kind: '',
      tables: [] as string[],
      count: g.count,
      share_of_count: round(ratio(g.count, totalCount) ?? 0)!,
      share_of_time: round(ratio(h.sum, groupTime) ?? 0)!,
      qps: perSec(g.count),
      latency_us: latencyFigures(h),
      first_byte_us: partFigures(g.firstByte),
      transfer_us: partFigures(g.transfer),
      latency_by_decade: byDecade(h),
      incomplete: g.incomplete,
      errors,
      errors_by_code: byCount(g.errors),
      rows_sent: { sum: g.rows.sum, avg: round(ratio(g.rows.sum, g.rows.n), 3), max: g.rows.max },
      rows_affected: { sum: g.affected.sum, avg: round(ratio(g.affected.sum, g.affected.n), 3), max: g.affected.max },
      warnings: { sum: g.warnings, commands: g.warningCommands },
      no_index_used: g.noIndexUsed,
      no_good_index_used: g.noGoodIndexUsed,
      bytes_in: g.bytesIn,
      bytes_out: g.bytesOut,
      commands: Object.fromEntries(Object.entries(g.commands).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
      prepared: (g.commands.stmt_execute ?? 0) + (g.commands.stmt_prepare ?? 0) + (g.commands.stmt_bulk_execute ?? 0) > 0,
      housekeeping_us: g.housekeepingUs,
      users: ranked(g.users),
      databases: ranked(g.dbs),
      clients: ranked(g.clients),
      servers: ranked(g.servers),
      others: { users: g.users.others, databases: g.dbs.others, clients: g.clients.others, servers: g.servers.others },
      first_seen: g.count > 0 ? ts(g.first) : null,
      last_seen: g.count > 0 ? ts(g.last) : null,
      example: g.sample && sampleJson(g.sample),
      timeline: null as FingerprintTimelineJson | null,
    };
  });
  st.groups.forEach((g, i) => timelines.set(fps[i]!, g.timeline ?? null));
  fps.sort((a, b) => Number(profiled(b)) - Number(profiled(a)) || sortKey(ctx.order, b) - sortKey(ctx.order, a) || b.latency_us.total - a.latency_us.total || b.count - a.count || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  fps.forEach((f, i) => {
    f.rank = i + 1;
    Object.assign(f, kindOf(f.fingerprint, i < PARSED_GROUPS));
    const tl = timelines.get(f);
    if (i < FINGERPRINT_TIMELINES && profiled(f) && tl) f.timeline = fingerprintTimeline(tl);
  });
  const histOf = new Map(st.groups.map((g) => [g.fingerprint, g.latency]));
  const tables = tablesView(fps.map((f) => ({ ...f, latency: histOf.get(f.fingerprint)! })));

  const histogram: Report['histogram'] = [];
  for (const [le, count] of overallHist.buckets()) histogram.push({ le_us: Number(le.toPrecision(6)), count });
  const tl = Timeline.fromState(st.timeline);
  const points = tl.count.map((n, i) => ({ t: bucketTime(tl.start + i * tl.width), commands: n, errors: tl.errors[i]!, timed: tl.timed[i]!, time_us: tl.timeUs[i]!, avg_us: tl.timed[i]! > 0 ? Math.round(tl.timeUs[i]! / tl.timed[i]!) : null, max_us: tl.maxUs[i]! }));

  // The traffic's own span: from the first command (or login) to the last, within the window.
  const tFirst = o.first ? ts(o.first) : null;
  const tLast = o.last ? ts(o.last) : null;
  const span = tFirst !== null && tLast !== null ? Math.max(0, (Date.parse(tLast) - Date.parse(tFirst)) / 1000 + (fracUs(tLast) - fracUs(tFirst)) / 1e6) : null;
  const perSpan = (n: number) => (span && span > 0 && o.commands > 0 ? round(n / span, 3) : null);
  const peak = o.commands === 0 ? { t: null, bucket_s: tl.width, commands_per_s: null, basis: null } : peakRate(points, tl.width, tl.start, o.first, o.last, [
    ['traffic', tFirst, perSpan(o.commands)],
    ['capture', first, cmdPerSec(o.commands)],
  ]);

  const report: Report = {
    periscope: { version: ctx.version, report_version: REPORT_VERSION },
    inputs: { files, captures: [...(ctx.captures ?? [])].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : a.started < b.started ? -1 : 1)), ...(ctx.bundles?.length ? { bundles: [...ctx.bundles] } : {}), filters: ctx.filters, order: ctx.order, redacted: ctx.redacted, interrupted: ctx.interrupted },
    health: assessHealth(st.health, o.commands, ctx.interrupted),
    overall: {
      first,
      last,
      duration_s: round(duration),
      commands: o.commands,
      queries: o.queries,
      commands_per_s: cmdPerSec(o.commands),
      queries_per_s: cmdPerSec(o.queries),
      rates: {
        capture: { duration_s: round(duration), commands_per_s: cmdPerSec(o.commands), queries_per_s: cmdPerSec(o.queries) },
        traffic: { first: tFirst, last: tLast, duration_s: round(span), commands_per_s: perSpan(o.commands), queries_per_s: perSpan(o.queries) },
        peak,
      },
      query_time_us: totalTime,
      concurrency: duration && duration > 0 && o.commands > 0 ? round(totalTime / 1e6 / duration, 4) : null,
      latency_us: latencyFigures(overallHist),
      first_byte_us: partFigures(o.firstByte),
      transfer_us: partFigures(o.transfer),
      connections: st.health.mysqlConnections ?? 0,
      logins: o.logins,
      login_errors: o.loginErrors,
      logins_aborted: o.loginsAborted ?? 0,
      tls_logins_unseen: o.tlsLoginsUnseen ?? 0,
      errors: o.errors,
      error_rate: round(ratio(o.errors, o.commands)),
      incomplete: o.incomplete,
      warnings: o.warnings,
      bytes_in: o.bytesIn,
      bytes_out: o.bytesOut,
      fingerprints: fps.length,
      users: ranked(o.users),
      databases: ranked(o.dbs),
      clients: ranked(o.clients),
      servers: ranked(o.servers),
    },
    fingerprints: fps,
    errors: st.errors.map((e) => ({ code: e.code, sql_state: e.sqlState, message: e.message, count: e.count, fingerprints: byCount(e.digests) })).sort((a, b) => b.count - a.count || a.code - b.code),
    slowest: st.slowest.map(sampleJson),
    histogram,
    histogram_by_decade: byDecade(overallHist),
    timeline: { bucket_s: tl.width, points },
    ...sessionsJson(st.sessions ?? EMPTY_SESSIONS),
    tables,
    connections: connectionsJson(st.sessions?.connections ?? EMPTY_CONNECTIONS(), { first, last, duration }),
    findings: [],
  };
  report.findings = findOpportunities(report, { shapes: shapesOf(st) });
  return report;
}

/** The statement shapes of the groups' examples (for advice: literal kinds, no values), by digest. */
export function shapesOf(st: AggregateState): Map<string, string | null> {
  return new Map(st.groups.map((g) => [g.digest, g.sample?.shape ?? null]));
}

/** From the first capture's start to the last one's end (ISO, as `ts` writes), or null unless every one ended. */
function captureWindow(captures: readonly CaptureInfo[]): { first: string; last: string } | null {
  if (captures.length === 0 || captures.some((c) => c.ended === null)) return null;
  const ms = (iso: string): number => Date.parse(iso);
  const at = (t: number): string => ts({ sec: Math.floor(t / 1000), nsec: (t % 1000) * 1e6 });
  const starts = captures.map((c) => ms(c.started));
  const ends = captures.map((c) => ms(c.ended!));
  if (![...starts, ...ends].every(Number.isFinite)) return null;
  return { first: at(Math.min(...starts)), last: at(Math.max(...ends)) };
}

/** Microseconds of an ISO time's fraction beyond milliseconds (Date.parse keeps milliseconds). */
function fracUs(iso: string): number {
  const m = /\.(\d+)Z$/.exec(iso);
  if (!m) return 0;
  const digits = m[1]!.padEnd(9, '0');
  return Number(digits.slice(3, 9)) / 1000;
}

/**
 * Aggregation of command events into what a report shows: per fingerprint, overall, by error code,
 * the slowest commands, the latency histogram and the timeline. `add()` per event, `merge()` of
 * two aggregates (several captures, hosts or days), `toState()` / `fromState()` for summaries saved
 * with `--save-summary`. Merging is exact: every figure is a sum, a min/max, a bucket count or a
 * top-N with a total order, so a merge of summaries equals one analysis of all the captures.
 *
 * Raw SQL of the few kept examples is held until a snapshot (`toState`), where it is redacted
 * (unless the report is made with --no-redact): nothing else of an event is kept.
 */
import { digest, redactErrorMessage, sessionMode, SqlNormalizer } from '../../src/sql/index.js';
import type { CommandEvent, UnknownStatement } from '../../src/mysql/session.js';
import { TYPE_NAMES } from '../../src/mysql/packets.js';
import { LiteralShaper } from '../../src/sql/shape.js';
import { SQL_COMMANDS, STATEMENT_RUNS } from '../commands.js';
import { LogHistogram, type HistogramState } from './histogram.js';
import { FINGERPRINT_BUCKETS, Timeline, type TimelineState } from './timeline.js';
import { hostOf, Sessions, UNKNOWN, type SessionsState } from './sessions.js';

/**
 * The latency of every report: from the request's last packet to the response's last packet (the
 * event's `responseUs`), the time a client waits for its whole answer. The time to the response's
 * first packet (`latencyUs`) ranked reports before: it hides the transfer of a large result. It is
 * kept beside it, as the split `firstByte` / `transfer`.
 */
export const latencyOf = (e: CommandEvent): number | null => e.responseUs;

/** Queries, for the overall queries-per-second. */
const QUERIES = new Set(['query', 'stmt_execute', 'stmt_bulk_execute']);

/** Distinct users, databases and clients remembered per group (beyond, counted as others). */
const MAX_DISTINCT = 100;
/** … and overall. */
const MAX_DISTINCT_OVERALL = 1000;
/** Slowest commands kept overall. */
export const SLOWEST = 20;
/**
 * Fingerprints tracked; past this, new ones are counted in one overflow group, so memory stays
 * bounded whatever the capture holds (an application has tens to hundreds; thousands mean SQL
 * built with values the fingerprint rules do not catch, or a capture that is not MySQL).
 */
export const MAX_GROUPS = 10_000;
/** The overflow group's fingerprint. */
export const OTHER_FINGERPRINTS = `other fingerprints (past the first ${MAX_GROUPS.toLocaleString('en-US')})`;
/**
 * Numbers all fingerprints' own timelines may hold (buckets and their histograms; 8 bytes each, so
 * about 16 MB). Past it, the timelines of the fingerprints with the least time so far are dropped
 * (and stay dropped: a partial timeline would mislead), so memory stays bounded whatever the
 * capture holds. An application's hundred fingerprints over 60 buckets hold far less.
 */
export const FINGERPRINT_TIMELINE_CELLS = 2_000_000;
/** Characters of SQL kept in an example (longer ones are cut, and say so). */
export const MAX_SAMPLE_SQL = 4096;

/** A command's name as the server's logs write it: `init_db` → `Init DB`. */
export function commandTitle(cmd: string): string {
  return cmd
    .split('_')
    .map((w) => (w === 'db' ? 'DB' : w.length ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** The fingerprint of a command without SQL, as pt-query-digest names them: `administrator command: Ping`. */
export function adminFingerprint(cmd: string): string {
  return `administrator command: ${commandTitle(cmd)}`;
}

/** Fingerprint of a `stmt_*` on a statement id the capture does not know: its SQL is unknown. */
export const UNKNOWN_STATEMENT = 'prepared statement unknown to the capture (its PREPARE not captured, or already closed)';

/** How the label of an execute of a statement prepared before the capture starts. */
export const UNKNOWN_PREPARED = 'prepared statement #';

/**
 * The group of executes of a statement prepared before the capture began, from what the wire
 * shows: its statement id, its parameters' count and types (when the client sent them), and the
 * table.column names of its result. Statement ids are numbered per connection, and a pool's
 * connections prepare the same statements in the same order, so the id with the parameters and
 * columns tells one statement from another across the pool; the connection is not in the label
 * (one row per connection would split each statement into as many rows as the pool has).
 */
export function unknownStatementLabel(u: UnknownStatement): string {
  const params = u.params === null ? 'parameters unknown' : u.params === 0 ? 'no parameters' : `${u.params} parameter${u.params === 1 ? '' : 's'} (${(u.types ?? []).map((t) => TYPE_NAMES[t] ?? String(t)).join(', ')})`;
  const result = u.columns.length ? `returns ${u.columns.join(', ')}` : 'no result set';
  return `${UNKNOWN_PREPARED}${u.id} (prepared before the capture): ${params}; ${result}`;
}

/** The tables an unknown statement's label names (from its result's columns). */
export function unknownStatementTables(label: string): string[] {
  const m = / returns (.*)$/.exec(label);
  if (m === null) return [];
  return [...new Set(m[1]!.split(', ').filter((c) => c.includes('.')).map((c) => c.slice(0, c.lastIndexOf('.'))))].sort();
}

interface Time {
  sec: number;
  nsec: number;
}

/** Is `a` strictly before `b`? */
const earlier = (a: Time, b: Time): boolean => a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);

/** Add the counts of `from` into `into`, name by name. */
export function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** A count per name, bounded: past `max` distinct names, the rest go to `others`. */
export interface Tally {
  counts: Record<string, number>;
  others: number;
}

function tally(t: Tally, key: string | null, n: number, max: number): void {
  const k = key ?? '';
  const c = t.counts[k];
  if (c !== undefined) t.counts[k] = c + n;
  else if (Object.keys(t.counts).length < max) t.counts[k] = n;
  else t.others += n;
}

function mergeTally(a: Tally, b: Tally, max: number): void {
  for (const k of Object.keys(b.counts).sort()) tally(a, k, b.counts[k]!, max);
  a.others += b.others;
}

const newTally = (): Tally => ({ counts: {}, others: 0 });

const newFingerprintTimeline = (): Timeline => new Timeline({ maxBuckets: FINGERPRINT_BUCKETS, histograms: true });

/** Commands per user, database, client host and server. */
export interface WhoTallies {
  users: Tally;
  dbs: Tally;
  clients: Tally;
  servers: Tally;
}

/**
 * Who ran the commands: users, databases, client hosts, servers. Counted per connection first:
 * a connection's consecutive commands with the same user and database add to one pending count,
 * tallied when that changes, when too many connections are pending, or for a snapshot — a map
 * lookup and two comparisons per command instead of four tallies.
 */
interface Run {
  user: string | null;
  db: string | null;
  client: string;
  server: string;
  n: number;
}

const MAX_PENDING_RUNS = 256;

class Who {
  users = newTally();
  dbs = newTally();
  clients = newTally();
  servers = newTally();
  private readonly runs = new Map<number, Run>();

  constructor(private readonly max: number) {}

  add(conn: number, user: string | null, db: string | null, client: string, server: string): void {
    const r = this.runs.get(conn);
    if (r !== undefined && r.user === user && r.db === db && r.client === client) {
      r.n++;
      return;
    }
    if (r !== undefined) this.count(r);
    else if (this.runs.size >= MAX_PENDING_RUNS) this.flush();
    this.runs.set(conn, { user, db, client, server, n: 1 });
  }

  private count(r: Run): void {
    // A null user: the login was not captured, so a null database is not known either ('' is none selected).
    tally(this.users, r.user ?? UNKNOWN, r.n, this.max);
    tally(this.dbs, r.db ?? (r.user === null ? UNKNOWN : ''), r.n, this.max);
    tally(this.clients, hostOf(r.client), r.n, this.max);
    tally(this.servers, r.server, r.n, this.max);
  }

  flush(): void {
    for (const r of this.runs.values()) this.count(r);
    this.runs.clear();
  }

  merge(o: WhoTallies): void {
    this.flush();
    mergeTally(this.users, o.users, this.max);
    mergeTally(this.dbs, o.dbs, this.max);
    mergeTally(this.clients, o.clients, this.max);
    mergeTally(this.servers, o.servers, this.max);
  }

  /** The four tallies, as a state holds them. */
  state(): WhoTallies {
    this.flush();
    return { users: cloneTally(this.users), dbs: cloneTally(this.dbs), clients: cloneTally(this.clients), servers: cloneTally(this.servers) };
  }
}

/** One command kept as an example (the slowest of a group, or of all). */
export interface Sample {
  ts: { sec: number; nsec: number };
  cmd: string;
  /** Redacted in a state (a snapshot); raw while aggregating. */
  sql: string | null;
  /** The SQL was cut (by the capture, or to MAX_SAMPLE_SQL characters). */
  sqlTruncated: boolean;
  digest: string | null;
  user: string | null;
  db: string | null;
  client: string;
  server: string;
  connId: number | null;
  /** The full response time (latencyOf). */
  latencyUs: number | null;
  /** Of it, the time to the response's first packet. */
  firstByteUs: number | null;
  rows: number | null;
  affectedRows: number | null;
  errorCode: number | null;
  /** NO_BACKSLASH_ESCAPES when the command was sent (CommandEvent's); only while raw, and only when not false. */
  noBackslashEscapes?: boolean | null;
  /** stmt_execute: the parameters' type codes. */
  paramTypes?: number[] | null;
  /**
   * The statement's literal shape (src/sql/shape.ts: literals as typed stand-ins, no value), for
   * advice; made with the snapshot, from the raw SQL (undefined until then).
   */
  shape?: string | null;
}

/** Total order: slower first, then earlier, then by client, server, command. */
function slower(a: Sample, b: Sample): boolean {
  const la = a.latencyUs ?? -1;
  const lb = b.latencyUs ?? -1;
  if (la !== lb) return la > lb;
  if (a.ts.sec !== b.ts.sec) return a.ts.sec < b.ts.sec;
  if (a.ts.nsec !== b.ts.nsec) return a.ts.nsec < b.ts.nsec;
  if (a.client !== b.client) return a.client < b.client;
  if (a.server !== b.server) return a.server < b.server;
  return a.cmd < b.cmd;
}

export interface GroupState extends WhoTallies {
  fingerprint: string;
  digest: string;
  /** Commands that ran the statement (or the administrator command). */
  count: number;
  /** By command: query, stmt_execute, stmt_fetch, …, and the housekeeping ones (stmt_prepare, stmt_close, …). */
  commands: Record<string, number>;
  /** Time spent in the housekeeping commands (stmt_prepare mostly), µs. */
  housekeepingUs: number;
  latency: HistogramState;
  /** The latencies split: time to the response's first packet, and from it to the last (same calls). */
  firstByte: Stat;
  transfer: Stat;
  incomplete: number;
  errors: Record<string, number>;
  rows: Stat;
  affected: Stat;
  warnings: number;
  warningCommands: number;
  noIndexUsed: number;
  noGoodIndexUsed: number;
  bytesIn: number;
  bytesOut: number;
  first: { sec: number; nsec: number };
  last: { sec: number; nsec: number };
  sample: Sample | null;
  /**
   * The fingerprint's own timeline (at most FINGERPRINT_BUCKETS buckets, a latency histogram in
   * each); null when it was dropped to stay within FINGERPRINT_TIMELINE_CELLS, absent in summaries
   * of older versions.
   */
  timeline?: TimelineState | null;
}

/** Sum, max and how many commands had the value. */
export interface Stat {
  sum: number;
  max: number;
  n: number;
}

const addStat = (s: Stat, v: number | null): void => {
  if (v === null) return;
  s.sum += v;
  s.n++;
  if (v > s.max) s.max = v;
};
const mergeStat = (a: Stat, b: Stat): void => {
  a.sum += b.sum;
  a.n += b.n;
  if (b.max > a.max) a.max = b.max;
};

class Group {
  count = 0;
  commands: Record<string, number> = {};
  housekeepingUs = 0;
  latency = new LogHistogram();
  firstByte: Stat = { sum: 0, max: 0, n: 0 };
  transfer: Stat = { sum: 0, max: 0, n: 0 };
  incomplete = 0;
  errors: Record<string, number> = {};
  rows: Stat = { sum: 0, max: 0, n: 0 };
  affected: Stat = { sum: 0, max: 0, n: 0 };
  warnings = 0;
  warningCommands = 0;
  noIndexUsed = 0;
  noGoodIndexUsed = 0;
  bytesIn = 0;
  bytesOut = 0;
  who = new Who(MAX_DISTINCT);
  first = { sec: Infinity, nsec: 0 };
  last = { sec: -Infinity, nsec: 0 };
  sample: Sample | null = null;
  /** Null once dropped for the memory budget (or when a merged part had none). */
  timeline: Timeline | null = newFingerprintTimeline();

  constructor(
    readonly fingerprint: string,
    readonly digest: string,
  ) {}
}

export interface ErrorState {
  code: number;
  sqlState: string | null;
  /** The first message seen (redacted in a state). */
  message: string;
  count: number;
  /** Digest → count. */
  digests: Record<string, number>;
}

export interface Overall extends WhoTallies {
  /** Every event, logins included. */
  events: number;
  commands: number;
  queries: number;
  logins: number;
  loginErrors: number;
  /** Logins the connection's end cut short (status `aborted`; MySQL's Aborted_connects). Absent in summaries made before. */
  loginsAborted?: number;
  /**
   * TLS sessions whose login was never seen (no secret for the session, or not decrypted): a
   * handshake, not a login Periscope saw succeed or fail; not in `logins`. Absent in summaries made before.
   */
  tlsLoginsUnseen?: number;
  errors: number;
  incomplete: number;
  warnings: number;
  /** Latency of the commands that run statements (query, execute, fetch) and administrator commands. */
  latency: HistogramState;
  /** The same latencies split: to the first packet of the response, then to its last. */
  firstByte: Stat;
  transfer: Stat;
  bytesIn: number;
  bytesOut: number;
  first: { sec: number; nsec: number } | null;
  last: { sec: number; nsec: number } | null;
}

/** Counters of the capture and the decoder (summed when merged). */
export type Health = Record<string, number>;

export interface AggregateState {
  groups: GroupState[];
  overall: Overall;
  errors: ErrorState[];
  slowest: Sample[];
  timeline: TimelineState;
  health: Health;
  /** Transactions, N+1 loops and retries (absent from summaries of older versions). */
  sessions?: SessionsState;
}

export { hostOf };

export interface AggregateOptions {
  /** Keep examples as captured (--no-redact). */
  raw?: boolean;
  /** The fingerprints' timelines' budget (FINGERPRINT_TIMELINE_CELLS unless a test says). */
  timelineCells?: number;
}

export class Aggregator {
  private readonly groups = new Map<string, Group>();
  private readonly overall = {
    events: 0,
    commands: 0,
    queries: 0,
    logins: 0,
    loginErrors: 0,
    loginsAborted: 0,
    tlsLoginsUnseen: 0,
    errors: 0,
    incomplete: 0,
    warnings: 0,
    latency: new LogHistogram(),
    firstByte: { sum: 0, max: 0, n: 0 } as Stat,
    transfer: { sum: 0, max: 0, n: 0 } as Stat,
    bytesIn: 0,
    bytesOut: 0,
    who: new Who(MAX_DISTINCT_OVERALL),
    first: null as { sec: number; nsec: number } | null,
    last: null as { sec: number; nsec: number } | null,
  };
  private readonly errors = new Map<number, ErrorState>();
  /** The slowest commands, slowest first. */
  private slowest: Sample[] = [];
  private readonly timeline = new Timeline();
  private readonly sessions = new Sessions();
  /** Numbers the fingerprints' timelines hold, all together (bounded by FINGERPRINT_TIMELINE_CELLS). */
  private timelineCells = 0;
  health: Health = {};
  /** Fingerprints every statement, redacts the examples kept. */
  private readonly sql = new SqlNormalizer();
  /** Makes the kept examples' shapes (one token list for them all). */
  private readonly shaper = new LiteralShaper();

  private readonly timelineBudget: number;

  constructor(private readonly opts: AggregateOptions = {}) {
    this.timelineBudget = opts.timelineCells ?? FINGERPRINT_TIMELINE_CELLS;
  }

  /** Numbers the fingerprints' timelines hold now (for tests of the budget). */
  get fingerprintTimelineCells(): number {
    return this.timelineCells;
  }

  add(e: ShapedEvent): void {
    const o = this.overall;
    o.events++;
    o.bytesIn += e.bytesIn;
    o.bytesOut += e.bytesOut;
    // (Times are updated in place: every state copies them.)
    if (o.first === null) o.first = { sec: e.sec, nsec: e.nsec };
    else if (earlier(e, o.first)) setTime(o.first, e);
    if (o.last === null) o.last = { sec: e.sec, nsec: e.nsec };
    else if (earlier(o.last, e)) setTime(o.last, e);
    const latency = latencyOf(e);
    const isError = e.status === 'error';
    if (e.cmd === 'connect' && e.tls && e.tlsDecrypted === false) o.tlsLoginsUnseen++;
    else if (e.cmd === 'connect') {
      o.logins++;
      if (isError) o.loginErrors++;
      else if (e.status === 'aborted') o.loginsAborted++;
    } else {
      o.commands++;
      if (QUERIES.has(e.cmd)) o.queries++;
      if (isError) o.errors++;
      if (e.status === 'incomplete') o.incomplete++;
      this.timeline.add(e.sec, latency, isError);
      o.who.add(e.conn, e.user, e.db, e.client, e.server);
    }

    const sqlCommand = SQL_COMMANDS.has(e.cmd);
    const g = sqlCommand ? this.sqlGroup(e) : this.group(adminFingerprint(e.cmd));
    g.commands[e.cmd] = (g.commands[e.cmd] ?? 0) + 1;
    g.bytesIn += e.bytesIn;
    g.bytesOut += e.bytesOut;
    const run = STATEMENT_RUNS.has(e.cmd);
    this.sessions.add(e, sqlCommand ? g.digest : null, run);
    if (sqlCommand && !run) {
      g.housekeepingUs += latency ?? 0;
      return;
    }
    g.count++;
    const tl = g.timeline;
    if (tl !== null) {
      const before = tl.held;
      tl.add(e.sec, e.status === 'incomplete' ? null : latency, isError);
      this.timelineCells += tl.held - before;
      if (this.timelineCells > this.timelineBudget) this.dropTimelines();
    }
    if (latency !== null && e.status !== 'incomplete') {
      g.latency.add(latency);
      const first = e.latencyUs ?? latency;
      addStat(g.firstByte, first);
      addStat(g.transfer, latency - first);
      if (e.cmd !== 'connect') {
        o.latency.add(latency);
        addStat(o.firstByte, first);
        addStat(o.transfer, latency - first);
      }
    }
    if (e.status === 'incomplete') g.incomplete++;
    if (isError && e.errorCode !== null) this.addError(e, g);
    else if (isError) g.errors['?'] = (g.errors['?'] ?? 0) + 1;
    addStat(g.rows, e.rows);
    addStat(g.affected, e.affectedRows);
    if (e.warnings !== null && e.warnings > 0) {
      g.warnings += e.warnings;
      g.warningCommands++;
      o.warnings += e.warnings;
    }
    if (e.noIndexUsed) g.noIndexUsed++;
    if (e.noGoodIndexUsed) g.noGoodIndexUsed++;
    g.who.add(e.conn, e.user, e.db, e.client, e.server);
    if (earlier(e, g.first)) setTime(g.first, e);
    if (earlier(g.last, e)) setTime(g.last, e);
    // The slowest example: compare latencies first, build a sample only when it may win.
    const lat = latency ?? -1;
    const cur = g.sample === null ? -2 : (g.sample.latencyUs ?? -1);
    if (lat > cur) g.sample = sampleOf(e, g.digest);
    else if (lat === cur) {
      const s = sampleOf(e, g.digest);
      if (slower(s, g.sample!)) g.sample = s;
    }
    if (e.cmd !== 'connect' && latency !== null) this.keepIfSlow(e, g.digest, latency);
  }

  /**
   * Groups of prepared statements by their SQL text: every execute of a statement carries the
   * same text (the same string), so it is fingerprinted once, not at every execution.
   */
  private readonly statementGroups = new Map<string, Group>();

  private sqlGroup(e: CommandEvent): Group {
    // An execute whose response the capture did not see whole (the first of a connection caught
    // mid-stream) shows no columns: it stays in the group of unknown statements.
    const u = e.unknownStatement;
    if (e.sql === null) return this.group(u !== undefined && (e.status !== 'incomplete' || u.columns.length > 0) ? unknownStatementLabel(u) : UNKNOWN_STATEMENT);
    if (e.cmd === 'query') {
      const f = this.sql.fingerprintAndDigest(e.sql, sessionMode(e.noBackslashEscapes));
      return this.group(f.fingerprint, f.digest);
    }
    // (Keyed by the text alone: a prepared statement's text read in another mode is as rare as it is harmless here.)
    let g = defaultMode(e) ? this.statementGroups.get(e.sql) : undefined;
    if (g === undefined) {
      const f = this.sql.fingerprintAndDigest(e.sql, sessionMode(e.noBackslashEscapes));
      g = this.group(f.fingerprint, f.digest);
      if (this.statementGroups.size >= MAX_GROUPS) this.statementGroups.clear();
      if (defaultMode(e)) this.statementGroups.set(e.sql, g);
    }
    return g;
  }

  private group(fp: string, dg?: string): Group {
    let g = this.groups.get(fp);
    if (g !== undefined) return g;
    if (this.groups.size >= MAX_GROUPS && fp !== OTHER_FINGERPRINTS) return this.group(OTHER_FINGERPRINTS);
    g = new Group(fp, dg ?? digest(fp));
    this.groups.set(fp, g);
    return g;
  }

  private addError(e: CommandEvent, g: Group): void {
    const code = e.errorCode!;
    g.errors[String(code)] = (g.errors[String(code)] ?? 0) + 1;
    let s = this.errors.get(code);
    if (s === undefined) {
      // A SIGNAL's message is the client's text: masked here, where the statement is known.
      const message = e.error ?? '';
      s = { code, sqlState: e.sqlState, message: this.opts.raw ? message : redactErrorMessage(message, { code, sqlState: e.sqlState, sql: e.sql }), count: 0, digests: {} };
      this.errors.set(code, s);
    }
    s.count++;
    s.digests[g.digest] = (s.digests[g.digest] ?? 0) + 1;
  }

  private keepIfSlow(e: ShapedEvent, dg: string, latency: number): void {
    const s = this.slowest;
    if (s.length >= SLOWEST && (s[s.length - 1]!.latencyUs ?? -1) > latency) return;
    insertSample(s, sampleOf(e, dg), SLOWEST);
  }

  /**
   * Over the budget: drop the timelines of the fingerprints with the least time so far until a
   * quarter of the budget is free (so this runs rarely).
   */
  private dropTimelines(): void {
    const held = [...this.groups.values()].filter((g) => g.timeline !== null);
    held.sort((a, b) => a.latency.sum - b.latency.sum || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : a.fingerprint < b.fingerprint ? -1 : 1));
    for (const g of held) {
      if (this.timelineCells <= (this.timelineBudget * 3) / 4) break;
      this.timelineCells -= g.timeline!.held;
      g.timeline = null;
    }
  }

  /** Add another aggregate (of other captures) to this one. */
  merge(other: AggregateState): void {
    const st = other;
    for (const gs of st.groups) {
      const g = this.group(gs.fingerprint, gs.digest);
      g.count += gs.count;
      addCounts(g.commands, gs.commands);
      g.housekeepingUs += gs.housekeepingUs;
      g.latency.merge(LogHistogram.fromState(gs.latency));
      mergeStat(g.firstByte, gs.firstByte);
      mergeStat(g.transfer, gs.transfer);
      g.incomplete += gs.incomplete;
      addCounts(g.errors, gs.errors);
      mergeStat(g.rows, gs.rows);
      mergeStat(g.affected, gs.affected);
      g.warnings += gs.warnings;
      g.warningCommands += gs.warningCommands;
      g.noIndexUsed += gs.noIndexUsed;
      g.noGoodIndexUsed += gs.noGoodIndexUsed;
      g.bytesIn += gs.bytesIn;
      g.bytesOut += gs.bytesOut;
      g.who.merge(gs);
      if (gs.count > 0) {
        if (earlier(gs.first, g.first)) g.first = { ...gs.first };
        if (earlier(g.last, gs.last)) g.last = { ...gs.last };
      }
      if (gs.sample !== null && (g.sample === null || slower(gs.sample, g.sample))) g.sample = { ...gs.sample };
      // A part without the fingerprint's timeline (dropped, or an older summary) leaves it unknown.
      if (g.timeline !== null) {
        this.timelineCells -= g.timeline.held;
        if (gs.timeline) {
          g.timeline.merge(Timeline.fromState(gs.timeline, { maxBuckets: FINGERPRINT_BUCKETS, histograms: true }));
          this.timelineCells += g.timeline.held;
        } else g.timeline = null;
      }
    }
    if (this.timelineCells > this.timelineBudget) this.dropTimelines();
    const o = this.overall;
    const p = st.overall;
    o.events += p.events;
    o.commands += p.commands;
    o.queries += p.queries;
    o.logins += p.logins;
    o.loginErrors += p.loginErrors;
    o.loginsAborted += p.loginsAborted ?? 0;
    o.tlsLoginsUnseen += p.tlsLoginsUnseen ?? 0;
    o.errors += p.errors;
    o.incomplete += p.incomplete;
    o.warnings += p.warnings;
    o.latency.merge(LogHistogram.fromState(p.latency));
    mergeStat(o.firstByte, p.firstByte);
    mergeStat(o.transfer, p.transfer);
    o.bytesIn += p.bytesIn;
    o.bytesOut += p.bytesOut;
    o.who.merge(p);
    if (p.first && (o.first === null || earlier(p.first, o.first))) o.first = { ...p.first };
    if (p.last && (o.last === null || earlier(o.last, p.last))) o.last = { ...p.last };
    for (const es of st.errors) {
      const s = this.errors.get(es.code);
      if (s === undefined) {
        this.errors.set(es.code, { ...es, digests: { ...es.digests } });
        continue;
      }
      s.count += es.count;
      addCounts(s.digests, es.digests);
    }
    for (const s of st.slowest) insertSample(this.slowest, { ...s }, SLOWEST);
    this.timeline.merge(Timeline.fromState(st.timeline));
    addCounts(this.health, st.health);
    if (st.sessions) this.sessions.merge(st.sessions);
    // A summary saved before the connections view: its logins and prepares are not in it (said in the health notes).
    if (st.overall.events > 0 && st.sessions?.connections === undefined) this.health.summariesWithoutConnections = (this.health.summariesWithoutConnections ?? 0) + 1;
  }

  /** A snapshot: plain data (JSON-able), examples redacted unless the aggregate was made raw. */
  toState(): AggregateState {
    const red = (s: Sample | null): Sample | null => {
      if (s === null) return null;
      const shape = s.shape !== undefined ? s.shape : shapeOf(this.shaper, s.cmd, s.sql, s.sqlTruncated, s.paramTypes ?? null, s.noBackslashEscapes);
      if (this.opts.raw) return { ...s, ts: { ...s.ts }, shape };
      const { noBackslashEscapes: mode, ...rest } = s; // (redacted, the mode has done its work)
      return { ...rest, ts: { ...s.ts }, sql: s.sql === null || !SQL_COMMANDS.has(s.cmd) ? s.sql : this.sql.redact(s.sql, sessionMode(mode)), shape };
    };
    const groups: GroupState[] = [...this.groups.values()].map((g) => ({
      fingerprint: g.fingerprint,
      digest: g.digest,
      count: g.count,
      commands: { ...g.commands },
      housekeepingUs: g.housekeepingUs,
      latency: g.latency.toState(),
      firstByte: { ...g.firstByte },
      transfer: { ...g.transfer },
      incomplete: g.incomplete,
      errors: { ...g.errors },
      rows: { ...g.rows },
      affected: { ...g.affected },
      warnings: g.warnings,
      warningCommands: g.warningCommands,
      noIndexUsed: g.noIndexUsed,
      noGoodIndexUsed: g.noGoodIndexUsed,
      bytesIn: g.bytesIn,
      bytesOut: g.bytesOut,
      ...g.who.state(),
      first: g.count > 0 ? { ...g.first } : { sec: 0, nsec: 0 },
      last: g.count > 0 ? { ...g.last } : { sec: 0, nsec: 0 },
      sample: red(g.sample),
      timeline: g.timeline === null ? null : g.timeline.toState(),
    }));
    groups.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : a.fingerprint < b.fingerprint ? -1 : 1));
    const o = this.overall;
    return {
      groups,
      overall: {
        events: o.events,
        commands: o.commands,
        queries: o.queries,
        logins: o.logins,
        loginErrors: o.loginErrors,
        loginsAborted: o.loginsAborted,
        tlsLoginsUnseen: o.tlsLoginsUnseen,
        errors: o.errors,
        incomplete: o.incomplete,
        warnings: o.warnings,
        latency: o.latency.toState(),
        firstByte: { ...o.firstByte },
        transfer: { ...o.transfer },
        bytesIn: o.bytesIn,
        bytesOut: o.bytesOut,
        ...o.who.state(),
        first: o.first && { ...o.first },
        last: o.last && { ...o.last },
      },
      errors: [...this.errors.values()].sort((a, b) => a.code - b.code).map((e) => ({ ...e, message: this.opts.raw ? e.message : redactErrorMessage(e.message, { code: e.code, sqlState: e.sqlState }), digests: { ...e.digests } })),
      slowest: this.slowest.map((s) => red(s)!),
      timeline: this.timeline.toState(),
      health: { ...this.health },
      sessions: this.sessions.toState(),
    };
  }
}

/** The statement was sent with backslash escapes (the default; undefined: an event made without the field). */
const defaultMode = (e: CommandEvent): boolean => e.noBackslashEscapes !== true && e.noBackslashEscapes !== null;

const cloneTally = (t: Tally): Tally => ({ counts: { ...t.counts }, others: t.others });

/**
 * A command event that may bring its statement's shape: a bundle's events do (made where the raw
 * SQL was at hand; their own SQL is redacted, and the shape of `?` would read every literal as a
 * number). Undefined: made from `sql` when the snapshot is taken.
 */
export type ShapedEvent = CommandEvent & { shape?: string | null };

/**
 * The shape a sample gets (src/sql/shape.ts): SQL commands whose text is whole, else null. Read in
 * the connection's mode: with NO_BACKSLASH_ESCAPES `\` is an ordinary character (`'C:\'` ends a
 * string), so it is read as a space, which changes no literal's kind (a default reading would take
 * the next string's contents for SQL and keep them); mode not known (null): the shape both readings
 * agree on, else none.
 */
function shapeOf(shaper: LiteralShaper, cmd: string, sql: string | null, truncated: boolean, paramTypes: readonly number[] | null, noBackslashEscapes: boolean | null | undefined): string | null {
  if (sql === null || !SQL_COMMANDS.has(cmd) || truncated) return null;
  if (noBackslashEscapes === false || noBackslashEscapes === undefined || !sql.includes('\\')) return shaper.shape(sql, paramTypes);
  const plain = shaper.shape(sql.replaceAll('\\', ' '), paramTypes);
  return noBackslashEscapes || plain === shaper.shape(sql, paramTypes) ? plain : null;
}

/** The shape an example of `e` would get in a snapshot (what a bundle keeps of each event), made with the caller's shaper. */
export function eventShape(e: CommandEvent, shaper: LiteralShaper): string | null {
  return shapeOf(shaper, e.cmd, e.sql, e.sqlTruncated || (e.sql !== null && e.sql.length > MAX_SAMPLE_SQL), e.paramTypes, e.noBackslashEscapes);
}

function sampleOf(e: ShapedEvent, dg: string): Sample {
  const s: Sample = {
    ts: { sec: e.sec, nsec: e.nsec },
    cmd: e.cmd,
    // Cut raw, redacted later: a literal cut in the middle is masked to the end by redaction.
    // (A copy, not a slice: a V8 slice would keep the whole statement alive.)
    sql: e.sql !== null && e.sql.length > MAX_SAMPLE_SQL ? Buffer.from(e.sql.slice(0, MAX_SAMPLE_SQL), 'utf8').toString('utf8') : e.sql,
    sqlTruncated: e.sqlTruncated || (e.sql !== null && e.sql.length > MAX_SAMPLE_SQL),
    digest: dg,
    user: e.user,
    db: e.db,
    client: e.client,
    server: e.server,
    connId: e.connId,
    latencyUs: latencyOf(e),
    firstByteUs: e.latencyUs,
    rows: e.rows,
    affectedRows: e.affectedRows,
    errorCode: e.errorCode,
    paramTypes: e.paramTypes,
  };
  if (!defaultMode(e)) s.noBackslashEscapes = e.noBackslashEscapes;
  if (e.shape !== undefined) s.shape = e.shape;
  return s;
}

/** A time kept by a group or the overall tallies, moved to the event's (no new object per event). */
function setTime(t: { sec: number; nsec: number }, e: { sec: number; nsec: number }): void {
  t.sec = e.sec;
  t.nsec = e.nsec;
}

/** Insert into a slowest-first list, keeping at most `max`. */
function insertSample(list: Sample[], s: Sample, max: number): void {
  let i = list.length;
  while (i > 0 && slower(s, list[i - 1]!)) i--;
  if (i >= max) return;
  list.splice(i, 0, s);
  if (list.length > max) list.pop();
}

/**
 * What only the order of commands on a connection shows: transactions (from the server status
 * flags of every OK/EOF), N+1 loops (one statement, then another one repeated back to back, at
 * most once per row of the first) and retries after a deadlock or a lock wait timeout.
 *
 * Each connection's commands come in order (a connection is sequential, and `--threads` keeps a
 * connection in one worker), so a small per-connection record is enough; what it finds goes into
 * plain, mergeable state: sums, histograms, tallies and a top-N under a total order.
 *
 * Transactions: a transaction starts with the first command whose response has
 * SERVER_STATUS_IN_TRANS while none was open, and ends with the first command whose response
 * clears it: `commit` (COMMIT), `rollback` (ROLLBACK, or a deadlock: error 1213 rolls the whole
 * transaction back), `implicit` (anything else that ends it: DDL, SET autocommit=1, BEGIN inside a
 * transaction, …), `disconnect` (quit or a new login while open) or `unfinished` (still open when
 * the capture — or the filtered window — ended). Autocommitted single statements are not
 * transactions here: the server never reports them as one.
 */
import type { CommandEvent } from '../../src/mysql/session.js';
import { LogHistogram, type HistogramState } from './histogram.js';
import { Timeline, type TimelineState } from './timeline.js';

/** SERVER_STATUS_IN_TRANS. */
const IN_TRANS = 0x1;
/** Slowest transactions kept. */
export const SLOWEST_TRANSACTIONS = 10;
/** Statement digests remembered per transaction (for its example). */
const TXN_DIGESTS = 8;
/** Connections followed at once (past this the oldest is forgotten: a connection closed without a quit). */
const MAX_CONNECTIONS = 20_000;
/** N+1 and retry pairs remembered (past this, counted in `dropped`). */
const MAX_PAIRS = 5_000;
/** Commands after a deadlock within which the same statement counts as its retry. */
const RETRY_WINDOW = 50;

export const TXN_ENDS = ['commit', 'rollback', 'implicit', 'disconnect', 'unfinished'] as const;
export type TxnEnd = (typeof TXN_ENDS)[number];

export interface Time {
  sec: number;
  nsec: number;
}

/** One transaction, as the slowest are kept. */
export interface TxnSample {
  start: Time;
  client: string;
  server: string;
  connId: number | null;
  user: string | null;
  db: string | null;
  durationUs: number;
  /** Time between the end of one command's response and the next command, summed. */
  idleUs: number;
  /** The longest such wait. */
  maxIdleUs: number;
  /** Commands run inside it, BEGIN and COMMIT included. */
  statements: number;
  end: TxnEnd;
  /** The first distinct digests of its statements. */
  digests: string[];
}

export interface TransactionsState {
  count: number;
  ends: Record<string, number>;
  duration: HistogramState;
  /** Per transaction: its idle time summed. */
  idle: HistogramState;
  /** Per transaction: its longest idle wait. */
  maxIdle: HistogramState;
  statements: { sum: number; max: number };
  slowest: TxnSample[];
}

/** One N+1 pattern: the parent statement, then the child repeated at most once per parent row. */
export interface NPlusOneState {
  parent: string;
  child: string;
  /** Loops seen (a parent followed by at least 2 children). */
  loops: number;
  /** Child executions in those loops. */
  calls: number;
  /** Their time, µs. */
  timeUs: number;
  /** The longest loop. */
  maxLoop: number;
  /** Loops with exactly one child per parent row. */
  perRow: number;
  first: Time;
  connections: number;
}

export interface RetryState {
  digest: string;
  /** Error code (1213, 1205) → errors followed by a retry of the same statement. */
  retried: Record<string, number>;
  /** … and not retried within RETRY_WINDOW commands on the connection. */
  notRetried: Record<string, number>;
}

/** Connections seen from login to quit, by their commands (index k: k commands; the last: that many or more). */
export const PER_CONNECTION_MAX = 20;

/**
 * Connections: logins over time, the life of whole connections (login to quit) and their idle
 * time, and prepared statements (prepares, executes, never closed) — overall and by user and by
 * client host. Absent in summaries made before.
 */
export interface ConnectionsState {
  /** Logins per timeline bucket (`count`; `errors`: refused), for the peak connects per second. */
  logins: TimelineState;
  /** Whole connections: from the login's request to the quit. */
  lifetime: HistogramState;
  /** Per whole connection: the time with no command in flight (between a response's end and the next command), summed. */
  idle: HistogramState;
  /** Per whole connection: its longest such wait. */
  maxIdle: HistogramState;
  all: ConnGroupState;
  byUser: Record<string, ConnGroupState>;
  byClient: Record<string, ConnGroupState>;
}

/** Connection figures of one user or client host (or of all). */
export interface ConnGroupState {
  logins: number;
  loginErrors: number;
  loginsAborted: number;
  /** Connections seen from login to quit, and their lifetimes summed and longest, µs. */
  whole: number;
  lifetimeUs: number;
  maxLifetimeUs: number;
  /** Their idle time summed, and the longest single wait, µs. */
  idleUs: number;
  maxIdleUs: number;
  /** COM_STMT_PREPARE answered OK. */
  prepares: number;
  /** Executes of statements prepared in the capture; of statements prepared before it (their PREPARE not seen). */
  executes: number;
  executesUnknown: number;
  closes: number;
  /** Prepared in the capture, never closed: the connection quit (or changed user) with them open. */
  neverClosed: number;
  /** … still open when the capture ended (or the connection's end was not seen). */
  openAtEnd: number;
}

/** Users and client hosts followed in the connections view (past this, counted under OTHERS). */
export const MAX_CONN_GROUPS = 100;
/** The key of users or hosts beyond MAX_CONN_GROUPS. */
export const OTHERS = '\u0000others';

export interface SessionsState {
  transactions: TransactionsState;
  connections?: ConnectionsState;
  /** Whole connections (login to quit) by commands run: index k holds those with k commands, the last PER_CONNECTION_MAX or more. */
  commandsPerConnection?: number[];
  nPlusOne: NPlusOneState[];
  retries: RetryState[];
  /** Patterns not kept (past MAX_PAIRS). */
  dropped: number;
}

interface Open {
  start: Time;
  startUs: number;
  lastEndUs: number;
  idleUs: number;
  maxIdleUs: number;
  statements: number;
  digests: string[];
  client: string;
  server: string;
  connId: number | null;
  user: string | null;
  db: string | null;
}

interface Conn {
  txn: Open | null;
  /** The last statement run (the N+1 parent candidate) and its rows. */
  prevDigest: string | null;
  prevRows: number;
  /** The current run of one digest after a parent. */
  parentDigest: string | null;
  parentRows: number;
  runDigest: string | null;
  runCount: number;
  runTimeUs: number;
  runStart: Time | null;
  /** A deadlock / lock wait timeout waiting for its retry. */
  failed: { digest: string; code: number; left: number } | null;
  /** N+1 pairs seen on this connection (for the distinct connection count). */
  pairs: Set<string>;
  /** Its login was seen (so its commands can be counted whole), and the commands since. */
  login: boolean;
  commands: number;
  /** The login's request (µs), when seen and accepted; the user and client host it counts under. */
  loginUs: number | null;
  user: string;
  host: string;
  /** The end of the last command's response (µs), the idle time since the login, the longest wait. */
  lastEndUs: number | null;
  idleUs: number;
  maxIdleUs: number;
  /** Statements prepared in the capture and not closed, by SQL text (the text a close names too). */
  open: Map<string, number>;
  /** … past MAX_OPEN_TEXTS distinct texts, counted without their text. */
  openOverflow: number;
}

/**
 * Distinct statement texts followed open per connection: the server's own default limit
 * (max_prepared_stmt_count, for all connections together), so it is reached only by a client
 * that leaks prepares on a server configured above it; beyond, prepares are counted without
 * their text and a close of a text not followed closes one of them.
 */
const MAX_OPEN_TEXTS = 16_382;

const usOf = (sec: number, nsec: number): number => sec * 1e6 + nsec / 1000;

/**
 * The key of what the capture could not see — a null user (the login was not captured), a null
 * database on such a connection — distinct from '' (the anonymous user, no database selected).
 * Identifiers cannot hold NUL, so no name collides with it. Reports print it `(unknown)`.
 */
export const UNKNOWN = '\u0000unknown';

/** The figures of a ConnGroupState that add up in a merge (the other two are maxima). */
const SUMS = ['logins', 'loginErrors', 'loginsAborted', 'whole', 'lifetimeUs', 'idleUs', 'prepares', 'executes', 'executesUnknown', 'closes', 'neverClosed', 'openAtEnd'] as const;

export const newGroup = (): ConnGroupState => ({ ...(Object.fromEntries(SUMS.map((k) => [k, 0])) as Record<(typeof SUMS)[number], number>), maxLifetimeUs: 0, maxIdleUs: 0 });

function addGroup(a: ConnGroupState, b: ConnGroupState): void {
  for (const k of SUMS) a[k] += b[k];
  a.maxLifetimeUs = Math.max(a.maxLifetimeUs, b.maxLifetimeUs);
  a.maxIdleUs = Math.max(a.maxIdleUs, b.maxIdleUs);
}

/** The figures of `key` in a bounded table (past MAX_CONN_GROUPS keys, those of OTHERS). */
function groupIn(m: Map<string, ConnGroupState>, key: string): ConnGroupState {
  let g = m.get(key);
  if (g !== undefined) return g;
  if (m.size >= MAX_CONN_GROUPS && key !== OTHERS) return groupIn(m, OTHERS);
  g = newGroup();
  m.set(key, g);
  return g;
}

/** Host part of `ip:port` / `[v6]:port`. */
export function hostOf(endpoint: string): string {
  if (endpoint.startsWith('[')) return endpoint.slice(1, endpoint.indexOf(']'));
  const i = endpoint.lastIndexOf(':');
  return i < 0 ? endpoint : endpoint.slice(0, i);
}
const earlier = (a: Time, b: Time): boolean => a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);

/** Total order of kept transactions: longer first, then earlier, then by endpoints. */
function longer(a: TxnSample, b: TxnSample): boolean {
  if (a.durationUs !== b.durationUs) return a.durationUs > b.durationUs;
  if (a.start.sec !== b.start.sec) return a.start.sec < b.start.sec;
  if (a.start.nsec !== b.start.nsec) return a.start.nsec < b.start.nsec;
  if (a.client !== b.client) return a.client < b.client;
  return a.server < b.server;
}

/** Is this SQL a COMMIT or a ROLLBACK (not ROLLBACK TO SAVEPOINT)? Only its first words are read. */
export function txnVerb(sql: string | null): 'commit' | 'rollback' | null {
  if (sql === null) return null;
  const m = /^\s*(?:\/\*.*?\*\/\s*)*(commit|rollback)\b(\s+(?:work\s+)?to\b)?/i.exec(sql.length > 200 ? sql.slice(0, 200) : sql);
  if (m === null || m[2] !== undefined) return null;
  return m[1]!.toLowerCase() as 'commit' | 'rollback';
}

export class Sessions {
  private readonly conns = new Map<number, Conn>();
  private readonly t: Totals = newTotals();
  private readonly nPlusOne = new Map<string, NPlusOneState>();
  private readonly retries = new Map<string, RetryState>();
  private dropped = 0;
  private readonly perConnection = new Array<number>(PER_CONNECTION_MAX + 1).fill(0);
  private readonly logins = new Timeline();
  private readonly lifetime = new LogHistogram();
  private readonly connIdle = new LogHistogram();
  private readonly connMaxIdle = new LogHistogram();
  private readonly all = newGroup();
  private readonly byUser = new Map<string, ConnGroupState>();
  private readonly byClient = new Map<string, ConnGroupState>();

  /** Apply `f` to the figures of all, of the user and of the client host. */
  private each(user: string, host: string, f: (g: ConnGroupState) => void): void {
    f(this.all);
    f(groupIn(this.byUser, user));
    f(groupIn(this.byClient, host));
  }

  /** One event, with the digest of its group (null for commands without a statement). `run`: it ran a statement. */
  add(e: CommandEvent, digest: string | null, run: boolean): void {
    let c = this.conns.get(e.conn);
    if (c === undefined) {
      if (this.conns.size >= MAX_CONNECTIONS) {
        const oldest = this.conns.keys().next().value!;
        this.closeConn(oldest, 'unfinished');
      }
      c = { txn: null, prevDigest: null, prevRows: 0, parentDigest: null, parentRows: 0, runDigest: null, runCount: 0, runTimeUs: 0, runStart: null, failed: null, pairs: new Set(), login: false, commands: 0, loginUs: null, user: e.user ?? UNKNOWN, host: hostOf(e.client), lastEndUs: null, idleUs: 0, maxIdleUs: 0, open: new Map(), openOverflow: 0 };
      this.conns.set(e.conn, c);
    }
    const startUs = usOf(e.sec, e.nsec);
    const endUs = startUs + (e.responseUs ?? e.latencyUs ?? 0);
    if (e.cmd === 'connect') this.login(c, e, startUs, endUs);
    else if (c.lastEndUs !== null) {
      // Idle: from the end of the last response (or of the login) to this command.
      const gap = Math.max(0, startUs - c.lastEndUs);
      c.idleUs += gap;
      if (gap > c.maxIdleUs) c.maxIdleUs = gap;
    }
    if (e.cmd !== 'connect' && e.cmd !== 'quit') c.lastEndUs = Math.max(c.lastEndUs ?? 0, endUs);
    if (e.cmd === 'connect' || e.cmd === 'change_user' || e.cmd === 'quit') {
      if (c.txn !== null) this.endTxn(c, c.txn.lastEndUs, 'disconnect');
      this.endRun(c);
      if (e.cmd === 'connect' && !c.login && c.commands === 0) c.login = true;
      // The server deallocates a session's statements when it changes user (or ends).
      if (e.cmd === 'change_user' && e.status === 'ok') clearOpen(c);
      if (e.cmd === 'quit') {
        if (c.login) this.perConnection[Math.min(PER_CONNECTION_MAX, c.commands)]!++;
        this.quit(c, startUs);
        this.closeConn(e.conn, null);
      } else c.prevDigest = null;
      return;
    }
    c.commands++;
    this.statement(c, e);
    if (run && digest !== null) {
      this.loops(c, e, digest);
      this.retry(c, e, digest);
    }
    // Transactions.
    const t = c.txn;
    if (t !== null) {
      const gap = Math.max(0, startUs - t.lastEndUs);
      t.idleUs += gap;
      if (gap > t.maxIdleUs) t.maxIdleUs = gap;
      t.statements++;
      t.lastEndUs = endUs;
      if (digest !== null && t.digests.length < TXN_DIGESTS && !t.digests.includes(digest)) t.digests.push(digest);
      if (e.status === 'error' && e.errorCode === 1213) this.endTxn(c, endUs, 'rollback');
      else if (e.serverStatus !== null && (e.serverStatus & IN_TRANS) === 0) {
        const verb = txnVerb(e.cmd === 'query' ? e.sql : null);
        this.endTxn(c, endUs, verb ?? 'implicit');
      }
    } else if (e.serverStatus !== null && e.serverStatus & IN_TRANS) {
      c.txn = {
        start: { sec: e.sec, nsec: e.nsec },
        startUs,
        lastEndUs: endUs,
        idleUs: 0,
        maxIdleUs: 0,
        statements: 1,
        digests: digest === null ? [] : [digest],
        client: e.client,
        server: e.server,
        connId: e.connId,
        user: e.user,
        db: e.db,
      };
    }
  }

  /** A login: counted by user and client host; accepted, it starts a connection's life. A TLS session not decrypted is not one. */
  private login(c: Conn, e: CommandEvent, startUs: number, endUs: number): void {
    // A TLS session not decrypted: its login was not seen (the overall figures count it apart, not as a login).
    if (e.tls && e.tlsDecrypted === false) return;
    const user = e.user ?? UNKNOWN;
    const host = hostOf(e.client);
    this.logins.add(e.sec, null, e.status === 'error');
    this.each(user, host, (g) => {
      g.logins++;
      if (e.status === 'error') g.loginErrors++;
      else if (e.status === 'aborted') g.loginsAborted++;
    });
    if (e.status !== 'ok') return;
    c.loginUs = startUs;
    c.user = user;
    c.host = host;
    c.lastEndUs = endUs;
    c.idleUs = 0;
    c.maxIdleUs = 0;
  }

  /** Prepared statements: prepared, executed, closed (matched by their SQL text, as a close names it). */
  private statement(c: Conn, e: CommandEvent): void {
    switch (e.cmd) {
      case 'stmt_prepare':
        if (e.status !== 'ok' || e.sql === null) return;
        if (c.open.has(e.sql) || c.open.size < MAX_OPEN_TEXTS) c.open.set(e.sql, (c.open.get(e.sql) ?? 0) + 1);
        else c.openOverflow++;
        this.each(c.user, c.host, (g) => g.prepares++);
        return;
      case 'stmt_execute':
      case 'stmt_bulk_execute':
        if (e.sql === null) this.each(c.user, c.host, (g) => g.executesUnknown++);
        else this.each(c.user, c.host, (g) => g.executes++);
        return;
      case 'stmt_close': {
        const n = e.sql === null ? undefined : c.open.get(e.sql);
        if (n === undefined) {
          if (e.sql === null || c.openOverflow === 0) return;
          c.openOverflow--;
        } else if (n > 1) c.open.set(e.sql!, n - 1);
        else c.open.delete(e.sql!);
        this.each(c.user, c.host, (g) => g.closes++);
        return;
      }
      case 'reset_connection':
        if (e.status === 'ok') clearOpen(c);
        return;
      default:
        return;
    }
  }

  /** A quit: a connection whose login was seen is whole (its life and idle time count); what it left prepared was never closed. */
  private quit(c: Conn, quitUs: number): void {
    const open = openCount(c);
    clearOpen(c);
    const life = c.loginUs === null ? null : Math.max(0, Math.round(quitUs - c.loginUs));
    if (life !== null) {
      this.lifetime.add(life);
      this.connIdle.add(Math.round(c.idleUs));
      this.connMaxIdle.add(Math.round(c.maxIdleUs));
    }
    this.each(c.user, c.host, (g) => {
      g.neverClosed += open;
      if (life === null) return;
      g.whole++;
      g.lifetimeUs += life;
      if (life > g.maxLifetimeUs) g.maxLifetimeUs = life;
      g.idleUs += Math.round(c.idleUs);
      if (c.maxIdleUs > g.maxIdleUs) g.maxIdleUs = Math.round(c.maxIdleUs);
    });
  }

  /** N+1: a parent with rows, then one child digest repeated, at most once per parent row. */
  private loops(c: Conn, e: CommandEvent, digest: string): void {
    if (c.runDigest !== null && digest === c.runDigest && c.runCount < c.parentRows) {
      c.runCount++;
      c.runTimeUs += e.latencyUs ?? 0;
      return;
    }
    this.endRun(c);
    if (c.prevDigest !== null && c.prevRows >= 2 && digest !== c.prevDigest) {
      c.parentDigest = c.prevDigest;
      c.parentRows = c.prevRows;
      c.runDigest = digest;
      c.runCount = 1;
      c.runTimeUs = e.latencyUs ?? 0;
      c.runStart = { sec: e.sec, nsec: e.nsec };
    }
    c.prevDigest = digest;
    c.prevRows = e.rows ?? 0;
  }

  private endRun(c: Conn): void {
    if (c.runDigest !== null && c.parentDigest !== null && c.runCount >= 2) {
      const key = `${c.parentDigest}>${c.runDigest}`;
      let p = this.nPlusOne.get(key);
      if (p === undefined) {
        if (this.nPlusOne.size >= MAX_PAIRS) {
          this.dropped++;
          p = undefined;
        } else {
          p = { parent: c.parentDigest, child: c.runDigest, loops: 0, calls: 0, timeUs: 0, maxLoop: 0, perRow: 0, first: { ...c.runStart! }, connections: 0 };
          this.nPlusOne.set(key, p);
        }
      }
      if (p !== undefined) {
        p.loops++;
        p.calls += c.runCount;
        p.timeUs += c.runTimeUs;
        if (c.runCount > p.maxLoop) p.maxLoop = c.runCount;
        if (c.runCount === c.parentRows) p.perRow++;
        if (earlier(c.runStart!, p.first)) p.first = { ...c.runStart! };
        if (!c.pairs.has(key)) {
          c.pairs.add(key);
          p.connections++;
        }
      }
    }
    c.runDigest = null;
    c.parentDigest = null;
    c.runCount = 0;
    c.runTimeUs = 0;
    c.runStart = null;
  }

  /** WKL.006: after a deadlock (1213) or lock wait timeout (1205), does the same statement come again? */
  private retry(c: Conn, e: CommandEvent, digest: string): void {
    const f = c.failed;
    if (f !== null) {
      if (digest === f.digest) {
        this.retryCount(f.digest, f.code, true);
        c.failed = null;
      } else if (--f.left <= 0) {
        this.retryCount(f.digest, f.code, false);
        c.failed = null;
      }
    }
    if (e.status === 'error' && (e.errorCode === 1213 || e.errorCode === 1205)) {
      if (c.failed !== null) this.retryCount(c.failed.digest, c.failed.code, false);
      c.failed = { digest, code: e.errorCode, left: RETRY_WINDOW };
    }
  }

  private retryCount(digest: string, code: number, retried: boolean): void {
    let r = this.retries.get(digest);
    if (r === undefined) {
      if (this.retries.size >= MAX_PAIRS) {
        this.dropped++;
        return;
      }
      r = { digest, retried: {}, notRetried: {} };
      this.retries.set(digest, r);
    }
    const m = retried ? r.retried : r.notRetried;
    m[String(code)] = (m[String(code)] ?? 0) + 1;
  }

  private endTxn(c: Conn, endUs: number, end: TxnEnd): void {
    const t = c.txn!;
    c.txn = null;
    this.record(t, endUs, end, this.t);
  }

  /** Count a finished transaction into `into` (this, or a snapshot's copy). */
  private record(t: Open, endUs: number, end: TxnEnd, into: Totals): void {
    const durationUs = Math.max(0, Math.round(endUs - t.startUs));
    into.count++;
    into.ends[end] = (into.ends[end] ?? 0) + 1;
    into.duration.add(durationUs);
    into.idle.add(Math.round(t.idleUs));
    into.maxIdle.add(Math.round(t.maxIdleUs));
    into.statements.sum += t.statements;
    if (t.statements > into.statements.max) into.statements.max = t.statements;
    const s = into.slowest;
    if (s.length >= SLOWEST_TRANSACTIONS && s[s.length - 1]!.durationUs > durationUs) return;
    insertTxn(s, { start: { ...t.start }, client: t.client, server: t.server, connId: t.connId, user: t.user, db: t.db, durationUs, idleUs: Math.round(t.idleUs), maxIdleUs: Math.round(t.maxIdleUs), statements: t.statements, end, digests: [...t.digests] });
  }

  private closeConn(conn: number, end: TxnEnd | null): void {
    const c = this.conns.get(conn);
    if (c === undefined) return;
    if (c.txn !== null && end !== null) this.endTxn(c, c.txn.lastEndUs, end);
    this.endRun(c);
    if (c.failed !== null) this.retryCount(c.failed.digest, c.failed.code, false);
    const open = openCount(c);
    if (open > 0) this.each(c.user, c.host, (g) => (g.openAtEnd += open));
    this.conns.delete(conn);
  }

  merge(o: SessionsState): void {
    const t = o.transactions;
    const m = this.t;
    m.count += t.count;
    for (const [k, v] of Object.entries(t.ends)) m.ends[k] = (m.ends[k] ?? 0) + v;
    m.duration.merge(LogHistogram.fromState(t.duration));
    m.idle.merge(LogHistogram.fromState(t.idle));
    m.maxIdle.merge(LogHistogram.fromState(t.maxIdle));
    m.statements.sum += t.statements.sum;
    if (t.statements.max > m.statements.max) m.statements.max = t.statements.max;
    for (const s of t.slowest) insertTxn(m.slowest, { ...s, start: { ...s.start }, digests: [...s.digests] });
    for (const p of o.nPlusOne) {
      const key = `${p.parent}>${p.child}`;
      const q = this.nPlusOne.get(key);
      if (q === undefined) {
        if (this.nPlusOne.size >= MAX_PAIRS) this.dropped++;
        else this.nPlusOne.set(key, { ...p, first: { ...p.first } });
        continue;
      }
      q.loops += p.loops;
      q.calls += p.calls;
      q.timeUs += p.timeUs;
      q.perRow += p.perRow;
      q.connections += p.connections;
      if (p.maxLoop > q.maxLoop) q.maxLoop = p.maxLoop;
      if (earlier(p.first, q.first)) q.first = { ...p.first };
    }
    for (const r of o.retries) {
      const q = this.retries.get(r.digest);
      if (q === undefined) {
        if (this.retries.size >= MAX_PAIRS) this.dropped++;
        else this.retries.set(r.digest, { digest: r.digest, retried: { ...r.retried }, notRetried: { ...r.notRetried } });
        continue;
      }
      for (const [k, v] of Object.entries(r.retried)) q.retried[k] = (q.retried[k] ?? 0) + v;
      for (const [k, v] of Object.entries(r.notRetried)) q.notRetried[k] = (q.notRetried[k] ?? 0) + v;
    }
    this.dropped += o.dropped;
    o.commandsPerConnection?.forEach((n, i) => (this.perConnection[i]! += n));
    const cs = o.connections;
    if (cs !== undefined) {
      this.logins.merge(Timeline.fromState(cs.logins));
      this.lifetime.merge(LogHistogram.fromState(cs.lifetime));
      this.connIdle.merge(LogHistogram.fromState(cs.idle));
      this.connMaxIdle.merge(LogHistogram.fromState(cs.maxIdle));
      addGroup(this.all, cs.all);
      for (const k of Object.keys(cs.byUser).sort()) addGroup(groupIn(this.byUser, k), cs.byUser[k]!);
      for (const k of Object.keys(cs.byClient).sort()) addGroup(groupIn(this.byClient, k), cs.byClient[k]!);
    }
  }

  /** The connections view's state; statements still prepared on open connections count as open at the end. */
  private connectionsState(): ConnectionsState {
    const copy = (m: Map<string, ConnGroupState>): Record<string, ConnGroupState> => Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, g]) => [k, { ...g }]));
    const out: ConnectionsState = { logins: this.logins.toState(), lifetime: this.lifetime.toState(), idle: this.connIdle.toState(), maxIdle: this.connMaxIdle.toState(), all: { ...this.all }, byUser: copy(this.byUser), byClient: copy(this.byClient) };
    for (const c of this.conns.values()) {
      const open = openCount(c);
      if (open === 0) continue;
      out.all.openAtEnd += open;
      // (The keys exist: the prepares were counted under them.)
      (out.byUser[c.user] ?? out.byUser[OTHERS]!).openAtEnd += open;
      (out.byClient[c.host] ?? out.byClient[OTHERS]!).openAtEnd += open;
    }
    return out;
  }

  /**
   * A snapshot. What is still open (transactions, loops, errors waiting for a retry) is counted in
   * the snapshot as it stands — a transaction as `unfinished` — without changing this tracker.
   */
  toState(): SessionsState {
    const m = this.t;
    const snap: Totals = { count: m.count, ends: { ...m.ends }, duration: LogHistogram.fromState(m.duration.toState()), idle: LogHistogram.fromState(m.idle.toState()), maxIdle: LogHistogram.fromState(m.maxIdle.toState()), statements: { ...m.statements }, slowest: m.slowest.map((s) => ({ ...s, start: { ...s.start }, digests: [...s.digests] })) };
    const open = [...this.conns.values()].filter((c) => c.txn !== null).sort((a, b) => a.txn!.startUs - b.txn!.startUs || (a.txn!.client < b.txn!.client ? -1 : 1));
    for (const c of open) this.record(c.txn!, c.txn!.lastEndUs, 'unfinished', snap);
    // Loops and pending retries still open: counted through a copy of this tracker's tables.
    const copy = new Sessions();
    copy.merge({ transactions: { count: 0, ends: {}, duration: new LogHistogram().toState(), idle: new LogHistogram().toState(), maxIdle: new LogHistogram().toState(), statements: { sum: 0, max: 0 }, slowest: [] }, nPlusOne: [...this.nPlusOne.values()], retries: [...this.retries.values()], dropped: this.dropped });
    for (const c of this.conns.values()) {
      const cc: Conn = { ...c, txn: null, pairs: new Set(c.pairs) };
      copy.endRun(cc);
      if (cc.failed !== null) copy.retryCount(cc.failed.digest, cc.failed.code, false);
    }
    const ends: Record<string, number> = {};
    for (const k of TXN_ENDS) if (snap.ends[k]) ends[k] = snap.ends[k];
    return {
      transactions: { count: snap.count, ends, duration: snap.duration.toState(), idle: snap.idle.toState(), maxIdle: snap.maxIdle.toState(), statements: snap.statements, slowest: snap.slowest },
      nPlusOne: [...copy.nPlusOne.values()].sort((a, b) => (a.parent < b.parent ? -1 : a.parent > b.parent ? 1 : a.child < b.child ? -1 : a.child > b.child ? 1 : 0)),
      retries: [...copy.retries.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
      dropped: copy.dropped,
      commandsPerConnection: [...this.perConnection],
      connections: this.connectionsState(),
    };
  }
}

/** Statements a connection prepared in the capture and has not closed. */
function openCount(c: Conn): number {
  let n = c.openOverflow;
  for (const v of c.open.values()) n += v;
  return n;
}

function clearOpen(c: Conn): void {
  c.open.clear();
  c.openOverflow = 0;
}

/** TransactionsState while counting: live histograms. */
type Totals = Omit<TransactionsState, 'duration' | 'idle' | 'maxIdle'> & { duration: LogHistogram; idle: LogHistogram; maxIdle: LogHistogram };

const newTotals = (): Totals => ({ count: 0, ends: {}, duration: new LogHistogram(), idle: new LogHistogram(), maxIdle: new LogHistogram(), statements: { sum: 0, max: 0 }, slowest: [] });

function insertTxn(list: TxnSample[], s: TxnSample): void {
  let i = list.length;
  while (i > 0 && longer(s, list[i - 1]!)) i--;
  if (i >= SLOWEST_TRANSACTIONS) return;
  list.splice(i, 0, s);
  if (list.length > SLOWEST_TRANSACTIONS) list.pop();
}

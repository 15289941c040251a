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

export interface SessionsState {
  transactions: TransactionsState;
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
}

const usOf = (sec: number, nsec: number): number => sec * 1e6 + nsec / 1000;
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

  /** One event, with the digest of its group (null for commands without a statement). `run`: it ran a statement. */
  add(e: CommandEvent, digest: string | null, run: boolean): void {
    let c = this.conns.get(e.conn);
    if (c === undefined) {
      if (this.conns.size >= MAX_CONNECTIONS) {
        const oldest = this.conns.keys().next().value!;
        this.closeConn(oldest, 'unfinished');
      }
      c = { txn: null, prevDigest: null, prevRows: 0, parentDigest: null, parentRows: 0, runDigest: null, runCount: 0, runTimeUs: 0, runStart: null, failed: null, pairs: new Set(), login: false, commands: 0 };
      this.conns.set(e.conn, c);
    }
    if (e.cmd === 'connect' || e.cmd === 'change_user' || e.cmd === 'quit') {
      if (c.txn !== null) this.endTxn(c, c.txn.lastEndUs, 'disconnect');
      this.endRun(c);
      if (e.cmd === 'connect' && !c.login && c.commands === 0) c.login = true;
      if (e.cmd === 'quit') {
        if (c.login) this.perConnection[Math.min(PER_CONNECTION_MAX, c.commands)]!++;
        this.closeConn(e.conn, null);
      } else c.prevDigest = null;
      return;
    }
    c.commands++;
    const startUs = usOf(e.sec, e.nsec);
    const endUs = startUs + (e.responseUs ?? e.latencyUs ?? 0);
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
    };
  }
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

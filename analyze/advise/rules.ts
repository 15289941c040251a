/**
 * Optimization opportunities: findings from a report (the server's flags per fingerprint, the
 * statements' text, transactions and the order of commands on connections) and, when given, the
 * schema (indexes, primary keys, column types). Pure: the same report and schema always give the
 * same findings, ranked by the time at stake, then the round trips.
 *
 * Every rule is documented with an example in docs/advise.md. Findings name digests, tables,
 * columns and indexes, and carry examples from the report, which are redacted unless the report
 * was made with --no-redact: no rule ever adds a literal of its own (a statement's shape, which
 * knows literal types, is read, never shown).
 */
import type { FingerprintJson, Report } from '../report/report.js';
import { count, dur } from '../format.js';
import { modelOf, type ColRef, type Predicate, type StatementModel } from './statement.js';
import { isBlobOrText, isStringColumn, qualified, quote, Schema, type TableIndex, type TableModel } from './schema.js';

export type Severity = 'high' | 'medium' | 'low' | 'info';

export interface Finding {
  rank: number;
  rule: string;
  severity: Severity;
  title: string;
  digests: string[];
  tables: string[];
  evidence: {
    /** What was counted (calls, flagged executions, loops, …). */
    counts: Record<string, number>;
    connections: number | null;
    first: string | null;
    last: string | null;
    /** Example statements, as the report holds them (redacted unless --no-redact). */
    examples: string[];
    /** One sentence on what was seen. */
    detail: string;
  };
  impact: {
    /** Time of the statements concerned in the capture, µs (what fixing it could save, at most). */
    time_us: number;
    /** Round trips at stake (commands that need not be sent). */
    round_trips: number;
    share_of_time: number;
  };
  advice: string;
  /** The exact statement for index and key findings (null for the others). */
  ddl: string | null;
}

export interface Thresholds {
  /** IDX.001: share of a fingerprint's executions the server flagged (no index / no good index used). */
  noIndexShare: number;
  /** ARG.005: values in an IN list. */
  inListMax: number;
  /** CLA.003: LIMIT offset. */
  offsetMin: number;
  /** WKL.001: average child statements per loop. */
  nPlusOneLoop: number;
  /** WKL.002: executes per prepare, at most (and at least this many prepares: prepareMin). */
  executesPerPrepare: number;
  prepareMin: number;
  /** WKL.003: commands a short connection runs, at most (and at least loginMin short connections, half of those seen whole). */
  commandsPerLogin: number;
  loginMin: number;
  /** WKL.004: a wait inside a transaction, µs. */
  idleInTransactionUs: number;
  /** WKL.005: a transaction's duration, µs. */
  longTransactionUs: number;
  /** WKL.007: session chatter per statement (and at least chatterMin commands). */
  chatterShare: number;
  chatterMin: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  noIndexShare: 0.5,
  inListMax: 100,
  offsetMin: 1000,
  nPlusOneLoop: 3,
  executesPerPrepare: 1.5,
  prepareMin: 10,
  commandsPerLogin: 5,
  loginMin: 10,
  idleInTransactionUs: 1_000_000,
  longTransactionUs: 5_000_000,
  chatterShare: 0.2,
  chatterMin: 10,
};

export interface AdviseInput {
  /** Statement shapes by digest (typed literals, no values: src/sql/shape.ts), when the aggregate is at hand. */
  shapes?: ReadonlyMap<string, string | null>;
  schema?: Schema | null;
  thresholds?: Partial<Thresholds>;
}

/** Fingerprints whose statements are read by the text rules (in rank order; the parser is slow on huge ones). */
const PARSED = 1000;
const STATEMENT_KINDS = new Set(['select', 'insert', 'update', 'delete', 'replace']);
const SEVERITY_ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2, info: 3 };

const modelCache = new Map<string, ReturnType<typeof modelOf>>();
function cachedModel(fp: string, shape: string | null): ReturnType<typeof modelOf> {
  const key = `${fp}\0${shape ?? ''}`;
  if (modelCache.has(key)) return modelCache.get(key)!;
  const m = modelOf(fp, shape);
  if (modelCache.size >= 20_000) modelCache.clear();
  modelCache.set(key, m);
  return m;
}

/** Session chatter: statements a driver or pool sends around the real ones. */
const CHATTER = [/^set (?:session |@@session\.|@@|local )?(?:autocommit|names|character_set_\w+|collation_connection|sql_mode|time_zone|transaction_isolation|tx_isolation|session transaction)\b/, /^set names\b/, /^set character set\b/, /^select @@[\w.]+(?:\s*,\s*@@[\w.]+)*(?: limit \?)?$/, /^show (?:session |global )?variables\b/, /^select database\(\)$/, /^administrator command: (?:Ping|Init DB)$/];
export const isChatter = (fp: string): boolean => CHATTER.some((r) => r.test(fp));

export function findOpportunities(report: Report, input: AdviseInput = {}): Finding[] {
  const th = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const schema = input.schema ?? null;
  const totalTime = report.fingerprints.reduce((a, f) => a + f.latency_us.total, 0);
  const byDigest = new Map(report.fingerprints.map((f) => [f.digest, f]));
  const out: Omit<Finding, 'rank'>[] = [];
  const share = (t: number) => (totalTime > 0 ? Number((t / totalTime).toFixed(6)) : 0);
  const example = (f: FingerprintJson | undefined): string[] => (f?.example?.sql ? [f.example.sql] : []);

  const add: Add = (x) => {
    const firsts = x.fps.map((f) => f.first_seen).filter((s): s is string => s !== null).sort();
    const lasts = x.fps.map((f) => f.last_seen).filter((s): s is string => s !== null).sort();
    out.push({
      rule: x.rule,
      severity: x.severity,
      title: x.title,
      digests: x.fps.map((f) => f.digest),
      tables: x.tables ?? [...new Set(x.fps.flatMap((f) => f.tables))],
      evidence: { counts: x.counts, connections: x.connections ?? null, first: x.first !== undefined ? x.first : (firsts[0] ?? null), last: x.last !== undefined ? x.last : (lasts[lasts.length - 1] ?? null), examples: x.examples ?? x.fps.flatMap(example).slice(0, 3), detail: x.detail },
      impact: { time_us: Math.round(x.time), round_trips: Math.round(x.trips), share_of_time: share(x.time) },
      advice: x.advice,
      ddl: x.ddl ?? null,
    });
  };

  // ---- per fingerprint: the server's flags, the statement's text, with the schema ----
  const indexProposals = new Map<string, { table: TableModel; columns: string[]; fps: FingerprintJson[]; time: number; flagged: number }>();
  report.fingerprints.forEach((f, i) => {
    if (!STATEMENT_KINDS.has(f.kind) || f.count === 0) return;
    // A statement that never succeeded (every execution an error: a typo, a missing table, a duplicate key) is reported
    // as failing; advice on its text or indexes would treat it as if it had run.
    if (f.errors >= f.count) {
      const codes = Object.entries(f.errors_by_code).map(([code, k]) => `${code} ×${n(k)}`).join(', ');
      add({
        rule: 'ERR.001',
        severity: 'medium',
        title: `Always fails: ${f.count === 1 ? 'its one execution' : `all ${count(f.count, 'execution')}`} returned an error (${codes})`,
        fps: [f],
        counts: { calls: f.count, errors: f.errors },
        detail: `Every execution ended in an error (${codes}); it never once succeeded, so no other rule judges it.`,
        time: f.latency_us.total,
        trips: f.count,
        advice: 'Fix the statement or the code path that sends it (the error code says what: 1146 unknown table, 1054 unknown column, 1064 syntax, 1062 a duplicate key: the row exists); see the error column of the report.',
      });
      return;
    }
    const flagged = Math.max(f.no_index_used, f.no_good_index_used);
    const flaggedShare = flagged / f.count;
    const flaggedTime = f.latency_us.total * flaggedShare;
    if (flagged > 0 && flaggedShare >= th.noIndexShare) {
      add({
        rule: 'IDX.001',
        severity: f.share_of_time >= 0.1 ? 'high' : 'medium',
        title: `No index used (or no good index) in ${pct(flaggedShare)} of executions`,
        fps: [f],
        counts: { calls: f.count, no_index_used: f.no_index_used, no_good_index_used: f.no_good_index_used },
        detail: `SERVER_QUERY_NO_INDEX_USED on ${n(f.no_index_used)} and SERVER_QUERY_NO_GOOD_INDEX_USED on ${n(f.no_good_index_used)} of ${count(f.count, 'execution')}: each read its table${f.tables.length > 1 ? 's' : ''} without an index.`,
        time: flaggedTime,
        trips: 0,
        advice: schema ? 'See IDX.002 for the index to add, when the filter allows one; else EXPLAIN the example.' : 'EXPLAIN the example; give advise the schema (--schema-from) for the index to add.',
      });
    }
    if (i >= PARSED) return;
    const shape = input.shapes?.get(f.digest) ?? null;
    const read = cachedModel(f.fingerprint, shape);
    if (read === null) return;
    const { model: m, typed } = read;
    textRules(f, m, typed, th, add);
    if (schema !== null) {
      schemaStatementRules(f, m, typed, schema, add);
      if (flagged > 0 && flaggedShare >= th.noIndexShare) {
        for (const p of proposeIndexes(f, m, typed, schema)) {
          const key = `${p.table.db}.${p.table.name}\0${p.columns.join(',')}`;
          const q = indexProposals.get(key) ?? { table: p.table, columns: p.columns, fps: [], time: 0, flagged: 0 };
          q.fps.push(f);
          q.time += flaggedTime;
          q.flagged += flagged;
          indexProposals.set(key, q);
        }
      }
    }
  });
  for (const p of indexProposals.values()) {
    const name = indexName(p.table, p.columns);
    const cols = p.columns.map((c) => `${quote(c)}${isBlobOrText(p.table.columns.get(c)) ? '(255)' : ''}`).join(', ');
    add({
      rule: 'IDX.002',
      severity: 'high',
      title: `Missing index on ${p.table.name} (${p.columns.join(', ')})`,
      fps: p.fps,
      tables: [`${p.table.db}.${p.table.name}`],
      counts: { flagged_executions: p.flagged },
      detail: `The server flagged ${count(p.flagged, 'execution')} as using no (good) index; no index of ${p.table.name} starts with the columns of ${p.fps.length === 1 ? 'its' : 'their'} equality filters, then range filter, joins or ORDER BY/GROUP BY (${p.columns.join(', ')}).`,
      time: p.time,
      trips: 0,
      advice: `Add the index (check with EXPLAIN on a copy first; on a large table use an online schema change):`,
      ddl: `ALTER TABLE ${qualified(p.table)} ADD INDEX ${quote(name)} (${cols})`,
    });
  }

  // ---- the schema alone ----
  if (schema !== null) {
    const touching = (t: TableModel, kinds: Set<string> | null) => report.fingerprints.filter((f) => (kinds === null || kinds.has(f.kind)) && f.tables.some((n) => schema.find(n, Object.keys(f.databases)) === t));
    const WRITES = new Set(['insert', 'update', 'delete', 'replace']);
    for (const t of schema.all()) {
      if (!t.base) continue;
      for (const r of redundantIndexes(t)) {
        const fps = touching(t, WRITES);
        add({
          rule: 'IDX.003',
          severity: 'medium',
          title: `Index ${r.drop.name} on ${t.name} is ${r.exact ? 'a duplicate of' : 'a prefix of'} ${r.keep.name}`,
          fps,
          tables: [`${t.db}.${t.name}`],
          counts: { write_statements: fps.reduce((a, f) => a + f.count, 0) },
          detail: `${r.drop.name} (${r.drop.columns.map(colText).join(', ')}) ${r.exact ? 'has the same columns as' : 'is a left prefix of'} ${r.keep.name} (${r.keep.columns.map(colText).join(', ')}): every lookup it serves, ${r.keep.name} serves too, and every write maintains both.`,
          time: fps.reduce((a, f) => a + f.latency_us.total, 0),
          trips: 0,
          advice: 'Drop the redundant index (after checking no query names it in an index hint):',
          ddl: `ALTER TABLE ${qualified(t)} DROP INDEX ${quote(r.drop.name)}`,
        });
      }
      if (t.primary === null && (t.engine === null || /innodb|aria|myisam|rocksdb/i.test(t.engine))) {
        const fps = touching(t, null);
        const candidate = t.indexes.find((i) => i.unique && i.columns.every((c) => t.notNull.has(c.name) && c.sub === null));
        add({
          rule: 'KEY.001',
          severity: 'medium',
          title: `Table ${t.name} has no primary key`,
          fps,
          tables: [`${t.db}.${t.name}`],
          counts: { statements: fps.reduce((a, f) => a + f.count, 0) },
          detail: `${t.name} (${t.engine ?? 'engine unknown'}) has no PRIMARY KEY: InnoDB clusters it on a hidden row id, secondary indexes cannot reach rows by a key of the table, and row-based replication scans it for every changed row.`,
          time: fps.reduce((a, f) => a + f.latency_us.total, 0),
          trips: 0,
          advice: candidate ? `Promote the unique NOT NULL index ${candidate.name} to the primary key:` : 'Add a primary key (a surrogate key when no column identifies a row):',
          ddl: candidate ? `ALTER TABLE ${qualified(t)} DROP INDEX ${quote(candidate.name)}, ADD PRIMARY KEY (${candidate.columns.map((c) => quote(c.name)).join(', ')})` : `ALTER TABLE ${qualified(t)} ADD COLUMN ${quote('id')} BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST`,
        });
      }
    }
  }

  // ---- the workload ----
  for (const p of report.workload.n_plus_one) {
    if (p.calls / p.loops < th.nPlusOneLoop) continue;
    const parent = byDigest.get(p.parent);
    const child = byDigest.get(p.child);
    if (parent === undefined || child === undefined) continue;
    add({
      rule: 'WKL.001',
      severity: p.calls >= 100 ? 'high' : 'medium',
      title: `N+1: ${child.digest} runs once per row of ${parent.digest}`,
      fps: [parent, child],
      tables: [...new Set([...parent.tables, ...child.tables])],
      counts: { loops: p.loops, calls: p.calls, longest_loop: p.max_loop, one_per_row: p.per_row },
      connections: p.connections,
      first: p.first,
      detail: `${count(p.loops, 'time')}, a statement returned rows and the application then ran another statement ${figure(p.calls / p.loops)} times on average, back to back on the same connection (${count(p.per_row, 'loop')} exactly one per row).`,
      time: p.time_us,
      trips: p.calls - p.loops,
      advice: 'Fetch the rows of the loop in one statement: a JOIN with the first query, or one IN (…) list of the keys (batch loading in the ORM).',
    });
  }
  {
    const fps = report.fingerprints.filter((f) => (f.commands.stmt_prepare ?? 0) >= th.prepareMin && (f.commands.stmt_execute ?? 0) / f.commands.stmt_prepare! <= th.executesPerPrepare);
    if (fps.length > 0) {
      const prepares = fps.reduce((a, f) => a + (f.commands.stmt_prepare ?? 0), 0);
      const closes = fps.reduce((a, f) => a + (f.commands.stmt_close ?? 0), 0);
      const executes = fps.reduce((a, f) => a + (f.commands.stmt_execute ?? 0), 0);
      add({
        rule: 'WKL.002',
        severity: 'medium',
        title: `Prepared statements prepared for every execution (${count(fps.length, 'fingerprint')})`,
        fps,
        counts: { prepares, executes, closes },
        detail: `${n(prepares)} COM_STMT_PREPARE for ${n(executes)} COM_STMT_EXECUTE (${figure(executes / prepares)} per prepare), and ${count(closes, 'close')}: every call pays a prepare round trip and the server parses the statement again.`,
        time: fps.reduce((a, f) => a + f.housekeeping_us, 0),
        trips: prepares + closes,
        advice: 'Keep prepared statements for the connection\'s life (the driver\'s statement cache: cachePrepStmts for Connector/J, a cached statement in mysql2), or use client-side prepared statements for one-off calls.',
      });
    }
  }
  {
    // Connections seen whole (login to quit) that ran only a few commands.
    const per = report.workload.commands_per_connection ?? [];
    const whole = per.reduce((a, b) => a + b, 0);
    const short = per.slice(0, Math.floor(th.commandsPerLogin) + 1).reduce((a, b) => a + b, 0);
    const connect = report.fingerprints.find((f) => f.kind === 'connect');
    if (short >= th.loginMin && short * 2 >= whole) {
      const avgLogin = connect?.latency_us.avg ?? 0;
      add({
        rule: 'WKL.003',
        severity: 'medium',
        title: `A new connection for every few commands: ${n(short)} of ${count(whole, 'connection')} ran at most ${n(th.commandsPerLogin)}`,
        fps: connect ? [connect] : [],
        tables: [],
        counts: { short_connections: short, whole_connections: whole, logins: report.overall.logins },
        detail: `${count(short, 'connection')} seen from login to quit ran ${count(th.commandsPerLogin, 'command')} or fewer (${per.slice(0, 4).map((k, i) => `${n(k)} with ${i}`).join(', ')}, …): each login costs a TCP handshake, the authentication exchange and a thread on the server.`,
        time: avgLogin * short,
        trips: short * 2,
        advice: 'Use a connection pool (or persistent connections) so connections are reused across requests.',
        examples: [],
      });
    }
  }
  const tx = report.transactions;
  {
    const idle = tx.slowest.filter((t) => t.max_idle_us >= th.idleInTransactionUs);
    if (tx.max_idle_us.max !== null && tx.max_idle_us.max >= th.idleInTransactionUs) {
      const digests = [...new Set(idle.flatMap((t) => t.digests))];
      add({
        rule: 'WKL.004',
        severity: 'high',
        title: `Idle in transaction: up to ${dur(tx.max_idle_us.max)} between two statements of an open transaction`,
        fps: digests.map((d) => byDigest.get(d)).filter((f): f is FingerprintJson => f !== undefined),
        counts: { transactions: tx.count, listed_over_threshold: idle.length },
        connections: new Set(idle.map((t) => `${t.client}>${t.server}`)).size,
        first: idle.map((t) => t.start).sort()[0] ?? null,
        last: null,
        detail: `While SERVER_STATUS_IN_TRANS was set the connection sent nothing for ${dur(tx.max_idle_us.max)} (transactions' idle time in all: ${dur(tx.idle_us.total)}): locks and the read view were held all that time. ${idle.slice(0, 3).map((t) => `${t.start} ${t.user ?? '?'}@${t.client}: ${dur(t.max_idle_us)} idle`).join('; ')}`,
        time: idle.reduce((a, t) => a + t.idle_us, 0),
        trips: 0,
        advice: 'Do the application\'s work (remote calls, user input, file I/O) before BEGIN or after COMMIT; keep only the statements inside the transaction.',
        examples: [],
      });
    }
    const long = tx.slowest.filter((t) => t.duration_us >= th.longTransactionUs);
    if (tx.duration_us.max !== null && tx.duration_us.max >= th.longTransactionUs) {
      const digests = [...new Set(long.flatMap((t) => t.digests))];
      add({
        rule: 'WKL.005',
        severity: 'medium',
        title: `Long transactions: up to ${dur(tx.duration_us.max)}`,
        fps: digests.map((d) => byDigest.get(d)).filter((f): f is FingerprintJson => f !== undefined),
        counts: { transactions: tx.count, listed_over_threshold: long.length },
        connections: new Set(long.map((t) => `${t.client}>${t.server}`)).size,
        first: long.map((t) => t.start).sort()[0] ?? null,
        last: null,
        detail: `Transactions p50 ${dur(tx.duration_us.p50)}, p99 ${dur(tx.duration_us.p99)}, max ${dur(tx.duration_us.max)}. ${long.slice(0, 3).map((t) => `${t.start} ${t.user ?? '?'}@${t.client}: ${dur(t.duration_us)}, ${count(t.statements, 'command')}, ${t.end}`).join('; ')}`,
        time: long.reduce((a, t) => a + t.duration_us, 0),
        trips: 0,
        advice: 'Split long transactions into smaller ones (batches of rows), and commit as soon as the work that must be atomic is done: long transactions hold locks, block purge and grow the undo log.',
        examples: [],
      });
    }
  }
  for (const r of report.workload.retries) {
    const retried = Object.values(r.retried).reduce((a, b) => a + b, 0);
    const failed = retried + Object.values(r.not_retried).reduce((a, b) => a + b, 0);
    const f = byDigest.get(r.digest);
    if (f === undefined || retried === 0) continue;
    const codes = Object.keys({ ...r.retried, ...r.not_retried }).map(Number).sort();
    add({
      rule: 'WKL.006',
      severity: 'high',
      title: `Retried after ${codes.map((c) => (c === 1213 ? 'deadlock (1213)' : c === 1205 ? 'lock wait timeout (1205)' : String(c))).join(' and ')}`,
      fps: [f],
      counts: { failed, retried, ...Object.fromEntries(codes.map((c) => [`error_${c}`, (r.retried[c] ?? 0) + (r.not_retried[c] ?? 0)])) },
      detail: `${count(failed, 'execution')} failed on a lock and ${n(retried)} ${retried === 1 ? 'was' : 'were'} sent again on the same connection: the work before the failure is done twice.`,
      time: (f.latency_us.avg ?? 0) * retried,
      trips: retried,
      advice: 'Take locks in one order everywhere (sort the keys you update), keep transactions short, and index the filter of the statement so it locks only the rows it changes.',
    });
  }
  {
    const fps = report.fingerprints.filter((f) => isChatter(f.fingerprint));
    const chatter = fps.reduce((a, f) => a + f.count, 0);
    const statements = report.fingerprints.filter((f) => STATEMENT_KINDS.has(f.kind) && !isChatter(f.fingerprint)).reduce((a, f) => a + f.count, 0);
    if (chatter >= th.chatterMin && chatter >= th.chatterShare * Math.max(1, statements)) {
      add({
        rule: 'WKL.007',
        severity: 'low',
        title: `Session chatter: ${count(chatter, 'session statement')} for ${count(statements, 'query', 'queries')}`,
        fps,
        counts: { chatter, statements },
        detail: `${fps.map((f) => `${f.fingerprint} (${n(f.count)})`).slice(0, 5).join(', ')}: sent around the application's statements, each a round trip.`,
        time: fps.reduce((a, f) => a + f.latency_us.total, 0),
        trips: chatter,
        advice: 'Set session variables once per connection (the pool\'s init SQL, or the driver\'s options: useLocalSessionState / cacheServerConfiguration for Connector/J), and do not validate connections before every use.',
        examples: [],
      });
    }
  }

  out.sort((a, b) => b.impact.time_us - a.impact.time_us || b.impact.round_trips - a.impact.round_trips || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) || ((a.digests[0] ?? '') < (b.digests[0] ?? '') ? -1 : (a.digests[0] ?? '') > (b.digests[0] ?? '') ? 1 : 0) || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  return out.map((f, i) => ({ rank: i + 1, ...f }));
}

/** What a rule reports; `add` ranks and numbers them. */
interface Draft {
  rule: string;
  severity: Severity;
  title: string;
  fps: FingerprintJson[];
  tables?: string[];
  counts: Record<string, number>;
  detail: string;
  time: number;
  trips: number;
  advice: string;
  ddl?: string | null;
  examples?: string[];
  connections?: number | null;
  first?: string | null;
  last?: string | null;
}
type Add = (x: Draft) => void;

/** Rules on the statement's text alone. `typed`: the model was read from the shape (literal kinds and sizes are known). */
function textRules(f: FingerprintJson, m: StatementModel, typed: boolean, th: Thresholds, add: Add): void {
  const base = { fps: [f], counts: { calls: f.count }, time: f.latency_us.total, trips: 0 };
  const cols = (ps: Predicate[]) => [...new Set(ps.map((p) => colName(p.col)))].join(', ');
  if (m.type === 'select' && m.tables.length > 0) {
    if (!m.hasWhere && m.groupBy.length === 0) add({ ...base, rule: 'CLA.001', severity: (f.rows_sent.avg ?? 0) >= 1000 ? 'medium' : 'low', title: 'SELECT without WHERE', detail: `Reads every row of ${m.tables.map((t) => t.name).join(', ')} (${f.rows_sent.avg === null ? '-' : figure(f.rows_sent.avg)} ${f.rows_sent.avg === 1 ? 'row' : 'rows'} sent on average).`, advice: 'Filter on the server (add a WHERE), or page with LIMIT on an indexed ORDER BY.' });
    if (m.orderByRand) add({ ...base, rule: 'CLA.002', severity: 'medium', title: 'ORDER BY RAND()', detail: 'The server numbers and sorts every candidate row to keep a few.', advice: 'Pick random keys in the application (or WHERE id >= a random value ORDER BY id LIMIT n) instead of sorting the whole table.' });
    if (m.limit !== null && m.limit.hasOffset && (m.limit.offset === null || m.limit.offset >= th.offsetMin || !typed)) {
      const known = typed && m.limit.offset !== null;
      if (!known || m.limit.offset! >= th.offsetMin) add({ ...base, rule: 'CLA.003', severity: known ? 'medium' : 'low', title: known ? `LIMIT with an OFFSET of ${th.offsetMin.toLocaleString('en-US')} or more` : 'LIMIT with OFFSET', detail: known ? `The example skips at least ${th.offsetMin.toLocaleString('en-US')} rows: the server reads and throws away every skipped row.` : 'The server reads and throws away every skipped row; the offset of the example is not known (a prepared parameter, or no example).', advice: 'Page by key (WHERE key > last key seen ORDER BY key LIMIT n) instead of OFFSET.' });
    }
    if (m.selectStar) add({ ...base, rule: 'COL.001', severity: 'low', title: 'SELECT *', detail: 'Every column is read and sent, including ones the application may not use; a covering index cannot serve it, and a new column changes the result.', advice: 'Name the columns the application uses.' });
    if (m.calcFoundRows) add({ ...base, rule: 'KWR.001', severity: 'medium', title: 'SQL_CALC_FOUND_ROWS', detail: 'The server reads every matching row past the LIMIT to count them (deprecated since MySQL 8.0.17).', advice: 'Run a separate SELECT COUNT(*) when the count is needed, or drop it.' });
    if (m.limit !== null && m.orderBy.length === 0 && !m.orderByRand && !(m.limit.count === 1 && !m.limit.hasOffset)) add({ ...base, rule: 'RES.002', severity: 'low', title: 'LIMIT without ORDER BY', detail: 'Which rows come back is not defined: it can change with the plan, an index or a version.', advice: 'Add an ORDER BY on a unique key.' });
    for (const t of m.tables) {
      if (t.join !== 'LEFT JOIN' && t.join !== 'LEFT OUTER JOIN') continue;
      const names = new Set([t.name, t.alias].filter((x): x is string => x !== null));
      const killers = m.where.filter((p) => !p.underOr && p.col.table !== null && names.has(p.col.table) && !((p.op === 'IS') && p.value === 'null'));
      if (killers.length > 0) add({ ...base, rule: 'JOI.003', severity: 'medium', title: `LEFT JOIN ${t.name} turned into an inner join by the WHERE`, tables: f.tables, detail: `The WHERE filters on ${cols(killers)} of the outer-joined table: rows without a match (NULL there) are thrown away, so the outer join is an inner join in disguise.`, advice: 'Move the condition into the ON clause (to keep rows without a match), or write INNER JOIN (to say what it does).' });
    }
  }
  if ((m.type === 'update' || m.type === 'delete') && !m.hasWhere) add({ ...base, rule: 'CLA.008', severity: 'high', title: `${m.type.toUpperCase()} without WHERE`, detail: `Every row of ${m.tables.map((t) => t.name).join(', ')} is changed (${count(f.rows_affected.max, 'row')} affected at most).`, advice: 'Check that changing every row is meant; if it is, TRUNCATE (DELETE) or batches by key range hold fewer locks.' });
  if (m.insertColumns === false) add({ ...base, rule: 'COL.002', severity: 'low', title: `Blind ${m.type.toUpperCase()}: no column list`, detail: 'The values are matched to the columns by position: adding or reordering a column breaks it or puts values in the wrong column.', advice: 'Name the columns: INSERT INTO t (a, b) VALUES (…).' });
  if (m.inSubquery) add({ ...base, rule: 'SUB.001', severity: 'low', title: 'IN (subquery)', detail: 'A dependent subquery for each row on older servers; the semi-join the optimizer may choose depends on version and switches.', advice: 'Write it as a JOIN (or EXISTS), and check the plan with EXPLAIN.' });
  const fns = m.where.filter((p) => p.fn !== null && !p.underOr && p.value !== 'column');
  if (fns.length > 0) add({ ...base, rule: 'FUN.001', severity: 'medium', title: `A function of a filtered column: ${fns.map((p) => `${p.fn}(${colName(p.col)})`).join(', ')}`, detail: 'An index on the column cannot serve a condition on a function of it: every row is computed and compared.', advice: 'Compare the bare column with a computed value (created >= ? AND created < ? instead of YEAR(created) = ?), or index the expression (a generated column).' });
  if (typed) {
    const like = m.where.filter((p) => p.leadingWildcard);
    if (like.length > 0) add({ ...base, rule: 'ARG.001', severity: 'medium', title: `LIKE with a leading wildcard on ${cols(like)}`, detail: "A pattern that starts with % or _ cannot use an index on the column: every row is read.", advice: 'Search with a FULLTEXT index, a reversed-column index for suffix searches, or anchor the pattern at its start.' });
    const lists = m.where.filter((p) => (p.op === 'IN' || p.op === 'NOT IN') && p.listLength >= th.inListMax);
    if (lists.length > 0) add({ ...base, rule: 'ARG.005', severity: 'low', title: `IN list of ${count(Math.max(...lists.map((p) => p.listLength)), 'value')}`, detail: `The example has ${lists.map((p) => `${count(p.listLength, 'value')} for ${colName(p.col)}`).join(', ')}: long lists are slow to parse and optimize, and the statement grows with the data.`, advice: 'Load the keys into a temporary table and JOIN, or send them in batches of a few hundred.' });
  }
}

/** ARG.003: a string column compared with a number (needs column types and typed literals). */
function schemaStatementRules(f: FingerprintJson, m: StatementModel, typed: boolean, schema: Schema, add: Add): void {
  if (!typed) return;
  const dbs = Object.keys(f.databases);
  const hits: string[] = [];
  const tables = new Set<string>();
  for (const p of m.where) {
    if (p.value !== 'number' || p.fn !== null) continue;
    const t = tableOfColumn(p.col, m, schema, dbs);
    if (t === null || !isStringColumn(t.columns.get(p.col.column))) continue;
    hits.push(`${t.name}.${p.col.column} (${t.columns.get(p.col.column)})`);
    tables.add(`${t.db}.${t.name}`);
  }
  if (hits.length > 0) add({ rule: 'ARG.003', severity: 'high', title: `A string column compared with a number: ${hits.join(', ')}`, fps: [f], tables: [...tables], counts: { calls: f.count }, detail: 'MySQL converts every row\'s string to a number to compare: an index on the column cannot be used, and \'12abc\' = 12 is true.', time: f.latency_us.total, trips: 0, advice: 'Pass the value as a string (quote it in the SQL, or bind it as a string parameter).' });
}

const colName = (c: ColRef): string => (c.table ? `${c.table}.${c.column}` : c.column);
const colText = (c: { name: string; sub: number | null }): string => (c.sub === null ? c.name : `${c.name}(${c.sub})`);

/** The schema table a column belongs to: by qualifier (name or alias), or the only table of the statement that has it. */
function tableOfColumn(c: ColRef, m: StatementModel, schema: Schema, dbs: readonly string[]): TableModel | null {
  const uses = c.table === null ? m.tables : m.tables.filter((t) => t.alias === c.table || (t.alias === null && t.name === c.table) || t.name === c.table);
  const found = uses.map((t) => schema.find(t.db ? `${t.db}.${t.name}` : t.name, dbs)).filter((t): t is TableModel => t !== null && (t.columns.size === 0 || t.columns.has(c.column)));
  return found.length === 1 ? found[0]! : null;
}

const EQ = new Set(['=', '<=>']);
const RANGE = new Set(['<', '<=', '>', '>=', 'BETWEEN']);

/**
 * IDX.002: for each table of a flagged statement, the index its filters want, in the three-star
 * order: the columns of equality filters (=, IN, IS NULL, and join columns), then the first range
 * filter (a LIKE only when the shape shows its pattern starts with text) — or, without a range, the ORDER BY (else GROUP BY) columns when all are of that table.
 * Proposed only when no existing index starts with those columns, every column exists, and the
 * equalities do not already pin a unique index (the primary key) down.
 */
function proposeIndexes(f: FingerprintJson, m: StatementModel, typed: boolean, schema: Schema): { table: TableModel; columns: string[] }[] {
  const dbs = Object.keys(f.databases);
  const out: { table: TableModel; columns: string[] }[] = [];
  for (const use of m.tables) {
    const t = schema.find(use.db ? `${use.db}.${use.name}` : use.name, dbs);
    if (t === null || !t.base) continue;
    const mine = (c: ColRef | null): boolean => c !== null && tableOfColumn(c, m, schema, dbs) === t && (c.table === null || c.table === use.alias || c.table === use.name);
    const eq: string[] = [];
    let range: string | null = null;
    const push = (col: string) => {
      if (!eq.includes(col)) eq.push(col);
    };
    for (const p of [...m.where, ...use.on]) {
      if (p.underOr || p.fn !== null) continue;
      if (p.value === 'column') {
        // A join condition: this table's side is an equality column (looked up per row of the other).
        if (!EQ.has(p.op)) continue;
        if (mine(p.col) && !mine(p.other)) push(p.col.column);
        else if (mine(p.other) && !mine(p.col)) push(p.other!.column);
        continue;
      }
      if (!mine(p.col)) continue;
      if (EQ.has(p.op) || (p.op === 'IN' && p.value !== 'subquery') || (p.op === 'IS' && p.value === 'null')) push(p.col.column);
      // A LIKE is a range only when its pattern is known not to start with a wildcard (a shape).
      else if (range === null && (RANGE.has(p.op) || (p.op === 'LIKE' && typed && !p.leadingWildcard))) range = p.col.column;
    }
    const columns = [...eq];
    if (range !== null && !columns.includes(range)) columns.push(range);
    else if (range === null) {
      const sort = m.orderBy.length > 0 ? m.orderBy : m.groupBy;
      if (sort.length > 0 && sort.every((c) => mine(c))) for (const c of sort) if (!columns.includes(c.column)) columns.push(c.column);
    }
    if (columns.length === 0) continue;
    // Equality on every column of a unique index (the primary key): one row at most, nothing to add.
    if (t.indexes.some((ix) => ix.unique && ix.columns.every((c) => eq.includes(c.name)))) continue;
    if (t.columns.size > 0 && !columns.every((c) => t.columns.has(c))) continue;
    if (t.indexes.some((ix) => covers(ix, eq, columns.slice(eq.length)))) continue;
    out.push({ table: t, columns });
  }
  return out;
}

/** Does the index start with the equality columns (in any order), then the rest in order? */
function covers(ix: TableIndex, eq: string[], rest: string[]): boolean {
  const names = ix.columns.map((c) => c.name);
  if (names.length < eq.length + rest.length) return false;
  const head = new Set(names.slice(0, eq.length));
  return eq.every((c) => head.has(c)) && rest.every((c, i) => names[eq.length + i] === c);
}

/** IDX.003: indexes whose columns are a left prefix of another's (or the same). */
function redundantIndexes(t: TableModel): { drop: TableIndex; keep: TableIndex; exact: boolean }[] {
  const out: { drop: TableIndex; keep: TableIndex; exact: boolean }[] = [];
  const dropped = new Set<string>();
  const key = (c: { name: string; sub: number | null }) => `${c.name}(${c.sub ?? ''})`;
  const sorted = [...t.indexes].sort((a, b) => (a.name === 'PRIMARY' ? -1 : b.name === 'PRIMARY' ? 1 : Number(b.unique) - Number(a.unique) || b.columns.length - a.columns.length || (a.name < b.name ? -1 : 1)));
  for (const a of t.indexes) {
    if (a.name === 'PRIMARY' || a.type !== 'BTREE') continue;
    for (const b of sorted) {
      if (b === a || dropped.has(b.name) || b.type !== a.type || b.columns.length < a.columns.length) continue;
      if (!a.columns.every((c, i) => key(c) === key(b.columns[i]!))) continue;
      const exact = a.columns.length === b.columns.length;
      // A unique index is redundant only with another unique index on the same columns.
      if (a.unique && !(exact && b.unique)) continue;
      // Of two identical indexes, the one that sorts later goes (the primary or a unique one stays).
      if (exact && sorted.indexOf(b) > sorted.indexOf(a)) continue;
      out.push({ drop: a, keep: b, exact });
      dropped.add(a.name);
      break;
    }
  }
  return out.sort((x, y) => (x.drop.name < y.drop.name ? -1 : 1));
}

function indexName(t: TableModel, columns: string[]): string {
  const base = `idx_${columns.join('_')}`.slice(0, 60);
  let name = base;
  for (let i = 2; t.indexes.some((ix) => ix.name.toLowerCase() === name.toLowerCase()); i++) name = `${base}_${i}`;
  return name;
}

/** A whole count with thousands separators: 1,697. */
const n = (v: number): string => v.toLocaleString('en-US');
/** A figure that may have a fraction (an average, a ratio), short: 5,769 (from 100 on, whole), 19.4, 1.5, 0.93. */
const figure = (v: number): string => (v >= 100 ? n(Math.round(v)) : String(Number(v.toFixed(v >= 10 ? 1 : 2))));
const pct = (r: number): string => `${(100 * r).toFixed(r >= 0.995 ? 0 : 1)}%`;


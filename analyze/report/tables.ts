/**
 * The tables view: per table, the calls and time of the statements that touch it, the rows they
 * read and wrote, reads against writes, and the fingerprints that cost it most.
 *
 * Built from the fingerprints alone (each fingerprint's tables come from its statement facts,
 * src/sql/facts.ts), so it needs nothing beyond what a summary already holds: the groups' sums
 * and histograms. A merge of summaries, and the analysis of a bundle's events, give the same
 * tables view as the analysis of the captures, because they give the same groups.
 *
 * A statement that touches several tables counts whole for each of them (a join of two tables
 * adds its calls, time and rows to both): the tables' figures do not add up to the report's.
 * Reads and writes are told by the statement's kind: SELECT and SHOW (and executes of
 * statements prepared before the capture that return rows) read; INSERT, UPDATE, DELETE and
 * REPLACE write (an INSERT … SELECT counts as a write for both its tables); DDL and the rest are
 * `other`. Rows read are the rows sent of reads, rows written the affected rows of writes.
 */
import { LogHistogram, type HistogramState } from '../aggregate/histogram.js';

/** Fingerprints named per table, the costliest first. */
export const TOP_FINGERPRINTS = 5;

export type Access = 'read' | 'write' | 'other';

const READS = new Set(['select', 'show', 'execute']);
const WRITES = new Set(['insert', 'update', 'delete', 'replace']);

/** Whether a statement of this kind reads or writes its tables. */
export function accessOf(kind: string): Access {
  return READS.has(kind) ? 'read' : WRITES.has(kind) ? 'write' : 'other';
}

/** What the tables view needs of one fingerprint (FingerprintJson has all of it, and its histogram). */
export interface TableSource {
  digest: string;
  fingerprint: string;
  kind: string;
  tables: string[];
  count: number;
  errors: number;
  rows_sent: { sum: number };
  rows_affected: { sum: number };
  databases: Record<string, number>;
  latency: HistogramState;
}

export interface TablePart {
  calls: number;
  time_us: number;
}

export interface TableJson {
  /** As the statements name it: lower case, `schema.table` when qualified. */
  table: string;
  /** Calls by the connection's database (unqualified names only): `(none)` for none selected, `(unknown)` when the capture did not see it. */
  databases: Record<string, number>;
  calls: number;
  share_of_time: number;
  latency_us: { total: number; avg: number | null; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  reads: TablePart;
  writes: TablePart;
  other: TablePart;
  /** Rows sent by the statements that read it. */
  rows_read: number;
  /** Rows affected by the statements that write it. */
  rows_written: number;
  errors: number;
  /** Distinct fingerprints touching it. */
  fingerprints: number;
  /** The TOP_FINGERPRINTS costliest, by time (their text is in the report's fingerprints, by digest). */
  top: { digest: string; kind: string; calls: number; time_us: number }[];
}

export interface TablesJson {
  tables: TableJson[];
  /** Statements (not administrator commands) that name no table: SELECT 1, SET, BEGIN, … */
  no_table: TablePart & { fingerprints: number };
}

interface Acc {
  table: string;
  databases: Record<string, number>;
  calls: number;
  hist: LogHistogram;
  reads: TablePart;
  writes: TablePart;
  other: TablePart;
  rowsRead: number;
  rowsWritten: number;
  errors: number;
  fps: TableSource[];
}

/** Kinds of fingerprints that are not statements: they never name a table. */
const NOT_STATEMENTS = new Set(['admin', 'connect']);

export function tablesView(sources: readonly TableSource[]): TablesJson {
  const by = new Map<string, Acc>();
  const noTable = { calls: 0, time_us: 0, fingerprints: 0 };
  let allTime = 0;
  for (const f of sources) allTime += f.latency.sum;
  for (const f of sources) {
    if (f.tables.length === 0) {
      if (!NOT_STATEMENTS.has(f.kind) && f.count > 0) {
        noTable.calls += f.count;
        noTable.time_us += f.latency.sum;
        noTable.fingerprints++;
      }
      continue;
    }
    const access = accessOf(f.kind);
    for (const t of new Set(f.tables)) {
      let a = by.get(t);
      if (a === undefined) {
        a = { table: t, databases: {}, calls: 0, hist: new LogHistogram(), reads: { calls: 0, time_us: 0 }, writes: { calls: 0, time_us: 0 }, other: { calls: 0, time_us: 0 }, rowsRead: 0, rowsWritten: 0, errors: 0, fps: [] };
        by.set(t, a);
      }
      a.calls += f.count;
      a.hist.merge(LogHistogram.fromState(f.latency));
      const part = access === 'read' ? a.reads : access === 'write' ? a.writes : a.other;
      part.calls += f.count;
      part.time_us += f.latency.sum;
      if (access === 'read') a.rowsRead += f.rows_sent.sum;
      if (access === 'write') a.rowsWritten += f.rows_affected.sum;
      a.errors += f.errors;
      // The connection's database says which schema an unqualified name is in.
      if (!t.includes('.')) for (const [db, n] of Object.entries(f.databases)) a.databases[db] = (a.databases[db] ?? 0) + n;
      a.fps.push(f);
    }
  }
  const r = (v: number | null) => (v === null ? null : Math.round(v));
  const tables: TableJson[] = [...by.values()].map((a) => ({
    table: a.table,
    databases: Object.fromEntries(Object.entries(a.databases).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))),
    calls: a.calls,
    share_of_time: allTime > 0 ? Number((a.hist.sum / allTime).toFixed(6)) : 0,
    latency_us: { total: a.hist.sum, avg: r(a.hist.mean), p50: r(a.hist.quantile(0.5)), p95: r(a.hist.quantile(0.95)), p99: r(a.hist.quantile(0.99)), max: a.hist.count ? a.hist.max : null },
    reads: a.reads,
    writes: a.writes,
    other: a.other,
    rows_read: a.rowsRead,
    rows_written: a.rowsWritten,
    errors: a.errors,
    fingerprints: a.fps.length,
    top: [...a.fps]
      .sort((x, y) => y.latency.sum - x.latency.sum || y.count - x.count || (x.digest < y.digest ? -1 : x.digest > y.digest ? 1 : 0))
      .slice(0, TOP_FINGERPRINTS)
      .map((f) => ({ digest: f.digest, kind: f.kind, calls: f.count, time_us: f.latency.sum })),
  }));
  tables.sort((x, y) => y.latency_us.total - x.latency_us.total || y.calls - x.calls || (x.table < y.table ? -1 : x.table > y.table ? 1 : 0));
  return { tables, no_table: noTable };
}

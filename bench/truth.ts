/**
 * What `periscope analyze --format json` must report for a capture of bench/synth-mysql.ts, from
 * the generator's sidecar, and the comparison of the two.
 *
 * The generator knows, per statement template, how often it ran, with what errors, rows and
 * affected rows. A template's fingerprint is the fingerprint (src/sql, as the analyzer computes
 * it) of its first execution's SQL; every other execution of the template differs only in its
 * literals, so it must fold to the same fingerprint: if it does not, the counts do not match. Two
 * templates with the same fingerprint (a prepared statement and the same statement with literals)
 * add up. The administrator commands (Connect = logins, Ping, Quit) are groups of their own.
 */
import { SqlNormalizer } from '../src/sql/index.js';
import type { MysqlCaptureMeta } from './synth-mysql.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);

/** The per-fingerprint figures compared. */
export interface GroupFigures {
  count: number;
  /** By command: query, stmt_execute, stmt_prepare, stmt_close, connect, ping, quit. */
  commands: Record<string, number>;
  errors: Record<string, number>;
  rowsSent: number;
  rowsAffected: number;
  noIndexUsed: number;
}

const empty = (): GroupFigures => ({ count: 0, commands: {}, errors: {}, rowsSent: 0, rowsAffected: 0, noIndexUsed: 0 });

function addTo(r: Record<string, number>, k: string, n: number): void {
  if (n !== 0) r[k] = (r[k] ?? 0) + n;
}

/** Fingerprint → what the capture holds. */
export function expectedGroups(meta: MysqlCaptureMeta): Map<string, GroupFigures> {
  const out = new Map<string, GroupFigures>();
  const group = (fp: string): GroupFigures => {
    let g = out.get(fp);
    if (g === undefined) out.set(fp, (g = empty()));
    return g;
  };
  for (const t of meta.templates) {
    if (t.count === 0 && t.prepares === 0) continue;
    const g = group(fingerprint(t.example));
    g.count += t.count;
    addTo(g.commands, t.prepared ? 'stmt_execute' : 'query', t.count);
    addTo(g.commands, 'stmt_prepare', t.prepares);
    addTo(g.commands, 'stmt_close', t.closes);
    for (const [code, n] of Object.entries(t.errors)) addTo(g.errors, code, n);
    g.rowsSent += t.rowsSent;
    g.rowsAffected += t.rowsAffected;
    g.noIndexUsed += t.noIndexUsed;
  }
  for (const [cmd, title] of [['connect', 'Connect'], ['ping', 'Ping'], ['quit', 'Quit']] as const) {
    const n = meta.commands[cmd] ?? 0;
    if (n === 0) continue;
    const g = group(`administrator command: ${title}`);
    g.count += n;
    addTo(g.commands, cmd, n);
  }
  return out;
}

/** The fingerprints of an analyze JSON report (docs/report-json.md), as far as compared here. */
export interface ReportFingerprint {
  fingerprint: string;
  count: number;
  commands: Record<string, number>;
  errors_by_code: Record<string, number>;
  rows_sent: { sum: number };
  rows_affected: { sum: number };
  no_index_used: number;
}

export function reportedGroups(fingerprints: readonly ReportFingerprint[]): Map<string, GroupFigures> {
  const out = new Map<string, GroupFigures>();
  for (const f of fingerprints) {
    out.set(f.fingerprint, {
      count: f.count,
      commands: { ...f.commands },
      errors: { ...f.errors_by_code },
      rowsSent: f.rows_sent.sum,
      rowsAffected: f.rows_affected.sum,
      noIndexUsed: f.no_index_used,
    });
  }
  return out;
}

const sameRecord = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
};

export interface Agreement {
  /** Fingerprints on either side. */
  expected: number;
  reported: number;
  /** Fingerprints whose figures all agree. */
  agreeing: number;
  /** One line per fingerprint that differs (missing on one side, or a figure). */
  differences: string[];
}

/** Compare two per-fingerprint views; `a` is the truth. */
export function compareGroups(expected: Map<string, GroupFigures>, reported: Map<string, GroupFigures>): Agreement {
  const differences: string[] = [];
  let agreeing = 0;
  for (const fp of [...new Set([...expected.keys(), ...reported.keys()])].sort()) {
    const e = expected.get(fp) ?? empty();
    const r = reported.get(fp) ?? empty();
    const diffs: string[] = [];
    if (!expected.has(fp)) diffs.push('not in the capture');
    if (!reported.has(fp)) diffs.push('not reported');
    if (e.count !== r.count) diffs.push(`count ${r.count}, expected ${e.count}`);
    if (!sameRecord(e.commands, r.commands)) diffs.push(`commands ${JSON.stringify(r.commands)}, expected ${JSON.stringify(e.commands)}`);
    if (!sameRecord(e.errors, r.errors)) diffs.push(`errors ${JSON.stringify(r.errors)}, expected ${JSON.stringify(e.errors)}`);
    if (e.rowsSent !== r.rowsSent) diffs.push(`rows sent ${r.rowsSent}, expected ${e.rowsSent}`);
    if (e.rowsAffected !== r.rowsAffected) diffs.push(`rows affected ${r.rowsAffected}, expected ${e.rowsAffected}`);
    if (e.noIndexUsed !== r.noIndexUsed) diffs.push(`no index used ${r.noIndexUsed}, expected ${e.noIndexUsed}`);
    if (diffs.length === 0) agreeing++;
    else differences.push(`${fp.slice(0, 100)}: ${diffs.join('; ')}`);
  }
  return { expected: expected.size, reported: reported.size, agreeing, differences };
}

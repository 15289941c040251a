/**
 * `periscope diff BEFORE AFTER`: per fingerprint, what changed between two reports — new, gone,
 * calls, latency (p50/p95/p99) — with a significance test (stats.ts) so that noise is not called a
 * regression, ranked by impact: the change in server time spent per second of traffic.
 * Pure: two reports and their aggregate states in, the diff object (the JSON output) out.
 */
import type { AggregateState, GroupState } from '../aggregate/aggregate.js';
import type { FingerprintJson, Report } from '../report/report.js';
import { holm, mannWhitney, rateTest } from './stats.js';
import { createHash } from 'node:crypto';

export const DIFF_VERSION = 1;

/**
 * The traffic an aggregate state holds, as a digest (diff and merge refuse the same traffic twice):
 * objects with their keys sorted (counts by user or client are in the order events came, and a bundle's come in request order, a capture's
 * connection by connection), and without what an example's statement text tells only where the
 * raw SQL was read (its shape and parameter types: a bundle made before it kept them has none), so
 * that a capture and its own bundle are the same traffic.
 */
export const trafficDigest = (state: AggregateState): string =>
  createHash('sha256')
    .update(
      JSON.stringify(state, (k, v: unknown) => {
        if (k === 'shape' || k === 'paramTypes') return undefined;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
        const o = v as Record<string, unknown>;
        return Object.fromEntries(Object.keys(o).sort().map((key) => [key, o[key]]));
      }),
    )
    .digest('hex');

export interface DiffSettings {
  /** Family-wise significance level (Holm over the fingerprints tested). */
  alpha: number;
  /** Smallest relative change of p50 or p95 (latency) or of the call rate called a change (0.1: 10 %). */
  minChange: number;
  /** Fewest calls on each side for a latency test. */
  minCalls: number;
}

export const DEFAULT_DIFF: DiffSettings = { alpha: 0.01, minChange: 0.1, minCalls: 5 };

export interface Side {
  /** What was read: the paths as given. */
  label: string;
  kind: 'capture' | 'summary' | 'bundle';
  report: Report;
  state: AggregateState;
}

export interface Figures {
  calls: number;
  per_s: number | null;
  total_us: number;
  avg_us: number | null;
  p50_us: number | null;
  p95_us: number | null;
  p99_us: number | null;
}

export type Status = 'new' | 'gone' | 'slower' | 'faster' | 'more calls' | 'fewer calls' | 'unchanged';

export interface DiffRow {
  rank: number;
  digest: string;
  fingerprint: string;
  kind: string;
  /** The main change (latency before calls); `significant` says whether it passed the tests. */
  status: Status;
  significant: boolean;
  /** Every change found: `slower`, `more calls`… (empty when unchanged). */
  changes: Status[];
  before: Figures | null;
  after: Figures | null;
  /**
   * What the change costs in server time per second of traffic (µs/s; what the rows are ranked by):
   * the significant parts of the split below, or their sum when nothing is significant.
   */
  impact_us_per_s: number;
  /**
   * Time per second = calls per second × mean latency, so its change splits into a latency part,
   * rate_after × (mean_after − mean_before), and a calls part, (rate_after − rate_before) × mean_before.
   * A new fingerprint is all latency part (its whole time), a gone one too (minus its whole time).
   */
  impact_split: { latency_us_per_s: number; calls_us_per_s: number };
  /** p50, p95, p99 after / before (null when either is missing or zero). */
  ratio: { p50: number | null; p95: number | null; p99: number | null; calls_per_s: number | null };
  /** Mann-Whitney U on the latency histograms; null when not tested (too few calls on a side). */
  latency_test: { effect: number; z: number; p: number; p_adjusted: number } | null;
  calls_test: { p: number; p_adjusted: number } | null;
}

export interface SideJson {
  inputs: string;
  kind: Side['kind'];
  files: number;
  first: string | null;
  last: string | null;
  duration_s: number | null;
  commands: number;
  queries_per_s: number | null;
  health: string;
  /** Every fingerprint of the side's report (its Overall figure). */
  fingerprints: number;
  /** Of them, those with a call: the ones compared (the others only prepared or closed). */
  fingerprints_with_calls: number;
}

export interface Diff {
  periscope: { version: string; diff_version: number };
  before: SideJson;
  after: SideJson;
  method: { latency: string; calls: string; multiple: string; alpha: number; min_change: number; min_calls: number };
  counts: Record<Status, number>;
  fingerprints: DiffRow[];
}

const key = (g: { digest: string; fingerprint: string }) => `${g.digest}\0${g.fingerprint}`;

function figures(f: FingerprintJson | undefined): Figures | null {
  if (f === undefined || f.count === 0) return null;
  const l = f.latency_us;
  return { calls: f.count, per_s: f.qps, total_us: l.total, avg_us: l.avg, p50_us: l.p50, p95_us: l.p95, p99_us: l.p99 };
}

const ratioOf = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null || a === 0 ? null : Number((b / a).toFixed(4)));

function sideJson(s: Side): SideJson {
  const o = s.report.overall;
  return { inputs: s.label, kind: s.kind, files: s.report.inputs.files.length, first: o.first, last: o.last, duration_s: o.duration_s, commands: o.commands, queries_per_s: o.queries_per_s, health: s.report.health.status, fingerprints: s.report.fingerprints.length, fingerprints_with_calls: s.report.fingerprints.filter((f) => f.count > 0).length };
}

export function diffReports(before: Side, after: Side, version: string, cfg: DiffSettings = DEFAULT_DIFF): Diff {
  const fb = new Map(before.report.fingerprints.map((f) => [key(f), f]));
  const fa = new Map(after.report.fingerprints.map((f) => [key(f), f]));
  const gb = new Map(before.state.groups.map((g) => [key(g), g]));
  const ga = new Map(after.state.groups.map((g) => [key(g), g]));
  const spanB = before.report.overall.duration_s;
  const spanA = after.report.overall.duration_s;
  // Time per second of each side's traffic; the totals when a side has no span (one instant).
  const perSecond = (us: number, span: number | null) => (span !== null && span > 0 ? us / span : us);

  interface Work {
    row: DiffRow;
    hb: GroupState | undefined;
    ha: GroupState | undefined;
  }
  const work: Work[] = [];
  for (const k of [...new Set([...fb.keys(), ...fa.keys()])].sort()) {
    const b = figures(fb.get(k));
    const a = figures(fa.get(k));
    if (b === null && a === null) continue; // housekeeping only (stmt_prepare, stmt_close)
    const f = (fa.get(k) ?? fb.get(k))!;
    let latencyPart = perSecond(a?.total_us ?? 0, spanA) - perSecond(b?.total_us ?? 0, spanB);
    let callsPart = 0;
    if (a !== null && b !== null) {
      const ra = perSecond(a.calls, spanA);
      const rb = perSecond(b.calls, spanB);
      const ma = a.total_us / a.calls;
      const mb = b.total_us / b.calls;
      latencyPart = ra * (ma - mb);
      callsPart = (ra - rb) * mb;
    }
    work.push({
      row: {
        rank: 0,
        digest: f.digest,
        fingerprint: f.fingerprint,
        kind: f.kind,
        status: 'unchanged',
        significant: false,
        changes: [],
        before: b,
        after: a,
        impact_us_per_s: 0,
        impact_split: { latency_us_per_s: Math.round(latencyPart), calls_us_per_s: Math.round(callsPart) },
        ratio: { p50: ratioOf(b?.p50_us, a?.p50_us), p95: ratioOf(b?.p95_us, a?.p95_us), p99: ratioOf(b?.p99_us, a?.p99_us), calls_per_s: null },
        latency_test: null,
        calls_test: null,
      },
      hb: gb.get(k),
      ha: ga.get(k),
    });
  }

  // The tests, then Holm over the fingerprints seen on both sides.
  const latency: { w: Work; r: ReturnType<typeof mannWhitney> }[] = [];
  const calls: { w: Work; r: ReturnType<typeof rateTest> }[] = [];
  for (const w of work) {
    const { before: b, after: a } = w.row;
    if (b === null || a === null) continue;
    if (w.hb && w.ha && w.hb.latency.count >= cfg.minCalls && w.ha.latency.count >= cfg.minCalls) latency.push({ w, r: mannWhitney(w.hb.latency, w.ha.latency) });
    const rt = rateTest(b.calls, a.calls, spanB, spanA);
    w.row.ratio.calls_per_s = rt.ratio === null ? null : Number(rt.ratio.toFixed(4));
    if (rt.ratio !== null) calls.push({ w, r: rt });
  }
  holm(latency.map((x) => x.r.p)).forEach((p, i) => {
    const { w, r } = latency[i]!;
    w.row.latency_test = { effect: Number(r.effect.toFixed(4)), z: Number(r.z.toFixed(3)), p: r.p, p_adjusted: p };
  });
  holm(calls.map((x) => x.r.p)).forEach((p, i) => {
    const { w, r } = calls[i]!;
    w.row.calls_test = { p: r.p, p_adjusted: p };
  });

  for (const { row } of work) {
    if (row.before === null) row.changes.push('new');
    else if (row.after === null) row.changes.push('gone');
    else {
      const t = row.latency_test;
      if (t !== null && t.p_adjusted < cfg.alpha) {
        const up = t.effect > 0.5;
        const moved = [row.ratio.p50, row.ratio.p95].some((x) => x !== null && (up ? x >= 1 + cfg.minChange : x <= 1 - cfg.minChange));
        if (moved) row.changes.push(up ? 'slower' : 'faster');
      }
      const c = row.calls_test;
      const cr = row.ratio.calls_per_s;
      if (c !== null && cr !== null && c.p_adjusted < cfg.alpha && Math.abs(cr - 1) >= cfg.minChange) row.changes.push(cr > 1 ? 'more calls' : 'fewer calls');
    }
    row.significant = row.changes.length > 0;
    row.status = row.changes[0] ?? 'unchanged';
    const sp = row.impact_split;
    const latencyChanged = row.changes.some((c) => c !== 'more calls' && c !== 'fewer calls');
    const callsChanged = row.changes.includes('more calls') || row.changes.includes('fewer calls');
    row.impact_us_per_s = row.significant ? (latencyChanged ? sp.latency_us_per_s : 0) + (callsChanged ? sp.calls_us_per_s : 0) : sp.latency_us_per_s + sp.calls_us_per_s;
  }
  // Ranked by impact: new, gone, slower and faster first (what the change did to the statements),
  // then changes of the call rate only (mostly the load: a slow new query also slows every other
  // statement of the same connections), then the rest (no significant change); by impact within each.
  const tier = (r: DiffRow) => (!r.significant ? 2 : r.changes.some((c) => c !== 'more calls' && c !== 'fewer calls') ? 0 : 1);
  const rows = work.map((w) => w.row);
  rows.sort((x, y) => tier(x) - tier(y) || Math.abs(y.impact_us_per_s) - Math.abs(x.impact_us_per_s) || (x.digest < y.digest ? -1 : x.digest > y.digest ? 1 : 0));
  rows.forEach((r, i) => (r.rank = i + 1));
  const counts = { new: 0, gone: 0, slower: 0, faster: 0, 'more calls': 0, 'fewer calls': 0, unchanged: 0 } satisfies Record<Status, number>;
  for (const r of rows) counts[r.status]++;
  return {
    periscope: { version, diff_version: DIFF_VERSION },
    before: sideJson(before),
    after: sideJson(after),
    method: {
      latency: 'Mann-Whitney U on the latency histograms (two-sided, normal approximation with tie and continuity corrections); a change also needs p50 or p95 to move by min_change in the same direction',
      calls: 'conditional binomial test of equal call rates over each side\'s time span; a change also needs the rate to move by min_change',
      multiple: 'Holm step-down adjustment over the fingerprints tested (p_adjusted)',
      alpha: cfg.alpha,
      min_change: cfg.minChange,
      min_calls: cfg.minCalls,
    },
    counts,
    fingerprints: rows,
  };
}

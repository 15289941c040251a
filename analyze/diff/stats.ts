/**
 * Tests on what summaries hold: log histograms (γ = 1.02 buckets) and counts. Pure arithmetic.
 *
 * - Latency: the Mann-Whitney U test (two-sided, normal approximation with the tie correction and
 *   a continuity correction) on the two bucketed distributions. Values in one bucket are ties:
 *   binning only makes the test a little conservative (a shift smaller than a bucket, 2 %, is not
 *   seen), never wrong. It needs no assumption on the shape of latency distributions (skewed,
 *   multi-modal), is exact to merge (histograms are), and is the textbook test for "are values of
 *   B larger than values of A". Its effect size, P(B > A) + ½·P(B = A), comes with it.
 * - Calls: given both counts and both spans, a conditional binomial test of equal rates (normal
 *   approximation): under equal rates the after count is Binomial(n, span_after / (span_before + span_after)).
 * - Several fingerprints tested at once: Holm's step-down adjustment of the p-values, so that the
 *   chance of calling any unchanged fingerprint changed stays under alpha.
 */
import type { HistogramState } from '../aggregate/histogram.js';

/** Counts per bucket index (zeros: -Infinity). */
function buckets(h: HistogramState): Map<number, number> {
  const m = new Map<number, number>();
  if (h.zeros > 0) m.set(-Infinity, h.zeros);
  h.counts.forEach((c, k) => {
    if (c > 0) m.set(h.lo + k, c);
  });
  return m;
}

export interface MannWhitney {
  /** U of the after sample (how often an after value beats a before value; ties count ½). */
  u: number;
  /** P(after > before) + ½ P(after = before): 0.5 when nothing changed, above when slower. */
  effect: number;
  z: number;
  /** Two-sided p-value; 1 when a side is empty or every value ties. */
  p: number;
}

export function mannWhitney(before: HistogramState, after: HistogramState): MannWhitney {
  const a = buckets(before);
  const b = buckets(after);
  const n1 = [...a.values()].reduce((x, y) => x + y, 0);
  const n2 = [...b.values()].reduce((x, y) => x + y, 0);
  if (n1 === 0 || n2 === 0) return { u: 0, effect: 0.5, z: 0, p: 1 };
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
  let rank = 0; // ranks used so far
  let rankSumB = 0;
  let ties = 0;
  for (const k of keys) {
    const ca = a.get(k) ?? 0;
    const cb = b.get(k) ?? 0;
    const t = ca + cb;
    const mid = rank + (t + 1) / 2; // every value of the bucket gets the mean of its ranks
    rankSumB += cb * mid;
    ties += t * t * t - t;
    rank += t;
  }
  const n = n1 + n2;
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  const effect = u / (n1 * n2);
  if (!(variance > 0)) return { u, effect, z: 0, p: 1 };
  const d = u - mean;
  const z = (Math.sign(d) * Math.max(0, Math.abs(d) - 0.5)) / Math.sqrt(variance);
  return { u, effect, z, p: twoSided(z) };
}

/** Equal call rates? `p` two-sided; `ratio` after rate / before rate (null when a span is unknown). */
export function rateTest(before: number, after: number, spanBefore: number | null, spanAfter: number | null): { p: number; ratio: number | null } {
  const n = before + after;
  if (spanBefore === null || spanAfter === null || !(spanBefore > 0) || !(spanAfter > 0) || n === 0) return { p: 1, ratio: null };
  const share = spanAfter / (spanBefore + spanAfter);
  const sd = Math.sqrt(n * share * (1 - share));
  const d = after - n * share;
  const z = (Math.sign(d) * Math.max(0, Math.abs(d) - 0.5)) / sd;
  const ratio = before === 0 ? null : after / spanAfter / (before / spanBefore);
  return { p: twoSided(z), ratio };
}

/** Holm's step-down adjustment: the adjusted p-values, in the order given. */
export function holm(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export function twoSided(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * The complementary error function, relative error below 1.2e-7 everywhere (the Chebyshev fit of
 * Numerical Recipes' erfcc, 2nd ed. §6.2: a published formula, not copied code).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * A mergeable latency histogram with logarithmic buckets: any percentile it returns is within 1%
 * of the true value (relative), whatever the range — a microsecond or an hour — and its size
 * depends on the spread of the values, not their number (at most ~1,200 buckets from 1 µs to
 * 10,000 s; a typical query's latencies fill a few hundred).
 *
 * Bucket i holds the values v with γ^(i-1) < v ≤ γ^i, γ = 1.02; a bucket is reported as the value
 * 2γ^i / (1 + γ), which is within (γ - 1) / (γ + 1) < 1% of every value in it. Values ≤ 0 have a
 * bucket of their own (reported as 0). Min, max, count and sum are exact, and a percentile is
 * clamped to [min, max], so a histogram of one value reports that value exactly.
 *
 * Merging adds bucket counts: the merge of two histograms is exactly the histogram of both sets of
 * values (what makes `--save-summary` + `merge` equal to one analysis of every capture).
 */

const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
/** Bucket index of values ≤ 0. */
const ZERO = -100_000;

export interface HistogramState {
  count: number;
  sum: number;
  min: number;
  max: number;
  zeros: number;
  /** Index of counts[0]. */
  lo: number;
  counts: number[];
}

export class LogHistogram {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private zeros = 0;
  private lo = 0;
  private counts: number[] = [];

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v <= 0) {
      this.zeros++;
      return;
    }
    this.addAt(LogHistogram.index(v), 1);
  }

  /** Numbers held (for memory budgets): the bucket array and a few scalars. */
  cells(): number {
    return 6 + this.counts.length;
  }

  static index(v: number): number {
    return Math.ceil(Math.log(v) / LOG_GAMMA - 1e-9) + 0; // + 0: never -0
  }

  /** The value that stands for bucket `i`. */
  static value(i: number): number {
    return i === ZERO ? 0 : (2 * GAMMA ** i) / (1 + GAMMA);
  }

  /** Upper bound of bucket `i`. */
  static upper(i: number): number {
    return GAMMA ** i;
  }

  private addAt(i: number, n: number): void {
    const c = this.counts;
    if (c.length === 0) {
      this.lo = i;
      c.push(n);
      return;
    }
    if (i < this.lo) {
      const grow = this.lo - i;
      this.counts = new Array<number>(grow).fill(0).concat(c);
      this.lo = i;
      this.counts[0] = n;
      return;
    }
    const k = i - this.lo;
    while (c.length <= k) c.push(0);
    c[k]! += n;
  }

  /**
   * The q-quantile (0 < q ≤ 1) by nearest rank: the smallest bucket holding at least ⌈q·count⌉
   * values, reported within 1%, clamped to [min, max]. null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count - 1e-9));
    let seen = this.zeros;
    if (seen >= rank) return Math.max(this.min, 0);
    const c = this.counts;
    for (let k = 0; k < c.length; k++) {
      seen += c[k]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, LogHistogram.value(this.lo + k)));
    }
    return this.max;
  }

  get mean(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /** Counts per bucket, lowest first: `[upper bound, count]` (upper bound 0 for the values ≤ 0). */
  *buckets(): Generator<[number, number]> {
    if (this.zeros > 0) yield [0, this.zeros];
    for (let k = 0; k < this.counts.length; k++) if (this.counts[k]! > 0) yield [LogHistogram.upper(this.lo + k), this.counts[k]!];
  }

  merge(o: LogHistogram): void {
    this.count += o.count;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.zeros += o.zeros;
    for (let k = 0; k < o.counts.length; k++) if (o.counts[k]! > 0) this.addAt(o.lo + k, o.counts[k]!);
  }

  toState(): HistogramState {
    return { count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.count ? this.max : 0, zeros: this.zeros, lo: this.lo, counts: this.counts.slice() };
  }

  static fromState(s: HistogramState): LogHistogram {
    const h = new LogHistogram();
    h.count = s.count;
    h.sum = s.sum;
    h.min = s.count ? s.min : Infinity;
    h.max = s.count ? s.max : -Infinity;
    h.zeros = s.zeros;
    h.lo = s.lo;
    h.counts = s.counts.slice();
    return h;
  }
}

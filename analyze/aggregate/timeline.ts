/**
 * Commands over time: per time bucket, how many commands started, how many failed, how many had a
 * latency (a Quit or a command cut by the capture has none) and their total and largest latency. Buckets are one second wide while the capture spans at most MAX_BUCKETS
 * seconds; beyond, the width doubles (2 s, 4 s, …) and neighbours are merged, so memory stays
 * bounded on a capture of any length. Buckets start at whole multiples of their width since the
 * epoch, so two timelines merge exactly (the merge of two captures' timelines is the timeline of
 * both).
 */

import { LogHistogram, type HistogramState } from './histogram.js';

export const MAX_BUCKETS = 3600;

/**
 * A fingerprint's own timeline (the HTML report's chart on a click) is coarser: at most this many
 * buckets, each with a latency histogram for its p50 / p95.
 */
export const FINGERPRINT_BUCKETS = 60;

export interface TimelineState {
  /** Bucket width in seconds (a power of two). */
  width: number;
  /** Start of the first bucket, seconds since the epoch (a multiple of width). */
  start: number;
  count: number[];
  errors: number[];
  timeUs: number[];
  maxUs: number[];
  /** Commands with a latency (absent in summaries of Periscope 0.1.0 before session 3: then `count`). */
  timed?: number[];
  /** The latencies of each bucket (only in a fingerprint's timeline). */
  hist?: HistogramState[];
}

export interface TimelineOptions {
  /** Buckets at most (the width doubles past it). */
  maxBuckets?: number;
  /** Keep a latency histogram per bucket (percentiles per bucket). */
  histograms?: boolean;
}

export class Timeline {
  width = 1;
  start = 0;
  count: number[] = [];
  errors: number[] = [];
  timeUs: number[] = [];
  maxUs: number[] = [];
  timed: number[] = [];
  /** Per bucket, with `histograms`; else empty. */
  hist: LogHistogram[] = [];
  readonly maxBuckets: number;
  readonly histograms: boolean;
  /** Numbers held: 5 per bucket, and the cells of the buckets' histograms (what a memory budget counts). */
  held = 0;

  constructor(opts: TimelineOptions = {}) {
    this.maxBuckets = opts.maxBuckets ?? MAX_BUCKETS;
    this.histograms = opts.histograms ?? false;
  }

  add(sec: number, latencyUs: number | null, error: boolean): void {
    const k = this.slot(sec);
    this.count[k]!++;
    if (error) this.errors[k]!++;
    if (latencyUs !== null) {
      this.timed[k]!++;
      this.timeUs[k]! += latencyUs;
      if (latencyUs > this.maxUs[k]!) this.maxUs[k] = latencyUs;
      if (this.histograms) {
        const h = this.hist[k]!;
        const before = h.cells();
        h.add(latencyUs);
        this.held += h.cells() - before;
      }
    }
  }

  /** Count the numbers held again (after a change of many buckets at once). */
  private recount(): void {
    let n = 5 * this.count.length;
    for (const h of this.hist) n += h.cells();
    this.held = n;
  }

  /** Index of the bucket holding `sec`, growing (and coarsening) the timeline as needed. */
  private slot(sec: number): number {
    const b = Math.floor(sec / this.width) * this.width;
    if (this.count.length === 0) {
      this.start = b;
      this.grow(1);
      return 0;
    }
    if (b < this.start) {
      const n = (this.start - b) / this.width;
      if (this.count.length + n > this.maxBuckets) {
        this.coarsen();
        return this.slot(sec);
      }
      this.prepend(n);
      this.start = b;
      return 0;
    }
    const k = (b - this.start) / this.width;
    if (k >= this.maxBuckets) {
      this.coarsen();
      return this.slot(sec);
    }
    if (k >= this.count.length) this.grow(k + 1 - this.count.length);
    return k;
  }

  private grow(n: number): void {
    for (let i = 0; i < n; i++) {
      this.count.push(0);
      this.errors.push(0);
      this.timeUs.push(0);
      this.maxUs.push(0);
      this.timed.push(0);
      if (this.histograms) {
        const h = new LogHistogram();
        this.hist.push(h);
        this.held += h.cells();
      }
    }
    this.held += 5 * n;
  }

  private prepend(n: number): void {
    const z = new Array<number>(n).fill(0);
    this.count = z.concat(this.count);
    this.errors = z.concat(this.errors);
    this.timeUs = z.concat(this.timeUs);
    this.maxUs = z.concat(this.maxUs);
    this.timed = z.concat(this.timed);
    if (this.histograms) this.hist = Array.from({ length: n }, () => new LogHistogram()).concat(this.hist);
    this.recount();
  }

  /** Double the width: merge neighbours, keeping bucket starts at multiples of the new width. */
  private coarsen(): void {
    const w = this.width * 2;
    const start = Math.floor(this.start / w) * w;
    const shift = (this.start - start) / this.width; // 0 or 1
    const n = Math.ceil((this.count.length + shift) / 2);
    const fold = (a: number[], combine: (x: number, y: number) => number): number[] => {
      const out = new Array<number>(n).fill(0);
      for (let i = 0; i < a.length; i++) {
        const j = (i + shift) >> 1;
        out[j] = combine(out[j]!, a[i]!);
      }
      return out;
    };
    const sum = (x: number, y: number) => x + y;
    this.count = fold(this.count, sum);
    this.errors = fold(this.errors, sum);
    this.timeUs = fold(this.timeUs, sum);
    this.maxUs = fold(this.maxUs, Math.max);
    this.timed = fold(this.timed, sum);
    if (this.histograms) {
      const hist = Array.from({ length: n }, () => new LogHistogram());
      for (let i = 0; i < this.hist.length; i++) hist[(i + shift) >> 1]!.merge(this.hist[i]!);
      this.hist = hist;
    }
    this.width = w;
    this.start = start;
    this.recount();
  }

  merge(o: Timeline): void {
    if (o.count.length === 0) return;
    while (this.width < o.width && this.count.length > 0) this.coarsen();
    if (this.count.length === 0) this.width = Math.max(this.width, o.width);
    const other = Timeline.fromState(o.toState(), { maxBuckets: o.maxBuckets, histograms: o.histograms });
    while (other.width < this.width) other.coarsen();
    for (let i = 0; i < other.count.length; i++) {
      if (other.count[i] === 0 && other.timeUs[i] === 0) continue;
      const sec = other.start + i * other.width;
      const k = this.slot(sec);
      // slot() may have coarsened this timeline: bring the other one along.
      if (this.width > other.width) {
        this.merge(other);
        return;
      }
      this.count[k]! += other.count[i]!;
      this.errors[k]! += other.errors[i]!;
      this.timeUs[k]! += other.timeUs[i]!;
      if (other.maxUs[i]! > this.maxUs[k]!) this.maxUs[k] = other.maxUs[i]!;
      this.timed[k]! += other.timed[i]!;
      if (this.histograms && other.histograms) {
        this.hist[k]!.merge(other.hist[i]!);
        other.hist[i] = new LogHistogram();
      }
      other.timed[i] = 0;
      other.count[i] = 0;
      other.errors[i] = 0;
      other.timeUs[i] = 0;
      other.maxUs[i] = 0;
    }
    this.recount();
  }

  toState(): TimelineState {
    const s: TimelineState = { width: this.width, start: this.start, count: this.count.slice(), errors: this.errors.slice(), timeUs: this.timeUs.slice(), maxUs: this.maxUs.slice(), timed: this.timed.slice() };
    if (this.histograms) s.hist = this.hist.map((h) => h.toState());
    return s;
  }

  static fromState(s: TimelineState, opts: TimelineOptions = {}): Timeline {
    const t = new Timeline(opts);
    t.width = s.width;
    t.start = s.start;
    t.count = s.count.slice();
    t.errors = s.errors.slice();
    t.timeUs = s.timeUs.slice();
    t.maxUs = s.maxUs.slice();
    t.timed = (s.timed ?? s.count).slice();
    if (t.histograms) t.hist = s.hist ? s.hist.map((h) => LogHistogram.fromState(h)) : s.count.map(() => new LogHistogram());
    t.recount();
    return t;
  }
}

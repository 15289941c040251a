/**
 * Charts of the HTML report as inline SVG, with axes: ticks and labels with units on both axes
 * (time in UTC, latency on a log scale where it spans decades, counts and rates), a grid and a
 * legend. The report draws its histogram and timeline with it when the page is made, and the page
 * draws a fingerprint's own timeline with the very same function when its row is clicked: the
 * function is written into the page's script as its source (`chartSvg.toString()`), so it must
 * stay self-contained: no reference to anything outside its body, plain data in and a string out.
 */

/** An axis: its title, range, scale and how its ticks are written. */
export interface ChartAxis {
  title: string;
  min: number;
  max: number;
  /** Logarithmic (decades); else linear. */
  log?: boolean;
  /** Ticks as times of day (UTC, seconds since the epoch), durations (µs) or numbers. */
  unit: 'time' | 'us' | 'number';
}

export interface ChartSpec {
  id: string;
  label: string;
  width: number;
  height: number;
  x: ChartAxis;
  /** The left axis (bars are on it). */
  y: ChartAxis;
  /** A right axis, for lines of another unit. */
  y2?: ChartAxis;
  bars: { x0: number; x1: number; y: number; color: string; title: string }[];
  /** Lines; a null value breaks the line. */
  lines: { axis: 1 | 2; color: string; name: string; dash?: string; points: [number, number | null][] }[];
  /** Colour and text of each legend entry. */
  legend: [string, string][];
}

export function chartSvg(spec: ChartSpec): string {
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const f1 = (v: number): string => v.toFixed(1);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  const num = (v: number): string => {
    const a = Math.abs(v);
    if (a >= 1e9) return `${trim((v / 1e9).toFixed(a >= 1e10 ? 0 : 1))}G`;
    if (a >= 1e6) return `${trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
    if (a >= 1e4) return `${trim((v / 1e3).toFixed(a >= 1e5 ? 0 : 1))}k`;
    if (a >= 100 || a === 0) return String(Math.round(v));
    return trim(v.toPrecision(3));
  };
  const us = (v: number): string => {
    if (v < 1000) return `${trim(v.toPrecision(3))}us`;
    if (v < 1e6) return `${trim((v / 1e3).toPrecision(3))}ms`;
    if (v < 6e7) return `${trim((v / 1e6).toPrecision(3))}s`;
    if (v < 3.6e9) return `${trim((v / 6e7).toPrecision(3))}min`;
    return `${trim((v / 3.6e9).toPrecision(3))}h`;
  };
  const pad2 = (n: number): string => String(n).padStart(2, '0');
  const clock = (sec: number, step: number, span: number): string => {
    const d = new Date(sec * 1000);
    const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
    const day = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    if (step >= 86400) return day;
    if (span >= 86400) return `${day.slice(5)} ${hm}`;
    return step >= 60 ? hm : `${hm}:${pad2(d.getUTCSeconds())}`;
  };
  /** Ticks of an axis, and its range widened to them when linear (so bars stay inside). */
  const ticks = (a: ChartAxis): { at: number[]; text: (v: number) => string; lo: number; hi: number } => {
    let lo = a.min;
    let hi = a.max > a.min ? a.max : a.min + (a.unit === 'time' ? 1 : a.min > 0 ? a.min : 1);
    if (a.unit === 'time') {
      const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
      const span = hi - lo;
      const step = steps.find((s) => span / s <= 8) ?? Math.ceil(span / 8 / 86400) * 86400;
      const at: number[] = [];
      for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) at.push(t);
      return { at, text: (v) => clock(v, step, span), lo, hi };
    }
    const text = a.unit === 'us' ? us : num;
    if (a.log) {
      lo = 10 ** Math.floor(Math.log10(Math.max(lo, 1e-3)));
      hi = 10 ** Math.ceil(Math.log10(Math.max(hi, lo * 10)));
      if (hi <= lo) hi = lo * 10;
      const at: number[] = [];
      const decades = Math.round(Math.log10(hi / lo));
      for (let d = lo; d <= hi * 1.0001; d *= 10) {
        at.push(d);
        if (decades <= 2 && d * 2 < hi) at.push(d * 2, d * 5);
      }
      return { at: at.filter((v) => v <= hi * 1.0001).sort((p, q) => p - q), text, lo, hi };
    }
    const raw = (hi - lo) / 5;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
    const at: number[] = [];
    for (let v = lo; v <= hi + step / 2; v += step) at.push(Number(v.toPrecision(12)));
    return { at, text, lo, hi };
  };
  const W = spec.width;
  const H = spec.height;
  const left = 64;
  const right = spec.y2 ? 64 : 16;
  const top = 28;
  const bottom = 46;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const tx = ticks(spec.x);
  const ty = ticks(spec.y);
  const ty2 = spec.y2 ? ticks(spec.y2) : null;
  const scale = (a: ChartAxis, t: { lo: number; hi: number }, from: number, size: number, flip: boolean) => (v: number): number => {
    const r = a.log ? (Math.log10(Math.max(v, t.lo)) - Math.log10(t.lo)) / (Math.log10(t.hi) - Math.log10(t.lo)) : (v - t.lo) / (t.hi - t.lo);
    const c = Math.min(1, Math.max(0, r));
    return flip ? from + size - c * size : from + c * size;
  };
  const X = scale(spec.x, tx, left, pw, false);
  const Y = scale(spec.y, ty, top, ph, true);
  const Y2 = spec.y2 && ty2 ? scale(spec.y2, ty2, top, ph, true) : Y;
  const out: string[] = [];
  out.push(`<svg id="${escape(spec.id)}" class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escape(spec.label)}">`);
  // Grid and ticks of the left axis, then the right one.
  for (const v of ty.at) {
    const y = f1(Y(v));
    out.push(`<line class="grid" x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#e4e7ec"/><line x1="${left - 5}" x2="${left}" y1="${y}" y2="${y}" stroke="#5b6574"/><text class="tick y" x="${left - 8}" y="${y}" dy="4" text-anchor="end">${escape(ty.text(v))}</text>`);
  }
  if (spec.y2 && ty2) {
    for (const v of ty2.at) {
      const y = f1(Y2(v));
      out.push(`<line x1="${left + pw}" x2="${left + pw + 5}" y1="${y}" y2="${y}" stroke="#5b6574"/><text class="tick y2" x="${left + pw + 8}" y="${y}" dy="4">${escape(ty2.text(v))}</text>`);
    }
  }
  for (const v of tx.at) {
    const x = f1(X(v));
    out.push(`<line x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}" stroke="#5b6574"/><text class="tick x" x="${x}" y="${top + ph + 18}" text-anchor="middle">${escape(tx.text(v))}</text>`);
  }
  for (const b of spec.bars) {
    const x0 = X(b.x0);
    const x1 = X(b.x1);
    const y = Y(b.y);
    const w = Math.max(0.5, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
    out.push(`<rect class="bar" x="${x0.toFixed(2)}" y="${f1(y)}" width="${w.toFixed(2)}" height="${f1(top + ph - y)}" fill="${b.color}"><title>${escape(b.title)}</title></rect>`);
  }
  for (const l of spec.lines) {
    const Ys = l.axis === 2 ? Y2 : Y;
    let d = '';
    let open = false;
    let dots = '';
    for (const [x, y] of l.points) {
      if (y === null) {
        open = false;
        continue;
      }
      const px = f1(X(x));
      const py = f1(Ys(y));
      d += `${open ? 'L' : 'M'}${px},${py}`;
      if (l.points.length <= 120) dots += `<circle cx="${px}" cy="${py}" r="2" fill="${l.color}"/>`;
      open = true;
    }
    out.push(`<g class="line"><title>${escape(l.name)}</title><path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.5"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>${dots}</g>`);
  }
  // Axis lines and titles.
  out.push(`<line x1="${left}" x2="${left + pw}" y1="${top + ph}" y2="${top + ph}" stroke="#5b6574"/><line x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}" stroke="#5b6574"/>`);
  if (spec.y2) out.push(`<line x1="${left + pw}" x2="${left + pw}" y1="${top}" y2="${top + ph}" stroke="#5b6574"/>`);
  out.push(`<text class="axis-title x" x="${left + pw / 2}" y="${H - 6}" text-anchor="middle">${escape(spec.x.title)}</text>`);
  out.push(`<text class="axis-title y" transform="translate(14 ${top + ph / 2}) rotate(-90)" text-anchor="middle">${escape(spec.y.title)}</text>`);
  if (spec.y2) out.push(`<text class="axis-title y2" transform="translate(${W - 10} ${top + ph / 2}) rotate(90)" text-anchor="middle">${escape(spec.y2.title)}</text>`);
  let lx = left;
  for (const [color, text] of spec.legend) {
    out.push(`<rect x="${lx}" y="8" width="12" height="10" fill="${color}"/><text class="legend" x="${lx + 16}" y="17">${escape(text)}</text>`);
    lx += 28 + 6.5 * text.length;
  }
  out.push('</svg>');
  return out.join('');
}

/** A fingerprint's timeline as the page holds it: bucket width, and per bucket `[start s, calls, errors, p50, p95, max]`. */
export interface FingerprintSeries {
  b: number;
  p: [number, number, number, number | null, number | null, number | null][];
}

/**
 * The chart of one fingerprint's timeline over the report's time range (`lo`, `hi`: seconds):
 * calls per second as bars (red where some failed), p50 / p95 / max latency as lines on a log
 * scale at the right. Self-contained like chartSvg (the page runs it too).
 */
export function fingerprintChartSpec(id: string, s: FingerprintSeries, lo: number, hi: number): ChartSpec {
  let min = Infinity;
  let max = 0;
  let rate = 0;
  for (const q of s.p) {
    for (const v of [q[3], q[4], q[5]]) {
      if (v !== null && v > 0 && v < min) min = v;
      if (v !== null && v > max) max = v;
    }
    rate = Math.max(rate, q[1] / s.b);
  }
  const first = s.p.length ? s.p[0]![0] : lo;
  const last = s.p.length ? s.p[s.p.length - 1]![0] + s.b : hi;
  // A bucket without a call breaks the lines (no latency to draw there).
  const line = (i: 3 | 4 | 5): [number, number | null][] => {
    const out: [number, number | null][] = [];
    s.p.forEach((q, k) => {
      if (k > 0 && q[0] - s.p[k - 1]![0] > s.b) out.push([q[0], null]);
      out.push([q[0] + s.b / 2, q[i]]);
    });
    return out;
  };
  const per = s.b === 1 ? 'second' : `${s.b} s`;
  return {
    id,
    label: 'calls and latency of the fingerprint over time',
    width: 1200,
    height: 260,
    x: { title: 'time (UTC)', min: Math.min(lo, first), max: Math.max(hi, last), unit: 'time' },
    y: { title: 'calls/s', min: 0, max: rate, unit: 'number' },
    y2: { title: 'latency (log scale)', min: min === Infinity ? 1 : min, max: max || 10, log: true, unit: 'us' },
    bars: s.p.map((q) => ({ x0: q[0], x1: q[0] + s.b, y: q[1] / s.b, color: q[2] > 0 ? '#d9534f' : '#9cc0ee', title: `${new Date(q[0] * 1000).toISOString().replace('.000Z', 'Z')} (${per}): ${q[1]} calls, ${q[2]} errors; p50 ${q[3] ?? '-'}us, p95 ${q[4] ?? '-'}us, max ${q[5] ?? '-'}us` })),
    lines: [
      { axis: 2, color: '#2e8b57', name: 'p50', points: line(3) },
      { axis: 2, color: '#e67e22', name: 'p95', points: line(4) },
      { axis: 2, color: '#c0392b', name: 'max', dash: '4 3', points: line(5) },
    ],
    legend: [
      ['#9cc0ee', `calls/s (per ${per})`],
      ['#d9534f', 'with errors'],
      ['#2e8b57', 'p50'],
      ['#e67e22', 'p95'],
      ['#c0392b', 'max (right axis)'],
    ],
  };
}

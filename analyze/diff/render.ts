/** The diff as text (fits 100 columns), JSON (the Diff object) or one self-contained HTML page. */
import { count, dur, rate } from '../format.js';
import { CSS, esc, SCRIPT } from '../report/html.js';
import type { Diff, DiffRow, Figures, SideJson } from './diff.js';

export type DiffFormat = 'text' | 'json' | 'html';

export function renderDiff(d: Diff, format: DiffFormat, opts: { limit: number; all: boolean }): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(d, null, 2)}\n`;
    case 'html':
      return diffHtml(d);
    case 'text':
      return diffText(d, opts);
    default: {
      const never: never = format;
      throw new Error(`format ${String(never)}`);
    }
  }
}

const n = (v: number): string => v.toLocaleString('en-US');
const signed = (us: number): string => `${us > 0 ? '+' : us < 0 ? '-' : ''}${dur(Math.abs(us))}/s`;
const ratio = (r: number | null): string => (r === null ? '' : r >= 10 ? ` ×${r.toFixed(0)}` : ` ×${r.toFixed(2)}`);
const pair = (b: number | null | undefined, a: number | null | undefined): string => `${dur(b ?? null)} → ${dur(a ?? null)}`;

/** As the report's Overall counts them, and how many are compared when some were never called. */
const fingerprints = (s: SideJson): string => `${n(s.fingerprints)} fingerprint${s.fingerprints === 1 ? '' : 's'}${s.fingerprints_with_calls < s.fingerprints ? ` (${n(s.fingerprints_with_calls)} called, compared)` : ''}`;

function sideLines(name: string, s: SideJson): string[] {
  return [
    `# ${name}: ${s.inputs} (${s.kind}${s.kind === 'capture' ? `, ${s.files === 1 ? '1 file' : `${n(s.files)} files`}` : ''})`,
    `#   ${s.first ?? '-'} to ${s.last ?? '-'} (${s.duration_s === null ? '-' : dur(s.duration_s * 1e6)}); ${n(s.commands)} commands, ${rate(s.queries_per_s)} queries/s; ${fingerprints(s)}; health ${s.health}`,
  ];
}

function what(r: DiffRow): string {
  return r.changes.length ? r.changes.join(', ') : 'no significant change';
}

function calls(f: Figures | null): string {
  return f === null ? '-' : n(f.calls);
}

function diffText(d: Diff, opts: { limit: number; all: boolean }): string {
  const out: string[] = [];
  out.push(`# Periscope diff: ${d.before.inputs} → ${d.after.inputs}`);
  out.push(...sideLines('Before', d.before), ...sideLines('After', d.after));
  const c = d.counts;
  out.push(`# Changes: ${c.new} new, ${c.gone} gone, ${c.slower} slower, ${c.faster} faster, ${c['more calls']} more calls, ${c['fewer calls']} fewer calls; ${c.unchanged} without a significant change`);
  out.push(`# Significant: Holm-adjusted p < ${d.method.alpha} (latency: Mann-Whitney U on the histograms;`, `#   calls: rate test) and a change of at least ${Math.round(d.method.min_change * 100)}% (latency: p50 or p95; calls: the rate).`, '#   Impact: server time per second, after minus before (docs/diff.md).');
  if (d.before.health !== 'good' || d.after.health !== 'good') out.push(`# Capture health: before ${d.before.health}, after ${d.after.health}: a side that lost traffic can show changes that are not there (analyze each for details)`);
  out.push('');
  const shown = d.fingerprints.filter((r) => opts.all || r.significant).slice(0, opts.limit);
  const hidden = d.fingerprints.length - shown.length;
  if (shown.length === 0) out.push('No significant change.');
  for (const r of shown) {
    out.push(`${String(r.rank).padStart(4)}. ${r.status.toUpperCase()}${r.significant ? '' : ' (noise)'}  impact ${signed(r.impact_us_per_s)}  ${r.digest}`);
    out.push(`      ${r.fingerprint.length > 90 ? `${r.fingerprint.slice(0, 89)}…` : r.fingerprint}`);
    const b = r.before;
    const a = r.after;
    out.push(`      calls ${calls(b)} → ${calls(a)}${ratio(r.ratio.calls_per_s)}${r.ratio.calls_per_s !== null ? ' (rate)' : ''}   p50 ${pair(b?.p50_us, a?.p50_us)}${ratio(r.ratio.p50)}   p95 ${pair(b?.p95_us, a?.p95_us)}${ratio(r.ratio.p95)}   p99 ${pair(b?.p99_us, a?.p99_us)}${ratio(r.ratio.p99)}`);
    const t = r.latency_test;
    out.push(`      ${what(r)}${t ? `; latency test p=${t.p_adjusted.toPrecision(2)} (adjusted), P(after slower)=${t.effect.toFixed(2)}` : b && a ? '; latency not tested (too few calls)' : ''}`);
  }
  const noise = opts.all ? 0 : d.fingerprints.filter((r) => !r.significant).length;
  const past = hidden - noise;
  if (hidden > 0) out.push('', `(not shown: ${[noise ? `${count(noise, 'fingerprint')} without a significant change (--all)` : '', past ? `${n(past)} more past --limit ${opts.limit}` : ''].filter(Boolean).join(', ')}; --format json has all)`);
  return `${out.join('\n')}\n`;
}

function diffHtml(d: Diff): string {
  const c = d.counts;
  const head = ['Rank', 'Change', 'Impact /s', 'Calls before', 'Calls after', 'Rate ×', 'p50 before', 'p50 after', 'p95 before', 'p95 after', 'p99 before', 'p99 after', 'p (adj.)', 'P(slower)', 'Fingerprint', 'Digest'];
  const cell = (v: number | null | undefined, text: string) => `<td data-v="${v ?? -1}">${esc(text)}</td>`;
  const row = (r: DiffRow) => {
    const b = r.before;
    const a = r.after;
    return `<tr${r.significant ? ' class="sig"' : ''}>${cell(r.rank, String(r.rank))}<td class="l">${esc(what(r))}</td>${cell(r.impact_us_per_s, signed(r.impact_us_per_s))}${cell(b?.calls, calls(b))}${cell(a?.calls, calls(a))}${cell(r.ratio.calls_per_s, r.ratio.calls_per_s?.toFixed(2) ?? '-')}${cell(b?.p50_us, dur(b?.p50_us ?? null))}${cell(a?.p50_us, dur(a?.p50_us ?? null))}${cell(b?.p95_us, dur(b?.p95_us ?? null))}${cell(a?.p95_us, dur(a?.p95_us ?? null))}${cell(b?.p99_us, dur(b?.p99_us ?? null))}${cell(a?.p99_us, dur(a?.p99_us ?? null))}${cell(r.latency_test?.p_adjusted, r.latency_test ? r.latency_test.p_adjusted.toPrecision(2) : '-')}${cell(r.latency_test?.effect, r.latency_test ? r.latency_test.effect.toFixed(2) : '-')}<td class="l fp"><code>${esc(r.fingerprint)}</code></td><td class="l"><code>${esc(r.digest)}</code></td></tr>`;
  };
  const side = (name: string, s: SideJson) => `<p>${esc(sideLines(name, s).map((l) => l.replace(/^#\s+/, '')).join(' '))}</p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Periscope diff: ${esc(d.before.inputs)} → ${esc(d.after.inputs)}</title><style>${CSS}tr.sig td{background:#fff4d6}</style></head>
<body><header><h1>Periscope diff</h1>${side('Before', d.before)}${side('After', d.after)}<p>Periscope ${esc(d.periscope.version)}</p></header>
<main><section><h2>Changes</h2><p>${c.new} new, ${c.gone} gone, ${c.slower} slower, ${c.faster} faster, ${c['more calls']} more calls, ${c['fewer calls']} fewer calls; ${c.unchanged} without a significant change.</p>
<p>Significant (highlighted): Holm-adjusted p &lt; ${d.method.alpha} — latency: ${esc(d.method.latency)}; calls: ${esc(d.method.calls)} — and a change of at least ${Math.round(d.method.min_change * 100)}%. Impact: server time per second of traffic, after minus before. Ranked: significant changes first, by impact.</p></section>
<section><h2>Fingerprints compared (${n(d.fingerprints.length)}: called before, after or both; click a column to sort)</h2><div class="scroll"><table data-sortable><thead><tr>${head.map((h, i) => `<th${i === 1 || i >= 14 ? ' class="l"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${d.fingerprints.map(row).join('')}</tbody></table></div></section></main>
<script>${SCRIPT}</script></body></html>
`;
}

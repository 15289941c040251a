/**
 * The HTML report: one self-contained file (inline CSS, inline SVG charts, a few lines of inline
 * script for sorting; nothing fetched at view time), readable in any browser and attachable to a
 * ticket. Every text from the capture is escaped.
 */
import { captureLines, filtersText, profiled, reportSubject, type FingerprintJson, type Report } from './report.js';
import { peakLabel, tlsUnseen, unrankedLine } from './text.js';
import { dur, size } from '../format.js';
import type { Finding } from '../advise/rules.js';

/** The findings panel: one row per finding, ranked by the time at stake (the report's, and advise's page). */
export function findingsSection(findings: readonly Finding[], heading: string): string {
  if (findings.length === 0) return '';
  const rows = findings.map((f) => {
    const ev = f.evidence;
    const counts = Object.entries(ev.counts).map(([k, v]) => `${k.replaceAll('_', ' ')} ${n(v)}`).join(', ');
    const when = ev.first ? ` ${ev.first}${ev.last && ev.last !== ev.first ? ` to ${ev.last}` : ''}` : '';
    const examples = ev.examples.map((x) => `<pre>${esc(x)}</pre>`).join('');
    return `<tr><td data-v="${f.rank}">${f.rank}</td><td class="l">${esc(f.rule)}</td><td class="l">${esc(f.severity)}</td><td data-v="${f.impact.time_us}">${esc(dur(f.impact.time_us))}</td><td data-v="${f.impact.round_trips}">${n(f.impact.round_trips)}</td><td class="l">${esc(f.title)}<br><small>${esc(ev.detail)}</small><br><small>${esc(counts)}${ev.connections !== null ? `; ${n(ev.connections)} connections` : ''}${esc(when)}</small>${examples ? `<details><summary>examples</summary>${examples}</details>` : ''}</td><td class="l"><code>${esc(f.digests.join(' '))}</code><br>${esc(f.tables.join(', '))}</td><td class="l">${esc(f.advice)}${f.ddl ? `<pre>${esc(f.ddl)};</pre>` : ''}</td></tr>`;
  });
  return `<section id="findings"><h2>${esc(heading)} (${n(findings.length)}; ranked by the time at stake; docs/advise.md)</h2><table data-sortable><thead><tr><th>Rank</th><th class="l">Rule</th><th class="l">Severity</th><th>Time at stake</th><th>Round trips</th><th class="l">Finding</th><th class="l">Digests, tables</th><th class="l">Advice</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const n = (v: number): string => v.toLocaleString('en-US');
const pct = (r: number | null): string => (r === null ? '-' : `${(100 * r).toFixed(1)}%`);

export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c5cbd6}
main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:0 0 8px}
.health-good{border-left:6px solid #2e8b57}.health-degraded{border-left:6px solid #d89b00}.health-bad{border-left:6px solid #c0392b}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px}
.kv{padding:6px 8px;background:#f6f7f9;border-radius:4px}.kv b{display:block;font-size:12px;color:#5b6574;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 6px;border-bottom:1px solid #eceff3;text-align:right;vertical-align:top}
th{background:#f0f2f5;cursor:pointer;user-select:none;white-space:nowrap;position:sticky;top:0}
th.sorted-desc::after{content:' \\25BC'}th.sorted-asc::after{content:' \\25B2'}
td.l,th.l{text-align:left}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f7f9;padding:6px;border-radius:4px;margin:4px 0}
td.fp{min-width:360px;max-width:640px}td.fp code{overflow-wrap:anywhere}
.err{color:#c0392b;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#5b6574}
details{margin:4px 0}summary{cursor:pointer}
.scroll{overflow-x:auto}
.warn{background:#fff4d6;border:1px solid #e6c35c;padding:8px;border-radius:4px}
`;

/** Sorting of tables with `data-sortable`: click a header; cells sort by `data-v` (numbers) or text. */
export const SCRIPT = `
document.querySelectorAll('table[data-sortable]').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var desc=!th.classList.contains('sorted-desc');
      t.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-desc','sorted-asc')});
      th.classList.add(desc?'sorted-desc':'sorted-asc');
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i],y=b.cells[i],xv=x.getAttribute('data-v'),yv=y.getAttribute('data-v'),r;
        if(xv!==null&&yv!==null){r=parseFloat(xv)-parseFloat(yv)}else{r=x.textContent.localeCompare(y.textContent)}
        return desc?-r:r;
      });
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
`;

function kv(label: string, value: string): string {
  return `<div class="kv"><b>${esc(label)}</b>${value}</div>`;
}

/** Latency histogram: the log buckets gathered into at most 40 bars over the range seen. */
function histogramSvg(r: Report): string {
  const h = r.histogram.filter((b) => b.le_us > 0);
  if (h.length === 0) return '<p>No latencies.</p>';
  const lo = Math.log10(Math.max(1, h[0]!.le_us / 1.02));
  const hi = Math.log10(h[h.length - 1]!.le_us) + 1e-9;
  const bins = Math.min(40, Math.max(1, h.length));
  const counts = new Array<number>(bins).fill(0);
  const step = (hi - lo) / bins || 1;
  for (const b of h) counts[Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(b.le_us) - lo) / step)))]! += b.count;
  const W = 900;
  const H = 220;
  const pad = 40;
  const bw = (W - pad - 10) / bins;
  const max = Math.max(...counts);
  const bars = counts
    .map((c, i) => {
      const bh = max > 0 ? ((H - 50) * c) / max : 0;
      const from = dur(10 ** (lo + i * step));
      const to = dur(10 ** (lo + (i + 1) * step));
      return `<rect class="bar" x="${(pad + i * bw + 1).toFixed(1)}" y="${(H - 30 - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="#3b7dd8"><title>${esc(`${from} – ${to}: ${n(c)} commands`)}</title></rect>`;
    })
    .join('');
  const ticks: string[] = [];
  for (let d = Math.ceil(lo); d <= Math.floor(hi); d++) {
    const x = pad + ((d - lo) / (hi - lo || 1)) * (W - pad - 10);
    ticks.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${H - 30}" y2="${H - 25}" stroke="#5b6574"/><text x="${x.toFixed(1)}" y="${H - 12}" text-anchor="middle">${dur(10 ** d)}</text>`);
  }
  return `<svg id="histogram" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="latency histogram"><line x1="${pad}" x2="${W - 10}" y1="${H - 30}" y2="${H - 30}" stroke="#5b6574"/>${bars}${ticks.join('')}<text x="4" y="14">commands (max ${n(max)})</text></svg>`;
}

/** Timeline: commands per second as bars, average latency as a line (its own scale). */
function timelineSvg(r: Report): string {
  const pts = r.timeline.points;
  if (pts.length === 0) return '<p>No commands.</p>';
  const W = 900;
  const H = 220;
  const pad = 40;
  const bw = Math.min(40, (W - pad - 40) / pts.length);
  const secs = r.timeline.bucket_s;
  const maxRate = Math.max(...pts.map((p) => p.commands / secs), 1e-9);
  const maxAvg = Math.max(...pts.map((p) => p.avg_us ?? 0), 1e-9);
  const bars = pts
    .map((p, i) => {
      const bh = ((H - 50) * (p.commands / secs)) / maxRate;
      return `<rect class="bar" x="${(pad + i * bw).toFixed(2)}" y="${(H - 30 - bh).toFixed(1)}" width="${Math.max(0.5, bw - (bw > 3 ? 1 : 0)).toFixed(2)}" height="${bh.toFixed(1)}" fill="${p.errors > 0 ? '#d9534f' : '#3b7dd8'}"><title>${esc(`${p.t}: ${(p.commands / secs).toFixed(1)} commands/s, ${p.errors} errors, avg ${dur(p.avg_us)}, max ${dur(p.max_us)}`)}</title></rect>`;
    })
    .join('');
  // The average latency as a line, broken where a bucket had no command; a dot per bucket.
  let path = '';
  let dots = '';
  let open = false;
  pts.forEach((p, i) => {
    if (p.avg_us === null) {
      open = false;
      return;
    }
    const x = (pad + (i + 0.5) * bw).toFixed(1);
    const y = (H - 30 - ((H - 50) * p.avg_us) / maxAvg).toFixed(1);
    path += `${open ? 'L' : 'M'}${x},${y}`;
    dots += `<circle cx="${x}" cy="${y}" r="2" fill="#e67e22"/>`;
    open = true;
  });
  return `<svg id="timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="timeline"><line x1="${pad}" x2="${W - 40}" y1="${H - 30}" y2="${H - 30}" stroke="#5b6574"/>${bars}<path d="${path}" fill="none" stroke="#e67e22" stroke-width="1.5"/>${dots}<text x="4" y="14">commands/s (max ${maxRate.toFixed(1)}) — bars; average latency (max ${dur(maxAvg)}) — line</text><text x="${pad}" y="${H - 12}">${esc(pts[0]!.t)}</text><text x="${W - 40}" y="${H - 12}" text-anchor="end">${esc(pts[pts.length - 1]!.t)}</text></svg>`;
}

function fingerprintRow(f: FingerprintJson): string {
  const l = f.latency_us;
  const num = (v: number | null, text: string) => `<td data-v="${v ?? -1}">${text}</td>`;
  const ex = f.example?.sql ? `<details><summary>example (slowest, ${esc(dur(f.example.latency_us))})</summary><pre>${esc(f.example.sql)}</pre></details>` : '';
  return `<tr>${num(f.rank, String(f.rank))}<td class="l fp"><code>${esc(f.fingerprint)}</code>${ex}</td><td class="l"><code>${esc(f.digest)}</code></td>${num(l.total, dur(l.total))}${num(f.share_of_time, pct(f.share_of_time))}${num(f.count, n(f.count))}${num(f.qps, f.qps === null ? '-' : f.qps.toFixed(2))}${num(l.avg, dur(l.avg))}${num(f.first_byte_us.avg, dur(f.first_byte_us.avg))}${num(f.transfer_us.avg, dur(f.transfer_us.avg))}${num(l.p50, dur(l.p50))}${num(l.p95, dur(l.p95))}${num(l.p99, dur(l.p99))}${num(l.max, dur(l.max))}${num(f.rows_sent.sum, n(f.rows_sent.sum))}${num(f.rows_affected.sum, n(f.rows_affected.sum))}<td data-v="${f.errors}"${f.errors ? ' class="err"' : ''}>${n(f.errors)}</td>${num(f.no_index_used, n(f.no_index_used))}<td class="l">${esc(f.kind)}${f.prepared ? ' <small>(prepared)</small>' : ''}</td><td class="l">${esc(f.tables.join(', '))}</td></tr>`;
}

export function renderHtml(r: Report): string {
  const o = r.overall;
  const h = r.health;
  const title = reportSubject(r);
  const filters = filtersText(r);
  const context = [...captureLines(r), ...(filters === null ? [] : [`Filters: ${filters}`])];
  const health = `<section id="health" class="health-${h.status}"><h2>Capture health: ${esc(h.status)}</h2>${h.notes.length ? `<ul>${h.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p>No loss seen: every command in the capture was decoded.</p>'}</section>`;
  const overall = `<section id="overall"><h2>Overall</h2><div class="grid">${[
    kv('Time range', `${esc(o.first ?? '-')}<br>${esc(o.last ?? '-')} (${esc(o.duration_s === null ? '-' : dur(o.duration_s * 1e6))})`),
    kv('Commands', `${n(o.commands)} (${o.commands_per_s === null ? '-' : n(o.commands_per_s)}/s)`),
    kv('Queries', `${n(o.queries)} (${o.queries_per_s === null ? '-' : n(o.queries_per_s)}/s)`),
    kv('Commands/s: capture / traffic / peak', `${o.rates.capture.commands_per_s ?? '-'} / ${o.rates.traffic.commands_per_s ?? '-'} / ${o.rates.peak.commands_per_s ?? '-'}${o.rates.peak.t === null ? '' : `<br><small>capture ${esc(o.rates.capture.duration_s === null ? '-' : dur(o.rates.capture.duration_s * 1e6))}, traffic ${esc(o.rates.traffic.duration_s === null ? '-' : dur(o.rates.traffic.duration_s * 1e6))} first to last command, peak${esc(peakLabel(o.rates.peak))}</small>`}`),
    kv('Query time', `${esc(dur(o.query_time_us))}; concurrency ${o.concurrency === null ? '-' : o.concurrency.toFixed(2)}`),
    kv('Latency p50 / p95 / p99', `${esc(dur(o.latency_us.p50))} / ${esc(dur(o.latency_us.p95))} / ${esc(dur(o.latency_us.p99))}`),
    kv('Latency max', esc(dur(o.latency_us.max))),
    kv('Avg first byte / transfer', `${esc(dur(o.first_byte_us.avg))} / ${esc(dur(o.transfer_us.avg))}`),
    kv('Errors', `<span${o.errors ? ' class="err"' : ''}>${n(o.errors)}</span> (${pct(o.error_rate)})`),
    kv('Connections / logins', `${n(o.connections)} / ${n(o.logins)}${o.login_errors ? ` (<span class="err">${n(o.login_errors)} failed</span>)` : ''}${o.logins_aborted ? ` (${n(o.logins_aborted)} aborted)` : ''}${o.tls_logins_unseen ? `<br><small>${esc(tlsUnseen(o.tls_logins_unseen))}</small>` : ''}`),
    kv('Users', esc(Object.keys(o.users).slice(0, 5).join(', ') || '-')),
    kv('Fingerprints', n(o.fingerprints)),
    kv('Bytes in / out', `${esc(size(o.bytes_in))} / ${esc(size(o.bytes_out))}`),
    kv('Packets', n(h.counters.packets ?? 0)),
  ].join('')}</div></section>`;
  const charts = `<section id="charts"><h2>Latency histogram</h2>${histogramSvg(r)}<h2>Timeline (per ${r.timeline.bucket_s === 1 ? 'second' : `${r.timeline.bucket_s} seconds`})</h2>${timelineSvg(r)}</section>`;
  const unranked = unrankedLine(r);
  const heads = ['Rank', 'Fingerprint', 'Digest', 'Time', 'Time %', 'Calls', 'QPS', 'Avg', 'Avg 1st byte', 'Avg transfer', 'p50', 'p95', 'p99', 'Max', 'Rows sent', 'Rows affected', 'Errors', 'No index', 'Kind', 'Tables'];
  const table = `<section id="fingerprints"><h2>Fingerprints (${n(r.fingerprints.filter(profiled).length)}; click a column to sort)</h2><div class="scroll"><table id="fp-table" data-sortable><thead><tr>${heads.map((x, i) => `<th${i === 1 || i === 2 || i >= 18 ? ' class="l"' : ''}>${x}</th>`).join('')}</tr></thead><tbody>${r.fingerprints.filter(profiled).map(fingerprintRow).join('')}</tbody></table></div>${unranked === null ? '' : `<p class="note">${esc(unranked)}</p>`}</section>`;
  const errors = r.errors.length
    ? `<section id="errors"><h2>Errors by code</h2><table data-sortable><thead><tr><th>Code</th><th class="l">SQL state</th><th>Count</th><th class="l">Message</th><th class="l">Fingerprints</th></tr></thead><tbody>${r.errors.map((e) => `<tr><td data-v="${e.code}" class="err">${e.code}</td><td class="l">${esc(e.sql_state ?? '')}</td><td data-v="${e.count}">${n(e.count)}</td><td class="l">${esc(e.message)}</td><td class="l"><code>${esc(Object.keys(e.fingerprints).join(' '))}</code></td></tr>`).join('')}</tbody></table></section>`
    : '';
  const slowest = r.slowest.length
    ? `<section id="slowest"><h2>Slowest commands</h2><table data-sortable><thead><tr><th>Latency</th><th class="l">Time</th><th class="l">User@client</th><th class="l">Database</th><th>Rows</th><th class="l">Statement</th></tr></thead><tbody>${r.slowest.map((s) => `<tr><td data-v="${s.latency_us ?? -1}">${esc(dur(s.latency_us))}</td><td class="l">${esc(s.ts)}</td><td class="l">${esc(`${s.user ?? '?'}@${s.client}`)}</td><td class="l">${esc(s.db ?? '')}</td><td data-v="${s.rows ?? -1}">${s.rows ?? '-'}</td><td class="l"><pre>${esc(s.sql ?? `(${s.cmd})`)}</pre></td></tr>`).join('')}</tbody></table></section>`
    : '';
  const findings = findingsSection(r.findings, 'Opportunities');
  const tx = r.transactions;
  const transactions = tx.count
    ? `<section id="transactions"><h2>Transactions (${n(tx.count)}: ${esc(Object.entries(tx.ends).map(([k, v]) => `${k} ${n(v)}`).join(', '))})</h2><p>Duration: ${esc(`min ${dur(tx.duration_us.min)}, p50 ${dur(tx.duration_us.p50)}, p95 ${dur(tx.duration_us.p95)}, p99 ${dur(tx.duration_us.p99)}, max ${dur(tx.duration_us.max)}`)}; idle inside ${esc(dur(tx.idle_us.total))} in all; ${n(tx.statements.sum)} commands.</p><table data-sortable><thead><tr><th>Duration</th><th>Idle</th><th>Commands</th><th class="l">End</th><th class="l">Start</th><th class="l">User@client</th><th class="l">Digests</th></tr></thead><tbody>${tx.slowest.map((t) => `<tr><td data-v="${t.duration_us}">${esc(dur(t.duration_us))}</td><td data-v="${t.idle_us}">${esc(dur(t.idle_us))}</td><td data-v="${t.statements}">${n(t.statements)}</td><td class="l">${esc(t.end)}</td><td class="l">${esc(t.start)}</td><td class="l">${esc(`${t.user ?? '?'}@${t.client}`)}</td><td class="l"><code>${esc(t.digests.join(' '))}</code></td></tr>`).join('')}</tbody></table></section>`
    : '';
  const warn = r.inputs.redacted ? '' : '<p class="warn">Not redacted: examples hold literal values as captured.</p>';
  const bad = h.status !== 'good';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Periscope report: ${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>Periscope query report</h1><p>${esc(title)} — Periscope ${esc(r.periscope.version)}</p>${context.map((c) => `<p class="context">${esc(c)}</p>`).join('')}</header>
<main>${warn}${bad ? health : ''}${overall}${findings}${charts}${table}${errors}${slowest}${transactions}${bad ? '' : health}</main>
<script>${SCRIPT}</script></body></html>
`;
}

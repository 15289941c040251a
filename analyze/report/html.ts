/**
 * The HTML report: one self-contained file (inline CSS, inline SVG charts, a few lines of inline
 * script for sorting; nothing fetched at view time), readable in any browser and attachable to a
 * ticket. Every text from the capture is escaped.
 */
import { captureLines, dbName, FINGERPRINT_TIMELINES, filtersText, noCommandReason, profiled, reportSubject, type FingerprintJson, type Report } from './report.js';
import { chartSvg, fingerprintChartSpec, type FingerprintSeries } from './chart.js';
import { fingerprintsText, peakLabel, tlsUnseen, unrankedLine } from './text.js';
import { dur, rate, size } from '../format.js';
import type { Finding } from '../advise/rules.js';
import { connectionsHtml, tablesHtml } from './views.js';

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
/** As the text report writes shares (0.09%, not 0.1%, below 0.1 %). */
const pct = (r: number | null): string => (r === null ? '-' : `${(100 * r).toFixed(r > 0 && r < 0.001 ? 2 : 1)}%`);

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
svg text{font:11px system-ui,sans-serif;fill:#5b6574}svg text.axis-title{font-weight:600;fill:#1d2430}svg text.legend{fill:#1d2430}
#fp-table{table-layout:fixed;font-size:12px}#fp-table th{white-space:normal;vertical-align:bottom}#fp-table th,#fp-table td{padding:3px 4px}
#fp-table td.fp,#fp-table td.ell{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:none;min-width:0}
#fp-table tr.fp-row{cursor:pointer}#fp-table tr.fp-row:hover td,#fp-table tr.open td{background:#eef4fc}
#fp-table tr.detail td{text-align:left;background:#fbfcfd;white-space:normal}#fp-table tr.detail h3{font-size:14px;margin:8px 0 4px}
#fp-table pre.full{font-size:12px}
.search input{width:420px;max-width:100%;padding:5px 8px;font:inherit;border:1px solid #c5cbd6;border-radius:4px}
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
      var body=t.tBodies[0],open=body.querySelector('tr.detail');
      if(open){open.previousElementSibling&&open.previousElementSibling.classList.remove('open');open.remove()}
      var rows=Array.prototype.slice.call(body.rows);
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

/** Latency histogram: the log buckets gathered into at most 40 bars over the range seen, on a log axis. */
function histogramSvg(r: Report): string {
  const h = r.histogram.filter((b) => b.le_us > 0);
  if (h.length === 0) return '<p>No latencies.</p>';
  const lo = Math.log10(Math.max(1, h[0]!.le_us / 1.02));
  const hi = Math.log10(h[h.length - 1]!.le_us) + 1e-9;
  const bins = Math.min(40, Math.max(1, h.length));
  const counts = new Array<number>(bins).fill(0);
  const step = (hi - lo) / bins || 1;
  for (const b of h) counts[Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(b.le_us) - lo) / step)))]! += b.count;
  const edge = (i: number) => 10 ** (lo + i * step);
  return chartSvg({
    id: 'histogram',
    label: 'latency histogram',
    width: 1200,
    height: 260,
    x: { title: 'latency (log scale)', min: edge(0), max: edge(bins), log: true, unit: 'us' },
    y: { title: 'commands', min: 0, max: Math.max(...counts), unit: 'number' },
    bars: counts.map((c, i) => ({ x0: edge(i), x1: edge(i + 1), y: c, color: '#3b7dd8', title: `${dur(edge(i))} – ${dur(edge(i + 1))}: ${n(c)} commands` })),
    lines: [],
    legend: [['#3b7dd8', 'commands per latency range']],
  });
}

/** Seconds since the epoch of a timeline's ISO time. */
const epoch = (t: string): number => Date.parse(t) / 1000;

/** Timeline: commands per second as bars, average latency as a line (right axis). */
function timelineSvg(r: Report): string {
  const pts = r.timeline.points;
  if (pts.length === 0) return '<p>No commands.</p>';
  const secs = r.timeline.bucket_s;
  const per = secs === 1 ? 'second' : `${secs} s`;
  return chartSvg({
    id: 'timeline',
    label: 'timeline',
    width: 1200,
    height: 260,
    x: { title: 'time (UTC)', min: epoch(pts[0]!.t), max: epoch(pts[pts.length - 1]!.t) + secs, unit: 'time' },
    y: { title: 'commands/s', min: 0, max: Math.max(...pts.map((p) => p.commands / secs)), unit: 'number' },
    y2: { title: 'average latency', min: 0, max: Math.max(...pts.map((p) => p.avg_us ?? 0)), unit: 'us' },
    bars: pts.map((p) => ({ x0: epoch(p.t), x1: epoch(p.t) + secs, y: p.commands / secs, color: p.errors > 0 ? '#d9534f' : '#3b7dd8', title: `${p.t}: ${(p.commands / secs).toFixed(1)} commands/s, ${p.errors} errors, avg ${dur(p.avg_us)}, max ${dur(p.max_us)}` })),
    lines: [{ axis: 2, color: '#e67e22', name: 'average latency', points: pts.map((p) => [epoch(p.t) + secs / 2, p.avg_us]) }],
    legend: [
      ['#3b7dd8', `commands/s (per ${per})`],
      ['#d9534f', 'with errors'],
      ['#e67e22', 'average latency (right axis)'],
    ],
  });
}

/** A count, short: 9,999 as is, then 12.3k, 1.23M (the exact figure in the cell's title). */
function compact(v: number): string {
  if (v < 10_000) return n(v);
  if (v < 1e6) return `${(v / 1e3).toFixed(v < 1e5 ? 1 : 0)}k`;
  if (v < 1e9) return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1)}M`;
  return `${(v / 1e9).toFixed(2)}G`;
}

/** The Overall figure, and how it divides when not every fingerprint is in the table. */
function fingerprintsHtml(r: Report): string {
  const text = fingerprintsText(r, 'in the table');
  const i = text.indexOf(': ');
  return i < 0 ? esc(text.replace(/, all ranked in the table$/, '')) : `${esc(text.slice(0, i))}<br><small>${esc(text.slice(i + 2))}</small>`;
}

/** The fingerprint table's columns: header, its explanation, width (px; the fingerprint takes the rest), text or number. */
const COLUMNS: [string, string, number, boolean][] = [
  ['Rank', 'position in the report\'s order', 58, false],
  ['Fingerprint', 'the statement with every literal as ?; click the row for all of it, its example and its timeline', 0, true],
  ['Time', 'total latency (full response time)', 58, false],
  ['Time %', 'share of all fingerprints\' time', 52, false],
  ['Calls', 'calls that ran the statement', 56, false],
  ['Avg', 'average latency', 54, false],
  ['1st byte', 'average time to the response\'s first byte', 56, false],
  ['Transfer', 'average time from the first byte to the last', 62, false],
  ['p50', 'median latency', 54, false],
  ['p95', '95th percentile latency', 54, false],
  ['p99', '99th percentile latency', 54, false],
  ['Max', 'largest latency', 54, false],
  ['Rows sent', 'rows returned, all calls', 58, false],
  ['Rows aff.', 'rows affected, all calls', 56, false],
  ['Errors', 'calls answered with an error', 52, false],
  ['No index', 'calls the server flagged as using no index', 56, false],
  ['Kind, tables', 'statement kind and the tables it names', 130, true],
];

/** Text the search box matches: fingerprint, digest, kind, tables, users, databases, clients. */
function searchText(f: FingerprintJson): string {
  return [f.fingerprint, f.digest, f.kind, ...f.tables, ...Object.keys(f.users), ...Object.keys(f.databases), ...Object.keys(f.clients)].join(' ').toLowerCase();
}

/** What a click on the row shows besides the chart: all of the fingerprint, who ran it, its example. */
function fingerprintDetail(f: FingerprintJson): string {
  const who = (label: string, m: Record<string, number>) => `<b>${label}</b> ${esc(Object.entries(m).map(([k, v]) => `${k || '(none)'} ${n(v)}`).join(', ') || '-')}`;
  const ex = f.example?.sql ? `<p><b>Example</b> (the slowest call, ${esc(dur(f.example.latency_us))}, ${esc(f.example.ts)})</p><pre>${esc(f.example.sql)}</pre>` : '';
  return `<pre class="full">${esc(f.fingerprint)}</pre><p><b>Digest</b> <code>${esc(f.digest)}</code> · <b>QPS</b> ${f.qps === null ? '-' : f.qps.toFixed(2)} · <b>commands</b> ${esc(Object.entries(f.commands).map(([k, v]) => `${k} ${n(v)}`).join(', '))} · <b>first</b> ${esc(f.first_seen ?? '-')} · <b>last</b> ${esc(f.last_seen ?? '-')}</p><p>${who('Users', f.users)} · ${who('Databases', f.databases)} · ${who('Clients', f.clients)}</p>${ex}`;
}

function fingerprintRow(f: FingerprintJson): string {
  const l = f.latency_us;
  const num = (v: number | null, text: string, title?: string) => `<td data-v="${v ?? -1}"${title ? ` title="${esc(title)}"` : ''}>${text}</td>`;
  const cnt = (v: number) => num(v, compact(v), v >= 10_000 ? n(v) : undefined);
  const kind = `${f.kind}${f.prepared ? ' (prepared)' : ''}${f.tables.length ? `: ${f.tables.join(', ')}` : ''}`;
  return `<tr class="fp-row" tabindex="0" data-rank="${f.rank}" data-search="${esc(searchText(f))}">${num(f.rank, String(f.rank))}<td class="l fp" title="${esc(f.fingerprint)}"><code>${esc(f.fingerprint)}</code><template>${fingerprintDetail(f)}</template></td>${num(l.total, dur(l.total))}${num(f.share_of_time, pct(f.share_of_time))}${cnt(f.count)}${num(l.avg, dur(l.avg))}${num(f.first_byte_us.avg, dur(f.first_byte_us.avg))}${num(f.transfer_us.avg, dur(f.transfer_us.avg))}${num(l.p50, dur(l.p50))}${num(l.p95, dur(l.p95))}${num(l.p99, dur(l.p99))}${num(l.max, dur(l.max))}${cnt(f.rows_sent.sum)}${cnt(f.rows_affected.sum)}<td data-v="${f.errors}"${f.errors ? ' class="err"' : ''}>${compact(f.errors)}</td>${cnt(f.no_index_used)}<td class="l ell" title="${esc(kind)}">${esc(kind)}</td></tr>`;
}

/**
 * The fingerprints' timelines as the page's script reads them (FingerprintSeries by rank, over the
 * report's time range), in a JSON script element: `<` is escaped so no text can end the element.
 */
function timelineData(r: Report, ranked: readonly FingerprintJson[]): string {
  const pts = r.timeline.points;
  const lo = pts.length ? epoch(pts[0]!.t) : 0;
  const hi = pts.length ? epoch(pts[pts.length - 1]!.t) + r.timeline.bucket_s : 0;
  const series: Record<number, FingerprintSeries> = {};
  for (const f of ranked) if (f.timeline) series[f.rank] = { b: f.timeline.bucket_s, p: f.timeline.points.map((p) => [epoch(p.t), p.calls, p.errors, p.p50_us, p.p95_us, p.max_us]) };
  return JSON.stringify({ lo, hi, n: FINGERPRINT_TIMELINES, series }).replace(/</g, '\\u003c');
}

/** The fingerprint table's own script: the search box, and a row's details and timeline on a click. */
const FINGERPRINT_SCRIPT = `
(function(){
  var table=document.getElementById('fp-table');if(!table)return;
  var data=JSON.parse(document.getElementById('fp-timelines').textContent);
  ${chartSvg.toString()}
  ${fingerprintChartSpec.toString()}
  var cols=table.tHead.rows[0].cells.length;
  function close(){var d=table.querySelector('tr.detail');if(d){d.previousElementSibling&&d.previousElementSibling.classList.remove('open');d.remove()}}
  table.addEventListener('click',function(ev){
    var row=ev.target.closest('tr.fp-row');if(!row)return;
    var was=row.classList.contains('open');close();if(was)return;
    var rank=row.getAttribute('data-rank'),s=data.series[rank];
    var tr=document.createElement('tr');tr.className='detail';
    var td=document.createElement('td');td.colSpan=cols;
    var chart=s?'<h3>Calls and latency over time</h3>'+chartSvg(fingerprintChartSpec('fp-chart',s,data.lo,data.hi)):'<p class="note">No timeline: '+(Number(rank)>data.n?'only the first '+data.n+' fingerprints of the report have one':'it was not kept (the memory budget of timelines, or a summary of an older version)')+'.</p>';
    td.innerHTML=row.querySelector('template').innerHTML+chart;
    tr.appendChild(td);row.after(tr);row.classList.add('open');
  });
  table.addEventListener('keydown',function(ev){if(ev.key==='Enter'&&ev.target.matches('tr.fp-row')){ev.preventDefault();ev.target.click()}});
  var box=document.getElementById('fp-search'),count=document.getElementById('fp-count');
  var rows=Array.prototype.slice.call(table.tBodies[0].rows);
  box.addEventListener('input',function(){
    close();
    var terms=box.value.toLowerCase().split(/\\s+/).filter(Boolean),shown=0;
    rows.forEach(function(r){var t=r.getAttribute('data-search'),ok=terms.every(function(w){return t.indexOf(w)>=0});r.hidden=!ok;if(ok)shown++});
    count.textContent=terms.length?shown+' of '+rows.length+' shown':'';
  });
})();
`;

export function renderHtml(r: Report): string {
  const o = r.overall;
  const h = r.health;
  const title = reportSubject(r);
  const filters = filtersText(r);
  const context = [...captureLines(r), ...(filters === null ? [] : [`Filters: ${filters}`])];
  const health = `<section id="health" class="health-${h.status}"><h2>Capture health: ${esc(h.status)}</h2>${h.notes.length ? `<ul>${h.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p>No loss seen: every command in the capture was decoded.</p>'}</section>`;
  const none = noCommandReason(r);
  const overall = `<section id="overall"><h2>Overall</h2><div class="grid">${[
    kv('Time range', `${esc(o.first ?? '-')}<br>${esc(o.last ?? '-')} (${esc(o.duration_s === null ? '-' : dur(o.duration_s * 1e6))})`),
    ...(none !== null
      ? // No rates, times or latencies from no command: why there is none instead.
        [kv('Commands', `0<br><small>${esc(none)}</small>`)]
      : [
        kv('Commands', `${n(o.commands)} (${rate(o.commands_per_s)}/s)`),
        kv('Queries', `${n(o.queries)} (${rate(o.queries_per_s)}/s)`),
        kv('Commands/s: capture / traffic / peak', `${rate(o.rates.capture.commands_per_s)} / ${rate(o.rates.traffic.commands_per_s)} / ${rate(o.rates.peak.commands_per_s)}${o.rates.peak.t === null ? '' : `<br><small>capture ${esc(o.rates.capture.duration_s === null ? '-' : dur(o.rates.capture.duration_s * 1e6))}, traffic ${esc(o.rates.traffic.duration_s === null ? '-' : dur(o.rates.traffic.duration_s * 1e6))} first to last command, peak${esc(peakLabel(o.rates.peak))}</small>`}`),
        kv('Query time', `${esc(dur(o.query_time_us))}; concurrency ${o.concurrency === null ? '-' : o.concurrency.toFixed(2)}`),
        kv('Latency p50 / p95 / p99', `${esc(dur(o.latency_us.p50))} / ${esc(dur(o.latency_us.p95))} / ${esc(dur(o.latency_us.p99))}`),
        kv('Latency max', esc(dur(o.latency_us.max))),
        kv('Avg first byte / transfer', `${esc(dur(o.first_byte_us.avg))} / ${esc(dur(o.transfer_us.avg))}`),
        kv('Errors', `<span${o.errors ? ' class="err"' : ''}>${n(o.errors)}</span> (${pct(o.error_rate)})`),
        ]),
    kv('Connections / logins', `${n(o.connections)} / ${n(o.logins)}${o.login_errors ? ` (<span class="err">${n(o.login_errors)} failed</span>)` : ''}${o.logins_aborted ? ` (${n(o.logins_aborted)} aborted)` : ''}${o.tls_logins_unseen ? `<br><small>${esc(tlsUnseen(o.tls_logins_unseen))}</small>` : ''}`),
    kv('Users', esc(Object.keys(o.users).slice(0, 5).join(', ') || '-')),
    kv('Fingerprints', fingerprintsHtml(r)),
    kv('Bytes in / out', `${esc(size(o.bytes_in))} / ${esc(size(o.bytes_out))}`),
    kv('Packets', n(h.counters.packets ?? 0)),
  ].join('')}</div></section>`;
  const charts = `<section id="charts"><h2>Latency histogram</h2>${histogramSvg(r)}<h2>Timeline (per ${r.timeline.bucket_s === 1 ? 'second' : `${r.timeline.bucket_s} seconds`})</h2>${timelineSvg(r)}</section>`;
  const unranked = unrankedLine(r);
  const ranked = r.fingerprints.filter(profiled);
  const search = `<p class="search"><input id="fp-search" type="search" placeholder="Filter: fingerprint, digest, table, user, database, client" aria-label="filter the fingerprints" autocomplete="off"> <span id="fp-count"></span></p>`;
  const table = `<section id="fingerprints"><h2>Fingerprints (${n(ranked.length)}${ranked.length < r.fingerprints.length ? ` of ${n(r.fingerprints.length)}, the others below the table` : ''}; click a column to sort, a row for its details and, for the first ${FINGERPRINT_TIMELINES}, its timeline)</h2>${search}<div class="scroll"><table id="fp-table" data-sortable><colgroup>${COLUMNS.map(([, , w]) => (w ? `<col style="width:${w}px">` : '<col>')).join('')}</colgroup><thead><tr>${COLUMNS.map(([h, title, , text]) => `<th${text ? ' class="l"' : ''} title="${esc(title)}">${h}</th>`).join('')}</tr></thead><tbody>${ranked.map(fingerprintRow).join('')}</tbody></table></div>${unranked === null ? '' : `<p class="note">${esc(unranked)}</p>`}<script type="application/json" id="fp-timelines">${timelineData(r, ranked)}</script></section>`;
  const errors = r.errors.length
    ? `<section id="errors"><h2>Errors by code</h2><table data-sortable><thead><tr><th>Code</th><th class="l">SQL state</th><th>Count</th><th class="l">Message</th><th class="l">Fingerprints</th></tr></thead><tbody>${r.errors.map((e) => `<tr><td data-v="${e.code}" class="err">${e.code}</td><td class="l">${esc(e.sql_state ?? '')}</td><td data-v="${e.count}">${n(e.count)}</td><td class="l">${esc(e.message)}</td><td class="l"><code>${esc(Object.keys(e.fingerprints).join(' '))}</code></td></tr>`).join('')}</tbody></table></section>`
    : '';
  const slowest = r.slowest.length
    ? `<section id="slowest"><h2>Slowest commands</h2><table data-sortable><thead><tr><th>Latency</th><th class="l">Time</th><th class="l">User@client</th><th class="l">Database</th><th>Rows</th><th class="l">Statement</th></tr></thead><tbody>${r.slowest.map((s) => `<tr><td data-v="${s.latency_us ?? -1}">${esc(dur(s.latency_us))}</td><td class="l">${esc(s.ts)}</td><td class="l">${esc(`${s.user ?? '?'}@${s.client}`)}</td><td class="l">${esc(dbName(s.user, s.db))}</td><td data-v="${s.rows ?? -1}">${s.rows ?? '-'}</td><td class="l"><pre>${esc(s.sql ?? `(${s.cmd})`)}</pre></td></tr>`).join('')}</tbody></table></section>`
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
<main>${warn}${bad ? health : ''}${overall}${findings}${charts}${table}${errors}${slowest}${transactions}${tablesHtml(r, esc)}${connectionsHtml(r, esc)}${bad ? '' : health}</main>
<script>${SCRIPT}${FINGERPRINT_SCRIPT}</script></body></html>
`;
}

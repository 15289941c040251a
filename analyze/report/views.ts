/**
 * The tables and connections views as text and HTML sections (the report's JSON has them as
 * `tables` and `connections`; tables.ts and sessions.ts make the figures). Kept apart from the
 * main renderers, which only append these sections.
 */
import type { ConnGroupJson, Report } from './report.js';
import { count, dur, rate } from '../format.js';

const n = (v: number): string => v.toLocaleString('en-US');
const pct = (r: number): string => `${(100 * r).toFixed(r > 0 && r < 0.001 ? 2 : 1)}%`;
const top = (m: Record<string, number>, max = 3): string => {
  const e = Object.entries(m);
  return e.slice(0, max).map(([k, v]) => `${k} (${n(v)})`).join(', ') + (e.length > max ? `, ${e.length - max} more` : '');
};

/** Tables shown in the text report (JSON has all). */
export const TEXT_TABLES = 20;
/** Users and client hosts shown in the text report (JSON has all). */
export const TEXT_CONN_GROUPS = 5;

/** Reads, writes and other statements of a table: `8 read, 5 write, 2 other`. */
function accessText(t: Report['tables']['tables'][number]): string {
  return [t.reads.calls ? `${n(t.reads.calls)} read` : '', t.writes.calls ? `${n(t.writes.calls)} write` : '', t.other.calls ? `${n(t.other.calls)} other` : ''].filter(Boolean).join(', ');
}

/** The text lines of the tables view, as [first prefix, continuation prefix, text] for the caller to wrap. */
export function tablesText(r: Report): { heading: string; rows: [string, string, string][]; more: string | null } | null {
  const t = r.tables;
  if (t.tables.length === 0) return null;
  const shown = t.tables.slice(0, TEXT_TABLES);
  const rows: [string, string, string][] = [];
  for (const x of shown) {
    const dbs = Object.keys(x.databases).length ? `; database ${top(x.databases)}` : '';
    const errors = x.errors ? `; ${count(x.errors, 'error')}` : '';
    rows.push([`#   ${dur(x.latency_us.total).padStart(8)} ${pct(x.share_of_time).padStart(6)}  `, '#                    ', `${x.table}: ${count(x.calls, 'call')} (${accessText(x)}), avg ${dur(x.latency_us.avg)}, p95 ${dur(x.latency_us.p95)}, max ${dur(x.latency_us.max)}; rows read ${n(x.rows_read)}, written ${n(x.rows_written)}${errors}${dbs}`]);
    rows.push(['#                    top: ', '#                         ', x.top.map((f) => `${f.digest} ${f.kind} ${dur(f.time_us)} (${n(f.calls)})`).join(', ')]);
  }
  const rest = t.tables.length - shown.length;
  const noTable = t.no_table.calls ? `${count(t.no_table.calls, 'call')} of ${count(t.no_table.fingerprints, 'statement')} naming no table (${dur(t.no_table.time_us)})` : null;
  const more = [rest > 0 ? `${n(rest)} more tables (--format json has all)` : '', noTable ?? ''].filter(Boolean).join('; ');
  return {
    heading: `# Tables (by time; ${shown.length < t.tables.length ? `top ${shown.length} of ${n(t.tables.length)}` : count(t.tables.length, 'table')}; a statement touching several tables counts for each)`,
    rows,
    more: more || null,
  };
}

function groupText(name: string, g: ConnGroupJson): string {
  const p = g.prepared;
  const parts = [`${count(g.logins, 'login')}${g.login_errors ? ` (${n(g.login_errors)} refused)` : ''}${g.logins_aborted ? ` (${n(g.logins_aborted)} aborted)` : ''}`];
  if (g.whole) parts.push(`lifetime avg ${dur(g.lifetime_us.avg)}, max ${dur(g.lifetime_us.max)}`);
  if (p.prepares || p.executes || p.executes_prepared_before) parts.push(`${n(p.prepares)} prepares, ${n(p.executes)} executes${p.executes_per_prepare === null ? '' : ` (${p.executes_per_prepare} per prepare)`}${p.executes_prepared_before ? `, ${n(p.executes_prepared_before)} of statements prepared before` : ''}`);
  if (p.never_closed) parts.push(`${n(p.never_closed)} never closed`);
  return `${name}: ${parts.join('; ')}`;
}

/** Does the report have anything for the connections view? */
export function hasConnections(r: Report): boolean {
  const c = r.connections;
  return c.logins + c.prepared.prepares + c.prepared.executes + c.prepared.executes_prepared_before > 0;
}

/**
 * Where the logins' peak comes from, as the query rates' peak says its basis: `: 3 logins in the
 * second from …`, or, when the capture ran only part of that second, `: 2 logins in the 20.0ms of
 * the capture inside the second from …`.
 */
export function loginsPeakLabel(p: Report['connections']['peak']): string {
  if (p.t === null) return '';
  const bucket = p.bucket_s === 1 ? 'second' : `${p.bucket_s} s`;
  const logins = count(p.logins, 'login');
  return p.basis === 'capture' && p.covered_s !== null ? `: ${logins} in the ${dur(p.covered_s * 1e6)} of the capture inside the ${bucket} from ${p.t}` : `: ${logins} in the ${bucket} from ${p.t}`;
}

/** The connections view as [label, text] pairs, for the caller's key-value lines. */
export function connectionsText(r: Report): [string, string][] {
  const c = r.connections;
  const out: [string, string][] = [];
  const p = c.prepared;
  out.push(['Logins', `${n(c.logins)} (${rate(c.connects_per_s)}/s over the capture; peak ${rate(c.peak.connects_per_s)}/s${loginsPeakLabel(c.peak)})${c.login_errors ? `; ${n(c.login_errors)} refused` : ''}${c.logins_aborted ? `; ${n(c.logins_aborted)} aborted` : ''}`]);
  if (c.whole) {
    out.push(['Lifetime', `${count(c.whole, 'connection')} seen from login to quit: p50 ${dur(c.lifetime_us.p50)}, p95 ${dur(c.lifetime_us.p95)}, max ${dur(c.lifetime_us.max)}`]);
    out.push(['Idle', `per connection p50 ${dur(c.idle_us.p50)}, p95 ${dur(c.idle_us.p95)}, max ${dur(c.idle_us.max)} (no command in flight); longest single wait p50 ${dur(c.max_idle_us.p50)}, p95 ${dur(c.max_idle_us.p95)}, max ${dur(c.max_idle_us.max)}`]);
  } else out.push(['Lifetime', 'no connection seen from login to quit']);
  if (p.prepares + p.executes + p.executes_prepared_before > 0) {
    out.push(['Prepared', `${n(p.prepares)} prepares, ${n(p.executes)} executes of them (${p.executes_per_prepare ?? '-'} per prepare)${p.executes_prepared_before ? `; ${n(p.executes_prepared_before)} executes of statements prepared before the capture` : ''}; ${n(p.closes)} closed, ${n(p.never_closed)} never closed (the connection quit with them open), ${n(p.open_at_end)} open at the capture's end`]);
  }
  const groups: [string, [string, ConnGroupJson][]][] = [
    ['By user', c.by_user.map((g) => [g.user, g])],
    ['By client', c.by_client.map((g) => [g.client, g])],
  ];
  for (const [label, rows] of groups) {
    rows.slice(0, TEXT_CONN_GROUPS).forEach(([name, g], i) => out.push([i === 0 ? label : '', groupText(name, g)]));
    if (rows.length > TEXT_CONN_GROUPS) out.push(['', `${n(rows.length - TEXT_CONN_GROUPS)} more (--format json has all)`]);
  }
  return out;
}

type Esc = (s: string) => string;

/** The tables view as an HTML section (sortable like the others). */
export function tablesHtml(r: Report, esc: Esc): string {
  const t = r.tables;
  if (t.tables.length === 0) return '';
  const fp = new Map(r.fingerprints.map((f) => [f.digest, f.fingerprint]));
  const num = (v: number | null, text: string) => `<td data-v="${v ?? -1}">${esc(text)}</td>`;
  const rows = t.tables
    .map((x) => {
      const top = x.top.map((f) => `<li><code title="${esc(fp.get(f.digest) ?? '')}">${esc(f.digest)}</code> ${esc(f.kind)} ${esc(dur(f.time_us))} (${n(f.calls)})</li>`).join('');
      return `<tr><td class="l"><code>${esc(x.table)}</code></td>${num(x.latency_us.total, dur(x.latency_us.total))}${num(x.share_of_time, pct(x.share_of_time))}${num(x.calls, n(x.calls))}${num(x.latency_us.avg, dur(x.latency_us.avg))}${num(x.latency_us.p95, dur(x.latency_us.p95))}${num(x.latency_us.max, dur(x.latency_us.max))}${num(x.reads.calls, n(x.reads.calls))}${num(x.writes.calls, n(x.writes.calls))}${num(x.other.calls, n(x.other.calls))}${num(x.rows_read, n(x.rows_read))}${num(x.rows_written, n(x.rows_written))}<td data-v="${x.errors}"${x.errors ? ' class="err"' : ''}>${n(x.errors)}</td><td class="l">${esc(top0(x.databases))}</td><td class="l"><ul style="margin:0;padding-left:16px">${top}</ul></td></tr>`;
    })
    .join('');
  const noTable = t.no_table.calls ? `<p class="note">${esc(`${count(t.no_table.calls, 'call')} of ${count(t.no_table.fingerprints, 'statement')} naming no table (${dur(t.no_table.time_us)}) are not in this table.`)}</p>` : '';
  const heads = ['Table', 'Time', 'Time %', 'Calls', 'Avg', 'p95', 'Max', 'Reads', 'Writes', 'Other', 'Rows read', 'Rows written', 'Errors', 'Databases', 'Top fingerprints (by time)'];
  return `<section id="tables"><h2>Tables (${n(t.tables.length)}; a statement touching several tables counts for each)</h2><div class="scroll"><table id="tables-table" data-sortable><thead><tr>${heads.map((h, i) => `<th${i === 0 || i >= 13 ? ' class="l"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></div>${noTable}</section>`;
}

const top0 = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} (${n(v)})`).join(', ');

/** The connections view as an HTML section. */
export function connectionsHtml(r: Report, esc: Esc): string {
  if (!hasConnections(r)) return '';
  const lines = connectionsText(r).filter(([label]) => label !== 'By user' && label !== 'By client' && label !== '');
  const c = r.connections;
  const num = (v: number | null, text: string) => `<td data-v="${v ?? -1}">${esc(text)}</td>`;
  const table = (rows: [string, ConnGroupJson][], head: string) =>
    rows.length === 0
      ? ''
      : `<table data-sortable><thead><tr><th class="l">${head}</th><th>Logins</th><th>Refused</th><th>Aborted</th><th>Whole</th><th>Lifetime avg</th><th>Lifetime max</th><th>Idle (sum)</th><th>Prepares</th><th>Executes</th><th>Per prepare</th><th>Prepared before</th><th>Never closed</th><th>Open at end</th></tr></thead><tbody>${rows
          .map(([name, g]) => `<tr><td class="l">${esc(name)}</td>${num(g.logins, n(g.logins))}<td data-v="${g.login_errors}"${g.login_errors ? ' class="err"' : ''}>${n(g.login_errors)}</td>${num(g.logins_aborted, n(g.logins_aborted))}${num(g.whole, n(g.whole))}${num(g.lifetime_us.avg, dur(g.lifetime_us.avg))}${num(g.lifetime_us.max, dur(g.lifetime_us.max))}${num(g.idle_us.total, dur(g.idle_us.total))}${num(g.prepared.prepares, n(g.prepared.prepares))}${num(g.prepared.executes, n(g.prepared.executes))}${num(g.prepared.executes_per_prepare, g.prepared.executes_per_prepare === null ? '-' : String(g.prepared.executes_per_prepare))}${num(g.prepared.executes_prepared_before, n(g.prepared.executes_prepared_before))}${num(g.prepared.never_closed, n(g.prepared.never_closed))}${num(g.prepared.open_at_end, n(g.prepared.open_at_end))}</tr>`)
          .join('')}</tbody></table>`;
  return `<section id="connections"><h2>Connections</h2><ul>${lines.map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`).join('')}</ul><h3>By user</h3>${table(c.by_user.map((g) => [g.user, g]), 'User')}<h3>By client host</h3>${table(c.by_client.map((g) => [g.client, g]), 'Client host')}</section>`;
}

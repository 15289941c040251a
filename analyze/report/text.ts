/**
 * The text report: fits a 100-column terminal, in the spirit of pt-query-digest's — an overall
 * block, a profile (one line per fingerprint), then a block per fingerprint, the errors and the
 * slowest commands. Health comes first when it is not good. Colour only when asked (a TTY).
 */
import { captureLines, dbName, DECADES, filtersText, noCommandReason, profiled, reportSubject, type FingerprintJson, type LatencyFigures, type PartFigures, type Report, type SampleJson } from './report.js';
import { count, dur, rate, size } from '../format.js';
import { SQL_COMMANDS } from '../commands.js';
import type { Finding } from '../advise/rules.js';
import { connectionsText, hasConnections, tablesText } from './views.js';

const WIDTH = 100;

export interface TextOptions {
  /** Fingerprint blocks shown (the profile lists them all up to this too). */
  limit: number;
  color: boolean;
}

const n = (v: number): string => v.toLocaleString('en-US');

/** A short count: 999, 12.3k, 4.5M. */
function short(v: number): string {
  if (v < 10_000) return v.toLocaleString('en-US');
  if (v < 1e6) return `${(v / 1000).toFixed(1)}k`;
  if (v < 1e9) return `${(v / 1e6).toFixed(1)}M`;
  return `${(v / 1e9).toFixed(1)}G`;
}

const pct = (r: number | null): string => (r === null ? '-' : `${(100 * r).toFixed(r > 0 && r < 0.001 ? 2 : 1)}%`);
/** TLS sessions whose login Periscope never saw: not logins (no secret for them, or not decrypted). */
export const tlsUnseen = (k: number): string => `${count(k, 'TLS session')}, login not seen (no secret, or not decrypted)`;

/** Where the peak rate comes from: a whole bucket, or an average when no whole bucket was busier. */
export function peakLabel(p: Report['overall']['rates']['peak']): string {
  const bucket = p.bucket_s === 1 ? 'second' : `${p.bucket_s} s`;
  if (p.basis === 'bucket') return ` in the ${bucket} from ${p.t}`;
  if (p.basis === 'traffic') return ` (the traffic's average: no whole ${bucket} inside it was busier)`;
  if (p.basis === 'capture') return ` (the capture's average: no whole ${bucket} of traffic was busier)`;
  return '';
}


/** Control characters from the capture (a user name, a damaged statement) never reach the terminal. */
// eslint-disable-next-line no-control-regex
export const clean = (s: string): string => s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '\uFFFD');

/** Words wrapped to `width`, each continuation line starting with `indent`. */
export function wrap(text: string, first: string, indent: string, width = WIDTH): string[] {
  const out: string[] = [];
  let cur = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    // A word longer than a line is cut (a long identifier, a base64 blob after redaction).
    let w = word;
    while (w.length > 0) {
      const room = width - cur.length - (empty ? 0 : 1);
      if (w.length <= room) {
        cur += (empty ? '' : ' ') + w;
        empty = false;
        w = '';
      } else if (!empty) {
        out.push(cur);
        cur = indent;
        empty = true;
      } else {
        cur += w.slice(0, room);
        w = w.slice(room);
        out.push(cur);
        cur = indent;
      }
    }
  }
  if (!empty || out.length === 0) out.push(cur);
  return out;
}

function top(tally: Record<string, number>, others: number, max = 4): string {
  const e = Object.entries(tally);
  const shown = e.slice(0, max).map(([k, v]) => `${clean(k)} (${n(v)})`);
  const rest = e.slice(max).reduce((a, [, v]) => a + v, 0) + others;
  if (rest > 0) shown.push(`${e.length - Math.min(e.length, max) + (others > 0 ? 1 : 0)} more (${n(rest)})`);
  return shown.join(', ') || '-';
}

export function renderText(r: Report, opts: TextOptions): string {
  const c = opts.color;
  const bold = (s: string) => (c ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string) => (c ? `\x1b[31m${s}\x1b[0m` : s);
  const yellow = (s: string) => (c ? `\x1b[33m${s}\x1b[0m` : s);
  const out: string[] = [];
  const o = r.overall;
  const h = r.health;

  const nFiles = r.inputs.files.length;
  out.push(bold(`# Periscope query report: ${reportSubject(r)}`));
  out.push(`# ${o.first ?? '-'} to ${o.last ?? '-'} (${o.duration_s === null ? '-' : dur(o.duration_s * 1e6)})${r.inputs.redacted ? '' : yellow('   NOT REDACTED: examples hold literal values')}`);
  for (const line of captureLines(r)) out.push(...wrap(clean(line), '# ', '#   '));
  const filters = filtersText(r);
  if (filters !== null) out.push(...wrap(filters, '# Filters: ', '#          '));

  const healthBlock = (): void => {
    const nothing = o.commands + o.logins === 0;
    const label = h.status === 'good' ? 'good' : h.status === 'bad' ? red(nothing ? 'BAD: no MySQL command found' : 'BAD: the figures below miss part of the traffic') : yellow('degraded');
    out.push(bold('# Capture health: ') + label);
    for (const note of h.notes) out.push(...wrap(note, '#   - ', '#     '));
  };
  if (h.status !== 'good') {
    out.push('');
    healthBlock();
  }

  out.push('');
  out.push(bold('# Overall'));
  const kv = (k: string, v: string) => out.push(...wrap(v, `#   ${k.padEnd(14)}`, `#   ${''.padEnd(14)}`));
  const none = noCommandReason(r);
  if (none !== null) {
    // No rates, times or latencies from no command: why there is none instead.
    kv('Commands', `0: ${none}`);
    kv('Fingerprints', fingerprintsText(r, 'in the profile'));
    if (o.login_errors) kv('Errors', `${n(o.login_errors)} failed login${o.login_errors === 1 ? '' : 's'}`);
  } else {
    kv('Commands', `${n(o.commands)} (${rate(o.commands_per_s)}/s), of which queries ${n(o.queries)} (${rate(o.queries_per_s)}/s)`);
    kv('Fingerprints', fingerprintsText(r, 'in the profile'));
    const rt = o.rates;
    kv('Rates', `${rate(rt.capture.commands_per_s)} cmd/s over the capture (${rt.capture.duration_s === null ? '-' : dur(rt.capture.duration_s * 1e6)}); ${rate(rt.traffic.commands_per_s)} cmd/s over the traffic (${rt.traffic.duration_s === null ? '-' : dur(rt.traffic.duration_s * 1e6)}, first to last command); peak ${rate(rt.peak.commands_per_s)} cmd/s${peakLabel(rt.peak)}`);
    kv('Query time', `${dur(o.query_time_us)} in all; ${o.concurrency === null ? '-' : o.concurrency.toFixed(2)} running at once on average`);
    kv('Latency', latencyLine(o.latency_us));
    if (o.transfer_us.total > 0) kv('Split', splitLine(o.first_byte_us, o.transfer_us));
    kv('Errors', `${n(o.errors)} (${pct(o.error_rate)} of commands)${o.login_errors ? `; ${n(o.login_errors)} failed login${o.login_errors === 1 ? '' : 's'}` : ''}${o.incomplete ? `; ${n(o.incomplete)} without a complete response` : ''}${o.warnings ? `; ${n(o.warnings)} warnings` : ''}`);
  }
  kv('Connections', `${n(o.connections)}; logins ${n(o.logins)}${o.login_errors ? `, ${red(`${n(o.login_errors)} failed`)}` : ''}${o.logins_aborted ? `, ${yellow(`${n(o.logins_aborted)} aborted`)}` : ''}${o.tls_logins_unseen ? `; ${tlsUnseen(o.tls_logins_unseen)}` : ''}`);
  kv('Users', top(o.users, 0, 6));
  kv('Databases', top(o.databases, 0, 6));
  kv('Clients', top(o.clients, 0, 6));
  kv('Servers', top(o.servers, 0, 6));
  kv('Bytes', `${size(o.bytes_in)} from clients, ${size(o.bytes_out)} from servers`);
  if (h.status === 'good') {
    const cnt = h.counters;
    kv('Capture', `${n(cnt.packets ?? 0)} packets in ${n(nFiles)} file${nFiles === 1 ? '' : 's'}; health good (no loss seen${cnt.kernelDropsKnown ? ', no kernel drops' : ''})`);
  }

  if (r.findings.length > 0) {
    out.push('');
    out.push(bold(`# Top opportunities (${r.findings.length > 5 ? `5 of ${n(r.findings.length)}; ` : ''}periscope advise explains them, with the schema: docs/advise.md)`));
    for (const f of r.findings.slice(0, 5)) out.push(...wrap(clean(`${f.rule} ${f.title}; ${f.digests.slice(0, 2).join(' ')}${f.digests.length > 2 ? ' …' : ''}`), `#   ${opportunityImpact(f).padStart(8)}  `, '#             '));
  }

  if (r.histogram.length > 0) {
    out.push('');
    out.push(bold('# Latency histogram'));
    out.push(...histogramLines(r));
  }

  const ranked = r.fingerprints.filter(profiled);
  const fps = ranked.slice(0, opts.limit);
  out.push('');
  // Shares are of every fingerprint's calls and time, logins and administrator commands included
  // (the Overall section counts commands, not logins, and leaves prepares and closes in).
  const calls = r.fingerprints.reduce((a, f) => a + f.count, 0);
  const time = r.fingerprints.reduce((a, f) => a + f.latency_us.total, 0);
  const shown = profileCount(fps.length, ranked.length, r.fingerprints.length);
  for (const line of wrap(`Profile (by ${orderName(r.inputs.order)}; ${shown}; ${count(calls, 'call')}, ${dur(time)} with logins)`, '# ', '#   ')) out.push(bold(line));
  // The fifth column is what the profile is ranked by when that is not already shown (p95 else).
  const order = r.inputs.order;
  const [colName, col] = ((): [string, (f: FingerprintJson) => string] => {
    if (order === 'avg' || order === 'p99' || order === 'max') return [order, (f) => dur(f.latency_us[order])];
    if (order === 'rows') return ['rows', (f) => short(f.rows_sent.sum)];
    return ['p95', (f) => dur(f.latency_us.p95)];
  })();
  out.push(`# Rank Digest              Time  Time%   Calls ${colName.padStart(8)}    Err  Fingerprint`);
  for (const f of fps) {
    const err = (f.errors ? short(f.errors) : '0').padStart(6);
    const fixed = `# ${String(f.rank).padStart(4)} ${f.digest} ${dur(f.latency_us.total).padStart(8)} ${pct(f.share_of_time).padStart(6)} ${short(f.count).padStart(7)} ${col(f).padStart(8)} ${f.errors ? red(err) : err}  `;
    const room = WIDTH - (fixed.length - (f.errors && c ? 9 : 0));
    const text = clean(f.fingerprint).replace(/\s+/g, ' ');
    out.push(fixed + (text.length > room ? `${text.slice(0, room - 1)}…` : text));
  }
  const rest = ranked.slice(opts.limit);
  if (rest.length > 0) {
    const t = rest.reduce((a, f) => a + f.latency_us.total, 0);
    out.push(`#  ... ${n(rest.length)} more fingerprints: ${dur(t)}, ${n(rest.reduce((a, f) => a + f.count, 0))} calls (--limit shows more; --format json has all)`);
  }
  const unranked = unrankedLine(r);
  if (unranked !== null) out.push(...wrap(unranked, '#  ', '#    '));

  for (const f of fps) out.push('', ...fingerprintBlock(f, bold, red));

  if (r.errors.length > 0) {
    out.push('');
    out.push(bold('# Errors by code'));
    for (const e of r.errors.slice(0, 20)) {
      out.push(...wrap(clean(e.message), `#   ${red(String(e.code))}${e.sql_state ? ` (${e.sql_state})` : ''} x${n(e.count)}: `, '#       '));
      out.push(`#       in ${Object.entries(e.fingerprints).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([d, k]) => `${d} (${n(k)})`).join(', ')}`);
    }
    if (r.errors.length > 20) out.push(`#   ... ${r.errors.length - 20} more codes (--format json has all)`);
  }

  if (r.slowest.length > 0) {
    out.push('');
    out.push(bold('# Slowest commands'));
    for (const s of r.slowest.slice(0, 10)) {
      out.push(...wrap(clean(`${s.ts} ${s.digest ?? ''} ${s.user ?? '?'}@${s.client} db ${dbName(s.user, s.db)}`), `#   ${dur(s.latency_us).padStart(7)}  `, '#            '));
      out.push(...sqlLines(s));
    }
  }

  const tx = r.transactions;
  if (tx.count > 0) {
    out.push('');
    out.push(bold('# Transactions'));
    kv('Count', `${n(tx.count)}: ${Object.entries(tx.ends).map(([k, v]) => `${k} ${n(v)}`).join(', ')}; ${n(tx.statements.sum)} commands (avg ${tx.statements.avg ?? '-'}, max ${n(tx.statements.max)})`);
    kv('Duration', latencyLine(tx.duration_us));
    kv('Idle inside', `${dur(tx.idle_us.total)} in all (the client's time while locks are held); per transaction p95 ${dur(tx.idle_us.p95)}, max ${dur(tx.idle_us.max)}; longest single wait ${dur(tx.max_idle_us.max)}`);
    for (const t of tx.slowest.slice(0, 5)) {
      out.push(...wrap(clean(`${t.start} ${t.user ?? '?'}@${t.client} db ${dbName(t.user, t.db)}: ${count(t.statements, 'command')}, idle ${dur(t.idle_us)}, ${t.end}; ${t.digests.join(' ')}`), `#   ${dur(t.duration_us).padStart(7)}  `, '#            '));
    }
  }

  const tables = tablesText(r);
  if (tables !== null) {
    out.push('');
    out.push(bold(tables.heading));
    for (const [first, indent, text] of tables.rows) out.push(...wrap(clean(text), first, indent));
    if (tables.more !== null) out.push(...wrap(tables.more, '#   ', '#     '));
  }

  if (hasConnections(r)) {
    out.push('');
    out.push(bold('# Connections'));
    for (const [k, v] of connectionsText(r)) kv(k, clean(v));
  }

  if (r.timeline.points.length > 1) {
    out.push('');
    const secs = r.timeline.bucket_s * timelinePer(r);
    out.push(bold(`# Timeline (${secs === 1 ? 'per second' : `a row per ${n(secs)} seconds`})`));
    out.push(...timelineLines(r));
  }
  if (h.status === 'good' && h.notes.length > 0) {
    out.push('');
    healthBlock();
  }
  return `${out.join('\n')}\n`;
}

/**
 * How the report's fingerprints divide: ranked (profiled), called without a latency to rank
 * (Quit), never called (only prepares and closes). The Overall figure, the profile's and the
 * diff's are of these, each labelled.
 */
export function fingerprintTally(r: Report): { all: number; ranked: number; noLatency: number; noCall: number } {
  const ranked = r.fingerprints.filter(profiled).length;
  const noCall = r.fingerprints.filter((f) => f.count === 0).length;
  return { all: r.fingerprints.length, ranked, noLatency: r.fingerprints.length - ranked - noCall, noCall };
}

/** `15: 13 ranked in the profile, 1 called with no latency to rank, 1 never called (only prepares, closes)`; `13, all ranked in the profile`. */
export function fingerprintsText(r: Report, where: string): string {
  const t = fingerprintTally(r);
  if (t.ranked === t.all) return t.all === 0 ? '0' : `${n(t.all)}, all ranked ${where}`;
  const parts = [`${n(t.ranked)} ranked ${where}`];
  if (t.noLatency > 0) parts.push(`${n(t.noLatency)} called with no latency to rank`);
  if (t.noCall > 0) parts.push(`${n(t.noCall)} never called (only prepares, closes)`);
  return `${n(t.all)}: ${parts.join(', ')}`;
}

/** The profile's count: `13 fingerprints`, `top 10 of 13 fingerprints`, `13 of 15 fingerprints ranked`, `top 10 of 13 ranked (15 in all)`. */
export function profileCount(shown: number, ranked: number, all: number): string {
  const s = (k: number) => (k === 1 ? '' : 's');
  if (ranked === all) return shown < ranked ? `top ${n(shown)} of ${n(ranked)} fingerprints` : `${n(ranked)} fingerprint${s(ranked)}`;
  return shown < ranked ? `top ${n(shown)} of ${n(ranked)} ranked (${n(all)} in all)` : `${n(ranked)} of ${n(all)} fingerprints ranked`;
}

/** What the ranked profile leaves out (profiled): `not ranked, no latency: administrator command: Quit (2 calls); 1 with no call`. */
export function unrankedLine(r: Report): string | null {
  const left = r.fingerprints.filter((f) => !profiled(f));
  if (left.length === 0) return null;
  const called = left.filter((f) => f.count > 0).map((f) => `${clean(f.fingerprint).replace(/\s+/g, ' ')} (${count(f.count, 'call')})`);
  const none = left.length - called.length;
  const parts = [...called.slice(0, 3), ...(called.length > 3 ? [`${called.length - 3} more`] : []), ...(none > 0 ? [`${none} with only housekeeping (prepare, close) and no call`] : [])];
  return `not ranked, no latency to rank: ${parts.join('; ')} (--format json has them)`;
}

/** A finding's impact in a few characters: its time, else its round trips. */
export function opportunityImpact(f: Finding): string {
  return f.impact.time_us > 0 ? dur(f.impact.time_us) : f.impact.round_trips > 0 ? `${short(f.impact.round_trips)} rt` : '-';
}

function orderName(o: string): string {
  return o === 'time' ? 'total latency' : o === 'count' ? 'calls' : o === 'rows' ? 'rows sent' : o;
}

function latencyLine(l: LatencyFigures): string {
  return `min ${dur(l.min)}, avg ${dur(l.avg)}, p50 ${dur(l.p50)}, p95 ${dur(l.p95)}, p99 ${dur(l.p99)}, max ${dur(l.max)}`;
}

/** Latency = time to the response's first byte + its transfer: `first byte avg 387us (2%), transfer avg 17.7ms (98%)`. */
function splitLine(first: PartFigures, transfer: PartFigures): string {
  const all = first.total + transfer.total;
  const share = (p: PartFigures) => (all > 0 ? ` (${Math.round((100 * p.total) / all)}%)` : '');
  return `first byte avg ${dur(first.avg)}${share(first)}, transfer avg ${dur(transfer.avg)}${share(transfer)}`;
}

function sqlLines(s: SampleJson): string[] {
  // A command's argument that is not SQL (the table of a field_list, the database of init_db) says which command it is.
  const text = s.sql === null ? `(${s.cmd})` : `${SQL_COMMANDS.has(s.cmd) ? '' : `(${s.cmd}) `}${clean(s.sql).replace(/\s+/g, ' ')}`;
  return wrap(text, '#       ', '#       ').slice(0, 6);
}

function fingerprintBlock(f: FingerprintJson, bold: (s: string) => string, red: (s: string) => string): string[] {
  const out: string[] = [];
  const l = f.latency_us;
  out.push(bold(`# Query ${f.rank}: ${f.digest}  ${f.kind}${f.tables.length ? ` on ${f.tables.join(', ')}` : ''}`));
  out.push(...wrap(clean(f.fingerprint), '#   ', '#   ').slice(0, 8));
  const row = (k: string, v: string) => out.push(...wrap(v, `#   ${k.padEnd(12)}`, `#   ${''.padEnd(12)}`));
  row('Calls', `${n(f.count)} (${pct(f.share_of_count)} of the profile's calls, ${rate(f.qps)}/s); ${Object.entries(f.commands).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  row('Time', `${dur(l.total)} (${pct(f.share_of_time)} of the profile's time)${f.housekeeping_us ? `; prepare/close ${dur(f.housekeeping_us)}` : ''}`);
  row('Latency', latencyLine(l));
  // Where the answer took more than one packet's time (a result set, a login's further rounds).
  if (f.transfer_us.total > 0) row('Split', splitLine(f.first_byte_us, f.transfer_us));
  row('Spread', decadeLine(f.latency_by_decade));
  // Rows sent and affected, whichever the statement has (a SELECT sends, an UPDATE affects).
  const rows = [
    f.rows_sent.sum > 0 ? `sent ${n(f.rows_sent.sum)} (avg ${f.rows_sent.avg ?? '-'}, max ${n(f.rows_sent.max)})` : '',
    f.rows_affected.sum > 0 ? `affected ${n(f.rows_affected.sum)} (avg ${f.rows_affected.avg ?? '-'}, max ${n(f.rows_affected.max)})` : '',
  ].filter(Boolean);
  if (rows.length) row('Rows', rows.join('; '));
  if (f.errors > 0 || f.incomplete > 0) row('Errors', `${red(n(f.errors))}${f.errors ? ` (${Object.entries(f.errors_by_code).map(([k, v]) => `${k} x${n(v)}`).join(', ')})` : ''}${f.incomplete ? `; ${n(f.incomplete)} without a complete response` : ''}`);
  const flags = [f.warnings.sum ? `${n(f.warnings.sum)} warnings in ${n(f.warnings.commands)} calls` : '', f.no_index_used ? `no index used ${n(f.no_index_used)}x` : '', f.no_good_index_used ? `no good index ${n(f.no_good_index_used)}x` : ''].filter(Boolean);
  if (flags.length) row('Server said', flags.join('; '));
  row('Bytes', `${size(f.bytes_in)} in, ${size(f.bytes_out)} out`);
  row('Users', top(f.users, f.others.users));
  row('Databases', top(f.databases, f.others.databases));
  row('Clients', top(f.clients, f.others.clients));
  row('Seen', `${f.first_seen ?? '-'} to ${f.last_seen ?? '-'}`);
  if (f.example && f.example.sql !== null && f.kind !== 'connect') {
    const e = f.example;
    out.push(`#   Example     slowest: ${dur(e.latency_us)} at ${e.ts}, db ${clean(dbName(e.user, e.db))}, ${e.cmd}${e.sql_truncated ? ' (cut)' : ''}`);
    out.push(...sqlLines(e));
  }
  return out;
}

/** Latency histogram by decade, as pt-query-digest draws it: the row `10ms` counts 10 ms ≤ latency < 100 ms. */
function histogramLines(r: Report): string[] {
  const counts = r.histogram_by_decade;
  const max = Math.max(...counts, 1);
  const bar = WIDTH - 30;
  const first = counts[0] === 0 ? 1 : 0;
  return counts.slice(first).map((k, i) => `#   ${DECADES[i + first]!.padStart(6)}  ${n(k).padStart(10)}  ${'#'.repeat(Math.round((k / max) * bar))}`);
}

/** A fingerprint's latency decades in one line: `100us 62%, 1ms 30%, 10ms 8%` (decades with calls). */
function decadeLine(counts: number[]): string {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return '-';
  return counts
    .map((k, i) => (k > 0 ? `${DECADES[i]} ${k * 100 < total ? '<1' : Math.round((100 * k) / total)}%` : ''))
    .filter(Boolean)
    .join(', ');
}

/** The timeline as one line per bucket (at most 60: longer timelines are summed into 60 rows). */
/** Timeline buckets per row of the text timeline (at most 60 rows). */
function timelinePer(r: Report): number {
  const n = r.timeline.points.length;
  return Math.ceil(n / Math.min(60, n));
}

function timelineLines(r: Report): string[] {
  const pts = r.timeline.points;
  const per = timelinePer(r);
  const out: string[] = [];
  const groups: { t: string; commands: number; errors: number; timed: number; time: number; max: number }[] = [];
  for (let i = 0; i < pts.length; i += per) {
    const g = pts.slice(i, i + per);
    groups.push({ t: g[0]!.t, commands: g.reduce((a, p) => a + p.commands, 0), errors: g.reduce((a, p) => a + p.errors, 0), timed: g.reduce((a, p) => a + p.timed, 0), time: g.reduce((a, p) => a + p.time_us, 0), max: Math.max(...g.map((p) => p.max_us)) });
  }
  const secs = r.timeline.bucket_s * per;
  const maxRate = Math.max(...groups.map((g) => g.commands), 1);
  out.push(`#   ${'start'.padEnd(20)} ${'cmd/s'.padStart(9)} ${'errors'.padStart(7)} ${'avg'.padStart(8)} ${'max'.padStart(8)}`);
  for (const g of groups) {
    const bar = '#'.repeat(Math.round((g.commands / maxRate) * (WIDTH - 62)));
    out.push(`#   ${g.t.padEnd(20)} ${rate(g.commands / secs).padStart(9)} ${String(g.errors).padStart(7)} ${dur(g.timed ? g.time / g.timed : null).padStart(8)} ${dur(g.timed ? g.max : null).padStart(8)}  ${bar}`);
  }
  return out;
}

/**
 * The advice as text (fits 100 columns: one block per finding, most time at stake first) and as
 * one self-contained HTML page (the report's findings panel). Both render the Advice object only.
 */
import type { Advice } from './command.js';
import { CSS, esc, findingsSection, SCRIPT } from '../report/html.js';
import { count, dur } from '../format.js';
import { clean, wrap } from '../report/text.js';

const n = (v: number): string => v.toLocaleString('en-US');
function subject(a: Advice): string {
  const files = a.inputs.files;
  return files.length === 1 ? files[0]!.path : files.length === 0 ? 'a bundle' : `${n(files.length)} capture files`;
}

export function renderAdviceText(a: Advice): string {
  const out: string[] = [];
  const o = a.overall;
  out.push(`# Periscope advice: ${clean(subject(a))}`);
  out.push(`# ${o.first ?? '-'} to ${o.last ?? '-'}; ${n(o.commands)} commands, ${dur(o.query_time_us)} of query time, ${count(o.fingerprints, 'fingerprint')}, ${count(o.transactions, 'transaction')}`);
  out.push(`# Schema: ${a.schema.source === null ? (a.schema.note ?? 'none') : `${count(a.schema.tables, 'table')} from ${clean(a.schema.source)}`}`);
  if (a.health.status !== 'good') out.push(`# Capture health: ${a.health.status}: ${a.health.notes.join('; ')}`);
  out.push('');
  if (a.findings.length === 0) {
    out.push(a.overall.commands === 0 ? '# No finding: no command to judge (none read, or none passed the filters: stderr says which).' : '# No finding: nothing in this capture crossed a threshold (docs/advise.md lists them).');
    return `${out.join('\n')}\n`;
  }
  out.push(`# ${count(a.findings.length, "finding")}, most time at stake first`);
  for (const f of a.findings) {
    const e = f.evidence;
    out.push('');
    out.push(...wrap(clean(`${f.rule} (${f.severity}) ${f.title}`), `# ${String(f.rank).padStart(3)}. `, '#        '));
    const impact = [f.impact.time_us > 0 ? `${dur(f.impact.time_us)} (${(100 * f.impact.share_of_time).toFixed(1)}% of query time)` : '', f.impact.round_trips > 0 ? `${n(f.impact.round_trips)} round trips` : ''].filter(Boolean).join(', ') || '-';
    out.push(`#      At stake  ${impact}`);
    if (f.digests.length) out.push(...wrap(f.digests.join(' '), '#      Digests   ', '#                '));
    if (f.tables.length) out.push(...wrap(clean(f.tables.join(', ')), '#      Tables    ', '#                '));
    out.push(...wrap(clean(e.detail), '#      Evidence  ', '#                '));
    const counts = Object.entries(e.counts).map(([k, v]) => `${k.replaceAll('_', ' ')} ${n(v)}`).join(', ');
    out.push(...wrap(`${counts}${e.connections !== null ? `; ${count(e.connections, 'connection')}` : ''}${e.first ? `; ${e.first}${e.last && e.last !== e.first ? ` to ${e.last}` : ''}` : ''}`, '#                ', '#                '));
    for (const x of e.examples.slice(0, 2)) out.push(...wrap(clean(x).replace(/\s+/g, ' '), '#      Example   ', '#                ').slice(0, 4));
    out.push(...wrap(clean(f.advice), '#      Advice    ', '#                '));
    if (f.ddl) out.push(`    ${clean(f.ddl)};`);
  }
  return `${out.join('\n')}\n`;
}

export function renderAdviceHtml(a: Advice): string {
  const title = subject(a);
  const o = a.overall;
  const head = `${o.first ?? '-'} to ${o.last ?? '-'}; ${n(o.commands)} commands, ${dur(o.query_time_us)} of query time; schema: ${a.schema.source === null ? (a.schema.note ?? 'none') : `${count(a.schema.tables, 'table')} from ${a.schema.source}`}`;
  const body = a.findings.length ? findingsSection(a.findings, 'Findings') : `<section><p>No finding: ${a.overall.commands === 0 ? 'no command to judge (none read, or none passed the filters).' : 'nothing in this capture crossed a threshold.'}</p></section>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Periscope advice: ${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>Periscope advice</h1><p>${esc(title)} — Periscope ${esc(a.periscope.version)}</p><p class="context">${esc(head)}</p></header>
<main>${body}</main>
<script>${SCRIPT}</script></body></html>
`;
}

/** Text rendering of `periscope info` (the JSON form is the report object itself). Fits 100 columns. */
import type { InfoReport } from './info.js';
import { size } from '../format.js';

const WIDTH = 100;
const LABEL = 22;
/** Beyond this many files, one line per file (details in --json). */
const COMPACT_FILES = 10;
/** Damage notices shown per file. */
const MAX_DAMAGE = 5;

const n = (v: number): string => v.toLocaleString('en-US');
const plural = (v: number, one: string, many = `${one}s`): string => `${n(v)} ${v === 1 ? one : many}`;

function bytes(v: number): string {
  return v < 1024 ? `${n(v)} B` : `${n(v)} B (${size(v)})`;
}

/** A labelled value, wrapped at word boundaries under the value column. */
function line(label: string, value: string): string {
  // A value's leading spaces indent each of its rows (an outcome under its connection).
  const indent = /^ */.exec(value)![0];
  const room = WIDTH - 2 - LABEL - indent.length;
  const words = value.slice(indent.length).split(' ');
  const rows: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur.length > 0 && cur.length + 1 + w.length > room) {
      rows.push(cur);
      cur = w;
    } else {
      cur = cur.length > 0 ? `${cur} ${w}` : w;
    }
  }
  rows.push(cur);
  return rows.map((r, i) => `  ${(i === 0 ? label : '').padEnd(LABEL)}${indent}${r}\n`).join('');
}

type FileSummary = InfoReport['files'][number];

function fileDetails(f: FileSummary): string {
  let out = `${f.path}\n`;
  if (f.status === 'ignored') return out + line('ignored', f.ignored_because ?? '');
  if (f.error && (f.format === null || f.packets === 0)) return out + line('ERROR', problem(f, f.error));
  const fmt = [f.format, f.gzip ? 'gzip-compressed' : null, f.byte_order, f.version ? `version ${f.version}` : null].filter(Boolean).join(', ');
  out += line('format', fmt);
  if (f.application) out += line('written by', f.application);
  out += line('file size', bytes(f.size));
  out += line('timestamps', f.timestamp_resolution.join(', ') || '-');
  if (f.snaplen !== null) out += line('snap length', n(f.snaplen));
  if (f.sections > 1) out += line('sections', n(f.sections));
  for (const [lt, count] of Object.entries(f.link_types)) out += line('link type', `${lt}: ${plural(count, 'packet')}`);
  out += line('packets', n(f.packets));
  out += line('captured bytes', bytes(f.captured_bytes));
  if (f.wire_bytes !== f.captured_bytes) out += line('bytes on the wire', bytes(f.wire_bytes));
  if (f.packets_cut_by_snaplen > 0) out += line('cut by snap length', plural(f.packets_cut_by_snaplen, 'packet'));
  if (f.first) out += line('first packet', f.first);
  if (f.last) out += line('last packet', f.last);
  if (f.timestamps_out_of_order > 0) out += line('time went backwards', `${plural(f.timestamps_out_of_order, 'time')} (packets kept in file order)`);
  for (const i of f.interfaces) {
    if (i.kernel_stats) {
      const s = i.kernel_stats;
      out += line('interface stats', `${i.name ?? 'interface'}: received ${s.received ?? '?'}, dropped by the interface ${s.droppedByInterface ?? '?'}, by the OS ${s.droppedByOs ?? '?'}`);
    }
  }
  for (const [name, count] of Object.entries(f.skipped_blocks)) out += line('blocks skipped', `${name}: ${n(count)}`);
  for (const d of f.damage.slice(0, MAX_DAMAGE)) out += line('DAMAGED', `byte ${d.offset}: ${d.message}`);
  if (f.damage.length > MAX_DAMAGE) out += line('', `… and ${n(f.damage.length - MAX_DAMAGE)} more damaged places`);
  if (f.truncated_tail) out += line('CUT SHORT', problem(f, f.truncated_tail));
  if (f.error) out += line('ERROR', problem(f, f.error));
  return out;
}

function problem(f: FileSummary, p: { offset: number; message: string }): string {
  return p.offset < 0 ? p.message : `byte ${p.offset}${f.gzip ? ' (decompressed)' : ''}: ${p.message}`;
}

/** One line per file, for directories of many rotated files. */
function fileRow(f: FileSummary): string {
  const what = f.status === 'ignored' ? `ignored: ${f.ignored_because}` : f.status === 'failed' ? `FAILED: ${f.error?.message ?? ''}` : `${f.format ?? '?'}${f.gzip ? '.gz' : ''}, ${plural(f.packets, 'packet')}${f.first ? `, ${f.first} → ${f.last}` : ''}${f.status === 'ok' ? '' : ` (${f.status.toUpperCase()})`}`;
  return line(f.path.length > LABEL - 2 ? `…${f.path.slice(-(LABEL - 3))}` : f.path, what);
}

export function renderInfoText(r: InfoReport): string {
  let out = '';
  if (r.files.length > COMPACT_FILES) {
    out += `${n(r.files.length)} files (--json for each file's details)\n`;
    for (const f of r.files) out += fileRow(f);
  } else {
    for (const f of r.files) out += fileDetails(f);
  }
  const t = r.totals;
  out += `\n${r.files.length > 1 ? `all ${plural(t.files, 'file')}, read as one capture in timestamp order` : 'summary'}\n`;
  out += line('packets', n(t.packets));
  if (t.first && t.last) out += line('time range', `${t.first} → ${t.last} (${t.duration_s} s)`);
  if (t.kernel_drops !== null) out += line('kernel drops', n(t.kernel_drops));
  if (t.damaged_bytes_skipped > 0) out += line('damaged bytes skipped', n(t.damaged_bytes_skipped));
  if (r.skipped.total === 0) out += line('packets skipped', 'none');
  else {
    out += line('packets skipped', n(r.skipped.total));
    for (const [k, v] of Object.entries(r.skipped.by_kind)) out += line('', `${k}: ${n(v)}`);
    for (const [k, v] of Object.entries(r.skipped.unsupported_link_types)) out += line('', `  ${k}: ${n(v)}`);
  }
  const c = r.tcp;
  out += line('TCP packets', `${n(c.packets)}, with ${bytes(c.payload_bytes)} of payload`);
  if (c.vlan_tagged_packets > 0) out += line('VLAN-tagged', plural(c.vlan_tagged_packets, 'packet'));
  out += line('TCP connections', `${n(c.connections)}: ${n(c.connections_complete)} seen whole (SYN to FIN/RST), ${n(c.connections_mid_stream)} without their SYN (open before the capture, or re-tracked)`);
  out += line('', `closed by FIN ${n(c.closed_by_fin)}, by RST ${n(c.closed_by_rst)}; unfinished ${n(c.connections_unfinished)} (idle timeout ${n(c.closed_by_idle_timeout)}, evicted ${n(c.evicted)}, the rest open at the end)`);
  if (r.connections_not_listed) out += line('', `${n(r.connections.length)} listed one by one (--json), ${n(r.connections_not_listed)} only counted (--all-connections lists every one)`);
  out += line('TCP retransmitted', `${plural(c.retransmitted_segments, 'segment')}, ${n(c.overlapping_segments)} partly overlapping`);
  out += line('TCP out of order', `${plural(c.out_of_order_segments, 'segment')} waited for a hole before them`);
  const missed = c.bytes_lost - c.bytes_cut_by_snaplen;
  if (c.bytes_lost === 0) {
    out += line('TCP bytes lost', c.connections_mid_stream > 0 ? 'none after each connection was first seen' : 'none: every payload byte was captured');
  } else {
    const lossy = r.connections.filter((x) => x.client_to_server.gaps + x.server_to_client.gaps > 0);
    if (missed > 0) out += line('TCP BYTES LOST', `${bytes(missed)} in the packets the capture missed, in ${plural(lossy.length, 'connection')}`);
    if (c.bytes_cut_by_snaplen > 0) out += line('TCP BYTES CUT', `${bytes(c.bytes_cut_by_snaplen)} cut off by the snap length (capture with -s 0 to keep whole packets)`);
    for (const x of lossy.slice(0, 10)) {
      out += line('', `#${x.id} ${x.client} → ${x.server}: ${n(x.client_to_server.bytes_lost)} B from the client, ${n(x.server_to_client.bytes_lost)} B from the server`);
    }
    if (lossy.length > 10) out += line('', `… and ${n(lossy.length - 10)} more (--json lists every connection)`);
  }
  if (c.late_segments > 0) out += line('TCP late segments', `${n(c.late_segments)} arrived after their bytes were declared lost`);
  if (c.buffer_limit_hits > 0) out += line('TCP buffer limit', `${plural(c.buffer_limit_hits, 'connection')} gave up waiting for a hole to fill`);
  if (c.sides_guessed > 0) out += line('sides guessed', `${plural(c.sides_guessed, 'connection')}: no SYN, no known server port, no greeting (add --port)`);
  if (r.mysql_servers.length === 0) out += line('MySQL servers', `none detected (no server greeting, no traffic on port ${r.mysql_ports.join(', ')}; add --port N)`);
  for (const s of r.mysql_servers) {
    out += line('MySQL server', `${s.endpoint}: ${plural(s.connections, 'connection')}; ${bytes(s.bytes_from_clients)} from clients, ${bytes(s.bytes_from_server)} from the server`);
    out += line('', s.detected_by === 'greeting' ? `version ${s.version} (from its greeting)` : s.detected_by === 'content' ? `looks like MySQL: found by its content (commands and responses; no greeting or SYN seen: a guess, --port ${s.endpoint.slice(s.endpoint.lastIndexOf(':') + 1)} to say so)` : 'found by its port: no greeting seen');
  }
  return out + tlsText(r);
}

/** TLS connections listed one by one in the text (--json lists every listed connection). */
const MAX_TLS_LINES = 20;

/** TLS: how many connections switched to TLS, each one's outcome, and the key logs read. */
function tlsText(r: InfoReport): string {
  const t = r.tls;
  let out = '';
  for (const k of t.key_logs) out += line('key log', `${k.source}: ${plural(k.secrets, 'secret')}${k.lines_not_understood > 0 ? `, ${plural(k.lines_not_understood, 'line')} not understood` : ''}`);
  if (t.connections === 0) return t.key_logs.length > 0 ? out + line('TLS connections', 'none (no SSL request seen)') : out;
  const not = t.connections - t.decrypted;
  const why = [t.no_secret > 0 ? `no secret ${n(t.no_secret)}` : '', t.unsupported > 0 ? `unsupported ${n(t.unsupported)}` : '', t.failed > 0 ? `failed ${n(t.failed)}` : ''].filter((x) => x !== '');
  const sums = `${n(t.connections)}: ${n(t.decrypted)} decrypted${t.partial > 0 ? ` (${n(t.partial)} in part)` : ''}, ${n(not)} not${why.length > 0 ? ` (${why.join(', ')})` : ''}`;
  out += line(not > 0 || t.partial > 0 ? 'TLS CONNECTIONS' : 'TLS connections', sums);
  const tls = r.connections.filter((c) => c.tls !== null);
  for (const c of tls.slice(0, MAX_TLS_LINES)) {
    const x = c.tls!;
    const what = [x.version, x.cipher].filter((v) => v !== null).join(' ');
    const outcome = x.decrypted === 'yes' ? 'decrypted' : x.decrypted === 'in part' ? `DECRYPTED IN PART: ${x.reason}` : `NOT DECRYPTED: ${x.reason}`;
    out += line('', `#${c.id} ${c.client} → ${c.server}`);
    out += line('', `  ${what ? `${what}: ` : ''}${outcome}`);
  }
  if (tls.length > MAX_TLS_LINES) out += line('', `… and ${n(tls.length - MAX_TLS_LINES)} more (--json lists every connection)`);
  if (t.no_secret > 0 && t.key_logs.length === 0) out += line('', 'no key log was given: --keylog FILE with the key log the clients wrote (docs/tls.md)');
  return out;
}

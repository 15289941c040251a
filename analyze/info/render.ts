/** Text rendering of `periscope info` (the JSON form is the report object itself). */
import type { InfoReport } from './info.js';

const n = (v: number): string => v.toLocaleString('en-US');

function bytes(v: number): string {
  if (v < 1024) return `${n(v)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(1)} ${units[i]} (${n(v)} B)`;
}

function line(label: string, value: string): string {
  return `  ${label.padEnd(22)}${value}\n`;
}

export function renderInfoText(r: InfoReport): string {
  let out = '';
  for (const f of r.files) {
    out += `${f.path}\n`;
    if (f.status === 'ignored (not a capture file)') {
      out += line('status', f.status);
      continue;
    }
    if (f.error && f.format === null) {
      out += line('error', `at byte ${f.error.offset}: ${f.error.message}`);
      continue;
    }
    const fmt = [f.format, f.gzip ? 'gzip-compressed' : null, f.byte_order, f.version ? `version ${f.version}` : null].filter(Boolean).join(', ');
    out += line('format', fmt);
    if (f.application) out += line('written by', f.application);
    out += line('file size', bytes(f.size));
    out += line('timestamps', f.timestamp_resolution.join(', ') || '-');
    if (f.snaplen !== null) out += line('snap length', n(f.snaplen));
    if (f.sections > 1) out += line('sections', n(f.sections));
    for (const [lt, count] of Object.entries(f.link_types)) out += line('link type', `${lt}: ${n(count)} packets`);
    out += line('packets', n(f.packets));
    out += line('captured bytes', bytes(f.captured_bytes));
    if (f.wire_bytes !== f.captured_bytes) out += line('bytes on the wire', bytes(f.wire_bytes));
    if (f.packets_cut_by_snaplen > 0) out += line('cut by snap length', `${n(f.packets_cut_by_snaplen)} packets`);
    if (f.first) out += line('first packet', f.first);
    if (f.last) out += line('last packet', f.last);
    if (f.timestamps_out_of_order > 0) out += line('time went backwards', `${n(f.timestamps_out_of_order)} times (kept in file order)`);
    for (const i of f.interfaces) {
      if (i.kernel_stats) {
        const s = i.kernel_stats;
        out += line('interface stats', `${i.name ?? 'interface'}: received ${s.received ?? '?'}, dropped by interface ${s.droppedByInterface ?? '?'}, dropped by OS ${s.droppedByOs ?? '?'}`);
      }
    }
    for (const [name, count] of Object.entries(f.skipped_blocks)) out += line('blocks skipped', `${name}: ${n(count)}`);
    for (const d of f.damage) out += line('DAMAGED', d.message);
    if (f.truncated_tail) out += line('WARNING', `cut short at byte ${f.truncated_tail.offset}: ${f.truncated_tail.message}`);
    if (f.error) out += line('ERROR', `at byte ${f.error.offset}: ${f.error.message}`);
  }
  const t = r.totals;
  out += `\n${r.files.length > 1 ? `all ${n(t.files)} files, read as one capture in timestamp order` : 'summary'}\n`;
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
  if (c.segments_cut_by_snaplen > 0) out += line('TCP payload cut', `${n(c.segments_cut_by_snaplen)} segments lost bytes to the snap length`);
  if (c.vlan_tagged_packets > 0) out += line('VLAN-tagged', `${n(c.vlan_tagged_packets)} packets`);
  out += line('TCP connections', `${n(c.connections)}: ${n(c.connections_complete)} seen whole (SYN to FIN/RST), ${n(c.connections_mid_stream)} already open when the capture started`);
  out += line('', `closed by FIN ${n(c.closed_by_fin)}, by RST ${n(c.closed_by_rst)}; unfinished ${n(c.connections_unfinished)} (open at the end, idle timeout ${n(c.closed_by_idle_timeout)}, evicted ${n(c.evicted)})`);
  out += line('TCP retransmitted', `${n(c.retransmitted_segments)} segments, ${n(c.overlapping_segments)} partly overlapping`);
  out += line('TCP out of order', `${n(c.out_of_order_segments)} segments (reordered before delivery)`);
  if (c.gaps === 0) out += line('TCP bytes lost', 'none: every payload byte was captured');
  else {
    const lossy = r.connections.filter((x) => x.client_to_server.gaps + x.server_to_client.gaps > 0);
    out += line('TCP BYTES LOST', `${n(c.bytes_lost)} bytes in ${n(c.gaps)} gaps, in ${n(lossy.length)} connections (the capture missed packets)`);
    for (const x of lossy.slice(0, 10)) {
      out += line('', `#${x.id} ${x.client} → ${x.server}: ${n(x.client_to_server.bytes_lost)} B from the client, ${n(x.server_to_client.bytes_lost)} B from the server`);
    }
    if (lossy.length > 10) out += line('', `… and ${n(lossy.length - 10)} more (--json lists every connection)`);
  }
  if (c.late_segments > 0) out += line('TCP late segments', `${n(c.late_segments)} arrived after their bytes were declared lost`);
  if (c.buffer_limit_hits > 0) out += line('TCP buffer limit', `${n(c.buffer_limit_hits)} connections gave up waiting for a hole to fill`);
  if (c.sides_guessed > 0) out += line('sides guessed', `${n(c.sides_guessed)} connections: no SYN, no known server port, no greeting (add --port)`);
  if (r.mysql_servers.length === 0) out += line('MySQL servers', `none detected (no server greeting, no traffic on port ${r.mysql_ports.join(', ')}; add --port N)`);
  for (const s of r.mysql_servers) {
    const how = s.detected_by === 'greeting' ? `greeting: ${s.version}` : 'by port, no greeting seen';
    out += line('MySQL server', `${s.endpoint} (${how}): ${n(s.connections)} connections; ${n(s.bytes_from_clients)} B from clients, ${n(s.bytes_from_server)} B from it`);
  }
  return out;
}

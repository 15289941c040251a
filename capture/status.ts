/**
 * What a person reads about a capture: the live status line on a terminal, the end-of-capture
 * summary and `--status`. Pure: numbers in, text out.
 */
import type { CaptureManifest } from './manifest.js';
import { bytes, clock, count } from './units.js';

export interface Snapshot {
  /** Stopping: waiting for the last packets, then for tcpdump to exit. */
  stopping: boolean;
  elapsedSec: number;
  packets: number;
  /** Bytes in the files now in the directory. */
  bytes: number;
  files: number;
  deleted: number;
  packetsPerSec: number;
  bytesPerSec: number;
  /** null: tcpdump has not reported yet. */
  droppedByKernel: number | null;
  /** Free bytes on the disk holding the directory, or null when unknown. */
  free: number | null;
}

/** One line, at most `columns` wide (the least useful parts go first). */
export function statusLine(s: Snapshot, columns: number): string {
  const parts = [
    `${s.stopping ? 'stopping' : 'capturing'} ${clock(s.elapsedSec)}`,
    `${count(s.packets)} pkts`,
    `${bytes(s.bytes)} in ${s.files} file${s.files === 1 ? '' : 's'}${s.deleted > 0 ? ` (+${s.deleted} deleted)` : ''}`,
    `${count(Math.round(s.packetsPerSec))} pkt/s ${bytes(Math.round(s.bytesPerSec))}/s`,
    `kernel drops ${s.droppedByKernel === null ? '?' : count(s.droppedByKernel)}`,
    `free ${s.free === null ? '?' : bytes(s.free)}`,
  ];
  const width = Math.max(20, columns - 1);
  let line = parts.join(' · ');
  // Drop from the middle (rate, then sizes) before cutting: elapsed, packets and drops matter most.
  for (const i of [3, 2, 5]) {
    if (line.length <= width) break;
    parts.splice(i, 1);
    line = parts.join(' · ');
  }
  return line.length <= width ? line : line.slice(0, width);
}

const REASONS: Record<string, string> = {
  running: 'still running',
  signal: 'stopped by a signal',
  stop: 'stopped with --stop',
  duration: '--duration reached',
  'max-packets': '--max-packets reached',
  'max-total': '--max-total reached',
  'min-free-disk': '--min-free-disk reached',
  'disk-full': 'the disk is full',
  'tcpdump-exit': 'tcpdump exited',
  interrupted: 'the capturing process ended without closing the capture',
};

export function describeEnd(m: CaptureManifest): string {
  const r = REASONS[m.ended.reason] ?? m.ended.reason;
  return m.ended.detail ? `${r} (${m.ended.detail})` : r;
}

function elapsed(m: CaptureManifest, now: Date): number {
  return ((m.endedAt ? Date.parse(m.endedAt) : now.getTime()) - Date.parse(m.startedAt)) / 1000;
}

function packetsLine(m: CaptureManifest): string {
  const p = m.packets;
  const drops = p.droppedByKernel === null ? 'kernel drops unknown' : `${count(p.droppedByKernel)} dropped by the kernel`;
  const iface = p.droppedByInterface ? `, ${count(p.droppedByInterface)} by the interface` : '';
  return `${p.captured === null ? '?' : count(p.captured)} captured, ${drops}${iface}${p.final ? '' : p.at ? ` (as of ${p.at}; tcpdump's counters, taken every 10 s)` : ''}`;
}

/** The line printed when a capture ends (and by --stop). */
export function summary(m: CaptureManifest, dir: string, now = new Date()): string {
  const size = m.files.reduce((n, f) => n + f.bytes, 0);
  const del = m.deleted.length > 0 ? `, ${m.deleted.length} older deleted by --max-files` : '';
  return `capture ended after ${clock(elapsed(m, now))}: ${describeEnd(m)}; ${m.files.length} file${m.files.length === 1 ? '' : 's'} (${bytes(size)})${del} in ${dir}; packets: ${packetsLine(m)}`;
}

export type LiveState = 'running' | 'orphan' | 'stale' | 'ended';

export interface StatusView {
  dir: string;
  state: LiveState;
  pid: number | null;
  tcpdumpPid: number | null;
  manifest: CaptureManifest;
  /** Files in the directory now (names and sizes from the disk, not the manifest). */
  files: { name: string; bytes: number }[];
  free: number | null;
}

/** `periscope capture --status DIR`, for people. */
export function renderStatus(v: StatusView, now = new Date()): string {
  const m = v.manifest;
  const size = v.files.reduce((n, f) => n + f.bytes, 0);
  const rows: [string, string][] = [];
  const state = {
    running: `running for ${clock(elapsed(m, now))} (periscope pid ${v.pid}, tcpdump pid ${v.tcpdumpPid ?? '?'}); stop it with: periscope capture --stop ${v.dir}`,
    orphan: `tcpdump (pid ${v.tcpdumpPid}) is still capturing but the periscope process (pid ${v.pid}) is gone; stop it with: periscope capture --stop ${v.dir}`,
    stale: `not running: the periscope process (pid ${v.pid}) is gone and left a stale pid file; the capture did not end cleanly (last update ${m.updatedAt}); close it with: periscope capture --stop ${v.dir}`,
    ended: `ended ${m.endedAt ?? '?'} after ${clock(elapsed(m, now))}: ${describeEnd(m)}`,
  }[v.state];
  rows.push(['capture', state]);
  rows.push(['started', `${m.startedAt} on ${m.host}`]);
  rows.push(['interface', `${m.interface}${m.linkType ? `, link type ${m.linkType}` : ''}; filter: ${m.filter}`]);
  rows.push(['files', `${v.files.length} (${bytes(size)})${m.deleted.length > 0 ? `, ${m.deleted.length} deleted by --max-files` : ''}${v.files.length > 0 ? `: ${v.files[0]!.name}${v.files.length > 1 ? ` … ${v.files.at(-1)!.name}` : ''}` : ''}`]);
  rows.push(['packets', packetsLine(m)]);
  if (v.free !== null) rows.push(['free disk', bytes(v.free)]);
  rows.push(['tcpdump', `${m.tcpdump}${m.user ? `, writing as ${m.user}` : ''}`]);
  return rows.map(([k, val]) => `${k.padEnd(10)} ${val}\n`).join('');
}

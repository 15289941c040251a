/**
 * The BPF filter and the tcpdump command line, built from the user's options. Pure: no I/O, so
 * every combination is unit-tested without tcpdump.
 */
import { isIP } from 'node:net';
import { OptionError } from './units.js';

/**
 * How long a clean stop waits before SIGINT: without --immediate-mode, libpcap on Linux receives
 * packets in blocks the kernel closes when full or about two 1 s timeouts old; SIGINT discards the
 * open block. Waiting this long lets every packet that arrived before the stop reach the file.
 */
export const DRAIN_MS = 2500;

/** libpcap's largest snap length; `-s 0` means this. */
export const MAX_SNAPLEN = 262144;

/**
 * The kernel capture buffer (tcpdump -B) of `capture` and `live` when --buffer-size is not given:
 * 64 MiB. libpcap's own 2 MiB lost up to 92 % of the packets of `SELECT 1` at 20,000-57,000
 * queries/s on loopback and up to 31 % of three concurrent 1.9 MB `SELECT *`; 16 MiB sufficed for
 * `capture`, `live` still dropped with 32 MiB and never with 64 MiB (npm run bench:buffer;
 * docs/capture.md has the table).
 */
export const DEFAULT_BUFFER_SIZE = 64 * 1024 * 1024;

/** tcpdump's -C counts millions of bytes (1,000,000, not 1,048,576). */
export const TCPDUMP_C_UNIT = 1_000_000;

/**
 * With -C, -W N zero-pads the file number to N's digits so names sort in order. tcpdump would start
 * overwriting its first file after this many files (100 TB at the smallest rotation size): in
 * practice never, and Periscope's own ring buffer (`--max-files`) deletes files long before.
 */
export const FILE_NUMBER_LIMIT = 1_000_000;

export interface FilterSpec {
  /** TCP ports (either direction). At least one. */
  ports: readonly number[];
  /** Hosts (either direction): IPv4/IPv6 addresses, CIDR networks, host names. */
  hosts: readonly string[];
  /** Extra BPF, and-ed with the rest. */
  extra: string | null;
}

/** One `--host` value as a BPF primitive; anything else (spaces, `or`, parentheses) is refused. */
export function hostTerm(h: string): string {
  const cidr = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(h);
  if (cidr) {
    const v = isIP(cidr[1]!);
    const bits = Number(cidr[2]);
    if (v !== 0 && bits <= (v === 4 ? 32 : 128)) return `net ${h}`;
  } else if (isIP(h) !== 0) {
    return `host ${h}`;
  } else if (/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h)) {
    return `host ${h}`;
  }
  throw new OptionError(`--host ${h}: expected an IP address (10.0.0.5, ::1), a network (10.0.0.0/8) or a host name; use --filter for anything else`);
}

export function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new OptionError(`--port ${p}: expected a TCP port number between 1 and 65535`);
  return p;
}

/**
 * `tcp port 3306`, `tcp and (port 3306 or port 3307) and (host a or net b/16) and (EXTRA)`.
 * Each part is parenthesised, so an `or` in the extra filter cannot widen the capture.
 */
export function buildFilter(spec: FilterSpec): string {
  if (spec.ports.length === 0) throw new OptionError('at least one --port is needed');
  const ports = [...new Set(spec.ports.map(checkPort))];
  const parts = [ports.length === 1 ? `tcp port ${ports[0]}` : `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`];
  const hosts = [...new Set(spec.hosts)].map(hostTerm);
  if (hosts.length === 1) parts.push(hosts[0]!);
  else if (hosts.length > 1) parts.push(`(${hosts.join(' or ')})`);
  const extra = spec.extra?.trim();
  if (extra) parts.push(`(${extra})`);
  return parts.join(' and ');
}

export function checkSnaplen(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SNAPLEN) throw new OptionError(`--snaplen ${n}: expected 0 (whole packets) or a byte count up to ${MAX_SNAPLEN}`);
  return n;
}

/** Where tcpdump writes: rotating files in a directory, or pcap on its standard output. */
export type TcpdumpOutput =
  | {
      kind: 'files';
      /** From `captureFiles()`. */
      files: CaptureFiles;
      /** -C value in millions of bytes, or null for no size rotation. */
      rotateMillions: number | null;
      /** -G value in seconds, or null for no time rotation. */
      rotateSeconds: number | null;
    }
  | {
      kind: 'stdout';
      /** -U: write each packet as it arrives (prompt, one write per packet) instead of by 4 KiB. */
      packetBuffered: boolean;
    };

export interface TcpdumpSpec {
  iface: string;
  filter: string;
  /** 0: whole packets. */
  snaplen: number;
  /** Kernel buffer (-B) in KiB, or null for libpcap's default (2 MiB). */
  bufferKiB: number | null;
  /** -c: tcpdump exits by itself after this many packets. */
  maxPackets: number | null;
  /** -Z: the user tcpdump switches to after opening the device; null: no -Z. */
  user: string | null;
  output: TcpdumpOutput;
}

/**
 * The tcpdump argument vector. `-v` with `-w FILE`: tcpdump then prints `Got N` on stderr once a
 * second while packets arrive, which is both a live packet count and a dead man's switch: if the
 * Periscope process dies, the next such write hits a closed pipe and SIGPIPE ends tcpdump instead of
 * leaving it to fill the disk unsupervised. Never `-v` with `-w -` (periscope live): tcpdump's
 * 1-second SIGALRM for `Got N` is installed without SA_RESTART, so when the pipe is full (the
 * analyzer busy for a moment) it interrupts tcpdump's blocked write, and stdio drops the bytes not
 * yet written — the pcap stream loses part of a record (issue 21: live went quiet). The pipe is its
 * own dead man's switch, and live asks for counters with SIGUSR1 (installed with SA_RESTART). No --immediate-mode (see docs/capture.md: it costs 40x
 * the CPU and drops packets under load); a clean stop waits for the kernel's block timeout instead.
 */
export function tcpdumpArgs(spec: TcpdumpSpec): string[] {
  const a = ['-i', spec.iface, '-s', String(checkSnaplen(spec.snaplen))];
  if (spec.output.kind !== 'stdout') a.push('-v');
  if (spec.bufferKiB !== null) a.push('-B', String(spec.bufferKiB));
  if (spec.maxPackets !== null) a.push('-c', String(spec.maxPackets));
  if (spec.user !== null) a.push('-Z', spec.user);
  const o = spec.output;
  if (o.kind === 'stdout') {
    a.push('-w', '-');
    if (o.packetBuffered) a.push('-U');
  } else {
    a.push('-w', o.files.template);
    if (o.rotateSeconds !== null) a.push('-G', String(o.rotateSeconds));
    if (o.rotateMillions !== null) a.push('-C', String(o.rotateMillions), '-W', String(FILE_NUMBER_LIMIT));
  }
  a.push('--', spec.filter);
  return a;
}

/** `tcpdump -d`: compile the filter for the interface's link type and print it; nothing captured. */
export function filterCheckArgs(iface: string, filter: string): string[] {
  return ['-i', iface, '-d', '--', filter];
}

/** -C value for a size in bytes: whole millions of bytes (at least 1), rounded to the nearest. */
export function rotateMillions(bytes: number): number {
  return Math.max(1, Math.round(bytes / TCPDUMP_C_UNIT));
}

/** How the capture files of one capture are named and recognised. */
export interface CaptureFiles {
  /** The -w argument (a strftime template when tcpdump rotates by time). */
  template: string;
  /** The name of the first file tcpdump writes, when it is known in advance (no time rotation). */
  first: string | null;
}

/** Names of capture files written by `periscope capture`: `periscope-20260102-030405.pcap[000001]`. */
export const CAPTURE_FILE_NAME = /^periscope-\d{8}-\d{6}\.pcap(?:\d{6})?$/;

/** `20260102-030405` in UTC. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * File names in DIR. Without time rotation the start time is fixed into the name; with -G tcpdump
 * fills in the time of each new file (strftime; tcpdump runs with TZ=UTC), so a `%` in the directory
 * itself is doubled. With -C the 6-digit number tcpdump appends keeps names in time order.
 */
export function captureFiles(dir: string, startedAt: Date, rotateSeconds: number | null, rotateMillions: number | null): CaptureFiles {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  if (rotateSeconds !== null) return { template: `${base.replace(/%/g, '%%')}periscope-%Y%m%d-%H%M%S.pcap`, first: null };
  const name = `periscope-${utcStamp(startedAt)}.pcap`;
  return { template: `${base}${name}`, first: rotateMillions !== null ? `${name}000000` : name };
}

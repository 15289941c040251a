/**
 * `periscope capture` options, from the command line's strings to checked values. Pure; a bad
 * value is an OptionError (the CLI's usage error, exit 1) before anything runs.
 */
import { dirname, resolve } from 'node:path';
import { buildFilter, checkSnaplen, DEFAULT_BUFFER_SIZE, rotateMillions, TCPDUMP_C_UNIT } from './argv.js';
import type { ManifestOptions } from './manifest.js';
import { OptionError, parseCount, parseDuration, parseSize, parseSpace, type SpaceThreshold } from './units.js';

/** As the manifest records them (options.ts is their one definition), plus what only the run needs. */
export interface CaptureOptions extends Omit<ManifestOptions, 'minFreeDisk'> {
  /** Absolute. */
  out: string;
  iface: string;
  /** The whole filter tcpdump gets. */
  bpf: string;
  /** null: the default (see defaultMinFree); the manifest records the bytes it came to. */
  minFreeDisk: SpaceThreshold | null;
}

/** The command line as yargs hands it over (strings where units are allowed). */
export interface CaptureArgs {
  out: string;
  interface?: string;
  ports: number[];
  host?: string | string[];
  filter?: string;
  snaplen?: number;
  bufferSize?: string;
  duration?: string;
  maxPackets?: string | number;
  rotateSize?: string;
  rotateSeconds?: string | number;
  maxFiles?: string | number;
  maxTotal?: string;
  minFreeDisk?: string;
  /** The application's TLS key log to copy into the capture directory. */
  keylog?: string;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
const opt = <T>(v: string | number | undefined, f: (s: string) => T): T | null => (v === undefined ? null : f(String(v)));

export function captureOptions(a: CaptureArgs, cwd = process.cwd()): CaptureOptions {
  if (!a.out || a.out.trim() === '') throw new OptionError('--out DIR: name the directory to write the capture into');
  const ports = a.ports.length > 0 ? a.ports : [3306];
  const hosts = list(a.host);
  const filter = a.filter !== undefined && a.filter.trim() !== '' ? a.filter.trim() : null;
  const rotateBytes = opt(a.rotateSize, (s) => parseSize('rotate-size', s));
  const rotateSeconds = opt(a.rotateSeconds, (s) => {
    const v = parseDuration('rotate-seconds', s);
    if (!Number.isInteger(v)) throw new OptionError(`--rotate-seconds ${s}: tcpdump rotates by whole seconds`);
    return v;
  });
  const maxFiles = opt(a.maxFiles, (s) => parseCount('max-files', s));
  if (maxFiles !== null && rotateBytes === null && rotateSeconds === null) throw new OptionError('--max-files keeps the newest N files of a rotating capture: give --rotate-size or --rotate-seconds too');
  if (rotateBytes !== null && rotateBytes < TCPDUMP_C_UNIT / 2) throw new OptionError(`--rotate-size ${a.rotateSize}: tcpdump rotates by whole millions of bytes, so at least 1MB`);
  const bufferSize = opt(a.bufferSize, (s) => parseSize('buffer-size', s)) ?? DEFAULT_BUFFER_SIZE;
  if (bufferSize < 1024) throw new OptionError(`--buffer-size ${a.bufferSize}: at least 1KiB (tcpdump -B counts KiB)`);
  const maxTotal = opt(a.maxTotal, (s) => parseSize('max-total', s));
  if (maxTotal === 0) throw new OptionError('--max-total 0 would stop at once: give a size such as 10GB');
  const iface = (a.interface ?? 'any').trim();
  if (iface === '') throw new OptionError('--interface: name an interface (or any)');
  return {
    out: resolve(cwd, a.out),
    iface,
    ports,
    hosts,
    filter,
    bpf: buildFilter({ ports, hosts, extra: filter }),
    snaplen: checkSnaplen(a.snaplen ?? 0),
    bufferSize,
    duration: opt(a.duration, (s) => parseDuration('duration', s)),
    maxPackets: opt(a.maxPackets, (s) => parseCount('max-packets', s)),
    rotateSize: rotateBytes === null ? null : rotateMillions(rotateBytes) * TCPDUMP_C_UNIT,
    rotateSeconds,
    maxFiles,
    maxTotal,
    minFreeDisk: opt(a.minFreeDisk, (s) => parseSpace('min-free-disk', s)),
    keylog: keylogPath(a.keylog, resolve(cwd, a.out), cwd),
  };
}

/** --keylog: absolute; not inside the capture directory (it is copied there). It may not exist yet. */
function keylogPath(v: string | undefined, out: string, cwd: string): string | null {
  if (v === undefined) return null;
  if (v.trim() === '') throw new OptionError('--keylog FILE: name the key log file the application writes (SSLKEYLOGFILE)');
  const p = resolve(cwd, v);
  if (dirname(p) === out) throw new OptionError(`--keylog ${v}: the key log is copied into the capture directory; name the file the application writes, outside ${out}`);
  return p;
}

/** The default free-space margin: 15% of the file system, at most 4 GB (the rule systemd-journald uses for its own files). */
export function defaultMinFree(fsBytes: number): number {
  return Math.min(Math.floor(fsBytes * 0.15), 4e9);
}

export function minFreeBytes(t: SpaceThreshold | null, fsBytes: number): number {
  if (t === null) return defaultMinFree(fsBytes);
  return 'bytes' in t ? t.bytes : Math.floor((fsBytes * t.percent) / 100);
}

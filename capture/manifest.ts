/**
 * `DIR/capture.json`: what a capture was (host, interface, filter, tcpdump), when it ran, how it
 * ended, its files and tcpdump's counters. Written when the capture starts (ended.reason
 * "running"), rewritten as files rotate and every few seconds, and at the end. The analyzer reads
 * it for its health section: import only this module (node:fs, nothing else).
 *
 * Field reference: docs/capture.md ("The manifest").
 */
import { chownSync, closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const MANIFEST_NAME = 'capture.json';
export const MANIFEST_FORMAT = 'periscope-capture';
export const MANIFEST_VERSION = 1;

export type EndReason =
  /** Still capturing (or the capturing process died without saying: see the pid file). */
  | 'running'
  /** SIGINT (Ctrl-C), SIGTERM or SIGHUP; `detail` names the signal. */
  | 'signal'
  /** `periscope capture --stop DIR`. */
  | 'stop'
  | 'duration'
  | 'max-packets'
  | 'max-total'
  | 'min-free-disk'
  /** The disk filled up although --min-free-disk did not stop the capture first. */
  | 'disk-full'
  /** tcpdump ended by itself, unexpectedly; `detail` holds its exit status and messages. */
  | 'tcpdump-exit'
  /**
   * The capturing process ended without closing the capture (killed, crashed, machine rebooted);
   * set by `--stop` when it finds the stale pid file. endedAt is then the last file's last packet.
   */
  | 'interrupted';

export const END_REASONS: readonly EndReason[] = ['running', 'signal', 'stop', 'duration', 'max-packets', 'max-total', 'min-free-disk', 'disk-full', 'tcpdump-exit', 'interrupted'];

export interface ManifestFile {
  /** File name in the capture directory. */
  name: string;
  bytes: number;
  /** Earliest and latest packet time, ISO 8601 UTC with microseconds; null when the file holds no packet or was not read. */
  firstPacket: string | null;
  lastPacket: string | null;
  /** Packets in the file; null when it was not read (the capture is still writing it, or stopping was hurried). */
  packets: number | null;
  /** The file ends inside a packet record (tcpdump was killed, or the disk filled). */
  truncated: boolean;
  /** Only in `deleted`: when the ring buffer (--max-files) removed it. */
  deletedAt?: string;
}

export interface PacketCounters {
  /** Packets tcpdump wrote. */
  captured: number | null;
  /** Packets the kernel's filter accepted (Linux loopback and `any` count each packet twice). */
  receivedByFilter: number | null;
  /** Packets lost because tcpdump's kernel buffer was full. */
  droppedByKernel: number | null;
  /** Packets the interface dropped (tcpdump reports it only when not zero). */
  droppedByInterface: number | null;
  /** True when these are tcpdump's counters at exit; false: the last ones reported while running. */
  final: boolean;
  /** When the counters were reported. */
  at: string | null;
}

/** The options as given (and as applied: sizes in bytes, durations in seconds). */
export interface ManifestOptions {
  ports: number[];
  hosts: string[];
  /** The extra BPF of --filter, or null. */
  filter: string | null;
  /** 0: whole packets. */
  snaplen: number;
  bufferSize: number | null;
  duration: number | null;
  maxPackets: number | null;
  /** As applied: tcpdump rotates in whole millions of bytes. */
  rotateSize: number | null;
  rotateSeconds: number | null;
  maxFiles: number | null;
  maxTotal: number | null;
  /** As applied, in bytes (a percentage is resolved against the file system at start). */
  minFreeDisk: number;
  /** --keylog: the application's TLS key log that was copied (absent in older manifests). */
  keylog?: string | null;
}

export interface CaptureManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  /** Periscope's version. */
  periscope: string;
  /** Host name of the machine that captured. */
  host: string;
  interface: string;
  /** tcpdump's link type, e.g. `LINUX_SLL2 (Linux cooked v2)`. */
  linkType: string | null;
  /** The whole BPF filter tcpdump ran with. */
  filter: string;
  /** Snap length in bytes (262144: whole packets). */
  snaplen: number;
  /** `tcpdump version 4.99.3` */
  tcpdump: string;
  /** `libpcap version 1.10.3 (with TPACKET_V3)` */
  libpcap: string | null;
  /** tcpdump's arguments. */
  tcpdumpArgs: string[];
  /** The user tcpdump wrote the files as (-Z), or null when it ran as the invoking user. */
  user: string | null;
  /** ISO 8601 UTC. */
  startedAt: string;
  endedAt: string | null;
  /** When the manifest was last written. */
  updatedAt: string;
  ended: { reason: EndReason; detail?: string };
  /** The capture files in the directory, oldest first. */
  files: ManifestFile[];
  /** Files the ring buffer (--max-files) deleted, oldest first. */
  deleted: ManifestFile[];
  packets: PacketCounters;
  options: ManifestOptions;
  /** The TLS key log copied into the directory (`tls-keys.log`, 0600), or null; absent in older manifests. */
  keylog?: string | null;
}

/** A manifest that cannot be used: the message names the file and what is wrong. */
export class ManifestError extends Error {}

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Check = (v) => typeof v === 'boolean';
const orNull = (c: Check): Check => (v) => v === null || c(v);
const arrayOf = (c: Check): Check => (v) => Array.isArray(v) && v.every(c);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function need(o: Record<string, unknown>, fields: Record<string, Check>, where: string): void {
  for (const [k, c] of Object.entries(fields)) {
    if (!(k in o)) throw new ManifestError(`${where}: field ${k} is missing`);
    if (!c(o[k])) throw new ManifestError(`${where}: field ${k} has the wrong type (${JSON.stringify(o[k])?.slice(0, 60)})`);
  }
}

const FILE_FIELDS: Record<string, Check> = { name: str, bytes: num, firstPacket: orNull(str), lastPacket: orNull(str), packets: orNull(num), truncated: bool };

/** Check parsed JSON against the contract; `source` names the file in messages. */
export function parseManifest(text: string, source: string): CaptureManifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(v)) throw new ManifestError(`${source}: not a Periscope capture manifest (expected a JSON object)`);
  if (v.format !== MANIFEST_FORMAT) throw new ManifestError(`${source}: not a Periscope capture manifest (format is ${JSON.stringify(v.format)}, expected "${MANIFEST_FORMAT}")`);
  if (v.version !== MANIFEST_VERSION) throw new ManifestError(`${source}: manifest version ${JSON.stringify(v.version)} is not supported (this Periscope reads version ${MANIFEST_VERSION}; a newer Periscope wrote it?)`);
  need(
    v,
    {
      periscope: str,
      host: str,
      interface: str,
      linkType: orNull(str),
      filter: str,
      snaplen: num,
      tcpdump: str,
      libpcap: orNull(str),
      tcpdumpArgs: arrayOf(str),
      user: orNull(str),
      startedAt: str,
      endedAt: orNull(str),
      updatedAt: str,
      ended: isObj,
      files: Array.isArray,
      deleted: Array.isArray,
      packets: isObj,
      options: isObj,
    },
    source,
  );
  if ('keylog' in v && !orNull(str)(v.keylog)) throw new ManifestError(`${source}: field keylog has the wrong type`);
  const ended = v.ended as Record<string, unknown>;
  if (!END_REASONS.includes(ended.reason as EndReason)) throw new ManifestError(`${source}: ended.reason ${JSON.stringify(ended.reason)} is not one of ${END_REASONS.join(', ')}`);
  if ('detail' in ended && !str(ended.detail)) throw new ManifestError(`${source}: ended.detail must be a string`);
  (v.files as unknown[]).forEach((f, i) => {
    if (!isObj(f)) throw new ManifestError(`${source}: files[${i}] is not an object`);
    need(f, FILE_FIELDS, `${source}: files[${i}]`);
  });
  (v.deleted as unknown[]).forEach((f, i) => {
    if (!isObj(f)) throw new ManifestError(`${source}: deleted[${i}] is not an object`);
    need(f, { ...FILE_FIELDS, deletedAt: str }, `${source}: deleted[${i}]`);
  });
  need(v.packets as Record<string, unknown>, { captured: orNull(num), receivedByFilter: orNull(num), droppedByKernel: orNull(num), droppedByInterface: orNull(num), final: bool, at: orNull(str) }, `${source}: packets`);
  need(
    v.options as Record<string, unknown>,
    { ports: arrayOf(num), hosts: arrayOf(str), filter: orNull(str), snaplen: num, bufferSize: orNull(num), duration: orNull(num), maxPackets: orNull(num), rotateSize: orNull(num), rotateSeconds: orNull(num), maxFiles: orNull(num), maxTotal: orNull(num), minFreeDisk: num },
    `${source}: options`,
  );
  return v as unknown as CaptureManifest;
}

/** Read and check `path` (a capture.json, or a capture directory). Throws ManifestError with a clear message. */
export function readManifest(path: string): CaptureManifest {
  let text: string;
  let file = path;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EISDIR') {
      file = join(path, MANIFEST_NAME);
      return readManifest(file);
    }
    if (err.code === 'ENOENT') throw new ManifestError(`${file}: no such file (a directory written by periscope capture holds ${MANIFEST_NAME})`);
    if (err.code === 'EACCES') throw new ManifestError(`${file}: permission denied (a capture is private to the user who made it: use sudo, or that user)`);
    throw new ManifestError(`${file}: ${err.message}`);
  }
  return parseManifest(text, file);
}

/**
 * Write atomically (a hidden temporary file in the same directory, renamed over the old one), mode
 * 0600, owned by `owner` when given. Synchronous: small, and usable while the process exits.
 */
export function writeManifest(path: string, manifest: CaptureManifest, owner: { uid: number; gid: number } | null = null): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600); // a leftover temporary file keeps its old mode otherwise
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (owner) chownSync(tmp, owner.uid, owner.gid);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}

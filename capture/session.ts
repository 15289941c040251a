/**
 * One running capture: tcpdump writing files, and a light watch over it every half second — its
 * counters, the files (rotation, the ring buffer), the limits (--max-total, --min-free-disk, a full
 * disk), the manifest — until it stops. Node never touches a packet while tcpdump runs; closed files
 * are read once for the manifest's packet counts and time ranges.
 */
import { chownSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CaptureError, diskFull } from './errors.js';
import { FileTracker, listCaptureFiles } from './files.js';
import { cutAfter } from './scan.js';
import { CAPTURE_KEYLOG_NAME, type KeyLogCopier } from './keylog.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION, writeManifest, type CaptureManifest, type EndReason, type ManifestOptions } from './manifest.js';
import type { CaptureOptions } from './options.js';
import type { Snapshot } from './status.js';
import { DRAIN_MS } from './argv.js';
import { bytes } from './units.js';
import type { RunningTcpdump, TcpdumpExit, TcpdumpInfo } from './tcpdump.js';
import { ownerOf, type RunAs } from './user.js';

const TICK_MS = 500;
const MANIFEST_EVERY_MS = 10_000;
/**
 * A hidden file of this size is kept in the directory while capturing and deleted when a full disk
 * leaves no room for the last manifest (the analyzer skips hidden files).
 */
export const RESERVE_NAME = '.periscope-reserve';
const RESERVE_BYTES = 64 * 1024;
/** Below this many free bytes the disk counts as full (tcpdump then loses packets silently). */
export const DISK_FULL_BYTES = 64 * 1024;
/** Seconds of writing at the current rate the limits allow for (one tick, the stop, a margin). */
const PROJECTION_SEC = 1.5;

/** Free bytes for unprivileged users on the file system holding `path` (null when unknown). */
export async function freeSpace(path: string): Promise<{ free: number; size: number } | null> {
  try {
    const s = await statfs(path);
    return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

export interface SessionSetup {
  opts: CaptureOptions;
  tcpdump: TcpdumpInfo;
  running: RunningTcpdump;
  runAs: RunAs;
  minFreeDisk: number;
  periscopeVersion: string;
  startedAt: Date;
  /** Called every tick with the numbers for a status line. */
  onTick?: (s: Snapshot) => void;
  /** Warnings (once each). */
  warn: (line: string) => void;
  /** --keylog: the application's TLS key log, copied into the directory at every tick. */
  keylog?: KeyLogCopier | null;
}

export interface SessionEnd {
  reason: EndReason;
  detail?: string;
  exit: TcpdumpExit;
  manifest: CaptureManifest;
  /** Set when the capture ended in trouble (exit 2): tcpdump died, the disk filled. */
  error: CaptureError | null;
}

export class CaptureSession {
  private readonly tracker: FileTracker;
  private end: { reason: EndReason; detail?: string; error?: CaptureError } | null = null;
  private hurried = false;
  /** When the --duration window ended (ms since 1970), or null. */
  private windowEnd: number | null = null;
  /** Packets cut from the files because tcpdump captured them after the window (cutDrain). */
  private cutPackets = 0;
  private ticking = false;
  private tickNo = 0;
  private lastManifest = 0;
  private lastFree: number | null = null;
  private samples: { t: number; written: number; packets: number }[] = [];
  private readonly warned = new Set<string>();
  private readonly manifestPath: string;
  private readonly reservePath: string;

  constructor(private readonly s: SessionSetup) {
    this.tracker = new FileTracker(s.opts.out, null, ownerOf(s.runAs));
    this.manifestPath = join(s.opts.out, MANIFEST_NAME);
    this.reservePath = join(s.opts.out, RESERVE_NAME);
  }

  /** Stop the capture. The first reason given is kept; a second request hurries the stop. */
  stop(reason: EndReason, opts: { drain: boolean; detail?: string; error?: CaptureError }): void {
    if (this.end !== null) {
      this.hurry();
      return;
    }
    this.end = { reason, ...(opts.detail ? { detail: opts.detail } : {}), ...(opts.error ? { error: opts.error } : {}) };
    // --duration: the window ends now, though tcpdump drains for DRAIN_MS more (what it captures
    // meanwhile is cut from the files once it has exited).
    if (reason === 'duration') this.windowEnd = Date.now();
    void this.s.running.stop({ drainMs: opts.drain ? DRAIN_MS : 0 });
  }

  /** Stop at once, and skip reading the files for the manifest. */
  hurry(): void {
    this.hurried = true;
    void this.s.running.stop({ drainMs: 0 });
  }

  get stopping(): boolean {
    return this.end !== null;
  }

  /** Run until tcpdump exits; returns how it ended, with the final manifest written. */
  async run(): Promise<SessionEnd> {
    const { opts, running } = this.s;
    try {
      writeFileSync(this.reservePath, Buffer.alloc(RESERVE_BYTES), { mode: 0o600 });
      const owner = ownerOf(this.s.runAs);
      if (owner) chownSync(this.reservePath, owner.uid, owner.gid);
    } catch (e) {
      this.warnOnce(`cannot reserve room for the manifest on a full disk (${this.reservePath}): ${(e as Error).message}`);
    }
    this.writeManifestSafely(null);
    const timer = setInterval(() => void this.tick(), TICK_MS);
    const duration = opts.duration !== null ? setTimeout(() => this.stop('duration', { drain: true, detail: `${opts.duration} s` }), opts.duration * 1000) : null;
    const exit = await running.exited;
    const endedAt = this.windowEnd === null ? new Date() : new Date(this.windowEnd);
    if (this.windowEnd !== null) await this.cutDrain(this.windowEnd).catch((e: Error) => this.warnOnce(`cannot cut the packets captured after --duration: ${e.message}`));
    clearInterval(timer);
    if (duration) clearTimeout(duration);
    while (this.ticking) await new Promise((r) => setTimeout(r, 20));
    this.s.keylog?.copy(); // the secrets of the last sessions

    if (this.end === null) {
      // tcpdump ended by itself: -c reached, or it died.
      if (opts.maxPackets !== null && exit.code === 0) this.end = { reason: 'max-packets', detail: `${opts.maxPackets} packets` };
      else {
        const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
        const said = exit.messages.join('; ');
        const detail = `${how}${said ? `: ${said}` : ''}`;
        this.end = { reason: 'tcpdump-exit', detail, error: new CaptureError('tcpdump-died', `tcpdump stopped unexpectedly (${detail}); the files written so far are kept in ${opts.out}`) };
      }
    }
    await this.tracker.refresh(true).catch((e: Error) => this.warnOnce(`cannot list ${opts.out}: ${e.message}`));
    if (!this.hurried) await this.tracker.finishScans(() => this.hurried);
    const manifest = this.manifest(exit, endedAt);
    this.writeManifestSafely(manifest);
    rmSync(this.reservePath, { force: true });
    for (const p of this.tracker.problems) this.warnOnce(p);
    const end = this.end;
    return { reason: end.reason, ...(end.detail ? { detail: end.detail } : {}), exit, manifest, error: end.error ?? null };
  }

  /**
   * Cut what tcpdump captured after the window ended (`windowEnd`, ms): from the newest file back,
   * until a file has nothing after it (the files are in time order).
   */
  private async cutDrain(windowEnd: number): Promise<void> {
    const files = await listCaptureFiles(this.s.opts.out);
    for (const f of files.reverse()) {
      const n = await cutAfter(join(this.s.opts.out, f.name), windowEnd);
      this.cutPackets += n;
      if (n === 0) break;
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.check();
    } catch (e) {
      this.warnOnce(`watching the capture: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async check(): Promise<void> {
    const { opts, running } = this.s;
    const now = Date.now();
    this.s.keylog?.copy();
    if (this.tickNo++ % 2 === 0) running.requestStats();
    let changed = await this.tracker.refresh(false);
    if (opts.maxFiles !== null && (await this.tracker.keepNewest(opts.maxFiles)).length > 0) changed = true;
    if (changed) void this.tracker.scanClosed(() => this.hurried || !running.running);
    for (const p of this.tracker.problems.splice(0)) this.warnOnce(p);

    const written = this.tracker.written;
    const packets = running.counters().captured;
    this.samples.push({ t: now, written, packets });
    while (this.samples.length > 1 && now - this.samples[0]!.t > 2000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const bytesPerSec = dt > 0 ? (written - first.written) / dt : 0;
    const packetsPerSec = dt > 0 ? (packets - first.packets) / dt : 0;
    const space = await freeSpace(opts.out);
    this.lastFree = space?.free ?? null;

    if (!this.stopping && running.running) {
      const ahead = bytesPerSec * PROJECTION_SEC;
      if (space !== null && space.free < DISK_FULL_BYTES) {
        this.stop('disk-full', { drain: false, detail: `${bytes(space.free)} free`, error: diskFull(opts.out, space.free, true) });
      } else if (space !== null && space.free - ahead <= this.s.minFreeDisk) {
        this.stop('min-free-disk', { drain: false, detail: `${bytes(space.free)} free, --min-free-disk ${bytes(this.s.minFreeDisk)}` });
      } else if (opts.maxTotal !== null && this.tracker.bytes + ahead >= opts.maxTotal) {
        this.stop('max-total', { drain: false, detail: `${bytes(this.tracker.bytes)} in the files, --max-total ${bytes(opts.maxTotal)}${this.tracker.bytes > opts.maxTotal ? ': a burst passed it between two checks (they are twice a second)' : ''}` });
      }
    }

    const c = running.counters();
    this.s.onTick?.({
      stopping: this.stopping,
      elapsedSec: (now - this.s.startedAt.getTime()) / 1000,
      packets: c.captured,
      bytes: this.tracker.bytes,
      files: this.tracker.present.length,
      deleted: this.tracker.deleted.length,
      packetsPerSec,
      bytesPerSec,
      droppedByKernel: c.droppedByKernel,
      free: this.lastFree,
    });
    if (changed || now - this.lastManifest >= MANIFEST_EVERY_MS) this.writeManifestSafely(null);
  }

  /** The manifest now (`exit` null: still running). */
  private manifest(exit: TcpdumpExit | null, endedAt: Date | null): CaptureManifest {
    const { opts, tcpdump, running } = this.s;
    const c = running.counters();
    const stats = exit?.stats ?? null;
    const end = exit === null ? { reason: 'running' as const } : { reason: this.end!.reason, ...(this.end!.detail ? { detail: this.end!.detail } : {}) };
    return {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      periscope: this.s.periscopeVersion,
      host: hostname(),
      interface: opts.iface,
      linkType: running.linkType,
      filter: opts.bpf,
      snaplen: opts.snaplen === 0 ? 262144 : opts.snaplen,
      tcpdump: tcpdump.version,
      libpcap: tcpdump.libpcap,
      tcpdumpArgs: [...running.argv],
      user: this.s.runAs.user,
      startedAt: this.s.startedAt.toISOString(),
      endedAt: endedAt?.toISOString() ?? null,
      updatedAt: new Date().toISOString(),
      ended: end,
      files: this.tracker.manifestFiles(),
      deleted: [...this.tracker.deleted],
      packets: stats
        ? { ...stats, captured: stats.captured - this.cutPackets, final: true, at: (endedAt ?? new Date()).toISOString() }
        : { captured: c.captured, receivedByFilter: c.receivedByFilter, droppedByKernel: c.droppedByKernel, droppedByInterface: c.droppedByInterface, final: false, at: c.at?.toISOString() ?? null },
      options: { ...manifestOptions(opts), minFreeDisk: this.s.minFreeDisk },
      keylog: this.s.keylog ? CAPTURE_KEYLOG_NAME : null,
    };
  }

  private writeManifestSafely(m: CaptureManifest | null): void {
    this.lastManifest = Date.now();
    const manifest = m ?? this.manifest(null, null);
    const write = (): void => writeManifest(this.manifestPath, manifest, ownerOf(this.s.runAs));
    try {
      write();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      try {
        if ((code !== 'ENOSPC' && code !== 'EDQUOT') || !existsSync(this.reservePath)) throw e;
        rmSync(this.reservePath, { force: true }); // the room kept for this moment
        write();
      } catch (e2) {
        this.warnOnce(`cannot write ${this.manifestPath}: ${(e2 as Error).message}`);
      }
    }
  }

  private warnOnce(line: string): void {
    if (this.warned.has(line)) return;
    this.warned.add(line);
    this.s.warn(line);
  }
}

/** The options the manifest records: all but the run's own (directory, interface and filter are top-level fields). */
function manifestOptions(opts: CaptureOptions): Omit<ManifestOptions, 'minFreeDisk'> {
  const { out, iface, bpf, minFreeDisk, ...recorded } = opts;
  return recorded;
}

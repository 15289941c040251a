/**
 * Read one or many capture files as one stream of packets in timestamp order.
 *
 * Files are probed for their first timestamp, then merged: the file with the earliest pending
 * packet delivers all its packets up to the next file's pending timestamp in one tight loop, so
 * rotated files of one capture (which do not overlap) are read one after the other with no
 * per-packet merge cost, while overlapping captures (two interfaces, two hosts) interleave
 * correctly. Only files whose time range has been reached are open: memory stays bounded by how
 * many files overlap, not by how many there are. Within one file, packet order is kept as written.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sniff } from '../../src/pcap/detect.js';
import { Step, type CaptureFormat, type CaptureInterface, type CaptureParser, type CaptureProblem, type PacketRecord, type ResyncNotice } from '../../src/pcap/record.js';
import type { SectionInfo } from '../../src/pcap/pcapng.js';
import { PcapngParser } from '../../src/pcap/pcapng.js';
import { CAPTURE_KEYLOG_NAME } from './keylog.js';
import { PcapParser } from '../../src/pcap/pcap.js';
import { CHUNK_SIZE, PROBE_CHUNK_SIZE, openSource, readHead, SourceError, type ChunkSource } from './source.js';

/** What was learnt about one input file. */
export interface FileReport {
  path: string;
  /** Size on disk. */
  size: number;
  format: CaptureFormat | null;
  gzip: boolean;
  littleEndian: boolean | null;
  version: string | null;
  snapLen: number | null;
  interfaces: readonly CaptureInterface[];
  sections: readonly SectionInfo[];
  packets: number;
  capturedBytes: number;
  wireBytes: number;
  /** Packets whose caplen < origLen (cut by the snap length). */
  truncatedPackets: number;
  /** Packet counts per interface index (into `interfaces`). */
  packetsPerInterface: number[];
  /** Earliest and latest packet times (not the first and last in file order). */
  firstTs: Ts | null;
  lastTs: Ts | null;
  /** Packets whose time is earlier than the packet before them in the file. */
  outOfOrderTimestamps: number;
  skippedBlocks: ReadonlyMap<string, number>;
  /** Damage skipped in the middle of the file (reading went on after it). */
  resyncs: readonly ResyncNotice[];
  /** The file ended inside a record: everything before it was read. A warning, not a failure. */
  truncatedTail: CaptureProblem | null;
  /** The file could not be read (further): not a capture, bad header, damaged compression. */
  failure: CaptureProblem | null;
  /** Not read, and not a failure: why (not a capture file in a directory; the same file named twice). */
  ignored: string | null;
}

export interface Ts {
  sec: number;
  nsec: number;
}

export type PacketSink = (record: PacketRecord, file: FileReport) => void;

/** Optional hooks of a long read: progress, and stopping early (Ctrl-C). */
export interface ReadHooks {
  /** Bytes just read from a file (decompressed bytes for gzip), and the packets delivered so far. */
  onRead?(bytes: number, packets: number): void;
  /** Asked between chunks: true stops reading (what was read stands; `ReadResult.stopped`). */
  shouldStop?(): boolean;
  /** Awaited before each chunk is read: lets a slower consumer hold the reader back. */
  beforeRead?(): Promise<void>;
  /** A pcapng Decryption Secrets Block (TLS key log text, for one): its type and bytes (a view). */
  onSecrets?(type: number, data: Uint8Array, file: FileReport): void;
  /**
   * Opens a plain (not gzip) file's byte source instead of the reader's own double buffer: a
   * parallel analysis reads into chunks of memory its workers share (analyze/run/route.ts).
   */
  openPlain?(path: string): Promise<ChunkSource>;
}

const before = (aSec: number, aNsec: number, bSec: number, bNsec: number): boolean => aSec < bSec || (aSec === bSec && aNsec < bNsec);

/** Expand directories (their regular, non-hidden files, sorted by name) and keep files as given. */
export async function expandInputs(paths: readonly string[]): Promise<Input[]> {
  const out: Input[] = [];
  const seen = new Map<string, string>();
  /** The same file named twice (or via a directory) would be read twice: once is enough. */
  const duplicate = (path: string, st: { dev: number; ino: number }): string | null => {
    const key = `${st.dev}:${st.ino}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, path);
    return first ?? null;
  };
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      out.push({ path: p, fromDir: false, error: describeFsError(e), size: 0 });
      continue;
    }
    if (!st.isDirectory() && !st.isFile()) {
      out.push({ path: p, fromDir: false, error: 'not a regular file: reading from a pipe or device is not supported; save the capture to a file first', size: 0 });
      continue;
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => !n.startsWith('.')).sort();
      for (const n of names) {
        const full = join(p, n);
        const fst = await stat(full).catch(() => null);
        if (fst?.isFile()) out.push({ path: full, fromDir: true, error: null, size: fst.size, duplicateOf: duplicate(full, fst) });
        else if (fst?.isDirectory()) out.push({ path: full, fromDir: true, error: null, size: 0, duplicateOf: null, subdirectory: true });
      }
    } else {
      out.push({ path: p, fromDir: false, error: null, size: st.size, duplicateOf: duplicate(p, st) });
    }
  }
  return out;
}

export interface Input {
  path: string;
  /** Listed from a directory (a non-capture file there is ignored, not an error). */
  fromDir: boolean;
  error: string | null;
  size: number;
  /** The path this file was already listed as. */
  duplicateOf?: string | null;
  /** A directory inside a given directory: not descended into. */
  subdirectory?: boolean;
}

/**
 * The first packet's timestamp, from one small read (more only when the headers before it are
 * long), and the file's first bytes for sniffing. Cheap: rotated captures may be thousands of files.
 */
async function probe(path: string): Promise<{ head: Uint8Array; first: Ts | null }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(PROBE_CHUNK_SIZE);
    let pos = (await fh.read(buf, 0, buf.length, 0)).bytesRead;
    const head = Buffer.from(buf.subarray(0, Math.min(pos, 16)));
    const s = sniff(head);
    if (s.kind === 'gzip') return { head, first: await probeGzip(path) };
    if (s.kind !== 'capture') return { head, first: null };
    const parser = s.parser;
    parser.push(buf.subarray(0, pos));
    for (;;) {
      const step = parser.next();
      if (step === Step.Record) return { head, first: { sec: parser.record.tsSec, nsec: parser.record.tsNsec } };
      if (step === Step.Error) return { head, first: null };
      const n = (await fh.read(buf, 0, buf.length, pos)).bytesRead;
      if (n === 0) return { head, first: null };
      pos += n;
      parser.push(buf.subarray(0, n));
    }
  } finally {
    await fh.close();
  }
}

async function probeGzip(path: string): Promise<Ts | null> {
  const f = new OpenFile(newReport(path, 0));
  try {
    if (!(await f.open(false, null, PROBE_CHUNK_SIZE))) return null;
    await f.pump(-Infinity, 0, () => undefined);
    return f.holding ? { sec: f.sec, nsec: f.nsec } : null;
  } finally {
    await f.close();
  }
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file or directory';
  if (err.code === 'EACCES') return 'permission denied (captures are often readable by root only: check the owner, or use sudo)';
  if (err.code === 'EISDIR') return 'is a directory';
  return err.message;
}

function newReport(path: string, size: number): FileReport {
  return {
    path,
    size,
    format: null,
    gzip: false,
    littleEndian: null,
    version: null,
    snapLen: null,
    interfaces: [],
    sections: [],
    packets: 0,
    capturedBytes: 0,
    wireBytes: 0,
    truncatedPackets: 0,
    packetsPerInterface: [],
    firstTs: null,
    lastTs: null,
    outOfOrderTimestamps: 0,
    skippedBlocks: new Map(),
    resyncs: [],
    truncatedTail: null,
    failure: null,
    ignored: null,
  };
}

/** One file being read. */
class OpenFile {
  parser: CaptureParser | null = null;
  source: ChunkSource | null = null;
  /** parser.record holds a packet not yet delivered. */
  holding = false;
  done = false;
  /** The source is exhausted and the parser was told so (`end()`). */
  private inputEnded = false;
  /** The previous packet's time (for backward steps), and the latest seen. */
  private prevSec = -Infinity;
  private prevNsec = 0;
  private maxSec = -Infinity;
  private maxNsec = 0;

  constructor(
    readonly report: FileReport,
    private readonly hooks: { onRead?(bytes: number): void; shouldStop?(): boolean; beforeRead?(): Promise<void>; onSecrets?: ReadHooks['onSecrets']; openPlain?: ReadHooks['openPlain'] } = {},
  ) {}

  /** Open and sniff the file. False (with report.failure or report.ignored set) if it is not a capture. */
  async open(fromDir: boolean, knownHead: Uint8Array | null = null, chunkSize = CHUNK_SIZE): Promise<boolean> {
    const r = this.report;
    let head = knownHead ?? (await readHead(r.path, 16));
    let s = sniff(head);
    if (s.kind === 'gzip') {
      r.gzip = true;
      this.source = await openSource(r.path, true, chunkSize);
      let first: Uint8Array | null;
      try {
        first = await this.source.read();
        // A gzip stream may start with a tiny chunk: gather enough bytes to recognise the format.
        while (first !== null && first.length < 16) {
          const more = await this.source.read();
          if (more === null) break;
          first = Buffer.concat([first, more]);
        }
      } catch (e) {
        // Damaged or cut before the first decompressed bytes: say so, not "only 0 bytes long".
        await this.close();
        r.failure = { offset: 0, message: e instanceof SourceError ? e.message : String((e as Error).message) };
        this.done = true;
        return false;
      }
      head = first ?? new Uint8Array(0);
      s = sniff(head);
      if (s.kind === 'gzip') s = { kind: 'unknown', message: 'not a capture file: gzip inside gzip' };
      if (s.kind === 'capture') {
        this.parser = s.parser;
        if (first) this.parser.push(first);
      }
    } else if (s.kind === 'capture') {
      this.parser = s.parser;
      this.source = this.hooks.openPlain ? await this.hooks.openPlain(r.path) : await openSource(r.path, false, chunkSize);
    }
    const onSecrets = this.hooks.onSecrets;
    if (onSecrets && this.parser instanceof PcapngParser) this.parser.onSecrets = (type, data) => onSecrets(type, data, r);
    if (s.kind === 'unknown') {
      await this.close();
      if (fromDir) r.ignored = basename(r.path) === CAPTURE_KEYLOG_NAME ? 'the TLS key log of the capture (used to decrypt)' : 'not a capture file';
      else r.failure = { offset: 0, message: r.gzip ? `${s.message} (after gunzip)` : s.message };
      this.done = true;
      return false;
    }
    r.format = this.parser!.format;
    return true;
  }

  /**
   * Deliver packets to `sink` until one is later than (limitSec, limitNsec) — it stays held — or
   * the file ends.
   */
  async pump(limitSec: number, limitNsec: number, sink: PacketSink): Promise<void> {
    const parser = this.parser!;
    const rec = parser.record;
    const r = this.report;
    const perIface = r.packetsPerInterface;
    for (;;) {
      if (!this.holding) {
        const step = parser.next();
        if (step === Step.NeedMore) {
          if (this.inputEnded) {
            r.truncatedTail = parser.finish() ?? r.truncatedTail;
            if (r.truncatedTail && parser.offset === 0 && r.packets === 0 && r.interfaces.length === 0) {
              // Not even a whole file header: that is a failure, not a cut-short capture.
              r.failure = r.truncatedTail;
              r.truncatedTail = null;
            }
            return this.end();
          }
          let chunk: Uint8Array | null;
          if (this.hooks.beforeRead) await this.hooks.beforeRead();
          try {
            chunk = await this.source!.read();
          } catch (e) {
            const msg = e instanceof SourceError ? e.message : String((e as Error).message);
            if (e instanceof SourceError && e.code === 'truncated') r.truncatedTail = { offset: parser.offset, message: msg };
            else r.failure = { offset: parser.offset, message: msg };
            return this.end();
          }
          if (chunk !== null) this.hooks.onRead?.(chunk.length);
          if (this.hooks.shouldStop?.()) {
            this.holding = false;
            return;
          }
          if (chunk === null) {
            // Let the parser deliver what only the end of input confirms, then finish() above.
            this.inputEnded = true;
            parser.end();
            continue;
          }
          parser.push(chunk);
          continue;
        }
        if (step === Step.Error) {
          r.failure = parser.error;
          return this.end();
        }
      }
      // Step.Record (or held)
      const sec = rec.tsSec;
      const nsec = rec.tsNsec;
      if (before(limitSec, limitNsec, sec, nsec)) {
        this.holding = true;
        return;
      }
      this.holding = false;
      if (before(sec, nsec, this.prevSec, this.prevNsec)) r.outOfOrderTimestamps++;
      this.prevSec = sec;
      this.prevNsec = nsec;
      if (before(this.maxSec, this.maxNsec, sec, nsec)) {
        this.maxSec = sec;
        this.maxNsec = nsec;
      }
      if (r.firstTs === null || before(sec, nsec, r.firstTs.sec, r.firstTs.nsec)) r.firstTs = { sec, nsec };
      r.packets++;
      r.capturedBytes += rec.caplen;
      r.wireBytes += rec.origLen;
      if (rec.caplen < rec.origLen) r.truncatedPackets++;
      perIface[rec.interfaceId] = (perIface[rec.interfaceId] ?? 0) + 1;
      sink(rec, r);
    }
  }

  /** The pending packet's timestamp (only meaningful while holding). */
  get sec(): number {
    return this.parser!.record.tsSec;
  }
  get nsec(): number {
    return this.parser!.record.tsNsec;
  }

  /** Reading stops here (Ctrl-C): the report keeps what was read. */
  abandon(): Promise<void> {
    return this.end();
  }

  private async end(): Promise<void> {
    this.done = true;
    this.holding = false;
    const p = this.parser;
    const r = this.report;
    if (p) {
      r.format = p.format; // known for sure only once the header is read
      r.interfaces = p.interfaces;
      r.resyncs = p.resyncs;
      r.skippedBlocks = p.skippedBlocks;
      if (p instanceof PcapParser) {
        r.version = `${p.versionMajor}.${p.versionMinor}`;
        r.snapLen = p.snapLen;
        r.littleEndian = p.interfaces.length > 0 ? p.littleEndian : null;
      } else if (p instanceof PcapngParser) {
        r.sections = p.sections;
        const s0 = p.sections[0];
        r.version = s0 ? `${s0.versionMajor}.${s0.versionMinor}` : null;
        r.littleEndian = s0 ? s0.littleEndian : null;
      }
    }
    if (r.lastTs === null && r.packets > 0) r.lastTs = { sec: this.maxSec, nsec: this.maxNsec };
    await this.close();
  }

  async close(): Promise<void> {
    const s = this.source;
    this.source = null;
    if (s) await s.close();
  }
}

export interface ReadResult {
  files: FileReport[];
  packets: number;
  /** Reading was stopped early by `ReadHooks.shouldStop`. */
  stopped: boolean;
}

/**
 * Read every input, calling `sink` for each packet in timestamp order across files.
 * Never throws for bad input: problems are recorded on the file reports.
 */
export async function readCaptures(paths: readonly string[], sink: PacketSink, hooks: ReadHooks = {}): Promise<ReadResult> {
  const inputs = await expandInputs(paths);
  const files: FileReport[] = [];
  let packets = 0;
  const onRead = hooks.onRead;
  const fileHooks = { shouldStop: hooks.shouldStop, beforeRead: hooks.beforeRead, onRead: onRead && ((n: number) => onRead(n, packets)), onSecrets: hooks.onSecrets, openPlain: hooks.openPlain };
  // Probe: the first timestamp of each file decides the order in which files are opened.
  const pending: { file: OpenFile; fromDir: boolean; head: Uint8Array; first: Ts | null }[] = [];
  for (const input of inputs) {
    const report = newReport(input.path, input.size);
    files.push(report);
    if (input.error) {
      report.failure = { offset: -1, message: input.error };
      continue;
    }
    if (input.duplicateOf) {
      report.ignored = `the same file as ${input.duplicateOf}`;
      continue;
    }
    if (input.subdirectory) {
      report.ignored = 'a subdirectory (not read: name it to read it)';
      continue;
    }
    try {
      const { head, first } = await probe(input.path);
      pending.push({ file: new OpenFile(report, fileHooks), fromDir: input.fromDir, head, first });
    } catch (e) {
      report.failure = { offset: -1, message: describeFsError(e) };
    }
  }
  // Files with no packet go first (their headers still get read and reported).
  pending.sort((a, b) => {
    if (a.first === null || b.first === null) return (a.first === null ? 0 : 1) - (b.first === null ? 0 : 1);
    return a.first.sec - b.first.sec || a.first.nsec - b.first.nsec;
  });

  const active: OpenFile[] = [];
  let next = 0;
  const counting: PacketSink = (rec, file) => {
    packets++;
    sink(rec, file);
  };
  let stopped = false;
  for (;;) {
    if (hooks.shouldStop?.()) {
      stopped = true;
      for (const f of active) await f.abandon();
      break;
    }
    // Open every file whose first packet is due no later than the earliest held packet.
    while (next < pending.length) {
      const cand = pending[next]!;
      const earliest = minActive(active);
      if (earliest !== null && cand.first !== null && before(earliest.sec, earliest.nsec, cand.first.sec, cand.first.nsec)) break;
      next++;
      try {
        if (!(await cand.file.open(cand.fromDir, cand.head))) continue;
      } catch (e) {
        cand.file.report.failure = { offset: -1, message: describeFsError(e) };
        continue;
      }
      active.push(cand.file);
      // Fill its first packet so it can be compared.
      await cand.file.pump(-Infinity, 0, counting);
      if (cand.file.done) active.splice(active.indexOf(cand.file), 1);
    }
    const cur = minActive(active);
    if (cur === null) break;
    // Limit: the earliest other held packet, or the next file's first packet.
    let limSec = Infinity;
    let limNsec = 0;
    for (const f of active) {
      if (f !== cur && before(f.sec, f.nsec, limSec, limNsec)) {
        limSec = f.sec;
        limNsec = f.nsec;
      }
    }
    const cand = pending[next];
    if (cand?.first && before(cand.first.sec, cand.first.nsec, limSec, limNsec)) {
      limSec = cand.first.sec;
      limNsec = cand.first.nsec;
    }
    await cur.pump(limSec, limNsec, counting);
    if (cur.done) active.splice(active.indexOf(cur), 1);
  }
  return { files, packets, stopped };
}

function minActive(active: readonly OpenFile[]): OpenFile | null {
  let best: OpenFile | null = null;
  for (const f of active) if (best === null || before(f.sec, f.nsec, best.sec, best.nsec)) best = f;
  return best;
}

/** Packets the kernel or the interface dropped, summed over the captures' statistics; null when none says. */
export function kernelDrops(files: readonly FileReport[]): number | null {
  let known = false;
  let n = 0;
  for (const f of files) {
    for (const i of f.interfaces) {
      const d = i.stats?.droppedByInterface ?? i.stats?.droppedByOs ?? null;
      if (d !== null) {
        known = true;
        n += d;
      }
    }
  }
  return known ? n : null;
}

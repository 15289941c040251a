/**
 * The analysis on several cores: the main thread reads the captures and decodes each packet's
 * link, IP and TCP headers only to find its connection; packets are copied into batches, one
 * stream of batches per worker, chosen by a hash of the connection's 4-tuple (the same for both
 * directions). Each worker runs the whole pipeline (reassembly, MySQL sessions, aggregation) for
 * its share of the connections; at the end their aggregates are merged — exactly, as summaries
 * are — into one.
 *
 * Flow control: a worker holds at most MAX_IN_FLIGHT batches; the reader waits before its next
 * chunk while any worker is that far behind, so memory stays bounded whatever the speed difference.
 *
 * Batch layout (little-endian), per packet: u32 caplen, u32 origLen, u32 tsSec, u32 tsNsec,
 * u16 linkType, u16 0, then caplen bytes, padded to 4.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PacketDecoder } from '../../src/net/decode.js';
import { readCaptures, type ReadHooks } from '../read/captures.js';
import type { PacketRecord } from '../../src/pcap/record.js';
import { Aggregator, type AggregateState, type Health } from '../report/aggregate.js';
import type { TcpLimits } from '../pipeline.js';
import type { FilterOptions } from './filters.js';
import { fileHealth, inputFile, type Analysis } from './run.js';

export const BATCH_BYTES = 1 << 20;
const MAX_IN_FLIGHT = 4;
export const PACKET_HEADER = 20;

/** What a worker is told at start (structured-clone safe). */
export interface WorkerSetup {
  ports: number[];
  tcp?: TcpLimits;
  filters: FilterOptions;
  raw: boolean;
}

/** What a worker sends back at the end. */
export interface WorkerResult {
  state: AggregateState;
  health: Health;
}

/** Write one packet (header and bytes) into a batch at `at`. */
function put(v: DataView, bytes: Uint8Array, at: number, rec: PacketRecord): void {
  v.setUint32(at, rec.caplen, true);
  v.setUint32(at + 4, rec.origLen, true);
  v.setUint32(at + 8, rec.tsSec, true);
  v.setUint32(at + 12, rec.tsNsec, true);
  v.setUint16(at + 16, rec.linkType, true);
  v.setUint16(at + 18, 0, true);
  bytes.set(rec.data.subarray(rec.offset, rec.offset + rec.caplen), at + PACKET_HEADER);
}

class Lane {
  buf = new ArrayBuffer(BATCH_BYTES);
  view = new DataView(this.buf);
  bytes = new Uint8Array(this.buf);
  used = 0;
  inFlight = 0;
  private spare: ArrayBuffer[] = [];
  private waiters: (() => void)[] = [];
  readonly done: Promise<WorkerResult>;

  constructor(readonly worker: Worker) {
    this.done = new Promise((resolve, reject) => {
      worker.on('message', (m: { ack: ArrayBuffer } | { result: WorkerResult }) => {
        if ('ack' in m) {
          this.inFlight--;
          if (this.spare.length < MAX_IN_FLIGHT) this.spare.push(m.ack);
          for (const w of this.waiters.splice(0)) w();
        } else resolve(m.result);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`analysis worker stopped (exit code ${code})`)));
    });
  }

  add(rec: PacketRecord): void {
    const need = PACKET_HEADER + ((rec.caplen + 3) & ~3);
    if (this.used + need > BATCH_BYTES) this.send();
    if (need > BATCH_BYTES) return this.oversized(rec);
    put(this.view, this.bytes, this.used, rec);
    this.used += need;
  }

  /** A packet larger than a batch (a 256 KiB jumbo super-segment fits; this is for safety): its own batch. */
  private oversized(rec: PacketRecord): void {
    const size = PACKET_HEADER + ((rec.caplen + 3) & ~3);
    const buf = new ArrayBuffer(size);
    put(new DataView(buf), new Uint8Array(buf), 0, rec);
    this.inFlight++;
    this.worker.postMessage({ batch: buf, used: size }, [buf]);
  }

  send(): void {
    if (this.used === 0) return;
    this.inFlight++;
    this.worker.postMessage({ batch: this.buf, used: this.used }, [this.buf]);
    this.buf = this.spare.pop() ?? new ArrayBuffer(BATCH_BYTES);
    this.view = new DataView(this.buf);
    this.bytes = new Uint8Array(this.buf);
    this.used = 0;
  }

  /** Resolves when this worker can take more. */
  ready(): Promise<void> | null {
    if (this.inFlight < MAX_IN_FLIGHT) return null;
    return new Promise((r) => this.waiters.push(r));
  }
}

/** A hash of the connection of the decoded packet, the same for both directions. */
function connectionHash(d: PacketDecoder): number {
  let a: number;
  let b: number;
  if (d.ipVersion === 4) {
    a = d.src4;
    b = d.dst4;
  } else {
    a = 0;
    b = 0;
    const x = d.data;
    for (let i = 0; i < 16; i += 4) {
      a = (Math.imul(a, 31) + ((x[d.srcAddrOffset + i]! << 24) | (x[d.srcAddrOffset + i + 1]! << 16) | (x[d.srcAddrOffset + i + 2]! << 8) | x[d.srcAddrOffset + i + 3]!)) | 0;
      b = (Math.imul(b, 31) + ((x[d.dstAddrOffset + i]! << 24) | (x[d.dstAddrOffset + i + 1]! << 16) | (x[d.dstAddrOffset + i + 2]! << 8) | x[d.dstAddrOffset + i + 3]!)) | 0;
    }
  }
  const mix = (addr: number, port: number) => {
    let h = Math.imul(addr ^ (port << 16) ^ port, 0x9e3779b1);
    h ^= h >>> 15;
    return Math.imul(h, 0x85ebca77) >>> 0;
  };
  // Sum: the same whichever side is the source.
  return (mix(a, d.srcPort) + mix(b, d.dstPort)) >>> 0;
}

/**
 * The worker's script: worker.js beside this module in the compiled tree; in the one-file
 * dist/periscope.mjs (no worker.js beside it), the bundle itself, whose entry runs the worker
 * code when workerData says `periscopeWorker`.
 */
function workerEntry(): URL {
  const own = new URL('./worker.js', import.meta.url);
  return existsSync(own) ? own : new URL(import.meta.url);
}

export interface ParallelInput {
  files: string[];
  workers: number;
  setup: WorkerSetup;
  hooks?: ReadHooks;
}

export async function analyzeInParallel(input: ParallelInput): Promise<Analysis> {
  const lanes: Lane[] = [];
  const entry = workerEntry();
  for (let i = 0; i < input.workers; i++) lanes.push(new Lane(new Worker(entry, { workerData: { ...input.setup, periscopeWorker: true } })));
  // A failing worker must not leave the reader waiting, nor an unhandled rejection behind.
  let failure: Error | null = null;
  for (const l of lanes) l.done.catch((e: Error) => (failure ??= e));
  const decoder = new PacketDecoder();
  const hooks = input.hooks ?? {};
  try {
    const { files, packets, stopped } = await readCaptures(
      input.files,
      (rec) => {
        if (!decoder.decode(rec)) return;
        lanes[connectionHash(decoder) % lanes.length]!.add(rec);
      },
      {
        onRead: hooks.onRead,
        shouldStop: () => failure !== null || (hooks.shouldStop?.() ?? false),
        beforeRead: async () => {
          for (const l of lanes) {
            const wait = l.ready();
            if (wait) await wait;
          }
        },
      },
    );
    if (failure) throw failure;
    for (const l of lanes) {
      l.send();
      l.worker.postMessage({ end: true });
    }
    const results = await Promise.all(lanes.map((l) => l.done));
    const agg = new Aggregator({ raw: input.setup.raw });
    const health: Health = fileHealth(files);
    for (const r of results) {
      agg.merge({ ...r.state, health: {} });
      for (const [k, v] of Object.entries(r.health)) health[k] = (health[k] ?? 0) + v;
    }
    agg.health = health;
    return { aggregate: agg, files, inputs: files.filter((f) => f.ignored === null).map(inputFile), packets, stopped };
  } finally {
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }
}

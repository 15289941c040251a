/**
 * The analysis on several cores. Every thread reads all the captures itself (from the page cache,
 * at several GB/s) and decodes each packet's link, IP and TCP headers, but hands to its pipeline
 * only the connections whose 4-tuple hashes to it (the same hash for both directions). So the
 * expensive part — reassembly, MySQL sessions, SQL fingerprints, aggregation — is shared, and no
 * packet is ever copied between threads. At the end the shards' aggregates are merged exactly,
 * as summaries are: the report is byte-identical to one thread's.
 *
 * With N threads, N - 1 are workers and the main thread runs shard 0 itself (shard.ts): it would
 * otherwise wait idle, and a worker costs a heap and a start-up of its own (docs/design.md). Shard
 * 0 reports the files (what `info` would say of them) and the reading progress.
 */
import { existsSync } from 'node:fs';
import { getAsset, isSea } from 'node:sea';
import { Worker } from 'node:worker_threads';
import type { PacketDecoder } from '../../src/net/decode.js';
import type { ReadHooks } from '../read/captures.js';
import { addCounts, Aggregator, type Health } from '../aggregate/aggregate.js';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import type { FilterOptions } from './filters.js';
import { fileHealth, inputFile, type Analysis } from './run.js';
import { analyzeShard, type ShardResult } from './shard.js';

/** What a worker is told at start (structured-clone safe). */
export interface WorkerSetup {
  files: string[];
  ports: number[];
  tcp?: TcpLimits;
  filters: FilterOptions;
  raw: boolean;
  /** TLS key logs given with --keylog (each worker reads them). */
  keylog: string[];
  shard: number;
  shards: number;
  /** Marks the thread as a Periscope worker (the one-file build starts workers from itself). */
  periscopeWorker: true;
}

/** Messages from a worker. */
export type WorkerMessage = { result: ShardResult };

/** A hash of the decoded packet's connection, the same for both directions. */
export function connectionHash(d: PacketDecoder): number {
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
  // A sum: the same whichever side is the source.
  return (mix(a, d.srcPort) + mix(b, d.dstPort)) >>> 0;
}

/** The single executable's asset holding the worker's code (a CommonJS bundle of worker.ts, scripts/sea.mjs). */
export const WORKER_ASSET = 'worker.cjs';

/**
 * The worker's script: worker.js beside this module in the compiled tree; in the one-file
 * dist/periscope.mjs (no worker.js beside it), the bundle itself, whose entry runs the worker
 * code when workerData says `periscopeWorker`; in the single executable, which has no file to
 * give a worker, the code embedded as an asset, run with `eval`.
 */
function workerScript(): { entry: URL | string; eval: boolean } {
  if (isSea()) return { entry: getAsset(WORKER_ASSET, 'utf8'), eval: true };
  const own = new URL('./worker.js', import.meta.url);
  return { entry: existsSync(own) ? own : new URL(import.meta.url), eval: false };
}

export interface ParallelInput {
  files: string[];
  workers: number;
  ports: number[];
  tcp?: TcpLimits;
  filters: FilterOptions;
  raw: boolean;
  keylog: string[];
  hooks?: ReadHooks;
}

export async function analyzeInParallel(input: ParallelInput): Promise<Analysis> {
  const script = workerScript();
  const hooks = input.hooks ?? {};
  const setup = (shard: number): WorkerSetup => ({ files: input.files, ports: input.ports, tcp: input.tcp, filters: input.filters, raw: input.raw, keylog: input.keylog, shard, shards: input.workers, periscopeWorker: true });
  const workers: Worker[] = [];
  for (let shard = 1; shard < input.workers; shard++) workers.push(new Worker(script.entry, { workerData: setup(shard), eval: script.eval }));
  // Ctrl-C reaches the main thread: pass it on.
  const poll = setInterval(() => {
    if (hooks.shouldStop?.()) for (const w of workers) w.postMessage({ stop: true });
  }, 100);
  try {
    const fromWorkers = workers.map(
      (w) =>
        new Promise<ShardResult>((resolve, reject) => {
          w.on('message', (m: WorkerMessage) => resolve(m.result));
          w.on('error', reject);
          w.on('exit', (code) => reject(new Error(`analysis worker stopped (exit code ${code})`)));
        }),
    );
    // A worker that fails while shard 0 is read is reported after it (no unhandled rejection).
    for (const p of fromWorkers) p.catch(() => {});
    const own = await analyzeShard(setup(0), { onRead: hooks.onRead, shouldStop: () => hooks.shouldStop?.() ?? false });
    const results = [own, ...(await Promise.all(fromWorkers))];
    const files = own.files!;
    const agg = new Aggregator({ raw: input.raw });
    const health: Health = fileHealth(files);
    for (const r of results) {
      agg.merge({ ...r.state, health: {} });
      addCounts(health, r.health);
    }
    agg.health = health;
    return { aggregate: agg, files, inputs: files.filter((f) => f.ignored === null).map(inputFile), packets: own.packets, stopped: results.some((r) => r.stopped) };
  } finally {
    clearInterval(poll);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

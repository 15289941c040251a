/**
 * The analysis on several cores. One reader, the main thread, reads every capture once and decodes
 * each packet's link, IP and TCP headers; the connection's 4-tuple hash (the same for both
 * directions) says which thread handles it. The main thread keeps a share of the connections
 * itself (shard 0: smaller than a worker's, as it also reads) and routes the segments of the
 * others to N − 1 workers through shared memory (route.ts, ring.ts: indexes into the chunks of
 * the files as they were read, no packet copied from a plain file, no message per packet). So the
 * expensive part — reassembly, MySQL sessions, SQL fingerprints, aggregation — is shared, and
 * reading is paid once. At the end the shards' aggregates are merged exactly, as summaries are:
 * the report is byte-identical to one thread's. The main thread reports the files (what `info`
 * would say of them), the reading progress and Ctrl-C (it stops reading; the workers finish what
 * they were given).
 */
import { existsSync } from 'node:fs';
import { getAsset, isSea } from 'node:sea';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { PacketDecoder } from '../../src/net/decode.js';
import type { ReadHooks } from '../read/captures.js';
import { addCounts, Aggregator, type Health } from '../aggregate/aggregate.js';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import type { FilterOptions } from './filters.js';
import { fileHealth, inputFile, type Analysis } from './run.js';
import type { SharedInput } from './ring.js';
import { Router, WorkerFailed, type RouterSizes } from './route.js';
import { BUCKETS, readShard, shardTable, type ReadShardResult, type ShardResult, type ShardSetup } from './shard.js';

/** What a worker is told at start (structured-clone safe). */
export interface WorkerSetup extends ShardSetup {
  /** Its ring and the slots (route.ts). */
  shared: SharedInput;
  /** Its side port: new slots and TLS secrets, in order with the ring (transferred). */
  side: MessagePort;
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
  /** Tests: the shared memory's sizes (route.ts), and the buckets the main thread keeps (of BUCKETS). */
  sizes?: RouterSizes;
  own?: number;
}

/**
 * The share of the connections the main thread keeps for itself (of BUCKETS), with `threads`
 * threads: it also reads and decodes every packet and routes the others', so it takes less than a
 * worker, so that both finish together. With R the cost of reading, decoding and routing and P
 * that of the per-connection work (reassembly, MySQL, SQL, aggregate), the main thread takes f·P
 * and each worker (1 − f)·P/(N − 1): equal when f = (1 − (N − 1)·R/P) / N. R/P is the measured
 * ratio on small statements (docs/performance.md, issue 19); from about 1 + P/R threads on, the
 * reader keeps no connection (and is the bound).
 */
export function ownShare(threads: number, readOverWork = READ_OVER_WORK): number {
  const f = Math.max(0, (1 - (threads - 1) * readOverWork) / threads);
  return Math.round(f * BUCKETS);
}

/** R/P measured on the bench's 1 GB capture of small statements (docs/performance.md). */
export const READ_OVER_WORK = 0.2;

export async function analyzeInParallel(input: ParallelInput): Promise<Analysis> {
  const script = workerScript();
  const hooks = input.hooks ?? {};
  const shard: ShardSetup = { files: input.files, ports: input.ports, tcp: input.tcp, filters: input.filters, raw: input.raw, keylog: input.keylog };
  const router = new Router(input.workers - 1, input.sizes);
  const workers: Worker[] = [];
  const fromWorkers: Promise<ShardResult>[] = [];
  try {
    for (let w = 0; w < router.workers; w++) {
      const side = router.workerPorts[w]!;
      const setup: WorkerSetup = { ...shard, shared: router.shared(w), side, periscopeWorker: true };
      const worker = new Worker(script.entry, { workerData: setup, transferList: [side], eval: script.eval });
      workers.push(worker);
      fromWorkers.push(
        new Promise<ShardResult>((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => resolve(m.result));
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`analysis worker stopped (exit code ${code})`)));
        }),
      );
    }
    // A worker that fails while the main thread reads is reported after it (no unhandled rejection).
    for (const p of fromWorkers) p.catch(() => {});
    let own: ReadShardResult;
    try {
      own = await readShard(shard, router, shardTable(input.workers, input.own ?? ownShare(input.workers)), connectionHash, hooks);
    } catch (e) {
      router.abort();
      // A worker's failure stopped the reader: its own error says what happened.
      if (e instanceof WorkerFailed) await fromWorkers[e.worker];
      throw e;
    }
    const results = [own, ...(await Promise.all(fromWorkers))];
    const files = own.files;
    const agg = new Aggregator({ raw: input.raw });
    const health: Health = fileHealth(files);
    for (const r of results) {
      agg.merge({ ...r.state, health: {} });
      addCounts(health, r.health);
    }
    agg.health = health;
    return { aggregate: agg, files, inputs: files.filter((f) => f.ignored === null).map(inputFile), packets: own.packets, stopped: own.stopped, routing: router.stats };
  } finally {
    router.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

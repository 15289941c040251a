/**
 * The shards of a parallel analysis (parallel.ts). The main thread reads every capture once,
 * decodes each packet's link, IP and TCP headers, and keeps the connections that fall to its own
 * shard (`readShard`); the segments of the others go to their workers through shared memory
 * (route.ts, ring.ts), where `workerShard` runs the same pipeline on them. Each shard returns its
 * aggregate's state; the states merge exactly.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { readCaptures, type FileReport, type ReadHooks } from '../read/captures.js';
import { KeyLogs } from '../read/keylog.js';
import { Aggregator, type AggregateState, type Health } from '../aggregate/aggregate.js';
import { PacketDecoder } from '../../src/net/decode.js';
import type { PacketRecord } from '../../src/pcap/record.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline, type TcpLimits } from '../../src/pipeline/mysql.js';
import { buildFilter, type FilterOptions } from './filters.js';
import { pipelineHealth } from './run.js';
import { CTL_ABORT, CTL_CONSUMED, CTL_STATUS, CTL_WORDS, CTL_WRITTEN, ENTRY_WORDS, Entry, readSegment, Status, type SharedInput, type SideMessage } from './ring.js';
import type { Router } from './route.js';
import { zstdSupport } from '../zstd.js';

/** What every shard is told (structured-clone safe: a worker's setup). */
export interface ShardSetup {
  files: string[];
  ports: number[];
  tcp?: TcpLimits;
  filters: FilterOptions;
  raw: boolean;
  /** TLS key logs given with --keylog (each shard reads them). */
  keylog: string[];
}

export interface ShardResult {
  state: AggregateState;
  health: Health;
}

/** The pipeline of one shard, its aggregate and its key logs (filled before the first packet). */
async function shardPipeline(setup: ShardSetup): Promise<{ agg: Aggregator; pipeline: MysqlPipeline; keys: KeyLogs }> {
  const filter = buildFilter(setup.filters);
  const agg = new Aggregator({ raw: setup.raw });
  // The sessions look secrets up lazily.
  const keys = new KeyLogs();
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...setup.ports])],
    tcp: setup.tcp,
    session: { tlsSecrets: keys.lookup, zstd: zstdSupport() },
    ordered: false,
    onEvent: (e) => {
      if (filter === null || filter(e)) agg.add(e);
    },
  });
  await keys.addPaths(setup.keylog);
  await keys.addCaptureDirectories(setup.files);
  return { agg, pipeline, keys };
}

/** Buckets of the connection hash (each goes to one shard: the main thread's share can differ). */
export const BUCKETS = 1024;

/**
 * Which shard each bucket goes to: shard 0 (the reader's own) gets `own` of them, the workers
 * 1..threads-1 share the rest, interleaved.
 */
export function shardTable(threads: number, own: number): Uint8Array {
  const t = new Uint8Array(BUCKETS);
  const workers = threads - 1;
  // Spread shard 0's buckets evenly, the others round-robin in between.
  let w = 0;
  let given = 0;
  for (let b = 0; b < BUCKETS; b++) {
    if (Math.floor(((b + 1) * own) / BUCKETS) > given) {
      t[b] = 0;
      given++;
    } else {
      t[b] = 1 + (w++ % workers);
    }
  }
  return t;
}

/** The bucket of a connection hash (its top bits, after one more multiply). */
export function bucketOf(hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> 22;
}

export interface ReadShardResult extends ShardResult {
  files: FileReport[];
  packets: number;
  stopped: boolean;
}

/**
 * The main thread's part: read every capture, decode every packet, keep shard 0's connections
 * and route the others' segments to their workers; at the end, tell every worker the capture's
 * last packet time.
 */
export async function readShard(setup: ShardSetup, router: Router, table: Uint8Array, hash: (d: PacketDecoder) => number, hooks: ReadHooks): Promise<ReadShardResult> {
  const { agg, pipeline, keys } = await shardPipeline(setup);
  // The record being handled (accept sees only the decoder).
  let rec!: PacketRecord;
  const accept = (d: PacketDecoder): boolean => {
    const s = table[bucketOf(hash(d))]!;
    if (s === 0) return true;
    router.route(s - 1, rec, d, rec.tsSec, rec.tsNsec);
    return false;
  };
  const read = await readCaptures(
    setup.files,
    (r) => {
      rec = r;
      pipeline.add(r, accept);
    },
    {
      onRead: hooks.onRead,
      shouldStop: hooks.shouldStop,
      openPlain: (path) => router.openPlain(path),
      // The workers get what was routed before this thread waits for the next chunk (a gzip
      // file's too, whose chunks are not read into slots).
      beforeRead: async () => router.publishAll(),
      onSecrets: (type, data, file) => {
        keys.onSecrets(type, data, file);
        router.secrets(type, data, file.path);
      },
    },
  );
  if (router.failure !== null) throw router.failure;
  const last = pipeline.lastTime;
  router.end(last.sec, last.nsec);
  pipeline.finish();
  return { state: agg.toState(), health: pipelineHealth(pipeline), files: read.files, packets: read.packets, stopped: read.stopped };
}

/** Entries a worker consumes before it says so (the reader may be waiting for room). */
const RELEASE_EVERY = 256;
/** How long a worker waits for entries before it checks whether the reader gave up (ms). */
const IDLE_SLICE_MS = 200;

/** The reader gave up (its own error is the one reported). */
export class ReaderGone extends Error {}

/** A worker's part: the segments the reader routed to it, through the same pipeline. */
export async function workerShard(setup: ShardSetup, shared: SharedInput, side: MessagePort): Promise<ShardResult> {
  const ctl = new Int32Array(shared.control);
  const ring = new Int32Array(shared.ring);
  const slots = shared.slots.map((m) => new Uint8Array(m));
  const base = shared.index * CTL_WORDS;
  const mask = shared.ringEntries - 1;
  const d = new PacketDecoder();
  let consumed = 0;
  let end: { sec: number; nsec: number } | null = null;
  try {
    const { agg, pipeline, keys } = await shardPipeline(setup);
    while (end === null) {
      const written = Atomics.load(ctl, base + CTL_WRITTEN);
      if (written === consumed) {
        if (Atomics.load(ctl, base + CTL_ABORT) !== 0) throw new ReaderGone('the reader stopped');
        Atomics.wait(ctl, base + CTL_WRITTEN, consumed, IDLE_SLICE_MS);
        continue;
      }
      while (consumed !== written) {
        const p = (consumed & mask) * ENTRY_WORDS;
        const slot = ring[p]!;
        if (slot >= 0) {
          readSegment(ring, p, d, slots[slot]!);
          pipeline.addSegment(d, ring[p + 1]! >>> 0, ring[p + 2]!);
        } else if (slot === Entry.Message) {
          const m = receiveMessageOnPort(side)?.message as SideMessage | undefined;
          if (m === undefined) throw new Error('analysis worker: a message announced in the ring is missing');
          if ('slot' in m) slots[m.slot] = new Uint8Array(m.memory);
          else keys.addSecretsBlock(m.secrets.type, m.secrets.data, m.secrets.file);
        } else if (slot === Entry.End) {
          end = { sec: ring[p + 1]! >>> 0, nsec: ring[p + 2]! };
        }
        consumed = (consumed + 1) | 0;
        if ((consumed & (RELEASE_EVERY - 1)) === 0) {
          Atomics.store(ctl, base + CTL_CONSUMED, consumed);
          Atomics.notify(ctl, base + CTL_CONSUMED);
        }
        if (end !== null) break;
      }
      Atomics.store(ctl, base + CTL_CONSUMED, consumed);
      Atomics.notify(ctl, base + CTL_CONSUMED);
    }
    pipeline.finish(end.sec, end.nsec);
    Atomics.store(ctl, base + CTL_STATUS, Status.Done);
    return { state: agg.toState(), health: pipelineHealth(pipeline) };
  } catch (e) {
    // The reader may be waiting for room in this worker's ring: it stops waiting.
    Atomics.store(ctl, base + CTL_STATUS, Status.Failed);
    Atomics.notify(ctl, base + CTL_CONSUMED);
    throw e;
  }
}

/**
 * One shard of a parallel analysis (parallel.ts): reads every capture, keeps the connections whose
 * hash falls to the shard, runs the pipeline and the aggregate of run.ts on them, and returns the
 * aggregate's state. Run by each worker thread (worker.ts) and, for shard 0, by the main thread
 * itself, which would otherwise wait idle with a heap of its own.
 */
import { readCaptures, type FileReport } from '../read/captures.js';
import { KeyLogs } from '../read/keylog.js';
import { Aggregator, type AggregateState, type Health } from '../aggregate/aggregate.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline } from '../../src/pipeline/mysql.js';
import { buildFilter } from './filters.js';
import { pipelineHealth } from './run.js';
import { connectionHash, type WorkerSetup } from './parallel.js';
import { zstdSupport } from '../zstd.js';

export interface ShardResult {
  state: AggregateState;
  health: Health;
  files: FileReport[] | null;
  packets: number;
  stopped: boolean;
}

export async function analyzeShard(setup: WorkerSetup, hooks: { onRead?: (bytes: number, packets: number) => void; shouldStop: () => boolean }): Promise<ShardResult> {
  const filter = buildFilter(setup.filters);
  const agg = new Aggregator({ raw: setup.raw });
  // Filled before reading starts (below); the sessions look secrets up lazily.
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
  const { shard, shards } = setup;
  const mine = (d: Parameters<typeof connectionHash>[0]) => connectionHash(d) % shards === shard;
  await keys.addPaths(setup.keylog);
  await keys.addCaptureDirectories(setup.files);
  const { files, packets, stopped } = await readCaptures(setup.files, (rec) => pipeline.add(rec, mine), { onRead: hooks.onRead, shouldStop: hooks.shouldStop, onSecrets: keys.onSecrets });
  pipeline.finish();
  return { state: agg.toState(), health: pipelineHealth(pipeline), files: shard === 0 ? files : null, packets, stopped };
}

/**
 * One analysis worker (see parallel.ts): reads every capture, keeps the connections of its shard,
 * runs the pipeline and the aggregate of run.ts on them, and sends the aggregate's state back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCaptures } from '../read/captures.js';
import { KeyLogs } from '../read/keylog.js';
import { Aggregator } from '../aggregate/aggregate.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline } from '../../src/pipeline/mysql.js';
import { buildFilter } from './filters.js';
import { pipelineHealth } from './run.js';
import { connectionHash, type WorkerMessage, type WorkerSetup } from './parallel.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const filter = buildFilter(setup.filters);
const agg = new Aggregator({ raw: setup.raw });
// Filled before reading starts (below); the sessions look secrets up lazily.
const keys = new KeyLogs();
const pipeline = new MysqlPipeline({
  ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...setup.ports])],
  tcp: setup.tcp,
  session: { tlsSecrets: keys.lookup },
  ordered: false,
  onEvent: (e) => {
    if (filter === null || filter(e)) agg.add(e);
  },
});
const { shard, shards } = setup;
const mine = (d: Parameters<typeof connectionHash>[0]) => connectionHash(d) % shards === shard;

let stop = false;
port.on('message', (m: { stop?: boolean }) => {
  if (m.stop) stop = true;
});

// Worker 0 reports progress (every worker reads the same bytes), at most 10 times a second.
let bytes = 0;
let last = 0;
const onRead =
  shard === 0
    ? (n: number, packets: number) => {
        bytes += n;
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        port.postMessage({ progress: { bytes, packets } } satisfies WorkerMessage);
        bytes = 0;
      }
    : undefined;

// A promise, not a top-level await: the single executable runs this as a CommonJS script. A
// rejection is the worker's error event in the parent, as an exception would be.
void keys
  .addPaths(setup.keylog)
  .then(() => keys.addCaptureDirectories(setup.files))
  .then(() => readCaptures(setup.files, (rec) => pipeline.add(rec, mine), { onRead, shouldStop: () => stop, onSecrets: keys.onSecrets }))
  .then(({ files, packets, stopped }) => {
  pipeline.finish();
  port.postMessage({ result: { state: agg.toState(), health: pipelineHealth(pipeline), files: shard === 0 ? files : null, packets, stopped } } satisfies WorkerMessage);
});

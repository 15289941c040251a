/**
 * One analysis worker (see parallel.ts): runs its shard on the segments the main thread routes to
 * it (shard.ts) and sends the aggregate's state back. The main thread reports the files and the
 * progress.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerMessage, WorkerSetup } from './parallel.js';
import { workerShard } from './shard.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;

// A promise, not a top-level await: the single executable runs this as a CommonJS script. A
// rejection is the worker's error event in the parent, as an exception would be.
void workerShard(setup, setup.shared, setup.side).then((result) => {
  port.postMessage({ result } satisfies WorkerMessage);
});

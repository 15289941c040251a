/**
 * One analysis worker (see parallel.ts): runs its shard (shard.ts) and sends the aggregate's state
 * back. Shard 0 runs on the main thread, so a worker never reports the files or the progress.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerMessage, WorkerSetup } from './parallel.js';
import { analyzeShard } from './shard.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;

let stop = false;
port.on('message', (m: { stop?: boolean }) => {
  if (m.stop) stop = true;
});

// A promise, not a top-level await: the single executable runs this as a CommonJS script. A
// rejection is the worker's error event in the parent, as an exception would be.
void analyzeShard(setup, { shouldStop: () => stop }).then((result) => {
  port.postMessage({ result } satisfies WorkerMessage);
});

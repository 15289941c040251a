/**
 * Run by flood.test.ts in a child process with --expose-gc: the heap a SYN-only connection costs
 * in the analyzer's pipeline while it is tracked (before the capture's end closes it), as the
 * slope between two flood sizes (fixed costs cancel out). Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFlood } from '../../bench/flood.js';
import { readCaptures } from '../../analyze/read/captures.js';
import { MysqlPipeline } from '../../src/pipeline/mysql.js';

const gc = (globalThis as { gc?: () => void }).gc!;

async function heapWith(file: string): Promise<{ heap: number; pipeline: MysqlPipeline }> {
  const pipeline = new MysqlPipeline({ ports: [3306], onEvent: () => undefined });
  await readCaptures([file], (rec) => pipeline.add(rec), {});
  gc();
  return { heap: process.memoryUsage().heapUsed, pipeline };
}

const dir = mkdtempSync(join(tmpdir(), 'periscope-flood-'));
try {
  const small = Number(process.argv[2]);
  const large = Number(process.argv[3]);
  writeFlood(join(dir, 'small.pcap'), small);
  writeFlood(join(dir, 'large.pcap'), large);
  // Once first, so that code and caches are warm for both measured runs.
  await heapWith(join(dir, 'small.pcap'));
  gc();
  const a = await heapWith(join(dir, 'small.pcap'));
  const aHeap = a.heap;
  a.pipeline.finish();
  gc();
  const b = await heapWith(join(dir, 'large.pcap'));
  const tracked = b.pipeline.reassembler.totals.connections;
  const perConnection = (b.heap - aHeap) / (large - small);
  b.pipeline.finish();
  gc();
  const afterFinish = process.memoryUsage().heapUsed - aHeap;
  console.log(JSON.stringify({ perConnection, tracked, afterFinish, sessions: b.pipeline.totals.sessions }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

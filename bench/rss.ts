/**
 * `node build/bench/rss.js BIN ARGS…`: run a Periscope CLI entry (BIN, e.g. bin/periscope.js of any
 * build) in this process with ARGS, its stdout discarded, and print its peak RSS and wall time as
 * one JSON line on stderr when it exits. For the flood benchmark (bench/flood.ts).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bin, ...args] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
process.argv = [process.argv[0]!, resolve(bin!), ...args];
process.stdout.write = (() => true) as typeof process.stdout.write;
process.on('exit', (code) => {
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`\n${JSON.stringify({ rssMiB: process.resourceUsage().maxRSS / 1024, seconds: s, code })}\n`);
});
await import(pathToFileURL(resolve(bin!)).href);

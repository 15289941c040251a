/**
 * Re-record a sample capture: real tcpdump on loopback while the workload runs against MariaDB.
 * Usage: node build/test/live/record-sample.js OUT.pcap   (see samples/record.sh)
 */
import { chmod } from 'node:fs/promises';
import { mysqlSettings, liveUnavailable } from './env.js';
import { captureWhile } from './tcpdump.js';
import { runWorkload } from './workload.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: record-sample OUT.pcap\n');
  process.exit(1);
}
const why = await liveUnavailable();
if (why !== null) {
  process.stderr.write(`cannot record: ${why}\n`);
  process.exit(1);
}
const s = mysqlSettings();
const r = await captureWhile({ file: out, filter: `tcp port ${s.port}` }, () => runWorkload(s, { connections: 2 }));
await chmod(out, 0o644); // a sample is public test data, unlike a real capture
process.stdout.write(`recorded ${out}: ${r.connections} connections, ${r.queries} commands, ${r.errors} errors\n`);

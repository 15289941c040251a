/**
 * Record the TLS samples: real tcpdump on loopback while real clients (mysql2 under
 * `node --tls-keylog`) talk TLS to the TLS MariaDB that `.ci/run` starts on 127.0.0.1:3307.
 * Usage: node build/test/live/record-tls-sample.js DIR   (see samples/record-tls.sh)
 *
 *   DIR/mariadb-tls13.pcap + .keys   TLS 1.3 (the server's choice of suite), 1 connection, compressed protocol inside TLS
 *   DIR/mariadb-tls12.pcap + .keys   TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, then a second connection
 *                                    whose secrets are NOT in the key log (its client ran without --tls-keylog)
 */
import { execa } from 'execa';
import { chmod, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { captureWhile } from './tcpdump.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: record-tls-sample DIR\n');
  process.exit(1);
}
const client = fileURLToPath(new URL('./tls-client.js', import.meta.url));
const port = Number(process.env.PERISCOPE_MYSQL_TLS_PORT ?? 3307);

async function run(keys: string | null, cfg: object): Promise<void> {
  const args = [...(keys ? [`--tls-keylog=${keys}`] : []), client, JSON.stringify({ port, bigReply: false, ...cfg })];
  const r = await execa('node', args, { reject: false, env: { NODE_NO_WARNINGS: '1' } });
  if (r.exitCode !== 0) throw new Error(`tls client failed: ${String(r.stderr)}`);
}

for (const [name, runs] of [
  ['mariadb-tls13', [{ keys: true, cfg: { compress: true, ssl: { rejectUnauthorized: false, minVersion: 'TLSv1.3' } } }]],
  ['mariadb-tls12', [
    { keys: true, cfg: { ssl: { rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } } },
    { keys: false, cfg: { ssl: { rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } } },
  ]],
] as const) {
  const pcap = `${dir}/${name}.pcap`;
  const keys = `${dir}/${name}.keys`;
  await rm(keys, { force: true });
  await captureWhile({ file: pcap, filter: `tcp port ${port}` }, async () => {
    for (const r of runs) await run(r.keys ? keys : null, r.cfg);
  });
  // Samples are public test data (a test server's throwaway secrets), unlike a real capture or key log.
  await chmod(pcap, 0o644);
  await chmod(keys, 0o644);
  process.stdout.write(`recorded ${pcap} and ${keys}\n`);
}

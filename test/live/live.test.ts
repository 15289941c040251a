/**
 * `periscope live` on loopback: real tcpdump piped into the analyzer while MariaDB serves a
 * workload, and at the same time a second tcpdump writes the same traffic to a file. On exit, live's
 * report must count what `analyze` of the file counts, fingerprint for fingerprint, with zero
 * kernel drops. Skips without tcpdump/MariaDB on a laptop; fails in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { runWorkload, endAndWait } from './workload.js';
import { bin, periscope } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';

const opts = await liveTestOptions();

/** `periscope live …`, once it says it listens (in an object: a returned process would be awaited). */
async function startLive(...args: string[]) {
  const live = execa('node', [bin, 'live', ...args], { reject: false });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    live.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('live: listening on lo')) resolve();
    });
    live.then((r) => reject(new Error(`live ended before listening: ${String(r.stderr)}`)), reject);
  });
  return { live };
}

test('live: the report on exit counts what analyze of a capture of the same traffic counts', { ...opts, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-live-'));
  const file = join(dir, 'same-traffic.pcap');
  const out = join(dir, 'live.json');
  const s = mysqlSettings();
  let liveOut = { stdout: '', stderr: '', code: -1 };
  // Both tcpdumps with a 64 MiB kernel buffer: two of them at once on 2 cores drop packets with the default 2 MiB.
  await captureWhile({ file, iface: 'lo', filter: `tcp port ${s.port}`, extra: ['-B', '65536'] }, async () => {
    // Stopped as a user does, once the workload is done (with --duration, a workload slower than
    // the window on a loaded machine would be partly outside live's view but inside the file's;
    // --duration is the stall test's).
    const { live } = await startLive('-i', 'lo', '-p', String(s.port), '--refresh', '1', '-B', '64MiB', '-f', 'json', '-o', out, '--events-parquet', join(dir, 'parquet'), '--host-label', 'live-test');
    // The workload of the other live tests, and a burst of plain queries on three connections.
    await runWorkload(s, { connections: 2 });
    await Promise.all(
      [0, 1, 2].map(async (k) => {
        const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
        for (let i = 0; i < 300; i++) await c.query(`SELECT ${k * 1000 + i} AS n`);
        await endAndWait(c);
      }),
    );
    live.kill('SIGINT');
    const r = await live;
    liveOut = { stdout: String(r.stdout), stderr: String(r.stderr), code: r.exitCode ?? -1 };
  });
  assert.equal(liveOut.code, 0, liveOut.stderr);
  assert.match(liveOut.stdout, /calls +\/s now +\/s all +p95 +errors +fingerprint/, 'the table is printed');
  assert.match(liveOut.stdout, /select \?/);
  // The final table has no "/s now" (its last interval is the wait for the last packets).
  const finalTable = liveOut.stdout.slice(liveOut.stdout.lastIndexOf('periscope live '));
  assert.match(finalTable, /\(final\)/);
  assert.doesNotMatch(finalTable.split('\n')[0]!, /\/s now/);
  assert.match(finalTable, /^ +[\d,]+ +- +\d+ /m);
  const fromLive = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const analyzed = await periscope('analyze', '--format', 'json', file);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  const fromFile = JSON.parse(analyzed.stdout) as Report;
  assert.equal(fromFile.health.status, 'good', `the reference capture itself lost packets: ${JSON.stringify(fromFile.health.notes)}`);

  assert.equal(fromLive.health.counters.kernelDropsKnown, 1, "tcpdump's counters reached the report");
  assert.equal(fromLive.health.counters.kernelDrops, 0);
  assert.equal(fromLive.health.status, 'good', JSON.stringify(fromLive.health.notes));
  const counts = (r: Report) => Object.fromEntries(r.fingerprints.map((f) => [f.digest, { fp: f.fingerprint, count: f.count, errors: f.errors, rows: f.rows_sent.sum }]));
  assert.deepEqual(counts(fromLive), counts(fromFile));
  assert.ok(fromLive.overall.commands >= 900, `${fromLive.overall.commands} commands`);
  assert.equal(fromLive.overall.errors, fromFile.overall.errors);
  // --events-parquet: every event the report counted, in the live-test partition.
  assert.match(liveOut.stderr, /wrote [\d,]+ events in 1 Parquet file/);
  const { duck } = await import('../parquet/duck.js');
  const [pq] = await duck(`SELECT count(*) FILTER (WHERE cmd <> 'connect') AS commands, count(*) FILTER (WHERE cmd = 'connect') AS logins, count(*) FILTER (WHERE status = 'error' AND cmd <> 'connect') AS errors, min(host) AS host FROM read_parquet('${join(dir, 'parquet')}/**/*.parquet', hive_partitioning = true)`);
  assert.deepEqual(pq, { commands: fromLive.overall.commands, logins: fromLive.overall.logins, errors: fromLive.overall.errors, host: 'live-test' });
});

test('live: a bad filter or interface is a one-line error, exit 2, before anything starts', opts, async () => {
  const badIface = await execa('node', [bin, 'live', '-i', 'nosuch0', '--duration', '2s'], { reject: false });
  assert.equal(badIface.exitCode, 2);
  assert.match(String(badIface.stderr), /nosuch0/);
  assert.doesNotMatch(String(badIface.stderr), /\n\s+at /);
  const badFilter = await execa('node', [bin, 'live', '-i', 'lo', '--filter', 'tcp port banana', '--duration', '2s'], { reject: false });
  assert.equal(badFilter.exitCode, 2);
  assert.match(String(badFilter.stderr), /filter/i);
  const usage = await execa('node', [bin, 'live', '--refresh', '0'], { reject: false });
  assert.equal(usage.exitCode, 1);
  assert.match(String(usage.stderr), /--refresh 0/);
});

test('live: Ctrl-C waits for the last packets, prints the final table and exits 0', { ...opts, timeout: 60_000 }, async () => {
  const s = mysqlSettings();
  const { live } = await startLive('-i', 'lo', '-p', String(s.port), '--refresh', '1');
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  for (let i = 0; i < 50; i++) await c.query(`SELECT ${i} AS ctrl_c_marker`);
  await endAndWait(c);
  live.kill('SIGINT');
  const r = await live;
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(r.stderr), /live: stopping \(waiting 2\.5 s for the last packets/);
  assert.match(String(r.stdout), /\(final\)/);
  // Every query sent before Ctrl-C is in the final table, none lost in the kernel's last block.
  assert.match(String(r.stdout), /^ +50 .*select \? as ctrl_c_marker/m);
});

/**
 * The slow-log output read by the tool DBAs already use: pt-query-digest (Debian's
 * percona-toolkit) must find the same statements, counts, total latencies and rows that
 * `periscope analyze` reports, fingerprint for fingerprint. Skips without pt-query-digest on a
 * laptop; fails in CI (PERISCOPE_REQUIRE_LIVE=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { have, requireLive } from './env.js';
import { periscope, repoRoot, sample } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';

const present = await have('pt-query-digest');
if (!present && requireLive) throw new Error('the slow-log test needs pt-query-digest (apt-get install percona-toolkit); PERISCOPE_REQUIRE_LIVE=1 forbids skipping');
const skip = present ? false : 'skipped: pt-query-digest is not installed (apt-get install percona-toolkit)';

interface PtClass {
  fingerprint: string;
  query_count: number;
  metrics: { Query_time?: { sum: string | number }; Rows_sent?: { sum: string | number } };
}

test('slowlog: pt-query-digest agrees with analyze on every fingerprint', { skip, timeout: 120_000 }, async () => {
  const captures = [sample, `${repoRoot}test/fixtures/captures/linux-sll2-any.pcap`, `${repoRoot}test/fixtures/captures/ipv6-loopback.pcap`];
  const dir = await mkdtemp(join(tmpdir(), 'periscope-slowlog-'));
  const log = join(dir, 'slow.log');
  const s = await periscope('analyze', ...captures, '--format', 'slowlog', '-o', log);
  assert.equal(s.code, 0, s.stderr);
  const pt = await execa('pt-query-digest', ['--limit', '100%:100000', '--output', 'json', log]);
  const digest = JSON.parse(String(pt.stdout)) as { global: { query_count: number }; classes: PtClass[] };
  const ours = JSON.parse((await periscope('analyze', ...captures, '--format', 'json')).stdout) as Report;

  // Logins and prepare/close are not in a slow log.
  const kept = ours.fingerprints.filter((f) => f.count > 0 && f.kind !== 'connect');
  const key = (count: number, timeUs: number, rows: number) => `${count} calls, ${timeUs} us, ${rows} rows`;
  const mine = kept.map((f) => key(f.count, f.latency_us.total, f.rows_sent.sum)).sort();
  const theirs = digest.classes.map((c) => key(c.query_count, Math.round(Number(c.metrics.Query_time?.sum ?? 0) * 1e6), Number(c.metrics.Rows_sent?.sum ?? 0))).sort();
  assert.deepEqual(theirs, mine);
  assert.equal(digest.global.query_count, kept.reduce((a, f) => a + f.count, 0));
  assert.ok(kept.length >= 10);
});

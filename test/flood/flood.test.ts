/**
 * Memory under a flood of connections that carry no MySQL byte (a SYN flood, a port scan): each
 * costs under 1 KB while tracked, nothing once closed; `info --json` lists a bounded number of
 * connections and counts the rest. (Peak RSS at 10k, 100k and 500k: `npm run bench -- --only flood`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFlood } from '../../bench/flood.js';
import { infoJson, periscope } from '../cli/run.js';
import { CONNECTION_COST, connectionsWithin } from '../../src/tcp/reassembler.js';
import { DEFAULT_CONNECTIONS_LISTED } from '../../analyze/info/info.js';

test('a SYN-only connection costs under 1 KB while tracked, and nothing once closed', () => {
  const probe = fileURLToPath(new URL('./probe.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', probe, '5000', '45000'], { encoding: 'utf8' });
  const r = JSON.parse(out) as { perConnection: number; tracked: number; afterFinish: number; sessions: number };
  assert.equal(r.tracked, 45_000);
  assert.equal(r.sessions, 45_000, 'every connection got its (lazy) session at the end');
  assert.ok(r.perConnection < 1024, `${r.perConnection.toFixed(0)} bytes per connection`);
  // Closed connections keep their small TCP record only (their sessions are released).
  assert.ok(r.afterFinish / 45_000 < 1024, `${(r.afterFinish / 45_000).toFixed(0)} bytes per closed connection`);
});

test('info --json lists the first connections and counts the rest (--all-connections lists all)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'periscope-flood-info-'));
  try {
    const file = join(dir, 'flood.pcap');
    const n = DEFAULT_CONNECTIONS_LISTED + 2_500;
    writeFlood(file, n);
    const some = await infoJson(file);
    assert.equal(some.code, 0, some.stderr);
    const r = some.report as unknown as { connections: unknown[]; connections_not_listed?: number; tcp: { connections: number }; mysql_servers: { connections: number }[] };
    assert.equal(r.tcp.connections, n);
    assert.equal(r.connections.length, DEFAULT_CONNECTIONS_LISTED);
    assert.equal(r.connections_not_listed, 2_500);
    assert.equal(r.mysql_servers[0]!.connections, n, 'the server counts every connection, listed or not');
    const all = await infoJson(file, '--all-connections');
    const ra = all.report as unknown as { connections: unknown[]; connections_not_listed?: number };
    assert.equal(ra.connections.length, n);
    assert.equal(ra.connections_not_listed, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--memory-budget: connections beyond it are closed, least recently active first, and the report says how many', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'periscope-flood-budget-'));
  try {
    const file = join(dir, 'flood.pcap');
    writeFlood(file, 5_000);
    const fits = connectionsWithin(257 * 1024 * 1024, 256 * 1024 * 1024);
    assert.equal(fits, (1024 * 1024) / CONNECTION_COST);
    const r = await periscope('analyze', file, '--memory-budget', '257', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const health = (JSON.parse(r.stdout) as { health: { status: string; notes: string[]; counters: Record<string, number> } }).health;
    assert.equal(health.counters.connectionsEvicted, 5_000 - fits);
    assert.notEqual(health.status, 'good'); // (bad: a flood with no MySQL byte is also 'no MySQL traffic')
    assert.ok(health.notes.some((n) => n.includes(`${(5_000 - fits).toLocaleString('en-US')} connections closed early`)), health.notes.join('\n'));
    // The default budget holds them all: nothing closed, nothing said.
    const d = await periscope('analyze', file, '--format', 'json');
    assert.equal((JSON.parse(d.stdout) as { health: { counters: Record<string, number> } }).health.counters.connectionsEvicted, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

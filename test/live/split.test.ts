/**
 * One capture cut in pieces gives the same report as the whole:
 * - split by connection (tcpdump -r … 'port N'), analysed separately with --save-summary, then
 *   merged: what several hosts' captures look like;
 * - split every 20 packets (editcap -c), analysed as a directory: rotated files, where
 *   connections continue across file boundaries.
 * Needs tcpdump and editcap (wireshark-common); skips without them, fails in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { have, requireLive } from './env.js';
import { periscope, sample } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';

const missing = [(await have('tcpdump')) ? null : 'tcpdump', (await have('editcap')) ? null : 'editcap (wireshark-common)'].filter(Boolean);
if (missing.length && requireLive) throw new Error(`split tests need ${missing.join(' and ')}; PERISCOPE_REQUIRE_LIVE=1 forbids skipping`);
const skip = missing.length ? `skipped: ${missing.join(' and ')} not installed` : false;

async function json(...args: string[]): Promise<Report> {
  const r = await periscope(...args, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

/** The report without what names the input files. */
function content(r: Report) {
  const { files: _f, ...health } = r.health.counters;
  return { ...r, inputs: { ...r.inputs, files: null }, health: { ...r.health, counters: health } };
}

test('split by connection, summarised and merged = the whole capture', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-split-'));
  const whole = await json('analyze', sample);
  const ports = [...new Set(whole.slowest.map((s) => Number(s.client.split(':').pop())))];
  assert.ok(ports.length >= 2, 'the sample has two client connections');
  const summaries: string[] = [];
  for (const port of ports) {
    const part = join(dir, `conn-${port}.pcap`);
    await execa('tcpdump', ['-r', sample, '-w', part, `tcp port ${port}`]);
    const sum = join(dir, `conn-${port}.json`);
    const r = await periscope('analyze', part, '-q', '--save-summary', sum);
    assert.equal(r.code, 0, r.stderr);
    summaries.push(sum);
  }
  const merged = await json('merge', ...summaries);
  assert.deepEqual(content(merged), content(whole));
  assert.equal(merged.health.counters.files, ports.length);
});

test('split every 20 packets (rotated files), read as a directory = the whole capture', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-rotated-'));
  const rot = join(dir, 'rotated');
  await mkdir(rot);
  await execa('editcap', ['-c', '20', sample, join(rot, 'part.pcap')]);
  assert.ok((await readdir(rot)).length >= 4);
  const whole = await json('analyze', sample);
  const parts = await json('analyze', rot);
  assert.deepEqual(content(parts), content(whole));
  assert.equal(parts.health.status, 'good', 'no command lost at file boundaries');
});

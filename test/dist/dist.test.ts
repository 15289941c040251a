/**
 * The one-file distribution: `npm run dist` builds dist/periscope.mjs; copied alone into an empty
 * directory (no node_modules anywhere above it), it runs every command on a sample capture,
 * including the worker threads and the capture path, and says which commit it was built from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, sample } from '../cli/run.js';
import { liveTestOptions } from '../live/env.js';
import { captureTraffic } from './capture.js';

test('dist/periscope.mjs runs alone, from an empty directory', { timeout: 180_000 }, async () => {
  const built = await execa('npm', ['run', '--silent', 'dist'], { cwd: repoRoot, reject: false });
  assert.equal(built.exitCode, 0, String(built.stderr));
  assert.match(String(built.stdout), /dist\/periscope\.mjs: [\d.]+ MiB \(budget/);
  const dir = await mkdtemp(join(tmpdir(), 'periscope-dist-'));
  const bin = join(dir, 'periscope.mjs');
  await copyFile(join(repoRoot, 'dist/periscope.mjs'), bin);
  await copyFile(sample, join(dir, 'sample.pcap'));
  assert.ok((await stat(bin)).size < 4 * 1024 * 1024);
  const run = (...args: string[]) => execa('node', [bin, ...args], { cwd: dir, reject: false, env: { NODE_PATH: '' } });

  const version = await run('--version');
  assert.equal(version.exitCode, 0);
  const head = (await execa('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot })).stdout.trim();
  assert.match(String(version.stdout), new RegExp(`^periscope \\d+\\.\\d+\\.\\d+ \\(commit ${head}(-dirty)?, Node\\.js v\\d+`));

  const info = await run('info', 'sample.pcap', '--json');
  assert.equal(info.exitCode, 0, String(info.stderr));
  assert.equal((JSON.parse(String(info.stdout)) as { totals: { packets: number } }).totals.packets, 84);

  const events = await run('events', 'sample.pcap');
  assert.equal(events.exitCode, 0, String(events.stderr));
  assert.equal(String(events.stdout).trim().split('\n').length, 35);

  // The same report as the compiled tree's, on one thread and with workers (the bundle is its own worker).
  const reference = await execa('node', [join(repoRoot, 'bin/periscope.js'), 'analyze', 'sample.pcap', '--format', 'json'], { cwd: dir });
  for (const threads of ['1', '2']) {
    const a = await run('analyze', 'sample.pcap', '--format', 'json', '--threads', threads);
    assert.equal(a.exitCode, 0, String(a.stderr));
    assert.equal(String(a.stdout), String(reference.stdout), `--threads ${threads}`);
  }
  const text = await run('analyze', 'sample.pcap');
  assert.match(String(text.stdout), /# Profile/);
  const help = await run('--help');
  assert.match(String(help.stdout), /periscope analyze <files\.\.>/);
  for (const cmd of ['capture', 'live', 'bundle', 'inspect', 'upload']) {
    const h = await run(cmd, '--help');
    assert.equal(h.exitCode, 0, `${cmd} --help: ${String(h.stderr)}`);
    assert.match(String(h.stdout), new RegExp(`periscope ${cmd}`));
  }
  // The capture path runs without the analyzer's modules: a status query of no capture is a clean error.
  const status = await run('capture', '--status', join(dir, 'no-capture-here'));
  assert.equal(status.exitCode, 2, String(status.stderr));
  assert.doesNotMatch(String(status.stderr), /\n\s+at /);
});

// Issue 14 §3: capture/ had its own version reader, which from the bundle read `../../package.json`:
// whatever file sits two directories above the .mjs. There is one version now, baked in.
test('a capture made by dist/periscope.mjs records its own version, whatever package.json is near it', { ...(await liveTestOptions()), timeout: 120_000 }, async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const root = await mkdtemp(join(tmpdir(), 'periscope-dist-version-'));
  try {
    await mkdir(join(root, 'opt/periscope'), { recursive: true });
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
    const bin = join(root, 'opt/periscope/periscope.mjs');
    await copyFile(join(repoRoot, 'dist/periscope.mjs'), bin);
    const c = await captureTraffic((args) => execa('node', [bin, ...args], { cwd: root, reject: false, timeout: 60_000 }), join(root, 'capture'), 'mjs');
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.manifest.periscope, pkg.version);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/**
 * The single executable (`npm run sea`, docs/distribution.md): built, copied alone into an empty
 * directory and run with an environment where no Node.js can be found — PATH holds only a directory
 * with tcpdump in it (tcpdump's own directory, /usr/bin, holds node on a machine that has it), and
 * nothing else of the caller's environment. There it says what it is, reads, analyzes on one and
 * two threads (byte-identical to the compiled tree's report), captures real MariaDB traffic on
 * loopback, bundles it with the tables' schema (mysql2 inside) and inspects the bundle.
 *
 * The build fetches Node.js from the npm registry once (cached, checked against its pinned
 * integrity: scripts/sea.mjs) and takes about 10 s; the capture needs the shared live-test lock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, sample } from '../cli/run.js';
import { liveTestOptions, mysqlSettings, requireLive } from '../live/env.js';
import { captureTraffic, marker } from './capture.js';

const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
const supported = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
if (!supported && requireLive) throw new Error(`the single executable is built for Linux x64 and arm64; this is ${process.platform} ${process.arch}`);
const skip = supported ? false : `skipped: the single executable is built for Linux x64 and arm64 (this is ${process.platform} ${process.arch})`;
const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

let root = '';
let dir = '';
let exe = '';
let env: Record<string, string> = {};
let built = '';
before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'periscope-sea-'));
  await chmod(root, 0o711); // the sudo user's check below runs the executable as 'nobody'
  const b = await execa('npm', ['run', '--silent', 'sea', '--', '--no-archive'], { cwd: repoRoot, reject: false });
  built = String(b.stdout);
  assert.equal(b.exitCode, 0, `npm run sea: ${String(b.stderr)}`);
  // Only tcpdump on PATH; the executable alone in a directory of its own, which is the cwd.
  const tools = join(root, 'tools');
  await mkdir(tools);
  const tcpdump = (await execa('sh', ['-c', 'command -v tcpdump || ls /usr/sbin/tcpdump'], { reject: false })).stdout.trim();
  if (tcpdump !== '') await symlink(tcpdump, join(tools, 'tcpdump'));
  env = { PATH: tools };
  dir = join(root, 'run');
  await mkdir(dir);
  exe = join(dir, 'periscope');
  await copyFile(join(repoRoot, `dist/periscope-linux-${arch}`), exe);
  await copyFile(sample, join(root, 'sample.pcap'));
  await execa('chmod', ['755', exe]);
});
after(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

const run = (args: string[], more: Record<string, string> = {}) => execa(exe, args, { cwd: dir, env: { ...env, ...more }, extendEnv: false, reject: false, timeout: 60_000 });

test('npm run sea prints the size and what takes the room', { skip }, () => {
  assert.match(built, new RegExp(`dist/periscope-linux-${arch}: [\\d.]+ MiB, periscope ${pkg.version.replace(/\./g, '\\.')}, commit \\w+(-dirty)?, Node\\.js v24\\.\\d+\\.\\d+`));
  assert.match(built, /Node\.js v[\d.]+ +[\d.]+ MiB/);
  assert.match(built, /Periscope \(the SEA blob\) +[\d.]+ MiB +CLI bundle/);
});

test('the single executable runs alone, with no Node.js reachable', { skip, timeout: 120_000 }, async () => {
  assert.deepEqual(await readdir(dir), ['periscope'], 'alone in its directory');
  const noNode = await execa('/bin/sh', ['-c', 'command -v node'], { env, extendEnv: false, reject: false, cwd: dir });
  assert.notEqual(noNode.exitCode, 0, `node is reachable: ${noNode.stdout}`);
  const input = '../sample.pcap';

  const version = await run(['--version']);
  assert.equal(version.exitCode, 0, String(version.stderr));
  assert.match(String(version.stdout), new RegExp(`^periscope ${pkg.version.replace(/\./g, '\\.')} \\(commit \\w+(-dirty)?, single executable, Node\\.js v24\\.\\d+\\.\\d+\\)$`));

  const info = await run(['info', input, '--json']);
  assert.equal(info.exitCode, 0, String(info.stderr));
  assert.equal((JSON.parse(String(info.stdout)) as { totals: { packets: number } }).totals.packets, 84);

  const events = await run(['events', input]);
  assert.equal(events.exitCode, 0, String(events.stderr));
  assert.equal(String(events.stdout).trim().split('\n').length, 35);

  // Byte-identical to the compiled tree's report, on one thread and on two workers (the worker's code is an asset).
  const reference = await execa('node', [join(repoRoot, 'bin/periscope.js'), 'analyze', input, '--format', 'json'], { cwd: dir });
  for (const threads of ['1', '2']) {
    const a = await run(['analyze', input, '--format', 'json', '--threads', threads]);
    assert.equal(a.exitCode, 0, String(a.stderr));
    assert.equal(String(a.stdout), String(reference.stdout), `--threads ${threads}`);
  }
  const text = await run(['analyze', input]);
  assert.match(String(text.stdout), /# Profile/);
  for (const cmd of ['capture', 'live', 'merge', 'trace', 'bundle', 'inspect', 'upload']) {
    const h = await run([cmd, '--help']);
    assert.equal(h.exitCode, 0, `${cmd} --help: ${String(h.stderr)}`);
    assert.match(String(h.stdout), new RegExp(`periscope ${cmd}`));
  }
  // A bad input is the same clear error as from the tree, no stack.
  const missing = await run(['info', 'no-such.pcap']);
  assert.equal(missing.exitCode, 2);
  assert.doesNotMatch(String(missing.stderr), /\n\s+at /);
});

const live = supported ? { ...(await liveTestOptions()), timeout: 120_000 } : { skip, timeout: 1 };

test('the single executable captures real traffic, analyzes it, bundles it with the schema and inspects the bundle', live, async () => {
  const out = join(root, 'capture');
  const c = await captureTraffic((args) => execa(exe, args, { cwd: dir, env, extendEnv: false, reject: false, timeout: 60_000 }), out, 'sea');
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.manifest.periscope, pkg.version, 'the manifest records the version baked into the executable');
  assert.equal(c.manifest.ended.reason, 'stop');
  assert.equal((await stat(join(out, c.manifest.files[0]!.name))).mode & 0o777, 0o600);

  const events = await run(['events', out]);
  assert.equal(events.exitCode, 0, String(events.stderr));
  const seen = String(events.stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { sql: string | null; status: string; rows: number | null })
    .filter((e) => e.sql === marker('sea'));
  assert.deepEqual(seen.map((e) => [e.status, e.rows]), [['ok', 1]], 'the marker query, once, with its one row');
  for (const threads of ['1', '2']) {
    const a = await run(['analyze', out, '--format', 'json', '--threads', threads]);
    assert.equal(a.exitCode, 0, String(a.stderr));
    assert.match(String(a.stdout), /FROM `?dist_sea`? WHERE/i, `--threads ${threads}`);
  }

  // The schema through mysql2 inside the executable; the password from the environment, never an argument.
  const s = mysqlSettings();
  const bundle = join(root, 'bundle.tgz');
  const b = await run(['bundle', out, '-o', bundle, '--schema-from', `${s.host}:${s.port}`, '-u', s.user], { MYSQL_PWD: s.password });
  assert.equal(b.exitCode, 0, String(b.stderr));
  assert.equal((await stat(bundle)).mode & 0o777, 0o600);
  const inspect = await run(['inspect', bundle]);
  assert.equal(inspect.exitCode, 0, String(inspect.stderr));
  assert.match(String(inspect.stdout), /All \d+ members match the SHA-256 checksums/);
  assert.match(String(inspect.stdout), /^Schema: from [^\n]+: [1-9]\d* tables?, \d+ global variables$/m, 'the schema was collected (mysql2 inside the executable)');
  assert.doesNotMatch(String(inspect.stdout), /forty-two/, 'no literal in the bundle');
});

test('under sudo, the single executable checks as the sudo user that tcpdump can write (its own hidden probe, not node -e)', { ...live, skip: live.skip || (process.geteuid?.() === 0 ? false : 'skipped: needs root') }, async () => {
  const closed = join(root, 'closed');
  await mkdir(closed, { mode: 0o700 });
  // Without size rotation tcpdump would open a file as that user only at the first time rotation: the probe must refuse at start.
  const r = await run(['capture', '--out', join(closed, 'cap'), '-i', 'lo', '--rotate-seconds', '60', '--duration', '2s'], { SUDO_USER: 'nobody', SUDO_UID: '65534', SUDO_GID: '65534' });
  assert.equal(r.exitCode, 2, String(r.stderr));
  assert.match(String(r.stderr), /^periscope: error: tcpdump cannot write in .*\/closed\/cap \(tcpdump writes as user 'nobody'\): permission denied: choose a directory that user can reach and write/);
});

// arm64, cross-built on an x64 machine (no V8 code cache: it is specific to the architecture that
// makes it), run with qemu-user and the Debian arm64 cross libraries (.ci/run installs them).
const sysroot = '/usr/aarch64-linux-gnu';
const qemu = arch === 'x64' && supported ? (await execa('sh', ['-c', 'command -v qemu-aarch64'], { reject: false })).stdout.trim() : '';
const canArm = qemu !== '' && (await stat(join(sysroot, 'lib/libstdc++.so.6')).then(() => true, () => false));
if (arch === 'x64' && supported && !canArm && requireLive) throw new Error('the arm64 executable is tested with qemu-user: apt-get install qemu-user binutils-aarch64-linux-gnu libc6-arm64-cross libstdc++6-arm64-cross (see .ci/run)');
const armSkip = arch !== 'x64' || !supported ? 'skipped: the cross-build is tested from x64' : canArm ? false : 'skipped: needs qemu-aarch64 and the arm64 cross libraries (qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross)';

test('the arm64 executable, cross-built, analyzes on one and two threads under qemu-user like the tree', { skip: armSkip, timeout: 180_000 }, async () => {
  const b = await execa('npm', ['run', '--silent', 'sea', '--', '--arch', 'arm64', '--no-archive'], { cwd: repoRoot, reject: false });
  assert.equal(b.exitCode, 0, `npm run sea -- --arch arm64: ${String(b.stderr)}`);
  assert.match(String(b.stdout), /dist\/periscope-linux-arm64: [\d.]+ MiB, .*\(linux-arm64\)/);
  const arm = join(root, 'arm64');
  await mkdir(arm);
  const exe64 = join(arm, 'periscope');
  await copyFile(join(repoRoot, 'dist/periscope-linux-arm64'), exe64);
  await chmod(exe64, 0o755);
  const run64 = (args: string[]) => execa(qemu, ['-L', sysroot, exe64, ...args], { cwd: dir, env, extendEnv: false, reject: false, timeout: 90_000 });
  const v = await run64(['--version']);
  assert.equal(v.exitCode, 0, String(v.stderr));
  assert.match(String(v.stdout), /single executable, Node\.js v24\./);
  const reference = await execa('node', [join(repoRoot, 'bin/periscope.js'), 'analyze', '../sample.pcap', '--format', 'json'], { cwd: dir });
  for (const threads of ['1', '2']) {
    const a = await run64(['analyze', '../sample.pcap', '--format', 'json', '--threads', threads]);
    assert.equal(a.exitCode, 0, String(a.stderr));
    assert.equal(String(a.stdout), String(reference.stdout), `arm64 --threads ${threads}`);
  }
});

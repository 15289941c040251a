/**
 * `npm run bench:artifacts`: start-up time and memory of the built artifacts side by side, in one
 * run — the single executable (dist/periscope-linux-x64, `npm run sea`), dist/periscope.mjs on
 * this machine's Node.js and on the Node.js inside the executable (dist/sea/<arch>/node-*, left there by
 * `npm run sea`). Build both first (`npm run dist && npm run sea`).
 *
 * Each command runs ROUNDS times per artifact, interleaved; wall time (best and median) and peak
 * RSS (GNU time's %M, the median). `capture` for real: on lo, a port with no traffic, 3 s; the
 * resident memory of the Periscope process is read from /proc while tcpdump runs. That part needs
 * root (or a tcpdump allowed to capture): run under the shared lock,
 *
 *   flock /tmp/periscope-live.lock npm run bench:artifacts
 */
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = Number(process.env.PERISCOPE_BENCH_ROUNDS ?? 7);
const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
const sea = join(root, `dist/periscope-linux-${arch}`);
const mjs = join(root, 'dist/periscope.mjs');
const work = join(root, 'dist/sea', arch);
const inside = existsSync(work) ? readdirSync(work).find((n) => /^node-[\d.]+-linux-/.test(n)) : undefined;
if (!existsSync(sea) || !existsSync(mjs) || inside === undefined) {
  console.error('bench:artifacts: build them first: npm run dist && npm run sea');
  process.exit(1);
}
const node24 = join(work, inside);
const node24Version = (await execa(node24, ['--version'])).stdout.trim();

const artifacts: { name: string; argv: string[] }[] = [
  { name: 'single executable', argv: [sea] },
  { name: `periscope.mjs, Node.js ${process.version}`, argv: [process.execPath, mjs] },
  { name: `periscope.mjs, Node.js ${node24Version}`, argv: [node24, mjs] },
];
const scratch = await mkdtemp(join(tmpdir(), 'periscope-bench-artifacts-'));
const sample = join(root, 'samples/mariadb-basic.pcap');
const commands: { name: string; args: string[] }[] = [
  { name: '--version', args: ['--version'] },
  { name: 'capture --status /missing', args: ['capture', '--status', join(scratch, 'missing')] },
  { name: 'info sample', args: ['info', sample] },
  { name: 'analyze sample', args: ['analyze', sample] },
  { name: 'analyze sample --threads 2', args: ['analyze', sample, '--threads', '2'] },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function once(argv: string[]): Promise<{ ms: number; rssKiB: number }> {
  const t0 = process.hrtime.bigint();
  const r = await execa('/usr/bin/time', ['-f', '%M', ...argv], { reject: false, cwd: scratch });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss = Number(String(r.stderr).trim().split('\n').pop());
  if (!Number.isFinite(rss)) throw new Error(`${argv.join(' ')}: ${String(r.stderr)}`);
  return { ms, rssKiB: rss };
}

console.log(`# start-up, ${ROUNDS} rounds each, interleaved (wall ms best / median; peak RSS MB median)`);
console.log(`| command | ${artifacts.map((a) => a.name).join(' | ')} |`);
console.log(`|---|${artifacts.map(() => '---').join('|')}|`);
for (const c of commands) {
  const runs = artifacts.map(() => [] as { ms: number; rssKiB: number }[]);
  for (let i = 0; i < ROUNDS; i++) for (const [k, a] of artifacts.entries()) runs[k]!.push(await once([...a.argv, ...c.args]));
  const cells = runs.map((r) => `${Math.min(...r.map((x) => x.ms)).toFixed(0)} / ${median(r.map((x) => x.ms)).toFixed(0)} ms, ${(median(r.map((x) => x.rssKiB)) / 1024).toFixed(0)} MB`);
  console.log(`| \`${c.name}\` | ${cells.join(' | ')} |`);
}

// A real capture: the Periscope process's resident memory while tcpdump runs.
async function captureRss(argv: string[], n: number): Promise<{ rss: number; hwm: number }> {
  const out = join(scratch, `cap-${n}`);
  const p = execa(argv[0]!, [...argv.slice(1), 'capture', '--out', out, '-i', 'lo', '-p', '9', '--duration', '3s'], { reject: false, cwd: scratch });
  await new Promise((r) => setTimeout(r, 2500));
  const status = await readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`capture: ${String(r.stderr)}`);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}
console.log(`\n# capture on lo for 3 s (no traffic): the Periscope process at 2.5 s, RSS / peak MB (median of ${ROUNDS})`);
const cap = artifacts.map(() => [] as { rss: number; hwm: number }[]);
let n = 0;
for (let i = 0; i < ROUNDS; i++) for (const [k, a] of artifacts.entries()) cap[k]!.push(await captureRss(a.argv, n++));
for (const [k, a] of artifacts.entries()) console.log(`| ${a.name} | ${(median(cap[k]!.map((x) => x.rss)) / 1024).toFixed(0)} / ${(median(cap[k]!.map((x) => x.hwm)) / 1024).toFixed(0)} MB |`);
await rm(scratch, { recursive: true, force: true });

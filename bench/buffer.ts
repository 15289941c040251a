/**
 * `npm run bench:buffer`: kernel drops of `periscope live` and `periscope capture` on loopback
 * against the kernel buffer size (-B), at a steady 10,000 queries/s and with three large
 * `SELECT *` (10,000 rows, about 1.9 MB each): at once every second (three-star, the case of issue
 * 21), or back to back on three connections (select-star, a saturating stress); slap: mariadb-slap
 * (`SELECT 1`, 16 connections, unpaced: as fast as the host serves). Real tcpdump,
 * real MariaDB (test/live/env.ts's account); run it under the shared lock:
 *
 *   flock /tmp/periscope-live.lock npm run bench:buffer
 *
 * PERISCOPE_BENCH_LOADS (default "steady,slap,three-star,select-star"), PERISCOPE_BENCH_MODES
 * ("live,capture"), PERISCOPE_BENCH_BUFFERS ("default,8MiB,16MiB,32MiB,64MiB"), PERISCOPE_BENCH_SECONDS (6)
 * of load per run, PERISCOPE_BENCH_QPS (10000), PERISCOPE_BENCH_REPEAT (1). "default" runs without
 * -B (Periscope's default). Results: a table on stdout and bench/data/buffer-last-run.json.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection, type Connection } from 'mysql2/promise';
import type { CaptureManifest } from '../capture/manifest.js';
import type { Report } from '../analyze/report/report.js';
import { mysqlSettings } from '../test/live/env.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/periscope.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const s = mysqlSettings();
const connect = (): Promise<Connection> => createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });

type Load = 'steady' | 'slap' | 'select-star' | 'three-star';
type Mode = 'live' | 'capture';

/** `n` connections, each running `body` until it returns false; the statements per second. */
async function onConnections(n: number, body: (c: Connection, k: number, t0: number) => Promise<boolean>): Promise<number> {
  const conns = await Promise.all(Array.from({ length: n }, connect));
  const t0 = performance.now();
  let done = 0;
  await Promise.all(conns.map(async (c, k) => {
    while (await body(c, k, t0)) done++;
  }));
  await Promise.all(conns.map((c) => c.end()));
  return done / ((performance.now() - t0) / 1000);
}

/** `rate` queries/s of `SELECT ?` spread over 16 connections, each paced to its share. */
function steady(rate: number, seconds: number): Promise<number> {
  const gap = (16 * 1000) / rate;
  const sent = new Array<number>(16).fill(0);
  return onConnections(16, async (c, k, t0) => {
    const due = t0 + (k * gap) / 16 + sent[k]! * gap;
    if (due >= t0 + seconds * 1000) return false;
    const ahead = due - performance.now();
    if (ahead > 2) await sleep(ahead);
    await c.query('SELECT ? AS n', [sent[k]!++]);
    return true;
  });
}

/** Three connections, each running `SELECT * FROM bench_big` (10,000 rows) back to back. */
function selectStar(seconds: number): Promise<number> {
  return onConnections(3, async (c, _k, t0) => {
    if (performance.now() - t0 >= seconds * 1000) return false;
    await c.query('SELECT * FROM bench_big');
    return true;
  });
}

/** Three `SELECT * FROM bench_big` at once (the case of issue 21), again every second. */
async function threeStar(seconds: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: 3 }, connect));
  const t0 = performance.now();
  let done = 0;
  for (let k = 0; performance.now() - t0 < seconds * 1000; k++) {
    await Promise.all(conns.map((c) => c.query('SELECT * FROM bench_big')));
    done += 3;
    const next = t0 + (k + 1) * 1000 - performance.now();
    if (next > 0) await sleep(next);
  }
  await Promise.all(conns.map((c) => c.end()));
  return done / ((performance.now() - t0) / 1000);
}

/** mariadb-slap, `SELECT 1` on 16 connections as fast as the host serves them (the password in a 0600 option file). */
async function slap(qps: number, seconds: number): Promise<number> {
  const tmp = await mkdtemp(join(tmpdir(), 'periscope-slap-'));
  const cnf = join(tmp, 'client.cnf');
  await writeFile(cnf, `[client]\nuser=${s.user}\npassword=${s.password}\nhost=${s.host}\nport=${s.port}\n`, { mode: 0o600 });
  const t0 = performance.now();
  const n = qps * seconds;
  await execa('mariadb-slap', [`--defaults-extra-file=${cnf}`, `--create-schema=${s.database}`, '--no-drop', '--concurrency=16', '--iterations=1', `--number-of-queries=${n}`, '--query=SELECT 1']);
  const rate = n / ((performance.now() - t0) / 1000);
  await rm(tmp, { recursive: true, force: true });
  return rate;
}

async function prepareBig(): Promise<void> {
  const c = await connect();
  // The shape of sysbench's sbtest1: 10,000 rows of about 190 bytes.
  await c.query('CREATE TABLE IF NOT EXISTS bench_big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)');
  const [[row]] = (await c.query('SELECT COUNT(*) AS n FROM bench_big')) as unknown as [[{ n: number }]];
  if (Number(row.n) !== 10_000) {
    await c.query('DELETE FROM bench_big');
    await c.query("INSERT INTO bench_big SELECT seq, seq * 7 % 10000, LEFT(REPEAT(MD5(seq), 4), 119), LEFT(REPEAT(SHA1(seq), 2), 59) FROM seq_1_to_10000");
  }
  await c.end();
}

interface Run {
  mode: Mode;
  load: Load;
  buffer: string;
  rate: number;
  packets: number;
  drops: number;
  dropPct: number;
}

async function runLoad(load: Load, qps: number, seconds: number): Promise<number> {
  if (load === 'slap') return slap(qps, seconds);
  if (load === 'three-star') return threeStar(seconds);
  return load === 'steady' ? steady(qps, seconds) : selectStar(seconds);
}

async function live(buffer: string, load: Load, qps: number, seconds: number, tmp: string): Promise<Omit<Run, 'mode' | 'load' | 'buffer'>> {
  const out = join(tmp, 'live.json');
  const args = ['live', '-i', 'lo', '-p', String(s.port), '--refresh', '1', '-f', 'json', '-o', out, ...(buffer === 'default' ? [] : ['-B', buffer])];
  const p = execa(process.execPath, [bin, ...args], { reject: false });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    p.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('live: listening')) resolve();
    });
    p.then((r) => reject(new Error(`live ended: ${String(r.stderr)}`)), reject);
  });
  const rate = await runLoad(load, qps, seconds);
  p.kill('SIGINT');
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`live failed: ${String(r.stderr)}`);
  const c = (JSON.parse(await readFile(out, 'utf8')) as Report).health.counters;
  await rm(out);
  return { rate, packets: c.packets ?? 0, drops: c.kernelDrops ?? 0, dropPct: 0 };
}

async function capture(buffer: string, load: Load, qps: number, seconds: number, tmp: string): Promise<Omit<Run, 'mode' | 'load' | 'buffer'>> {
  const dir = join(tmp, 'cap');
  const p = execa(process.execPath, [bin, 'capture', '-o', dir, '-i', 'lo', '-p', String(s.port), ...(buffer === 'default' ? [] : ['-B', buffer])], { reject: false });
  for (let i = 0; ; i++) {
    try {
      const m = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
      if (m.ended.reason === 'running') break;
    } catch {
      // not yet
    }
    if (i > 200) throw new Error('the capture did not start');
    await sleep(100);
  }
  const rate = await runLoad(load, qps, seconds);
  await execa(process.execPath, [bin, 'capture', '--stop', dir]);
  await p;
  const m = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
  await rm(dir, { recursive: true, force: true });
  return { rate, packets: m.packets.captured ?? 0, drops: m.packets.droppedByKernel ?? 0, dropPct: 0 };
}

async function main(): Promise<void> {
  const e = process.env;
  const buffers = (e.PERISCOPE_BENCH_BUFFERS ?? 'default,8MiB,16MiB,32MiB,64MiB').split(',');
  const seconds = Number(e.PERISCOPE_BENCH_SECONDS ?? 6);
  const qps = Number(e.PERISCOPE_BENCH_QPS ?? 10_000);
  const repeat = Number(e.PERISCOPE_BENCH_REPEAT ?? 1);
  const loads = (e.PERISCOPE_BENCH_LOADS ?? 'steady,slap,three-star,select-star').split(',') as Load[];
  const modes = (e.PERISCOPE_BENCH_MODES ?? 'live,capture').split(',') as Mode[];
  await prepareBig();
  const tmp = await mkdtemp(join(tmpdir(), 'periscope-bench-buffer-'));
  const runs: Run[] = [];
  try {
    for (let k = 0; k < repeat; k++)
      for (const load of loads)
        for (const mode of modes)
          for (const buffer of buffers) {
            const r = await (mode === 'live' ? live : capture)(buffer, load, qps, seconds, tmp);
            r.dropPct = r.drops + r.packets > 0 ? Math.round((10_000 * r.drops) / (r.drops + r.packets)) / 100 : 0;
            r.rate = Math.round(r.rate * 10) / 10;
            runs.push({ mode, load, buffer, ...r });
            console.log(`${mode.padEnd(8)} ${load.padEnd(12)} -B ${buffer.padEnd(8)} ${String(r.rate).padStart(8)} q/s  ${String(r.packets).padStart(9)} packets  ${String(r.drops).padStart(7)} dropped  ${r.dropPct.toFixed(2).padStart(6)} %`);
          }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const commit = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, reject: false })).stdout;
  await mkdir(join(root, 'bench/data'), { recursive: true });
  await writeFile(join(root, 'bench/data/buffer-last-run.json'), `${JSON.stringify({ commit, at: new Date().toISOString(), seconds, qps, runs }, null, 2)}\n`);
}

await main();

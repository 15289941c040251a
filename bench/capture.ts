/**
 * `npm run bench:capture`: what `periscope capture` costs while MariaDB serves at least 10,000
 * queries per second on loopback. Needs root (or a tcpdump allowed to capture), MariaDB with the
 * test account (test/live/env.ts) and mariadb-slap (or mysqlslap). Run it under the shared lock:
 *
 *   flock /tmp/periscope-live.lock npm run bench:capture
 *
 * For each load (mariadb-slap, `SELECT 1`, N clients), it starts `periscope capture` on lo, samples
 * the CPU time and resident memory of the Node process and of tcpdump from /proc twice a second,
 * runs the load, then stops the capture and reads its manifest (packets, kernel drops, files). It
 * also measures the watch loop's cost with no traffic, and how long the CLI takes to start.
 * Results: a table on stdout and bench/data/capture-last-run.json.
 *
 * PERISCOPE_BENCH_QUERIES (default 1,500,000) queries per load; PERISCOPE_BENCH_CLIENTS
 * (default "1,8") the client counts; PERISCOPE_BENCH_ROTATE (default 100MB).
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureManifest } from '../capture/manifest.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/periscope.js');
const TICK = 100; // clock ticks per second (Linux USER_HZ)

interface Sample {
  cpu: number;
  rss: number;
}

async function sample(pid: number): Promise<Sample | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    return { cpu: (Number(f[11]) + Number(f[12])) / TICK, rss };
  } catch {
    return null;
  }
}

/** CPU seconds used and peak RSS of a process between start() and stop(). */
function watch(pid: number): { start: () => Promise<void>; stop: () => Promise<{ cpu: number; peakRss: number }> } {
  let first: Sample | null = null;
  let last: Sample | null = null;
  let peak = 0;
  let timer: NodeJS.Timeout | null = null;
  const take = async (): Promise<void> => {
    const s = await sample(pid);
    if (s) {
      last = s;
      peak = Math.max(peak, s.rss);
    }
  };
  return {
    start: async () => {
      first = await sample(pid);
      timer = setInterval(() => void take(), 500);
    },
    stop: async () => {
      clearInterval(timer!);
      await take();
      return { cpu: last && first ? last.cpu - first.cpu : NaN, peakRss: peak };
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForPid(dir: string): Promise<{ pid: number; tcpdumpPid: number }> {
  for (let i = 0; i < 200; i++) {
    try {
      const p = JSON.parse(await readFile(join(dir, 'capture.pid'), 'utf8')) as { pid: number; tcpdumpPid: number | null };
      const m = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
      if (p.tcpdumpPid !== null && m.ended.reason === 'running') return { pid: p.pid, tcpdumpPid: p.tcpdumpPid };
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`the capture in ${dir} did not start`);
}

interface LoadResult {
  clients: number;
  queries: number;
  seconds: number;
  qps: number;
  node: { cpuSec: number; cpuPct: number; peakRssMiB: number };
  tcpdump: { cpuSec: number; cpuPct: number; peakRssMiB: number };
  packets: number | null;
  droppedByKernel: number | null;
  files: number;
  bytes: number;
}

const MiB = 1024 * 1024;
const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

async function slap(): Promise<string> {
  for (const c of ['mariadb-slap', 'mysqlslap']) if ((await execa('sh', ['-c', `command -v ${c}`], { reject: false })).exitCode === 0) return c;
  throw new Error('mariadb-slap (or mysqlslap) is needed: apt-get install mariadb-client');
}

async function main(): Promise<void> {
  const e = process.env;
  const queries = Number(e.PERISCOPE_BENCH_QUERIES ?? 1_500_000);
  const clientsList = (e.PERISCOPE_BENCH_CLIENTS ?? '1,8').split(',').map(Number);
  const rotate = e.PERISCOPE_BENCH_ROTATE ?? '100MB';
  const db = { host: e.PERISCOPE_MYSQL_HOST ?? '127.0.0.1', port: e.PERISCOPE_MYSQL_PORT ?? '3306', user: e.PERISCOPE_MYSQL_USER ?? 'periscope', password: e.PERISCOPE_MYSQL_PASSWORD ?? 'periscope', database: e.PERISCOPE_MYSQL_DATABASE ?? 'periscope_test' };
  const tmp = await mkdtemp(join(tmpdir(), 'periscope-bench-capture-'));
  // The password goes in a 0600 option file, never on a command line.
  const cnf = join(tmp, 'client.cnf');
  await writeFile(cnf, `[client]\nuser=${db.user}\npassword=${db.password}\nhost=${db.host}\nport=${db.port}\n`, { mode: 0o600 });
  const slapCmd = await slap();
  const results: LoadResult[] = [];
  try {
    // The watch loop alone: 20 s of capture with no traffic on its port.
    const idleDir = join(tmp, 'idle');
    const idle = execa(process.execPath, [bin, 'capture', '-o', idleDir, '-i', 'lo', '-p', '9', '--duration', '25s'], { reject: false });
    const ip = await waitForPid(idleDir);
    await sleep(2000);
    const iw = watch(ip.pid);
    await iw.start();
    await sleep(20_000);
    const idleNode = await iw.stop();
    await idle;

    for (const clients of clientsList) {
      const dir = join(tmp, `load-${clients}`);
      const cap = execa(process.execPath, [bin, 'capture', '-o', dir, '-i', 'lo', '-p', db.port, '--rotate-size', rotate], { reject: false });
      const p = await waitForPid(dir);
      const wn = watch(p.pid);
      const wt = watch(p.tcpdumpPid);
      await Promise.all([wn.start(), wt.start()]);
      const t0 = process.hrtime.bigint();
      const r = await execa(slapCmd, [`--defaults-extra-file=${cnf}`, `--create-schema=${db.database}`, '--no-drop', `--concurrency=${clients}`, '--iterations=1', `--number-of-queries=${queries}`, '--query=SELECT 1'], { reject: false });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.exitCode !== 0) throw new Error(`${slapCmd} failed: ${String(r.stderr)}`);
      const [n, t] = await Promise.all([wn.stop(), wt.stop()]);
      await execa(process.execPath, [bin, 'capture', '--stop', dir]);
      await cap;
      const m = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
      results.push({
        clients,
        queries,
        seconds: round(seconds, 2),
        qps: Math.round(queries / seconds),
        node: { cpuSec: round(n.cpu, 2), cpuPct: round((100 * n.cpu) / seconds), peakRssMiB: round(n.peakRss / MiB) },
        tcpdump: { cpuSec: round(t.cpu, 2), cpuPct: round((100 * t.cpu) / seconds), peakRssMiB: round(t.peakRss / MiB) },
        packets: m.packets.captured,
        droppedByKernel: m.packets.droppedByKernel,
        files: m.files.length,
        bytes: m.files.reduce((s, f) => s + f.bytes, 0),
      });
      await rm(dir, { recursive: true, force: true });
    }

    // Start-up: the CLI's own, with and without the capture module (best of 10).
    const startup: Record<string, number> = {};
    const statusDir = join(tmp, 'startup');
    await mkdir(statusDir);
    await writeFile(join(statusDir, 'capture.json'), await readFile(join(idleDir, 'capture.json')));
    for (const [name, args] of [
      ['info --help', ['info', '--help']],
      ['capture --help', ['capture', '--help']],
      ['capture --status DIR', ['capture', '--status', statusDir]],
    ] as const) {
      let best = Infinity;
      for (let i = 0; i < 10; i++) {
        const t0 = process.hrtime.bigint();
        await execa(process.execPath, [bin, ...args], { reject: false });
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      startup[name] = Math.round(best);
    }

    const idleOut = { seconds: 20, nodeCpuSec: round(idleNode.cpu, 2), nodeCpuPct: round((100 * idleNode.cpu) / 20, 2), nodePeakRssMiB: round(idleNode.peakRss / MiB) };
    console.log(`periscope capture under ${slapCmd} load (SELECT 1 on 127.0.0.1:${db.port}, --rotate-size ${rotate})`);
    console.log('clients  queries    seconds  qps      node cpu        node rss  tcpdump cpu     tcpdump rss  packets    kernel drops  files  MB');
    for (const x of results) {
      console.log(
        `${String(x.clients).padEnd(8)} ${String(x.queries).padEnd(10)} ${String(x.seconds).padEnd(8)} ${String(x.qps).padEnd(8)} ${`${x.node.cpuSec} s (${x.node.cpuPct} %)`.padEnd(15)} ${`${x.node.peakRssMiB} MiB`.padEnd(9)} ${`${x.tcpdump.cpuSec} s (${x.tcpdump.cpuPct} %)`.padEnd(15)} ${`${x.tcpdump.peakRssMiB} MiB`.padEnd(12)} ${String(x.packets).padEnd(10)} ${String(x.droppedByKernel).padEnd(13)} ${String(x.files).padEnd(6)} ${round(x.bytes / 1e6)}`,
      );
    }
    console.log(`idle (no traffic, 20 s): node ${idleOut.nodeCpuSec} s CPU (${idleOut.nodeCpuPct} %), ${idleOut.nodePeakRssMiB} MiB`);
    console.log(`start-up, best of 10: ${Object.entries(startup).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    const commit = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, reject: false })).stdout;
    await mkdir(join(root, 'bench/data'), { recursive: true });
    await writeFile(join(root, 'bench/data/capture-last-run.json'), `${JSON.stringify({ commit, at: new Date().toISOString(), tool: slapCmd, rotate, loads: results, idle: idleOut, startupMs: startup }, null, 2)}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();

/**
 * `npm run bench -- --only live` (issue 19: "live keeps up with 50,000 queries/s on loopback with
 * no kernel drop"): `periscope live -i lo` while sysbench `oltp_point_select` (16 threads,
 * server-side prepared primary-key lookups) runs against the test MariaDB paced to 50,000 queries/s (sysbench --rate, PERISCOPE_BENCH_LIVE_RATE), and where the
 * CPU went: mariadbd, sysbench, live's tcpdump and live's Node process, from /proc/PID/stat
 * (user + system) between the start and the end of the load.
 *
 * Each variant runs PERISCOPE_BENCH_LIVE_REPEAT times (default 2), PERISCOPE_BENCH_LIVE_SECONDS
 * of load each (default 8):
 *   default  `periscope live -i lo -p 3306 -f json -o REPORT`, as a user would run it;
 *   nice     the same under `nice -n -10` (live and its tcpdump at a higher scheduling priority
 *            than the server and the load; root only);
 *   B256     the same with `-B 256MiB` (a kernel ring four times the default).
 * PERISCOPE_BENCH_LIVE_VARIANTS picks some ("default,nice,B256"). The commands live saw must equal the
 * server's Com_stmt_execute + Com_select of plain queries over the run (SHOW GLOBAL STATUS before
 * and after, outside live's window), and tcpdump's kernel drops are read from live's report.
 *
 * Real tcpdump and MariaDB: run under `flock /tmp/periscope-live.lock` (taken here unless an
 * ancestor holds it already). As a child: `node build/bench/live.js OUT.json`.
 */
import { execa } from 'execa';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveUnavailable, mysqlSettings } from '../test/live/env.js';
import { lockHeldByAncestor, LIVE_LOCK } from './sysbench.js';
import { withServer } from './sysbench-record.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'periscope.js');
export const TARGET_LIVE_QPS = 50_000;
const THREADS = 16;

export interface LiveRun {
  variant: string;
  seconds: number;
  /** sysbench's queries per second. */
  qps: number;
  /** Statements the server executed during the run (Com_stmt_execute delta). */
  executed: number;
  /** Statement executions in live's report. */
  seen: number;
  kernelDrops: number | null;
  packets: number;
  health: string;
  /** CPU seconds (user + system) over the load, per process. */
  cpu: { mariadbd: number; sysbench: number; tcpdump: number; live: number };
  /** sysbench stopped early: the host could not serve the rate asked (qps is then the server's count over the wall time). */
  generatorGaveUp: boolean;
  /** live's Node CPU seconds from its start to its end (start-up, catching up, the report). */
  liveTotalCpu: number;
  load: number;
}

export interface LiveBenchResult {
  skipped: string | null;
  /** The measurement itself failed (not a missed target). */
  failed?: boolean;
  runs: LiveRun[];
  targets: { name: string; shown: string; pass: boolean; value?: number }[];
}

/** How live is run in each variant: a command before it, options after `live`. */
const VARIANTS: Record<string, { prefix: string[]; extra: string[]; shown: string }> = {
  default: { prefix: [], extra: [], shown: 'as run by default (-B 64MiB)' },
  nice: { prefix: ['nice', '-n', '-10'], extra: [], shown: 'under nice -n -10' },
  B256: { prefix: [], extra: ['-B', '256MiB'], shown: 'with -B 256MiB' },
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) of a process so far; 0 once it is gone. */
function cpuOf(pid: number | null): number {
  if (pid === null) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return 0;
  }
}

/** The first process whose command name is `comm` (and, with `parent`, whose parent it is). */
function pidOf(comm: string, parent?: number): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && (parent === undefined || ppid === parent)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

const executedSoFar = (): Promise<number> =>
  withServer(async (c) => {
    const [rows] = await c.query("SHOW GLOBAL STATUS WHERE Variable_name = 'Com_stmt_execute'");
    return Number((rows as { Value: string }[])[0]!.Value);
  });

interface Report {
  health: { status: string; counters: { packets: number; kernelDrops: number } };
  fingerprints: { commands: Record<string, number> }[];
}

async function oneRun(variant: string, seconds: number, rate: number, cfg: string, dir: string, log: (l: string) => void): Promise<LiveRun> {
  const out = join(dir, `live-${variant}.json`);
  rmSync(out, { force: true });
  const before = await executedSoFar();
  const { prefix, extra } = VARIANTS[variant]!;
  const argv = [...prefix, process.execPath, BIN, 'live', ...extra, '-i', 'lo', '-p', String(mysqlSettings().port), '-d', String(seconds + 4), '-f', 'json', '-o', out];
  const live = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const listening = new Promise<void>((resolve, reject) => {
    live.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    live.on('close', (code) => reject(new Error(`periscope live exited (${code}) before listening:\n${stderr}`)));
  });
  const closed = new Promise<number>((resolve) => live.on('close', (code) => resolve(code ?? 1)));
  await listening;
  await sleep(500);
  // `nice` execs node: the live process is live.pid either way; its tcpdump is its child.
  const tcpdump = pidOf('tcpdump', live.pid);
  const mariadbd = pidOf('mariadbd') ?? pidOf('mysqld');
  // Paced to the target rate (one query per sysbench event here): unpaced, 16 threads did 85,000–
  // 99,000 queries/s and left live nothing of the 2 cores.
  const sb = spawn('sysbench', [`--config-file=${cfg}`, 'oltp_point_select', '--tables=4', '--table-size=10000', 'run', `--threads=${THREADS}`, `--time=${seconds}`, `--rate=${rate}`, '--report-interval=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let sbOut = '';
  sb.stdout!.on('data', (d: Buffer) => (sbOut += d.toString()));
  sb.stderr!.on('data', (d: Buffer) => (sbOut += d.toString()));
  const c0 = { mariadbd: cpuOf(mariadbd), tcpdump: cpuOf(tcpdump), live: cpuOf(live.pid ?? null) };
  const t0 = performance.now();
  // sysbench's own CPU, sampled until it exits (its /proc entry goes with it).
  let sbCpu = 0;
  const sampler = setInterval(() => (sbCpu = Math.max(sbCpu, cpuOf(sb.pid ?? null))), 100);
  const sbCode = await new Promise<number>((resolve) => sb.on('close', (code) => resolve(code ?? 1)));
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const c1 = { mariadbd: cpuOf(mariadbd), tcpdump: cpuOf(tcpdump), live: cpuOf(live.pid ?? null) };
  // With --rate, sysbench gives up when the host cannot serve the rate ("The event queue is
  // full"): a figure of this run (the rate the host served is counted by the server), not a failure.
  const gaveUp = sbCode !== 0 && /event queue is full/.test(sbOut);
  if (sbCode !== 0 && !gaveUp) throw new Error(`sysbench oltp_point_select run failed (${sbCode}):\n${sbOut.slice(-1500)}`);
  // live's CPU to its end (it may catch up after the load), sampled until it exits.
  let liveTotal = c1.live;
  const liveSampler = setInterval(() => (liveTotal = Math.max(liveTotal, cpuOf(live.pid ?? null))), 100);
  const liveCode = await closed;
  clearInterval(liveSampler);
  if (liveCode !== 0) throw new Error(`periscope live exited with ${liveCode}:\n${stderr.slice(-1500)}`);
  const after = await executedSoFar();
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const seen = report.fingerprints.reduce((a, f) => a + (f.commands.stmt_execute ?? 0), 0);
  const executed = after - before;
  const qps = gaveUp ? executed / wall : Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(sbOut)?.[1] ?? NaN);
  const run: LiveRun = {
    variant,
    seconds: wall,
    qps,
    // The second SHOW GLOBAL STATUS is not a prepared statement: nothing but sysbench in the delta.
    executed,
    generatorGaveUp: gaveUp,
    seen,
    kernelDrops: report.health.counters.kernelDrops ?? null,
    packets: report.health.counters.packets,
    health: report.health.status,
    cpu: { mariadbd: c1.mariadbd - c0.mariadbd, sysbench: sbCpu, tcpdump: c1.tcpdump - c0.tcpdump, live: c1.live - c0.live },
    liveTotalCpu: liveTotal,
    load: loadavg()[0]!,
  };
  log(`  ${variant.padEnd(8)} ${run.qps.toFixed(0)} q/s${gaveUp ? ' (sysbench gave up: the host could not serve the rate)' : ''}, live saw ${run.seen.toLocaleString('en-US')} of ${run.executed.toLocaleString('en-US')} executions, kernel drops ${run.kernelDrops ?? '?'}; CPU s: mariadbd ${run.cpu.mariadbd.toFixed(2)}, sysbench ${run.cpu.sysbench.toFixed(2)}, tcpdump ${run.cpu.tcpdump.toFixed(2)}, live ${run.cpu.live.toFixed(2)} (load ${run.load.toFixed(1)})`);
  return run;
}

/** The measurement itself (in the child, under the lock). */
export async function measureLive(log: (l: string) => void): Promise<LiveBenchResult> {
  const why = await liveUnavailable();
  if (why !== null) return { skipped: why, runs: [], targets: [] };
  const variants = (process.env.PERISCOPE_BENCH_LIVE_VARIANTS ?? 'default,nice,B256').split(',').filter((v) => v !== '');
  const bad = variants.filter((v) => VARIANTS[v] === undefined);
  if (bad.length > 0) throw new Error(`PERISCOPE_BENCH_LIVE_VARIANTS: ${bad.join(', ')}: expected some of ${Object.keys(VARIANTS).join(', ')}`);
  const repeat = Math.max(1, Math.floor(Number(process.env.PERISCOPE_BENCH_LIVE_REPEAT ?? 2)));
  const seconds = Math.max(2, Number(process.env.PERISCOPE_BENCH_LIVE_SECONDS ?? 8));
  const rate = Math.max(1, Math.floor(Number(process.env.PERISCOPE_BENCH_LIVE_RATE ?? TARGET_LIVE_QPS)));
  const s = mysqlSettings();
  const dir = mkdtempSync(join(tmpdir(), 'periscope-bench-live-'));
  const cfg = join(dir, 'sysbench.cfg');
  // The password in a 0600 file, never on a command line.
  writeFileSync(cfg, `db-driver=mysql\nmysql-host=${s.host}\nmysql-port=${s.port}\nmysql-user=${s.user}\nmysql-password=${s.password}\nmysql-db=${s.database}\n`, { mode: 0o600 });
  const sysbench = (cmd: string) => execa('sysbench', [`--config-file=${cfg}`, 'oltp_point_select', '--tables=4', '--table-size=10000', cmd], { reject: false, all: true });
  const runs: LiveRun[] = [];
  try {
    await sysbench('cleanup');
    const p = await sysbench('prepare');
    if (p.exitCode !== 0) throw new Error(`sysbench prepare failed:\n${String(p.all).slice(-1500)}`);
    for (let i = 0; i < repeat; i++) for (const v of variants) runs.push(await oneRun(v, seconds, rate, cfg, dir, log));
  } finally {
    await sysbench('cleanup');
    rmSync(dir, { recursive: true, force: true });
  }
  const targets = variants.map((v) => {
    const rs = runs.filter((r) => r.variant === v);
    const ok = rs.filter((r) => r.qps >= TARGET_LIVE_QPS && r.kernelDrops === 0 && r.seen === r.executed);
    return {
      name: `live keeps up with ${TARGET_LIVE_QPS.toLocaleString('en-US')} queries/s on loopback with no kernel drop (${VARIANTS[v]!.shown}; every run)`,
      shown: rs.map((r) => `${r.qps.toFixed(0)} q/s: ${r.kernelDrops ?? '?'} drops, ${((100 * r.seen) / Math.max(1, r.executed)).toFixed(1)} % seen`).join('; '),
      pass: rs.length > 0 && ok.length === rs.length,
    };
  });
  return { skipped: null, runs, targets };
}

/** The section: the measurement in a child process, under the lock. */
export async function runLiveBench(log: (l: string) => void): Promise<LiveBenchResult> {
  if (spawnSync('sh', ['-c', 'command -v sysbench'], { encoding: 'utf8' }).stdout.trim() === '') return { skipped: 'sysbench not found (apt-get install sysbench)', runs: [], targets: [] };
  const dir = mkdtempSync(join(tmpdir(), 'periscope-bench-live-out-'));
  const out = join(dir, 'result.json');
  const script = fileURLToPath(import.meta.url);
  const argv = lockHeldByAncestor(LIVE_LOCK) ? [process.execPath, script, out] : ['flock', LIVE_LOCK, process.execPath, script, out];
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      log(`  the live measurement failed (exit ${code}, the line above says why)`);
      return { skipped: null, failed: true, runs: [], targets: [] };
    }
    return JSON.parse(readFileSync(out, 'utf8')) as LiveBenchResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printLiveResult(r: LiveBenchResult, table: (headers: string[], rows: string[][], leftColumns?: number) => string, log: (l: string) => void): void {
  if (r.skipped !== null) {
    log(`  SKIPPED: ${r.skipped}`);
    return;
  }
  const pct = (cpu: number, wall: number): string => `${((100 * cpu) / wall).toFixed(0)} %`;
  log(
    table(
      ['variant', 'q/s', 'executed', 'live saw', 'kernel drops', 'mariadbd', 'sysbench', 'tcpdump', 'live (Node)', 'live µs CPU/query (whole run)', 'load'],
      r.runs.map((x) => [
        x.variant,
        `${x.qps.toFixed(0)}${x.generatorGaveUp ? '*' : ''}`,
        x.executed.toLocaleString('en-US'),
        x.seen.toLocaleString('en-US'),
        String(x.kernelDrops ?? '?'),
        pct(x.cpu.mariadbd, x.seconds),
        pct(x.cpu.sysbench, x.seconds),
        pct(x.cpu.tcpdump, x.seconds),
        pct(x.cpu.live, x.seconds),
        x.seen > 0 ? ((x.liveTotalCpu / x.seen) * 1e6).toFixed(1) : '-',
        x.load.toFixed(1),
      ]),
    ),
  );
  if (r.runs.some((x) => x.generatorGaveUp)) log('  * sysbench gave up (the host could not serve the rate asked): queries/s is the server\'s count over the time it ran.');
  log(`  CPU as a share of one core over the load (${availableParallelism()} cores in all); live's µs per query: its Node process's CPU from start to exit over the statements it saw.`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node build/bench/live.js OUT.json');
    process.exitCode = 2;
  } else {
    try {
      const r = await measureLive((l) => console.log(l));
      writeFileSync(out, JSON.stringify(r));
    } catch (e) {
      console.error(`live measurement failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
}

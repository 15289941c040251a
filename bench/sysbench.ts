/**
 * `npm run bench -- --only sysbench` (issue 19): Periscope on a real recorded capture, beside the
 * synthetic one of the analyze section. sysbench `oltp_read_write` against MariaDB on loopback,
 * 4 threads, 20 s, recorded once by bench/sysbench-record.ts (real tcpdump on lo, under
 * `flock /tmp/periscope-live.lock` unless an ancestor holds it already) into
 * bench/data/sysbench-oltp-rw-4t-20s.pcap with its sidecar .meta.json, and reused while the
 * sidecar matches (PERISCOPE_BENCH_SYSBENCH_RECORD=1 records again). Without sysbench, tcpdump
 * or a reachable MariaDB the section prints why and is skipped.
 *
 * On it, PERISCOPE_BENCH_SYSBENCH_REPS times (default 3), round-robin, each a child process under
 * GNU time (bench/analyze.ts's `measure`): `analyze --threads 1`, `analyze --threads 2`, `events`
 * (JSON lines to a file), the bare record walk (`build/bench/run.js --contender bare`); tshark once
 * (`-Y mysql.query`, as the issue measured; PERISCOPE_BENCH_PERISCOPE_ONLY=1 leaves it out).
 * Issue 19's targets are printed PASS/FAIL for this capture, with the same definitions as the
 * analyze section.
 *
 * The decode is checked against the server, not against Periscope itself: the per-fingerprint
 * counts of `analyze --format json`, summed by statement kind, must equal the server's counters
 * taken just before and after the recording (Com_select, Com_insert, Com_update, Com_delete,
 * Com_begin, Com_commit, Com_rollback, Com_stmt_execute, Com_stmt_prepare, Com_stmt_close,
 * Rows_sent, Connections), and sysbench's own summary (reads, writes, other, transactions,
 * ignored errors). A difference fails the bench (exit code 1), like a wrong count elsewhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { lineOf, measure, warmPageCache, TARGET_ANALYZE_RSS_MB, TARGET_ANALYZE_VS_BARE, TARGET_EVENTS_VS_ANALYZE, TARGET_RSS_PER_THREAD_MB, TARGET_THREADS2_SPEEDUP, type Line, type Run } from './analyze.js';
import { existingSysbenchCapture, SYSBENCH_WORKLOAD, type SysbenchMeta } from './sysbench-record.js';
import type { ReportFingerprint } from './truth.js';

export const LIVE_LOCK = '/tmp/periscope-live.lock';
const CAPTURE_NAME = `sysbench-oltp-rw-${SYSBENCH_WORKLOAD.threads}t-${SYSBENCH_WORKLOAD.seconds}s.pcap`;

export interface DecodeCheck {
  name: string;
  /** What the server (or sysbench) counted. */
  expected: number;
  /** What Periscope's report adds up to. */
  reported: number;
}

export interface SysbenchBenchResult {
  /** Why the section did not run (a tool or the server missing); null when it ran. */
  skipped: string | null;
  capture: (Omit<SysbenchMeta, 'sysbenchOutput'> & { path: string; reused: boolean }) | null;
  loadBefore: number[];
  loadAfter: number[];
  lines: Line[];
  checks: DecodeCheck[];
  targets: { name: string; shown: string; pass: boolean; value?: number }[];
  failed: boolean;
}

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() !== '';

/** The parent of a process, from /proc (null when unknown). */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : null;
  } catch {
    return null;
  }
}

/**
 * Whether this process or one of its ancestors holds the flock on `path` (from /proc/locks): then
 * the recording runs as it is (taking the lock again would wait for ourselves); otherwise it runs
 * under `flock path`.
 */
export function lockHeldByAncestor(path: string): boolean {
  let ino: number;
  let locks: string;
  try {
    ino = statSync(path).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  const holders = new Set<number>();
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 3578 fe:00:2146938 0 EOF"; waiters have "->" after the number.
    const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[2]) === ino) holders.add(Number(m[1]));
  }
  for (let pid: number | null = process.pid; pid !== null && pid > 1; pid = parentOf(pid)) if (holders.has(pid)) return true;
  return false;
}

/** Record the capture in a child (under the lock); resolves with its exit code. */
function record(root: string, pcap: string, log: (line: string) => void): Promise<number> {
  const script = join(root, 'build', 'bench', 'sysbench-record.js');
  const locked = lockHeldByAncestor(LIVE_LOCK);
  const argv = locked ? [process.execPath, script, pcap] : ['flock', LIVE_LOCK, process.execPath, script, pcap];
  log(`  recording ${relative(process.cwd(), pcap)} (${locked ? 'the lock is held by this run' : `waiting for ${LIVE_LOCK}`})…`);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** The statement kind of a fingerprint: its first word (`select`, `begin`, …). */
const kindOf = (fp: string): string => /^\s*(\w+)/.exec(fp)?.[1]?.toLowerCase() ?? '';

/** Periscope's report summed up against the server's counters and sysbench's summary. */
export function decodeChecks(meta: SysbenchMeta, fps: readonly ReportFingerprint[]): DecodeCheck[] {
  const st = (k: string): number => meta.status[k] ?? 0;
  const sum = (f: (x: ReportFingerprint) => number, kinds?: readonly string[]): number => fps.filter((x) => kinds === undefined || kinds.includes(kindOf(x.fingerprint))).reduce((a, x) => a + f(x), 0);
  const count = (kinds: readonly string[]): number => sum((x) => x.count, kinds);
  const errors = (x: ReportFingerprint): number => Object.values(x.errors_by_code ?? {}).reduce((a, b) => a + b, 0);
  const command = (c: string) => (x: ReportFingerprint): number => x.commands[c] ?? 0;
  const checks: DecodeCheck[] = [];
  for (const k of ['select', 'insert', 'update', 'delete', 'begin', 'commit', 'rollback']) checks.push({ name: `server Com_${k}`, expected: st(`Com_${k}`), reported: count([k]) });
  for (const c of ['execute', 'prepare', 'close']) checks.push({ name: `server Com_stmt_${c}`, expected: st(`Com_stmt_${c}`), reported: sum(command(`stmt_${c}`)) });
  checks.push({ name: 'server Rows_sent (less the first SHOW GLOBAL STATUS)', expected: st('Rows_sent') - meta.statusRows, reported: sum((x) => x.rows_sent.sum) });
  checks.push({ name: 'server Connections (less the second SHOW GLOBAL STATUS)', expected: st('Connections') - 1, reported: sum(command('connect')) });
  const c = meta.counts;
  const writes = ['insert', 'update', 'delete'];
  checks.push({ name: 'sysbench reads', expected: c.reads, reported: count(['select']) });
  // sysbench counts a statement once it succeeded: the ones that failed (deadlocks) are left out.
  checks.push({ name: 'sysbench writes (succeeded)', expected: c.writes, reported: count(writes) - sum(errors, writes) });
  checks.push({ name: 'sysbench other (BEGIN, COMMIT)', expected: c.other, reported: count(['begin', 'commit', 'rollback']) - sum(errors, ['begin', 'commit', 'rollback']) });
  checks.push({ name: 'sysbench transactions', expected: c.transactions, reported: count(['commit']) - sum(errors, ['commit']) });
  checks.push({ name: 'sysbench ignored errors', expected: c.ignoredErrors, reported: sum(errors) });
  return checks;
}

interface AnalyzeJson {
  health: { status: string; notes: string[] };
  fingerprints: ReportFingerprint[];
}

export async function runSysbenchBench(opts: { root: string; dataDir: string; reps: number; log: (line: string) => void }): Promise<SysbenchBenchResult> {
  const { root, dataDir, log } = opts;
  const pcap = join(dataDir, CAPTURE_NAME);
  const none = (skipped: string): SysbenchBenchResult => ({ skipped, capture: null, loadBefore: [], loadAfter: [], lines: [], checks: [], targets: [], failed: false });
  let meta = process.env.PERISCOPE_BENCH_SYSBENCH_RECORD === '1' ? null : existingSysbenchCapture(pcap);
  const reused = meta !== null;
  if (meta === null) {
    const missing = ['sysbench', 'tcpdump', 'flock'].filter((c) => !onPath(c));
    if (missing.length > 0) return none(`${missing.join(', ')} not found (apt-get install sysbench tcpdump; MariaDB on 127.0.0.1:3306, see .ci/run)`);
    const code = await record(root, pcap, log);
    if (code === 3) return none('MariaDB or tcpdump is not usable here (the line above says why)');
    if (code !== 0) return { ...none('the recording failed (above)'), failed: true };
    meta = existingSysbenchCapture(pcap);
    if (meta === null) return { ...none('the recording wrote no usable capture'), failed: true };
  }
  const show = relative(process.cwd(), pcap) || pcap;
  const w = meta.workload;
  log(
    `Capture: ${show}  ${(meta.size / 1e6).toFixed(1)} MB, ${meta.tcpdumpStats.captured.toLocaleString('en-US')} packets (kernel drops ${meta.tcpdumpStats.droppedByKernel ?? '?'}), ` +
      `${meta.counts.total.toLocaleString('en-US')} queries in ${meta.counts.transactions.toLocaleString('en-US')} transactions: ${meta.sysbench.split(' (')[0]} ${w.test}, ${w.threads} threads, ${w.seconds} s, ` +
      `${w.tables} tables × ${w.tableSize.toLocaleString('en-US')} rows, MariaDB ${meta.server}, recorded ${meta.recordedAt}${reused ? ' (reused)' : ''}`,
  );

  const bin = join(root, 'bin', 'periscope.js');
  const scratch = join(dataDir, 'sysbench-out');
  mkdirSync(scratch, { recursive: true });
  warmPageCache([pcap]);
  const loadBefore = loadavg();
  const analyze = (out: string, threads: number): string[] => [process.execPath, bin, 'analyze', pcap, '--format', 'json', '-q', '-o', out, '--threads', String(threads)];
  const oneOut = join(scratch, 'analyze-1.json');
  const twoOut = join(scratch, 'analyze-2.json');
  const eventsOut = join(scratch, 'events.jsonl');
  const bare = [process.execPath, join(root, 'build', 'bench', 'run.js'), '--contender', 'bare', pcap];
  const one: Run[] = [];
  const two: Run[] = [];
  const events: Run[] = [];
  const bareRuns: Run[] = [];
  for (let rep = 1; rep <= opts.reps; rep++) {
    const a = await measure(analyze(oneOut, 1), null, scratch);
    one.push(a);
    const b = await measure(analyze(twoOut, 2), null, scratch);
    two.push(b);
    const e = await measure([process.execPath, bin, 'events', pcap], eventsOut, scratch);
    events.push(e);
    const z = await measure(bare, null, scratch);
    bareRuns.push(z);
    const f = (r: Run): string => `${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds?.toFixed(2) ?? '?'})`;
    log(`  run ${rep}/${opts.reps}  analyze ${f(a)}  --threads 2 ${f(b)}  events ${f(e)}  bare ${f(z)}`);
  }
  const report = JSON.parse(readFileSync(oneOut, 'utf8')) as AnalyzeJson;
  const checks = decodeChecks(meta, report.fingerprints);
  const sameTwo = readFileSync(twoOut, 'utf8') === readFileSync(oneOut, 'utf8');
  const eventLines = readFileSync(eventsOut, 'latin1').split('\n').length - 1;
  const lines: Line[] = [
    lineOf('periscope analyze --threads 1', 'sysbench', meta.size, one, `${report.fingerprints.length} fingerprints, health ${report.health.status}`),
    lineOf('periscope analyze --threads 2', 'sysbench', meta.size, two, sameTwo ? 'report identical to one thread' : 'REPORT DIFFERS from one thread'),
    lineOf('periscope events (JSON lines)', 'sysbench', meta.size, events, `${eventLines.toLocaleString('en-US')} events, ${(statSync(eventsOut).size / 1e6).toFixed(0)} MB`),
    lineOf('bare record walk (readSync 4 MiB, whole process)', 'sysbench', meta.size, bareRuns, 'floor: no decoding'),
  ];
  if (process.env.PERISCOPE_BENCH_PERISCOPE_ONLY !== '1' && onPath('tshark')) {
    log('  tshark -Y mysql.query on the capture (one run)…');
    const out = join(scratch, 'tshark.txt');
    const t = await measure(['tshark', '-n', '-r', pcap, '-Y', 'mysql.query', '-T', 'fields', '-e', 'mysql.command'], out, scratch);
    const n = readFileSync(out, 'latin1').split('\n').filter((l) => l !== '').length;
    lines.push(lineOf('tshark -Y mysql.query -T fields', 'sysbench', meta.size, [t], `${n.toLocaleString('en-US')} packets with mysql.query (prepared statements: their text is in the prepares only)`));
  }
  const loadAfter = loadavg();

  const minCpu = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.cpuSeconds ?? NaN));
  const minUser = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.userSeconds ?? NaN));
  const best = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.seconds));
  const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const vsBare = minCpu(one) / minCpu(bareRuns);
  const eventsVs = minCpu(events) / minCpu(one);
  const speedup = best(one) / best(two);
  const rssOf = (runs: readonly Run[]): number => Math.max(...runs.map((r) => r.maxRssMB ?? NaN));
  const rssOne = rssOf(one);
  const rssTwo = rssOf(two);
  const wrong = checks.filter((c) => c.expected !== c.reported);
  const targets = [
    { name: `sysbench capture: analyze, 1 thread ≤ ${TARGET_ANALYZE_VS_BARE}× the bare record walk (CPU user + system)`, value: vsBare, shown: `${fmt(vsBare, 2)}× (user CPU ${fmt(minUser(one) / minUser(bareRuns), 1)}×, wall ${fmt(best(one) / best(bareRuns), 2)}×)`, pass: vsBare <= TARGET_ANALYZE_VS_BARE },
    { name: `sysbench capture: events (JSON lines) ≤ ${TARGET_EVENTS_VS_ANALYZE}× analyze (CPU user + system)`, value: eventsVs, shown: `${fmt(eventsVs, 2)}× (wall ${fmt(best(events) / best(one), 2)}×)`, pass: eventsVs <= TARGET_EVENTS_VS_ANALYZE },
    {
      name: `sysbench capture: analyze --threads 2 ≥ ${TARGET_THREADS2_SPEEDUP}× faster than 1 thread (wall; load average ${fmt(loadAfter[0]!, 1)} on ${availableParallelism()} cores)`,
      value: speedup,
      shown: `${fmt(speedup, 2)}× (CPU ${fmt(minCpu(two), 2)} s against ${fmt(minCpu(one), 2)} s)`,
      pass: speedup >= TARGET_THREADS2_SPEEDUP,
    },
    { name: `sysbench capture: peak RSS ≤ ${TARGET_ANALYZE_RSS_MB} MB at 1 thread, ≤ +${TARGET_RSS_PER_THREAD_MB} MB per extra thread`, value: rssOne, shown: `${fmt(rssOne)} MB, --threads 2 ${fmt(rssTwo)} MB (+${fmt(rssTwo - rssOne)})`, pass: rssOne <= TARGET_ANALYZE_RSS_MB && rssTwo - rssOne <= TARGET_RSS_PER_THREAD_MB },
    {
      name: 'sysbench capture: statements by kind, rows sent and connections equal to the server\'s counters and sysbench\'s summary; --threads 2 report identical',
      shown: wrong.length === 0 && sameTwo ? `${checks.length}/${checks.length} equal, health ${report.health.status}` : `${wrong.map((c) => `${c.name}: ${fmt(c.reported)} reported, ${fmt(c.expected)} expected`).join('; ')}${sameTwo ? '' : '; --threads 2 report differs'}`,
      pass: wrong.length === 0 && sameTwo,
    },
  ];
  const { sysbenchOutput: _omitted, ...described } = meta;
  return {
    skipped: null,
    capture: { ...described, path: relative(root, pcap), reused },
    loadBefore,
    loadAfter,
    lines,
    checks,
    targets,
    failed: wrong.length > 0 || !sameTwo || report.health.status !== 'good',
  };
}

export function printSysbenchResult(r: SysbenchBenchResult, table: (headers: string[], rows: string[][], leftColumns?: number) => string, log: (line: string) => void): void {
  if (r.skipped !== null) {
    log(`  SKIPPED: ${r.skipped}`);
    return;
  }
  const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const first = r.lines[0]!;
  log(
    table(
      ['contender', 'MB', 'best s', 'all runs s', 'MB/s', 'CPU s (best run)', 'min user s', 'peak RSS MB', 'vs analyze', 'counts'],
      r.lines.map((l) => [
        l.name,
        fmt(l.inputBytes / 1e6, 0),
        fmt(l.best.seconds, 2),
        l.runs.map((x) => fmt(x.seconds, 2)).join(' '),
        fmt(l.mbPerSecond, 0),
        l.best.cpuSeconds === null ? '?' : fmt(l.best.cpuSeconds, 2),
        fmt(Math.min(...l.runs.map((x) => x.userSeconds ?? NaN)), 2),
        l.peakRssMB === null ? '?' : fmt(l.peakRssMB, 0),
        `${fmt(l.best.seconds / first.best.seconds, 2)}×`,
        l.counts,
      ]),
    ),
  );
  log('');
  log('Decode against the server (SHOW GLOBAL STATUS before and after the recording) and sysbench\'s summary:');
  log(
    table(
      ['counter', 'server / sysbench', 'periscope', ''],
      r.checks.map((c) => [c.name, fmt(c.expected), fmt(c.reported), c.expected === c.reported ? 'equal' : 'DIFFERS']),
    ),
  );
  log(`  Load average before ${r.loadBefore.map((x) => fmt(x, 2)).join(' ')}, after ${r.loadAfter.map((x) => fmt(x, 2)).join(' ')} (${availableParallelism()} cores).`);
}


/**
 * The end-to-end benchmark of `periscope analyze` (issue 6, "Measured"): the CLI on a large
 * realistic capture, side by side with tshark and pt-query-digest, with wall time, MB/s of
 * capture, peak RSS, and whether the per-fingerprint counts agree with what the generator wrote.
 *
 * Inputs (bench/synth-mysql.ts, made once in bench/data and reused while their sidecars match):
 *   - the capture, PERISCOPE_BENCH_ANALYZE_MB megabytes (default 1000);
 *   - the slice, PERISCOPE_BENCH_SLICE_MB (default 30): the same generator and seed with a smaller
 *     target, so its first 30 MB are the capture's first 30 MB and its end finishes the commands in
 *     flight and closes the connections; it has its own truth. pt-query-digest reads the tcpdump
 *     text of the slice (its way of reading captures; the text is about 3× the capture);
 *   - the capture split in two by connection (bench/shard.ts), for the two-core estimate.
 * Everything is read once before timing, so it comes from the page cache.
 *
 * Contenders, each a child process under GNU time (/usr/bin/time: peak RSS, CPU time), wall time
 * taken by this process around it:
 *   periscope    node bin/periscope.js analyze FILE --format json -q -o OUT
 *                (PERISCOPE_BENCH_ANALYZE_REPS runs, default 3, best reported; on the slice too)
 *   2 shards     the same on each half of the connections, both at once, each with
 *                --save-summary; then `periscope merge` of the two summaries
 *   tshark       tshark -n -r FILE -Y mysql.query -T fields -e mysql.command -e mysql.query
 *                (decodes MySQL and prints every query; once, on the capture and on the slice)
 *   pt-query-digest  tcpdump -r SLICE -x -n -q -tttt > TEXT, then
 *                pt-query-digest --type tcpdump --output json --limit 1000000 TEXT (once each)
 *
 * Counts: Periscope's JSON per fingerprint against the generator's truth (bench/truth.ts):
 * count, commands, errors, rows sent and affected, full scans. tshark: its COM_QUERY and
 * COM_STMT_PREPARE counts against the truth. pt-query-digest: its classes against the truth in
 * pt-query-digest's own fingerprints: every template's example SQL (prefixed with EXECUTE or
 * PREPARE for prepared statements, as pt-query-digest names those events) goes through
 * pt-query-digest's fingerprint function (its QueryRewriter, run by Perl from the installed
 * script), and the counts are summed per pt fingerprint, with DEALLOCATE PREPARE for
 * COM_STMT_CLOSE and the administrator commands.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { existingMysqlCapture, synthesizeMysqlCapture, type MysqlCaptureMeta } from './synth-mysql.js';
import { compareGroups, expectedGroups, reportedGroups, type Agreement, type ReportFingerprint } from './truth.js';
import { shardCapture } from './shard.js';

export const TARGET_ANALYZE_MBPS = 1000;
export const TARGET_VS_TSHARK = 50;
export const TARGET_VS_PT = 200;
export const TARGET_ANALYZE_RSS_MB = 200;
export const TARGET_ADVISE_VS_ANALYZE = 1.3;
/** Issue 19: analyze on one thread within this many times the bare record walk (CPU time, whole process). */
export const TARGET_ANALYZE_VS_BARE = 3;
/** Issue 19: `events` (JSON lines) within this many times analyze (CPU time). */
export const TARGET_EVENTS_VS_ANALYZE = 1.5;
/** Issue 19: --threads 2 at least this many times faster than one thread (wall time). */
export const TARGET_THREADS2_SPEEDUP = 1.6;
/** Issue 19: peak RSS each extra thread may add, MB. */
export const TARGET_RSS_PER_THREAD_MB = 100;

/** The best wall time of some runs, s. */
const bestOf = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.seconds));
const SEED = 20250303;

/** One child process run. */
export interface Run {
  seconds: number;
  /** User + system CPU seconds (GNU time), null without /usr/bin/time. */
  cpuSeconds: number | null;
  /** Peak RSS in MB (1e6 bytes), null without /usr/bin/time. */
  maxRssMB: number | null;
  /** User CPU seconds alone (GNU time %U): the figure least disturbed by other work; null without /usr/bin/time. */
  userSeconds?: number | null;
}

export interface Line {
  name: string;
  input: string;
  inputBytes: number;
  runs: Run[];
  best: Run;
  mbPerSecond: number;
  /** MB per CPU second of the best run: less disturbed by other work on the machine than wall time. */
  mbPerCpuSecond: number | null;
  /** Peak RSS over the runs, MB. */
  peakRssMB: number | null;
  counts: string;
}

/** A capture's sidecar without the per-template truth. */
export type CaptureSummary = Omit<MysqlCaptureMeta, 'templates'> & { path: string; templatesRun: number };

export interface AnalyzeBenchResult {
  capture: CaptureSummary;
  slice: CaptureSummary;
  loadBefore: number[];
  loadAfter: number[];
  lines: Line[];
  periscopeAgreement: Agreement;
  sliceAgreement: Agreement;
  shardAgreement: Agreement | null;
  ptAgreement: Agreement | null;
  tsharkCounts: Record<string, number> | null;
  ratios: {
    /** Periscope's MB/s over tshark's (wall time), and the same by CPU time. */
    vsTshark: number | null;
    vsTsharkCpu: number | null;
    vsPt: number | null;
    vsPtCpu: number | null;
    /** Best single run's wall time / best wall time of the two shards at once. */
    twoShardsSpeedup: number | null;
    /**
     * Best single run's CPU time / the larger shard's CPU time (averaged over the runs): the
     * speed-up two idle cores would give, when other work on the machine spoils the wall times.
     */
    twoShardsCpuEstimate: number | null;
  };
  health: string;
  /** The report's health notes on the capture (none expected: nothing is lost or out of order). */
  healthNotes: string[];
  targets: { name: string; shown: string; pass: boolean }[];
  /** Periscope's own counts disagree with the truth (the figures are not comparable). */
  failed: boolean;
}

const whichPath = (cmd: string): string => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const have = (cmd: string): boolean => whichPath(cmd) !== '';
const GNU_TIME = '/usr/bin/time';

/** Run a command, its stdout to a file (or nowhere); wall time measured here, peak RSS and CPU by GNU time. */
export function measure(argv: readonly string[], stdoutPath: string | null, scratch: string): Promise<Run & { stderr: string }> {
  const timeFile = join(scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const withTime = existsSync(GNU_TIME);
  const cmd = withTime ? [GNU_TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : [...argv];
  const out = stdoutPath === null ? 'ignore' : openSync(stdoutPath, 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (typeof out === 'number') closeSync(out);
      let cpuSeconds: number | null = null;
      let maxRssMB: number | null = null;
      let userSeconds: number | null = null;
      if (withTime && existsSync(timeFile)) {
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [, rssKiB, user, sys] = last.split(' ').map(Number);
        maxRssMB = (rssKiB! * 1024) / 1e6;
        cpuSeconds = user! + sys!;
        userSeconds = user!;
        rmSync(timeFile, { force: true });
      }
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ seconds, cpuSeconds, maxRssMB, userSeconds, stderr });
    });
  });
}

/** Read the files once in full so that what is timed reads them from the page cache. Returns seconds. */
export function warmPageCache(paths: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const path of paths) {
    const fd = openSync(path, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function lineOf(name: string, input: string, inputBytes: number, runs: Run[], counts: string): Line {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rss = runs.map((r) => r.maxRssMB).filter((x): x is number => x !== null);
  const mbPerCpuSecond = best.cpuSeconds ? inputBytes / best.cpuSeconds / 1e6 : null;
  return { name, input, inputBytes, runs, best, mbPerSecond: inputBytes / best.seconds / 1e6, mbPerCpuSecond, peakRssMB: rss.length ? Math.max(...rss) : null, counts };
}

/** Newline count of a file (the events' JSON lines), read in 4 MiB chunks. */
function countLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let n = 0;
  try {
    for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      for (let i = buf.indexOf(10, 0); i !== -1 && i < got; i = buf.indexOf(10, i + 1)) n++;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

interface AnalyzeJson {
  health: { status: string; notes: string[] };
  fingerprints: ReportFingerprint[];
}

const agreeText = (a: Agreement): string => `${a.agreeing}/${a.expected} fingerprints as generated${a.reported !== a.expected ? ` (${a.reported} reported)` : ''}`;

/**
 * pt-query-digest's own fingerprint of each query: its QueryRewriter, loaded from the installed
 * pt-query-digest (a Perl modulino), one query per line. (pt-fingerprint of the same toolkit
 * release differs: it keeps TRUE and FALSE, which pt-query-digest replaces with ?.)
 */
function ptFingerprints(queries: readonly string[], ptQueryDigest: string): string[] {
  const script = `do $ARGV[0] or die ($@ || $!); my $qr = QueryRewriter->new(); while (my $q = <STDIN>) { chomp $q; print $qr->fingerprint($q), "\\n"; }`;
  const r = spawnSync('perl', ['-e', script, ptQueryDigest], { input: queries.map((q) => `${q}\n`).join(''), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pt-query-digest's fingerprint: ${r.stderr}`);
  const lines = r.stdout.split('\n').slice(0, queries.length);
  if (lines.length !== queries.length || queries.some((q) => q.includes('\n'))) throw new Error('pt-query-digest fingerprints: one line per query expected');
  return lines;
}

/** What pt-query-digest should report for a capture: event counts per pt fingerprint. */
function ptExpected(meta: MysqlCaptureMeta, ptQueryDigest: string): Map<string, number> {
  const keys: { query: string; n: number }[] = [];
  for (const t of meta.templates) {
    if (t.prepared) {
      keys.push({ query: `EXECUTE ${t.example}`, n: t.count }, { query: `PREPARE ${t.example}`, n: t.prepares });
    } else keys.push({ query: t.example, n: t.count });
  }
  const closes = meta.templates.reduce((a, t) => a + t.closes, 0);
  keys.push({ query: 'DEALLOCATE PREPARE 1', n: closes });
  const used = keys.filter((k) => k.n > 0);
  const fps = ptFingerprints(used.map((k) => k.query), ptQueryDigest);
  const out = new Map<string, number>();
  used.forEach((k, i) => out.set(fps[i]!, (out.get(fps[i]!) ?? 0) + k.n));
  // Administrator commands: pt-query-digest keeps them as they are.
  for (const [cmd, title] of [['connect', 'Connect'], ['ping', 'Ping'], ['quit', 'Quit']] as const) {
    const n = meta.commands[cmd] ?? 0;
    if (n > 0) out.set(`administrator command: ${title}`, n);
  }
  return out;
}

/** Compare count-only views (pt-query-digest), reusing the per-fingerprint comparison. */
function compareCounts(expected: Map<string, number>, reported: Map<string, number>): Agreement {
  const asGroups = (m: Map<string, number>) => new Map([...m].map(([fp, n]) => [fp, { count: n, commands: {}, errors: {}, rowsSent: 0, rowsAffected: 0, noIndexUsed: 0 }]));
  return compareGroups(asGroups(expected), asGroups(reported));
}

/** The capture (and its slice and shards) for the benchmark, made if needed. */
function ensureCaptures(dataDir: string, mb: number, sliceMb: number, log: (s: string) => void): { path: string; meta: MysqlCaptureMeta; slicePath: string; slice: MysqlCaptureMeta; shards: string[] } {
  const make = (m: number): { path: string; meta: MysqlCaptureMeta } => {
    const path = join(dataDir, `mysql-app-${m}MB.pcap`);
    const target = Math.round(m * 1e6);
    let meta = existingMysqlCapture(path, target, SEED);
    if (meta === null) {
      log(`Writing ${relative(process.cwd(), path)} (${m} MB of realistic MySQL traffic)…`);
      const t0 = process.hrtime.bigint();
      meta = synthesizeMysqlCapture(path, target, SEED);
      log(`  written in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    }
    return { path, meta };
  };
  const big = make(mb);
  const slice = make(sliceMb);
  const shards = [0, 1].map((i) => join(dataDir, `mysql-app-${mb}MB-shard-${i}of2.pcap`));
  const t0 = process.hrtime.bigint();
  const sm = shardCapture(big.path, shards);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s > 1) log(`Split ${relative(process.cwd(), big.path)} by connection into 2 files (${sm.shards.map((x) => `${(x.size / 1e6).toFixed(0)} MB`).join(', ')}) in ${s.toFixed(1)} s`);
  return { path: big.path, meta: big.meta, slicePath: slice.path, slice: slice.meta, shards };
}

/**
 * What --threads 2 costs in CPU (user + system, lowest runs) against one thread, and the most it
 * could gain on these cores: `cores × wall(1 thread) / CPU(2 threads)`, as the second thread's
 * CPU must fit in the cores left (one thread already keeps more than one core busy: V8's
 * garbage collector and compiler run on threads of their own).
 */
function threadsCpuText(one: readonly Run[], two: readonly Run[], cores: number): string {
  const cpu = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.cpuSeconds ?? NaN));
  const wall1 = Math.min(...one.map((r) => r.seconds));
  return `CPU ${cpu(two).toFixed(2)} s against ${cpu(one).toFixed(2)} s; one thread keeps ${(cpu(one) / wall1).toFixed(2)} cores busy; on ${cores} idle cores at most ${((cores * wall1) / cpu(two)).toFixed(2)}×`;
}

export async function runAnalyzeBench(opts: { root: string; dataDir: string; mb: number; sliceMb: number; reps: number; log: (line: string) => void }): Promise<AnalyzeBenchResult> {
  const { root, dataDir, log } = opts;
  const bin = join(root, 'bin', 'periscope.js');
  const scratch = join(dataDir, 'analyze-out');
  mkdirSync(scratch, { recursive: true });
  const { path, meta, slicePath, slice, shards } = ensureCaptures(dataDir, opts.mb, opts.sliceMb, log);
  const show = (p: string): string => relative(process.cwd(), p) || p;
  log(
    `Capture: ${show(path)}  ${(meta.size / 1e6).toFixed(1)} MB, ${meta.packets.toLocaleString('en-US')} packets, ${meta.connections.toLocaleString('en-US')} connections, ` +
      `${(meta.commands.query! + meta.commands.stmt_execute!).toLocaleString('en-US')} statements (${meta.templates.filter((t) => t.count > 0).length} templates), ${meta.durationSec.toFixed(1)} s of traffic`,
  );
  log(`Slice:   ${show(slicePath)}  ${(slice.size / 1e6).toFixed(1)} MB, its first ${opts.sliceMb} MB are the capture's`);
  warmPageCache([path, slicePath, ...shards]);
  const loadBefore = loadavg();
  log(`Load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (2 cores: other work on the machine slows every line alike only if it lasts)`);

  const periscope = (file: string, out: string, extra: string[] = []): string[] => [process.execPath, bin, 'analyze', file, '--format', 'json', '-q', '-o', out, ...extra];
  const report = (out: string): AnalyzeJson => JSON.parse(readFileSync(out, 'utf8')) as AnalyzeJson;

  // Periscope: the capture and the slice, round-robin; the two shards at once.
  const bigRuns: Run[] = [];
  const adviseRuns: Run[] = [];
  const threadRuns: Run[] = [];
  const bareRuns: Run[] = [];
  const eventsRuns: Run[] = [];
  const sliceRuns: Run[] = [];
  const shardRuns: Run[] = [];
  /** CPU seconds of the busier shard, per run. */
  const shardMaxCpu: number[] = [];
  const bigOut = join(scratch, 'periscope.json');
  const adviseOut = join(scratch, 'periscope-advise.json');
  const threadsOut = join(scratch, 'periscope-threads-2.json');
  const eventsOut = join(scratch, 'periscope-events.jsonl');
  // The bare record walk of the read section (bench/contenders.ts), as a whole process: the floor.
  const bare = [process.execPath, join(root, 'build', 'bench', 'run.js'), '--contender', 'bare', path];
  const sliceOut = join(scratch, 'periscope-slice.json');
  const summaries = shards.map((_, i) => join(scratch, `shard-${i}.summary.json`));
  for (let rep = 1; rep <= opts.reps; rep++) {
    const b = await measure(periscope(path, bigOut), null, scratch);
    bigRuns.push(b);
    // advise: the same read, then the findings (issue 17: at most 1.3x analyze).
    adviseRuns.push(await measure([process.execPath, bin, 'advise', path, '--format', 'json', '-q', '-o', adviseOut], null, scratch));
    threadRuns.push(await measure(periscope(path, threadsOut, ['--threads', '2']), null, scratch));
    bareRuns.push(await measure(bare, null, scratch));
    eventsRuns.push(await measure([process.execPath, bin, 'events', path], eventsOut, scratch));
    const s = await measure(periscope(slicePath, sliceOut), null, scratch);
    sliceRuns.push(s);
    const t0 = process.hrtime.bigint();
    const pair = await Promise.all(shards.map((f, i) => measure(periscope(f, join(scratch, `shard-${i}.json`), ['--save-summary', summaries[i]!]), null, scratch)));
    const pairSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    shardRuns.push({ seconds: pairSeconds, cpuSeconds: pair.reduce((a, r) => a + (r.cpuSeconds ?? 0), 0), maxRssMB: Math.max(...pair.map((r) => r.maxRssMB ?? 0)) });
    shardMaxCpu.push(Math.max(...pair.map((r) => r.cpuSeconds ?? NaN)));
    log(`  run ${rep}/${opts.reps}  periscope ${b.seconds.toFixed(2)} s (${(meta.size / b.seconds / 1e6).toFixed(0)} MB/s, ${b.maxRssMB?.toFixed(0)} MB)  slice ${s.seconds.toFixed(2)} s  2 shards at once ${pairSeconds.toFixed(2)} s`);
  }
  const bigReport = report(bigOut);
  const periscopeAgreement = compareGroups(expectedGroups(meta), reportedGroups(bigReport.fingerprints));
  const sliceAgreement = compareGroups(expectedGroups(slice), reportedGroups(report(sliceOut).fingerprints));
  const mergedOut = join(scratch, 'merged.json');
  const merge = await measure([process.execPath, bin, 'merge', ...summaries, '--format', 'json', '-o', mergedOut], null, scratch);
  const shardAgreement = compareGroups(expectedGroups(meta), reportedGroups(report(mergedOut).fingerprints));
  log(`  merge of the two summaries: ${merge.seconds.toFixed(2)} s`);

  const lines: Line[] = [
    lineOf('periscope analyze', 'capture', meta.size, bigRuns, agreeText(periscopeAgreement)),
    lineOf('periscope advise', 'capture', meta.size, adviseRuns, `${(JSON.parse(readFileSync(adviseOut, 'utf8')) as { findings: unknown[] }).findings.length} findings`),
    lineOf('periscope analyze --threads 2', 'capture', meta.size, threadRuns, readFileSync(threadsOut, 'utf8') === readFileSync(bigOut, 'utf8') ? 'report identical to one thread' : 'REPORT DIFFERS from one thread'),
    lineOf('bare record walk (readSync 4 MiB, whole process)', 'capture', meta.size, bareRuns, 'floor: no decoding'),
    lineOf('periscope events (JSON lines)', 'capture', meta.size, eventsRuns, `${countLines(eventsOut).toLocaleString('en-US')} events, ${(statSync(eventsOut).size / 1e6).toFixed(0)} MB`),
    lineOf('periscope analyze, 2 shards at once (+ merge)', 'capture', meta.size, shardRuns, `${agreeText(shardAgreement)} after merge (${merge.seconds.toFixed(2)} s more)`),
    lineOf('periscope analyze', 'slice', slice.size, sliceRuns, agreeText(sliceAgreement)),
  ];

  // tshark: once on the capture, once on the slice.
  let tsharkCounts: Record<string, number> | null = null;
  let tsharkBig: Line | null = null;
  // PERISCOPE_BENCH_PERISCOPE_ONLY=1: Periscope's lines only (tshark alone takes 40 s or more).
  const others = process.env.PERISCOPE_BENCH_PERISCOPE_ONLY !== '1';
  if (!others) log('  tshark and pt-query-digest skipped (PERISCOPE_BENCH_PERISCOPE_ONLY=1)');
  if (others && have('tshark')) {
    const tshark = (file: string): string[] => ['tshark', '-n', '-r', file, '-Y', 'mysql.query', '-T', 'fields', '-e', 'mysql.command', '-e', 'mysql.query'];
    const countOf = (out: string): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const l of readFileSync(out, 'latin1').split('\n')) {
        const cmd = l.slice(0, l.indexOf('\t'));
        if (cmd) c[cmd] = (c[cmd] ?? 0) + 1;
      }
      return c;
    };
    const tsharkText = (c: Record<string, number>, m: MysqlCaptureMeta): string => {
      const q = c['3'] ?? 0;
      const p = c['22'] ?? 0;
      return `COM_QUERY ${q.toLocaleString('en-US')}${q === m.commands.query ? ' =' : ` ≠ ${m.commands.query}`}, PREPARE ${p.toLocaleString('en-US')}${p === m.commands.stmt_prepare ? ' =' : ` ≠ ${m.commands.stmt_prepare}`} generated`;
    };
    log('  tshark on the capture (one run)…');
    const out = join(scratch, 'tshark.txt');
    const t = await measure(tshark(path), out, scratch);
    tsharkCounts = countOf(out);
    tsharkBig = lineOf('tshark -Y mysql.query -T fields', 'capture', meta.size, [t], tsharkText(tsharkCounts, meta));
    lines.push(tsharkBig);
    const sliceTxt = join(scratch, 'tshark-slice.txt');
    const ts = await measure(tshark(slicePath), sliceTxt, scratch);
    lines.push(lineOf('tshark -Y mysql.query -T fields', 'slice', slice.size, [ts], tsharkText(countOf(sliceTxt), slice)));
  } else if (others) log('  tshark not found: skipped (apt-get install tshark)');

  // pt-query-digest on the tcpdump text of the slice.
  let ptAgreement: Agreement | null = null;
  let ptLine: Line | null = null;
  if (others && have('tcpdump') && have('pt-query-digest') && have('perl')) {
    log('  tcpdump -x text of the slice, then pt-query-digest (one run each)…');
    const text = join(scratch, 'slice.tcpdump.txt');
    const td = await measure(['tcpdump', '-r', slicePath, '-x', '-n', '-q', '-tttt'], text, scratch);
    const ptOut = join(scratch, 'pt-query-digest.json');
    // --limit as a count: `--limit 100%` leaves out the classes whose time adds nothing (Quit, DEALLOCATE).
    const pt = await measure(['pt-query-digest', '--type', 'tcpdump', '--output', 'json', '--limit', '1000000', text], ptOut, scratch);
    // pt-query-digest dumps the sessions it could not follow into one file in /tmp: count why, then remove it.
    const failures: Record<string, number> = {};
    for (const m of pt.stderr.matchAll(/will save them in (\/tmp\/pt-query-digest-errors\.\w+)/g)) {
      if (!existsSync(m[1]!)) continue;
      for (const r of readFileSync(m[1]!, 'latin1').matchAll(/reason_for_failure => '([^']*)'/g)) failures[r[1]!] = (failures[r[1]!] ?? 0) + 1;
      rmSync(m[1]!, { force: true });
    }
    const failedSessions = Object.entries(failures).map(([why, n]) => `${n} × ${why}`).join(', ') || 'none';
    const classes = (JSON.parse(readFileSync(ptOut, 'utf8')) as { classes: { fingerprint: string; query_count: number | string }[] }).classes;
    const reported = new Map<string, number>();
    for (const c of classes) reported.set(c.fingerprint, (reported.get(c.fingerprint) ?? 0) + Number(c.query_count));
    ptAgreement = compareCounts(ptExpected(slice, whichPath('pt-query-digest')), reported);
    const textBytes = statSync(text).size;
    lines.push(lineOf('tcpdump -x -n -q -tttt (text for pt-query-digest)', 'slice', slice.size, [td], `${(textBytes / 1e6).toFixed(0)} MB of text`));
    lines.push(lineOf('pt-query-digest --type tcpdump', 'slice', slice.size, [pt], `sessions failed: ${failedSessions}`));
    const both: Run = { seconds: td.seconds + pt.seconds, cpuSeconds: (td.cpuSeconds ?? 0) + (pt.cpuSeconds ?? 0), maxRssMB: Math.max(td.maxRssMB ?? 0, pt.maxRssMB ?? 0) };
    ptLine = lineOf('tcpdump text + pt-query-digest', 'slice', slice.size, [both], `${ptAgreement.agreeing}/${ptAgreement.expected} classes as generated (${ptAgreement.reported} reported)`);
    lines.push(ptLine);
  } else if (others) log('  tcpdump or pt-query-digest not found: skipped (apt-get install tcpdump percona-toolkit)');

  const loadAfter = loadavg();
  const best = lines[0]!;
  const vsTshark = tsharkBig ? best.mbPerSecond / tsharkBig.mbPerSecond : null;
  const vsPt = ptLine ? best.mbPerSecond / ptLine.mbPerSecond : null;
  const cpuRatio = (other: Line | null): number | null => (other?.mbPerCpuSecond && best.mbPerCpuSecond ? best.mbPerCpuSecond / other.mbPerCpuSecond : null);
  const vsTsharkCpu = cpuRatio(tsharkBig);
  const vsPtCpu = cpuRatio(ptLine);
  const named = (name: string, input = 'capture'): Line => lines.find((l) => l.name === name && l.input === input)!;
  const shardLine = named('periscope analyze, 2 shards at once (+ merge)');
  const twoShardsSpeedup = best.best.seconds / shardLine.best.seconds;
  const singleCpu = Math.min(...bigRuns.map((r) => r.cpuSeconds ?? NaN));
  const cpuEstimate = singleCpu / (shardMaxCpu.reduce((a, b) => a + b, 0) / shardMaxCpu.length);
  const twoShardsCpuEstimate = Number.isFinite(cpuEstimate) ? cpuEstimate : null;
  const rss = Math.max(...[best, named('periscope analyze', 'slice'), shardLine].map((l) => l.peakRssMB ?? 0));
  // Issue 19's targets, by CPU time (user + system) of the lowest runs where the machine is shared:
  // user time alone would flatter the bare walk, whose cost is mostly the kernel's copy (system).
  const minUser = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.userSeconds ?? NaN));
  const minCpu = (runs: readonly Run[]): number => Math.min(...runs.map((r) => r.cpuSeconds ?? NaN));
  const ratioText = (a: readonly Run[], b: readonly Run[]): { cpu: number; user: number; wall: number } => ({ cpu: minCpu(a) / minCpu(b), user: minUser(a) / minUser(b), wall: bestOf(a) / bestOf(b) });
  const vsBare = ratioText(bigRuns, bareRuns);
  const eventsVs = ratioText(eventsRuns, bigRuns);
  const threads2 = bestOf(bigRuns) / bestOf(threadRuns);
  const threadLine = named('periscope analyze --threads 2');
  const rssOne = best.peakRssMB ?? NaN;
  const rssTwo = threadLine.peakRssMB ?? NaN;
  const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const targets = [
    { name: `periscope analyze ≥ ${fmt(TARGET_ANALYZE_MBPS)} MB/s of capture end to end`, shown: `${fmt(best.mbPerSecond)} MB/s`, pass: best.mbPerSecond >= TARGET_ANALYZE_MBPS },
    ...(vsTshark === null ? [] : [{ name: `periscope analyze ≥ ${TARGET_VS_TSHARK}× tshark's MB/s`, shown: `${fmt(vsTshark, 1)}× (by CPU time ${vsTsharkCpu === null ? '?' : fmt(vsTsharkCpu, 1)}×)`, pass: vsTshark >= TARGET_VS_TSHARK }]),
    ...(vsPt === null ? [] : [{ name: `periscope analyze ≥ ${TARGET_VS_PT}× pt-query-digest's MB/s (tcpdump text included)`, shown: `${fmt(vsPt, 1)}× (by CPU time ${vsPtCpu === null ? '?' : fmt(vsPtCpu, 1)}×)`, pass: vsPt >= TARGET_VS_PT }]),
    { name: `periscope advise ≤ ${TARGET_ADVISE_VS_ANALYZE}× the time of periscope analyze (capture, best runs)`, shown: `${fmt(bestOf(adviseRuns) / bestOf(bigRuns), 2)}×`, pass: bestOf(adviseRuns) <= TARGET_ADVISE_VS_ANALYZE * bestOf(bigRuns) },
    { name: `periscope analyze peak RSS < ${TARGET_ANALYZE_RSS_MB} MB (capture, slice, each shard)`, shown: `${fmt(rss)} MB`, pass: rss < TARGET_ANALYZE_RSS_MB },
    { name: 'periscope analyze per-fingerprint counts identical to the generated ones (capture, slice, merged shards)', shown: [periscopeAgreement, sliceAgreement, shardAgreement].map(agreeText).join('; '), pass: [periscopeAgreement, sliceAgreement, shardAgreement].every((a) => a.differences.length === 0) },
    { name: 'periscope analyze report health "good" without notes (capture)', shown: `${bigReport.health.status}${bigReport.health.notes.length ? `: ${bigReport.health.notes.join('; ')}` : ''}`, pass: bigReport.health.status === 'good' && bigReport.health.notes.length === 0 },
    { name: `issue 19: analyze, 1 thread ≤ ${TARGET_ANALYZE_VS_BARE}× the bare record walk (CPU user + system, whole processes)`, shown: `${fmt(vsBare.cpu, 2)}× (user CPU ${fmt(vsBare.user, 1)}×, wall ${fmt(vsBare.wall, 2)}×)`, pass: vsBare.cpu <= TARGET_ANALYZE_VS_BARE },
    { name: `issue 19: events (JSON lines) ≤ ${TARGET_EVENTS_VS_ANALYZE}× analyze (CPU user + system)`, shown: `${fmt(eventsVs.cpu, 2)}× (user CPU ${fmt(eventsVs.user, 2)}×, wall ${fmt(eventsVs.wall, 2)}×)`, pass: eventsVs.cpu <= TARGET_EVENTS_VS_ANALYZE },
    { name: `issue 19: analyze --threads 2 ≥ ${TARGET_THREADS2_SPEEDUP}× faster than 1 thread (wall; load average ${fmt(loadAfter[0]!, 1)} on ${availableParallelism()} cores)`, shown: `${fmt(threads2, 2)}× (${threadsCpuText(bigRuns, threadRuns, availableParallelism())})`, pass: threads2 >= TARGET_THREADS2_SPEEDUP },
    { name: `issue 19: peak RSS ≤ ${TARGET_ANALYZE_RSS_MB} MB at 1 thread, ≤ +${TARGET_RSS_PER_THREAD_MB} MB per extra thread`, shown: `${fmt(rssOne)} MB, --threads 2 ${fmt(rssTwo)} MB (+${fmt(rssTwo - rssOne)})`, pass: rssOne <= TARGET_ANALYZE_RSS_MB && rssTwo - rssOne <= TARGET_RSS_PER_THREAD_MB },
    ...(ptAgreement === null ? [] : [{ name: 'pt-query-digest per-class counts identical to the generated ones (slice)', shown: `${ptAgreement.agreeing}/${ptAgreement.expected}`, pass: ptAgreement.differences.length === 0 }]),
  ];
  const described = (m: MysqlCaptureMeta, p: string): CaptureSummary => {
    const { templates, ...rest } = m;
    return { ...rest, path: relative(root, p), templatesRun: templates.filter((t) => t.count > 0).length };
  };
  return {
    capture: described(meta, path),
    slice: described(slice, slicePath),
    loadBefore,
    loadAfter,
    lines,
    periscopeAgreement,
    sliceAgreement,
    shardAgreement,
    ptAgreement,
    tsharkCounts,
    ratios: { vsTshark, vsTsharkCpu, vsPt, vsPtCpu, twoShardsSpeedup, twoShardsCpuEstimate },
    health: bigReport.health.status,
    healthNotes: bigReport.health.notes,
    targets,
    failed: periscopeAgreement.differences.length + sliceAgreement.differences.length + shardAgreement.differences.length > 0,
  };
}

/** The side-by-side table, the ratios and the disagreements. */
export function printAnalyzeResult(r: AnalyzeBenchResult, table: (headers: string[], rows: string[][], leftColumns?: number) => string, log: (line: string) => void): void {
  const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const periscope = r.lines[0]!;
  log(
    table(
      ['contender', 'input', 'MB', 'best s', 'all runs s', 'MB/s', 'CPU s', 'MB/CPU s', 'peak RSS MB', 'vs periscope', 'counts'],
      r.lines.map((l) => [
        l.name,
        l.input,
        fmt(l.inputBytes / 1e6, 0),
        fmt(l.best.seconds, 2),
        l.runs.map((x) => fmt(x.seconds, 2)).join(' '),
        fmt(l.mbPerSecond, 1),
        l.best.cpuSeconds === null ? '?' : fmt(l.best.cpuSeconds, 1),
        l.mbPerCpuSecond === null ? '?' : fmt(l.mbPerCpuSecond, 1),
        l.peakRssMB === null ? '?' : fmt(l.peakRssMB, 0),
        `${fmt(periscope.mbPerSecond / l.mbPerSecond, 1)}×`,
        l.counts,
      ]),
      2,
    ),
  );
  log('');
  log(`Periscope analyze: ${fmt(periscope.mbPerSecond, 0)} MB/s of capture end to end, health "${r.health}"${r.healthNotes.length ? ` with notes: ${r.healthNotes.join('; ')}` : ''}.`);
  const byCpu = (x: number | null): string => (x === null ? '' : `; by CPU time ${fmt(x, 1)}×`);
  if (r.ratios.vsTshark !== null) log(`  ${fmt(r.ratios.vsTshark, 1)}× tshark's MB/s on the same capture (tshark decodes MySQL and prints each query)${byCpu(r.ratios.vsTsharkCpu)}.`);
  if (r.ratios.vsPt !== null) log(`  ${fmt(r.ratios.vsPt, 0)}× pt-query-digest's MB/s of capture (tcpdump text + pt-query-digest, on the slice)${byCpu(r.ratios.vsPtCpu)}.`);
  if (r.ratios.twoShardsSpeedup !== null) log(`  Two analyses of half the connections each, at once: ${fmt(r.ratios.twoShardsSpeedup, 2)}× the speed of one (best wall time against best), before the merge.`);
  if (r.ratios.twoShardsCpuEstimate !== null) log(`  On two idle cores they would give about ${fmt(r.ratios.twoShardsCpuEstimate, 2)}× (the single run's CPU time over the busier shard's).`);
  log(`  Load average before ${r.loadBefore.map((x) => fmt(x, 2)).join(' ')}, after ${r.loadAfter.map((x) => fmt(x, 2)).join(' ')} (2 cores).`);
  const show = (title: string, a: Agreement | null): void => {
    if (a === null || a.differences.length === 0) return;
    log(`${title}: ${a.differences.length} of ${Math.max(a.expected, a.reported)} differ:`);
    for (const d of a.differences.slice(0, 12)) log(`    ${d}`);
    if (a.differences.length > 12) log(`    … ${a.differences.length - 12} more (bench/data/last-run.json)`);
  };
  show('PERISCOPE COUNTS DIFFER FROM THE GENERATED ONES (capture)', r.periscopeAgreement);
  show('PERISCOPE COUNTS DIFFER FROM THE GENERATED ONES (slice)', r.sliceAgreement);
  show('PERISCOPE COUNTS DIFFER FROM THE GENERATED ONES (merged shards)', r.shardAgreement);
  show('pt-query-digest classes that differ from the generated counts (slice)', r.ptAgreement);
}

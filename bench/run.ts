/**
 * `npm run bench`: how fast Periscope reads a large capture, compared with the fastest loop that
 * could possibly read the same file in Node and with the pcap-parser npm package; how fast it
 * redacts and fingerprints SQL; and how fast `periscope analyze` runs end to end, against tshark
 * and pt-query-digest.
 *
 * The sections, all by default; `npm run bench -- --only analyze` (or `--only read,sql`) runs
 * some of them:
 *   read     capture reading, steps 1–5 below;
 *   sql      SQL redaction + fingerprint throughput (bench/sql.ts);
 *   analyze  `periscope analyze` end to end on a realistic capture, with tshark and
 *            pt-query-digest (bench/analyze.ts);
 *   sysbench issue 19's targets on a real sysbench oltp_read_write capture of MariaDB on loopback,
 *            recorded once (needs sysbench, tcpdump, MariaDB; skipped with a line saying why
 *            otherwise), its decode checked against the server's counters (bench/sysbench.ts);
 *   live     `periscope live -i lo` under sysbench oltp_point_select at 50,000 q/s: queries/s, kernel
 *            drops, commands seen against the server's count, CPU per process (bench/live.ts);
 *   tls      TLS decryption throughput of src/tls on genuine node:tls sessions, bulk and small
 *            records (bench/tls.ts); then `periscope analyze` of the same short-query workload in
 *            plaintext and over TLS 1.3 AES-128-GCM and ChaCha20-Poly1305, side by side
 *            (bench/tls-analyze.ts, captures by bench/synth-tls.ts): target TLS ≤ 1.5× plaintext.
 *   parquet  `periscope events --format parquet` against `events` as JSON on the same capture
 *            (bench/parquet.ts).
 * The targets of the sections run are printed last; bench/data/last-run.json gets their figures.
 * Exit code 1 when a section's counts are not what the generator wrote.
 *
 * What the read section measures, in one run:
 *   1. A synthetic capture of MySQL traffic on loopback (bench/synth.ts), PERISCOPE_BENCH_MB
 *      (default 600) megabytes, made once in bench/data/ and reused while its size and sidecar match.
 *      The same capture is also split into 60 classic-pcap files of about equal size, as rotation
 *      by size would write them (bench/rotate.ts), in bench/data/rotated-<MB>MB-60/, made once and
 *      reused while its sidecar matches.
 *   2. The file and the parts are read once in full before any timing, so every contender reads
 *      from the page cache: the figures are CPU cost of reading and decoding, not disk speed.
 *   3. Each contender (bench/contenders.ts) runs PERISCOPE_BENCH_REPS (default 5) times, each time
 *      in a fresh child process, round-robin so drift hits all alike. The child times only the
 *      reading (process.hrtime, after start-up and module loading) and reports its peak RSS (resourceUsage().maxRSS)
 *      and CPU time as one JSON line on stdout. The best time of the runs is reported.
 *        bare             readSync in 4 MiB chunks, walk record headers, read TCP ports: the
 *                         reference, the speed of memory copies plus a minimal loop;
 *        periscope-decode readCaptures() + PacketDecoder.decode() on every packet: what the
 *                         analyzer pays before TCP reassembly;
 *        periscope-reassembly  periscope-decode + TcpReassembler.add() on every segment (server
 *                         port 3306) and finish() at the end, with handlers that add up the bytes
 *                         delivered per direction and count gaps;
 *        periscope-read   readCaptures() alone: the file source, pcap parser and merge loop;
 *        periscope-rotated  the periscope-decode workload on the directory of 60 parts:
 *                         readCaptures([dir]) probes each file's first timestamp, then reads them
 *                         one after the other;
 *        pcap-parser      the npm package fed by fs.createReadStream, counting 'packet' events.
 *   4. Every contender must see the packet count and byte sums the generator wrote (a contender
 *      that skips work cannot look fast); a mismatch fails the run (exit code 1).
 *      (periscope-rotated must also have read every part; periscope-reassembly must deliver every
 *      payload byte, per direction, close every connection, and report no gap and no
 *      retransmitted, overlapping, out-of-order or late segment: the capture has none).
 *   5. Prints a table (seconds, MB/s with MB = 1e6 bytes of the single file, GB/s, packets/s, peak
 *      RSS, time relative to the bare loop and to periscope-decode), Periscope against pcap-parser,
 *      and the targets: reader + decode at least 1.5 GB/s and at most 2× the bare loop's time; the
 *      rotated files at most 1.5× the single file's time and 100 MiB peak RSS; reader + decode + TCP
 *      reassembly at most 1.5× reader + decode's time (best against best). Everything is also
 *      written to bench/data/last-run.json. Missing a target is reported, not an error.
 *
 *   6. The SQL benchmark (bench/sql.ts): redaction + fingerprint + digest throughput on a statement
 *      corpus, target 200 MB/s. `npm run bench -- --only sql` runs it alone (no capture is written
 *      or read; figures in bench/data/last-sql.json).
 *
 * Why: the analyzer's first layers touch every byte of captures that can be many gigabytes; they
 * must run near the speed of simply reading the file, so that cost is spent on MySQL, not on I/O.
 */
import { spawnSync } from 'node:child_process';
import { runFloodBench } from './flood.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASELINE, CONTENDERS, LABELS, loadContender, ROTATED, type ContenderName, type Outcome, type Workload } from './contenders.js';
import { existingRotated, splitCapture } from './rotate.js';
import { existingCapture, synthesizeCapture, type CaptureMeta } from './synth.js';
import { runSqlBench, sqlBenchLines, TARGET_SQL_MBPS } from './sql.js';
import { printAnalyzeResult, runAnalyzeBench, warmPageCache } from './analyze.js';
import { runTlsBench, tlsBenchLines } from './tls.js';
import { runTlsAnalyzeBench, tlsAnalyzeLines } from './tls-analyze.js';
import { printParquetResult, runParquetBench } from './parquet.js';
import { printSysbenchResult, runSysbenchBench } from './sysbench.js';
import { printLiveResult, runLiveBench } from './live.js';

/** Repository root: this file runs as build/bench/run.js. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA_DIR = join(ROOT, 'bench', 'data');
const SEED = 20250101;
const MiB = 1024 * 1024;

const TARGET_GBPS = 1.5;
const TARGET_VS_BARE = 2;
/** How many files the rotated contender reads. */
const ROTATED_PARTS = 60;
const TARGET_ROTATED_VS_DECODE = 1.5;
const TARGET_ROTATED_RSS_MIB = 100;
/** "Reassembly adds at most 50 % to the reader's time for in-order traffic." */
const TARGET_REASSEMBLY_VS_DECODE = 1.5;

/** What a child reports on stdout. */
interface ChildReport {
  contender: string;
  seconds: number;
  outcome: Outcome | null;
  maxRssMiB: number;
  cpuSeconds: number;
}

interface ContenderResult {
  contender: ContenderName;
  label: string;
  runs: ChildReport[];
  bestSeconds: number;
  mbPerSecond: number;
  gbPerSecond: number;
  packetsPerSecond: number;
  /** Highest peak RSS over the runs. */
  peakRssMiB: number;
  /** CPU time (user + system, all threads) of the best run. */
  cpuSeconds: number;
  /** bestSeconds / the bare loop's bestSeconds. */
  timeVsBare: number;
  /** bestSeconds / periscope-decode's bestSeconds. */
  timeVsDecode: number;
  /** Differences from what the generator wrote; empty when all counts match. */
  mismatches: string[];
}

// ---------------------------------------------------------------------------------------------
// Child side

async function child(name: string, path: string): Promise<void> {
  let work: Workload | null = null;
  if (name !== BASELINE) {
    if (!(CONTENDERS as readonly string[]).includes(name)) throw new Error(`unknown contender ${name}`);
    work = await loadContender(name as ContenderName);
  }
  const t0 = process.hrtime.bigint();
  const outcome = work === null ? null : await work(path);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const usage = process.resourceUsage();
  const report: ChildReport = {
    contender: name,
    seconds,
    outcome,
    maxRssMiB: usage.maxRSS / 1024, // maxRSS is in KiB
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent side

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name}=${raw}: expected a number ≥ ${min}`);
  return v;
}

function spawnChild(name: string, path: string): ChildReport {
  const script = fileURLToPath(import.meta.url);
  // --no-deprecation: pcap-parser calls `new Buffer()`, whose warning would only add noise.
  const r = spawnSync(process.execPath, ['--no-deprecation', script, '--contender', name, path], { encoding: 'utf8', maxBuffer: 16 * MiB });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`child ${name} exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildReport;
}

/** Compare what a contender saw with what the generator wrote (and `files` capture files read). */
function checkOutcome(o: Outcome | null, meta: CaptureMeta, files: number): string[] {
  if (o === null) return ['no outcome'];
  const out: string[] = [];
  const cmp = (what: string, got: number | null, want: number): void => {
    if (got !== null && got !== want) out.push(`${what}: ${got}, expected ${want}`);
  };
  cmp('files', o.files, files);
  cmp('packets', o.packets, meta.packets);
  cmp('captured bytes', o.capturedBytes, meta.capturedBytes);
  cmp('payload bytes', o.payloadBytes, meta.payloadBytes);
  cmp('port sum', o.portSum, meta.portSum);
  cmp('client → server payload bytes delivered', o.clientPayloadBytes, meta.clientPayloadBytes);
  cmp('connections closed', o.connections, meta.connections);
  cmp('gaps', o.gaps, 0);
  cmp('retransmitted/overlapping/out-of-order/late segments', o.tcpAnomalies, 0);
  return out;
}

const fmt = (v: number, digits: number): string => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(headers: string[], rows: string[][], leftColumns = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The benchmark's sections, run in this order; `--only a,b` runs some of them. */
const SECTIONS = ['read', 'sql', 'analyze', 'sysbench', 'live', 'tls', 'flood', 'parquet'] as const;
type Section = (typeof SECTIONS)[number];

interface Target {
  name: string;
  shown: string;
  pass: boolean;
  value?: number;
}

/** What a section gives the summary: its targets, whether its figures are comparable, and its JSON. */
interface SectionOutcome {
  targets: Target[];
  failed: boolean;
  json: Record<string, unknown>;
}

/**
 * Capture reading: the synthetic loopback capture (and its 60 rotated parts) through each
 * contender of bench/contenders.ts.
 */
async function readSection(reps: number): Promise<SectionOutcome> {
  const mb = envNumber('PERISCOPE_BENCH_MB', 600, 1);
  const targetBytes = Math.round(mb * 1e6);
  const path = join(DATA_DIR, `mysql-loopback-${mb}MB.pcap`);
  const shown = relative(process.cwd(), path) || path;
  console.log('\nCapture reading (link/IP/TCP decoding, TCP reassembly) on a synthetic loopback capture');
  if (mb < 500) console.log(`Note: PERISCOPE_BENCH_MB=${mb} is below the 500 MB the figures are meant for.`);

  let meta = existingCapture(path, targetBytes, SEED);
  let synthSeconds: number | null = null;
  if (meta === null) {
    process.stderr.write(`Writing ${shown} (${mb} MB)…\n`);
    const t0 = process.hrtime.bigint();
    meta = synthesizeCapture(path, targetBytes, SEED);
    synthSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  console.log(
    `Capture: ${shown}  ${fmt(meta.size / 1e6, 1)} MB, ${fmt(meta.packets, 0)} packets, ` +
      `average packet ${fmt(meta.capturedBytes / meta.packets, 0)} B (Ethernet frame; ${fmt(meta.payloadBytes / meta.packets, 0)} B of TCP payload), ` +
      `${fmt(meta.connections, 0)} connections, ${fmt(meta.exchanges, 0)} queries` +
      (synthSeconds === null ? ' (reused)' : ` (written in ${fmt(synthSeconds, 1)} s)`),
  );
  const rotatedDir = join(DATA_DIR, `rotated-${mb}MB-${ROTATED_PARTS}`);
  const shownDir = relative(process.cwd(), rotatedDir) || rotatedDir;
  let rotated = existingRotated(rotatedDir, path, meta, ROTATED_PARTS);
  let splitSeconds: number | null = null;
  if (rotated === null) {
    process.stderr.write(`Splitting it into ${ROTATED_PARTS} files in ${shownDir}/…\n`);
    const t0 = process.hrtime.bigint();
    rotated = splitCapture(path, meta, rotatedDir, ROTATED_PARTS);
    splitSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const partSizes = rotated.parts.map((p) => p.size);
  console.log(
    `Rotated: ${shownDir}/  the same records in ${rotated.parts.length} classic pcap files of ` +
      `${fmt(Math.min(...partSizes) / 1e6, 2)}–${fmt(Math.max(...partSizes) / 1e6, 2)} MB, ` +
      `${fmt(Math.min(...rotated.parts.map((p) => p.packets)), 0)}–${fmt(Math.max(...rotated.parts.map((p) => p.packets)), 0)} packets each` +
      (splitSeconds === null ? ' (reused)' : ` (written in ${fmt(splitSeconds, 1)} s)`),
  );
  const partPaths = rotated.parts.map((p) => join(rotatedDir, p.name));
  const warmSeconds = warmPageCache([path, ...partPaths]);
  const warmBytes = meta.size + rotated.totalSize;
  console.log(`Page cache: both read once in ${fmt(warmSeconds, 2)} s (${fmt(warmBytes / warmSeconds / 1e9, 2)} GB/s) before timing.`);
  const baseline = spawnChild(BASELINE, path);
  console.log(`Each figure: best of ${reps} runs, each in a fresh child process (an idle Node child peaks at ${fmt(baseline.maxRssMiB, 1)} MiB RSS).\n`);

  const runs = new Map<ContenderName, ChildReport[]>(CONTENDERS.map((c) => [c, []]));
  const inputOf = (c: ContenderName): string => (ROTATED.has(c) ? rotatedDir : path);
  const filesOf = (c: ContenderName): number => (ROTATED.has(c) ? rotated.parts.length : 1);
  for (let rep = 1; rep <= reps; rep++) {
    for (const c of CONTENDERS) {
      const r = spawnChild(c, inputOf(c));
      runs.get(c)!.push(r);
      process.stderr.write(`  run ${rep}/${reps}  ${c.padEnd(20)} ${fmt(r.seconds, 3)} s  ${fmt(r.maxRssMiB, 1)} MiB\n`);
    }
  }
  process.stderr.write('\n');

  const results: ContenderResult[] = [];
  for (const c of CONTENDERS) {
    const rs = runs.get(c)!;
    const best = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const mismatches = [...new Set(rs.flatMap((r) => checkOutcome(r.outcome, meta, filesOf(c))))];
    results.push({
      contender: c,
      label: LABELS[c],
      runs: rs,
      bestSeconds: best.seconds,
      mbPerSecond: meta.size / best.seconds / 1e6,
      gbPerSecond: meta.size / best.seconds / 1e9,
      packetsPerSecond: meta.packets / best.seconds,
      peakRssMiB: Math.max(...rs.map((r) => r.maxRssMiB)),
      cpuSeconds: best.cpuSeconds,
      timeVsBare: 0,
      timeVsDecode: 0,
      mismatches,
    });
  }
  const get = (c: ContenderName): ContenderResult => results.find((r) => r.contender === c)!;
  const bare = get('bare');
  const decode = get('periscope-decode');
  for (const r of results) {
    r.timeVsBare = r.bestSeconds / bare.bestSeconds;
    r.timeVsDecode = r.bestSeconds / decode.bestSeconds;
  }

  console.log(
    table(
      ['contender', 'best s', 'all runs s', 'MB/s', 'GB/s', 'Mpkt/s', 'CPU s', 'peak RSS MiB', 'time vs bare', 'vs decode'],
      results.map((r) => [
        r.label,
        fmt(r.bestSeconds, 3),
        r.runs.map((x) => fmt(x.seconds, 3)).join(' '),
        fmt(r.mbPerSecond, 0),
        fmt(r.gbPerSecond, 2),
        fmt(r.packetsPerSecond / 1e6, 2),
        fmt(r.cpuSeconds, 2),
        fmt(r.peakRssMiB, 1),
        `${fmt(r.timeVsBare, 2)}×`,
        `${fmt(r.timeVsDecode, 2)}×`,
      ]),
    ),
  );

  const pp = get('pcap-parser');
  const decodeVsPcapParser = pp.bestSeconds / decode.bestSeconds;
  console.log(`\nPeriscope reader + decode is ${fmt(decodeVsPcapParser, 1)}× as fast as pcap-parser (which decodes nothing).`);
  const decodeNs = ((decode.bestSeconds - get('periscope-read').bestSeconds) / meta.packets) * 1e9;
  console.log(`Decoding link/IP/TCP adds about ${fmt(decodeNs, 0)} ns per packet to the reader (difference of best times, so noisy).`);
  const rot = get('periscope-rotated');
  const perFileMs = ((rot.bestSeconds - decode.bestSeconds) / rotated.parts.length) * 1e3;
  console.log(
    `The same capture in ${rotated.parts.length} rotated files takes ${fmt(rot.timeVsDecode, 2)}× the single file's time ` +
      `(about ${fmt(perFileMs, 2)} ms more per file), peak RSS ${fmt(rot.peakRssMiB, 1)} MiB against ${fmt(decode.peakRssMiB, 1)} MiB.`,
  );

  const reasm = get('periscope-reassembly');
  const reasmNs = ((reasm.bestSeconds - decode.bestSeconds) / meta.packets) * 1e9;
  const reasmOut = reasm.runs[0]?.outcome;
  console.log(
    `TCP reassembly adds about ${fmt(reasmNs, 0)} ns per packet to reader + decode (difference of best times, so noisy): ` +
      `${fmt(reasm.timeVsDecode, 2)}× its time, peak RSS ${fmt(reasm.peakRssMiB, 1)} MiB against ${fmt(decode.peakRssMiB, 1)} MiB; ` +
      (reasmOut
        ? `delivered ${fmt(reasmOut.payloadBytes ?? 0, 0)} payload bytes (client → server ${fmt(reasmOut.clientPayloadBytes ?? 0, 0)}, ` +
          `server → client ${fmt((reasmOut.payloadBytes ?? 0) - (reasmOut.clientPayloadBytes ?? 0), 0)}), ${fmt(reasmOut.gaps ?? 0, 0)} gaps, ` +
          `${fmt(reasmOut.connections ?? 0, 0)} connections closed.`
        : 'no outcome.'),
  );

  const targets: Target[] = [
    { name: `periscope reader + decode ≥ ${TARGET_GBPS} GB/s`, value: decode.gbPerSecond, shown: `${fmt(decode.gbPerSecond, 2)} GB/s`, pass: decode.gbPerSecond >= TARGET_GBPS },
    { name: `periscope reader + decode ≤ ${TARGET_VS_BARE}× the bare loop's time`, value: decode.timeVsBare, shown: `${fmt(decode.timeVsBare, 2)}×`, pass: decode.timeVsBare <= TARGET_VS_BARE },
    { name: `${rotated.parts.length} rotated files ≤ ${TARGET_ROTATED_VS_DECODE}× the single file's time`, value: rot.timeVsDecode, shown: `${fmt(rot.timeVsDecode, 2)}×`, pass: rot.timeVsDecode <= TARGET_ROTATED_VS_DECODE },
    { name: `${rotated.parts.length} rotated files peak RSS ≤ ${TARGET_ROTATED_RSS_MIB} MiB`, value: rot.peakRssMiB, shown: `${fmt(rot.peakRssMiB, 1)} MiB`, pass: rot.peakRssMiB <= TARGET_ROTATED_RSS_MIB },
    {
      name: `periscope reader + decode + TCP reassembly ≤ ${TARGET_REASSEMBLY_VS_DECODE}× reader + decode's time (in-order traffic, best of ${reps} against best of ${reps})`,
      value: reasm.timeVsDecode,
      shown: `${fmt(reasm.timeVsDecode, 2)}× (${fmt(reasm.bestSeconds, 3)} s against ${fmt(decode.bestSeconds, 3)} s)`,
      pass: reasm.timeVsDecode <= TARGET_REASSEMBLY_VS_DECODE,
    },
  ];
  const failed = results.filter((r) => r.mismatches.length > 0);
  if (failed.length > 0) {
    console.log('\nCOUNT MISMATCH (these figures are not comparable):');
    for (const r of failed) console.log(`  ${r.label}: ${r.mismatches.join('; ')}`);
  } else {
    console.log('\nAll contenders saw the same packets and byte counts as the generator wrote.');
  }
  return {
    targets,
    failed: failed.length > 0,
    json: {
      capture: { path: relative(ROOT, path), ...meta },
      rotated: { path: relative(ROOT, rotatedDir), ...rotated },
      warmReadSeconds: warmSeconds,
      baselineRssMiB: baseline.maxRssMiB,
      repetitions: reps,
      results,
      decodeVsPcapParser,
    },
  };
}

function sqlSection(reps: number): SectionOutcome {
  console.log('\nSQL redaction + fingerprint + digest (src/sql) on a statement corpus');
  const sql = runSqlBench({ megabytes: envNumber('PERISCOPE_BENCH_SQL_MB', 50, 1), reps, log: (l) => console.log(`  ${l}`) });
  for (const line of sqlBenchLines(sql)) console.log(line);
  const target = {
    name: `SQL redaction + fingerprint ≥ ${TARGET_SQL_MBPS} MB/s`,
    value: sql.bytesPath.mbPerSecond,
    shown: `${fmt(sql.bytesPath.mbPerSecond, 0)} MB/s (bare byte loop on the same corpus: ${fmt(sql.bare.mbPerSecond, 0)} MB/s; template cache off: ${fmt(sql.noTemplates.mbPerSecond, 0)} MB/s)`,
    pass: sql.pass,
  };
  return { targets: [target], failed: false, json: { sql } };
}

async function tlsSection(reps: number): Promise<SectionOutcome> {
  console.log('\nTLS decryption (src/tls) on genuine node:tls sessions');
  const tls = await runTlsBench({ megabytes: envNumber('PERISCOPE_BENCH_TLS_MB', 32, 1), reps, log: (l) => console.log(`  ${l}`) });
  for (const line of tlsBenchLines(tls)) console.log(line);
  console.log('\nTLS end to end: periscope analyze of the same short-query workload in plaintext and over TLS 1.3, side by side');
  const e2e = await runTlsAnalyzeBench({ root: ROOT, dataDir: DATA_DIR, queries: Math.floor(envNumber('PERISCOPE_BENCH_TLS_QUERIES', 150_000, 1)), reps, log: (l) => console.log(l) });
  for (const line of tlsAnalyzeLines(e2e)) console.log(line);
  // A run that did not deliver exactly the plaintext written, or whose counts differ from the
  // plaintext analysis, fails the bench, like a wrong count.
  return { targets: e2e.targets, failed: !tls.ok || e2e.failed, json: { tls, tlsAnalyze: e2e } };
}

async function analyzeSection(): Promise<SectionOutcome> {
  console.log('\nperiscope analyze end to end on a realistic MySQL capture, with tshark and pt-query-digest');
  const r = await runAnalyzeBench({
    root: ROOT,
    dataDir: DATA_DIR,
    mb: envNumber('PERISCOPE_BENCH_ANALYZE_MB', 1000, 1),
    sliceMb: envNumber('PERISCOPE_BENCH_SLICE_MB', 30, 1),
    reps: Math.floor(envNumber('PERISCOPE_BENCH_ANALYZE_REPS', 3, 1)),
    log: (l) => console.log(l),
  });
  console.log('');
  printAnalyzeResult(r, table, (l) => console.log(l));
  return { targets: r.targets, failed: r.failed, json: { analyze: r } };
}

/** Issue 19's targets on a real recorded sysbench capture (bench/sysbench.ts): recorded once, then reused. */
async function sysbenchSection(): Promise<SectionOutcome> {
  console.log('\nperiscope on a recorded sysbench oltp_read_write capture (MariaDB on loopback, real tcpdump)');
  const r = await runSysbenchBench({ root: ROOT, dataDir: DATA_DIR, reps: Math.floor(envNumber('PERISCOPE_BENCH_SYSBENCH_REPS', 3, 1)), log: (l) => console.log(l) });
  printSysbenchResult(r, table, (l) => console.log(l));
  return { targets: r.targets, failed: r.failed, json: { sysbench: r } };
}

/** `periscope live` under sysbench oltp_point_select at 50,000 queries/s, and the CPU split (bench/live.ts). */
async function liveSection(): Promise<SectionOutcome> {
  console.log('\nperiscope live -i lo under sysbench oltp_point_select (16 threads, --rate 50000): kernel drops and where the CPU goes');
  const r = await runLiveBench((l) => console.log(l));
  printLiveResult(r, table, (l) => console.log(l));
  return { targets: r.targets, failed: r.failed === true, json: { live: r } };
}

/**
 * Floods of connections that carry no MySQL byte (bench/flood.ts): peak RSS of `analyze` and
 * `info --json` at 10k, 100k and 500k SYN-only connections (PERISCOPE_BENCH_FLOOD, comma-separated,
 * changes the counts). PERISCOPE_BENCH_BASELINE=DIR adds another build (a checkout with build/)
 * measured side by side, up to 100k connections. Target: under 1 KiB of peak RSS per connection for analyze, from the
 * smallest flood to the largest.
 */
function floodSection(): SectionOutcome {
  console.log('\nFloods of SYN-only connections: peak RSS of analyze and info --json');
  const counts = (process.env.PERISCOPE_BENCH_FLOOD ?? '10000,100000,500000').split(',').map(Number).filter((n) => n > 0);
  const builds: { name: string; root: string; upTo?: number }[] = [{ name: 'this', root: ROOT }];
  const base = process.env.PERISCOPE_BENCH_BASELINE;
  // (Up to 100k: before issue 16 a flood cost about 13 KB per connection, 6.5 GB at 500k.)
  if (base) builds.push({ name: 'baseline', root: base, upTo: 100_000 });
  const rows = runFloodBench({ dataDir: DATA_DIR, counts, builds, rssScript: join(ROOT, 'build', 'bench', 'rss.js'), log: (l) => console.log(l) });
  const mine = rows.filter((r) => r.build === 'this' && r.command === 'analyze').sort((a, b) => a.connections - b.connections);
  const lo = mine[0]!;
  const hi = mine[mine.length - 1]!;
  const perConn = hi.connections > lo.connections ? ((hi.rssMiB - lo.rssMiB) * 1024 * 1024) / (hi.connections - lo.connections) : NaN;
  const targets: Target[] = [{ name: 'analyze: peak RSS per SYN-only connection', shown: `${perConn.toFixed(0)} bytes (target < 1024)`, pass: perConn < 1024, value: perConn }];
  return { targets, failed: false, json: { flood: { rows, perConnectionBytes: perConn } } };
}

async function parquetSection(): Promise<SectionOutcome> {
  console.log('\nperiscope events as Parquet against events as JSON lines, on the realistic capture of the analyze section');
  const r = await runParquetBench({
    root: ROOT,
    dataDir: DATA_DIR,
    mb: envNumber('PERISCOPE_BENCH_ANALYZE_MB', 1000, 1),
    sliceMb: envNumber('PERISCOPE_BENCH_SLICE_MB', 30, 1),
    reps: Math.floor(envNumber('PERISCOPE_BENCH_PARQUET_REPS', 3, 1)),
    log: (l) => console.log(l),
  });
  console.log('');
  printParquetResult(r, table, (l) => console.log(l));
  return { targets: r.targets, failed: r.failed, json: { parquet: r } };
}

function parseOnly(args: readonly string[]): Set<Section> {
  const i = args.indexOf('--only');
  if (i < 0) return new Set(SECTIONS);
  const names = (args[i + 1] ?? '').split(',').filter((x) => x !== '');
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) throw new Error(`--only ${args[i + 1] ?? ''}: expected one or more of ${SECTIONS.join(', ')}, comma-separated`);
  return new Set(names as Section[]);
}

async function parent(only: Set<Section>): Promise<number> {
  const reps = Math.floor(envNumber('PERISCOPE_BENCH_REPS', 5, 1));
  mkdirSync(DATA_DIR, { recursive: true });
  const cpuList = cpus();
  const machine = {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
  };
  const date = new Date().toISOString();
  console.log(`Periscope benchmark  ${date}  (sections: ${[...only].join(', ')})`);
  console.log(`Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}`);

  const outcomes: SectionOutcome[] = [];
  if (only.has('read')) outcomes.push(await readSection(reps));
  if (only.has('sql')) outcomes.push(sqlSection(reps));
  if (only.has('analyze')) outcomes.push(await analyzeSection());
  if (only.has('sysbench')) outcomes.push(await sysbenchSection());
  if (only.has('live')) outcomes.push(await liveSection());
  if (only.has('tls')) outcomes.push(await tlsSection(reps));
  if (only.has('flood')) outcomes.push(floodSection());
  if (only.has('parquet')) outcomes.push(await parquetSection());
  const targets = outcomes.flatMap((o) => o.targets);
  console.log('\nTargets');
  for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.shown}`);

  const jsonPath = join(DATA_DIR, 'last-run.json');
  const json = { date, machine, sections: [...only], ...Object.assign({}, ...outcomes.map((o) => o.json)), targets: targets.map(({ name, value, pass }) => ({ name, value, pass })) };
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`Results written to ${relative(process.cwd(), jsonPath) || jsonPath}`);
  return outcomes.some((o) => o.failed) ? 1 : 0;
}

const args = process.argv.slice(2);
if (args[0] === '--contender' && args.length === 3) {
  await child(args[1]!, args[2]!);
} else {
  let only: Set<Section> | null = null;
  try {
    only = parseOnly(args);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
  if (only !== null) process.exitCode = await parent(only);
}

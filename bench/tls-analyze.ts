/**
 * End to end: `periscope analyze` of the same short-query workload in plaintext and over TLS 1.3
 * (AES-128-GCM, ChaCha20-Poly1305) with its key log, side by side in one run (issue 15: "decryption
 * costs at most 1.5× the time of analyzing the same workload in plaintext").
 *
 * Captures: bench/synth-tls.ts, PERISCOPE_BENCH_TLS_QUERIES queries (default 150,000), made once in
 * bench/data/tls-<queries>/ and reused while their sidecar matches; read once before timing (page
 * cache). Each run is a child process under GNU time (CPU time), round-robin over the captures,
 * PERISCOPE_BENCH_REPS runs (best reported):
 *   node bin/periscope.js analyze FILE --format json -q -o OUT [--keylog FILE.keys]
 * and the start-up cost alone: the same command on samples/mariadb-basic.pcap (a few packets).
 * Checked: every run reports the same commands per fingerprint as the plaintext run and the number
 * of queries written, and the TLS runs say their connection was decrypted (else the bench fails).
 * Ratios: TLS over plaintext, best wall time against best wall time (the target), CPU time, and
 * the analysis alone (start-up subtracted from both).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { measure, warmPageCache, type Run } from './analyze.js';
import { tlsCaptures, TLS_VARIANTS, type TlsCapturesMeta } from './synth-tls.js';

/** Issue 15: decrypting costs at most 1.5× the plaintext analysis of the same workload. */
export const TARGET_TLS_VS_PLAIN = 1.5;

export interface TlsAnalyzeLine {
  name: string;
  label: string;
  file: string;
  bytes: number;
  runs: Run[];
  bestSeconds: number;
  bestCpuSeconds: number | null;
  commands: number;
  /** Best wall time over the plaintext's best (1 for the plaintext line). */
  vsPlain: number;
  vsPlainCpu: number | null;
  /** (best − start-up) over (plaintext best − start-up). */
  vsPlainAnalysis: number;
  health: string;
}

export interface TlsAnalyzeResult {
  queries: number;
  loadBefore: number[];
  loadAfter: number[];
  startupSeconds: number;
  lines: TlsAnalyzeLine[];
  targets: { name: string; shown: string; pass: boolean; value: number }[];
  /** A run's counts differ from the plaintext run's, or a TLS connection was not decrypted. */
  failed: boolean;
  problems: string[];
}

interface Report {
  overall: { commands: number; queries: number };
  health: { status: string; notes: string[] };
  fingerprints: { fingerprint: string; count: number }[];
}

const SEED = 20261207;
const best = (runs: readonly Run[]): Run => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

export async function runTlsAnalyzeBench(opts: { root: string; dataDir: string; queries: number; reps: number; log: (line: string) => void }): Promise<TlsAnalyzeResult> {
  const { root, log } = opts;
  const meta: TlsCapturesMeta = await tlsCaptures(join(opts.dataDir, `tls-${opts.queries}`), opts.queries, SEED, (l) => log(`  ${l}`));
  const bin = join(root, 'bin', 'periscope.js');
  const scratch = join(opts.dataDir, 'tls-scratch');
  mkdirSync(scratch, { recursive: true });
  warmPageCache(TLS_VARIANTS.map((v) => meta.files[v.name]!.path));
  const loadBefore = loadavg();
  log(`  load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  const argv = (file: string, keylog: string | null, out: string): string[] => [process.execPath, bin, 'analyze', file, '--format', 'json', '-q', '-o', out, ...(keylog ? ['--keylog', keylog] : [])];
  const runs = new Map<string, Run[]>(TLS_VARIANTS.map((v) => [v.name, []]));
  const startup: Run[] = [];
  const sample = join(root, 'samples', 'mariadb-basic.pcap');
  const reports = new Map<string, Report>();
  for (let rep = 1; rep <= opts.reps; rep++) {
    startup.push(await measure(argv(sample, null, join(scratch, 'startup.json')), null, scratch));
    const shown: string[] = [];
    for (const v of TLS_VARIANTS) {
      const f = meta.files[v.name]!;
      const out = join(scratch, `${v.name}.json`);
      const r = await measure(argv(f.path, f.keylog, out), null, scratch);
      runs.get(v.name)!.push(r);
      if (rep === 1) reports.set(v.name, JSON.parse(readFileSync(out, 'utf8')) as Report);
      shown.push(`${v.name} ${r.seconds.toFixed(2)} s`);
    }
    log(`  run ${rep}/${opts.reps}  ${shown.join('  ')}  (start-up ${startup[startup.length - 1]!.seconds.toFixed(2)} s)`);
  }
  const loadAfter = loadavg();
  log(`  load average after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);

  const problems: string[] = [];
  const plainReport = reports.get('plain')!;
  const counts = (r: Report): string => JSON.stringify(r.fingerprints.map((f) => [f.fingerprint, f.count]).sort());
  if (plainReport.overall.queries !== meta.queries) problems.push(`plaintext: ${plainReport.overall.queries} queries reported, ${meta.queries} written`);
  const startupSeconds = best(startup).seconds;
  const plainBest = best(runs.get('plain')!);
  const lines: TlsAnalyzeLine[] = TLS_VARIANTS.map((v) => {
    const r = reports.get(v.name)!;
    const b = best(runs.get(v.name)!);
    if (v.name !== 'plain') {
      if (counts(r) !== counts(plainReport)) problems.push(`${v.label}: the commands per fingerprint differ from the plaintext run's`);
      if (!r.health.notes.some((n) => /1 of 1 TLS connection decrypted/.test(n))) problems.push(`${v.label}: the TLS connection was not reported decrypted (${r.health.notes.join('; ')})`);
    }
    return {
      name: v.name,
      label: v.label,
      file: meta.files[v.name]!.path,
      bytes: meta.files[v.name]!.size,
      runs: runs.get(v.name)!,
      bestSeconds: b.seconds,
      bestCpuSeconds: b.cpuSeconds,
      commands: r.overall.commands,
      vsPlain: b.seconds / plainBest.seconds,
      vsPlainCpu: b.cpuSeconds !== null && plainBest.cpuSeconds ? b.cpuSeconds / plainBest.cpuSeconds : null,
      vsPlainAnalysis: (b.seconds - startupSeconds) / Math.max(1e-3, plainBest.seconds - startupSeconds),
      health: r.health.status,
    };
  });
  rmSync(scratch, { recursive: true, force: true });
  const targets = lines
    .filter((l) => l.name !== 'plain')
    .map((l) => ({
      name: `TLS: analyze of ${l.label} ≤ ${TARGET_TLS_VS_PLAIN}× the plaintext (${opts.queries.toLocaleString('en-US')} short queries)`,
      shown: `${l.vsPlain.toFixed(2)}× wall, best against best (CPU ${l.vsPlainCpu?.toFixed(2) ?? '?'}×; the analysis alone, start-up of ${startupSeconds.toFixed(2)} s taken off both: ${l.vsPlainAnalysis.toFixed(2)}×)`,
      pass: l.vsPlain <= TARGET_TLS_VS_PLAIN,
      value: l.vsPlain,
    }));
  return { queries: opts.queries, loadBefore, loadAfter, startupSeconds, lines, targets, failed: problems.length > 0, problems };
}

export function tlsAnalyzeLines(r: TlsAnalyzeResult): string[] {
  const rows = r.lines.map((l) => [
    l.label,
    (l.bytes / 1e6).toFixed(1),
    l.commands.toLocaleString('en-US'),
    l.bestSeconds.toFixed(2),
    l.bestCpuSeconds?.toFixed(2) ?? '?',
    `${l.vsPlain.toFixed(2)}×`,
    l.vsPlainCpu === null ? '?' : `${l.vsPlainCpu.toFixed(2)}×`,
    `${l.vsPlainAnalysis.toFixed(2)}×`,
  ]);
  const headers = ['periscope analyze', 'MB', 'commands', 'best s', 'CPU s', 'vs plain', 'CPU vs plain', 'analysis vs plain'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line), `(start-up alone, analyze of a few packets: ${r.startupSeconds.toFixed(2)} s)`];
  for (const p of r.problems) out.push(`WRONG: ${p}`);
  return out;
}

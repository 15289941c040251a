/**
 * `npm run bench -- --only parquet` (issue 18): what writing the events as Parquet costs against
 * writing them as JSON lines, side by side in one run, on the large realistic capture of the analyze
 * section (bench/synth-mysql.ts, PERISCOPE_BENCH_ANALYZE_MB, default 1000 MB, made once and reused)
 * and on its 30 MB slice (PERISCOPE_BENCH_SLICE_MB):
 *
 *   events json     node bin/periscope.js events FILE > OUT.jsonl
 *   events parquet  node bin/periscope.js events FILE --format parquet -o DIR  (DIR emptied first)
 *
 * Each PERISCOPE_BENCH_PARQUET_REPS times (default 3), round-robin, under GNU time (peak RSS, CPU);
 * the best wall time of each is compared. Peak RSS on the slice and on the capture 33 times its
 * size shows whether memory is bounded. Every run's event count is checked: the Parquet's rows
 * (read back from the files' footers) must equal the JSON lines.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lineOf, measure, warmPageCache, type Line, type Run } from './analyze.js';
import { existingMysqlCapture, synthesizeMysqlCapture } from './synth-mysql.js';

export const TARGET_PARQUET_VS_JSON = 1.3;
/** Peak RSS of the Parquet writer on the large capture at most this much above the JSON events' (MB). */
export const TARGET_PARQUET_EXTRA_RSS_MB = 150;
const SEED = 20250303;

/** A line of the analyze section's table, with what was written. */
export type ParquetLine = Line & { outputBytes: number; events: number };

export interface ParquetBenchResult {
  lines: ParquetLine[];
  ratio: number;
  cpuRatio: number | null;
  targets: { name: string; shown: string; pass: boolean; value?: number }[];
  failed: boolean;
}

function capture(dataDir: string, mb: number, log: (l: string) => void): string {
  const path = join(dataDir, `mysql-app-${mb}MB.pcap`);
  const target = Math.round(mb * 1e6);
  if (existingMysqlCapture(path, target, SEED) === null) {
    log(`Writing ${relative(process.cwd(), path)} (${mb} MB of realistic MySQL traffic)…`);
    synthesizeMysqlCapture(path, target, SEED);
  }
  return path;
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path, { recursive: true, encoding: 'utf8' }).reduce((a, f) => {
    const st = statSync(join(path, f));
    return a + (st.isFile() ? st.size : 0);
  }, 0);
}

/** Rows in every Parquet file under `dir`, from the footers (hyparquet, the writer's own reader). */
async function parquetRows(dir: string): Promise<number> {
  const { parquetMetadataAsync, asyncBufferFromFile } = await import('hyparquet');
  let n = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.parquet'))) {
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(join(dir, f)));
    n += Number(meta.num_rows);
  }
  return n;
}

/** Lines of a file (events), counted in chunks: the file can be gigabytes. */
function jsonLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  let n = 0;
  for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) for (let i = 0; i < got; i++) if (buf[i] === 10) n++;
  closeSync(fd);
  return n;
}

export async function runParquetBench(opts: { root: string; dataDir: string; mb: number; sliceMb: number; reps: number; log: (l: string) => void }): Promise<ParquetBenchResult> {
  const { root, dataDir, log } = opts;
  const bin = join(root, 'bin', 'periscope.js');
  const scratch = join(dataDir, 'parquet-out');
  mkdirSync(scratch, { recursive: true });
  const inputs = [capture(dataDir, opts.sliceMb, log), capture(dataDir, opts.mb, log)];
  const warm = warmPageCache(inputs);
  log(`Page cache: the captures read once in ${warm.toFixed(2)} s before timing. ${opts.reps} runs each, round-robin, best reported.`);
  const lines: ParquetLine[] = [];
  let failed = false;
  for (const input of inputs) {
    const jsonOut = join(scratch, 'events.jsonl');
    const dir = join(scratch, 'events-parquet');
    const runs: { json: Run[]; parquet: Run[] } = { json: [], parquet: [] };
    const counts = { json: 0, parquet: 0 };
    for (let rep = 0; rep < opts.reps; rep++) {
      runs.json.push(await measure(['node', bin, 'events', input], jsonOut, scratch));
      rmSync(dir, { recursive: true, force: true });
      runs.parquet.push(await measure(['node', bin, 'events', input, '--format', 'parquet', '-o', dir], null, scratch));
      log(`  run ${rep + 1}/${opts.reps} ${relative(process.cwd(), input)}: json ${runs.json.at(-1)!.seconds.toFixed(2)} s, parquet ${runs.parquet.at(-1)!.seconds.toFixed(2)} s`);
    }
    counts.json = jsonLines(jsonOut);
    counts.parquet = await parquetRows(dir);
    if (counts.json !== counts.parquet) {
      failed = true;
      log(`COUNT MISMATCH on ${input}: ${counts.json} JSON events, ${counts.parquet} Parquet rows`);
    }
    const inputBytes = statSync(input).size;
    for (const [name, rs, out, events] of [['events json', runs.json, jsonOut, counts.json], ['events parquet', runs.parquet, dir, counts.parquet]] as const) {
      lines.push({ ...lineOf(name, relative(root, input), inputBytes, rs, `${events} events`), outputBytes: sizeOf(out), events });
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  const big = lines.slice(-2);
  const [json, parquet] = [big[0]!, big[1]!];
  const ratio = parquet.best.seconds / json.best.seconds;
  const cpuRatio = parquet.best.cpuSeconds && json.best.cpuSeconds ? parquet.best.cpuSeconds / json.best.cpuSeconds : null;
  const extraRss = parquet.peakRssMB !== null && json.peakRssMB !== null ? parquet.peakRssMB - json.peakRssMB : null;
  const targets = [
    { name: `events --format parquet ≤ ${TARGET_PARQUET_VS_JSON}× events (JSON) on the ${opts.mb} MB capture (best of ${opts.reps} against best of ${opts.reps})`, value: ratio, shown: `${ratio.toFixed(2)}× (${parquet.best.seconds.toFixed(2)} s against ${json.best.seconds.toFixed(2)} s; CPU ${cpuRatio?.toFixed(2) ?? '?'}×)`, pass: ratio <= TARGET_PARQUET_VS_JSON },
    { name: `events --format parquet peak RSS ≤ JSON events' + ${TARGET_PARQUET_EXTRA_RSS_MB} MB on the ${opts.mb} MB capture`, value: extraRss ?? undefined, shown: `${parquet.peakRssMB?.toFixed(0) ?? '?'} MB against ${json.peakRssMB?.toFixed(0) ?? '?'} MB (on the ${opts.sliceMb} MB slice: ${lines[1]!.peakRssMB?.toFixed(0) ?? '?'} MB)`, pass: extraRss !== null && extraRss <= TARGET_PARQUET_EXTRA_RSS_MB },
  ];
  return { lines, ratio, cpuRatio, targets, failed };
}

export function printParquetResult(r: ParquetBenchResult, table: (h: string[], rows: string[][], left?: number) => string, log: (l: string) => void): void {
  log(
    table(
      ['contender', 'input', 'best s', 'all runs s', 'MB/s', 'CPU s', 'peak RSS MB', 'events', 'output MB'],
      r.lines.map((l) => [l.name, l.input, l.best.seconds.toFixed(2), l.runs.map((x) => x.seconds.toFixed(2)).join(' '), l.mbPerSecond.toFixed(0), l.best.cpuSeconds?.toFixed(2) ?? '?', l.peakRssMB?.toFixed(0) ?? '?', l.events.toLocaleString('en-US'), (l.outputBytes / 1e6).toFixed(1)]),
      2,
    ),
  );
  log(`Parquet against JSON on the large capture: ${r.ratio.toFixed(2)}× the wall time, ${r.cpuRatio?.toFixed(2) ?? '?'}× the CPU time.`);
}

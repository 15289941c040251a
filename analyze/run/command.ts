/**
 * `periscope analyze FILE…` — the query report — and `periscope merge SUMMARY…`.
 *
 * analyze: read the captures, aggregate the events that pass the filters, render the report (text,
 * json, html) or write the events as a slow query log (slowlog). `--save-summary` also writes the
 * aggregate for `merge`. Ctrl-C stops reading and reports what was read.
 */
import { createWriteStream } from 'node:fs';
import { OUTPUT_MODE, unwritable } from '../output.js';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import { anythingRead, reportFileProblems } from '../read/problems.js';
import { Aggregator, type AggregateState } from '../aggregate/aggregate.js';
import { trafficDigest } from '../diff/diff.js';
import { buildReport, type CaptureInfo, type InputFile, type Order, type Report } from '../report/report.js';
import { applyManifests } from './manifests.js';
import { SlowlogWriter, SLOWLOG_HEADER } from '../report/slowlog.js';
import { readSummary, writeSummary, SUMMARY_FORMAT, SUMMARY_VERSION, SummaryError, type Summary } from '../aggregate/summary.js';
import { renderReport } from '../report/render.js';
import { periscopeVersion } from '../../common/version.js';
import { isoTime } from '../../common/time.js';
import { analyzeCaptures, watchRead, type Analysis } from './run.js';
import { buildFilter, describeFilters, FilterError, FilterMisses, type FilterOptions } from './filters.js';
import { isBundleFile, readBundles, type BundleInput, type BundlesRead } from '../bundle/source.js';
import type { Io } from '../io.js';
import type { ParquetOutput } from '../parquet/sink.js';
import { availableParallelism } from 'node:os';
import { analyzeInParallel } from './parallel.js';
import { realPath } from '../read/real-path.js';
import { keyLogsFor } from '../read/keylog.js';

export const FORMATS = ['text', 'json', 'html', 'slowlog'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  format: Format;
  output: string | null;
  order: Order;
  limit: number;
  /** Colour in text output (a TTY, without NO_COLOR). */
  color: boolean;
}

export interface AnalyzeOptions extends RenderOptions {
  files: string[];
  ports: number[];
  tcp?: TcpLimits;
  redact: boolean;
  filters: FilterOptions;
  saveSummary: string | null;
  /** Progress on stderr (a TTY, without --quiet). */
  progress: boolean;
  /** Worker threads; 1: all in the main thread. */
  threads: number;
  /** TLS key logs (files or directories) to decrypt TLS connections with. */
  keylog?: string[];
  /** Also write every event that passes the filters as Parquet (--events-parquet DIR). */
  eventsParquet?: ParquetOutput | null;
}

/** A mistake in the options found before reading (exit 1). */
export class AnalyzeUsageError extends Error {}

export async function runAnalyze(opts: AnalyzeOptions, io: Io): Promise<number> {
  let filter;
  try {
    filter = buildFilter(opts.filters);
  } catch (e) {
    if (e instanceof FilterError) throw new AnalyzeUsageError(e.message);
    throw e;
  }
  if (opts.output !== null) checkWritable('--output', opts.output);
  if (opts.saveSummary !== null) checkWritable('--save-summary', opts.saveSummary);
  if (opts.format === 'slowlog' && opts.saveSummary === null && opts.limit !== DEFAULT_LIMIT) io.warn('--limit has no effect on --format slowlog (every command is written)');
  if (!opts.redact) io.warn('--no-redact: examples, SQL and error messages are shown as captured; they may hold customer data');

  // Slow log: stream the events as they come (a capture of any size).
  let slowlog: ((e: import('../../src/mysql/session.js').CommandEvent) => void) | undefined;
  let closeSlowlog = async (): Promise<void> => {};
  let drain: (() => Promise<void>) | undefined;
  if (opts.format === 'slowlog') {
    const writer = new SlowlogWriter(opts.redact);
    const sink = sinkFor(opts.output, io);
    sink.write(SLOWLOG_HEADER);
    slowlog = (e) => {
      const s = writer.entry(e);
      if (s) sink.write(s);
    };
    closeSlowlog = sink.close;
    drain = sink.drain;
  }

  // Bundles (periscope bundle's .tar.gz) are read from their redacted events; the rest are captures.
  const isBundle = await Promise.all(opts.files.map((f) => isBundleFile(f)));
  const bundlePaths = opts.files.filter((_, i) => isBundle[i]);
  const captureFiles = opts.files.filter((_, i) => !isBundle[i]);
  const keys = await keyLogsFor(captureFiles, opts.keylog ?? []); // KeyLogError: a usage error (cli), before any work
  for (const w of keys.warnings()) io.warn(w);
  // Parquet: every event that passes the filters, as the report counts them.
  const pq = opts.eventsParquet ? await import('../parquet/sink.js') : null;
  let sink: import('../parquet/sink.js').EventsParquetSink | null = null;
  if (opts.eventsParquet && pq) {
    const why = pq.unwritableDir('--events-parquet', opts.eventsParquet.dir);
    if (why !== null) throw new AnalyzeUsageError(why);
    if (opts.threads !== 1) io.warn('--events-parquet reads with one thread (--threads is ignored)');
    sink = new pq.EventsParquetSink({ dir: opts.eventsParquet.dir, host: await pq.hostLabelOf(opts.eventsParquet, captureFiles, io.warn), sql: opts.eventsParquet.sql, version: periscopeVersion() });
  }
  const parquetSink = sink;
  const onEvent =
    parquetSink === null
      ? slowlog
      : slowlog === undefined
        ? (e: import('../../src/mysql/session.js').CommandEvent) => parquetSink.add(e)
        : (e: import('../../src/mysql/session.js').CommandEvent) => {
            slowlog(e);
            parquetSink.add(e);
          };

  const watch = await watchRead(captureFiles, io, { progress: opts.progress, interrupted: 'reporting what was read so far' });
  const hooks = { ...watch.hooks, beforeRead: drain };
  // Workers only when asked (docs/performance.md: they do not always pay), and never for the
  // slow log, which needs one global time order, nor for Parquet, written from this thread.
  const threads = onEvent ? 1 : opts.threads === 0 ? Math.min(4, availableParallelism()) : opts.threads;
  let result: Analysis;
  let fromBundles: BundlesRead | null = null;
  try {
    result =
      captureFiles.length === 0
        ? { aggregate: new Aggregator({ raw: !opts.redact }), files: [], inputs: [], packets: 0, stopped: false, misses: new FilterMisses() }
        : threads > 1
          ? await analyzeInParallel({ files: captureFiles, workers: threads, ports: opts.ports, tcp: opts.tcp, filters: opts.filters, raw: !opts.redact, keylog: opts.keylog ?? [], hooks })
          : await analyzeCaptures({ files: captureFiles, ports: opts.ports, tcp: opts.tcp, filter, raw: !opts.redact, onEvent, hooks, keys });
    if (bundlePaths.length > 0) {
      const agg = result.aggregate;
      const misses = result.misses;
      fromBundles = await readBundles(
        bundlePaths,
        (e) => {
          if (filter !== null && !filter(e)) {
            misses?.add(e);
            return;
          }
          agg.add(e);
          onEvent?.(e);
        },
        agg.health,
        io,
      );
    }
    if (sink !== null && opts.eventsParquet) io.info?.(pq!.sinkSummary(sink.close(), opts.eventsParquet.dir));
  } catch (e) {
    if (pq === null || !(e instanceof pq.ParquetSinkError)) throw e;
    io.error(`${e.message}; the Parquet files finished before it are complete, the one being written is left as a .tmp file`);
    return 2;
  } finally {
    watch.end();
  }
  await closeSlowlog();
  let code = captureFiles.length === 0 ? 0 : reportFileProblems(result.files, io);
  if (fromBundles !== null) code ||= fromBundles.code;
  if (fromBundles !== null) {
    const twice = countedTwice(result.inputs, fromBundles.sources);
    if (twice !== null) {
      io.error(twice);
      return 2;
    }
  }
  // Nothing could be read (missing files, not captures): no report of nothing, the errors say why.
  const bundlesRead = fromBundles?.bundles.length ?? 0;
  if (bundlesRead === 0 && (result.inputs.length === 0 || !anythingRead(result.files))) return code === 0 ? 2 : code;
  const captures = [...(captureFiles.length ? await applyManifests(result.aggregate.health, captureFiles, io.warn) : []), ...(fromBundles?.captures ?? [])];
  const inputs = [...result.inputs, ...(fromBundles?.files ?? [])];
  const bundles = fromBundles?.bundles;

  const state = result.aggregate.toState();
  const filters = describeFilters(opts.filters);
  if (filters !== null && state.overall.events === 0 && !result.stopped) {
    const misses = result.misses; // one thread only
    io.warn(`no command passed the filters${misses !== undefined && misses.count > 0 ? `; ${misses.describe(isoTime)}` : ''}`);
  }
  if (opts.saveSummary !== null) {
    const summary: Summary = { format: SUMMARY_FORMAT, version: SUMMARY_VERSION, periscope: periscopeVersion(), redacted: opts.redact, ports: opts.ports, filters, interrupted: result.stopped, files: inputs, captures, ...(bundles ? { bundles } : {}), state };
    await writeSummary(opts.saveSummary, summary);
  }
  if (opts.format !== 'slowlog') {
    const report = buildReport(state, { version: periscopeVersion(), files: inputs, captures, bundles, filters, order: opts.order, redacted: opts.redact, interrupted: result.stopped });
    await emit(report, opts, io);
  }
  return code;
}

/** A capture file as its content shows it, wherever it lies: size, packets and time range. */
const sameCapture = (a: InputFile, b: InputFile): boolean => a.size === b.size && a.packets === b.packets && a.first === b.first && a.last === b.last;

/**
 * Why reading these bundles with these captures would count commands twice, or null: a bundle
 * made from a capture also named (its events are that capture's commands), or two bundles of one
 * capture made with the same filters (a bundle named twice, or a copy).
 */
export function countedTwice(captures: readonly InputFile[], bundles: BundlesRead['sources']): string | null {
  for (const [i, b] of bundles.entries()) {
    for (const f of b.files) {
      const capture = captures.find((c) => sameCapture(c, f));
      if (capture !== undefined) return `${b.path}: a bundle made from ${capture.path}, which is also named: its commands would be counted twice; analyze the capture or its bundle, not both`;
      const twin = bundles.slice(0, i).find((o) => JSON.stringify(o.filters) === JSON.stringify(b.filters) && o.files.some((g) => sameCapture(g, f)));
      if (twin !== undefined) return `${b.path}: made from ${f.path} with the same filters as ${twin.path} (${twin.path === b.path ? 'named twice' : 'a copy?'}): its commands would be counted twice; name each bundle once`;
    }
  }
  return null;
}

export interface MergeOptions extends RenderOptions {
  summaries: string[];
}

/** `periscope merge SUMMARY…`: one report of several summaries, as if their captures were analysed together. */
export async function runMerge(opts: MergeOptions, io: Io): Promise<number> {
  if (opts.format === 'slowlog') throw new AnalyzeUsageError('--format slowlog needs the captures (a summary holds no events): use analyze --format slowlog');
  if (opts.output !== null) checkWritable('--output', opts.output);
  const agg = new Aggregator();
  const files: InputFile[] = [];
  const captures: CaptureInfo[] = [];
  let redacted = true;
  let interrupted = false;
  let filters: Summary['filters'] = null;
  // The same capture twice would count its commands twice: refused (a summary named twice, a copy
  // of one, or two summaries of one capture made with the same filters). Summaries of one capture
  // with different filters (disjoint --since/--until windows) are merged, with a warning.
  const named = new Map<string, string>();
  for (const path of opts.summaries) {
    const real = realPath(path);
    const before = named.get(real);
    if (before !== undefined) throw new AnalyzeUsageError(`${path}: named twice (${before === path ? 'the same name' : `also as ${before}`}): merging it with itself would count its commands twice`);
    named.set(real, path);
  }
  const seen = new Map<string, { summary: string; filters: string }>();
  // The same traffic from two inputs (a copy of a summary, a summary and a bundle of one capture):
  // refused, by the digest diff refuses it with.
  const states = new Map<string, string>();
  const sameTraffic = (path: string, state: AggregateState): boolean => {
    const digest = trafficDigest(state);
    const twin = states.get(digest);
    if (twin !== undefined) {
      io.error(`${path}: the same traffic as ${twin} (a copy, or a summary or bundle of the same capture?): merging them would count the same commands twice; name each capture's summary or bundle once`);
      return false;
    }
    states.set(digest, path);
    return true;
  };
  const bundles: BundleInput[] = [];
  for (const path of opts.summaries) {
    if (await isBundleFile(path)) {
      // A bundle: its redacted events, verified first, aggregated on their own to know their traffic.
      const own = new Aggregator();
      const r = await readBundles([path], (e) => own.add(e), own.health, io);
      if (r.code !== 0) return r.code;
      const state = own.toState();
      if (!sameTraffic(path, state)) return 2;
      for (const f of r.files) {
        const key = `${f.path}\0${f.size}\0${f.first}`;
        if (seen.has(key)) io.warn(`${path}: ${f.path} is also in another input: its commands are counted twice`);
        else seen.set(key, { summary: path, filters: 'bundle' });
        files.push(f);
      }
      captures.push(...r.captures);
      bundles.push(...r.bundles);
      agg.merge(state);
      continue;
    }
    let s: Summary;
    try {
      s = await readSummary(path);
    } catch (e) {
      if (e instanceof SummaryError) {
        io.error(e.message);
        return 2;
      }
      throw e;
    }
    if (s.periscope !== periscopeVersion()) io.warn(`${path}: made by Periscope ${s.periscope} (this is ${periscopeVersion()}); merged anyway`);
    // Its state as a bundle's or a capture's is made (merged into an empty aggregate): the same digest for the same traffic.
    const own = new Aggregator();
    own.merge(s.state);
    if (!sameTraffic(path, own.toState())) return 2;
    const sf = JSON.stringify(s.filters);
    for (const f of s.files) {
      const key = `${f.path}\0${f.size}\0${f.first}`;
      const other = seen.get(key);
      if (other !== undefined && other.filters === sf) {
        io.error(`${path}: made from ${f.path}, as ${other.summary} is, with the same filters: merging them would count its commands twice; merge summaries of different captures (or of disjoint --since/--until windows)`);
        return 2;
      }
      if (other !== undefined) io.warn(`${path}: ${f.path} is also in ${other.summary}, made with other filters: commands that pass both are counted twice`);
      else seen.set(key, { summary: path, filters: sf });
      files.push(f);
    }
    captures.push(...(s.captures ?? []));
    bundles.push(...(s.bundles ?? []));
    redacted &&= s.redacted;
    interrupted ||= s.interrupted;
    if (s.filters !== null) {
      if (filters !== null && JSON.stringify(filters) !== JSON.stringify(s.filters)) io.warn(`${path}: made with other filters than the first summary (${JSON.stringify(s.filters)})`);
      filters ??= s.filters;
    }
    agg.merge(s.state);
  }
  if (!redacted) io.warn('some summaries were made with --no-redact: their examples hold literal values');
  const report = buildReport(agg.toState(), { version: periscopeVersion(), files, captures, bundles, filters, order: opts.order, redacted, interrupted });
  await emit(report, opts, io);
  return 0;
}


export const DEFAULT_LIMIT = 20;

/** A file named by an option must be writable: found out before the work, not after it. */
function checkWritable(opt: string, path: string): void {
  const why = unwritable(opt, path);
  if (why !== null) throw new AnalyzeUsageError(why);
}

async function emit(report: Report, opts: RenderOptions, io: Io): Promise<void> {
  if (opts.format === 'slowlog') throw new Error('the slow log is streamed, never rendered from a report');
  const text = renderReport(report, opts.format, { limit: opts.limit, color: opts.color && opts.output === null });
  if (opts.output === null) io.out(text);
  else {
    await writeFile(opts.output, text, { mode: OUTPUT_MODE });
  }
}

/**
 * Where streamed output goes: stdout, or a file (0600). A slow reader of the output holds the
 * capture reading back (`drain`), so memory stays bounded.
 */
function sinkFor(output: string | null, io: Io): { write(s: string): void; close(): Promise<void>; drain: () => Promise<void> } {
  if (output === null) {
    let buf = '';
    return {
      write(s) {
        buf += s;
        if (buf.length > 1 << 16) {
          io.out(buf);
          buf = '';
        }
      },
      close: async () => {
        if (buf) io.out(buf);
      },
      drain: async () => {
        await io.drain?.();
      },
    };
  }
  const ws = createWriteStream(output, { mode: OUTPUT_MODE });
  return {
    write: (s) => void ws.write(s),
    close: () => new Promise((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve()))),
    drain: async () => {
      if (ws.writableNeedDrain) await once(ws, 'drain');
    },
  };
}

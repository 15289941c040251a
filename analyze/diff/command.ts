/**
 * `periscope diff BEFORE AFTER`: each side a capture (file or directory), a summary
 * (--save-summary) or a bundle; both are made into reports the way analyze / merge make them,
 * then compared fingerprint by fingerprint (diff.ts) and rendered (render.ts).
 */
import { open, stat, writeFile } from 'node:fs/promises';
import { gunzipSync, constants as zlib } from 'node:zlib';
import type { Io } from '../io.js';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import { OUTPUT_MODE, unwritable } from '../output.js';
import { analyzeCaptures } from '../run/run.js';
import { realPath } from '../read/real-path.js';
import { keyLogsFor } from '../read/keylog.js';
import { applyManifests } from '../run/manifests.js';
import { anythingRead, reportFileProblems } from '../read/problems.js';
import { Aggregator } from '../aggregate/aggregate.js';
import { buildReport, noCommandReason } from '../report/report.js';
import { readSummary, SummaryError } from '../aggregate/summary.js';
import { isBundleFile, readBundles } from '../bundle/source.js';
import { periscopeVersion } from '../../common/version.js';
import { DEFAULT_DIFF, diffReports, trafficDigest, type DiffSettings, type Side } from './diff.js';
import { renderDiff, type DiffFormat } from './render.js';

export interface DiffOptions extends DiffSettings {
  before: string;
  after: string;
  ports: number[];
  tcp?: TcpLimits;
  format: DiffFormat;
  output: string | null;
  limit: number;
  /** Show the fingerprints without a significant change too (text). */
  all: boolean;
  /** TLS key logs (files or directories) to decrypt the captures' TLS connections with. */
  keylog?: string[];
}

export class DiffUsageError extends Error {}

export async function runDiff(opts: DiffOptions, io: Io): Promise<number> {
  if (opts.output !== null) {
    const why = unwritable('--output', opts.output);
    if (why !== null) throw new DiffUsageError(why);
  }
  if (!(opts.alpha > 0 && opts.alpha < 1)) throw new DiffUsageError(`--alpha ${opts.alpha}: expected a probability between 0 and 1 (e.g. 0.01)`);
  if (!(opts.minChange >= 0)) throw new DiffUsageError(`--min-change ${opts.minChange}: expected a fraction of at least 0 (0.1: 10 %)`);
  // One input on both sides compares nothing: refused, as merge refuses a summary named twice.
  if (realPath(opts.before) === realPath(opts.after)) {
    throw new DiffUsageError(`${opts.after}: named as both BEFORE and AFTER (${opts.before === opts.after ? 'the same name' : `also as ${opts.before}`}): compared with itself it shows no change; name the capture (or summary, or bundle) from before the change, then the one from after`);
  }
  const before = await loadSide(opts.before, opts, io);
  if (typeof before === 'number') return before;
  const after = await loadSide(opts.after, opts, io);
  if (typeof after === 'number') return after;
  // A copy of the same input (or a summary of it made with the same filters): the same traffic.
  if (trafficDigest(before.state) === trafficDigest(after.state)) {
    io.error(`${opts.after}: the same traffic as ${opts.before} (a copy, or a summary or bundle of the same capture?): compared with itself it shows no change; name the capture from before the change, then the one from after`);
    return 2;
  }
  for (const [side, other] of [[before, 'new'], [after, 'gone']] as const) {
    const none = noCommandReason(side.report);
    if (none !== null) io.warn(`${side.label}: no command: ${none}; so every fingerprint of the other side shows as ${other}`);
  }
  if (before.report.inputs.redacted !== after.report.inputs.redacted) io.warn('one side was made with --no-redact: fingerprints are the same, examples are not shown');
  const d = diffReports(before, after, periscopeVersion(), { alpha: opts.alpha, minChange: opts.minChange, minCalls: opts.minCalls ?? DEFAULT_DIFF.minCalls });
  const text = renderDiff(d, opts.format, { limit: opts.limit, all: opts.all });
  if (opts.output === null) io.out(text);
  else await writeFile(opts.output, text, { mode: OUTPUT_MODE });
  return 0;
}


/** A summary (JSON, or gzip-compressed JSON) rather than a capture? By content. */
async function looksLikeSummary(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    const fh = await open(path, 'r');
    let head = Buffer.alloc(4096);
    try {
      head = head.subarray(0, (await fh.read(head, 0, head.length, 0)).bytesRead);
    } finally {
      await fh.close();
    }
    if (head[0] === 0x1f && head[1] === 0x8b) head = gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH });
    return head.toString('utf8').trimStart().startsWith('{');
  } catch {
    return false;
  }
}

/** One side as a report and its state; a number is the exit status when it could not be read (said on stderr). */
async function loadSide(path: string, opts: DiffOptions, io: Io): Promise<Side | number> {
  const context = { version: periscopeVersion(), filters: null, order: 'time' as const, interrupted: false };
  if (await isBundleFile(path)) {
    const agg = new Aggregator();
    const r = await readBundles([path], (e) => agg.add(e), agg.health, io);
    if (r.bundles.length === 0) return 2;
    const state = agg.toState();
    return { label: path, kind: 'bundle', state, report: buildReport(state, { ...context, files: r.files, captures: r.captures, bundles: r.bundles, redacted: true }) };
  }
  if (await looksLikeSummary(path)) {
    try {
      const s = await readSummary(path);
      const agg = new Aggregator();
      agg.merge(s.state);
      const state = agg.toState();
      return { label: path, kind: 'summary', state, report: buildReport(state, { ...context, files: s.files, captures: s.captures ?? [], bundles: s.bundles, filters: s.filters, redacted: s.redacted, interrupted: s.interrupted }) };
    } catch (e) {
      if (!(e instanceof SummaryError)) throw e;
      io.error(e.message);
      return 2;
    }
  }
  const keys = await keyLogsFor([path], opts.keylog ?? []); // KeyLogError: a usage error (cli), before any work
  for (const w of keys.warnings()) io.warn(w);
  const result = await analyzeCaptures({ files: [path], ports: opts.ports, tcp: opts.tcp, filter: null, raw: false, keys });
  const code = reportFileProblems(result.files, io);
  if (result.inputs.length === 0 || !anythingRead(result.files)) return code === 0 ? 2 : code;
  if (code !== 0) io.warn(`${path}: read with errors; compared anyway (its health says what was lost)`);
  const captures = await applyManifests(result.aggregate.health, [path], io.warn);
  const state = result.aggregate.toState();
  return { label: path, kind: 'capture', state, report: buildReport(state, { ...context, files: result.inputs, captures, redacted: true }) };
}

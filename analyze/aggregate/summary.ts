/**
 * Summaries (`analyze --save-summary FILE`, `merge SUMMARY…`): an aggregate's state with the list of
 * captures it was made from, as JSON (gzip when the name ends in .gz). Histograms and counts, never
 * events; examples redacted unless the analysis was made with --no-redact (and then marked so).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AggregateState } from './aggregate.js';
import { OUTPUT_MODE } from '../output.js';
import type { CaptureInfo, InputFile } from '../report/report.js';
import type { BundleInput } from '../bundle/source.js';

export const SUMMARY_FORMAT = 'periscope-summary';
/** 2: latencies are full response times; 1 held times to the response's first packet (refused: they cannot be converted). */
export const SUMMARY_VERSION = 2;

export interface Summary {
  format: typeof SUMMARY_FORMAT;
  version: number;
  periscope: string;
  redacted: boolean;
  /** Extra MySQL ports the analysis used. */
  ports: number[];
  filters: Record<string, string | string[]> | null;
  interrupted: boolean;
  files: InputFile[];
  /** Captures whose manifest was in an input directory (absent in summaries of older versions). */
  captures?: CaptureInfo[];
  /** Bundles the events were read from (when the analysis read bundles). */
  bundles?: BundleInput[];
  state: AggregateState;
}

export class SummaryError extends Error {}

export async function writeSummary(path: string, s: Summary): Promise<void> {
  const json = JSON.stringify(s);
  const data = path.endsWith('.gz') ? gzipSync(json) : json;
  // Redacted or not, a summary names users, hosts and tables: readable by its owner only.
  await writeFile(path, data, { mode: OUTPUT_MODE });
}

export async function readSummary(path: string): Promise<Summary> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SummaryError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory (name the summary files)' : err.message}`);
  }
  let text: string;
  try {
    text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  } catch {
    throw new SummaryError(`${path}: damaged gzip data (was the file cut short while copying?)`);
  }
  let s: Partial<Summary>;
  try {
    s = JSON.parse(text) as Partial<Summary>;
  } catch (e) {
    const why = text.trimStart().startsWith('{') ? `damaged JSON: ${(e as Error).message}` : 'not JSON; captures are read by analyze, not merge';
    throw new SummaryError(`${path}: not a Periscope summary (${why}); make one with 'periscope analyze CAPTURE… --save-summary FILE'`);
  }
  if (s === null || typeof s !== 'object' || s.format !== SUMMARY_FORMAT) throw new SummaryError(`${path}: not a Periscope summary (make one with 'periscope analyze CAPTURE… --save-summary FILE')`);
  if (s.version === 1) throw new SummaryError(`${path}: summary version 1, saved by an older Periscope: its latencies are times to the first byte of each response, not the full response times this version reports, and cannot be converted; make it again with 'periscope analyze CAPTURE… --save-summary FILE'`);
  if (s.version !== SUMMARY_VERSION) throw new SummaryError(`${path}: summary version ${String(s.version)} is not supported by this Periscope (it reads version ${SUMMARY_VERSION}); use the Periscope that wrote it`);
  const st = s.state;
  if (!st || !Array.isArray(st.groups) || !st.overall || !Array.isArray(st.errors) || !Array.isArray(st.slowest) || !st.timeline || !st.health || !Array.isArray(s.files)) {
    throw new SummaryError(`${path}: summary is incomplete or damaged (missing parts)`);
  }
  return s as Summary;
}

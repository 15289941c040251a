/** How every command reports what went wrong reading the files: one line each, on stderr. */
import type { Io } from '../io.js';
import type { FileReport } from './captures.js';
import type { CaptureProblem } from '../../src/pcap/record.js';

/** Damage notices shown per file; the rest are counted. */
const MAX_DAMAGE_LINES = 5;

/** `FILE: byte N: message` (the offset in decompressed data for gzip; none for file-level errors). */
export function problemLine(f: FileReport, p: CaptureProblem): string {
  const at = p.offset < 0 ? '' : `byte ${p.offset}${f.gzip ? ' (decompressed)' : ''}: `;
  return `${f.path}: ${at}${p.message}`;
}

/**
 * Report every file's problems; returns the exit code: 0, or 2 when a file could not be read
 * completely (a cut-short last record is only a warning), or when no file was read at all.
 */
export function reportFileProblems(files: readonly FileReport[], io: Io): number {
  let failed = 0;
  for (const f of files) {
    if (f.truncatedTail) io.warn(`${problemLine(f, f.truncatedTail)}; everything before it was read`);
    f.resyncs.slice(0, MAX_DAMAGE_LINES).forEach((d) => io.error(problemLine(f, { offset: d.offset, message: d.message })));
    if (f.resyncs.length > MAX_DAMAGE_LINES) io.error(`${f.path}: … and ${f.resyncs.length - MAX_DAMAGE_LINES} more damaged places (${f.resyncs.reduce((n, d) => n + d.skippedBytes, 0)} bytes skipped in all)`);
    if (f.failure) io.error(problemLine(f, f.failure));
    if (f.failure || f.resyncs.length > 0) failed++;
  }
  const readable = files.filter((f) => f.ignored === null);
  if (readable.length === 0) {
    const ignored = files.filter((f) => f.ignored !== null);
    io.error(`no capture file found in the given paths${ignored.length ? `; ignored: ${ignored.slice(0, 5).map((f) => `${f.path} (${f.ignored})`).join(', ')}${ignored.length > 5 ? `, and ${ignored.length - 5} more` : ''}` : ''}`);
    return 2;
  }
  if (failed > 0 && readable.length > 1) io.error(`${failed} of ${readable.length} files could not be read completely (see above); the others were read`);
  return failed > 0 ? 2 : 0;
}

/** Did any file yield packets (or at least a readable header)? */
export function anythingRead(files: readonly FileReport[]): boolean {
  return files.some((f) => f.format !== null && f.failure === null) || files.some((f) => f.packets > 0);
}

/** `periscope info FILE…` */
import { readCaptures } from '../read/captures.js';
import { InfoAccumulator, DEFAULT_MYSQL_PORTS, type InfoOptions as TcpLimits } from './info.js';
import { renderInfoText } from './render.js';
import type { Io } from '../../cli/io.js';

export interface InfoOptions {
  files: string[];
  ports: number[];
  json: boolean;
  tcp?: TcpLimits;
}

/** Returns the exit code: 0, or 2 when a file could not be read (fully). */
export async function runInfo(opts: InfoOptions, io: Io): Promise<number> {
  const acc = new InfoAccumulator([...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])], opts.tcp);
  const { files } = await readCaptures(opts.files, (rec) => acc.add(rec));
  const report = acc.finalize(files);
  io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderInfoText(report));
  let failed = 0;
  for (const f of files) {
    if (f.truncatedTail) io.warn(`${f.path}: at byte ${f.truncatedTail.offset}: ${f.truncatedTail.message}; everything before it was read`);
    for (const d of f.resyncs) io.error(`${f.path}: ${d.message}`);
    if (f.failure) io.error(`${f.path}: at byte ${f.failure.offset}: ${f.failure.message}`);
    if (f.failure || f.resyncs.length > 0) failed++;
  }
  const readable = files.filter((f) => !f.ignored);
  if (readable.length === 0) {
    io.error('no capture file found in the given paths');
    return 2;
  }
  if (failed > 0 && readable.length > 1) io.error(`${failed} of ${readable.length} files could not be read completely (see above); the others were read`);
  return failed > 0 ? 2 : 0;
}

/** `periscope info FILE…` */
import { readCaptures } from '../read/captures.js';
import { anythingRead, reportFileProblems } from '../read/problems.js';
import { InfoAccumulator, DEFAULT_CONNECTIONS_LISTED } from './info.js';
import { DEFAULT_MYSQL_PORTS } from '../../src/pipeline/mysql.js';
import type { TcpLimits } from '../../src/pipeline/tcp.js';
import { renderInfoText } from './render.js';
import type { Io } from '../io.js';

export interface InfoCommandOptions {
  files: string[];
  ports: number[];
  json: boolean;
  tcp?: TcpLimits;
  /** List every connection (by default the first DEFAULT_CONNECTIONS_LISTED; the rest are counted). */
  allConnections?: boolean;
}

/** Returns the exit code: 0, or 2 when a file could not be read (fully). */
export async function runInfo(opts: InfoCommandOptions, io: Io): Promise<number> {
  const acc = new InfoAccumulator([...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])], opts.tcp, opts.allConnections ? Infinity : DEFAULT_CONNECTIONS_LISTED);
  const { files } = await readCaptures(opts.files, (rec) => acc.add(rec));
  const report = acc.finalize(files);
  if (opts.json || anythingRead(files)) io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderInfoText(report));
  return reportFileProblems(files, io);
}

/** `periscope info FILE…` */
import { readCaptures } from '../read/captures.js';
import { keyLogsFor } from '../read/keylog.js';
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
  /** TLS key logs (files or directories): each TLS connection is said decryptable or not, and why. */
  keylog?: string[];
}

/** Returns the exit code: 0, or 2 when a file could not be read (fully). */
export async function runInfo(opts: InfoCommandOptions, io: Io): Promise<number> {
  const keys = await keyLogsFor(opts.files, opts.keylog ?? []); // KeyLogError: a usage error, before any work
  const acc = new InfoAccumulator([...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])], opts.tcp, opts.allConnections ? Infinity : DEFAULT_CONNECTIONS_LISTED, keys.lookup);
  const { files } = await readCaptures(opts.files, (rec) => acc.add(rec), { onSecrets: keys.onSecrets });
  for (const w of keys.warnings()) io.warn(w);
  const report = acc.finalize(files, keys.sources);
  if (opts.json || anythingRead(files)) io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderInfoText(report));
  return reportFileProblems(files, io);
}

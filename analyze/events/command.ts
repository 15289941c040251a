/** `periscope events FILE…`: one JSON object per client command (and per login), in capture order. */
import { readCaptures } from '../read/captures.js';
import { reportFileProblems } from '../read/problems.js';
import { count } from '../format.js';
import { buildFilter, type FilterOptions } from '../analyze/filters.js';
import { MysqlPipeline, type TcpLimits } from '../pipeline.js';
import { DEFAULT_MYSQL_PORTS, isoTime } from '../info/info.js';
import { fingerprintAndDigest, redact as redactSql, redactErrorMessage } from '../../src/sql/index.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { SQL_COMMANDS } from '../commands.js';
import type { Io } from '../io.js';

export interface EventsOptions {
  files: string[];
  ports: number[];
  redact: boolean;
  tcp?: TcpLimits;
  /** Only the events that pass (as analyze's filters); none: all. */
  filters?: FilterOptions;
}

/** The stable JSON shape of one event (documented in docs/events.md). */
export function eventJson(e: CommandEvent, redact: boolean): Record<string, unknown> {
  return {
    ts: isoTime({ sec: e.sec, nsec: e.nsec }),
    client: e.client,
    server: e.server,
    conn_id: e.connId,
    user: e.user,
    db: e.db,
    cmd: e.cmd,
    sql: e.sql === null ? null : redact && SQL_COMMANDS.has(e.cmd) ? redactSql(e.sql) : e.sql,
    sql_truncated: e.sqlTruncated,
    digest: e.sql !== null && SQL_COMMANDS.has(e.cmd) ? fingerprintAndDigest(e.sql).digest : null,
    ...(redact ? {} : { params: e.params }),
    status: e.status,
    latency_us: e.latencyUs,
    response_us: e.responseUs,
    rows: e.rows,
    affected_rows: e.affectedRows,
    insert_id: e.insertId,
    warnings: e.warnings,
    error_code: e.errorCode,
    sql_state: e.sqlState,
    error: e.error === null ? null : redact ? redactErrorMessage(e.error, { code: e.errorCode, sqlState: e.sqlState, sql: e.sql }) : e.error,
    no_index_used: e.noIndexUsed,
    no_good_index_used: e.noGoodIndexUsed,
    server_status: e.serverStatus,
    result_sets: e.resultSets,
    bytes_in: e.bytesIn,
    bytes_out: e.bytesOut,
    tls: e.tls,
    compressed: e.compressed,
  };
}

export async function runEvents(opts: EventsOptions, io: Io): Promise<number> {
  const filter = buildFilter(opts.filters ?? {}); // FilterError: a usage error, before any work
  if (!opts.redact) io.warn('--no-redact: SQL text, parameters and error messages are printed as captured; they may hold customer data');
  const chunks: string[] = [];
  let size = 0;
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])],
    tcp: opts.tcp,
    onEvent: (e) => {
      if (filter !== null && !filter(e)) return;
      const line = `${JSON.stringify(eventJson(e, opts.redact))}\n`;
      chunks.push(line);
      size += line.length;
      if (size > 1 << 16) {
        io.out(chunks.join(''));
        chunks.length = 0;
        size = 0;
      }
    },
  });
  const { files } = await readCaptures(opts.files, (rec) => pipeline.add(rec), { beforeRead: io.drain });
  pipeline.finish();
  io.out(chunks.join(''));
  const t = pipeline.totals;
  const r = pipeline.reassembler.totals;
  if (r.bytesLost > 0 || t.commandsIncomplete > 0 || t.commandsUnseen > 0 || t.protocolViolations > 0) {
    io.warn(`capture health: ${r.bytesLost} bytes lost in ${r.gaps} gaps; ${t.commandsIncomplete} commands incomplete; ${t.commandsUnseen} responses whose command was not captured (not shown); ${t.resyncs} resynchronisations; ${t.protocolViolations} protocol violations`);
  }
  if (t.tls > 0) io.warn(`${count(t.tls, 'connection')} ${t.tls === 1 ? 'uses' : 'use'} TLS: their commands cannot be decoded`);
  for (const [why, n] of Object.entries(t.stopped)) {
    if (!why.startsWith('SSL')) io.warn(`${n} connections: decoding stopped: ${why}`);
  }
  return reportFileProblems(files, io);
}

/** `periscope events FILE…`: one JSON object per client command (and per login), in capture order. */
import { readCaptures } from '../read/captures.js';
import { keyLogsFor, printTls } from '../read/keylog.js';
import { reportFileProblems } from '../read/problems.js';
import { count } from '../format.js';
import { periscopeVersion } from '../../common/version.js';
import { buildFilter, type FilterOptions } from '../run/filters.js';
import { isoTime } from '../../common/time.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline, type TcpLimits } from '../../src/pipeline/mysql.js';
import { fingerprintAndDigest, redact as redactSql, redactErrorMessage, sessionMode } from '../../src/sql/index.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { SQL_COMMANDS } from '../commands.js';
import type { Io } from '../io.js';
import type { ParquetOutput } from '../parquet/sink.js';

export interface EventsOptions {
  files: string[];
  ports: number[];
  redact: boolean;
  tcp?: TcpLimits;
  /** Only the events that pass (as analyze's filters); none: all. */
  filters?: FilterOptions;
  /** TLS key logs (files or directories) to decrypt TLS connections with. */
  keylog?: string[];
  /** Write Parquet files into a directory instead of JSON lines on stdout (docs/parquet.md). */
  parquet?: ParquetOutput;
}

/** A mistake in the options found before reading (exit 1). */
export class EventsUsageError extends Error {}

/** An event's `sql` as every event output writes it: SQL text redacted unless `redact` is false. */
export function eventSql(e: CommandEvent, redact: boolean): string | null {
  return e.sql === null ? null : redact && SQL_COMMANDS.has(e.cmd) ? redactSql(e.sql, sessionMode(e.noBackslashEscapes)) : e.sql;
}

/** An event's `digest`: its statement's fingerprint id, null for commands without SQL. */
export function eventDigest(e: CommandEvent): string | null {
  return e.sql !== null && SQL_COMMANDS.has(e.cmd) ? fingerprintAndDigest(e.sql, sessionMode(e.noBackslashEscapes)).digest : null;
}

/** An event's `error` message: every quoted span masked unless `redact` is false. */
export function eventError(e: CommandEvent, redact: boolean): string | null {
  return e.error === null ? null : redact ? redactErrorMessage(e.error, { code: e.errorCode, sqlState: e.sqlState, sql: e.sql }) : e.error;
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
    sql: eventSql(e, redact),
    sql_truncated: e.sqlTruncated,
    digest: eventDigest(e),
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
    error: eventError(e, redact),
    no_index_used: e.noIndexUsed,
    no_good_index_used: e.noGoodIndexUsed,
    server_status: e.serverStatus,
    result_sets: e.resultSets,
    bytes_in: e.bytesIn,
    bytes_out: e.bytesOut,
    tls: e.tls,
    tls_version: e.tlsVersion,
    tls_cipher: e.tlsCipher,
    tls_decrypted: e.tlsDecrypted,
    compressed: e.compressed,
    ...(e.ended !== null ? { ended: e.ended, duration_us: e.durationUs } : {}),
    // Only when on (or not known with --no-redact): how a reader of the raw SQL must lex it.
    ...(e.noBackslashEscapes === true || (!redact && e.noBackslashEscapes === null && e.sql !== null && e.sql.includes('\\')) ? { no_backslash_escapes: e.noBackslashEscapes } : {}),
    // Only for executes of statements prepared before the capture (docs/events.md).
    ...(e.unknownStatement ? { unknown_statement: { id: e.unknownStatement.id, params: e.unknownStatement.params, types: e.unknownStatement.types, columns: e.unknownStatement.columns } } : {}),
  };
}

export async function runEvents(opts: EventsOptions, io: Io): Promise<number> {
  const filter = buildFilter(opts.filters ?? {}); // FilterError: a usage error, before any work
  const parquet = opts.parquet ? await import('../parquet/sink.js') : null;
  if (opts.parquet && parquet) {
    const why = parquet.unwritableDir('--output', opts.parquet.dir);
    if (why !== null) throw new EventsUsageError(why);
  }
  if (!opts.redact) io.warn(`--no-redact: SQL text${opts.parquet ? '' : ', parameters'} and error messages are ${opts.parquet ? 'written' : 'printed'} as captured; they may hold customer data`);
  const sink = opts.parquet && parquet ? new parquet.EventsParquetSink({ dir: opts.parquet.dir, host: await parquet.hostLabelOf(opts.parquet, opts.files, io.warn), sql: opts.parquet.sql, version: periscopeVersion() }) : null;
  const keys = await keyLogsFor(opts.files, opts.keylog ?? []); // KeyLogError: a usage error, before any work
  const chunks: string[] = [];
  let size = 0;
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])],
    tcp: opts.tcp,
    session: { tlsSecrets: keys.lookup },
    onEvent: (e) => {
      if (filter !== null && !filter(e)) return;
      if (sink !== null) {
        sink.add(e);
        return;
      }
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
  let files;
  try {
    ({ files } = await readCaptures(opts.files, (rec) => pipeline.add(rec), { beforeRead: io.drain, onSecrets: keys.onSecrets }));
    pipeline.finish();
    io.out(chunks.join(''));
    if (sink !== null && opts.parquet && parquet) io.info?.(parquet.sinkSummary(sink.close(), opts.parquet.dir));
  } catch (e) {
    if (parquet === null || !(e instanceof parquet.ParquetSinkError)) throw e;
    io.error(`${e.message}; the Parquet files finished before it are complete, the one being written is left as a .tmp file`);
    return 2;
  }
  const t = pipeline.totals;
  const r = pipeline.reassembler.totals;
  if (r.bytesLost > 0 || t.commandsIncomplete > 0 || t.commandsUnseen > 0 || t.protocolViolations > 0 || t.clientBytesUndecoded > 0) {
    const undecoded = t.clientBytesUndecoded > 0 ? `; ${t.clientBytesUndecoded} bytes from clients never decoded` : '';
    io.warn(`capture health: ${r.bytesLost} bytes lost in ${r.gaps} gaps; ${t.commandsIncomplete} commands incomplete; ${t.commandsUnseen} responses whose command was not captured (not shown); ${t.resyncs} resynchronisations; ${t.protocolViolations} protocol violations${undecoded}`);
  }
  if (r.evicted > 0) io.warn(`${count(r.evicted, 'connection')} closed early (the least recently active first) to stay within --memory-budget / --max-connections`);
  printTls(io, t, keys);
  for (const [why, n] of Object.entries(t.stopped)) {
    if (!why.startsWith('TLS')) io.warn(`${count(n, 'connection')}: decoding stopped: ${why}`);
  }
  return reportFileProblems(files, io);
}

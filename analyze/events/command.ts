/** `periscope events FILE…`: one JSON object per client command (and per login), in capture order. */
import { readCaptures } from '../read/captures.js';
import { keyLogsFor, printTls } from '../read/keylog.js';
import { reportFileProblems } from '../read/problems.js';
import { count } from '../format.js';
import { periscopeVersion } from '../../common/version.js';
import { buildFilter, FilterMisses, type FilterOptions } from '../run/filters.js';
import { isoTime } from '../../common/time.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline, type TcpLimits } from '../../src/pipeline/mysql.js';
import { redactErrorMessage, sessionMode, SqlNormalizer } from '../../src/sql/index.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { SQL_COMMANDS } from '../commands.js';
import type { Io } from '../io.js';
import type { ParquetOutput } from '../parquet/sink.js';
import { JsonLineWriter, key } from './line.js';
import { zstdSupport } from '../zstd.js';

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

/** An event's `sql` as every event output writes it: SQL text redacted (by `sql`) unless `redact` is false. */
export function eventSql(e: CommandEvent, redact: boolean, sql: SqlNormalizer): string | null {
  return e.sql === null ? null : redact && SQL_COMMANDS.has(e.cmd) ? sql.redact(e.sql, sessionMode(e.noBackslashEscapes)) : e.sql;
}

/** An event's `digest`: its statement's fingerprint id, null for commands without SQL. */
export function eventDigest(e: CommandEvent, sql: SqlNormalizer): string | null {
  return e.sql !== null && SQL_COMMANDS.has(e.cmd) ? sql.fingerprintAndDigest(e.sql, sessionMode(e.noBackslashEscapes)).digest : null;
}

/** An event's `error` message: every quoted span masked unless `redact` is false. */
export function eventError(e: CommandEvent, redact: boolean): string | null {
  return e.error === null ? null : redact ? redactErrorMessage(e.error, { code: e.errorCode, sqlState: e.sqlState, sql: e.sql }) : e.error;
}

/** The stable JSON shape of one event (documented in docs/events.md). */
export function eventJson(e: CommandEvent, redact: boolean, sql: SqlNormalizer): Record<string, unknown> {
  return {
    ts: isoTime({ sec: e.sec, nsec: e.nsec }),
    client: e.client,
    server: e.server,
    conn_id: e.connId,
    user: e.user,
    db: e.db,
    cmd: e.cmd,
    sql: eventSql(e, redact, sql),
    sql_truncated: e.sqlTruncated,
    digest: eventDigest(e, sql),
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

/** The keys of an event's line, encoded once. */
const K = {
  ts: key('{"ts":"'),
  client: key(',"client":'),
  server: key(',"server":'),
  conn_id: key(',"conn_id":'),
  user: key(',"user":'),
  db: key(',"db":'),
  cmd: key(',"cmd":'),
  sql: key(',"sql":'),
  sql_truncated: key(',"sql_truncated":'),
  digest: key(',"digest":'),
  status: key(',"status":'),
  latency_us: key(',"latency_us":'),
  response_us: key(',"response_us":'),
  rows: key(',"rows":'),
  affected_rows: key(',"affected_rows":'),
  insert_id: key(',"insert_id":'),
  warnings: key(',"warnings":'),
  error_code: key(',"error_code":'),
  sql_state: key(',"sql_state":'),
  error: key(',"error":'),
  no_index_used: key(',"no_index_used":'),
  no_good_index_used: key(',"no_good_index_used":'),
  server_status: key(',"server_status":'),
  result_sets: key(',"result_sets":'),
  bytes_in: key(',"bytes_in":'),
  bytes_out: key(',"bytes_out":'),
  tls: key(',"tls":'),
  tls_version: key(',"tls_version":'),
  tls_cipher: key(',"tls_cipher":'),
  tls_decrypted: key(',"tls_decrypted":'),
  compressed: key(',"compressed":'),
  params: key(',"params":'),
  ended: key(',"ended":'),
  duration_us: key(',"duration_us":'),
  no_backslash_escapes: key(',"no_backslash_escapes":'),
  unknown_statement: key(',"unknown_statement":'),
  end: key('}'),
};

/**
 * The JSON line of one event, without its newline: `JSON.stringify(eventJson(e, redact, sql))` byte for
 * byte (test/events/line.test.ts), written without building the object (issue 19).
 */
export function writeEventLine(w: JsonLineWriter, e: CommandEvent, redact: boolean, sql: SqlNormalizer): void {
  w.raw(K.ts);
  w.ascii(isoTime({ sec: e.sec, nsec: e.nsec }));
  w.ascii('"');
  w.member(K.client, e.client);
  w.member(K.server, e.server);
  w.member(K.conn_id, e.connId);
  w.member(K.user, e.user);
  w.member(K.db, e.db);
  w.member(K.cmd, e.cmd);
  w.member(K.sql, eventSql(e, redact, sql));
  w.member(K.sql_truncated, e.sqlTruncated);
  w.member(K.digest, eventDigest(e, sql));
  if (!redact) w.member(K.params, e.params);
  w.member(K.status, e.status);
  w.member(K.latency_us, e.latencyUs);
  w.member(K.response_us, e.responseUs);
  w.member(K.rows, e.rows);
  w.member(K.affected_rows, e.affectedRows);
  w.member(K.insert_id, e.insertId);
  w.member(K.warnings, e.warnings);
  w.member(K.error_code, e.errorCode);
  w.member(K.sql_state, e.sqlState);
  w.member(K.error, eventError(e, redact));
  w.member(K.no_index_used, e.noIndexUsed);
  w.member(K.no_good_index_used, e.noGoodIndexUsed);
  w.member(K.server_status, e.serverStatus);
  w.member(K.result_sets, e.resultSets);
  w.member(K.bytes_in, e.bytesIn);
  w.member(K.bytes_out, e.bytesOut);
  w.member(K.tls, e.tls);
  w.member(K.tls_version, e.tlsVersion);
  w.member(K.tls_cipher, e.tlsCipher);
  w.member(K.tls_decrypted, e.tlsDecrypted);
  w.member(K.compressed, e.compressed);
  if (e.ended !== null) {
    w.member(K.ended, e.ended);
    w.member(K.duration_us, e.durationUs);
  }
  if (e.noBackslashEscapes === true || (!redact && e.noBackslashEscapes === null && e.sql !== null && e.sql.includes('\\'))) w.member(K.no_backslash_escapes, e.noBackslashEscapes);
  const u = e.unknownStatement;
  if (u) w.member(K.unknown_statement, { id: u.id, params: u.params, types: u.types, columns: u.columns });
  w.raw(K.end);
}

/** The JSON line of one event as a string (without its newline). */
export function eventLine(e: CommandEvent, redact: boolean, sql: SqlNormalizer): string {
  const parts: Buffer[] = [];
  const w = new JsonLineWriter((b) => parts.push(b));
  writeEventLine(w, e, redact, sql);
  w.flush();
  return Buffer.concat(parts).toString('utf8');
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
  const sql = new SqlNormalizer();
  // Filters that keep nothing are said, with what the capture holds instead (as analyze says it).
  let passed = 0;
  const misses = new FilterMisses();
  // JSON lines go out as bytes, a buffer at a time (io.outBytes when it has it).
  const writer = new JsonLineWriter((b) => (io.outBytes ? io.outBytes(b) : io.out(b.toString('utf8'))));
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])],
    tcp: opts.tcp,
    session: { tlsSecrets: keys.lookup, zstd: zstdSupport() },
    onEvent: (e) => {
      if (filter !== null && !filter(e)) {
        misses.add(e);
        return;
      }
      passed++;
      if (sink !== null) {
        sink.add(e);
        return;
      }
      writeEventLine(writer, e, opts.redact, sql);
      writer.endLine();
    },
  });
  let files;
  try {
    ({ files } = await readCaptures(opts.files, (rec) => pipeline.add(rec), { beforeRead: io.drain, onSecrets: keys.onSecrets }));
    pipeline.finish();
    writer.flush();
    if (sink !== null && opts.parquet && parquet) io.info?.(parquet.sinkSummary(sink.close(), opts.parquet.dir));
  } catch (e) {
    if (parquet === null || !(e instanceof parquet.ParquetSinkError)) throw e;
    io.error(`${e.message}; the Parquet files finished before it are complete, the one being written is left as a .tmp file`);
    return 2;
  }
  if (filter !== null && passed === 0) io.warn(`no event passed the filters${misses.count > 0 ? `; ${misses.describe(isoTime)}` : ''}`);
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

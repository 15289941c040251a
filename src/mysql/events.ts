/**
 * What a MySQL session produces, and what it is told: the command event (one per client command
 * or login, with its response), the trace line, the counters, the options. Types only, shared by
 * the session's modules and everything downstream (pipeline, aggregation, outputs).
 */
import type { Dir } from '../tcp/stream.js';
import type { SessionSecrets } from '../tls/keylog.js';
import type { ZstdSupport } from './compression.js';

/** Stages, named as the MySQL client's protocol trace names them. */
export type Stage =
  | 'CONNECTING'
  | 'WAIT_FOR_INIT_PACKET'
  | 'AUTHENTICATE'
  | 'READY_FOR_COMMAND'
  | 'WAIT_FOR_RESULT'
  | 'WAIT_FOR_FIELD_DEF'
  | 'WAIT_FOR_ROW'
  | 'WAIT_FOR_PARAM_DEF'
  | 'FILE_REQUEST'
  | 'RESYNC'
  | 'TLS'
  | 'REPLICATION'
  | 'DISCONNECTED';

/** `aborted`: a login that never finished because the connection ended (see CommandEvent.ended). */
export type CommandStatus = 'ok' | 'error' | 'none' | 'incomplete' | 'aborted';

/**
 * How a connection whose login never finished ended: closed (first FIN) or reset (RST) by one
 * side, or by an unseen side; no packet for the idle timeout; its ports reused by a new
 * connection; dropped from the connection table; the capture ended.
 */
export type LoginEnd = 'client_closed' | 'server_closed' | 'closed' | 'client_reset' | 'server_reset' | 'reset' | 'timed_out' | 'replaced' | 'evicted' | 'capture_end';

/** One client command (or login) with its response. Times are capture times. */
export interface CommandEvent {
  /** TCP connection id (ConnectionInfo.id). */
  conn: number;
  /** Request's first packet. */
  sec: number;
  nsec: number;
  client: string;
  server: string;
  /** Server connection id from the greeting. */
  connId: number | null;
  user: string | null;
  db: string | null;
  cmd: string;
  /** Raw SQL / argument as captured (the caller redacts). */
  sql: string | null;
  /** The SQL was cut (snap length, or longer than the decoder keeps). */
  sqlTruncated: boolean;
  /** stmt_execute: the parameter values as text (null for SQL NULL). */
  params: (string | null)[] | null;
  /** stmt_execute: the parameters' MySQL type codes (MYSQL_TYPE_*), when the client sent or had sent them. */
  paramTypes: number[] | null;
  status: CommandStatus;
  latencyUs: number | null;
  responseUs: number | null;
  rows: number | null;
  affectedRows: number | null;
  insertId: number | null;
  warnings: number | null;
  errorCode: number | null;
  sqlState: string | null;
  error: string | null;
  noIndexUsed: boolean;
  noGoodIndexUsed: boolean;
  /**
   * The server status flags of the response's last OK or EOF packet (SERVER_STATUS_IN_TRANS,
   * _AUTOCOMMIT, …): the session's state once the command is done. Null when the response held
   * none (ERR, no reply, or a command the capture cut).
   */
  serverStatus: number | null;
  bytesIn: number;
  bytesOut: number;
  resultSets: number;
  tls: boolean;
  /** TLS connections: the version and cipher suite negotiated (null when not known or not TLS). */
  tlsVersion: string | null;
  tlsCipher: string | null;
  /** TLS connections: the commands were read by decrypting the session (true), or could not be (false). */
  tlsDecrypted: boolean | null;
  compressed: boolean;
  /**
   * NO_BACKSLASH_ESCAPES was in force on the connection when the command was sent (server status
   * flag 0x0200 of its last OK / EOF / greeting): `\` does not escape a quote in its SQL. Null
   * when not known (the capture began mid-connection and no status was seen): redaction then
   * keeps only what both readings agree on.
   */
  noBackslashEscapes: boolean | null;
  /** A login that never finished: how the connection ended; else null. */
  ended: LoginEnd | null;
  /** A login that never finished: from the connection's first packet to its end, µs; else null. */
  durationUs: number | null;
  /**
   * A stmt_execute of a statement whose PREPARE the capture did not hold (a connection opened
   * before the capture): what the wire tells of it instead of its SQL. Absent otherwise.
   */
  unknownStatement?: UnknownStatement;
}

/** What an execute of an unknown statement shows: its id, its parameters, the columns it returns. */
export interface UnknownStatement {
  id: number;
  /** Parameter count and MYSQL_TYPE_* codes, when the client sent the types (inferExecuteParams); null when unknown. */
  params: number | null;
  types: number[] | null;
  /** The result's columns as `table.column` (original names), at most MAX_UNKNOWN_COLUMNS; empty when no result set. */
  columns: string[];
}

/** Columns of an unknown statement's result kept (past this, the list ends with '…'). */
export const MAX_UNKNOWN_COLUMNS = 12;

/** One line of the protocol trace. */
export interface TraceEntry {
  conn: number;
  sec: number;
  nsec: number;
  dir: Dir | null;
  stage: Stage;
  event: string;
  seq: number | null;
  length: number | null;
  detail: string;
  payload: Uint8Array | null;
  /** NO_BACKSLASH_ESCAPES in force (see CommandEvent), for redacting `detail`. */
  noBackslashEscapes: boolean | null;
}

export interface SessionCounters {
  commands: number;
  protocolViolations: number;
  unknownCommands: number;
  resyncs: number;
  /** Commands whose response (or request end) a gap took. */
  commandsIncomplete: number;
  /** Server packets skipped while no command was known (responses to commands lost in a gap). */
  packetsSkipped: number;
  /**
   * Responses whose command the capture did not hold (lost in a gap, or sent before the capture
   * began): each is a command the events do not show. Counted, never invented.
   */
  commandsUnseen: number;
  /** Client bytes never decoded: skipped while looking for a command start after a gap (or a mid-stream start). Set at close. */
  clientBytesUndecoded: number;
}

export interface SessionOptions {
  /** Bytes of a client packet kept (the SQL); longer is cut and marked. */
  maxRequestBytes?: number;
  /** Bytes of a server packet kept (rows are counted, never held). */
  maxResponseBytes?: number;
  trace?: ((e: TraceEntry) => void) | null;
  /**
   * The secrets of a TLS session, by its client random (a key log): a connection that switches to
   * TLS is decrypted when they are known. Without it (or when it returns null) the connection's
   * TLS handshake is still read (version, cipher suite, client random) and the reason reported.
   */
  tlsSecrets?: ((clientRandom: Uint8Array) => SessionSecrets | null) | null;
  /** How zstd compression is decompressed (default: Node's own zlib, when it has zstd). */
  zstd?: ZstdSupport;
}

/**
 * The MySQL protocol state machine of one connection, fed the two reassembled byte streams
 * (a TCP StreamHandler). It follows the connection stage by stage — greeting, authentication,
 * commands and their responses — and emits one event per client command with its response,
 * timing and outcome, plus one `connect` event per login. It never throws on bad input:
 * protocol violations are counted and the connection resynchronises or is abandoned.
 *
 * Which reply a command makes us expect drives the machine (as in Zeek's mysql analyzer):
 *   READY_FOR_COMMAND ─ client packet, seq 0 ─► WAIT_FOR_RESULT
 *   WAIT_FOR_RESULT ─ OK / ERR ─► done (or the next result, when SERVER_MORE_RESULTS_EXISTS)
 *                   ─ column count ─► WAIT_FOR_FIELD_DEF ─ n defs ─► [EOF] ─► WAIT_FOR_ROW ─ EOF/OK ─► done
 *                   ─ 0xfb ─► FILE_REQUEST (client sends the file, then the server answers)
 *   stmt_prepare: PREPARE_OK ─► WAIT_FOR_PARAM_DEF ─► WAIT_FOR_FIELD_DEF ─► done
 */
import { Dir, describeGap, type CloseReason, type ConnectionInfo, type GapReason, type StreamHandler } from '../tcp/stream.js';
import { ByteReader, text } from '../bytes/reader.js';
import { Cap, Com, MariaCap, Status, commandName } from './constants.js';
import { PacketFramer, type Packet, type StartPredicate } from './framing.js';
import { CompressedStream, decompressorFor, type CompressionAlgorithm } from './compression.js';
import { TlsConnection, type TlsInfo } from '../tls/connection.js';
import type { SessionSecrets } from '../tls/keylog.js';
import { sniffGreeting } from './greeting.js';
import { binaryValue, columnName, inferExecuteParams, isTerminator, parseEof, parseErr, parseExecute, parseGreeting, parseHandshakeResponse, parseOk, parsePrepareOk } from './packets.js';

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
}

const NO_SECRETS = (): SessionSecrets | null => null;

const enum Expect {
  /** Nothing pending. */
  None,
  /** The first packet of a result: OK, ERR, column count, LOCAL INFILE, EOF. */
  Result,
  FieldDefs,
  FieldDefsEof,
  Rows,
  PrepareOk,
  ParamDefs,
  ParamDefsEof,
  PrepareFieldDefs,
  PrepareFieldDefsEof,
  /** COM_FIELD_LIST: column definitions until EOF. */
  FieldList,
  /** COM_STATISTICS: one string packet. */
  Statistics,
  /** change_user: the authentication exchange. */
  Auth,
  /** LOCAL INFILE: the client is sending the file. */
  FileData,
}

interface Pending {
  ev: CommandEvent;
  com: number;
  /** The request's last packet time. */
  endSec: number;
  endNsec: number;
  needsResponse: boolean;
  done: boolean;
  /** Prepared statement: SQL kept for the statement id. */
  prepareSql: string | null;
  stmtId: number | null;
  cursor: boolean;
  gotResponse: boolean;
  /** `USE db`: the database to switch to when the server says OK. */
  pendingUse?: string;
  /** COM_CHANGE_USER: the database of the new session (null: none). */
  newDb?: string | null;
  /** An execute of an unknown statement: learn its result's columns. */
  collectColumns?: boolean;
  /** Server bytes skipped while hunting (after a gap) when the command was sent. */
  skippedAtSend?: number;
}

interface Statement {
  sql: string;
  params: number;
  types: number[] | null;
}

/** Commands that may start a resynchronisation (plausible first commands after a gap). */
const SYNC_COMMANDS = new Set<number>([Com.Quit, Com.InitDb, Com.Query, Com.FieldList, Com.Statistics, Com.ProcessInfo, Com.ProcessKill, Com.Ping, Com.ChangeUser, Com.StmtPrepare, Com.StmtExecute, Com.StmtSendLongData, Com.StmtClose, Com.StmtReset, Com.SetOption, Com.StmtFetch, Com.ResetConnection]);

/** Commands waiting for their response, at most (clients pipeline a few; more means the responses are not captured). */
const MAX_PENDING = 1024;

/**
 * May this SQL set sql_mode, so that NO_BACKSLASH_ESCAPES changes while it runs? A statement that
 * starts with SET (or a comment) and names sql_mode: looked for there only, not in every query. (A
 * multi-statement whose later part sets it is caught by its results' status flags: serverStatus.)
 */
function setsSqlMode(sql: string): boolean {
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 0x20) i++;
  const c = sql.charCodeAt(i);
  const set = (c | 0x20) === 0x73 && (sql.charCodeAt(i + 1) | 0x20) === 0x65 && (sql.charCodeAt(i + 2) | 0x20) === 0x74; // SET
  return (set || c === 0x2f) && /sql_mode/i.test(sql); // or a /* comment */ first
}

/** Capabilities assumed for a connection whose handshake was not captured. */
const ASSUMED_CAPS = Cap.Protocol41 | Cap.Transactions | Cap.SecureConnection | Cap.MultiResults | Cap.PsMultiResults | Cap.PluginAuth;

export class MysqlSession implements StreamHandler {
  readonly counters: SessionCounters = { commands: 0, protocolViolations: 0, unknownCommands: 0, resyncs: 0, commandsIncomplete: 0, packetsSkipped: 0, commandsUnseen: 0, clientBytesUndecoded: 0 };
  stage: Stage = 'CONNECTING';
  serverVersion: string | null = null;
  connId: number | null = null;
  user: string | null = null;
  db: string | null = null;
  tls = false;
  replication = false;
  compressed = false;
  /** Compression algorithm negotiated, when the compressed protocol is on. */
  compression: CompressionAlgorithm | null = null;
  /** The connection's TLS layer, after an SSL request (decrypting, or saying why it cannot). */
  tlsLayer: TlsConnection | null = null;
  /** Why decoding stopped early (TLS, replication, undecodable compression, …), or null. */
  stoppedBecause: string | null = null;
  /** Negotiated capabilities (client ∩ server), or assumed when the handshake was not seen. */
  caps = 0;
  mariaCaps = 0;
  /** Result sets end with OK instead of EOF; null until known. */
  deprecateEof: boolean | null = null;
  queryAttributes: boolean | null = null;
  /** NO_BACKSLASH_ESCAPES, from the last server status seen; null until one is seen. */
  noBackslashEscapes: boolean | null = null;

  /** Made on first use (`framers`): a connection that never carries a byte (a SYN flood) costs none. */
  private framersMade: [PacketFramer, PacketFramer] | null = null;
  private readonly maxRequestBytes: number;
  private readonly maxResponseBytes: number;
  private unwrap: [CompressedStream, CompressedStream] | null = null;
  /** Client bytes were lost at some point: a response without its command is expected, not a violation. */
  private sawClientGap = false;
  private serverCaps = 0;
  private serverMariaCaps = 0;
  private readonly queue: Pending[] = [];
  private expect = Expect.None;
  private remaining = 0;
  /** Statements executed but never seen prepared, by id: the columns learnt from their results. */
  private readonly unknownStatements = new Map<number, UnknownStatement>();
  private login: Pending | null = null;
  /** The last COM_STMT_PREPARE (MariaDB's statement id -1 names it). */
  private lastPrepare: Pending | null = null;
  private abandoned = false;
  private readonly traceFn: ((e: TraceEntry) => void) | null;
  private readonly tlsSecrets: (clientRandom: Uint8Array) => SessionSecrets | null;
  /** The login that began with an SSL request: completed by the handshake response inside TLS. */
  private tlsLogin: Pending | null = null;
  /** The first decrypted bytes were traced. */
  private tlsTraced = false;
  /** Time of the packet being processed (for trace lines). */
  private nowSec = 0;
  private nowNsec = 0;

  constructor(
    readonly info: ConnectionInfo,
    private readonly sink: (e: CommandEvent) => void,
    opts: SessionOptions = {},
  ) {
    this.traceFn = opts.trace ?? null;
    this.tlsSecrets = opts.tlsSecrets ?? NO_SECRETS;
    this.maxRequestBytes = opts.maxRequestBytes ?? 1024 * 1024;
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024;
    if (info.synSeen) this.stage = 'WAIT_FOR_INIT_PACKET';
  }

  private get framers(): [PacketFramer, PacketFramer] {
    return (this.framersMade ??= [new PacketFramer((p) => this.clientPacket(p), this.maxRequestBytes), new PacketFramer((p) => this.serverPacket(p), this.maxResponseBytes)]);
  }

  /** The prepared statements of the connection, made on first use. */
  private get statements(): Map<number, Statement> {
    return (this.statementsMade ??= new Map());
  }
  private statementsMade: Map<number, Statement> | null = null;

  /** The request time of the oldest command still waiting (for ordering events across connections). */
  oldestPending(): { sec: number; nsec: number } | null {
    // (The login stays known after it completed; only while it waits for its answer is it in flight.)
    const p = this.queue[0] ?? (this.login !== null && !this.login.done ? this.login : null) ?? this.tlsLogin;
    return p ? { sec: p.ev.sec, nsec: p.ev.nsec } : null;
  }

  // ---- StreamHandler ----

  onData(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.abandoned) return;
    if (this.tlsLayer !== null) this.tlsLayer.onData(dir, buf, offset, length, sec, nsec);
    else this.plain(dir, buf, offset, length, sec, nsec);
  }

  onGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void {
    if (this.abandoned) return;
    if (this.tlsLayer !== null) this.tlsLayer.onGap(dir, bytes, reason, sec, nsec);
    else this.plainGap(dir, bytes, reason, sec, nsec);
  }

  /** MySQL bytes: as captured, or decrypted by the TLS layer. */
  private plain(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.abandoned) return;
    const u = this.unwrap;
    if (u === null) {
      const rest = this.framers[dir].feed(buf, offset, length, sec, nsec);
      // The SSL request ended the plain stream: the bytes after it are TLS records.
      if (rest > 0 && this.tlsLayer !== null) this.tlsLayer.onData(dir, buf, offset + length - rest, rest, sec, nsec);
      return;
    }
    u[dir].feed(buf, offset, length, sec, nsec);
    if (u[dir].failed !== null) this.abandon(u[dir].failed!);
  }

  /** MySQL bytes that will never come: lost in the capture, or not decrypted. */
  private plainGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void {
    this.nowSec = sec;
    this.nowNsec = nsec;
    if (this.abandoned) return;
    if (this.tlsLayer !== null) {
      const info = this.tlsLayer.info;
      // No secret yet: the login is lost, but a key log that grows (live) may bring the secrets
      // later; the layer then decrypts again and the commands are found by resynchronisation.
      if (info.state === 'no-secret') {
        this.tlsWaiting(info);
        if (this.abandoned) return;
      } else if (!tlsReadable(info)) {
        this.tlsUnreadable();
        return;
      }
    }
    this.trace(dir, 'GAP', null, bytes, describeGap(bytes, reason));
    if (this.unwrap !== null) {
      // Compressed packets cannot be re-found inside a stream with a hole.
      for (const p of this.queue) if (!p.done) this.complete(p, 'incomplete', false);
      this.flush();
      this.abandon('a gap in a compressed stream');
      return;
    }
    if (bytes < 0 && this.midStreamStart(dir)) return;
    if (this.stage === 'CONNECTING' || this.stage === 'WAIT_FOR_INIT_PACKET' || this.stage === 'AUTHENTICATE') {
      // The handshake is incomplete: assume what most clients negotiate, infer the rest.
      this.caps = this.caps || ASSUMED_CAPS;
      if (this.login) this.finishLogin('incomplete');
    }
    if (dir === Dir.ClientToServer) {
      this.sawClientGap = true;
      this.cutCommand();
      // The command being sent (and maybe whole commands) are lost; the response in progress may
      // still be decoded, so only the framing restarts.
      this.framers[0].gap(this.clientStart);
    } else {
      // The response in progress is lost: its command is incomplete. (Not at the start of the
      // server's stream: a command captured before it cannot have had its response begin before.)
      const cur = this.current();
      if (cur && bytes >= 0) this.complete(cur, 'incomplete');
      this.expect = Expect.None;
      this.framers[1].gap(this.serverStart);
    }
    this.stage = 'RESYNC';
  }

  onClose(reason: CloseReason, sec: number, nsec: number, by: Dir | null = null): void {
    this.nowSec = sec;
    this.nowNsec = nsec;
    // The TLS layer tells what it still holds (a record cut by the end) as a gap first.
    if (this.tlsLayer !== null && !this.abandoned) this.tlsLayer.end(sec, nsec);
    if (this.tlsLogin !== null) {
      // Closed before the login inside TLS: cut short if it was being decrypted, else unreadable.
      if (this.tlsLayer!.info.state !== 'decrypting') this.tlsUnreadable();
      else {
        this.login = this.tlsLogin;
        this.tlsLogin = null;
      }
    }
    this.loginEnded(reason, by, sec, nsec);
    if (this.framersMade !== null) {
      if (!this.abandoned) this.cutCommand();
      this.counters.clientBytesUndecoded = this.framersMade[0].skippedBytes;
    }
    for (const p of this.queue) if (!p.done) this.complete(p, p.com === Com.Quit ? 'none' : 'incomplete', false);
    this.flush();
    this.trace(null, 'DISCONNECTED', null, null, '');
    this.stage = 'DISCONNECTED';
  }

  // ---- resynchronisation ----

  /** A client command can start here: sequence id 0, a known command, a plausible length. */
  private readonly clientStart: StartPredicate = (b, off, len) => {
    if (len < 5 || b[off + 3] !== 0) return false;
    const plen = b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
    const com = b[off + 4]!;
    if (plen < 1 || !SYNC_COMMANDS.has(com)) return false;
    if (plen + 4 > len && com !== Com.Query && com !== Com.StmtPrepare && com !== Com.StmtExecute && com !== Com.StmtSendLongData) return false;
    // A command that goes on past this segment has at least 16 bytes of it here (a long query
    // fills its first segment); fewer is a coincidence, e.g. the tail of a LOCAL INFILE packet.
    if (plen + 4 > len && len < 5 + 16) return false;
    if (plen + 4 < len) {
      // Another packet follows in this segment: its header must be plausible too.
      const q = off + 4 + plen;
      if (len - (q - off) < 4) return false;
    }
    if (com === Com.Query || com === Com.StmtPrepare) {
      // SQL text (maybe after a query-attributes block): mostly printable.
      let printable = 0;
      const n = Math.min(plen - 1, len - 5, 32);
      for (let i = 0; i < n; i++) {
        const c = b[off + 5 + i]!;
        if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d || c >= 0x80) printable++;
      }
      if (n > 0 && printable < n * 0.75 && !(b[off + 5] === 0 && b[off + 6] === 1)) return false;
    }
    this.counters.resyncs++;
    this.stage = 'READY_FOR_COMMAND';
    this.trace(Dir.ClientToServer, 'RESYNC', 0, plen, `client stream resynchronised at a ${commandName(com)} command`);
    return true;
  };

  /** The server's stream began before the capture and nothing of it was seen yet: a greeting may start it. */
  private greetingPossible = false;

  /**
   * The start of a direction was not captured (a capture that began after the connection did).
   * Server: its stream may still begin with the greeting (the capture started after the SYN,
   * before the greeting): the hunt for a packet start also looks for one. Client, right after a
   * greeting found that way: its stream starts with the handshake response, nothing of it lost.
   * True when the gap is fully handled here.
   */
  private midStreamStart(dir: Dir): boolean {
    if (dir === Dir.ServerToClient) {
      if (this.stage === 'CONNECTING' && this.counters.commands === 0) this.greetingPossible = true;
      return false;
    }
    return this.stage === 'AUTHENTICATE' && this.login === null && this.framersMade !== null && this.framersMade[0].packets === 0 && this.framersMade[0].synced;
  }

  /** A response can start here: a command is waiting for it and the header fits. */
  private readonly serverStart: StartPredicate = (b, off, len) => {
    if (this.greetingPossible) {
      this.greetingPossible = false;
      if (this.current() === null && sniffGreeting(b, off, len) !== null) {
        this.stage = 'WAIT_FOR_INIT_PACKET';
        this.caps = 0;
        this.trace(Dir.ServerToClient, 'RESYNC', 0, null, 'server stream starts with its greeting: the login is decoded');
        return true;
      }
    }
    const cur = this.current();
    const looksLikeResponse = responseStart(b, off, len);
    if (cur === null || cur.gotResponse || !looksLikeResponse) {
      // A response with no command waiting for it: its command was not captured.
      if (looksLikeResponse && cur === null) this.counters.commandsUnseen++;
      this.counters.packetsSkipped++;
      return false;
    }
    const plen = b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
    this.trace(Dir.ServerToClient, 'RESYNC', 1, plen, `server stream resynchronised at the response to ${cur.ev.cmd}`);
    this.expect = cur.com === Com.StmtPrepare ? Expect.PrepareOk : cur.com === Com.FieldList ? Expect.FieldList : cur.com === Com.Statistics ? Expect.Statistics : Expect.Result;
    return true;
  };

  // ---- client packets ----

  private clientPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.stage) {
      case 'CONNECTING':
      case 'WAIT_FOR_INIT_PACKET':
        this.violation(Dir.ClientToServer, p, 'a client packet before the server greeting');
        return;
      case 'AUTHENTICATE':
        this.authClientPacket(p);
        return;
      case 'TLS':
      case 'REPLICATION':
      case 'DISCONNECTED':
        return;
      default:
        break;
    }
    const cur = this.current();
    if (cur && this.expect === Expect.FileData) {
      // LOCAL INFILE data, whatever its sequence id (it wraps through 0 after 255 packets).
      cur.ev.bytesIn += p.length + 4; // file contents: counted, never kept
      this.trace(Dir.ClientToServer, 'PACKET_SENT', p.seq, p.length, p.length === 0 ? 'end of file data' : 'file data');
      if (p.length === 0) this.expect = Expect.Result;
      return;
    }
    if (p.seq !== 0) {
      // Part of an exchange: change_user authentication.
      if (cur && cur.com === Com.ChangeUser && this.expect === Expect.Auth) {
        this.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, '');
        cur.ev.bytesIn += p.length + 4;
        return;
      }
      // The continuation of a request (a long query split by a gap's resync) or a violation.
      this.violation(Dir.ClientToServer, p, `client packet with sequence id ${p.seq} where a command was expected`);
      return;
    }
    this.command(p);
  }

  private command(p: Packet): void {
    if (p.payload.length === 0) {
      this.violation(Dir.ClientToServer, p, 'an empty packet where a command was expected');
      return;
    }
    const com = p.payload[0]!;
    const name = commandName(com);
    this.counters.commands++;
    if (name === null) {
      this.counters.unknownCommands++;
      this.violation(Dir.ClientToServer, p, `unknown command byte 0x${com.toString(16)}`);
      this.framers[0].gap(this.clientStart);
      this.framers[1].gap(this.serverStart);
      return;
    }
    const skipped = this.framers[1].skippedBytes;
    if (!this.framers[1].synced) {
      // The server stream is still lost after a gap, and server bytes went by unrecognised since
      // an earlier command was sent: its response was in them. Without this, the next response
      // found would be credited to it, and every later one shifted. (Commands pipelined with no
      // server bytes in between keep waiting.)
      const before = this.current();
      for (const q of this.queue) if (!q.done && skipped > (q.skippedAtSend ?? 0)) this.complete(q, 'incomplete', false);
      this.flush();
      if (this.current() !== before) this.expect = Expect.None;
    }
    const ev = this.newEvent(name, p.firstSec, p.firstNsec);
    ev.bytesIn = p.length + 4;
    const pending: Pending = { ev, com, endSec: p.lastSec, endNsec: p.lastNsec, needsResponse: true, done: false, prepareSql: null, stmtId: null, cursor: false, gotResponse: false, skippedAtSend: skipped };
    this.lastSent = pending;
    const arg = (): string => text(p.payload.subarray(1));
    switch (com) {
      case Com.Query: {
        let at = 1;
        if (this.queryAttributes === null && p.payload[1] === 0 && p.payload[2] === 1) this.queryAttributes = true;
        if (this.queryAttributes) at = skipQueryAttributes(p.payload);
        ev.sql = text(p.payload.subarray(at));
        ev.sqlTruncated = p.truncated;
        this.trackUse(ev.sql, pending);
        // A statement that sets sql_mode may change how its own later statements read.
        if (this.noBackslashEscapes !== null && setsSqlMode(ev.sql)) ev.noBackslashEscapes = null;
        break;
      }
      case Com.StmtPrepare:
        ev.sql = arg();
        ev.sqlTruncated = p.truncated;
        pending.prepareSql = ev.sql;
        this.lastPrepare = pending;
        break;
      case Com.StmtExecute:
      case Com.StmtBulkExecute:
      case Com.StmtFetch:
      case Com.StmtReset:
      case Com.StmtClose:
      case Com.StmtSendLongData: {
        const id = p.payload.length >= 5 ? (p.payload[1]! | (p.payload[2]! << 8) | (p.payload[3]! << 16) | (p.payload[4]! << 24)) >>> 0 : -1;
        pending.stmtId = id;
        // MariaDB: id -1 is the statement prepared last, often sent with it before its PREPARE_OK.
        const last = id === 0xffffffff ? this.lastPrepare : null;
        const st = this.statements.get(last?.stmtId ?? id);
        ev.sql = st?.sql ?? last?.prepareSql ?? null;
        if (com === Com.StmtExecute && ev.sql === null && id !== 0xffffffff) {
          // Prepared before the capture began: describe it by what the wire shows.
          const known = this.unknownStatements.get(id);
          // The count learnt from an earlier execute, checked first: inferring tries counts one by one.
          const again = known?.params != null ? parseExecute(p.payload, known.params, null, false) : null;
          const inferred = this.queryAttributes === true ? null : again !== null && again.types !== null && again.end === p.payload.length ? { count: known!.params!, types: again.types.map((t) => t & 0xff) } : inferExecuteParams(p.payload);
          const learnt = known !== undefined && known.columns.length > 0;
          const u: UnknownStatement = { id, params: inferred?.count ?? known?.params ?? null, types: inferred?.types ?? known?.types ?? null, columns: learnt ? known.columns : [] };
          pending.collectColumns = !learnt;
          if (known === undefined && this.unknownStatements.size >= 1024) this.unknownStatements.clear();
          this.unknownStatements.set(id, u);
          ev.unknownStatement = u;
        }
        if (com === Com.StmtExecute) {
          const x = parseExecute(p.payload, st ? st.params : null, st?.types ?? null, this.queryAttributes === true);
          if (x) {
            if (st && x.types) st.types = x.types;
            // With query attributes the count covers the statement's parameters, then the attributes.
            ev.params = x.values !== null && st && x.values.length > st.params ? x.values.slice(0, st.params) : x.values;
            const types = x.types ?? st?.types ?? null;
            if (ev.params !== null && types !== null) ev.paramTypes = types.slice(0, ev.params.length).map((t) => t & 0xff);
            pending.cursor = (x.flags & 0x07) !== 0;
          }
        }
        if (com === Com.StmtClose) {
          this.statements.delete(id);
          this.unknownStatements.delete(id);
          pending.needsResponse = false;
        }
        if (com === Com.StmtSendLongData) pending.needsResponse = false;
        break;
      }
      case Com.InitDb:
        ev.sql = arg();
        break;
      case Com.FieldList:
        ev.sql = text(nulTerminated(p.payload.subarray(1)));
        break;
      case Com.Quit:
        pending.needsResponse = false;
        break;
      case Com.ChangeUser: {
        // COM_CHANGE_USER: user NUL, auth response (never kept), database NUL, …
        const r = new ByteReader(p.payload, 1);
        ev.user = text(r.nulBytes());
        if (this.caps & Cap.SecureConnection) r.skip(r.u8());
        else r.nulBytes();
        const db = r.remaining > 0 ? text(r.nulBytes()) : '';
        pending.newDb = db.length > 0 ? db : null;
        break;
      }
      case Com.BinlogDump:
      case Com.BinlogDumpGtid:
      case Com.RegisterSlave:
        // Replication: the server streams binlog events from now on; stop decoding this connection.
        this.replication = true;
        pending.needsResponse = false;
        break;
      case Com.ProcessKill:
        ev.sql = p.payload.length >= 5 ? String((p.payload[1]! | (p.payload[2]! << 8) | (p.payload[3]! << 16) | (p.payload[4]! << 24)) >>> 0) : null;
        break;
      default:
        break;
    }
    if (this.traceFn !== null) this.trace(Dir.ClientToServer, 'SEND_COMMAND', p.seq, p.length, name + (ev.sql !== null ? ` ${ev.sql.slice(0, 200)}` : ''), p.payload, ev.noBackslashEscapes);
    this.queue.push(pending);
    if (this.queue.length > MAX_PENDING) {
      // No response for this many commands (only the client side captured?): give the oldest up,
      // so that memory stays bounded and its event goes out.
      const oldest = this.current();
      if (oldest !== null && oldest !== pending) {
        this.complete(oldest, 'incomplete');
        this.expect = Expect.None;
      }
    }
    if (!pending.needsResponse) {
      pending.done = true;
      ev.status = 'none';
    }
    if (this.replication) {
      this.stage = 'REPLICATION';
      this.trace(Dir.ClientToServer, 'REPLICATION', p.seq, p.length, 'replication stream: not decoded');
      this.flush();
      this.abandoned = true;
      return;
    }
    if (this.expect === Expect.None) this.startExpect();
    this.flush();
  }

  /** After a command, or when the previous response ended: what does the next response start with? */
  private startExpect(): void {
    const cur = this.current();
    if (cur === null) {
      this.expect = Expect.None;
      this.stage = 'READY_FOR_COMMAND';
      return;
    }
    switch (cur.com) {
      case Com.StmtPrepare:
        this.expect = Expect.PrepareOk;
        break;
      case Com.FieldList:
        this.expect = Expect.FieldList;
        break;
      case Com.Statistics:
        this.expect = Expect.Statistics;
        break;
      case Com.ChangeUser:
        this.expect = Expect.Auth;
        break;
      case Com.StmtFetch:
        this.expect = Expect.Rows;
        break;
      default:
        this.expect = Expect.Result;
    }
    this.stage = this.expect === Expect.Rows ? 'WAIT_FOR_ROW' : 'WAIT_FOR_RESULT';
  }

  // ---- server packets ----

  private serverPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.stage) {
      case 'CONNECTING':
      case 'WAIT_FOR_INIT_PACKET':
        this.greeting(p);
        return;
      case 'AUTHENTICATE':
        this.authServerPacket(p);
        return;
      case 'TLS':
      case 'REPLICATION':
      case 'DISCONNECTED':
        return;
      default:
        break;
    }
    const cur = this.current();
    if (cur === null || this.expect === Expect.None) {
      this.counters.packetsSkipped++;
      if (p.seq === 1 && cur === null && this.sawClientGap) {
        // The first packet of a response to a command lost in a client-side gap.
        this.counters.commandsUnseen++;
        this.trace(Dir.ServerToClient, 'PACKET_RECEIVED', p.seq, p.length, 'a response whose command was not captured (skipped)');
        return;
      }
      this.violation(Dir.ServerToClient, p, 'a server packet with no command waiting for it');
      return;
    }
    if (this.deprecateEof === null && (this.expect === Expect.ParamDefsEof || this.expect === Expect.PrepareFieldDefsEof) && !isTerminator(p.payload, p.length, false)) {
      // No EOF after a prepared statement's definitions: CLIENT_DEPRECATE_EOF (learnt mid-stream).
      this.deprecateEof = true;
      this.expect = this.expect === Expect.ParamDefsEof ? this.afterParams(cur) : Expect.None;
      if (this.expect === Expect.None) {
        this.prepared(cur);
        this.serverPacket(p); // the first packet of the next command's response
        return;
      }
    }
    if (!cur.gotResponse) {
      cur.gotResponse = true;
      cur.ev.latencyUs = micros(cur.endSec, cur.endNsec, p.firstSec, p.firstNsec);
    }
    cur.ev.responseUs = micros(cur.endSec, cur.endNsec, p.lastSec, p.lastNsec);
    cur.ev.bytesOut += p.length + 4;
    const b0 = p.b0;
    const caps = this.caps;
    if (this.traceFn !== null) {
      // (A LOCAL INFILE request names a client file: its bytes are never dumped.)
      const fileRequest = this.expect === Expect.Result && b0 === 0xfb && p.length > 1;
      this.trace(Dir.ServerToClient, 'PACKET_RECEIVED', p.seq, p.length, describeServerPacket(p, this.expect), fileRequest ? null : p.payload);
    }
    if (b0 === 0xff) {
      const e = parseErr(p.payload, caps);
      const ev = cur.ev;
      ev.errorCode = e?.code ?? null;
      ev.sqlState = e?.sqlState ?? null;
      ev.error = e?.message ?? null;
      this.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.sqlState ?? ''} ${e.message}` : 'malformed ERR');
      this.complete(cur, 'error');
      this.next();
      return;
    }
    switch (this.expect) {
      case Expect.Result:
        this.result(cur, p);
        return;
      case Expect.FieldDefs:
      case Expect.PrepareFieldDefs:
      case Expect.ParamDefs:
        if (this.expect === Expect.FieldDefs && cur.collectColumns === true && cur.ev.resultSets === 0) this.unknownColumn(cur.ev.unknownStatement!, p);
        if (--this.remaining > 0) return;
        if (this.expect === Expect.ParamDefs) {
          this.expect = this.deprecateEof === true ? this.afterParams(cur) : Expect.ParamDefsEof;
          if (this.expect === Expect.None) this.prepared(cur);
        } else if (this.expect === Expect.PrepareFieldDefs) {
          if (this.deprecateEof === true) this.prepared(cur);
          else this.expect = Expect.PrepareFieldDefsEof;
        } else {
          this.expect = this.deprecateEof === true ? Expect.Rows : Expect.FieldDefsEof;
          this.stage = this.expect === Expect.Rows ? 'WAIT_FOR_ROW' : 'WAIT_FOR_FIELD_DEF';
        }
        return;
      case Expect.FieldDefsEof:
        if (p.payload[0] === 0xfe && p.length < 9) {
          if (this.deprecateEof === null && p.length >= 7) {
            // Not an EOF (5 bytes) but the OK that ends an empty result set: CLIENT_DEPRECATE_EOF.
            this.deprecateEof = true;
            this.expect = Expect.Rows;
            this.stage = 'WAIT_FOR_ROW';
            this.rows(cur, p);
            return;
          }
          if (this.deprecateEof === null) this.deprecateEof = p.length === 5 ? false : null;
          const eof = parseEof(p.payload);
          this.serverStatus(eof.status, cur);
          if (cur.cursor && eof.status & Status.CursorExists) {
            // A cursor was opened: rows come with COM_STMT_FETCH.
            this.endResult(cur, eof.status, eof.warnings, null);
            return;
          }
          this.expect = Expect.Rows;
          this.stage = 'WAIT_FOR_ROW';
          return;
        }
        if (this.deprecateEof === null) {
          // No EOF after the definitions: the connection negotiated CLIENT_DEPRECATE_EOF.
          this.deprecateEof = true;
          this.expect = Expect.Rows;
          this.stage = 'WAIT_FOR_ROW';
          this.rows(cur, p);
          return;
        }
        this.violation(Dir.ServerToClient, p, 'expected EOF after the column definitions');
        this.expect = Expect.Rows;
        this.rows(cur, p);
        return;
      case Expect.Rows:
        this.rows(cur, p);
        return;
      case Expect.PrepareOk: {
        const ok = b0 === 0x00 ? parsePrepareOk(p.payload) : null;
        if (ok === null) {
          this.violation(Dir.ServerToClient, p, 'expected COM_STMT_PREPARE_OK');
          this.complete(cur, 'incomplete');
          this.next();
          return;
        }
        cur.stmtId = ok.statementId;
        cur.ev.warnings = ok.warnings;
        if (cur.prepareSql !== null) this.statements.set(ok.statementId, { sql: cur.prepareSql, params: ok.params, types: null });
        this.remaining = ok.params;
        this.prepareColumns = ok.columns;
        if (ok.params > 0) {
          this.expect = Expect.ParamDefs;
          this.stage = 'WAIT_FOR_PARAM_DEF';
        } else if (ok.columns > 0) {
          this.remaining = ok.columns;
          this.expect = Expect.PrepareFieldDefs;
          this.stage = 'WAIT_FOR_FIELD_DEF';
        } else {
          this.prepared(cur);
        }
        return;
      }
      case Expect.ParamDefsEof:
        if (isTerminator(p.payload, p.length, false)) {
          this.expect = this.afterParams(cur);
          if (this.expect === Expect.None) this.prepared(cur);
          return;
        }
        // No EOF: CLIENT_DEPRECATE_EOF.
        this.deprecateEof = true;
        this.expect = this.afterParams(cur);
        if (this.expect === Expect.None) this.prepared(cur);
        else this.serverPacketAgain(cur, p);
        return;
      case Expect.PrepareFieldDefsEof:
        if (isTerminator(p.payload, p.length, false)) {
          this.prepared(cur);
          return;
        }
        this.deprecateEof = true;
        this.prepared(cur);
        this.violation(Dir.ServerToClient, p, 'unexpected packet after the prepared statement definitions');
        return;
      case Expect.FieldList:
        if (isTerminator(p.payload, p.length, this.deprecateEof)) {
          this.complete(cur, 'ok');
          this.next();
        }
        return;
      case Expect.Statistics:
        cur.ev.sql ??= null;
        this.complete(cur, 'ok');
        this.next();
        return;
      case Expect.Auth:
        if (b0 === 0x00) {
          this.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, 'change_user');
          this.user = cur.ev.user;
          this.db = cur.newDb ?? null; // a new session: the database it asked for, or none
          this.statements.clear();
          this.okInto(cur, p);
          this.complete(cur, 'ok');
          this.next();
        } else if (b0 === 0xfe) {
          this.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `switch to ${text(nulTerminated(p.payload.subarray(1)))}`);
        }
        return;
      case Expect.FileData:
        // The server answers: the end of the file (an empty packet) was not captured.
        this.expect = Expect.Result;
        this.stage = 'WAIT_FOR_RESULT';
        this.result(cur, p);
        return;
    }
  }

  private prepareColumns = 0;

  private afterParams(_cur: Pending): Expect {
    if (this.prepareColumns > 0) {
      this.remaining = this.prepareColumns;
      this.stage = 'WAIT_FOR_FIELD_DEF';
      return Expect.PrepareFieldDefs;
    }
    return Expect.None;
  }

  /** Re-handle a packet after a state change decided it belongs to the next stage. */
  private serverPacketAgain(cur: Pending, _p: Packet): void {
    if (this.expect === Expect.PrepareFieldDefs) {
      if (--this.remaining === 0) {
        if (this.deprecateEof === true) this.prepared(cur);
        else this.expect = Expect.PrepareFieldDefsEof;
      }
    }
  }

  private prepared(cur: Pending): void {
    this.complete(cur, 'ok');
    this.next();
  }

  /** The first packet of a (next) result. */
  private result(cur: Pending, p: Packet): void {
    const b0 = p.payload[0]!;
    if (b0 === 0x00 && p.length >= 7) {
      const ok = this.okInto(cur, p);
      cur.ev.resultSets++;
      if (ok && ok.status & Status.MoreResultsExists) return; // another result follows
      this.complete(cur, 'ok');
      this.next();
      return;
    }
    if (b0 === 0xfb && p.length > 1) {
      this.expect = Expect.FileData;
      this.stage = 'FILE_REQUEST';
      this.trace(Dir.ServerToClient, 'FILE_REQUEST', p.seq, p.length, 'LOCAL INFILE request (file name and contents are never shown)');
      return;
    }
    if (b0 === 0xfe && p.length < 9) {
      // EOF as the whole answer (COM_SET_OPTION, COM_DEBUG).
      const eof = parseEof(p.payload);
      this.serverStatus(eof.status, cur);
      cur.ev.warnings = eof.warnings;
      cur.ev.serverStatus = eof.status;
      this.complete(cur, 'ok');
      this.next();
      return;
    }
    if (b0 === 0x00) {
      // A short OK (pre-4.1 servers).
      this.okInto(cur, p);
      this.complete(cur, 'ok');
      this.next();
      return;
    }
    // A result set: column count, then (MariaDB cached metadata) maybe no definitions.
    let n = b0 < 0xfb ? b0 : b0 === 0xfc ? p.payload[1]! | (p.payload[2]! << 8) : b0 === 0xfd ? p.payload[1]! | (p.payload[2]! << 8) | (p.payload[3]! << 16) : -1;
    if (n <= 0 || n > 4096) {
      this.violation(Dir.ServerToClient, p, `implausible column count ${n}`);
      this.complete(cur, 'incomplete');
      this.framers[1].gap(this.serverStart);
      this.expect = Expect.None;
      this.stage = 'RESYNC';
      return;
    }
    cur.ev.rows ??= 0;
    const lenencSize = b0 < 0xfb ? 1 : b0 === 0xfc ? 3 : 4;
    if (this.mariaCaps & MariaCap.CacheMetadata && p.payload[lenencSize] === 0) n = 0; // metadata not resent
    this.remaining = n;
    if (n === 0) {
      this.expect = this.deprecateEof === true ? Expect.Rows : Expect.FieldDefsEof;
    } else {
      this.expect = Expect.FieldDefs;
    }
    this.stage = 'WAIT_FOR_FIELD_DEF';
  }

  /** A column definition of an unknown statement's first result (learnt once per statement id). */
  private unknownColumn(u: UnknownStatement, p: Packet): void {
    if (u.columns.length < MAX_UNKNOWN_COLUMNS) u.columns.push(columnName(p.payload) ?? '?');
    else if (u.columns[u.columns.length - 1] !== '…') u.columns.push('…');
  }

  private rows(cur: Pending, p: Packet): void {
    // Every terminator starts with 0xfe; a row that is only counted needs no view of its bytes.
    if (p.b0 === 0xfe && (isTerminator(p.payload, p.length, this.deprecateEof) || (this.deprecateEof === null && p.length < 0xffffff && p.length >= 7 && p.length < 64))) {
      let status = 0;
      let warnings = 0;
      if (p.length === 5) {
        const eof = parseEof(p.payload);
        status = eof.status;
        warnings = eof.warnings;
      } else {
        const ok = parseOk(p.payload, this.caps);
        status = ok?.status ?? 0;
        warnings = ok?.warnings ?? 0;
        if (this.deprecateEof === null && ok) this.deprecateEof = true;
      }
      this.endResult(cur, status, warnings, null);
      return;
    }
    cur.ev.rows = (cur.ev.rows ?? 0) + 1;
  }

  private endResult(cur: Pending, status: number, warnings: number, _ok: null): void {
    this.serverStatus(status, cur);
    const ev = cur.ev;
    ev.resultSets++;
    ev.warnings = (ev.warnings ?? 0) + warnings;
    if (status & Status.NoIndexUsed) ev.noIndexUsed = true;
    if (status & Status.NoGoodIndexUsed) ev.noGoodIndexUsed = true;
    ev.serverStatus = status;
    if (status & Status.MoreResultsExists) {
      this.expect = Expect.Result;
      this.stage = 'WAIT_FOR_RESULT';
      return;
    }
    this.complete(cur, 'ok');
    this.next();
  }

  /** Parse an OK into the event (affected rows, insert id, warnings, status flags, schema change). */
  private okInto(cur: Pending, p: Packet): ReturnType<typeof parseOk> {
    const ok = parseOk(p.payload, this.caps);
    if (ok === null) {
      this.violation(Dir.ServerToClient, p, 'malformed OK packet');
      return null;
    }
    this.serverStatus(ok.status, cur);
    const ev = cur.ev;
    ev.affectedRows = (ev.affectedRows ?? 0) + ok.affectedRows;
    ev.insertId = ok.insertId || ev.insertId;
    ev.warnings = (ev.warnings ?? 0) + ok.warnings;
    if (ok.status & Status.NoIndexUsed) ev.noIndexUsed = true;
    if (ok.status & Status.NoGoodIndexUsed) ev.noGoodIndexUsed = true;
    ev.serverStatus = ok.status;
    if (ok.schema !== null) this.db = ok.schema;
    else if (cur.com === Com.InitDb && ev.sql !== null) this.db = ev.sql;
    else if (cur.pendingUse !== undefined) this.db = cur.pendingUse;
    return ok;
  }

  // ---- connection phase ----

  private greeting(p: Packet): void {
    const g = p.seq === 0 ? parseGreeting(p.payload) : null;
    if (g === null) {
      if (p.payload[0] === 0xff) {
        // The server refused the connection before the handshake (too many connections, host blocked).
        const e = parseErr(p.payload, 0);
        this.login = this.loginPending(p);
        this.login.ev.errorCode = e?.code ?? null;
        this.login.ev.error = e?.message ?? null;
        this.finishLogin('error');
        return;
      }
      this.violation(Dir.ServerToClient, p, 'expected a server greeting (protocol 10)');
      this.abandon('not a MySQL server greeting');
      return;
    }
    this.serverVersion = g.serverVersion;
    this.connId = g.connectionId;
    this.serverCaps = g.capabilities;
    this.serverMariaCaps = g.mariaCapabilities;
    this.serverStatus(g.status);
    this.trace(Dir.ServerToClient, 'INIT_PACKET_RECEIVED', p.seq, p.length, `${g.serverVersion}, connection id ${g.connectionId}, auth plugin ${g.authPlugin ?? '-'}`);
    this.stage = 'AUTHENTICATE';
    this.greetingBytes = p.length + 4;
  }

  /** The server greeting's bytes, counted in the login's bytes from the server. */
  private greetingBytes = 0;

  private loginPending(p: Packet): Pending {
    return this.loginAt(p.firstSec, p.firstNsec, p.lastSec, p.lastNsec);
  }

  private loginAt(sec: number, nsec: number, endSec: number, endNsec: number): Pending {
    const ev = this.newEvent('connect', sec, nsec);
    ev.bytesOut += this.greetingBytes;
    this.greetingBytes = 0;
    return { ev, com: Com.Connect, endSec, endNsec, needsResponse: true, done: false, prepareSql: null, stmtId: null, cursor: false, gotResponse: false };
  }

  /**
   * The connection ended: a login the server greeted but never finished (no handshake response,
   * or no final answer to it) is a `connect` event, `aborted` with how it ended and its duration
   * (what MySQL counts in Aborted_connects); `incomplete` when the capture, not the connection,
   * ended (or the connection table dropped it). Its time is the connection's first packet when the
   * client sent nothing.
   */
  private loginEnded(reason: CloseReason, by: Dir | null, sec: number, nsec: number): void {
    let l = this.login;
    if (l === null) {
      if (this.stage !== 'AUTHENTICATE') return; // no greeting seen: no login known to have begun
      l = this.login = this.loginAt(this.info.firstSec, this.info.firstNsec, this.info.firstSec, this.info.firstNsec);
    }
    if (l.done) return;
    const ended = loginEnd(reason, by);
    l.ev.ended = ended;
    l.ev.durationUs = micros(this.info.firstSec, this.info.firstNsec, sec, nsec);
    this.finishLogin(ended === 'capture_end' || ended === 'evicted' ? 'incomplete' : 'aborted');
  }

  private authClientPacket(p: Packet): void {
    if (this.login === null) {
      const r = parseHandshakeResponse(p.payload);
      if (r === null) {
        this.violation(Dir.ClientToServer, p, 'expected a handshake response');
        return;
      }
      this.caps = (r.capabilities & this.serverCaps) >>> 0 || r.capabilities;
      this.mariaCaps = r.mariaCapabilities & this.serverMariaCaps;
      this.deprecateEof = (this.caps & Cap.DeprecateEof) !== 0;
      this.queryAttributes = (this.caps & Cap.QueryAttributes) !== 0;
      if (r.sslRequest) {
        if (this.tlsLayer !== null) {
          this.violation(Dir.ClientToServer, p, 'a second SSL request');
          return;
        }
        // TLS from the next byte on: its records go to the TLS layer, which hands back what it can
        // decrypt; the handshake response then comes again, inside TLS.
        this.tls = true;
        this.trace(Dir.ClientToServer, 'TLS', p.seq, p.length, 'SSL request: TLS from here on');
        const pend = this.loginPending(p);
        pend.ev.tls = true;
        pend.ev.bytesIn = p.length + 4;
        this.tlsLogin = pend;
        this.tlsLayer = new TlsConnection(this.tlsSecrets, {
          onData: (d, b, o, l, s, n) => this.decrypted(d, b, o, l, s, n),
          onGap: (d, bytes, why, s, n) => this.plainGap(d, bytes, why, s, n),
        });
        this.framers[0].stopAfterPacket();
        return;
      }
      this.user = r.user;
      this.db = r.database;
      // Inside TLS, the login event is the one the SSL request began (its time, its bytes).
      const pend = this.tlsLogin ?? this.loginPending(p);
      this.tlsLogin = null;
      pend.ev.user = r.user;
      pend.ev.db = r.database;
      pend.ev.bytesIn += p.length + 4;
      pend.endSec = p.lastSec;
      pend.endNsec = p.lastNsec;
      pend.ev.sql = null;
      this.login = pend;
      this.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, `user ${r.user ?? '-'}, database ${r.database ?? '-'}, plugin ${r.authPlugin ?? '-'}`);
      return;
    }
    // Further authentication data (auth switch response, caching_sha2 exchanges): never kept.
    this.login.ev.bytesIn += p.length + 4;
    this.login.endSec = p.lastSec;
    this.login.endNsec = p.lastNsec;
    this.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, 'authentication data (not shown)');
  }

  private authServerPacket(p: Packet): void {
    const login = this.login;
    if (login === null) {
      this.violation(Dir.ServerToClient, p, 'a server packet before the handshake response');
      return;
    }
    login.ev.bytesOut += p.length + 4;
    if (!login.gotResponse) {
      login.gotResponse = true;
      login.ev.latencyUs = micros(login.endSec, login.endNsec, p.firstSec, p.firstNsec);
    }
    login.ev.responseUs = micros(login.endSec, login.endNsec, p.lastSec, p.lastNsec);
    const b0 = p.payload[0];
    if (b0 === 0x00) {
      const ok = parseOk(p.payload, this.caps);
      if (ok?.schema) this.db = ok.schema;
      if (ok) this.serverStatus(ok.status);
      this.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, '');
      this.finishLogin('ok');
      this.stage = 'READY_FOR_COMMAND';
      if (this.caps & Cap.Compress) this.startCompression('zlib');
      else if (this.caps & Cap.ZstdCompression) this.startCompression('zstd');
    } else if (b0 === 0xff) {
      const e = parseErr(p.payload, this.caps);
      login.ev.errorCode = e?.code ?? null;
      login.ev.sqlState = e?.sqlState ?? null;
      login.ev.error = e?.message ?? null;
      this.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.message}` : '');
      this.finishLogin('error');
      this.stage = 'DISCONNECTED';
    } else if (b0 === 0xfe) {
      this.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `auth switch to ${text(nulTerminated(p.payload.subarray(1)))}`);
    } else if (b0 === 0x01) {
      const what = p.payload[1] === 3 ? 'fast authentication succeeded' : p.payload[1] === 4 ? 'full authentication required' : 'more authentication data';
      this.trace(Dir.ServerToClient, 'AUTH_MORE_DATA', p.seq, p.length, what);
    } else {
      this.violation(Dir.ServerToClient, p, 'unexpected packet during authentication');
    }
  }

  /** After the login OK: every byte from now on travels in compressed packets. */
  private startCompression(algorithm: CompressionAlgorithm): void {
    this.compressed = true;
    this.compression = algorithm;
    const inflate = decompressorFor(algorithm);
    if (inflate === null) {
      this.trace(null, 'COMPRESSED', null, null, `${algorithm} compression: this Node.js cannot decompress it (needs zlib.zstdDecompressSync, Node 22.15+)`);
      this.abandon(`${algorithm} compression is not supported by this Node.js`);
      return;
    }
    this.unwrap = [new CompressedStream(this.framers[0], inflate), new CompressedStream(this.framers[1], inflate)];
    this.trace(null, 'COMPRESSED', null, null, `${algorithm} compressed protocol from here on`);
  }

  private finishLogin(status: CommandStatus): void {
    const l = this.login;
    if (l === null || l.done) return;
    l.done = true;
    l.ev.status = status;
    l.ev.connId = this.connId;
    this.stampTls(l.ev);
    // A TLS login that could not be decrypted is not a loss: its end is encrypted by design.
    if (status === 'incomplete' && l.ev.tlsDecrypted !== false) this.counters.commandsIncomplete++;
    this.sink(l.ev);
  }

  // ---- helpers ----

  private current(): Pending | null {
    for (const p of this.queue) if (!p.done) return p;
    return null;
  }

  private next(): void {
    this.flush();
    this.startExpect();
  }

  private complete(p: Pending, status: CommandStatus, doFlush = true): void {
    if (p.done) return;
    p.done = true;
    p.ev.status = status;
    if (status === 'incomplete') this.counters.commandsIncomplete++;
    if (p.com === Com.StmtPrepare && status !== 'ok' && p.stmtId !== null) this.statements.delete(p.stmtId);
    if (doFlush) this.flush();
  }

  /** Emit completed commands in request order. */
  private flush(): void {
    while (this.queue.length > 0 && this.queue[0]!.done) this.sink(this.queue.shift()!.ev);
  }

  private newEvent(cmd: string, sec: number, nsec: number): CommandEvent {
    const i = this.info;
    const ev: CommandEvent = {
      conn: i.id,
      sec,
      nsec,
      client: i.client,
      server: i.server,
      connId: this.connId,
      user: this.user,
      db: this.db,
      cmd,
      sql: null,
      sqlTruncated: false,
      params: null,
      paramTypes: null,
      status: 'incomplete',
      latencyUs: null,
      responseUs: null,
      rows: null,
      affectedRows: null,
      insertId: null,
      warnings: null,
      errorCode: null,
      sqlState: null,
      error: null,
      noIndexUsed: false,
      noGoodIndexUsed: false,
      serverStatus: null,
      bytesIn: 0,
      bytesOut: 0,
      resultSets: 0,
      tls: this.tls,
      tlsVersion: null,
      tlsCipher: null,
      tlsDecrypted: null,
      compressed: this.compressed,
      noBackslashEscapes: this.noBackslashEscapes,
      ended: null,
      durationUs: null,
    };
    if (this.tlsLayer !== null) this.stampTls(ev);
    return ev;
  }

  /** What an event says of the connection's TLS: version, suite, read by decryption or not. */
  private stampTls(ev: CommandEvent): void {
    ev.tls = this.tls;
    const t = this.tlsLayer;
    if (t === null) return;
    // Once decrypting, the version and suite are those of the whole session: read once (the
    // layer's info is a fresh object, client random in hex, at every read).
    const i = this.tlsDecrypting ?? t.info;
    ev.tlsVersion = i.version;
    ev.tlsCipher = i.cipherName;
    ev.tlsDecrypted = i.state === 'decrypting';
  }

  /** The TLS layer's info from the first decrypted bytes on (null before, or never decrypted). */
  private tlsDecrypting: TlsInfo | null = null;

  /** Decrypted bytes from the TLS layer. */
  private decrypted(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (!this.tlsTraced) {
      this.tlsTraced = true;
      const i = this.tlsLayer!.info;
      this.tlsDecrypting = i;
      this.nowSec = sec;
      this.nowNsec = nsec;
      this.trace(null, 'TLS', null, null, `${i.version ?? 'TLS'} ${i.cipherName ?? ''}: decrypted with the key log's secrets`.replace(' :', ':'));
    }
    this.plain(dir, buf, offset, length, sec, nsec);
  }

  /**
   * The TLS layer cannot decrypt this connection (no secret for it, an unsupported suite or
   * version): the login is known only as a TLS login, and decoding stops, saying why.
   */
  /** No secret for the session (yet): the login is known only as a TLS login; reading goes on. */
  private tlsWaiting(info: TlsInfo): void {
    if (this.tlsLogin === null) return;
    this.login = this.tlsLogin;
    this.tlsLogin = null;
    this.finishLogin('incomplete');
    // The compressed protocol (negotiated in the SSL request) cannot be resumed mid-stream.
    if (this.caps & (Cap.Compress | Cap.ZstdCompression)) {
      this.stage = 'TLS';
      this.trace(null, 'TLS', null, null, info.reason ?? 'no secret for the session');
      this.abandon(`TLS: ${tlsCategory(info)}`);
      return;
    }
    this.trace(null, 'TLS', null, null, `${info.reason ?? 'no secret for the session'}; its commands are decoded from the point the secrets appear, if they do (a key log that grows)`);
  }

  private tlsUnreadable(): void {
    const t = this.tlsLayer!;
    const why = t.info.reason ?? `TLS state ${t.info.state}`;
    if (this.tlsLogin !== null) {
      this.login = this.tlsLogin;
      this.tlsLogin = null;
      this.finishLogin('incomplete');
    }
    this.stage = 'TLS';
    this.trace(null, 'TLS', null, null, why);
    this.abandon(`TLS: ${tlsCategory(t.info)}`);
  }

  /**
   * A server status (greeting, OK, EOF): follow NO_BACKSLASH_ESCAPES. `cur`, the command it
   * answers: sent before any status was seen, it takes this mode (unless it sets sql_mode
   * itself); one whose mode changed under it (a multi-statement `SET sql_mode=…; SELECT …`) is
   * marked unknown, so that its SQL is redacted safely for either mode.
   */
  private serverStatus(status: number, cur: Pending | null = null): void {
    const nbe = (status & Status.NoBackslashEscapes) !== 0;
    if (cur !== null && cur.ev.noBackslashEscapes !== nbe) {
      const ev = cur.ev;
      ev.noBackslashEscapes = ev.noBackslashEscapes === null && !(ev.sql !== null && setsSqlMode(ev.sql)) ? nbe : null;
    }
    this.noBackslashEscapes = nbe;
  }

  /** The last command sent (for cutCommand). */
  private lastSent: Pending | null = null;

  /**
   * The client's command in progress when its bytes stopped (a gap, or the end of the connection
   * or capture): reported with what arrived of it — the SQL prefix, marked cut (`sqlTruncated`)
   * — rather than dropped. After a gap it waits for its response like any command (latency from
   * its last captured byte, and the outcome); at the end it is `incomplete`.
   */
  private cutCommand(): void {
    if (this.unwrap !== null || this.stage === 'AUTHENTICATE') return;
    const f = this.framers[0];
    const p = f.cut();
    if (p === null || p.seq !== 0 || f.cutCaptured < 1) return;
    const before = this.lastSent;
    this.clientPacket(p);
    const cut = this.lastSent;
    if (cut === null || cut === before) return;
    cut.ev.sqlTruncated = true;
    cut.ev.bytesIn = f.cutCaptured + 4;
  }

  /** `USE db` changes the current database once the server says OK. */
  private trackUse(sql: string, cur: Pending): void {
    const m = /^\s*use\s+`?([^`;\s]+)`?\s*;?\s*$/i.exec(sql);
    if (m) cur.pendingUse = m[1]!;
  }

  private violation(dir: Dir, p: Packet, what: string): void {
    this.counters.protocolViolations++;
    this.trace(dir, 'PROTOCOL_VIOLATION', p.seq, p.length, `${what} (in ${this.stage})`, p.payload);
  }

  private abandon(why: string): void {
    this.abandoned = true;
    this.stoppedBecause ??= why;
    this.trace(null, 'ABANDONED', null, null, why);
  }

  private trace(dir: Dir | null, event: string, seq: number | null, length: number | null, detail: string, payload: Uint8Array | null = null, noBackslashEscapes = this.noBackslashEscapes): void {
    const t = this.traceFn;
    if (t === null) return;
    t({ conn: this.info.id, sec: this.nowSec, nsec: this.nowNsec, dir, stage: this.stage, event, seq, length, detail, payload, noBackslashEscapes });
  }
}


/**
 * Does a response start at `b[off]`? Its first packet (OK, ERR, column count, PREPARE_OK, a column
 * definition) has sequence id 1 and is short: it ends in this segment or is under 256 bytes, and a
 * packet after it in the segment has sequence id 2. (A segment that starts inside a packet would
 * otherwise pass on a payload byte of 1.)
 */
function responseStart(b: Uint8Array, off: number, len: number): boolean {
  if (len < 5 || b[off + 3] !== 1) return false;
  const plen = b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
  return !(plen < 1 || (plen + 4 > len && plen > 255) || (plen + 8 <= len && b[off + plen + 7] !== 2));
}

function loginEnd(reason: CloseReason, by: Dir | null): LoginEnd {
  switch (reason) {
    case 'fin':
      return by === Dir.ClientToServer ? 'client_closed' : by === Dir.ServerToClient ? 'server_closed' : 'closed';
    case 'rst':
      return by === Dir.ClientToServer ? 'client_reset' : by === Dir.ServerToClient ? 'server_reset' : 'reset';
    case 'idle-timeout':
      return 'timed_out';
    case 'replaced':
      return 'replaced';
    case 'evicted':
      return 'evicted';
    case 'capture-end':
      return 'capture_end';
    default: {
      const never: never = reason;
      return never;
    }
  }
}

function micros(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return Math.max(0, Math.round((bSec - aSec) * 1e6 + (bNsec - aNsec) / 1e3));
}

function nulTerminated(b: Uint8Array): Uint8Array {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

/** COM_QUERY with CLIENT_QUERY_ATTRIBUTES: parameter count, set count, then (if any) the attributes. */
export function skipQueryAttributes(p: Uint8Array): number {
  const r = new ByteReader(p, 1);
  const count = r.lenenc();
  r.lenenc(); // parameter set count (1)
  if (count <= 0 || !r.ok) return r.pos;
  const nullBitmap = r.bytes((count + 7) >> 3);
  if (r.u8() !== 1) return r.pos; // no types: nothing more is sent
  const types: number[] = [];
  for (let i = 0; i < count && r.ok; i++) {
    types.push(r.u16());
    r.lenencBytes(); // the attribute's name
  }
  // Values: a NULL (in the bitmap) sends no bytes; the others are binary-protocol values.
  for (let i = 0; i < types.length && r.ok; i++) {
    if (nullBitmap[i >> 3]! & (1 << (i & 7))) continue;
    if (binaryValue(r, types[i]!) === undefined) break;
  }
  return r.pos;
}

function describeServerPacket(p: Packet, expect: Expect): string {
  const b0 = p.payload[0];
  if (b0 === 0x00 && (expect === Expect.Result || expect === Expect.Auth)) return 'OK';
  if (b0 === 0xff) return 'ERR';
  if (b0 === 0xfe && p.length < 9) return 'EOF';
  if (b0 === 0xfe) return 'OK (end of rows)';
  switch (expect) {
    case Expect.Result:
      return b0 === 0xfb ? 'LOCAL INFILE request' : 'column count';
    case Expect.FieldDefs:
    case Expect.PrepareFieldDefs:
    case Expect.FieldList:
      return 'column definition';
    case Expect.ParamDefs:
      return 'parameter definition';
    case Expect.Rows:
      return 'row';
    case Expect.PrepareOk:
      return 'PREPARE_OK';
    default:
      return '';
  }
}

/** Is the TLS layer still able to hand over plaintext (or about to)? */
function tlsReadable(i: TlsInfo): boolean {
  return i.state === 'decrypting' || i.state === 'handshake';
}

/** The reason a TLS connection was not read, as one of a few categories (health counts them). */
export function tlsCategory(i: TlsInfo): string {
  switch (i.state) {
    case 'no-secret':
      return 'no secret for the session in the key log';
    case 'unsupported-suite':
      return `unsupported cipher suite ${i.cipherName ?? '?'}`;
    case 'unsupported-version':
      return `unsupported version ${i.version ?? '?'}`;
    case 'failed':
      return 'decryption failed (wrong secret, or damaged records)';
    case 'handshake':
      return 'the TLS handshake was not captured whole';
    case 'decrypting':
      return 'decrypted';
    default: {
      const never: never = i.state;
      return String(never);
    }
  }
}

/**
 * The MySQL protocol of one connection: the entry of src/mysql. A `MysqlSession` is the TCP
 * StreamHandler of a connection; it follows it phase by phase — greeting and login, then
 * commands and their responses — and emits one event per client command with its response,
 * timing and outcome, plus one `connect` event per login. It never throws on bad input:
 * protocol violations are counted and the connection resynchronises or is abandoned.
 *
 * The session keeps the state (one phase, and in the command phase one expectation) and the
 * events; the modules beside it read packets and decide, without the session:
 *   framing.ts, compression.ts   bytes → packets (and compressed packets → packets)
 *   handshake.ts                 greeting, handshake response, authentication → the connection context
 *   commands.ts, query.ts,       what each client command says (statements.ts also keeps the
 *   statements.ts                  connection's prepared statements)
 *   response.ts                  the response machine: (expectation, packet, context) → {next, outcome}
 *   resync.ts                    where a command or a response can start after a gap
 *   tls.ts                       what the TLS layer's state means for the session
 *   packets.ts, constants.ts     the wire structures and codes; events.ts: what the session emits
 * After an SSL request the bytes go to a TlsConnection (src/tls), whose plaintext comes back into
 * the same framers. The trace's stage is derived from the phase and the expectation (`stage`).
 */
import { Dir, describeGap, type CloseReason, type ConnectionInfo, type GapReason, type StreamHandler } from '../tcp/stream.js';
import { text } from '../bytes/reader.js';
import { Cap, Com, Header, Status, commandName } from './constants.js';
import { PacketFramer, type Packet, type StartPredicate } from './framing.js';
import { CompressedStream, NODE_ZSTD, decompressorFor, inflateByContent, type CompressionAlgorithm, type ZstdSupport } from './compression.js';
import { sniffCompressed } from './detect.js';
import { TlsConnection, type TlsInfo } from '../tls/connection.js';
import type { SessionSecrets } from '../tls/keylog.js';
import { sniffGreeting } from './greeting.js';
import { parseErr, parseHandshakeResponse, type Ok } from './packets.js';
import { readQuery, setsSqlMode, useDatabase } from './query.js';
import { PreparedStatements, learnColumn } from './statements.js';
import { expectsResponse, fieldListTable, initDbName, processKillId, readChangeUser, startsReplication } from './commands.js';
import { Expect, Expectations, Outcome, describeServerPacket, expectationFor, learnDeprecateEof, stageOf, step, type Expectation, type ResponseContext, type ResponseStep } from './response.js';
import { commandStart, packetLength, resyncExpectation, responseStart } from './resync.js';
import { tlsCategory, tlsReadable } from './tls.js';
import { ASSUMED_CAPS, authPluginName, describeGreeting, describeHandshakeResponse, loginEnd, negotiate, readAuthReply, readGreeting } from './handshake.js';
import type { CommandEvent, CommandStatus, SessionCounters, SessionOptions, Stage, TraceEntry } from './events.js';

export type { CommandEvent, CommandStatus, LoginEnd, SessionCounters, SessionOptions, Stage, TraceEntry, UnknownStatement } from './events.js';
export { MAX_UNKNOWN_COLUMNS } from './events.js';
export { tlsCategory } from './tls.js';

const NO_SECRETS = (): SessionSecrets | null => null;

/**
 * Where the connection is: before the greeting (CONNECTING when the SYN was not seen), in the
 * login, in the command phase (where the response machine's expectation says the rest), or
 * stopped. The trace's stage is derived from it (`stage`), never stored.
 */
const enum Phase {
  Connecting,
  AwaitGreeting,
  Authenticate,
  Commands,
  Tls,
  Replication,
  Disconnected,
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

/** Commands waiting for their response, at most (clients pipeline a few; more means the responses are not captured). */
const MAX_PENDING = 1024;

export class MysqlSession implements StreamHandler {
  readonly counters: SessionCounters = { commands: 0, protocolViolations: 0, unknownCommands: 0, resyncs: 0, commandsIncomplete: 0, packetsSkipped: 0, commandsUnseen: 0, clientBytesUndecoded: 0 };
  private phase = Phase.Connecting;
  /** In the command phase: what the server's next packet may be (response.ts). */
  private expectation: Expectation = Expectations.NONE;
  /** In the command phase: a gap lost the stream's place, not found again yet (the RESYNC stage). */
  private resyncing = false;
  /** The context the response machine reads, kept up to date rather than made per packet. */
  private readonly responseContext: ResponseContext = { caps: 0, mariaCaps: 0, deprecateEof: null, cursor: false };
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
  /** Statements executed but never seen prepared, by id: the columns learnt from their results. */
  private login: Pending | null = null;
  private abandoned = false;
  private readonly traceFn: ((e: TraceEntry) => void) | null;
  private readonly tlsSecrets: (clientRandom: Uint8Array) => SessionSecrets | null;
  private readonly zstd: ZstdSupport;
  /** The handshake was not captured and no packet decoded yet: the stream may be compressed (src/mysql/detect.ts). */
  private maybeCompressed = false;
  /** The zstd compression level the client asked for in its handshake response (for the trace). */
  private zstdLevel: number | null = null;
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
    this.zstd = opts.zstd ?? NODE_ZSTD;
    this.maxRequestBytes = opts.maxRequestBytes ?? 1024 * 1024;
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024;
    if (info.synSeen) this.phase = Phase.AwaitGreeting;
  }

  /** The stage, as the MySQL client's protocol trace names it: from the phase and the expectation. */
  get stage(): Stage {
    switch (this.phase) {
      case Phase.Connecting:
        return 'CONNECTING';
      case Phase.AwaitGreeting:
        return 'WAIT_FOR_INIT_PACKET';
      case Phase.Authenticate:
        return 'AUTHENTICATE';
      case Phase.Commands:
        return this.resyncing ? 'RESYNC' : stageOf(this.expectation.kind);
      case Phase.Tls:
        return 'TLS';
      case Phase.Replication:
        return 'REPLICATION';
      case Phase.Disconnected:
        return 'DISCONNECTED';
      default: {
        const never: never = this.phase;
        return never;
      }
    }
  }

  /** The request time of the oldest command still waiting (for ordering events across connections). */
  oldestPending(): { sec: number; nsec: number } | null {
    // (The login stays known after it completed; only while it waits for its answer is it in flight.)
    const p = this.queue[0] ?? (this.login !== null && !this.login.done ? this.login : null) ?? this.tlsLogin;
    return p ? { sec: p.ev.sec, nsec: p.ev.nsec } : null;
  }

  // ---- The two byte streams (a TCP StreamHandler), plain or through the TLS layer ----

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
      this.counters.clientBytesUndecoded = this.framersMade[0].skippedBytes + (this.unwrap?.[0].skippedBytes ?? 0);
    }
    for (const p of this.queue) if (!p.done) this.complete(p, p.com === Com.Quit ? 'none' : 'incomplete', false);
    this.flush();
    this.trace(null, 'DISCONNECTED', null, null, '');
    this.phase = Phase.Disconnected;
  }

  /** MySQL bytes: as captured, or decrypted by the TLS layer. */
  private plain(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.abandoned) return;
    const u = this.unwrap ?? (this.maybeCompressed ? this.compressedStart(dir, buf, offset, length) : null);
    if (this.abandoned) return;
    if (u === null) {
      if (dir === Dir.ServerToClient) this.falseClientStart();
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
      // The other direction of a compressed stream recognised from the content opens: look for its first packet.
      if (bytes < 0 && this.unwrap[dir].packets === 0) {
        this.unwrap[dir].hunt(this.compressedHunt);
        this.framers[dir].gap(dir === Dir.ClientToServer ? this.clientStart : this.serverStart);
        return;
      }
      // Compressed packets cannot be re-found inside a stream with a hole.
      for (const p of this.queue) if (!p.done) this.complete(p, 'incomplete', false);
      this.flush();
      this.abandon('a gap in a compressed stream');
      return;
    }
    if (bytes < 0 && this.phase === Phase.Connecting) this.maybeCompressed = true;
    if (bytes < 0 && this.midStreamStart(dir)) return;
    if (this.phase < Phase.Commands) {
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
      this.expectation = Expectations.NONE;
      this.framers[1].gap(this.serverStart);
    }
    this.phase = Phase.Commands;
    this.resyncing = true;
  }

  private get framers(): [PacketFramer, PacketFramer] {
    return (this.framersMade ??= [new PacketFramer((p) => this.clientPacket(p), this.maxRequestBytes), new PacketFramer((p) => this.serverPacket(p), this.maxResponseBytes)]);
  }

  // ---- Connection phase: greeting, handshake response, authentication (handshake.ts) ----

  private greeting(p: Packet): void {
    const reply = readGreeting(p);
    switch (reply.kind) {
      case 'refused':
        this.login = this.loginPending(p);
        this.login.ev.errorCode = reply.err?.code ?? null;
        this.login.ev.error = reply.err?.message ?? null;
        this.finishLogin('error');
        return;
      case 'not-mysql':
        this.violation(Dir.ServerToClient, p, 'expected a server greeting (protocol 10)');
        this.abandon('not a MySQL server greeting');
        return;
      case 'greeting':
        break;
      default: {
        const never: never = reply;
        return never;
      }
    }
    const g = reply.greeting;
    this.serverVersion = g.serverVersion;
    this.connId = g.connectionId;
    this.serverCaps = g.capabilities;
    this.serverMariaCaps = g.mariaCapabilities;
    this.serverStatus(g.status);
    this.trace(Dir.ServerToClient, 'INIT_PACKET_RECEIVED', p.seq, p.length, describeGreeting(g));
    this.phase = Phase.Authenticate;
    this.greetingBytes = p.length + 4;
  }

  /** The server greeting's bytes, counted in the login's bytes from the server. */
  private greetingBytes = 0;

  private authClientPacket(p: Packet): void {
    if (this.login === null) {
      const r = parseHandshakeResponse(p.payload);
      if (r === null) {
        this.violation(Dir.ClientToServer, p, 'expected a handshake response');
        return;
      }
      const ctx = negotiate(this.serverCaps, this.serverMariaCaps, r);
      this.caps = ctx.caps;
      this.mariaCaps = ctx.mariaCaps;
      this.deprecateEof = ctx.deprecateEof;
      this.queryAttributes = ctx.queryAttributes;
      this.negotiatedCompression = ctx.compression;
      if (ctx.tls) {
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
      this.zstdLevel = r.zstdLevel;
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
      this.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, describeHandshakeResponse(r));
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
    const reply = readAuthReply(p, this.caps);
    switch (reply.kind) {
      case 'ok': {
        const ok = reply.ok;
        if (ok?.schema) this.db = ok.schema;
        if (ok) this.serverStatus(ok.status);
        this.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, '');
        this.finishLogin('ok');
        this.phase = Phase.Commands;
        if (this.negotiatedCompression !== null) this.startCompression(this.negotiatedCompression);
        return;
      }
      case 'err': {
        const e = reply.err;
        login.ev.errorCode = e?.code ?? null;
        login.ev.sqlState = e?.sqlState ?? null;
        login.ev.error = e?.message ?? null;
        this.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.message}` : '');
        this.finishLogin('error');
        this.phase = Phase.Disconnected;
        return;
      }
      case 'switch':
        this.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `auth switch to ${reply.plugin}`);
        return;
      case 'more':
        this.trace(Dir.ServerToClient, 'AUTH_MORE_DATA', p.seq, p.length, reply.what);
        return;
      case 'unexpected':
        this.violation(Dir.ServerToClient, p, 'unexpected packet during authentication');
        return;
      default: {
        const never: never = reply;
        return never;
      }
    }
  }

  /** The compression the handshake response negotiated: it starts with the login's OK. */
  private negotiatedCompression: CompressionAlgorithm | null = null;

  /**
   * After the login OK: every byte from now on travels in compressed packets. `found`: the
   * handshake was not captured and this direction's bytes were recognised as compressed packets
   * (the algorithm is then learnt from each payload; the other direction looks for its first).
   */
  private startCompression(algorithm: CompressionAlgorithm, found: Dir | null = null): void {
    this.compressed = true;
    this.compression = algorithm;
    const inflate = found === null ? decompressorFor(algorithm, this.zstd) : algorithm === 'zstd' && this.zstd.inflate === null ? null : inflateByContent(this.zstd, (a) => (this.compression = a));
    if (inflate === null) {
      this.trace(null, 'COMPRESSED', null, null, this.zstd.unavailable);
      this.abandon(this.zstd.unavailable);
      return;
    }
    this.unwrap = [new CompressedStream(this.framers[0], inflate), new CompressedStream(this.framers[1], inflate)];
    if (found !== null) {
      const other = found === Dir.ClientToServer ? Dir.ServerToClient : Dir.ClientToServer;
      this.unwrap[other].hunt(this.compressedHunt);
    }
    this.trace(found, 'COMPRESSED', null, null, found === null ? `${algorithm} compressed protocol from here on${algorithm === 'zstd' && this.zstdLevel !== null ? ` (level ${this.zstdLevel})` : ''}` : `${algorithm} compressed protocol recognised from the content (the handshake was not captured)`);
  }

  private readonly compressedHunt = (b: Uint8Array, o: number, l: number): boolean => sniffCompressed(b, o, l, this.zstd.inflate) !== null;

  /**
   * A stream begun before the capture, no packet decoded yet: do this direction's bytes start
   * with compressed packets? Then the connection is compressed from here on (both directions).
   */
  private compressedStart(dir: Dir, buf: Uint8Array, offset: number, length: number): [CompressedStream, CompressedStream] | null {
    const f = this.framers;
    if (f[0].packets + f[1].packets > 0 || this.tlsLayer !== null) {
      this.maybeCompressed = false;
      return null;
    }
    if (f[dir].synced) return null;
    const algorithm = sniffCompressed(buf, offset, length, this.zstd.inflate);
    if (algorithm === null) return null;
    this.maybeCompressed = false;
    this.startCompression(algorithm, dir);
    return this.unwrap;
  }

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
      if (this.phase !== Phase.Authenticate) return; // no greeting seen: no login known to have begun
      l = this.login = this.loginAt(this.info.firstSec, this.info.firstNsec, this.info.firstSec, this.info.firstNsec);
    }
    if (l.done) return;
    const ended = loginEnd(reason, by);
    l.ev.ended = ended;
    l.ev.durationUs = micros(this.info.firstSec, this.info.firstNsec, sec, nsec);
    this.finishLogin(ended === 'capture_end' || ended === 'evicted' ? 'incomplete' : 'aborted');
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

  // ---- Command phase: the client's commands (commands.ts, query.ts, statements.ts) ----

  private clientPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.phase) {
      case Phase.Connecting:
      case Phase.AwaitGreeting:
        this.violation(Dir.ClientToServer, p, 'a client packet before the server greeting');
        return;
      case Phase.Authenticate:
        this.authClientPacket(p);
        return;
      case Phase.Tls:
      case Phase.Replication:
      case Phase.Disconnected:
        return;
      case Phase.Commands:
        break;
      default: {
        const never: never = this.phase;
        return never;
      }
    }
    const cur = this.current();
    if (cur && this.expectation.kind === Expect.FileData) {
      // LOCAL INFILE data, whatever its sequence id (it wraps through 0 after 255 packets).
      cur.ev.bytesIn += p.length + 4; // file contents: counted, never kept
      this.trace(Dir.ClientToServer, 'PACKET_SENT', p.seq, p.length, p.length === 0 ? 'end of file data' : 'file data');
      if (p.length === 0) this.expect(Expectations.RESULT);
      return;
    }
    if (p.seq !== 0) {
      // Part of an exchange: change_user authentication.
      if (cur && cur.com === Com.ChangeUser && this.expectation.kind === Expect.Auth) {
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
    // (Compressed: the server bytes skipped looking for a compressed packet count as well.)
    const skipped = this.framers[1].skippedBytes + (this.unwrap?.[1].skippedBytes ?? 0);
    if (!this.framers[1].synced || this.unwrap?.[1].synced === false) {
      // The server stream is still lost after a gap, and server bytes went by unrecognised since
      // an earlier command was sent: its response was in them. Without this, the next response
      // found would be credited to it, and every later one shifted. (Commands pipelined with no
      // server bytes in between keep waiting.)
      const before = this.current();
      for (const q of this.queue) if (!q.done && skipped > (q.skippedAtSend ?? 0)) this.complete(q, 'incomplete', false);
      this.flush();
      if (this.current() !== before) this.expectation = Expectations.NONE;
    }
    const ev = this.newEvent(name, p.firstSec, p.firstNsec);
    ev.bytesIn = p.length + 4;
    const pending: Pending = { ev, com, endSec: p.lastSec, endNsec: p.lastNsec, needsResponse: true, done: false, prepareSql: null, stmtId: null, cursor: false, gotResponse: false, skippedAtSend: skipped };
    this.lastSent = pending;
    pending.needsResponse = expectsResponse(com);
    const payload = p.payload;
    switch (com) {
      case Com.Query: {
        const q = readQuery(payload, this.queryAttributes);
        this.queryAttributes = q.queryAttributes;
        ev.sql = q.sql;
        ev.sqlTruncated = p.truncated;
        const use = useDatabase(q.sql);
        if (use !== undefined) pending.pendingUse = use;
        // A statement that sets sql_mode may change how its own later statements read.
        if (this.noBackslashEscapes !== null && setsSqlMode(ev.sql)) ev.noBackslashEscapes = null;
        break;
      }
      case Com.StmtPrepare:
        ev.sql = text(payload.subarray(1));
        ev.sqlTruncated = p.truncated;
        pending.prepareSql = ev.sql;
        this.statements.last = pending;
        break;
      case Com.StmtExecute:
      case Com.StmtBulkExecute:
      case Com.StmtFetch:
      case Com.StmtReset:
      case Com.StmtClose:
      case Com.StmtSendLongData: {
        const c = this.statements.read(com, payload, this.queryAttributes);
        pending.stmtId = c.id;
        pending.cursor = c.cursor;
        ev.sql = c.sql;
        ev.params = c.params;
        ev.paramTypes = c.paramTypes;
        if (c.unknown !== null) {
          ev.unknownStatement = c.unknown;
          pending.collectColumns = c.collectColumns;
        }
        break;
      }
      case Com.InitDb:
        ev.sql = initDbName(payload);
        break;
      case Com.FieldList:
        ev.sql = fieldListTable(payload);
        break;
      case Com.ChangeUser: {
        const u = readChangeUser(payload, this.caps);
        ev.user = u.user;
        pending.newDb = u.db;
        break;
      }
      case Com.ProcessKill:
        ev.sql = processKillId(payload);
        break;
      default:
        // Replication: the server streams binlog events from now on; stop decoding this connection.
        if (startsReplication(com)) this.replication = true;
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
        this.expectation = Expectations.NONE;
      }
    }
    if (!pending.needsResponse) {
      pending.done = true;
      ev.status = 'none';
    }
    if (this.replication) {
      this.phase = Phase.Replication;
      this.trace(Dir.ClientToServer, 'REPLICATION', p.seq, p.length, 'replication stream: not decoded');
      this.flush();
      this.abandoned = true;
      return;
    }
    if (this.expectation.kind === Expect.None) this.startExpect();
    this.flush();
  }

  /** The connection's prepared statements. */
  private readonly statements = new PreparedStatements();

  /** The last command sent (for cutCommand). */
  private lastSent: Pending | null = null;

  /**
   * The client's command in progress when its bytes stopped (a gap, or the end of the connection
   * or capture): reported with what arrived of it — the SQL prefix, marked cut (`sqlTruncated`)
   * — rather than dropped. After a gap it waits for its response like any command (latency from
   * its last captured byte, and the outcome); at the end it is `incomplete`.
   */
  private cutCommand(): void {
    if (this.unwrap !== null || this.phase === Phase.Authenticate) return;
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

  // ---- Responses: the response machine (response.ts) applied to the command's event ----

  /** After a command, or when the previous response ended: what does the next response start with? */
  private startExpect(): void {
    const cur = this.current();
    this.expectation = cur === null ? Expectations.NONE : expectationFor(cur.com);
    this.resyncing = false;
  }

  /** A move of the response machine: a new kind of expectation ends a resynchronisation. */
  private expect(next: Expectation): void {
    if (next === this.expectation) return; // (a row: the same expectation, made once)
    if (next.kind !== this.expectation.kind) this.resyncing = false;
    this.expectation = next;
  }

  private serverPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.phase) {
      case Phase.Connecting:
      case Phase.AwaitGreeting:
        this.greeting(p);
        return;
      case Phase.Authenticate:
        this.authServerPacket(p);
        return;
      case Phase.Tls:
      case Phase.Replication:
      case Phase.Disconnected:
        return;
      case Phase.Commands:
        break;
      default: {
        const never: never = this.phase;
        return never;
      }
    }
    const cur = this.current();
    if (cur === null || this.expectation.kind === Expect.None) {
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
    const learnt = this.deprecateEof === null ? learnDeprecateEof(this.expectation, p, null) : null;
    if (learnt !== null) {
      // No EOF after a prepared statement's definitions: CLIENT_DEPRECATE_EOF (learnt mid-stream).
      this.deprecateEof = true;
      this.expect(learnt);
      if (learnt.kind === Expect.None) {
        this.complete(cur, 'ok');
        this.next();
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
    if (this.traceFn !== null) {
      // (A LOCAL INFILE request names a client file: its bytes are never dumped.)
      const fileRequest = this.expectation.kind === Expect.Result && p.b0 === Header.LocalInfile && p.length > 1;
      this.trace(Dir.ServerToClient, 'PACKET_RECEIVED', p.seq, p.length, describeServerPacket(p, this.expectation.kind), fileRequest ? null : p.payload);
    }
    // The server answers while the file was being sent: its end (an empty packet) was not captured.
    if (this.expectation.kind === Expect.FileData && p.b0 !== Header.Err) this.expect(Expectations.RESULT);
    const ctx = this.responseContext;
    ctx.caps = this.caps;
    ctx.mariaCaps = this.mariaCaps;
    ctx.deprecateEof = this.deprecateEof;
    ctx.cursor = cur.cursor;
    this.applyResponse(cur, p, step(this.expectation, p, ctx));
  }

  /** What the response machine read in a server packet, into the command's event and the session. */
  private applyResponse(cur: Pending, p: Packet, s: ResponseStep): void {
    const ev = cur.ev;
    this.deprecateEof = s.deprecateEof;
    switch (s.outcome) {
      case Outcome.Row:
        ev.rows = (ev.rows ?? 0) + 1;
        break;
      case Outcome.Error: {
        const e = parseErr(p.payload, this.caps);
        ev.errorCode = e?.code ?? null;
        ev.sqlState = e?.sqlState ?? null;
        ev.error = e?.message ?? null;
        this.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.sqlState ?? ''} ${e.message}` : 'malformed ERR');
        break;
      }
      case Outcome.Ok:
        this.okInto(cur, p, s.ok);
        ev.resultSets++;
        break;
      case Outcome.ShortOk:
        this.okInto(cur, p, s.ok);
        break;
      case Outcome.EofAnswer:
        this.serverStatus(s.status, cur);
        ev.warnings = s.warnings;
        ev.serverStatus = s.status;
        break;
      case Outcome.BadColumnCount:
        this.violation(Dir.ServerToClient, p, `implausible column count ${s.status}`);
        break;
      case Outcome.ResultSet:
        ev.rows ??= 0;
        break;
      case Outcome.Column:
        if (cur.collectColumns === true && ev.resultSets === 0) learnColumn(ev.unknownStatement!, p.payload);
        break;
      case Outcome.DefinitionsEof:
        this.serverStatus(s.status, cur);
        break;
      case Outcome.MissingEofRow:
        this.violation(Dir.ServerToClient, p, 'expected EOF after the column definitions');
        ev.rows = (ev.rows ?? 0) + 1;
        break;
      case Outcome.MissingEofEnd:
        this.violation(Dir.ServerToClient, p, 'expected EOF after the column definitions');
        this.endResult(cur, s.status, s.warnings);
        break;
      case Outcome.EndOfRows:
        this.endResult(cur, s.status, s.warnings);
        break;
      case Outcome.PrepareOk: {
        const ok = s.prepareOk!;
        cur.stmtId = ok.statementId;
        ev.warnings = ok.warnings;
        if (cur.prepareSql !== null) this.statements.prepared(ok.statementId, cur.prepareSql, ok.params);
        break;
      }
      case Outcome.BadPrepareOk:
        this.violation(Dir.ServerToClient, p, 'expected COM_STMT_PREPARE_OK');
        break;
      case Outcome.AuthOk:
        this.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, 'change_user');
        this.user = ev.user;
        this.db = cur.newDb ?? null; // a new session: the database it asked for, or none
        this.statements.clear();
        this.okInto(cur, p, s.ok);
        break;
      case Outcome.AuthSwitch:
        this.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `switch to ${authPluginName(p.payload)}`);
        break;
      case Outcome.FileRequest:
      case Outcome.Definition:
      case Outcome.Prepared:
      case Outcome.PreparedThenViolation:
      case Outcome.Statistics:
      case Outcome.AuthData:
        break;
      default: {
        const never: never = s.outcome;
        return never;
      }
    }
    if (s.done !== null) {
      this.complete(cur, s.done);
      if (s.outcome === Outcome.BadColumnCount) {
        // The stream's place is lost: look for the next response.
        this.framers[1].gap(this.serverStart);
        this.expectation = Expectations.NONE;
        this.resyncing = true;
        return;
      }
      this.next();
      if (s.outcome === Outcome.PreparedThenViolation) this.violation(Dir.ServerToClient, p, 'unexpected packet after the prepared statement definitions');
      return;
    }
    this.expect(s.next);
    if (s.outcome === Outcome.FileRequest) this.trace(Dir.ServerToClient, 'FILE_REQUEST', p.seq, p.length, 'LOCAL INFILE request (file name and contents are never shown)');
  }

  /** The end of a result's rows (or its cursor): status, warnings, index use. */
  private endResult(cur: Pending, status: number, warnings: number): void {
    this.serverStatus(status, cur);
    const ev = cur.ev;
    ev.resultSets++;
    ev.warnings = (ev.warnings ?? 0) + warnings;
    if (status & Status.NoIndexUsed) ev.noIndexUsed = true;
    if (status & Status.NoGoodIndexUsed) ev.noGoodIndexUsed = true;
    ev.serverStatus = status;
  }

  /** Parse an OK into the event (affected rows, insert id, warnings, status flags, schema change). */
  private okInto(cur: Pending, p: Packet, ok: Ok | null): void {
    if (ok === null) {
      this.violation(Dir.ServerToClient, p, 'malformed OK packet');
      return;
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

  // ---- Resynchronisation after a gap (resync.ts) ----

  /** A client command can start here (resync.ts): the stream is found again. */
  private readonly clientStart: StartPredicate = (b, off, len) => {
    const com = commandStart(b, off, len);
    if (com < 0) return false;
    this.counters.resyncs++;
    this.phase = Phase.Commands;
    this.resyncing = false;
    this.trace(Dir.ClientToServer, 'RESYNC', 0, packetLength(b, off), `client stream resynchronised at a ${commandName(com)} command`);
    return true;
  };

  /**
   * The server sends while the command the client's hunt found after a gap is still incomplete: a
   * server answers a request only once it has all of it, so that start was a coincidence (bytes
   * inside other data — LOCAL INFILE contents, say — that look like a command header announcing
   * a length that would swallow the real commands after it). Hunt again from here; the false start
   * is counted as a cut packet and traced.
   */
  private falseClientStart(): void {
    const f = this.framersMade?.[0];
    if (f === undefined || !f.unconfirmedStart) return;
    f.gap(this.clientStart);
    this.counters.resyncs--;
    this.resyncing = true;
    this.trace(Dir.ClientToServer, 'RESYNC', null, null, 'the command found after the gap was not one (the server answered before it was complete): looking again');
  }

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
      if (this.phase === Phase.Connecting && this.counters.commands === 0) this.greetingPossible = true;
      return false;
    }
    return this.phase === Phase.Authenticate && this.login === null && this.framersMade !== null && this.framersMade[0].packets === 0 && this.framersMade[0].synced;
  }

  /** A response can start here (resync.ts), and a command is waiting for it; or the greeting starts the stream. */
  private readonly serverStart: StartPredicate = (b, off, len) => {
    if (this.greetingPossible) {
      this.greetingPossible = false;
      if (this.current() === null && sniffGreeting(b, off, len) !== null) {
        this.phase = Phase.AwaitGreeting;
        this.resyncing = false;
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
    this.trace(Dir.ServerToClient, 'RESYNC', 1, packetLength(b, off), `server stream resynchronised at the response to ${cur.ev.cmd}`);
    this.expectation = resyncExpectation(cur.com);
    return true;
  };

  // ---- TLS: the layer's plaintext and what it could not decrypt (src/tls) ----

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

  /** The TLS layer's info from the first decrypted bytes on (null before, or never decrypted). */
  private tlsDecrypting: TlsInfo | null = null;

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
      this.phase = Phase.Tls;
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
    this.phase = Phase.Tls;
    this.trace(null, 'TLS', null, null, why);
    this.abandon(`TLS: ${tlsCategory(t.info)}`);
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

  // ---- Events, in request order ----

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
    if (p.com === Com.StmtPrepare && status !== 'ok' && p.stmtId !== null) this.statements.forget(p.stmtId);
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

  // ---- Violations and the trace ----

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


function micros(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return Math.max(0, Math.round((bSec - aSec) * 1e6 + (bNsec - aNsec) / 1e3));
}

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
import { Cap, Com, Header, commandName } from './constants.js';
import { NODE_ZSTD } from './compression.js';
import { ConnectionState, commandEvent, type SessionHost } from './connection.js';
import type { Packet, StartPredicate } from './framing.js';
import { sniffGreeting } from './greeting.js';
import { ASSUMED_CAPS } from './handshake.js';
import { Login, LoginNext } from './login.js';
import { applyOutcome } from './outcome.js';
import { CommandQueue, micros, pending, type Pending } from './pending.js';
import { readRequest } from './request.js';
import { Expect, Expectations, Outcome, describeServerPacket, expectationFor, learnDeprecateEof, stageOf, step, type Expectation, type ResponseContext } from './response.js';
import { commandStart, packetLength, resyncExpectation, responseStart } from './resync.js';
import { PreparedStatements } from './statements.js';
import { stampTls, tlsCategory, tlsReadable } from './tls.js';
import { expectsResponse } from './commands.js';
import { Wire } from './wire.js';
import { TlsConnection, type TlsInfo } from '../tls/connection.js';
import type { SessionSecrets } from '../tls/keylog.js';
import type { CommandEvent, SessionCounters, SessionOptions, Stage, TraceEntry } from './events.js';

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

export class MysqlSession extends ConnectionState implements StreamHandler, SessionHost {
  readonly counters: SessionCounters = { commands: 0, protocolViolations: 0, unknownCommands: 0, resyncs: 0, commandsIncomplete: 0, packetsSkipped: 0, commandsUnseen: 0, clientBytesUndecoded: 0 };
  private phase = Phase.Connecting;
  /** In the command phase: what the server's next packet may be (response.ts). */
  private expectation: Expectation = Expectations.NONE;
  /** In the command phase: a gap lost the stream's place, not found again yet (the RESYNC stage). */
  private resyncing = false;
  /** The context the response machine reads, kept up to date rather than made per packet. */
  private readonly responseContext: ResponseContext = { caps: 0, mariaCaps: 0, deprecateEof: null, cursor: false };
  /** The connection's TLS layer, after an SSL request (decrypting, or saying why it cannot). */
  tlsLayer: TlsConnection | null = null;
  /** Why decoding stopped early (TLS, replication, undecodable compression, …), or null. */
  stoppedBecause: string | null = null;

  private readonly wire: Wire;
  private readonly login = new Login(this);
  /** The connection's prepared statements. */
  private readonly statements = new PreparedStatements();
  private readonly queue: CommandQueue;
  /** Client bytes were lost at some point: a response without its command is expected, not a violation. */
  private sawClientGap = false;
  /** The server's stream began before the capture and nothing of it was seen yet: a greeting may start it. */
  private greetingPossible = false;
  private abandoned = false;
  private readonly traceFn: ((e: TraceEntry) => void) | null;
  private readonly tlsSecrets: (clientRandom: Uint8Array) => SessionSecrets | null;
  /** The TLS layer's info from the first decrypted bytes on (null before, or never decrypted). */
  private tlsDecrypting: TlsInfo | null = null;
  /** Time of the packet being processed (for trace lines). */
  private nowSec = 0;
  private nowNsec = 0;

  constructor(
    readonly info: ConnectionInfo,
    private readonly sink: (e: CommandEvent) => void,
    opts: SessionOptions = {},
  ) {
    super();
    this.traceFn = opts.trace ?? null;
    this.tlsSecrets = opts.tlsSecrets ?? NO_SECRETS;
    this.queue = new CommandQueue(sink, this.counters, this.statements);
    this.wire = new Wire(this, (p) => this.clientPacket(p), (p) => this.serverPacket(p), opts.maxRequestBytes ?? 1024 * 1024, opts.maxResponseBytes ?? 64 * 1024, opts.zstd ?? NODE_ZSTD);
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
    const p = this.queue.first ?? this.login.inFlight();
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
    if (this.login.inTls) {
      // Closed before the login inside TLS: cut short if it was being decrypted, else unreadable.
      if (this.tlsLayer!.info.state !== 'decrypting') this.tlsUnreadable();
      else this.login.adoptTls();
    }
    this.login.ended(reason, by, sec, nsec, this.phase === Phase.Authenticate);
    if (this.wire.framersMade !== null) {
      if (!this.abandoned) this.cutCommand();
      this.counters.clientBytesUndecoded = this.wire.clientUndecoded();
    }
    this.queue.completeAll('incomplete', 'none');
    this.trace(null, 'DISCONNECTED', null, null, '');
    this.phase = Phase.Disconnected;
  }

  /** MySQL bytes: as captured, or decrypted by the TLS layer. */
  private plain(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.abandoned) return;
    const w = this.wire;
    const u = w.unwrap ?? (w.maybeCompressed ? w.compressedStart(dir, buf, offset, length, this.tlsLayer !== null) : null);
    if (this.abandoned) return;
    if (u === null) {
      if (dir === Dir.ServerToClient) this.falseClientStart();
      const rest = w.framers[dir].feed(buf, offset, length, sec, nsec);
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
    const w = this.wire;
    if (w.unwrap !== null) {
      if (w.compressedOpens(dir, bytes, dir === Dir.ClientToServer ? this.clientStart : this.serverStart)) return;
      // Compressed packets cannot be re-found inside a stream with a hole.
      this.queue.completeAll('incomplete');
      this.abandon('a gap in a compressed stream');
      return;
    }
    if (bytes < 0 && this.phase === Phase.Connecting) w.maybeCompressed = true;
    if (bytes < 0 && this.midStreamStart(dir)) return;
    if (this.phase < Phase.Commands) {
      // The handshake is incomplete: assume what most clients negotiate, infer the rest.
      this.caps = this.caps || ASSUMED_CAPS;
      this.login.finish('incomplete');
    }
    if (dir === Dir.ClientToServer) {
      this.sawClientGap = true;
      this.cutCommand();
      // The command being sent (and maybe whole commands) are lost; the response in progress may
      // still be decoded, so only the framing restarts.
      w.framers[0].gap(this.clientStart);
    } else {
      // The response in progress is lost: its command is incomplete. (Not at the start of the
      // server's stream: a command captured before it cannot have had its response begin before.)
      const cur = this.queue.current();
      if (cur && bytes >= 0) this.queue.complete(cur, 'incomplete');
      this.expectation = Expectations.NONE;
      w.framers[1].gap(this.serverStart);
    }
    this.phase = Phase.Commands;
    this.resyncing = true;
  }

  // ---- Connection phase (login.ts) ----

  private loginPacket(dir: Dir, p: Packet): void {
    const login = this.login;
    const next = dir === Dir.ClientToServer ? login.clientPacket(p) : this.phase === Phase.Authenticate ? login.serverPacket(p) : login.greeting(p);
    switch (next) {
      case LoginNext.Stay:
        return;
      case LoginNext.Authenticate:
        this.phase = Phase.Authenticate;
        return;
      case LoginNext.Commands:
        this.phase = Phase.Commands;
        if (login.compression !== null) this.wire.startCompression(login.compression, login.zstdLevel);
        return;
      case LoginNext.Disconnected:
        this.phase = Phase.Disconnected;
        return;
      case LoginNext.StartTls:
        // Its records go to the TLS layer, which hands back what it can decrypt.
        this.tlsLayer = new TlsConnection(this.tlsSecrets, {
          onData: (d, b, o, l, s, n) => this.decrypted(d, b, o, l, s, n),
          onGap: (d, bytes, why, s, n) => this.plainGap(d, bytes, why, s, n),
        });
        this.wire.framers[0].stopAfterPacket();
        return;
      default: {
        const never: never = next;
        return never;
      }
    }
  }

  // ---- Command phase: the client's commands (request.ts) ----

  private clientPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.phase) {
      case Phase.Connecting:
      case Phase.AwaitGreeting:
        this.violation(Dir.ClientToServer, p, 'a client packet before the server greeting');
        return;
      case Phase.Authenticate:
        this.loginPacket(Dir.ClientToServer, p);
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
    const cur = this.queue.current();
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
    const w = this.wire;
    if (name === null) {
      this.counters.unknownCommands++;
      this.violation(Dir.ClientToServer, p, `unknown command byte 0x${com.toString(16)}`);
      w.framers[0].gap(this.clientStart);
      w.framers[1].gap(this.serverStart);
      return;
    }
    const skipped = w.serverSkipped();
    if (!w.serverSynced()) {
      // The server stream is still lost after a gap, and server bytes went by unrecognised since
      // an earlier command was sent: its response was in them. Without this, the next response
      // found would be credited to it, and every later one shifted. (Commands pipelined with no
      // server bytes in between keep waiting.)
      const before = this.queue.current();
      this.queue.completeSkipped(skipped);
      if (this.queue.current() !== before) this.expectation = Expectations.NONE;
    }
    const ev = this.newEvent(name, p.firstSec, p.firstNsec);
    ev.bytesIn = p.length + 4;
    const cmd = pending(ev, com, p.lastSec, p.lastNsec, skipped);
    this.queue.lastSent = cmd;
    cmd.needsResponse = expectsResponse(com);
    readRequest(this, this.statements, cmd, p);
    if (this.traceFn !== null) this.trace(Dir.ClientToServer, 'SEND_COMMAND', p.seq, p.length, name + (ev.sql !== null ? ` ${ev.sql.slice(0, 200)}` : ''), p.payload, ev.noBackslashEscapes);
    if (this.queue.push(cmd)) this.expectation = Expectations.NONE;
    if (!cmd.needsResponse) {
      cmd.done = true;
      ev.status = 'none';
    }
    if (this.replication) {
      this.phase = Phase.Replication;
      this.trace(Dir.ClientToServer, 'REPLICATION', p.seq, p.length, 'replication stream: not decoded');
      this.queue.flush();
      this.abandoned = true;
      return;
    }
    if (this.expectation.kind === Expect.None) this.startExpect();
    this.queue.flush();
  }

  /**
   * The client's command in progress when its bytes stopped (a gap, or the end of the connection
   * or capture): reported with what arrived of it — the SQL prefix, marked cut (`sqlTruncated`)
   * — rather than dropped. After a gap it waits for its response like any command (latency from
   * its last captured byte, and the outcome); at the end it is `incomplete`.
   */
  private cutCommand(): void {
    if (this.wire.unwrap !== null || this.phase === Phase.Authenticate) return;
    const f = this.wire.framers[0];
    const p = f.cut();
    if (p === null || p.seq !== 0 || f.cutCaptured < 1) return;
    const before = this.queue.lastSent;
    this.clientPacket(p);
    const cut = this.queue.lastSent;
    if (cut === null || cut === before) return;
    cut.ev.sqlTruncated = true;
    cut.ev.bytesIn = f.cutCaptured + 4;
  }

  // ---- Responses: the response machine (response.ts), its outcome applied (outcome.ts) ----

  /** After a command, or when the previous response ended: what does the next response start with? */
  private startExpect(): void {
    const cur = this.queue.current();
    this.expectation = cur === null ? Expectations.NONE : expectationFor(cur.com);
    this.resyncing = false;
  }

  /** A move of the response machine: a new kind of expectation ends a resynchronisation. */
  private expect(next: Expectation): void {
    if (next === this.expectation) return; // (a row: the same expectation, made once)
    if (next.kind !== this.expectation.kind) this.resyncing = false;
    this.expectation = next;
  }

  /** The command answered: its event goes out (in request order) and the next one's response is expected. */
  private completed(cur: Pending, status: 'ok' | 'error' | 'none' | 'incomplete'): void {
    this.queue.complete(cur, status);
    this.startExpect();
  }

  private serverPacket(p: Packet): void {
    this.nowSec = p.firstSec;
    this.nowNsec = p.firstNsec;
    switch (this.phase) {
      case Phase.Connecting:
      case Phase.AwaitGreeting:
      case Phase.Authenticate:
        this.loginPacket(Dir.ServerToClient, p);
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
    const cur = this.queue.current();
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
        this.completed(cur, 'ok');
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
    const s = step(this.expectation, p, ctx);
    applyOutcome(this, this.statements, cur, p, s);
    if (s.done === null) {
      this.expect(s.next);
      if (s.outcome === Outcome.FileRequest) this.trace(Dir.ServerToClient, 'FILE_REQUEST', p.seq, p.length, 'LOCAL INFILE request (file name and contents are never shown)');
      return;
    }
    if (s.outcome === Outcome.BadColumnCount) {
      // The stream's place is lost: look for the next response.
      this.queue.complete(cur, s.done);
      this.wire.framers[1].gap(this.serverStart);
      this.expectation = Expectations.NONE;
      this.resyncing = true;
      return;
    }
    this.completed(cur, s.done);
    if (s.outcome === Outcome.PreparedThenViolation) this.violation(Dir.ServerToClient, p, 'unexpected packet after the prepared statement definitions');
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
    const f = this.wire.framersMade?.[0];
    if (f === undefined || !f.unconfirmedStart) return;
    f.gap(this.clientStart);
    this.counters.resyncs--;
    this.resyncing = true;
    this.trace(Dir.ClientToServer, 'RESYNC', null, null, 'the command found after the gap was not one (the server answered before it was complete): looking again');
  }

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
    const f = this.wire.framersMade;
    return this.phase === Phase.Authenticate && !this.login.started && f !== null && f[0].packets === 0 && f[0].synced;
  }

  /** A response can start here (resync.ts), and a command is waiting for it; or the greeting starts the stream. */
  private readonly serverStart: StartPredicate = (b, off, len) => {
    if (this.greetingPossible) {
      this.greetingPossible = false;
      if (this.queue.current() === null && sniffGreeting(b, off, len) !== null) {
        this.phase = Phase.AwaitGreeting;
        this.resyncing = false;
        this.caps = 0;
        this.trace(Dir.ServerToClient, 'RESYNC', 0, null, 'server stream starts with its greeting: the login is decoded');
        return true;
      }
    }
    const cur = this.queue.current();
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

  // ---- TLS: the layer's plaintext and what it could not decrypt (src/tls, tls.ts) ----

  /** Decrypted bytes from the TLS layer. */
  private decrypted(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.tlsDecrypting === null) {
      const i = (this.tlsDecrypting = this.tlsLayer!.info);
      this.nowSec = sec;
      this.nowNsec = nsec;
      this.trace(null, 'TLS', null, null, `${i.version ?? 'TLS'} ${i.cipherName ?? ''}: decrypted with the key log's secrets`.replace(' :', ':'));
    }
    this.plain(dir, buf, offset, length, sec, nsec);
  }

  /** No secret for the session (yet): the login is known only as a TLS login; reading goes on. */
  private tlsWaiting(info: TlsInfo): void {
    if (!this.login.tlsLost()) return;
    // The compressed protocol (negotiated in the SSL request) cannot be resumed mid-stream.
    if (this.caps & (Cap.Compress | Cap.ZstdCompression)) {
      this.phase = Phase.Tls;
      this.trace(null, 'TLS', null, null, info.reason ?? 'no secret for the session');
      this.abandon(`TLS: ${tlsCategory(info)}`);
      return;
    }
    this.trace(null, 'TLS', null, null, `${info.reason ?? 'no secret for the session'}; its commands are decoded from the point the secrets appear, if they do (a key log that grows)`);
  }

  /**
   * The TLS layer cannot decrypt this connection (an unsupported suite or version, failed
   * records): the login is known only as a TLS login, and decoding stops, saying why.
   */
  private tlsUnreadable(): void {
    const t = this.tlsLayer!;
    const why = t.info.reason ?? `TLS state ${t.info.state}`;
    this.login.tlsLost();
    this.phase = Phase.Tls;
    this.trace(null, 'TLS', null, null, why);
    this.abandon(`TLS: ${tlsCategory(t.info)}`);
  }

  // ---- What the phase modules ask of the session (SessionHost) ----

  newEvent(cmd: string, sec: number, nsec: number): CommandEvent {
    const ev = commandEvent(this.info, this, cmd, sec, nsec);
    if (this.tlsLayer !== null) this.stampTls(ev);
    return ev;
  }

  stampTls(ev: CommandEvent): void {
    stampTls(ev, this.tls, this.tlsLayer, this.tlsDecrypting);
  }

  emit(ev: CommandEvent): void {
    this.sink(ev);
  }

  violation(dir: Dir, p: Packet, what: string): void {
    this.counters.protocolViolations++;
    this.trace(dir, 'PROTOCOL_VIOLATION', p.seq, p.length, `${what} (in ${this.stage})`, p.payload);
  }

  abandon(why: string): void {
    this.abandoned = true;
    this.stoppedBecause ??= why;
    this.trace(null, 'ABANDONED', null, null, why);
  }

  trace(dir: Dir | null, event: string, seq: number | null, length: number | null, detail: string, payload: Uint8Array | null = null, noBackslashEscapes = this.noBackslashEscapes): void {
    const t = this.traceFn;
    if (t === null) return;
    t({ conn: this.info.id, sec: this.nowSec, nsec: this.nowNsec, dir, stage: this.stage, event, seq, length, detail, payload, noBackslashEscapes });
  }
}

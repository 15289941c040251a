/**
 * The MySQL protocol of one connection: the entry of src/mysql. A `MysqlSession` is the TCP
 * StreamHandler of a connection; it follows it phase by phase — greeting and login, then
 * commands and their responses — and emits one event per client command with its response,
 * timing and outcome, plus one `connect` event per login. It never throws on bad input:
 * protocol violations are counted and the connection resynchronises or is abandoned.
 *
 * The session holds the one phase (and, for the command phase, the exchange holds the one
 * expectation), routes the bytes and gaps, and hands each packet to the module of its phase:
 *   wire.ts                      bytes → packets: framers (framing.ts), compressed packets (compression.ts)
 *   login.ts                     greeting, handshake response, authentication (read by handshake.ts)
 *   exchange.ts                  the command phase: commands (request.ts: commands.ts, query.ts,
 *                                statements.ts) queued in order (pending.ts); responses read by the
 *                                response machine (response.ts), applied to the event (outcome.ts)
 *   resync.ts                    where a command or a response can start after a gap
 *   tls.ts                       what the TLS layer's state means for the session
 *   connection.ts                the connection's state the modules share, and what they may ask
 *                                of the session; packets.ts, constants.ts: wire structures and codes
 * After an SSL request the bytes go to a TlsConnection (src/tls), whose plaintext comes back into
 * the same framers. The trace's stage is derived from the phase and the expectation (`stage`).
 */
import { Dir, describeGap, type CloseReason, type ConnectionInfo, type GapReason, type StreamHandler } from '../tcp/stream.js';
import { TlsConnection, type TlsInfo } from '../tls/connection.js';
import type { SessionSecrets } from '../tls/keylog.js';
import { Cap, commandName } from './constants.js';
import { NODE_ZSTD } from './compression.js';
import { ConnectionState, commandEvent, type SessionHost } from './connection.js';
import type { CommandEvent, SessionCounters, SessionOptions, Stage, TraceEntry } from './events.js';
import { Exchange } from './exchange.js';
import type { Packet, StartPredicate } from './framing.js';
import { sniffGreeting } from './greeting.js';
import { ASSUMED_CAPS } from './handshake.js';
import { Login, LoginNext } from './login.js';
import { commandStart, packetLength } from './resync.js';
import { stampTls, tlsCategory, tlsReadable } from './tls.js';
import { Wire } from './wire.js';

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
  /** The connection's TLS layer, after an SSL request (decrypting, or saying why it cannot). */
  tlsLayer: TlsConnection | null = null;
  /** Why decoding stopped early (TLS, replication, undecodable compression, …), or null. */
  stoppedBecause: string | null = null;

  readonly tracing: boolean;
  private readonly wire: Wire;
  private readonly login = new Login(this);
  /** The command phase: commands, their responses, the expectation (exchange.ts). */
  private readonly exchange: Exchange;
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
    this.tracing = this.traceFn !== null;
    this.tlsSecrets = opts.tlsSecrets ?? NO_SECRETS;
    this.wire = new Wire(this, (p) => this.clientPacket(p), (p) => this.serverPacket(p), opts.maxRequestBytes ?? 1024 * 1024, opts.maxResponseBytes ?? 64 * 1024, opts.zstd ?? NODE_ZSTD);
    this.exchange = new Exchange(this, this.wire, sink, this.clientStart, this.serverStart);
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
        return this.exchange.stage;
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
    const p = this.exchange.queue.first ?? this.login.inFlight();
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
    this.exchange.queue.completeAll('incomplete', 'none');
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
      this.exchange.queue.completeAll('incomplete');
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
      this.exchange.sawClientGap = true;
      this.cutCommand();
      // The command being sent (and maybe whole commands) are lost; the response in progress may
      // still be decoded, so only the framing restarts.
      w.framers[0].gap(this.clientStart);
    } else {
      this.exchange.serverLost(bytes);
      w.framers[1].gap(this.serverStart);
    }
    this.phase = Phase.Commands;
    this.exchange.resyncing = true;
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

  // ---- Command phase: commands and their responses (exchange.ts) ----

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
        if (!this.exchange.clientPacket(p)) return;
        // Replication: the server streams binlog events from now on; stop decoding this connection.
        this.phase = Phase.Replication;
        this.trace(Dir.ClientToServer, 'REPLICATION', p.seq, p.length, 'replication stream: not decoded');
        this.exchange.queue.flush();
        this.abandoned = true;
        return;
      default: {
        const never: never = this.phase;
        return never;
      }
    }
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
        this.exchange.serverPacket(p);
        return;
      default: {
        const never: never = this.phase;
        return never;
      }
    }
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
    const queue = this.exchange.queue;
    const before = queue.lastSent;
    this.clientPacket(p);
    const cut = queue.lastSent;
    if (cut === null || cut === before) return;
    cut.ev.sqlTruncated = true;
    cut.ev.bytesIn = f.cutCaptured + 4;
  }

  // ---- Resynchronisation after a gap (resync.ts) ----

  /** A client command can start here (resync.ts): the stream is found again. */
  private readonly clientStart: StartPredicate = (b, off, len) => {
    const com = commandStart(b, off, len);
    if (com < 0) return false;
    this.counters.resyncs++;
    this.phase = Phase.Commands;
    this.exchange.resyncing = false;
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
    this.exchange.resyncing = true;
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
      if (this.exchange.queue.current() === null && sniffGreeting(b, off, len) !== null) {
        this.phase = Phase.AwaitGreeting;
        this.exchange.resyncing = false;
        this.caps = 0;
        this.trace(Dir.ServerToClient, 'RESYNC', 0, null, 'server stream starts with its greeting: the login is decoded');
        return true;
      }
    }
    return this.exchange.responseStarts(b, off, len);
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

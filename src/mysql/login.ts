/**
 * The login of a connection: the server's greeting, the client's handshake response (or SSL
 * request, the response then coming again inside TLS), the authentication exchange, and the
 * `connect` event they make — ok, error, or aborted / incomplete when the connection or the
 * capture ended first. The packets are read by handshake.ts; this keeps the login's state and
 * event, and tells the session (session.ts) where the connection goes next (`LoginNext`).
 */
import { Dir, type CloseReason } from '../tcp/stream.js';
import { Com } from './constants.js';
import type { CompressionAlgorithm } from './compression.js';
import type { SessionHost } from './connection.js';
import type { CommandStatus } from './events.js';
import type { Packet } from './framing.js';
import { describeGreeting, describeHandshakeResponse, loginEnd, negotiate, readAuthReply, readGreeting } from './handshake.js';
import { followStatus } from './outcome.js';
import { parseHandshakeResponse } from './packets.js';
import { micros, pending, type Pending } from './pending.js';

/** Where a login packet takes the connection. */
export const enum LoginNext {
  /** Same phase. */
  Stay,
  /** Greeted: the client's handshake response comes next. */
  Authenticate,
  /** Logged in: commands from here on (compressed when `compression` says so). */
  Commands,
  /** The server refused the login and closes. */
  Disconnected,
  /** An SSL request: TLS records from the next byte on. */
  StartTls,
}

export class Login {
  /** The login event, from the handshake response on (or made at the end when none came). */
  private login: Pending | null = null;
  /** The login that began with an SSL request: completed by the handshake response inside TLS. */
  private tlsLogin: Pending | null = null;
  /** The server greeting's bytes, counted in the login's bytes from the server. */
  private greetingBytes = 0;
  private serverCaps = 0;
  private serverMariaCaps = 0;
  /** The compression the handshake response negotiated: it starts with the login's OK. */
  compression: CompressionAlgorithm | null = null;
  /** The zstd compression level the client asked for in its handshake response (for the trace). */
  zstdLevel: number | null = null;

  constructor(private readonly host: SessionHost) {}

  /** The handshake response was seen (or the login otherwise began). */
  get started(): boolean {
    return this.login !== null;
  }

  /** The login, while it waits for its answer (for ordering events across connections). */
  inFlight(): Pending | null {
    return (this.login !== null && !this.login.done ? this.login : null) ?? this.tlsLogin;
  }

  /** The server's first packet: its greeting, or a refusal. */
  greeting(p: Packet): LoginNext {
    const host = this.host;
    const reply = readGreeting(p);
    switch (reply.kind) {
      case 'refused':
        this.login = this.pendingAt(p);
        this.login.ev.errorCode = reply.err?.code ?? null;
        this.login.ev.error = reply.err?.message ?? null;
        this.finish('error');
        return LoginNext.Stay;
      case 'not-mysql':
        host.violation(Dir.ServerToClient, p, 'expected a server greeting (protocol 10)');
        host.abandon('not a MySQL server greeting');
        return LoginNext.Stay;
      case 'greeting':
        break;
      default: {
        const never: never = reply;
        return never;
      }
    }
    const g = reply.greeting;
    host.serverVersion = g.serverVersion;
    host.connId = g.connectionId;
    this.serverCaps = g.capabilities;
    this.serverMariaCaps = g.mariaCapabilities;
    followStatus(host, g.status);
    host.trace(Dir.ServerToClient, 'INIT_PACKET_RECEIVED', p.seq, p.length, describeGreeting(g));
    this.greetingBytes = p.length + 4;
    return LoginNext.Authenticate;
  }

  /** A client packet of the login: the handshake response (or SSL request), then authentication data. */
  clientPacket(p: Packet): LoginNext {
    const host = this.host;
    if (this.login !== null) {
      // Further authentication data (auth switch response, caching_sha2 exchanges): never kept.
      this.login.ev.bytesIn += p.length + 4;
      this.login.endSec = p.lastSec;
      this.login.endNsec = p.lastNsec;
      host.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, 'authentication data (not shown)');
      return LoginNext.Stay;
    }
    const r = parseHandshakeResponse(p.payload);
    if (r === null) {
      host.violation(Dir.ClientToServer, p, 'expected a handshake response');
      return LoginNext.Stay;
    }
    const ctx = negotiate(this.serverCaps, this.serverMariaCaps, r);
    host.caps = ctx.caps;
    host.mariaCaps = ctx.mariaCaps;
    host.deprecateEof = ctx.deprecateEof;
    host.queryAttributes = ctx.queryAttributes;
    this.compression = ctx.compression;
    if (ctx.tls) {
      if (host.tls) {
        host.violation(Dir.ClientToServer, p, 'a second SSL request');
        return LoginNext.Stay;
      }
      // TLS from the next byte on; the handshake response then comes again, inside TLS.
      host.tls = true;
      host.trace(Dir.ClientToServer, 'TLS', p.seq, p.length, 'SSL request: TLS from here on');
      const pend = this.pendingAt(p);
      pend.ev.tls = true;
      pend.ev.bytesIn = p.length + 4;
      this.tlsLogin = pend;
      return LoginNext.StartTls;
    }
    host.user = r.user;
    host.db = r.database;
    this.zstdLevel = r.zstdLevel;
    // Inside TLS, the login event is the one the SSL request began (its time, its bytes).
    const pend = this.tlsLogin ?? this.pendingAt(p);
    this.tlsLogin = null;
    pend.ev.user = r.user;
    pend.ev.db = r.database;
    pend.ev.bytesIn += p.length + 4;
    pend.endSec = p.lastSec;
    pend.endNsec = p.lastNsec;
    pend.ev.sql = null;
    this.login = pend;
    host.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, describeHandshakeResponse(r));
    return LoginNext.Stay;
  }

  /** A server packet after the greeting: the answer to the handshake response, or more of the exchange. */
  serverPacket(p: Packet): LoginNext {
    const host = this.host;
    const login = this.login;
    if (login === null) {
      host.violation(Dir.ServerToClient, p, 'a server packet before the handshake response');
      return LoginNext.Stay;
    }
    login.ev.bytesOut += p.length + 4;
    if (!login.gotResponse) {
      login.gotResponse = true;
      login.ev.latencyUs = micros(login.endSec, login.endNsec, p.firstSec, p.firstNsec);
    }
    login.ev.responseUs = micros(login.endSec, login.endNsec, p.lastSec, p.lastNsec);
    const reply = readAuthReply(p, host.caps);
    switch (reply.kind) {
      case 'ok': {
        const ok = reply.ok;
        if (ok?.schema) host.db = ok.schema;
        if (ok) followStatus(host, ok.status);
        host.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, '');
        this.finish('ok');
        return LoginNext.Commands;
      }
      case 'err': {
        const e = reply.err;
        login.ev.errorCode = e?.code ?? null;
        login.ev.sqlState = e?.sqlState ?? null;
        login.ev.error = e?.message ?? null;
        host.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.message}` : '');
        this.finish('error');
        return LoginNext.Disconnected;
      }
      case 'switch':
        host.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `auth switch to ${reply.plugin}`);
        return LoginNext.Stay;
      case 'more':
        host.trace(Dir.ServerToClient, 'AUTH_MORE_DATA', p.seq, p.length, reply.what);
        return LoginNext.Stay;
      case 'unexpected':
        host.violation(Dir.ServerToClient, p, 'unexpected packet during authentication');
        return LoginNext.Stay;
      default: {
        const never: never = reply;
        return never;
      }
    }
  }

  /** A login waits for the handshake response inside TLS. */
  get inTls(): boolean {
    return this.tlsLogin !== null;
  }

  /** The TLS login goes on as the login (the connection closed while it was being decrypted). */
  adoptTls(): void {
    if (this.tlsLogin === null) return;
    this.login = this.tlsLogin;
    this.tlsLogin = null;
  }

  /** The login inside TLS will not be read: known only as a TLS login. False when there was none. */
  tlsLost(): boolean {
    if (this.tlsLogin === null) return false;
    this.adoptTls();
    this.finish('incomplete');
    return true;
  }

  /**
   * The connection ended: a login the server greeted but never finished (no handshake response,
   * or no final answer to it) is a `connect` event, `aborted` with how it ended and its duration
   * (what MySQL counts in Aborted_connects); `incomplete` when the capture, not the connection,
   * ended (or the connection table dropped it). Its time is the connection's first packet when the
   * client sent nothing. `greeted`: the session is in the login, past the greeting.
   */
  ended(reason: CloseReason, by: Dir | null, sec: number, nsec: number, greeted: boolean): void {
    const info = this.host.info;
    let l = this.login;
    if (l === null) {
      if (!greeted) return; // no greeting seen: no login known to have begun
      l = this.login = this.loginAt(info.firstSec, info.firstNsec, info.firstSec, info.firstNsec);
    }
    if (l.done) return;
    const ended = loginEnd(reason, by);
    l.ev.ended = ended;
    l.ev.durationUs = micros(info.firstSec, info.firstNsec, sec, nsec);
    this.finish(ended === 'capture_end' || ended === 'evicted' ? 'incomplete' : 'aborted');
  }

  /** The login's event goes out with its outcome (once). */
  finish(status: CommandStatus): void {
    const l = this.login;
    if (l === null || l.done) return;
    l.done = true;
    l.ev.status = status;
    l.ev.connId = this.host.connId;
    this.host.stampTls(l.ev);
    // A TLS login that could not be decrypted is not a loss: its end is encrypted by design.
    if (status === 'incomplete' && l.ev.tlsDecrypted !== false) this.host.counters.commandsIncomplete++;
    this.host.emit(l.ev);
  }

  private pendingAt(p: Packet): Pending {
    return this.loginAt(p.firstSec, p.firstNsec, p.lastSec, p.lastNsec);
  }

  private loginAt(sec: number, nsec: number, endSec: number, endNsec: number): Pending {
    const ev = this.host.newEvent('connect', sec, nsec);
    ev.bytesOut += this.greetingBytes;
    this.greetingBytes = 0;
    return pending(ev, Com.Connect, endSec, endNsec);
  }
}

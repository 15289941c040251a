/**
 * The connection phase: the server's greeting, the client's handshake response (or SSL request),
 * the authentication exchange, and what they settle for the rest of the connection — the
 * connection context (capabilities, CLIENT_DEPRECATE_EOF, query attributes, compression, TLS).
 * Pure functions of packets; the session (session.ts) keeps the state and the login event.
 *
 *   server greeting (HandshakeV10) ─► client handshake response ─► [auth switch / more data …] ─► OK | ERR
 *                                  └► SSL request ─► TLS ─► handshake response inside TLS ─► …
 */
import { text } from '../bytes/reader.js';
import type { CloseReason } from '../tcp/stream.js';
import { Dir } from '../tcp/stream.js';
import { Cap, FastAuth, Header } from './constants.js';
import type { CompressionAlgorithm } from './compression.js';
import type { LoginEnd } from './events.js';
import type { Packet } from './framing.js';
import { parseErr, parseGreeting, parseOk, type Err, type Greeting, type HandshakeResponse, type Ok } from './packets.js';

/** What the handshake settled for the connection. */
export interface ConnectionContext {
  /** Negotiated capabilities: the client's, within the server's. */
  caps: number;
  /** MariaDB's extended capabilities, negotiated the same way. */
  mariaCaps: number;
  /** Result sets end with OK instead of EOF. */
  deprecateEof: boolean;
  /** COM_QUERY carries query attributes before its SQL. */
  queryAttributes: boolean;
  /** The compressed protocol from the login's OK on, or null. */
  compression: CompressionAlgorithm | null;
  /** The client asked for TLS (an SSL request): the rest of the login happens inside it. */
  tls: boolean;
}

/** Capabilities assumed for a connection whose handshake was not captured. */
export const ASSUMED_CAPS = Cap.Protocol41 | Cap.Transactions | Cap.SecureConnection | Cap.MultiResults | Cap.PsMultiResults | Cap.PluginAuth;

/** The connection context from the server's greeting capabilities and the client's response. */
export function negotiate(serverCaps: number, serverMariaCaps: number, r: HandshakeResponse): ConnectionContext {
  const caps = (r.capabilities & serverCaps) >>> 0 || r.capabilities;
  return {
    caps,
    mariaCaps: r.mariaCapabilities & serverMariaCaps,
    deprecateEof: (caps & Cap.DeprecateEof) !== 0,
    queryAttributes: (caps & Cap.QueryAttributes) !== 0,
    compression: caps & Cap.Compress ? 'zlib' : caps & Cap.ZstdCompression ? 'zstd' : null,
    tls: r.sslRequest,
  };
}

/** The server's first packet. */
export type GreetingReply =
  | { kind: 'greeting'; greeting: Greeting }
  /** The server refused the connection before the handshake (too many connections, host blocked). */
  | { kind: 'refused'; err: Err | null }
  | { kind: 'not-mysql' };

export function readGreeting(p: Packet): GreetingReply {
  const g = p.seq === 0 ? parseGreeting(p.payload) : null;
  if (g !== null) return { kind: 'greeting', greeting: g };
  if (p.payload[0] === Header.Err) return { kind: 'refused', err: parseErr(p.payload, 0) };
  return { kind: 'not-mysql' };
}

/** The greeting as the trace says it. */
export function describeGreeting(g: Greeting): string {
  return `${g.serverVersion}, connection id ${g.connectionId}, auth plugin ${g.authPlugin ?? '-'}`;
}

/** The handshake response as the trace says it (never the authentication data). */
export function describeHandshakeResponse(r: HandshakeResponse): string {
  return `user ${r.user ?? '-'}, database ${r.database ?? '-'}, plugin ${r.authPlugin ?? '-'}`;
}

/** A server packet during authentication. */
export type AuthReply =
  | { kind: 'ok'; ok: Ok | null }
  | { kind: 'err'; err: Err | null }
  /** AuthSwitchRequest: another authentication method, named. */
  | { kind: 'switch'; plugin: string }
  /** AuthMoreData (caching_sha2_password: fast authentication succeeded, full authentication required, …). */
  | { kind: 'more'; what: string }
  | { kind: 'unexpected' };

export function readAuthReply(p: Packet, caps: number): AuthReply {
  switch (p.payload[0]) {
    case Header.Ok:
      return { kind: 'ok', ok: parseOk(p.payload, caps) };
    case Header.Err:
      return { kind: 'err', err: parseErr(p.payload, caps) };
    case Header.AuthSwitch:
      return { kind: 'switch', plugin: authPluginName(p.payload) };
    case Header.AuthMoreData: {
      const b1 = p.payload[1];
      return { kind: 'more', what: b1 === FastAuth.Success ? 'fast authentication succeeded' : b1 === FastAuth.FullAuthentication ? 'full authentication required' : 'more authentication data' };
    }
    default:
      return { kind: 'unexpected' };
  }
}

/** The plugin an AuthSwitchRequest names (NUL-terminated after the header). */
export function authPluginName(payload: Uint8Array): string {
  const rest = payload.subarray(1);
  const i = rest.indexOf(0);
  return text(i < 0 ? rest : rest.subarray(0, i));
}

/** How a connection whose login never finished ended, from how TCP saw it close. */
export function loginEnd(reason: CloseReason, by: Dir | null): LoginEnd {
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

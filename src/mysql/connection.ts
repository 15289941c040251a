/**
 * What a session knows of its connection — the server, the login, what the handshake settled
 * (capabilities, CLIENT_DEPRECATE_EOF, query attributes, compression, TLS), the SQL mode — and the
 * few things every phase module may ask of the session (`SessionHost`): trace a line, count a
 * violation, give the connection up. The state itself lives in the session (session.ts), which
 * extends `ConnectionState`; the modules read and update it through the host.
 */
import type { ConnectionInfo, Dir } from '../tcp/stream.js';
import type { CompressionAlgorithm } from './compression.js';
import type { CommandEvent, SessionCounters } from './events.js';
import type { Packet } from './framing.js';

export class ConnectionState {
  serverVersion: string | null = null;
  connId: number | null = null;
  user: string | null = null;
  db: string | null = null;
  tls = false;
  replication = false;
  compressed = false;
  /** Compression algorithm negotiated, when the compressed protocol is on. */
  compression: CompressionAlgorithm | null = null;
  /** Negotiated capabilities (client ∩ server), or assumed when the handshake was not seen. */
  caps = 0;
  mariaCaps = 0;
  /** Result sets end with OK instead of EOF; null until known. */
  deprecateEof: boolean | null = null;
  queryAttributes: boolean | null = null;
  /** NO_BACKSLASH_ESCAPES, from the last server status seen; null until one is seen. */
  noBackslashEscapes: boolean | null = null;
}

/** What the phase modules may ask of the session. */
export interface SessionHost extends ConnectionState {
  readonly info: ConnectionInfo;
  readonly counters: SessionCounters;
  /** A trace is asked for (the cost of a trace line's text is paid only then). */
  readonly tracing: boolean;
  /** A new event for a command (or login) of this connection, stamped with what is known of it. */
  newEvent(cmd: string, sec: number, nsec: number): CommandEvent;
  /** What the event says of the connection's TLS, as known now. */
  stampTls(ev: CommandEvent): void;
  /** An event goes out (the session's sink). */
  emit(ev: CommandEvent): void;
  /** A line of the protocol trace (nothing when no trace is asked for). */
  trace(dir: Dir | null, event: string, seq: number | null, length: number | null, detail: string, payload?: Uint8Array | null, noBackslashEscapes?: boolean | null): void;
  /** A packet the protocol does not allow here: counted and traced. */
  violation(dir: Dir, p: Packet, what: string): void;
  /** Stop decoding the connection, saying why. */
  abandon(why: string): void;
}

/** A new event for a command (or login) of the connection, stamped with what is known of it now. */
export function commandEvent(info: ConnectionInfo, c: ConnectionState, cmd: string, sec: number, nsec: number): CommandEvent {
  return {
    conn: info.id,
    sec,
    nsec,
    client: info.client,
    server: info.server,
    connId: c.connId,
    user: c.user,
    db: c.db,
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
    tls: c.tls,
    tlsVersion: null,
    tlsCipher: null,
    tlsDecrypted: null,
    compressed: c.compressed,
    noBackslashEscapes: c.noBackslashEscapes,
    ended: null,
    durationUs: null,
  };
}

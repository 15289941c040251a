/**
 * The contract between the TCP layer and the protocol decoders above it: a connection's two
 * ordered byte streams are told to a StreamHandler as in-order data, gaps (bytes that will never
 * come, and why) and one close. The reassembler (reassembler.ts) produces these calls; the TLS
 * layer (src/tls/connection.ts) consumes them and produces the same calls with plaintext; the
 * MySQL session (src/mysql/session.ts) consumes them. Nothing here knows any protocol.
 */

/** Direction of a byte stream. */
export const enum Dir {
  ClientToServer = 0,
  ServerToClient = 1,
}

/** Why bytes are missing. */
export const enum GapReason {
  /** The direction's start was not captured; the size is unknown (-1). */
  MidStreamStart = 0,
  /** Never captured: the peer acknowledged them, or data after them waited past the reorder window. */
  Unseen = 1,
  /** The out-of-order buffer limit was reached while waiting for the hole to fill. */
  BufferLimit = 2,
  /** The connection ended (FIN, RST, timeout, eviction) with the hole still open. */
  ConnectionEnd = 3,
  /** The capture ended with the hole still open. */
  CaptureEnd = 4,
  /** The snap length cut the segment: its tail was never captured. */
  SnapLength = 5,
  /** Not from TCP: the bytes arrived but could not be decrypted (TLS: no key, a tag that does not verify, damage). */
  Undecryptable = 6,
}

/** Each GapReason in a few words, index GapReason (reports and traces say it this way). */
export const GAP_REASON_NAMES: readonly string[] = ['mid-stream start', 'not captured', 'buffer limit', 'connection end', 'capture end', 'snap length', 'not decrypted'];

/** A gap as a trace line says it: its size and why, or that the start was not seen. */
export function describeGap(bytes: number, reason: GapReason): string {
  if (bytes < 0) return reason === GapReason.Undecryptable ? 'TLS records not decrypted' : 'start of stream not captured';
  return `${bytes} bytes not ${reason === GapReason.Undecryptable ? 'decrypted' : `captured (${GAP_REASON_NAMES[reason]})`}`;
}

export type CloseReason = 'fin' | 'rst' | 'idle-timeout' | 'evicted' | 'replaced' | 'capture-end';

/** How the client and server sides of a connection were decided. */
export type SidesBy = 'syn' | 'port' | 'hello' | 'guess';

/** Counters of one direction. */
export interface HalfStats {
  segments: number;
  /** Payload bytes delivered to the consumer. */
  bytes: number;
  /** Segments whose bytes were all delivered before (retransmissions, duplicates). */
  retransmitted: number;
  /** Segments that partly overlapped bytes already delivered. */
  overlapping: number;
  /** Segments that arrived ahead of a hole and waited in the buffer. */
  outOfOrder: number;
  /** Gap events of known size, and their bytes. */
  gaps: number;
  bytesLost: number;
  /** Segments that arrived after the bytes they carry had been declared lost. */
  late: number;
}

export interface ConnectionInfo {
  /** Sequential id, in order of first packet. */
  readonly id: number;
  /** `ip:port`, IPv6 as `[addr]:port`. */
  readonly client: string;
  readonly server: string;
  readonly clientPort: number;
  readonly serverPort: number;
  /** The client's SYN was captured: the connection opened inside the capture. */
  readonly synSeen: boolean;
  readonly sidesBy: SidesBy;
  readonly firstSec: number;
  readonly firstNsec: number;
  /** Live counters, index `Dir`. */
  readonly stats: readonly [HalfStats, HalfStats];
}

export interface StreamHandler {
  /** In-order bytes of one direction: `buf[offset .. offset+length)`, a view valid only during the call. */
  onData(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void;
  /** Bytes that will never be delivered (`bytes` = -1: unknown amount, the start was not seen). */
  onGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void;
  /**
   * The connection ended; nothing follows. `by`: the side that ended it, the sender of the RST
   * ('rst') or of the first FIN (otherwise); null when no FIN or RST was seen.
   */
  onClose(reason: CloseReason, sec: number, nsec: number, by: Dir | null): void;
}

export type HandlerFactory = (info: ConnectionInfo) => StreamHandler;

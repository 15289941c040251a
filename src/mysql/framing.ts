/**
 * MySQL packet framing for one direction of a connection: bytes in (TCP stream chunks with their
 * capture time), whole logical packets out.
 *
 *   int<3> payload length, int<1> sequence id, payload
 *
 * A payload of exactly 0xffffff bytes continues in the next packet (16 MiB splitting); the
 * logical packet is their concatenation. Only the first `maxKeep` bytes of a logical payload are
 * kept (a 1 GB row is counted, never held): `length` says how long it really was.
 *
 * After a gap the framer has lost the packet boundaries: it "hunts", offering the start of each
 * new chunk (a TCP segment boundary, where packets usually start) to a predicate from the session
 * until one is accepted; bytes skipped meanwhile are counted.
 */
import { MAX_PACKET } from './constants.js';

/** One logical packet. The object and its `payload` view are valid only during the callback. */
export interface Packet {
  seq: number;
  /** Whole payload length (may exceed `payload.length` when truncated). */
  length: number;
  /** The payload's first byte, or -1 for an empty payload (what most dispatch needs, without a view). */
  b0: number;
  /** The kept payload (a view made on first use: a row packet that is only counted never needs one). */
  readonly payload: Uint8Array;
  truncated: boolean;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
}

/** The framer's reused packet: bytes `buf[off, off + kept)`, viewed lazily. */
class FramedPacket implements Packet {
  seq = 0;
  length = 0;
  b0 = -1;
  truncated = false;
  firstSec = 0;
  firstNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  private kept = 0;
  private view: Uint8Array | null = null;

  get payload(): Uint8Array {
    return (this.view ??= this.buf.subarray(this.off, this.off + this.kept));
  }

  setBytes(buf: Uint8Array, off: number, kept: number): void {
    this.buf = buf;
    this.off = off;
    this.kept = kept;
    this.view = null;
    this.b0 = kept > 0 ? buf[off]! : -1;
  }
}

export type PacketSink = (p: Packet) => void;

const EMPTY = new Uint8Array(0);

/** Does a packet plausibly start at `buf[off]`? (`len` bytes available in this chunk.) */
export type StartPredicate = (buf: Uint8Array, off: number, len: number) => boolean;

const enum State {
  Header = 0,
  Body = 1,
  Hunting = 2,
}

export class PacketFramer {
  /** Bytes skipped while hunting for a packet boundary after a gap. */
  skippedBytes = 0;
  /** Packets cut by a gap (their start or end was lost). */
  packetsCut = 0;
  packets = 0;

  private state = State.Header;
  private readonly hdr = new Uint8Array(4);
  private hdrHave = 0;
  /** Bytes left in the current physical packet. */
  private remaining = 0;
  private physLen = 0;
  /** Inside a logical packet that continues over 0xffffff-byte physical packets. */
  private continuing = false;
  private keep: Uint8Array;
  private kept = 0;
  private readonly pkt = new FramedPacket();
  private hunt: StartPredicate | null = null;
  /** The sink asked to stop after the packet it is handling (the stream changes protocol: TLS). */
  private stopped = false;

  constructor(
    private readonly sink: PacketSink,
    private readonly maxKeep: number,
  ) {
    // Allocated when a packet first spans chunks: a connection that carries no MySQL bytes (a
    // SYN flood, a port scan) costs no buffer.
    this.keep = EMPTY;
  }

  /** Bytes are missing: drop the packet in progress and hunt for the next packet start. */
  gap(hunt: StartPredicate): void {
    if (this.state === State.Body || this.hdrHave > 0 || this.continuing) this.packetsCut++;
    this.reset();
    this.state = State.Hunting;
    this.hunt = hunt;
  }

  /**
   * Called by the sink while it handles a packet: the bytes after this packet are no longer MySQL
   * packets (an SSL request: TLS records follow). `feed` returns how many bytes it left unread.
   */
  stopAfterPacket(): void {
    this.stopped = true;
  }

  /**
   * The packet in progress (its header read, part of its payload), for a caller that reports what
   * was captured of it before a gap or the end: its `length` is the length announced (at least),
   * `payload` the kept prefix of what arrived, `truncated` true; `cutCaptured` then says how many
   * payload bytes arrived. Null when no packet is in progress. The framer is then at a boundary,
   * as after a reset; the caller calls `gap()` next if bytes are missing.
   */
  cut(): Packet | null {
    if (this.state !== State.Body && !this.continuing) return null;
    const p = this.pkt;
    this.cutCaptured = p.length + (this.state === State.Body ? this.physLen - this.remaining : 0);
    if (this.state === State.Body) p.length += this.physLen;
    p.setBytes(this.keep, 0, this.kept);
    p.truncated = true;
    p.lastSec = this.lastSec;
    p.lastNsec = this.lastNsec;
    this.packetsCut++;
    this.reset();
    return p;
  }

  /** Payload bytes that arrived of the last packet `cut()` returned. */
  cutCaptured = 0;
  /** Time of the last bytes fed. */
  private lastSec = 0;
  private lastNsec = 0;

  /** The packet in progress is the first one after a hunt found a start (not yet confirmed by its end). */
  private provisional = false;

  /**
   * A hunt accepted a packet start and that packet is still incomplete: the start is not confirmed
   * yet (it may be a coincidence in the middle of other data, announcing a length that swallows
   * what follows). The caller may know better (the other side answered) and call `gap()` again.
   */
  get unconfirmedStart(): boolean {
    return this.provisional && (this.state === State.Body || this.hdrHave > 0 || this.continuing);
  }

  /** In sync at a packet boundary? */
  get synced(): boolean {
    return this.state !== State.Hunting;
  }

  private reset(): void {
    this.provisional = false;
    this.state = State.Header;
    this.hdrHave = 0;
    this.remaining = 0;
    this.continuing = false;
    this.kept = 0;
  }

  /** Frames the bytes; returns 0, or the bytes left unread after `stopAfterPacket()`. */
  feed(buf: Uint8Array, off: number, len: number, sec: number, nsec: number): number {
    this.lastSec = sec;
    this.lastNsec = nsec;
    if (this.state === State.Hunting) {
      if (!this.hunt!(buf, off, len)) {
        this.skippedBytes += len;
        return 0;
      }
      this.state = State.Header;
      this.hunt = null;
      this.provisional = true;
    }
    const p = this.pkt;
    while (len > 0) {
      if (this.stopped) {
        this.stopped = false;
        return len;
      }
      if (this.hunt !== null) {
        // The sink declared a gap while handling a packet of this chunk: skip the rest of it.
        this.skippedBytes += len;
        return 0;
      }
      if (this.state === State.Header) {
        let plen: number;
        let seq: number;
        if (this.hdrHave === 0 && len >= 4) {
          plen = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16);
          seq = buf[off + 3]!;
          off += 4;
          len -= 4;
          if (!this.continuing) {
            p.firstSec = sec;
            p.firstNsec = nsec;
          }
        } else {
          if (this.hdrHave === 0 && !this.continuing) {
            p.firstSec = sec;
            p.firstNsec = nsec;
          }
          const take = Math.min(4 - this.hdrHave, len);
          this.hdr.set(buf.subarray(off, off + take), this.hdrHave);
          this.hdrHave += take;
          off += take;
          len -= take;
          if (this.hdrHave < 4) return 0;
          const h = this.hdr;
          plen = h[0]! | (h[1]! << 8) | (h[2]! << 16);
          seq = h[3]!;
          this.hdrHave = 0;
        }
        if (!this.continuing) {
          p.seq = seq;
          p.length = 0;
          this.kept = 0;
        }
        this.physLen = plen;
        this.remaining = plen;
        this.state = State.Body;
        if (plen === 0) {
          this.endPhysical(sec, nsec);
          continue;
        }
        // Fast path: a whole packet inside this chunk, nothing accumulated: a view, no copy.
        if (!this.continuing && plen <= len && plen < MAX_PACKET) {
          p.length = plen;
          p.setBytes(buf, off, Math.min(plen, this.maxKeep));
          p.truncated = plen > this.maxKeep;
          p.lastSec = sec;
          p.lastNsec = nsec;
          off += plen;
          len -= plen;
          this.state = State.Header;
          this.packets++;
          this.provisional = false;
          this.sink(p);
          continue;
        }
      }
      // Body: accumulate (a prefix of) the payload.
      const take = Math.min(this.remaining, len);
      const room = this.maxKeep - this.kept;
      if (room > 0) {
        const n = Math.min(room, take);
        if (this.kept + n > this.keep.length) {
          const grown = new Uint8Array(Math.min(this.maxKeep, Math.max(this.kept + n, this.keep.length * 2, 4096)));
          grown.set(this.keep.subarray(0, this.kept));
          this.keep = grown;
        }
        this.keep.set(buf.subarray(off, off + n), this.kept);
        this.kept += n;
      }
      this.remaining -= take;
      off += take;
      len -= take;
      if (this.remaining === 0) this.endPhysical(sec, nsec);
    }
    this.stopped = false;
    return 0;
  }

  private endPhysical(sec: number, nsec: number): void {
    const p = this.pkt;
    p.length += this.physLen;
    this.state = State.Header;
    if (this.physLen === MAX_PACKET) {
      this.continuing = true; // the logical packet goes on in the next physical packet
      return;
    }
    this.continuing = false;
    p.setBytes(this.keep, 0, this.kept);
    p.truncated = p.length > this.kept;
    p.lastSec = sec;
    p.lastNsec = nsec;
    this.kept = 0;
    this.packets++;
    this.provisional = false;
    this.sink(p);
  }
}

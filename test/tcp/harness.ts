/**
 * Test harness for the TCP reassembler: segments in, recorded stream events out, no pcap files.
 *
 *   - `Seg` describes one TCP segment (endpoints, seq/ack, flags, payload, capture time, snap cut);
 *     `feed()` builds its real Ethernet/IP/TCP bytes with the packet builders, decodes them with
 *     a `PacketDecoder` and hands the decoder to `TcpReassembler.add`.
 *   - `Tuple` writes segments of one connection relative to its initial sequence numbers:
 *     `t.c(0, 'abc')` is the client's first three data bytes, `t.s(3, 'xy', 'PA', 3)` the
 *     server's bytes 3..4 acknowledging the client's first three.
 *   - `Recorder` is a `HandlerFactory` that keeps, per connection, every event in order, the
 *     delivered bytes per direction with the stream offset of each (gaps advance the offset),
 *     the gaps and the close reason; `trace()` renders it as short lines for table tests.
 */
import { PacketDecoder } from '../../src/net/decode.js';
import { newPacketRecord } from '../../src/pcap/record.js';
import { TcpReassembler, type ReassemblyOptions } from '../../src/tcp/reassembler.js';
import { Dir, GapReason, type CloseReason, type ConnectionInfo, type HandlerFactory, type StreamHandler } from '../../src/tcp/stream.js';
import { packet, ascii } from '../builders/capture-builder.js';

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Segments in
// ──────────────────────────────────────────────────────────────────────────────────────────────

export interface Seg {
  /** Addresses: IPv4 dotted or IPv6 (with ':'). Both of the same family. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  /** Letters F S R P A U (default 'A', or 'PA' with a payload). */
  flags?: string | number;
  payload?: Uint8Array | string;
  /** Capture time (default 0 s, 0 ns; `Wire` fills a running clock). */
  sec?: number;
  nsec?: number;
  /** Payload bytes the capture holds (snap length cut); the rest is on the wire only. */
  capturedPayload?: number;
}

const bytesOf = (p: Uint8Array | string | undefined): Uint8Array => (p === undefined ? new Uint8Array(0) : typeof p === 'string' ? ascii(p) : p);

/** The frame of `s`: Ethernet, IPv4 or IPv6, TCP, payload. */
export function frame(s: Seg): { bytes: Uint8Array; caplen: number } {
  const payload = bytesOf(s.payload);
  const b = packet().ethernet();
  if (s.src.includes(':')) b.ipv6({ src: s.src, dst: s.dst });
  else b.ipv4({ src: s.src, dst: s.dst });
  const flags = s.flags ?? (payload.length > 0 ? 'PA' : 'A');
  const bytes = b
    .tcp({ srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags })
    .payload(payload)
    .build();
  const cut = s.capturedPayload === undefined ? 0 : payload.length - s.capturedPayload;
  return { bytes, caplen: bytes.length - cut };
}

/**
 * Feeds segments to one reassembler through real bytes and a real decoder. With `shared`, every
 * packet is written into the same Node `Buffer` (as the capture reader reuses its chunks), then
 * the buffer is scribbled over after `add()`: whatever the reassembler kept by reference is
 * overwritten, as it would be by the next chunk.
 */
export class Wire {
  readonly decoder = new PacketDecoder();
  /** Running capture clock for segments without a time: 1 ms apart. */
  private clockNs = 0;
  private readonly shared: Buffer | null;

  constructor(
    readonly r: TcpReassembler,
    opts: { shared?: boolean } = {},
  ) {
    this.shared = opts.shared ? Buffer.alloc(70_000) : null;
  }

  feed(...segs: Seg[]): this {
    for (const s of segs) {
      const { bytes, caplen } = frame(s);
      // Some bytes before the packet: the payload offset is not 0 in the buffer.
      const data = this.shared ?? new Uint8Array(bytes.length + 3);
      data.fill(0xee);
      data.set(bytes.subarray(0, caplen), 3);
      const rec = newPacketRecord();
      rec.data = data;
      rec.offset = 3;
      rec.caplen = caplen;
      rec.origLen = bytes.length;
      rec.linkType = 1;
      let sec = s.sec;
      let nsec = s.nsec ?? 0;
      if (sec === undefined) {
        this.clockNs += 1_000_000;
        sec = Math.floor(this.clockNs / 1e9);
        nsec = this.clockNs % 1e9;
      } else {
        this.clockNs = sec * 1e9 + nsec;
      }
      rec.tsSec = sec;
      rec.tsNsec = nsec;
      if (!this.decoder.decode(rec)) throw new Error(`segment not decoded as TCP: ${JSON.stringify({ ...s, payload: undefined })}`);
      this.r.add(this.decoder, sec, nsec);
      if (this.shared) this.shared.fill(0xdd);
    }
    return this;
  }

  finish(sec?: number, nsec = 0): this {
    const s = sec ?? Math.floor(this.clockNs / 1e9) + 1;
    this.r.finish(s, nsec);
    return this;
  }
}

/** Segments of one connection, written relative to the initial sequence numbers. */
export class Tuple {
  constructor(
    readonly client: string,
    readonly server: string,
    readonly clientPort: number,
    readonly serverPort: number,
    /** Initial sequence numbers of the client and server (their SYNs' seq). */
    readonly cisn: number,
    readonly sisn: number,
  ) {}

  /** Absolute sequence number of client data byte `rel` (0: the byte after the SYN). */
  cseq(rel: number): number {
    return (this.cisn + 1 + rel) >>> 0;
  }

  sseq(rel: number): number {
    return (this.sisn + 1 + rel) >>> 0;
  }

  syn(o: Partial<Seg> = {}): Seg {
    return { src: this.client, dst: this.server, srcPort: this.clientPort, dstPort: this.serverPort, seq: this.cisn, ack: 0, flags: 'S', ...o };
  }

  synAck(o: Partial<Seg> = {}): Seg {
    return { src: this.server, dst: this.client, srcPort: this.serverPort, dstPort: this.clientPort, seq: this.sisn, ack: this.cseq(0), flags: 'SA', ...o };
  }

  /** Client segment at data offset `rel`, acknowledging server data up to `ackRel` (default 0). */
  c(rel: number, payload: Uint8Array | string = '', flags?: string, ackRel = 0, o: Partial<Seg> = {}): Seg {
    return { src: this.client, dst: this.server, srcPort: this.clientPort, dstPort: this.serverPort, seq: this.cseq(rel), ack: this.sseq(ackRel), payload, ...(flags !== undefined ? { flags } : {}), ...o };
  }

  s(rel: number, payload: Uint8Array | string = '', flags?: string, ackRel = 0, o: Partial<Seg> = {}): Seg {
    return { src: this.server, dst: this.client, srcPort: this.serverPort, dstPort: this.clientPort, seq: this.sseq(rel), ack: this.cseq(ackRel), payload, ...(flags !== undefined ? { flags } : {}), ...o };
  }

  /** The three-way handshake. */
  handshake(): Seg[] {
    return [this.syn(), this.synAck(), this.c(0, '', 'A', 0)];
  }
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Events out
// ──────────────────────────────────────────────────────────────────────────────────────────────

export type Event =
  | { kind: 'data'; dir: Dir; bytes: Uint8Array; offset: number; sec: number; nsec: number; view: boolean }
  | { kind: 'gap'; dir: Dir; bytes: number; reason: GapReason; offset: number }
  | { kind: 'close'; reason: CloseReason };

export const REASON = ['MidStreamStart', 'Unseen', 'BufferLimit', 'ConnectionEnd', 'CaptureEnd', 'SnapLength', 'Undecryptable'] as const;

/** One direction as the consumer saw it. */
export class DirRecord {
  /** Stream offset of the next byte (0: the first byte after the SYN, or the first delivered byte). */
  pos = 0;
  /** A gap of unknown size (-1) was reported (offsets are then relative to the first byte seen). */
  startUnknown = false;
  /** Delivered bytes, concatenated. */
  private buf = new Uint8Array(64);
  length = 0;
  /** Stream offset of every delivered byte. */
  offsets: number[] = [];
  gaps: { bytes: number; reason: GapReason; offset: number }[] = [];

  /** Delivered bytes, concatenated. */
  get data(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  get text(): string {
    return Buffer.from(this.data).toString('latin1');
  }

  /** Known gap bytes. */
  get gapBytes(): number {
    return this.gaps.reduce((n, g) => n + Math.max(0, g.bytes), 0);
  }

  push(b: Uint8Array): number {
    const at = this.pos;
    if (this.length + b.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + b.length));
      grown.set(this.data);
      this.buf = grown;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
    for (let i = 0; i < b.length; i++) this.offsets.push(at + i);
    this.pos += b.length;
    return at;
  }

  gap(bytes: number, reason: GapReason): number {
    const at = this.pos;
    this.gaps.push({ bytes, reason, offset: at });
    if (bytes < 0) this.startUnknown = true;
    else this.pos += bytes;
    return at;
  }
}

export class RecordedConn {
  readonly events: Event[] = [];
  readonly dirs: [DirRecord, DirRecord] = [new DirRecord(), new DirRecord()];
  closeReason: CloseReason | null = null;
  /** Events after close (must stay empty). */
  afterClose = 0;

  constructor(readonly info: ConnectionInfo) {}

  get c2s(): DirRecord {
    return this.dirs[Dir.ClientToServer];
  }

  get s2c(): DirRecord {
    return this.dirs[Dir.ServerToClient];
  }

  /**
   * Events as short lines, consecutive data of one direction merged:
   *   `C "abc"`, `S "xy"`, `C gap 3 Unseen`, `S gap -1 MidStreamStart`, `close fin`.
   */
  trace(): string[] {
    const out: string[] = [];
    let last: { dir: Dir; text: string } | null = null;
    const flush = (): void => {
      if (last !== null) out.push(`${last.dir === Dir.ClientToServer ? 'C' : 'S'} "${last.text}"`);
      last = null;
    };
    for (const e of this.events) {
      if (e.kind === 'data') {
        const text = Buffer.from(e.bytes).toString('latin1');
        if (last !== null && last.dir === e.dir) last.text += text;
        else {
          flush();
          last = { dir: e.dir, text };
        }
        continue;
      }
      flush();
      if (e.kind === 'gap') out.push(`${e.dir === Dir.ClientToServer ? 'C' : 'S'} gap ${e.bytes} ${REASON[e.reason]}`);
      else out.push(`close ${e.reason}`);
    }
    flush();
    return out;
  }
}

/** A `HandlerFactory` that records everything, per connection, in creation order. */
export class Recorder {
  readonly conns: RecordedConn[] = [];
  /** Set by the test: the buffer a view is expected to point into (the decoder's). */
  viewOf: (() => Uint8Array) | null = null;
  /** Called on every data event (for tests that check cross-direction order as it happens). */
  onData: ((c: RecordedConn, dir: Dir, offset: number, length: number) => void) | null = null;

  readonly factory: HandlerFactory = (info) => {
    const rc = new RecordedConn(info);
    this.conns.push(rc);
    const h: StreamHandler = {
      onData: (dir, buf, offset, length, sec, nsec) => {
        if (rc.closeReason !== null) rc.afterClose++;
        const view = this.viewOf !== null && buf === this.viewOf();
        // A copy (Buffer#slice would be a view: the capture buffer is reused after the call).
        const bytes = Uint8Array.prototype.slice.call(buf, offset, offset + length);
        const at = rc.dirs[dir].push(bytes);
        rc.events.push({ kind: 'data', dir, bytes, offset: at, sec, nsec, view });
        this.onData?.(rc, dir, at, length);
      },
      onGap: (dir, bytes, reason) => {
        if (rc.closeReason !== null) rc.afterClose++;
        const at = rc.dirs[dir].gap(bytes, reason);
        rc.events.push({ kind: 'gap', dir, bytes, reason, offset: at });
      },
      onClose: (reason) => {
        if (rc.closeReason !== null) rc.afterClose++;
        rc.closeReason = reason;
        rc.events.push({ kind: 'close', reason });
      },
    };
    return h;
  };

  /** The only connection (fails when there is not exactly one). */
  get one(): RecordedConn {
    if (this.conns.length !== 1) throw new Error(`expected one connection, got ${this.conns.length}`);
    return this.conns[0]!;
  }
}

/** A reassembler with a recorder and a wire, ready to feed. */
export function setup(opts: ReassemblyOptions = {}, wireOpts: { shared?: boolean } = {}): { r: TcpReassembler; rec: Recorder; wire: Wire } {
  const rec = new Recorder();
  const r = new TcpReassembler(rec.factory, opts);
  const wire = new Wire(r, wireOpts);
  rec.viewOf = () => wire.decoder.data;
  return { r, rec, wire };
}

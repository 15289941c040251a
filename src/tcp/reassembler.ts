/**
 * TCP stream reassembly: decoded segments in (capture order), two ordered byte streams per
 * connection out, with an explicit gap wherever bytes are missing. Knows nothing of MySQL.
 *
 * Per connection, a small state machine: OPEN (SYN seen, or first packet mid-stream) → CLOSED
 * (FIN both ways, RST, idle timeout, eviction, capture end). Per direction ("half"):
 *   - in-order data (the common case) is handed to the consumer as a view into the capture
 *     buffer, never copied;
 *   - out-of-order data is copied into a small sorted buffer until the hole before it fills;
 *   - retransmitted and overlapping bytes are delivered once;
 *   - a hole that cannot be filled becomes a gap event with its size, then the data after it:
 *     when the peer acknowledges past it (the bytes reached the peer, the capture lost them),
 *     when the per-connection buffer limit is reached, when the connection ends, or when the
 *     capture ends; bytes cut by the snap length are gaps too;
 *   - a direction whose start was not seen (capture began mid-connection, or SYN lost) starts
 *     with a gap of unknown size (-1) before its first data.
 *
 * Consumers are created by a factory, lazily, when a connection has something to say; they
 * receive data/gap/close calls synchronously. Memory is bounded: per-connection and total
 * out-of-order buffer caps, a cap on the number of tracked connections, and an idle timeout,
 * all measured in capture time (never the wall clock).
 */
import { TcpFlag, formatIpv6, type PacketDecoder } from '../net/decode.js';
import { seqAdd, seqDiff } from './seq.js';
import { u32be } from '../bytes/endian.js';
import { Dir, GapReason, type CloseReason, type ConnectionInfo, type HalfStats, type HandlerFactory, type SidesBy, type StreamHandler } from './stream.js';

// The contract with the layer above (directions, gap reasons, the handler) lives in stream.ts;
// re-exported here for the modules that import it from the reassembler.
export { Dir, GapReason, GAP_REASON_NAMES, type CloseReason, type SidesBy, type HalfStats, type ConnectionInfo, type StreamHandler, type HandlerFactory } from './stream.js';

export const DEFAULT_MEMORY_BUDGET = 1024 * 1024 * 1024;

/**
 * Bytes a tracked connection is budgeted: its TCP record and its MySQL session with small
 * buffers (a connection that carried no MySQL byte measures about 0.9 KB: docs/performance.md);
 * a busy one's packet buffers grow past this, but only while a packet spans segments.
 */
export const CONNECTION_COST = 2048;

/** Connections that fit a memory budget once the out-of-order buffers have their share. */
export function connectionsWithin(budget: number, maxBufferTotal: number): number {
  return Math.floor(Math.max(0, budget - maxBufferTotal) / CONNECTION_COST);
}

/** The handler of a closed connection (its own is released). */
const CLOSED: StreamHandler = { onData: () => undefined, onGap: () => undefined, onClose: () => undefined };

export interface ReassemblyOptions {
  /** Ports that identify the server side when the SYN was not seen (3306, --port). Learnt ports are added. */
  serverPorts?: Iterable<number>;
  /**
   * Does this first payload of a direction look like a server's opening message (a MySQL
   * greeting)? Decides the sides of a connection whose SYN was not seen and whose ports say
   * nothing; the sender's port is then learnt as a server port.
   */
  isServerHello?: (buf: Uint8Array, offset: number, length: number) => boolean;
  /** Out-of-order bytes buffered per connection before the hole is given up (default 4 MiB). */
  maxBufferPerConnection?: number;
  /** Out-of-order bytes buffered in total (default 256 MiB). */
  maxBufferTotal?: number;
  /** Tracked connections at most; the least recently active is closed beyond (default 500,000). */
  maxConnections?: number;
  /**
   * Bytes the reassembly and the connections' decoders may use (default 1 GiB): beyond what the
   * out-of-order buffers may hold (`maxBufferTotal`), room for CONNECTION_COST bytes per tracked
   * connection; more connections than fit are closed, the least recently active first (counted in
   * `evicted`), as with `maxConnections`. The smaller of the two limits applies.
   */
  memoryBudget?: number;
  /** A connection with no packet for this long (capture time) is closed (default 900 s). */
  idleTimeoutSec?: number;
  /**
   * Packets of a connection a buffered segment may wait for the hole before it to fill (or for
   * the peer's bytes it acknowledges) before those bytes are declared lost (default 8).
   */
  reorderWindow?: number;
}

/** Totals over all connections, for the capture health report. */
export interface ReassemblyTotals {
  connections: number;
  /** SYN seen and closed by FIN or RST: seen whole. */
  complete: number;
  /** The client's SYN was not seen: started before the capture (or the SYN was lost). */
  midStream: number;
  /** Still open at the end of the capture, or closed by idle timeout or eviction. */
  unfinished: number;
  closedByFin: number;
  closedByRst: number;
  closedByIdleTimeout: number;
  evicted: number;
  segments: number;
  payloadBytes: number;
  retransmitted: number;
  overlapping: number;
  outOfOrder: number;
  gaps: number;
  bytesLost: number;
  /** Of `bytesLost`: bytes the snap length cut off packets that were captured. */
  bytesCutBySnaplen: number;
  late: number;
  /** Packets for a connection already closed (trailing ACKs, late retransmissions). */
  afterClose: number;
  /** Bare ACKs and RSTs for no tracked connection (its end after eviction, or keepalives of one whose data was never seen). */
  withoutConnection: number;
  /** Connections whose buffer limit forced a gap. */
  bufferLimitHits: number;
  /** Connections whose sides were only guessed (lower port = server). */
  sidesGuessed: number;
}

interface Segment {
  seq: number;
  /** Captured bytes (a copy). */
  data: Uint8Array;
  /** Bytes after `data` that the snap length cut. */
  missing: number;
  fin: boolean;
  /** Deliver only once the peer's stream reached this sequence number (-1: no condition). */
  ack: number;
  /** The connection's packet count when it arrived (for the reorder window). */
  arrival: number;
  sec: number;
  nsec: number;
}

/** Never added to: replaced by a list of its own at the first out-of-order segment. */
const NO_SEGMENTS: Segment[] = [];

/** One direction of a connection; it is also its own counters (HalfStats: one object less per direction). */
class Half implements HalfStats {
  segments = 0;
  bytes = 0;
  retransmitted = 0;
  overlapping = 0;
  outOfOrder = 0;
  gaps = 0;
  bytesLost = 0;
  late = 0;
  started = false;
  synSeen = false;
  /** Initial sequence number (when the SYN was seen). */
  isn = 0;
  /** Next sequence number expected (valid once started). */
  nextSeq = 0;
  /** A FIN was delivered (or skipped over) at `finSeq`. */
  finSeen = false;
  finSeq = 0;
  /** The last range given up as lost: a segment inside it arriving later is "late". */
  lostFrom = 0;
  lostTo = 0;
  /** The peer acknowledged every byte before this (valid once started). */
  ackedTo = 0;
  /** All bytes up to the FIN were delivered. */
  done = false;
  /** Out-of-order segments, sorted by sequence number (a shared empty list until the first one). */
  ooo: Segment[] = NO_SEGMENTS;
  oooBytes = 0;

  get stats(): HalfStats {
    return this;
  }
}

class Conn {
  /** Hash-bucket chain. */
  chain: Conn | null = null;
  lruPrev: Conn | null = null;
  lruNext: Conn | null = null;
  readonly halves: [Half, Half] = [new Half(), new Half()];
  handler: StreamHandler | null = null;
  closed = false;
  /** The sender of the first FIN, and of a RST (see StreamHandler.onClose). */
  finBy: Dir | null = null;
  rstBy: Dir | null = null;
  lastSec = 0;
  /** Packets seen on this connection. */
  packets = 0;
  /** Segments buffered in both directions. */
  buffered = 0;
  synSeen = false;
  bufferLimitHit = false;

  constructor(
    readonly id: number,
    readonly hash: number,
    readonly v6: boolean,
    // Canonical endpoints: "lo" sorts before "hi" (address words, then port).
    readonly lo0: number,
    readonly lo1: number,
    readonly lo2: number,
    readonly lo3: number,
    readonly loPort: number,
    readonly hi0: number,
    readonly hi1: number,
    readonly hi2: number,
    readonly hi3: number,
    readonly hiPort: number,
    /** Which canonical endpoint is the client. */
    public loIsClient: boolean,
    public sidesBy: SidesBy,
    readonly firstSec: number,
    readonly firstNsec: number,
  ) {}
}

export class TcpReassembler {
  readonly totals: ReassemblyTotals = {
    connections: 0,
    complete: 0,
    midStream: 0,
    unfinished: 0,
    closedByFin: 0,
    closedByRst: 0,
    closedByIdleTimeout: 0,
    evicted: 0,
    segments: 0,
    payloadBytes: 0,
    retransmitted: 0,
    overlapping: 0,
    outOfOrder: 0,
    gaps: 0,
    bytesLost: 0,
    bytesCutBySnaplen: 0,
    late: 0,
    afterClose: 0,
    withoutConnection: 0,
    bufferLimitHits: 0,
    sidesGuessed: 0,
  };
  /** Server ports: given, plus learnt from server hellos. */
  readonly serverPorts: Set<number>;

  private readonly table = new Map<number, Conn>();
  private lruHead: Conn | null = null;
  private lruTail: Conn | null = null;
  private count = 0;
  private nextId = 1;
  private bufferedTotal = 0;
  /** Connections holding buffered segments (for the total cap). */
  private readonly bufferedConns = new Set<Conn>();
  private lastExpirySec = 0;
  private readonly maxPerConn: number;
  private readonly maxTotal: number;
  private readonly maxConns: number;
  private readonly idleSec: number;
  private readonly reorderWindow: number;
  private readonly isServerHello: ((b: Uint8Array, o: number, l: number) => boolean) | null;
  /** Last packet's connection: consecutive packets usually share one. */
  private last: Conn | null = null;

  constructor(
    private readonly factory: HandlerFactory,
    opts: ReassemblyOptions = {},
  ) {
    this.serverPorts = new Set(opts.serverPorts ?? []);
    this.maxPerConn = opts.maxBufferPerConnection ?? 4 * 1024 * 1024;
    this.maxTotal = opts.maxBufferTotal ?? 256 * 1024 * 1024;
    this.maxConns = Math.max(1, Math.min(opts.maxConnections ?? 500_000, connectionsWithin(opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET, this.maxTotal)));
    this.idleSec = opts.idleTimeoutSec ?? 900;
    this.reorderWindow = opts.reorderWindow ?? 8;
    this.isServerHello = opts.isServerHello ?? null;
  }

  /** Bytes held in out-of-order buffers now. */
  get bufferedBytes(): number {
    return this.bufferedTotal;
  }

  /** Connections tracked now (open, or closed and lingering for trailing packets). */
  get trackedConnections(): number {
    return this.count;
  }

  /** Feed one decoded TCP segment (`d` after a successful `decode()`), with its capture time. */
  add(d: PacketDecoder, sec: number, nsec: number): void {
    if (sec > this.lastExpirySec) {
      this.lastExpirySec = sec;
      this.expire(sec);
      if (this.bufferedConns.size > 0) this.stalled(sec, nsec);
    }
    // Endpoint words: IPv4 in word 0; IPv6 as four big-endian words.
    let s0: number, s1: number, s2: number, s3: number, t0: number, t1: number, t2: number, t3: number;
    const v6 = d.ipVersion === 6;
    if (!v6) {
      s0 = d.src4;
      t0 = d.dst4;
      s1 = s2 = s3 = t1 = t2 = t3 = 0;
    } else {
      const b = d.data;
      const p = d.srcAddrOffset;
      const q = d.dstAddrOffset;
      s0 = u32be(b, p);
      s1 = u32be(b, p + 4);
      s2 = u32be(b, p + 8);
      s3 = u32be(b, p + 12);
      t0 = u32be(b, q);
      t1 = u32be(b, q + 4);
      t2 = u32be(b, q + 8);
      t3 = u32be(b, q + 12);
    }
    const sp = d.srcPort;
    const tp = d.dstPort;
    const srcIsLo = s0 !== t0 ? s0 < t0 : s1 !== t1 ? s1 < t1 : s2 !== t2 ? s2 < t2 : s3 !== t3 ? s3 < t3 : sp <= tp;
    let c = this.last;
    // A pure SYN always takes the full lookup: it may start a new connection on this tuple.
    if (c === null || (d.flags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn || !(srcIsLo ? c.loPort === sp && c.hiPort === tp && c.lo0 === s0 && c.hi0 === t0 && c.lo1 === s1 && c.hi1 === t1 && c.lo2 === s2 && c.hi2 === t2 && c.lo3 === s3 && c.hi3 === t3 && c.v6 === v6 : c.loPort === tp && c.hiPort === sp && c.lo0 === t0 && c.hi0 === s0 && c.lo1 === t1 && c.hi1 === s1 && c.lo2 === t2 && c.hi2 === s2 && c.lo3 === t3 && c.hi3 === s3 && c.v6 === v6)) {
      const h = srcIsLo ? hash(s0, s1, s2, s3, sp, t0, t1, t2, t3, tp) : hash(t0, t1, t2, t3, tp, s0, s1, s2, s3, sp);
      c = this.table.get(h) ?? null;
      while (c !== null && !(srcIsLo ? c.loPort === sp && c.hiPort === tp && c.lo0 === s0 && c.hi0 === t0 && c.lo1 === s1 && c.hi1 === t1 && c.lo2 === s2 && c.hi2 === t2 && c.lo3 === s3 && c.hi3 === t3 && c.v6 === v6 : c.loPort === tp && c.hiPort === sp && c.lo0 === t0 && c.hi0 === s0 && c.lo1 === t1 && c.hi1 === s1 && c.lo2 === t2 && c.hi2 === s2 && c.lo3 === t3 && c.hi3 === s3 && c.v6 === v6)) {
        c = c.chain;
      }
      const flags = d.flags;
      const pureSyn = (flags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn;
      const sender = c === null ? null : c.halves[c.loIsClient === srcIsLo ? Dir.ClientToServer : Dir.ServerToClient];
      if (c !== null && pureSyn && (c.closed || (sender!.synSeen && sender!.isn !== d.seq))) {
        // A new SYN on a tuple whose connection ended (port reuse), or with a new initial sequence number.
        if (!c.closed) this.close(c, 'replaced', sec, nsec);
        this.remove(c);
        c = null;
      }
      if (c === null && (flags & TcpFlag.Syn) === 0 && d.payloadLength + d.payloadMissing === 0 && (flags & TcpFlag.Fin) === 0) {
        // A bare ACK (or RST) for no tracked connection: nothing to deliver, no connection to invent.
        this.totals.withoutConnection++;
        return;
      }
      if (c === null) {
        c = srcIsLo ? this.create(h, v6, s0, s1, s2, s3, sp, t0, t1, t2, t3, tp, true, flags, sec, nsec) : this.create(h, v6, t0, t1, t2, t3, tp, s0, s1, s2, s3, sp, false, flags, sec, nsec);
      }
      this.last = c;
    }
    c.lastSec = sec;
    if (c !== this.lruTail) this.touch(c);
    if (c.closed) {
      this.totals.afterClose++;
      return;
    }
    this.segment(c, d, srcIsLo, sec, nsec);
  }

  /** The capture ended: flush every connection (holes become gaps) and close it. */
  finish(sec: number, nsec: number): void {
    for (let c = this.lruHead; c !== null; c = c.lruNext) {
      if (c.closed) continue;
      this.giveUp(c, GapReason.CaptureEnd, sec, nsec);
      // Both FINs in, only the final ACK (or a lost byte) missing: it did end with FINs.
      this.close(c, c.halves[0].done && c.halves[1].done ? 'fin' : 'capture-end', sec, nsec);
    }
  }

  /**
   * Stop waiting on a connection: release everything buffered (holes become gaps), then report
   * the bytes the peer acknowledged that were never captured (a lost tail: nothing after it).
   */
  private giveUp(c: Conn, reason: GapReason, sec: number, nsec: number): void {
    while (c.buffered > 0) this.forceOldest(c, reason, sec, nsec);
    for (let dir: Dir = 0; dir < 2; dir++) {
      const h = c.halves[dir];
      if (!h.started || h.done) continue;
      let to = h.ackedTo;
      if (h.finSeen && seqDiff(to, h.finSeq) > 0) to = h.finSeq; // the FIN takes a number, not a byte
      if (seqDiff(to, h.nextSeq) > 0) this.gapTo(c, h, dir, to, GapReason.Unseen, sec, nsec);
      if (h.finSeen && seqDiff(h.finSeq, h.nextSeq) <= 0) this.noteFin(h, h.finSeq);
    }
  }

  private create(h: number, v6: boolean, l0: number, l1: number, l2: number, l3: number, lp: number, g0: number, g1: number, g2: number, g3: number, gp: number, srcIsLo: boolean, flags: number, sec: number, nsec: number): Conn {
    if (this.count >= this.maxConns && this.lruHead !== null) {
      const victim = this.lruHead;
      if (!victim.closed) {
        this.totals.evicted++;
        this.close(victim, 'evicted', sec, nsec);
      }
      this.remove(victim);
    }
    // Sides: the SYN's sender is the client, the SYN-ACK's the server; otherwise the server port.
    let loIsClient: boolean;
    let by: SidesBy;
    if (flags & TcpFlag.Syn) {
      const senderIsClient = (flags & TcpFlag.Ack) === 0;
      loIsClient = srcIsLo === senderIsClient;
      by = 'syn';
    } else if (this.serverPorts.has(gp) !== this.serverPorts.has(lp)) {
      loIsClient = this.serverPorts.has(gp);
      by = 'port';
    } else {
      loIsClient = lp > gp; // the lower port is more likely the server's
      by = 'guess';
    }
    const c = new Conn(this.nextId++, h, v6, l0, l1, l2, l3, lp, g0, g1, g2, g3, gp, loIsClient, by, sec, nsec);
    c.chain = this.table.get(h) ?? null;
    this.table.set(h, c);
    this.count++;
    this.totals.connections++;
    return c;
  }

  private segment(c: Conn, d: PacketDecoder, srcIsLo: boolean, sec: number, nsec: number): void {
    const flags = d.flags;
    c.packets++;
    let dir: Dir = srcIsLo === c.loIsClient ? Dir.ClientToServer : Dir.ServerToClient;
    const len = d.payloadLength;
    const missing = d.payloadMissing;
    if (c.sidesBy === 'guess' && c.handler === null && len > 0 && this.isServerHello !== null && this.isServerHello(d.data, d.payloadOffset, len)) {
      // Nothing was delivered yet: the sender of a server hello is the server.
      if (dir === Dir.ClientToServer) {
        c.loIsClient = !c.loIsClient;
        dir = Dir.ServerToClient;
      }
      c.sidesBy = 'hello';
      this.serverPorts.add(d.srcPort);
    }
    const half = c.halves[dir];
    const peer = c.halves[1 - dir]!;
    this.totals.segments++;
    half.stats.segments++;
    // Data on a SYN (TCP Fast Open) starts after it. (One const: a reassigned `let` holding a
    // sequence number ≥ 2^31 is boxed on the heap by V8 — an allocation per segment.)
    const seq = seqAdd(d.seq, flags & TcpFlag.Syn ? 1 : 0);
    if (flags & TcpFlag.Syn) {
      if ((flags & TcpFlag.Ack) === 0) c.synSeen = true;
      if (!half.started) {
        half.started = true;
        half.synSeen = true;
        half.isn = d.seq;
        half.nextSeq = seq;
        half.ackedTo = seq;
      }
    }
    // The highest acknowledgement of the peer's bytes: what reached the peer, seen or not.
    if (flags & TcpFlag.Ack && peer.started && seqDiff(d.ack, peer.ackedTo) > 0 && seqDiff(d.ack, peer.nextSeq) <= MAX_ACK_JUMP) peer.ackedTo = d.ack;
    const fin = (flags & TcpFlag.Fin) !== 0;
    if (fin && c.finBy === null) c.finBy = dir;
    if ((len + missing > 0 || fin) && !half.done) {
      if (!half.started) {
        half.started = true;
        half.nextSeq = seq;
        half.ackedTo = seq;
        this.gap(c, half, dir, -1, GapReason.MidStreamStart, sec, nsec);
      }
      // Causal order across directions: this segment was sent after the peer's bytes below its
      // acknowledgement arrived; if we have not delivered those yet, it waits for them.
      const ack = d.ack;
      const waits = (flags & TcpFlag.Ack) !== 0 && peer.started && !peer.done && seqDiff(ack, peer.nextSeq) > 0 && seqDiff(ack, peer.nextSeq) <= MAX_ACK_JUMP;
      if (!waits && seq === half.nextSeq && half.ooo.length === 0) {
        // The common case: in order, nothing waiting. Delivered as a view, no copy.
        this.deliver(c, half, dir, d.data, d.payloadOffset, len, missing, sec, nsec);
        if (fin) this.noteFin(half, seqAdd(seq, len + missing));
        if (peer.ooo.length > 0) this.pump(c);
      } else {
        this.enqueue(c, half, seq, d.data, d.payloadOffset, len, missing, fin, waits ? ack : -1, sec, nsec);
        this.pump(c);
      }
    } else if (len + missing > 0) {
      this.countBehind(half, seq); // the direction is done (FIN delivered): a retransmission, or late
    }
    if (flags & TcpFlag.Rst) {
      c.rstBy = dir;
      this.close(c, 'rst', sec, nsec);
      return;
    }
    // Both FINs in does not end the wait: a segment sent before a FIN may be captured after it
    // (neighbours swapped), and giving its hole up now would make its bytes late and the gap wrong.
    if (c.buffered > 0) this.unstick(c, sec, nsec);
    if (half.done && peer.done) this.close(c, 'fin', sec, nsec);
  }

  /** A segment that cannot be delivered now: trim what was delivered already, buffer the rest. */
  private enqueue(c: Conn, h: Half, seq: number, buf: Uint8Array, off: number, len: number, missing: number, fin: boolean, ack: number, sec: number, nsec: number): void {
    const total = len + missing;
    const rel = seqDiff(seq, h.nextSeq);
    if (rel + total <= 0 && !(fin && rel + total === 0)) {
      // Every byte was delivered (or given up) before: a retransmission, or a late arrival.
      if (total > 0) this.countBehind(h, seq);
      return;
    }
    if (rel < 0) {
      h.stats.overlapping++;
      this.totals.overlapping++;
      const skip = -rel;
      const fromData = Math.min(skip, len);
      off += fromData;
      len -= fromData;
      missing -= skip - fromData;
      seq = h.nextSeq;
    } else if (rel > 0) {
      h.stats.outOfOrder++;
      this.totals.outOfOrder++;
    }
    // Within the per-connection limit (both directions): otherwise give up waiting, oldest first,
    // to make room. Not for a segment at the next expected byte: it fills the hole (giving the hole
    // up would throw its own bytes away as late), or waits only for the peer's bytes it acknowledges.
    while (rel > 0 && c.halves[0].oooBytes + c.halves[1].oooBytes + len > this.maxPerConn && c.buffered > 0) {
      if (!c.bufferLimitHit) {
        c.bufferLimitHit = true;
        this.totals.bufferLimitHits++;
      }
      this.forceOldest(c, GapReason.BufferLimit, sec, nsec);
    }
    // A copy, also of a Node Buffer (whose slice is a view into a chunk the reader reuses).
    const s: Segment = { seq, data: Uint8Array.prototype.slice.call(buf, off, off + len), missing, fin, ack, arrival: c.packets, sec, nsec };
    const q = h.ooo === NO_SEGMENTS ? (h.ooo = []) : h.ooo;
    let i = q.length;
    while (i > 0 && seqDiff(q[i - 1]!.seq, seq) > 0) i--;
    q.splice(i, 0, s);
    h.oooBytes += len;
    c.buffered++;
    this.bufferedTotal += len;
    this.bufferedConns.add(c);
    if (this.bufferedTotal > this.maxTotal) this.shedBuffers(sec, nsec);
  }

  private countBehind(h: Half, seq: number): void {
    if (h.lostFrom !== h.lostTo && seqDiff(seq, h.lostFrom) >= 0 && seqDiff(seq, h.lostTo) < 0) {
      h.stats.late++;
      this.totals.late++;
    } else {
      h.stats.retransmitted++;
      this.totals.retransmitted++;
    }
  }

  /** Deliver every buffered segment that is in order and whose peer precondition holds. */
  private pump(c: Conn): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (let dir: Dir = 0; dir < 2; dir++) {
        const h = c.halves[dir];
        const p = c.halves[1 - dir]!;
        while (h.ooo.length > 0 && !h.done) {
          const s = h.ooo[0]!;
          if (seqDiff(s.seq, h.nextSeq) > 0) break; // a hole
          if (s.ack !== -1 && p.started && !p.done && seqDiff(s.ack, p.nextSeq) > 0) break; // waits for the peer
          this.release(c, h, dir, s);
          progress = true;
        }
      }
    }
    if (c.buffered === 0) this.bufferedConns.delete(c);
  }

  /** Take the first buffered segment of `h` and deliver what of it is new. */
  private release(c: Conn, h: Half, dir: Dir, s: Segment): void {
    h.ooo.shift();
    h.oooBytes -= s.data.length;
    this.bufferedTotal -= s.data.length;
    c.buffered--;
    const rel = seqDiff(s.seq, h.nextSeq);
    const total = s.data.length + s.missing;
    if (rel + total <= 0 && total > 0) {
      this.countBehind(h, s.seq); // a duplicate that waited in the buffer
    } else if (total > 0) {
      let off = 0;
      let missing = s.missing;
      if (rel < 0) {
        const skip = -rel;
        off = Math.min(skip, s.data.length);
        missing -= skip - off;
      }
      this.deliver(c, h, dir, s.data, off, s.data.length - off, missing, s.sec, s.nsec);
    }
    if (s.fin) this.noteFin(h, seqAdd(s.seq, total));
  }

  /** A FIN at `at`: the direction is done once every byte before it was delivered. */
  private noteFin(h: Half, at: number): void {
    if (!h.finSeen) {
      h.finSeen = true;
      h.finSeq = at;
    }
    if (!h.done && seqDiff(h.finSeq, h.nextSeq) <= 0) {
      h.done = true;
      h.nextSeq = seqAdd(h.finSeq, 1);
    }
  }

  /**
   * Give up waiting when the oldest buffered segment has waited for `reorderWindow` packets of its
   * connection: a hole that reordering would have filled by now was lost by the capture.
   */
  private unstick(c: Conn, sec: number, nsec: number): void {
    while (c.buffered > 0) {
      const oldest = this.oldest(c);
      if (c.packets - oldest.arrival < this.reorderWindow) return;
      this.forceOldest(c, GapReason.Unseen, sec, nsec);
    }
  }

  private oldest(c: Conn): Segment {
    let best: Segment | null = null;
    for (const h of c.halves) for (const s of h.ooo) if (best === null || s.arrival < best.arrival) best = s;
    return best!;
  }

  /**
   * Deliver the oldest buffered segment now: the holes before it (in its direction, and in the
   * peer's below its acknowledgement) become gaps; segments before it in its direction go first.
   */
  private forceOldest(c: Conn, reason: GapReason, sec: number, nsec: number): void {
    const s = this.oldest(c);
    const dir: Dir = c.halves[0].ooo.includes(s) ? Dir.ClientToServer : Dir.ServerToClient;
    const h = c.halves[dir];
    const p = c.halves[1 - dir]!;
    if (s.ack !== -1 && p.started && !p.done && seqDiff(s.ack, p.nextSeq) > 0) {
      // The peer's bytes this segment acknowledges: a true hole (no buffered data there) is lost.
      const next = p.ooo[0];
      const upTo = next !== undefined && seqDiff(next.seq, s.ack) < 0 ? next.seq : s.ack;
      this.gapTo(c, p, 1 - dir, upTo, reason, sec, nsec);
    }
    while (h.ooo.length > 0) {
      const first = h.ooo[0]!;
      if (seqDiff(first.seq, h.nextSeq) > 0) this.gapTo(c, h, dir, first.seq, reason, first.sec, first.nsec);
      this.release(c, h, dir, first);
      if (first === s) break;
    }
    this.pump(c);
  }

  /** Over the total cap: give up waiting in the connection holding the most. */
  private shedBuffers(sec: number, nsec: number): void {
    while (this.bufferedTotal > this.maxTotal) {
      let worst: Conn | null = null;
      let most = -1;
      for (const c of this.bufferedConns) {
        const n = c.halves[0].oooBytes + c.halves[1].oooBytes;
        if (n > most) {
          most = n;
          worst = c;
        }
      }
      if (worst === null) return;
      if (!worst.bufferLimitHit) {
        worst.bufferLimitHit = true;
        this.totals.bufferLimitHits++;
      }
      while (worst.buffered > 0) this.forceOldest(worst, GapReason.BufferLimit, sec, nsec);
    }
  }

  private gapTo(c: Conn, h: Half, dir: Dir, seq: number, reason: GapReason, sec: number, nsec: number): void {
    const n = seqDiff(seq, h.nextSeq);
    if (n <= 0) return;
    h.lostFrom = h.nextSeq;
    h.lostTo = seq;
    this.gap(c, h, dir, n, reason, sec, nsec);
    h.nextSeq = seq;
  }

  private deliver(c: Conn, h: Half, dir: Dir, buf: Uint8Array, off: number, len: number, missing: number, sec: number, nsec: number): void {
    if (len > 0) {
      h.stats.bytes += len;
      this.totals.payloadBytes += len;
      h.nextSeq = seqAdd(h.nextSeq, len);
      (c.handler ?? this.handlerFor(c)).onData(dir, buf, off, len, sec, nsec);
    }
    if (missing > 0) this.gapTo(c, h, dir, seqAdd(h.nextSeq, missing), GapReason.SnapLength, sec, nsec);
  }

  private gap(c: Conn, h: Half, dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void {
    if (bytes > 0) {
      h.stats.gaps++;
      h.stats.bytesLost += bytes;
      this.totals.gaps++;
      this.totals.bytesLost += bytes;
      if (reason === GapReason.SnapLength) this.totals.bytesCutBySnaplen += bytes;
    }
    (c.handler ?? this.handlerFor(c)).onGap(dir, bytes, reason, sec, nsec);
  }

  private handlerFor(c: Conn): StreamHandler {
    if (c.sidesBy === 'guess') this.totals.sidesGuessed++;
    const client = c.loIsClient;
    const info: ConnectionInfo = {
      id: c.id,
      client: endpointText(c, client),
      server: endpointText(c, !client),
      clientPort: client ? c.loPort : c.hiPort,
      serverPort: client ? c.hiPort : c.loPort,
      synSeen: c.synSeen,
      sidesBy: c.sidesBy,
      firstSec: c.firstSec,
      firstNsec: c.firstNsec,
      stats: [c.halves[0].stats, c.halves[1].stats],
    };
    c.handler = this.factory(info);
    return c.handler;
  }

  private close(c: Conn, reason: CloseReason, sec: number, nsec: number): void {
    if (c.closed) return;
    const gapReason = reason === 'capture-end' ? GapReason.CaptureEnd : GapReason.ConnectionEnd;
    this.giveUp(c, gapReason, sec, nsec);
    this.bufferedConns.delete(c);
    for (let dir: Dir = 0; dir < 2; dir++) {
      const h = c.halves[dir];
      // A FIN seen after a hole: the bytes before it are lost.
      if (h.finSeen && !h.done) {
        this.gapTo(c, h, dir, h.finSeq, gapReason, sec, nsec);
        h.done = true;
      }
    }
    c.closed = true;
    const t = this.totals;
    if (reason === 'fin') t.closedByFin++;
    else if (reason === 'rst') t.closedByRst++;
    else if (reason === 'idle-timeout') t.closedByIdleTimeout++;
    if (!c.synSeen) t.midStream++;
    if (reason === 'fin' || reason === 'rst') {
      if (c.synSeen) t.complete++;
    } else {
      t.unfinished++;
    }
    (c.handler ?? this.handlerFor(c)).onClose(reason, sec, nsec, reason === 'rst' ? c.rstBy : c.finBy);
    // Nothing more goes to it (packets after the close are only counted): let it go.
    c.handler = CLOSED;
  }

  private touch(c: Conn): void {
    // Unlink (if linked), then append at the tail.
    if (c.lruPrev !== null) c.lruPrev.lruNext = c.lruNext;
    else if (this.lruHead === c) this.lruHead = c.lruNext;
    if (c.lruNext !== null) c.lruNext.lruPrev = c.lruPrev;
    c.lruPrev = this.lruTail;
    c.lruNext = null;
    if (this.lruTail !== null) this.lruTail.lruNext = c;
    this.lruTail = c;
    if (this.lruHead === null) this.lruHead = c;
  }

  private remove(c: Conn): void {
    // From the LRU list.
    if (c.lruPrev !== null) c.lruPrev.lruNext = c.lruNext;
    else if (this.lruHead === c) this.lruHead = c.lruNext;
    if (c.lruNext !== null) c.lruNext.lruPrev = c.lruPrev;
    else if (this.lruTail === c) this.lruTail = c.lruPrev;
    c.lruPrev = c.lruNext = null;
    // From its hash chain.
    const head = this.table.get(c.hash);
    if (head === c) {
      if (c.chain === null) this.table.delete(c.hash);
      else this.table.set(c.hash, c.chain);
    } else {
      for (let p = head ?? null; p !== null; p = p.chain) {
        if (p.chain === c) {
          p.chain = c.chain;
          break;
        }
      }
    }
    c.chain = null;
    if (this.last === c) this.last = null;
    this.count--;
  }

  /**
   * Connections that went quiet with data waiting: no packet of theirs for a second of capture
   * time will bring the missing bytes. Give up their holes now rather than at their next packet,
   * and close those whose FINs were both in.
   */
  private stalled(sec: number, nsec: number): void {
    for (const c of [...this.bufferedConns]) {
      if (sec - c.lastSec < 2) continue; // whole seconds: at least one second has passed
      this.giveUp(c, GapReason.Unseen, sec, nsec);
      this.bufferedConns.delete(c);
      if (c.halves[0].done && c.halves[1].done) this.close(c, 'fin', sec, nsec);
    }
  }

  /** Close connections idle for longer than the timeout (capture time), oldest first. */
  private expire(sec: number): void {
    const limit = sec - this.idleSec;
    while (this.lruHead !== null && this.lruHead.lastSec < limit) {
      const c = this.lruHead;
      if (!c.closed) this.close(c, 'idle-timeout', sec, 0);
      this.remove(c);
    }
  }
}

/** An acknowledgement further ahead than this is not believed (a bogus or unrelated ACK). */
const MAX_ACK_JUMP = 1 << 30;


/** A 30-bit hash of a canonical 4-tuple (small integer: fast Map key). */
function hash(a0: number, a1: number, a2: number, a3: number, ap: number, b0: number, b1: number, b2: number, b3: number, bp: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ a0, 0x01000193);
  h = Math.imul(h ^ b0, 0x01000193);
  h = Math.imul(h ^ ((ap << 16) | bp), 0x01000193);
  if ((a1 | a2 | a3 | b1 | b2 | b3) !== 0) {
    h = Math.imul(h ^ a1, 0x01000193);
    h = Math.imul(h ^ a2, 0x01000193);
    h = Math.imul(h ^ a3, 0x01000193);
    h = Math.imul(h ^ b1, 0x01000193);
    h = Math.imul(h ^ b2, 0x01000193);
    h = Math.imul(h ^ b3, 0x01000193);
  }
  h ^= h >>> 15;
  return h & 0x3fffffff;
}

function endpointText(c: Conn, lo: boolean): string {
  const port = lo ? c.loPort : c.hiPort;
  const w = lo ? [c.lo0, c.lo1, c.lo2, c.lo3] : [c.hi0, c.hi1, c.hi2, c.hi3];
  if (!c.v6) return `${w[0]! >>> 24}.${(w[0]! >>> 16) & 255}.${(w[0]! >>> 8) & 255}.${w[0]! & 255}:${port}`;
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    bytes[i * 4] = w[i]! >>> 24;
    bytes[i * 4 + 1] = (w[i]! >>> 16) & 255;
    bytes[i * 4 + 2] = (w[i]! >>> 8) & 255;
    bytes[i * 4 + 3] = w[i]! & 255;
  }
  return `[${formatIpv6(bytes, 0)}]:${port}`;
}

/**
 * Damage a real capture the way networks and capture hosts do, deterministically, and say exactly
 * what was done — so the TCP reassembly of the damaged capture can be checked against the
 * reassembly of the original (the "truth"):
 *
 *   - cut the first N packets (every connection whose SYN was cut starts mid-stream);
 *   - drop a fraction of the TCP packets that carry payload (the capture lost them);
 *   - duplicate a fraction of the TCP packets (retransmissions; pure ACKs included, they carry no
 *     payload and are no retransmission of data);
 *   - swap neighbouring packets (reordering); the timestamps stay in place, as a capture shows
 *     packets in the order it saw them.
 *
 * Applied in that order, with a seeded PRNG: the same seed and capture give the same mutation.
 *
 * Also here: the recording reassembly (`reassemble`) that concatenates what `TcpReassembler`
 * delivers per connection and direction, and `expectations`, which derives from a mutation what
 * the reassembly of the mutated capture must report. Both test files (`test/tcp/mutations.test.ts`
 * over the checked-in captures, `test/live/reassembly.test.ts` over a fresh tcpdump recording)
 * use them.
 */
import { prng } from '../builders/prng.js';

import { writeFile } from 'node:fs/promises';
import { readCaptures } from '../../analyze/read/captures.js';
import { PacketDecoder, TcpFlag, formatEndpoint } from '../../src/net/decode.js';
import { sniffGreeting } from '../../src/mysql/greeting.js';
import { seqDiff } from '../../src/tcp/seq.js';
import { TcpReassembler, type ReassemblyTotals } from '../../src/tcp/reassembler.js';
import { Dir, GapReason, type CloseReason, type ConnectionInfo } from '../../src/tcp/stream.js';

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Packets
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** What the mutation and the expectations need to know of a TCP packet. */
export interface TcpFacts {
  /** `ip:port` of the sender and the receiver (as the reassembler writes endpoints). */
  src: string;
  dst: string;
  /** The two endpoints, sorted: one key per connection whatever the direction. */
  conn: string;
  seq: number;
  ack: number;
  flags: number;
  /** Payload bytes (captured; the captures here are taken with -s 0). */
  payload: number;
}

/** One packet of a capture. */
export interface Pkt {
  /** Position in the original capture (0-based); a duplicate has its original's index. */
  index: number;
  /** A copy added by the mutation (the original precedes it). */
  copy: boolean;
  sec: number;
  nsec: number;
  frame: Uint8Array;
  origLen: number;
  tcp: TcpFacts | null;
}

export interface Capture {
  linkType: number;
  packets: Pkt[];
}

/** Read a capture (any format Periscope reads) into memory, packet by packet, with TCP facts. */
export async function readCapture(file: string): Promise<Capture> {
  const packets: Pkt[] = [];
  const linkTypes = new Set<number>();
  const d = new PacketDecoder();
  await readCaptures([file], (rec) => {
    linkTypes.add(rec.linkType);
    // A copy: the reader's chunk buffers are reused (and Buffer#slice would be a view).
    const frame = new Uint8Array(rec.data.subarray(rec.offset, rec.offset + rec.caplen));
    const p: Pkt = { index: packets.length, copy: false, sec: rec.tsSec, nsec: rec.tsNsec, frame, origLen: rec.origLen, tcp: null };
    if (d.decode(rec)) {
      const src = formatEndpoint(d, true);
      const dst = formatEndpoint(d, false);
      p.tcp = { src, dst, conn: src < dst ? `${src} ${dst}` : `${dst} ${src}`, seq: d.seq, ack: d.ack, flags: d.flags, payload: d.payloadLength + d.payloadMissing };
    }
    packets.push(p);
  });
  if (linkTypes.size > 1) throw new Error(`${file}: several link types (${[...linkTypes].join(', ')}); the mutation writes one`);
  return { linkType: [...linkTypes][0] ?? 1, packets };
}

/** Write packets as a classic pcap (little-endian, nanosecond timestamps), at the given times. */
export async function writePcap(file: string, linkType: number, packets: readonly { pkt: Pkt; sec: number; nsec: number }[]): Promise<void> {
  let size = 24;
  for (const { pkt } of packets) size += 16 + pkt.frame.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b23c4d, true); // nanosecond magic
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, linkType, true);
  let p = 24;
  for (const { pkt, sec, nsec } of packets) {
    v.setUint32(p, sec, true);
    v.setUint32(p + 4, nsec, true);
    v.setUint32(p + 8, pkt.frame.length, true);
    v.setUint32(p + 12, pkt.origLen, true);
    out.set(pkt.frame, p + 16);
    p += 16 + pkt.frame.length;
  }
  await writeFile(file, out);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Mutation
// ──────────────────────────────────────────────────────────────────────────────────────────────

export interface MutationOptions {
  seed: number;
  /** Remove the first N packets of the capture. */
  cut?: number;
  /** Fraction of the payload-carrying TCP packets to drop (at least one when > 0). */
  drop?: number;
  /** Fraction of the TCP packets to duplicate (at least one when > 0); the copy follows its original. */
  duplicate?: number;
  /** Probability that a packet changes place with the next one (pairs never overlap; at least one swap when > 0). */
  swap?: number;
  /** Instead of picking at random: original indices of the packets to drop, to duplicate. */
  dropIndices?: readonly number[];
  duplicateIndices?: readonly number[];
  /** Instead of picking at random: output positions i (after cut, drop and duplication) to swap with i + 1. */
  swapAt?: readonly number[];
}

export interface OutPacket {
  pkt: Pkt;
  /** Timestamp written: the slot's, not the packet's own (a swap keeps the timeline in order). */
  sec: number;
  nsec: number;
}

/** What a mutation did. */
export interface Mutation {
  options: MutationOptions;
  linkType: number;
  original: readonly Pkt[];
  output: readonly OutPacket[];
  cut: readonly Pkt[];
  /** Dropped packets, each with its payload length in `tcp.payload`. */
  dropped: readonly Pkt[];
  /** The packets that were duplicated (originals). */
  duplicated: readonly Pkt[];
  /** Swapped neighbours, in their new order: `[0]` now arrives just before `[1]`. */
  swapped: readonly (readonly [Pkt, Pkt])[];
  droppedPayloadBytes: number;
  /** One line: what was done. */
  summary: string;
}

/** Pick `k` distinct elements, deterministically (partial Fisher-Yates), returned in input order. */
function pick<T>(items: readonly T[], k: number, rnd: () => number): Set<T> {
  const a = [...items];
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rnd() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return new Set(a.slice(0, n));
}

const howMany = (fraction: number | undefined, of: number): number => (fraction === undefined || fraction <= 0 || of === 0 ? 0 : Math.min(of, Math.max(1, Math.round(fraction * of))));

export function mutate(capture: Capture, options: MutationOptions): Mutation {
  const rnd = prng(options.seed);
  const original = capture.packets;
  const n = Math.min(options.cut ?? 0, original.length);
  const cut = original.slice(0, n);
  let list = original.slice(n);
  // Drop: payload-carrying TCP packets only.
  const carrying = list.filter((p) => p.tcp !== null && p.tcp.payload > 0);
  const dropSet = options.dropIndices ? new Set(list.filter((p) => options.dropIndices!.includes(p.index))) : pick(carrying, howMany(options.drop, carrying.length), rnd);
  const dropped = list.filter((p) => dropSet.has(p));
  list = list.filter((p) => !dropSet.has(p));
  // Duplicate: any TCP packet; the copy follows its original at once.
  const tcp = list.filter((p) => p.tcp !== null);
  const dupSet = options.duplicateIndices ? new Set(list.filter((p) => options.duplicateIndices!.includes(p.index))) : pick(tcp, howMany(options.duplicate, tcp.length), rnd);
  const duplicated = list.filter((p) => dupSet.has(p));
  const withCopies: Pkt[] = [];
  for (const p of list) {
    withCopies.push(p);
    if (dupSet.has(p)) withCopies.push({ ...p, copy: true });
  }
  // Times: each slot keeps its time; a copy shares its original's.
  const output: OutPacket[] = withCopies.map((pkt) => ({ pkt, sec: pkt.sec, nsec: pkt.nsec }));
  // Swap neighbours: disjoint pairs (i, i+1).
  const swapped: [Pkt, Pkt][] = [];
  const swapP = options.swap ?? 0;
  if (options.swapAt !== undefined || (swapP > 0 && output.length > 1)) {
    const at: number[] = options.swapAt ? options.swapAt.filter((i) => i + 1 < output.length) : [];
    for (let i = 0; options.swapAt === undefined && i + 1 < output.length; i++) {
      if (rnd() < swapP) {
        at.push(i);
        i++; // pairs never overlap
      }
    }
    if (at.length === 0 && options.swapAt === undefined) at.push(Math.floor(rnd() * (output.length - 1)));
    for (const i of at) {
      const a = output[i]!;
      const b = output[i + 1]!;
      [a.pkt, b.pkt] = [b.pkt, a.pkt];
      swapped.push([a.pkt, b.pkt]);
    }
  }
  const droppedPayloadBytes = dropped.reduce((s, p) => s + p.tcp!.payload, 0);
  const parts = [`seed ${options.seed}`];
  if (n > 0) parts.push(`cut the first ${n} packets`);
  if (dropped.length > 0) parts.push(`dropped ${dropped.length} packets (#${dropped.map((p) => p.index).join(', #')}; ${droppedPayloadBytes} payload bytes)`);
  if (duplicated.length > 0) parts.push(`duplicated ${duplicated.length} packets (#${duplicated.map((p) => p.index).join(', #')})`);
  if (swapped.length > 0) parts.push(`swapped ${swapped.length} pairs (${swapped.map(([a, b]) => `#${b.index}↔#${a.index}`).join(', ')})`);
  return {
    options,
    linkType: capture.linkType,
    original,
    output,
    cut,
    dropped,
    duplicated,
    swapped,
    droppedPayloadBytes,
    summary: `${parts.join('; ')}: ${original.length} packets in, ${output.length} out`,
  };
}

/** Read `input`, mutate it, write the result to `output`. */
export async function mutateFile(input: string, output: string, options: MutationOptions): Promise<Mutation> {
  const m = mutate(await readCapture(input), options);
  await writePcap(output, m.linkType, m.output);
  return m;
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Recording reassembly
// ──────────────────────────────────────────────────────────────────────────────────────────────

export type StreamEvent = { kind: 'data'; bytes: Uint8Array } | { kind: 'gap'; bytes: number; reason: GapReason };

export interface DirRecord {
  events: StreamEvent[];
  /** Every delivered byte, concatenated. */
  data: Uint8Array;
}

export interface ConnRecord {
  /** `client server`. */
  key: string;
  /** The two endpoints sorted, as `TcpFacts.conn`. */
  conn: string;
  info: ConnectionInfo;
  dirs: [DirRecord, DirRecord];
  closedBy: CloseReason | null;
}

export interface Reassembly {
  conns: Map<string, ConnRecord>;
  totals: ReassemblyTotals;
}

/**
 * Reassemble a capture with `TcpReassembler`, as `periscope info` configures it (server port
 * 3306, MySQL greeting sniffing), recording everything each connection's handler is told.
 */
export async function reassemble(file: string | readonly string[], ports: readonly number[] = [3306]): Promise<Reassembly> {
  const conns = new Map<string, ConnRecord>();
  const chunks = new Map<ConnRecord, [Uint8Array[], Uint8Array[]]>();
  const r = new TcpReassembler(
    (info) => {
      const key = `${info.client} ${info.server}`;
      if (conns.has(key)) throw new Error(`two connections ${key} in one capture: the tests need distinct 4-tuples`);
      const rec: ConnRecord = { key, conn: info.client < info.server ? key : `${info.server} ${info.client}`, info, dirs: [{ events: [], data: new Uint8Array(0) }, { events: [], data: new Uint8Array(0) }], closedBy: null };
      conns.set(key, rec);
      const parts: [Uint8Array[], Uint8Array[]] = [[], []];
      chunks.set(rec, parts);
      return {
        onData: (dir, buf, off, len) => {
          const bytes = new Uint8Array(buf.subarray(off, off + len)); // a copy: `buf` is only valid during the call
          rec.dirs[dir].events.push({ kind: 'data', bytes });
          parts[dir].push(bytes);
        },
        onGap: (dir, bytes, reason) => {
          rec.dirs[dir].events.push({ kind: 'gap', bytes, reason });
        },
        onClose: (reason) => {
          rec.closedBy = reason;
        },
      };
    },
    { serverPorts: ports, isServerHello: (b, o, l) => sniffGreeting(b, o, l) !== null },
  );
  const d = new PacketDecoder();
  let lastSec = 0;
  let lastNsec = 0;
  await readCaptures(typeof file === 'string' ? [file] : file, (rec) => {
    lastSec = rec.tsSec;
    lastNsec = rec.tsNsec;
    if (d.decode(rec)) r.add(d, rec.tsSec, rec.tsNsec);
  });
  r.finish(lastSec, lastNsec);
  for (const [rec, parts] of chunks) {
    rec.dirs[0].data = Buffer.concat(parts[0]);
    rec.dirs[1].data = Buffer.concat(parts[1]);
  }
  return { conns, totals: { ...r.totals } };
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// The truth, and what a mutation must do to it
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** One direction of a connection of the unmutated capture, laid out by stream offset. */
export interface TruthDir {
  /** Stream bytes; where `known` is 0, the original capture lacked them (a gap). */
  bytes: Uint8Array;
  known: Uint8Array;
  /** Sequence number of stream offset 0 (the SYN's + 1). */
  base: number;
  /** The holes of the original capture: [offset, length]. */
  holes: [number, number][];
}

export interface TruthConn {
  rec: ConnRecord;
  client: string;
  server: string;
  dirs: [TruthDir, TruthDir];
}

/** The truth: the unmutated capture, reassembled; every connection must be seen from its SYN. */
export function truthOf(capture: Capture, whole: Reassembly): Map<string, TruthConn> {
  const out = new Map<string, TruthConn>();
  for (const rec of whole.conns.values()) {
    const dirs = ([Dir.ClientToServer, Dir.ServerToClient] as const).map((dir): TruthDir => {
      const sender = dir === Dir.ClientToServer ? rec.info.client : rec.info.server;
      const syn = capture.packets.find((p) => p.tcp !== null && p.tcp.conn === rec.conn && p.tcp.src === sender && (p.tcp.flags & TcpFlag.Syn) !== 0);
      if (syn === undefined) throw new Error(`${rec.key}: the original capture lacks the SYN of ${sender}: it cannot serve as the truth`);
      const ev = rec.dirs[dir].events;
      let len = 0;
      for (const e of ev) {
        if (e.kind === 'data') len += e.bytes.length;
        else if (e.bytes < 0) throw new Error(`${rec.key}: the truth starts mid-stream`);
        else len += e.bytes;
      }
      const bytes = new Uint8Array(len);
      const known = new Uint8Array(len);
      const holes: [number, number][] = [];
      let at = 0;
      for (const e of ev) {
        if (e.kind === 'data') {
          bytes.set(e.bytes, at);
          known.fill(1, at, at + e.bytes.length);
          at += e.bytes.length;
        } else {
          holes.push([at, e.bytes]);
          at += e.bytes;
        }
      }
      return { bytes, known, base: (syn.tcp!.seq + 1) >>> 0, holes };
    }) as [TruthDir, TruthDir];
    out.set(rec.conn, { rec, client: rec.info.client, server: rec.info.server, dirs });
  }
  return out;
}

/** What the reassembly of the mutated capture must show for one direction. */
export interface DirExpectation {
  /** Stream offset of the first byte the direction can deliver; null: the direction never starts. */
  start: number | null;
  /** It starts with a gap of unknown size (-1): its SYN was not seen first. */
  midStream: boolean;
  /** Bytes reported lost: the original's holes and the dropped payloads after `start`. */
  bytesLost: number;
  /** Dropped payload bytes after `start`. */
  droppedBytes: number;
  /** Dropped payload-carrying segments after `start`. */
  droppedSegments: number;
  /** Holes after `start` (dropped segments and the original's holes; neighbours merge into one). */
  lostRuns: number;
  /** Second arrivals of payload-carrying packets (copies; after `start`). */
  copies: number;
  /** Payload-carrying packets that arrive after `start` was set but whose bytes all lie before it. */
  behindStart: number;
  /** Swapped pairs that put a segment of this direction ahead of an earlier one carrying payload. */
  reversed: number;
}

export interface ConnExpectation {
  truth: TruthConn;
  /** Some packet of the connection survived the mutation. */
  present: boolean;
  /** The client's SYN did not survive. */
  midStream: boolean;
  dirs: [DirExpectation, DirExpectation];
}

const carries = (t: TcpFacts): boolean => t.payload > 0 || (t.flags & TcpFlag.Fin) !== 0;

export function expectations(m: Mutation, truth: Map<string, TruthConn>): Map<string, ConnExpectation> {
  const out = new Map<string, ConnExpectation>();
  for (const [conn, t] of truth) {
    const pkts = m.output.map((o) => o.pkt).filter((p) => p.tcp?.conn === conn);
    const clientSyn = pkts.some((p) => p.tcp!.src === t.client && (p.tcp!.flags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn);
    const dirs = ([Dir.ClientToServer, Dir.ServerToClient] as const).map((dir): DirExpectation => {
      const sender = dir === Dir.ClientToServer ? t.client : t.server;
      const td = t.dirs[dir];
      const off = (p: Pkt): number => seqDiff(p.tcp!.seq, td.base);
      const mine = pkts.filter((p) => p.tcp!.src === sender);
      // The direction starts at the first of its packets that is a SYN or carries payload or a FIN.
      const first = mine.findIndex((p) => (p.tcp!.flags & TcpFlag.Syn) !== 0 || carries(p.tcp!));
      const e: DirExpectation = { start: null, midStream: false, bytesLost: 0, droppedBytes: 0, droppedSegments: 0, lostRuns: 0, copies: 0, behindStart: 0, reversed: 0 };
      if (first < 0) return e;
      const opener = mine[first]!;
      const start = (opener.tcp!.flags & TcpFlag.Syn) !== 0 ? 0 : off(opener);
      e.start = start;
      e.midStream = (opener.tcp!.flags & TcpFlag.Syn) === 0;
      const drops = m.dropped.filter((p) => p.tcp!.conn === conn && p.tcp!.src === sender && off(p) >= start).sort((a, b) => off(a) - off(b));
      e.droppedSegments = drops.length;
      e.droppedBytes = drops.reduce((s, p) => s + p.tcp!.payload, 0);
      // Runs: dropped segments and the original's holes, merged where they touch.
      const ranges = [...drops.map((p): [number, number] => [off(p), off(p) + p.tcp!.payload]), ...td.holes.filter(([o]) => o >= start).map(([o, n]): [number, number] => [o, o + n])].sort((a, b) => a[0] - b[0]);
      let runEnd = -1;
      for (const [from, to] of ranges) {
        if (from !== runEnd) e.lostRuns++;
        runEnd = to;
      }
      e.bytesLost = e.droppedBytes + td.holes.filter(([o]) => o >= start).reduce((s, [, n]) => s + n, 0);
      // Second arrivals of a packet (a copy, or the original when a swap put its copy first).
      const seen = new Set([opener.index]);
      for (let i = first + 1; i < mine.length; i++) {
        const p = mine[i]!;
        const again = seen.has(p.index);
        seen.add(p.index);
        if (p.tcp!.payload === 0) continue;
        if (again && off(p) >= start) e.copies++;
        else if (off(p) + p.tcp!.payload <= start) e.behindStart++;
      }
      for (const [a, b] of m.swapped) {
        if (a.tcp?.conn === conn && b.tcp?.conn === conn && a.tcp.src === sender && b.tcp.src === sender && carries(a.tcp) && b.tcp.payload > 0 && seqDiff(a.tcp.seq, b.tcp.seq) > 0) e.reversed++;
      }
      return e;
    }) as [DirExpectation, DirExpectation];
    out.set(conn, { truth: t, present: pkts.length > 0, midStream: !clientSyn, dirs });
  }
  return out;
}

/**
 * Walk what was delivered for one direction against the truth: every delivered byte must be the
 * truth's byte at the offset the gaps imply, starting at `e.start`; the stream must end at the
 * truth's end (every byte delivered or reported lost). Returns a problem, or null.
 */
export function checkDirection(td: TruthDir, got: DirRecord | undefined, e: DirExpectation): string | null {
  const events = got?.events ?? [];
  if (e.start === null) return events.some((x) => x.kind === 'data') ? 'data delivered for a direction that never started' : null;
  let i = 0;
  if (e.midStream) {
    const g = events[0];
    if (g === undefined || g.kind !== 'gap' || g.bytes !== -1) return 'a mid-stream direction must open with a gap of unknown size';
    i = 1;
  }
  let at = e.start;
  let lost = 0;
  for (; i < events.length; i++) {
    const x = events[i]!;
    if (x.kind === 'gap') {
      if (x.bytes < 0) return `gap of unknown size at offset ${at}, not at the start`;
      at += x.bytes;
      lost += x.bytes;
      continue;
    }
    const end = at + x.bytes.length;
    if (end > td.bytes.length) return `data delivered past the end of the stream (${end} > ${td.bytes.length})`;
    for (let k = 0; k < x.bytes.length; k++) {
      if (td.known[at + k] === 0) return `byte at offset ${at + k} delivered where the original capture has none`;
      if (td.bytes[at + k] !== x.bytes[k]) return `wrong byte at offset ${at + k}: ${x.bytes[k]} instead of ${td.bytes[at + k]}`;
    }
    at = end;
  }
  if (at !== td.bytes.length) return `the stream ends at offset ${at}, the truth at ${td.bytes.length}: bytes neither delivered nor reported lost`;
  if (lost !== e.bytesLost) return `${lost} bytes reported lost, expected ${e.bytesLost}`;
  return null;
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Verification
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Which mutation was applied alone ('all': every one at once). */
export type MutationKind = 'duplicate' | 'swap' | 'drop' | 'cut' | 'all';

/** Per direction counters as `periscope info --json` shows them. */
export interface HalfCounters {
  bytes_lost: number;
  gaps: number;
  retransmitted: number;
  out_of_order: number;
  late: number;
}

/** The TCP totals a mutation implies (fields left out: not exactly predictable for this kind). */
export type ExpectedTotals = Partial<Pick<TcpTotalsJson, 'connections' | 'connections_mid_stream' | 'bytes_lost' | 'gaps' | 'retransmitted_segments' | 'out_of_order_segments' | 'late_segments' | 'overlapping_segments'>>;

export interface TcpTotalsJson {
  connections: number;
  connections_mid_stream: number;
  payload_bytes_delivered: number;
  retransmitted_segments: number;
  overlapping_segments: number;
  out_of_order_segments: number;
  gaps: number;
  bytes_lost: number;
  late_segments: number;
}

/** `ReassemblyTotals` under the names `periscope info --json` uses. */
export function totalsJson(t: ReassemblyTotals): TcpTotalsJson {
  return {
    connections: t.connections,
    connections_mid_stream: t.midStream,
    payload_bytes_delivered: t.payloadBytes,
    retransmitted_segments: t.retransmitted,
    overlapping_segments: t.overlapping,
    out_of_order_segments: t.outOfOrder,
    gaps: t.gaps,
    bytes_lost: t.bytesLost,
    late_segments: t.late,
  };
}

/** Per connection and direction: what the mutation implies, as info's counters (exact fields only). */
export function expectedHalf(kind: MutationKind, truth: TruthConn, dir: Dir, e: DirExpectation): Partial<HalfCounters> {
  const s = truth.rec.info.stats[dir];
  // Out-of-order counts are predictable where the original has no hole (in either direction: a
  // segment waiting for the peer's missing bytes makes the next ones of its direction out of order).
  const clean = truth.dirs[0].holes.length === 0 && truth.dirs[1].holes.length === 0;
  // Exact whatever the mutation: the lost bytes, nothing late, and one retransmission per second
  // arrival of a payload packet or packet behind a mid-stream start.
  const out: Partial<HalfCounters> = { bytes_lost: e.bytesLost, late: s.late, retransmitted: s.retransmitted + e.copies + e.behindStart };
  switch (kind) {
    case 'duplicate':
      out.gaps = s.gaps;
      if (clean) out.out_of_order = s.outOfOrder;
      break;
    case 'swap':
      out.gaps = s.gaps;
      if (clean) out.out_of_order = s.outOfOrder + e.reversed;
      break;
    case 'drop':
    case 'cut':
    case 'all':
      if (e.lostRuns === 0) out.gaps = 0;
      break;
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
  return out;
}

export interface Verdict {
  /** Problems found (empty: the reassembly of the mutated capture is right). */
  problems: string[];
  expectations: Map<string, ConnExpectation>;
  /** Exact totals the mutation implies. */
  totals: ExpectedTotals;
}

const halfOf = (s: ConnectionInfo['stats'][number]): HalfCounters => ({ bytes_lost: s.bytesLost, gaps: s.gaps, retransmitted: s.retransmitted, out_of_order: s.outOfOrder, late: s.late });

/** Sum a per-direction field over the expected halves, or undefined when any half leaves it out. */
function sumField(halves: Partial<HalfCounters>[], f: keyof HalfCounters): number | undefined {
  let n = 0;
  for (const h of halves) {
    const v = h[f];
    if (v === undefined) return undefined;
    n += v;
  }
  return n;
}

/**
 * Check the reassembly of a mutated capture against the truth and the mutation: streams (every
 * delivered byte at its right offset, nothing unaccounted for), connections present and
 * mid-stream, and per direction the counters the mutation implies.
 */
export function verify(kind: MutationKind, m: Mutation, truth: Map<string, TruthConn>, got: Reassembly): Verdict {
  const problems: string[] = [];
  const exps = expectations(m, truth);
  const byConn = new Map([...got.conns.values()].map((c) => [c.conn, c]));
  const halves: Partial<HalfCounters>[] = [];
  let present = 0;
  let mid = 0;
  for (const [conn, e] of exps) {
    const g = byConn.get(conn);
    if (!e.present) {
      if (g !== undefined) problems.push(`${conn}: every packet was cut, yet the connection was reported`);
      continue;
    }
    present++;
    if (e.midStream) mid++;
    const name = `${e.truth.client} → ${e.truth.server}`;
    if (g === undefined) {
      problems.push(`${name}: not reported`);
      continue;
    }
    if (g.key !== e.truth.rec.key) problems.push(`${name}: sides decided as ${g.key}`);
    if (g.info.synSeen === e.midStream) problems.push(`${name}: syn_seen is ${g.info.synSeen}, the client's SYN ${e.midStream ? 'was cut' : 'survived'}`);
    for (const dir of [Dir.ClientToServer, Dir.ServerToClient] as const) {
      const dn = `${name} ${dir === Dir.ClientToServer ? 'client→server' : 'server→client'}`;
      const de = e.dirs[dir];
      const p = checkDirection(e.truth.dirs[dir], g.dirs[dir], de);
      if (p !== null) problems.push(`${dn}: ${p}`);
      const want = expectedHalf(kind, e.truth, dir, de);
      halves.push(want);
      const have = halfOf(g.info.stats[dir]);
      for (const [k, v] of Object.entries(want) as [keyof HalfCounters, number][]) {
        if (have[k] !== v) problems.push(`${dn}: ${k} is ${have[k]}, expected ${v}`);
      }
      // A hole is reported as one gap, or as several when the peer's acknowledgements split it
      // (the bytes a peer acknowledged are given up first): between the runs of missing bytes and
      // the missing segments.
      const holes = e.truth.dirs[dir].holes.filter(([o]) => o >= (de.start ?? 0)).length;
      if (have.gaps < de.lostRuns || have.gaps > de.droppedSegments + holes) problems.push(`${dn}: ${have.gaps} gaps for ${de.lostRuns} runs of ${de.droppedSegments + holes} missing segments`);
    }
  }
  for (const c of got.conns.values()) if (!exps.has(c.conn)) problems.push(`${c.key}: a connection the original does not have`);
  const totals: ExpectedTotals = { connections: present, connections_mid_stream: mid };
  const bl = sumField(halves, 'bytes_lost');
  if (bl !== undefined) totals.bytes_lost = bl;
  const gaps = sumField(halves, 'gaps');
  if (gaps !== undefined) totals.gaps = gaps;
  const re = sumField(halves, 'retransmitted');
  if (re !== undefined) totals.retransmitted_segments = re;
  const ooo = sumField(halves, 'out_of_order');
  if (ooo !== undefined) totals.out_of_order_segments = ooo;
  const late = sumField(halves, 'late');
  if (late !== undefined) totals.late_segments = late;
  const actual = totalsJson(got.totals);
  for (const [k, v] of Object.entries(totals) as [keyof ExpectedTotals, number][]) {
    if (actual[k] !== v) problems.push(`totals: ${k} is ${actual[k]}, expected ${v}`);
  }
  return { problems, expectations: exps, totals };
}

/** Compare `periscope info --json`'s TCP view with the reassembly and the mutation's exact totals. */
export function verifyInfo(
  report: { tcp: TcpTotalsJson; connections: { client: string; server: string; client_to_server: HalfCounters; server_to_client: HalfCounters }[] },
  got: Reassembly,
  v: Verdict,
): string[] {
  const problems: string[] = [];
  const actual = totalsJson(got.totals);
  for (const k of Object.keys(actual) as (keyof TcpTotalsJson)[]) {
    if (report.tcp[k] !== actual[k]) problems.push(`info tcp.${k} is ${report.tcp[k]}, the reassembly's ${actual[k]}`);
  }
  for (const [k, want] of Object.entries(v.totals) as [keyof ExpectedTotals, number][]) {
    if (report.tcp[k] !== want) problems.push(`info tcp.${k} is ${report.tcp[k]}, the mutation implies ${want}`);
  }
  const byKey = new Map(report.connections.map((c) => [`${c.client} ${c.server}`, c]));
  for (const e of v.expectations.values()) {
    if (!e.present) continue;
    const c = byKey.get(e.truth.rec.key);
    if (c === undefined) {
      problems.push(`info: connection ${e.truth.rec.key} missing`);
      continue;
    }
    const pairs = [
      ['client_to_server', c.client_to_server, e.dirs[0]],
      ['server_to_client', c.server_to_client, e.dirs[1]],
    ] as const;
    for (const [name, half, de] of pairs) {
      if (half.bytes_lost !== de.bytesLost) problems.push(`info ${e.truth.rec.key} ${name}.bytes_lost is ${half.bytes_lost}, expected ${de.bytesLost}`);
    }
  }
  return problems;
}

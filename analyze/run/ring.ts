/**
 * The memory a parallel analysis' reader (the main thread, route.ts) shares with its workers
 * (shard.ts): chunks of the capture files as they were read ("slots"), and, per worker, a ring of
 * fixed-size entries, each a decoded TCP segment of a connection that worker owns, pointing into a
 * slot. No packet is copied and no message is posted per packet: the reader writes entries and
 * publishes how many it wrote; the worker publishes how many it consumed. Atomics wait/notify on
 * those two counters is the back-pressure: the reader waits when a ring is full or when every
 * slot is still referenced by entries a worker has not consumed, so memory stays bounded.
 *
 * Everything here is 32-bit words. Counters run on and wrap (compared by their difference); an
 * entry's place is its counter modulo the ring's size.
 */
import type { PacketDecoder } from '../../src/net/decode.js';

/** Words per entry. */
export const ENTRY_WORDS = 16;
/** Entries per worker ring (a power of two): 2 MiB per worker. */
export const RING_ENTRIES = 1 << 15;
/** The reader publishes what it wrote at least every this many entries of a ring. */
export const PUBLISH_EVERY = 256;

/** Control words of one worker, CTL_WORDS apart (64 bytes: the two sides do not share a cache line). */
export const CTL_WORDS = 16;
/** Entries the reader has written (published). */
export const CTL_WRITTEN = 0;
/** Entries the worker has consumed. (In its own cache line: the worker writes it.) */
export const CTL_CONSUMED = 8;
/** The worker's state (Status). */
export const CTL_STATUS = 9;
/** Set by the reader when it gives up (an error): the worker stops waiting. */
export const CTL_ABORT = 1;

export const enum Status {
  Running = 0,
  Done = 1,
  Failed = 2,
}

/** Entry word 0: a slot's index (≥ 0) for a segment, or one of these. */
export const enum Entry {
  /** End of input: words 1 and 2 hold the capture's last packet time. */
  End = -1,
  /** The next message of the worker's side port is due now (a new slot, TLS secrets). */
  Message = -2,
}

/** What a worker receives on its side port, in order with its ring's Message entries. */
export type SideMessage = { slot: number; memory: SharedArrayBuffer } | { secrets: { type: number; data: Uint8Array; file: string } };

/** A worker's share of the memory (structured-clone safe: shared buffers are shared, not copied). */
export interface SharedInput {
  /** Control words, CTL_WORDS per worker. */
  control: SharedArrayBuffer;
  /** Which worker (its control words and its ring). */
  index: number;
  ring: SharedArrayBuffer;
  /** Entries in the ring (a power of two). */
  ringEntries: number;
  /** The slots made before the worker started (more come as Messages). */
  slots: SharedArrayBuffer[];
}

/**
 * Write a decoded TCP segment (`d`, whose offsets are relative to `base` in the slot) at word `p`.
 * The words the reassembler reads (src/tcp/reassembler.ts), and the time.
 */
export function writeSegment(ring: Int32Array, p: number, slot: number, shift: number, d: PacketDecoder, sec: number, nsec: number): void {
  ring[p] = slot;
  ring[p + 1] = sec;
  ring[p + 2] = nsec;
  ring[p + 3] = d.src4;
  ring[p + 4] = d.dst4;
  ring[p + 5] = d.srcAddrOffset + shift;
  ring[p + 6] = d.dstAddrOffset + shift;
  ring[p + 7] = (d.srcPort << 16) | d.dstPort;
  ring[p + 8] = d.seq;
  ring[p + 9] = d.ack;
  ring[p + 10] = d.flags | (d.ipVersion << 8);
  ring[p + 11] = d.payloadOffset + shift;
  ring[p + 12] = d.payloadLength;
  ring[p + 13] = d.payloadMissing;
}

/** Fill `d` from the entry at word `p` (its bytes are `slot`'s); returns nothing, the time is read by the caller. */
export function readSegment(ring: Int32Array, p: number, d: PacketDecoder, slot: Uint8Array): void {
  d.data = slot;
  d.src4 = ring[p + 3]! >>> 0;
  d.dst4 = ring[p + 4]! >>> 0;
  d.srcAddrOffset = ring[p + 5]!;
  d.dstAddrOffset = ring[p + 6]!;
  const ports = ring[p + 7]!;
  d.srcPort = ports >>> 16;
  d.dstPort = ports & 0xffff;
  d.seq = ring[p + 8]! >>> 0;
  d.ack = ring[p + 9]! >>> 0;
  const f = ring[p + 10]!;
  d.flags = f & 0xff;
  d.ipVersion = f >>> 8 === 6 ? 6 : 4;
  d.payloadOffset = ring[p + 11]!;
  d.payloadLength = ring[p + 12]!;
  d.payloadMissing = ring[p + 13]!;
}

/**
 * The reader's side of a parallel analysis (ring.ts says what is shared): plain capture files are
 * read into slots, 4 MiB chunks of shared memory; each decoded TCP segment that falls to a worker
 * becomes an entry of that worker's ring pointing into its slot. A packet whose bytes are not in a
 * slot (a gzip file's, or one record that straddled two chunks and was assembled apart) is copied
 * into a slot kept for copies.
 *
 * A slot is reused once every worker has consumed every entry written while it was in use; until
 * then the reader waits (a slow worker holds the reader back: memory stays bounded by the slots
 * and the rings). The waits are Atomics.wait in slices, checking that no worker failed.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { PacketDecoder } from '../../src/net/decode.js';
import type { PacketRecord } from '../../src/pcap/record.js';
import type { ChunkSource } from '../read/source.js';
import { CHUNK_SIZE } from '../read/source.js';
import { CTL_ABORT, CTL_CONSUMED, CTL_STATUS, CTL_WORDS, CTL_WRITTEN, ENTRY_WORDS, Entry, PUBLISH_EVERY, RING_ENTRIES, Status, writeSegment, type SharedInput, type SideMessage } from './ring.js';

/** Slots made up front: two per open file (the one parsed, the one being read), copies, and room for the workers to lag. */
export const INITIAL_SLOTS = 8;

/** The sizes of the shared memory (the defaults but in tests, which make every limit bite). */
export interface RouterSizes {
  /** Entries per worker ring (a power of two, a multiple of PUBLISH_EVERY). */
  ringEntries: number;
  /** Bytes per slot: a file's chunk. */
  slotBytes: number;
  /** Slots made up front. */
  slots: number;
}

export const DEFAULT_SIZES: RouterSizes = { ringEntries: RING_ENTRIES, slotBytes: CHUNK_SIZE, slots: INITIAL_SLOTS };
/** How long one wait lasts before the workers' states are checked again (ms). */
const WAIT_SLICE_MS = 50;

export const enum SlotState {
  Free,
  /** A file source's: being read into, or parsed. */
  Source,
  /** Packets are being copied into it. */
  Copies,
  /** Done with by the reader; free once every worker consumed past its marks. */
  Retired,
}

interface Slot {
  memory: SharedArrayBuffer;
  bytes: Uint8Array;
  state: SlotState;
  /** Per worker: the entries written when the slot was retired. */
  marks: Int32Array;
}

/** How the reader shared the packets (the measurements of docs/performance.md, and tests that check every limit was reached). */
export interface RoutingStats {
  /** Segments routed to workers. */
  routed: number;
  /** Times the reader waited for room in a ring, or for a slot the workers still used. */
  waitsForRing: number;
  waitsForSlot: number;
  /** Segments copied into a slot (a gzip file's, a record across two chunks). */
  copiedPackets: number;
  copiedBytes: number;
  /** Slots made (more than the initial ones when many files are open at once, or a record is larger than a slot). */
  slots: number;
}

/** A worker failed (its error comes with its exit); the reader stops. */
export class WorkerFailed extends Error {
  constructor(readonly worker: number) {
    super(`analysis worker ${worker + 1} failed`);
  }
}

export class Router {
  readonly control: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly rings: Int32Array[];
  private readonly ringMemory: SharedArrayBuffer[];
  /** Entries written per ring (published or not), and the last published count. */
  private readonly written: Int32Array;
  private readonly published: Int32Array;
  private readonly slots: Slot[] = [];
  private readonly slotOf = new Map<ArrayBufferLike, number>();
  /** Retired slots, oldest first (the first to be free again). */
  private readonly retired: number[] = [];
  private readonly ports: MessagePort[] = [];
  /** The worker ends of the side ports (sent with each worker's setup). */
  readonly workerPorts: MessagePort[] = [];
  /**
   * The first worker failure seen. (Thrown where the reader waits; when that is inside a file's
   * read, the capture reader records it as that file's failure, so it is thrown again after.)
   */
  failure: WorkerFailed | null = null;
  private copySlot = -1;
  private copyAt = 0;
  /** The last slot looked up (consecutive packets are in the same chunk). */
  private lastMemory: ArrayBufferLike | null = null;
  private lastSlot = -1;
  readonly stats: RoutingStats = { routed: 0, waitsForRing: 0, waitsForSlot: 0, copiedPackets: 0, copiedBytes: 0, slots: 0 };

  private readonly ringEntries: number;

  constructor(
    readonly workers: number,
    private readonly sizes: RouterSizes = DEFAULT_SIZES,
  ) {
    const n = sizes.ringEntries;
    if ((n & (n - 1)) !== 0 || n < PUBLISH_EVERY) throw new Error(`ring entries: ${n} is not a power of two ≥ ${PUBLISH_EVERY}`);
    this.ringEntries = n;
    this.control = new SharedArrayBuffer(workers * CTL_WORDS * 4);
    this.ctl = new Int32Array(this.control);
    this.ringMemory = Array.from({ length: workers }, () => new SharedArrayBuffer(n * ENTRY_WORDS * 4));
    this.rings = this.ringMemory.map((m) => new Int32Array(m));
    this.written = new Int32Array(workers);
    this.published = new Int32Array(workers);
    for (let w = 0; w < workers; w++) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      this.workerPorts.push(port2);
    }
    for (let i = 0; i < sizes.slots; i++) this.newSlot(false, sizes.slotBytes);
  }

  /** What worker `w` is given at start. */
  shared(w: number): SharedInput {
    return { control: this.control, index: w, ring: this.ringMemory[w]!, ringEntries: this.ringEntries, slots: this.slots.map((s) => s.memory) };
  }

  /** A plain file read into slots (ReadHooks.openPlain). */
  async openPlain(path: string): Promise<ChunkSource> {
    return new SlotSource(this, await open(path, 'r'));
  }

  /**
   * A decoded TCP segment (`d`, from `rec`) for worker `w`. Its bytes stay where they are when they
   * are in a slot; otherwise the record is copied into the copy slot.
   */
  route(w: number, rec: PacketRecord, d: PacketDecoder, sec: number, nsec: number): void {
    const data = d.data;
    const memory = data.buffer;
    let slot: number;
    let shift = data.byteOffset;
    if (memory === this.lastMemory) slot = this.lastSlot;
    else {
      slot = this.slotOf.get(memory) ?? -1;
      if (slot >= 0) {
        this.lastMemory = memory;
        this.lastSlot = slot;
      }
    }
    if (slot < 0) {
      // Not in a slot: copy the record's bytes (the decoder's offsets are within them).
      const n = rec.caplen;
      if (this.copySlot < 0 || this.copyAt + n > this.slots[this.copySlot]!.bytes.length) this.newCopySlot(n);
      const into = this.slots[this.copySlot]!.bytes;
      into.set(data.subarray(rec.offset, rec.offset + n), this.copyAt);
      slot = this.copySlot;
      shift = this.copyAt - rec.offset;
      this.copyAt += n;
      this.stats.copiedPackets++;
      this.stats.copiedBytes += n;
    }
    this.stats.routed++;
    const at = this.room(w);
    writeSegment(this.rings[w]!, at, slot, shift, d, sec, nsec);
    const n = (this.written[w] = (this.written[w]! + 1) | 0);
    if ((n & (PUBLISH_EVERY - 1)) === 0) this.publish(w);
  }

  /** TLS secrets from a pcapng Decryption Secrets Block: every worker gets them, in order with the packets. */
  secrets(type: number, data: Uint8Array, file: string): void {
    for (let w = 0; w < this.workers; w++) this.message(w, { secrets: { type, data: data.slice(), file } });
  }

  /** End of input: every worker is told the capture's last packet time. */
  end(sec: number, nsec: number): void {
    for (let w = 0; w < this.workers; w++) {
      const at = this.room(w);
      const ring = this.rings[w]!;
      ring[at] = Entry.End;
      ring[at + 1] = sec;
      ring[at + 2] = nsec;
      this.written[w] = (this.written[w]! + 1) | 0;
    }
    this.publishAll();
  }

  /** Something went wrong on this side: every worker stops waiting for entries. */
  abort(): void {
    for (let w = 0; w < this.workers; w++) {
      Atomics.store(this.ctl, w * CTL_WORDS + CTL_ABORT, 1);
      Atomics.notify(this.ctl, w * CTL_WORDS + CTL_WRITTEN);
    }
  }

  close(): void {
    for (const p of this.ports) p.close();
  }

  /** Make every written entry visible to the workers (before the reader waits on anything). */
  publishAll(): void {
    for (let w = 0; w < this.workers; w++) if (this.written[w] !== this.published[w]) this.publish(w);
  }

  private publish(w: number): void {
    const n = this.written[w]!;
    this.published[w] = n;
    Atomics.store(this.ctl, w * CTL_WORDS + CTL_WRITTEN, n);
    Atomics.notify(this.ctl, w * CTL_WORDS + CTL_WRITTEN);
  }

  /** The word where worker `w`'s next entry goes, once the ring has room for it. */
  private room(w: number): number {
    const n = this.written[w]!;
    const size = this.ringEntries;
    if (((n - this.consumed(w)) | 0) >= size) {
      this.stats.waitsForRing++;
      this.publishAll();
      while (((n - this.consumed(w)) | 0) >= size) this.waitForWorker(w);
    }
    return (n & (size - 1)) * ENTRY_WORDS;
  }

  /** The entries worker `w` has consumed. */
  private consumed(w: number): number {
    return Atomics.load(this.ctl, w * CTL_WORDS + CTL_CONSUMED);
  }

  /** Wait until worker `w` consumes more (or a slice passes). Throws if it failed. */
  private waitForWorker(w: number): void {
    const i = w * CTL_WORDS;
    const seen = Atomics.load(this.ctl, i + CTL_CONSUMED);
    if (Atomics.load(this.ctl, i + CTL_STATUS) === Status.Failed) {
      this.failure ??= new WorkerFailed(w);
      throw this.failure;
    }
    Atomics.wait(this.ctl, i + CTL_CONSUMED, seen, WAIT_SLICE_MS);
  }

  private message(w: number, m: SideMessage): void {
    this.ports[w]!.postMessage(m);
    const at = this.room(w);
    this.rings[w]![at] = Entry.Message;
    this.written[w] = (this.written[w]! + 1) | 0;
  }

  private newSlot(announce: boolean, bytes: number): number {
    const memory = new SharedArrayBuffer(bytes);
    const i = this.slots.length;
    this.slots.push({ memory, bytes: new Uint8Array(memory), state: SlotState.Free, marks: new Int32Array(this.workers) });
    this.slotOf.set(memory, i);
    this.stats.slots = this.slots.length;
    if (announce) for (let w = 0; w < this.workers; w++) this.message(w, { slot: i, memory });
    return i;
  }

  private isFree(s: Slot): boolean {
    for (let w = 0; w < this.workers; w++) if (((this.consumed(w) - s.marks[w]!) | 0) < 0) return false;
    return true;
  }

  /**
   * A slot of at least `bytes` for `state`: a free one, the oldest retired once the workers are
   * past it, or a new one when none is retired (every slot is a file's or the copies': many files
   * open at once) or the oldest is too small (a record larger than a chunk, copied).
   */
  acquire(state: SlotState.Source | SlotState.Copies, bytes = this.sizes.slotBytes): number {
    for (;;) {
      const free = this.slots.findIndex((s) => s.state === SlotState.Free && s.bytes.length >= bytes);
      if (free >= 0) return this.take(free, state);
      const oldest = this.retired[0];
      if (oldest === undefined || this.slots[oldest]!.bytes.length < bytes) return this.take(this.newSlot(true, Math.max(bytes, this.sizes.slotBytes)), state);
      const s = this.slots[oldest]!;
      if (this.isFree(s)) {
        this.retired.shift();
        return this.take(oldest, state);
      }
      this.stats.waitsForSlot++;
      this.publishAll();
      for (let w = 0; w < this.workers; w++) {
        while (((this.consumed(w) - s.marks[w]!) | 0) < 0) this.waitForWorker(w);
      }
    }
  }

  private take(i: number, state: SlotState): number {
    this.slots[i]!.state = state;
    return i;
  }

  /** The reader is done with slot `i`: free once the workers consumed what was written so far. */
  retire(i: number): void {
    const s = this.slots[i]!;
    s.marks.set(this.written);
    s.state = SlotState.Retired;
    this.retired.push(i);
  }

  slotBytes(i: number): Uint8Array {
    return this.slots[i]!.bytes;
  }

  private newCopySlot(n: number): void {
    if (this.copySlot >= 0) this.retire(this.copySlot);
    this.copySlot = this.acquire(SlotState.Copies, n);
    this.copyAt = 0;
  }
}

/**
 * A plain file read into the router's slots, one read always in flight (as the reader's own
 * double buffer, analyze/read/source.ts). The slot handed out is retired at the next read: the
 * parser keeps no view of a chunk once it asks for the next (src/pcap/window.ts copies the tail).
 */
class SlotSource implements ChunkSource {
  private current = -1;
  private reading = -1;
  private inFlight: Promise<number> | null = null;
  private eof = false;

  constructor(
    private readonly router: Router,
    private readonly fh: FileHandle,
  ) {}

  private start(): void {
    this.reading = this.router.acquire(SlotState.Source);
    const bytes = this.router.slotBytes(this.reading);
    this.inFlight = this.fh.read(bytes, 0, bytes.length, null).then((r) => r.bytesRead);
  }

  async read(): Promise<Uint8Array | null> {
    if (this.eof) return null;
    if (this.inFlight === null) this.start();
    const n = await this.inFlight!;
    if (this.current >= 0) this.router.retire(this.current);
    this.current = this.reading;
    this.reading = -1;
    this.inFlight = null;
    if (n === 0) {
      this.eof = true;
      this.router.retire(this.current);
      this.current = -1;
      return null;
    }
    this.start(); // the next chunk, into another slot, while this one is parsed
    return this.router.slotBytes(this.current).subarray(0, n);
  }

  async close(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => 0);
    this.inFlight = null;
    this.eof = true;
    for (const i of [this.current, this.reading]) if (i >= 0) this.router.retire(i);
    this.current = this.reading = -1;
    await this.fh.close();
  }
}

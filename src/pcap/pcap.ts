/**
 * Classic libpcap files: microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic in either byte
 * order, and the "modified" format of old Linux tcpdump builds (0xa1b2cd34, 24-byte record headers).
 *
 * Layout (all fields in the file's byte order):
 *   global header, 24 bytes: magic u32, version major u16, minor u16, thiszone i32, sigfigs u32,
 *                            snaplen u32, linktype u32 (link type in the low 16 bits, FCS info above)
 *   record header, 16 bytes: ts_sec u32, ts_frac u32, caplen u32, origlen u32
 *                            (+ ifindex u32, protocol u16, pkt_type u8, pad u8 in the modified format)
 */
import { ChunkWindow } from './window.js';
import { u16be, u16le, u32be, u32le } from '../bytes/endian.js';
import {
  newPacketRecord,
  Step,
  type CaptureFormat,
  type CaptureInterface,
  type CaptureParser,
  type CaptureProblem,
  type ResyncNotice,
} from './record.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/** libpcap's MAXIMUM_SNAPLEN: records longer than this and than the file's snaplen are impossible. */
export const PCAP_MAX_SNAPLEN = 262144;
/** Hard cap on one record, whatever the header claims (keeps memory bounded on garbage). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Seconds a resynchronisation candidate may lie from the last good timestamp. */
const RESYNC_MAX_SKEW_SEC = 86400;


/** The magic number as read little-endian from the first 4 bytes, if it is a classic pcap magic. */
export function pcapMagicInfo(b: Uint8Array): { le: boolean; nsec: boolean; modified: boolean } | null {
  if (b.length < 4) return null;
  const le = u32le(b, 0);
  const be = u32be(b, 0);
  for (const [value, isLe] of [[le, true], [be, false]] as const) {
    if (value === PCAP_MAGIC_USEC) return { le: isLe, nsec: false, modified: false };
    if (value === PCAP_MAGIC_NSEC) return { le: isLe, nsec: true, modified: false };
    if (value === PCAP_MAGIC_MODIFIED) return { le: isLe, nsec: false, modified: true };
  }
  return null;
}

export class PcapParser implements CaptureParser {
  format: CaptureFormat = 'pcap';
  readonly record = newPacketRecord();
  error: CaptureProblem | null = null;
  readonly interfaces: CaptureInterface[] = [];
  readonly resyncs: ResyncNotice[] = [];
  readonly skippedBlocks = new Map<string, number>();
  /** File header fields, once read. */
  versionMajor = 0;
  versionMinor = 0;
  snapLen = 0;

  private readonly w = new ChunkWindow();
  private headerDone = false;
  private le = true;
  private nsec = false;
  private hdrLen = 16;
  private maxCaplen = PCAP_MAX_SNAPLEN;
  private fracLimit = 1e6;
  private fracToNs = 1000;
  private lastSec = -1;
  private resyncFrom = -1;
  private resyncReason = '';
  private ended = false;

  get offset(): number {
    return this.w.offset;
  }

  /** Byte order of the file (known once the header is read). */
  get littleEndian(): boolean {
    return this.le;
  }

  push(chunk: Uint8Array): void {
    this.w.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  next(): Step {
    const w = this.w;
    if (!this.headerDone) {
      if (!w.ensure(24)) return Step.NeedMore;
      if (!this.readFileHeader()) return Step.Error;
    }
    if (this.resyncFrom >= 0) {
      const s = this.resync();
      if (s !== Step.Record) return s;
    }
    if (!w.ensure(this.hdrLen)) return Step.NeedMore;
    const b = w.buf;
    const p = w.pos;
    const le = this.le;
    const caplen = le ? u32le(b, p + 8) : u32be(b, p + 8);
    if (caplen > this.maxCaplen) {
      this.startResync(`record claims ${caplen} captured bytes, more than the snap length ${this.snapLen} allows`);
      return this.next();
    }
    const total = this.hdrLen + caplen;
    if (!w.ensure(total)) return Step.NeedMore;
    const buf = w.buf; // ensure() may have switched to the spill buffer
    const q = w.pos;
    const r = this.record;
    const sec = le ? u32le(buf, q) : u32be(buf, q);
    let frac = le ? u32le(buf, q + 4) : u32be(buf, q + 4);
    r.tsSec = sec;
    if (frac >= this.fracLimit) {
      // Some writers overflow the fraction; carry it into the seconds rather than reject the packet.
      r.tsSec = sec + Math.floor(frac / this.fracLimit);
      frac %= this.fracLimit;
    }
    r.tsNsec = frac * this.fracToNs;
    r.caplen = caplen;
    r.origLen = le ? u32le(buf, q + 12) : u32be(buf, q + 12);
    r.data = buf;
    r.offset = q + this.hdrLen;
    r.fileOffset = w.offset;
    this.lastSec = r.tsSec;
    w.advance(total);
    return Step.Record;
  }

  finish(): CaptureProblem | null {
    const left = this.w.buffered;
    if (!this.headerDone) {
      return { offset: 0, message: `file ends after ${left} bytes, inside the 24-byte pcap file header` };
    }
    if (this.resyncFrom >= 0) {
      const skipped = this.w.offset + left - this.resyncFrom;
      this.resyncs.push({ offset: this.resyncFrom, skippedBytes: skipped, message: `${this.resyncReason}; no valid record found in the remaining ${skipped} bytes` });
      this.resyncFrom = -1;
      return null;
    }
    if (left === 0) return null;
    return { offset: this.w.offset, message: `last record is incomplete: ${left} bytes of a record remain (capture still being written, or cut short)` };
  }

  private readFileHeader(): boolean {
    const b = this.w.buf;
    const p = this.w.pos;
    const info = pcapMagicInfo(b.subarray(p, p + 4));
    if (info === null) {
      this.error = { offset: 0, message: 'not a pcap file: expected magic a1b2c3d4 or a1b23c4d' };
      return false;
    }
    this.le = info.le;
    this.nsec = info.nsec;
    this.format = info.modified ? 'pcap-modified' : info.nsec ? 'pcap-nsec' : 'pcap';
    this.hdrLen = info.modified ? 24 : 16;
    this.fracLimit = info.nsec ? 1e9 : 1e6;
    this.fracToNs = info.nsec ? 1 : 1000;
    const u16 = this.le ? u16le : u16be;
    const u32 = this.le ? u32le : u32be;
    this.versionMajor = u16(b, p + 4);
    this.versionMinor = u16(b, p + 6);
    if (this.versionMajor !== 2) {
      this.error = { offset: 4, message: `unsupported pcap version ${this.versionMajor}.${this.versionMinor}: expected 2.4` };
      return false;
    }
    this.snapLen = u32(b, p + 16);
    const network = u32(b, p + 20);
    this.maxCaplen = Math.min(Math.max(this.snapLen, PCAP_MAX_SNAPLEN), MAX_RECORD_BYTES);
    this.interfaces.push({
      linkType: network & 0xffff,
      snapLen: this.snapLen,
      name: null,
      description: null,
      unitsPerSecond: this.nsec ? 1e9 : 1e6,
      tsOffsetSec: 0,
      stats: null,
    });
    this.record.linkType = network & 0xffff;
    this.record.interfaceId = 0;
    this.headerDone = true;
    this.w.advance(24);
    return true;
  }

  private startResync(reason: string): void {
    this.resyncFrom = this.w.offset;
    this.resyncReason = `damaged record header: ${reason}`;
    this.w.advance(1);
  }

  /**
   * Is there a believable record header at `p`? Its timestamp within RESYNC_MAX_SKEW_SEC of `near`
   * (a timestamp in seconds; -1: any).
   */
  private plausible(b: Uint8Array, p: number, near: number): boolean {
    const u32 = this.le ? u32le : u32be;
    const sec = u32(b, p);
    const frac = u32(b, p + 4);
    const caplen = u32(b, p + 8);
    const orig = u32(b, p + 12);
    if (frac >= this.fracLimit || caplen > this.maxCaplen || caplen > orig || orig > MAX_RECORD_BYTES) return false;
    if (near >= 0 && Math.abs(sec - near) > RESYNC_MAX_SKEW_SEC) return false;
    return true;
  }

  /**
   * Scan forward, one byte at a time, for believable record headers in a row: two, the first near
   * the last good record's time; or three near each other, whatever the last record's time — that
   * record may itself have been garbage that looked like a record (bytes lost in a pipe leave such
   * misaligned headers, issue 21), and its timestamp must not keep every real one out.
   */
  private resync(): Step {
    const w = this.w;
    const secAt = (p: number) => (this.le ? u32le(w.buf, p) : u32be(w.buf, p));
    const lenAt = (p: number) => this.hdrLen + (this.le ? u32le(w.buf, p + 8) : u32be(w.buf, p + 8));
    scan: for (;;) {
      if (!w.ensure(this.hdrLen)) return Step.NeedMore;
      if (this.plausible(w.buf, w.pos, -1)) {
        const nearLast = this.lastSec < 0 || this.plausible(w.buf, w.pos, this.lastSec);
        const chain = nearLast ? 2 : 3;
        let at = 0; // offset of the current header from w.pos
        let ok = true;
        for (let k = 1; k < chain && ok; k++) {
          const next = at + lenAt(w.pos + at);
          if (!w.ensure(next + this.hdrLen)) {
            if (!this.ended) return Step.NeedMore;
            // The candidate chain ends exactly where the input does: believable.
            if (w.available === next) break scan;
            ok = false; // runs past the end of input: not a record
            break;
          }
          ok = this.plausible(w.buf, w.pos + next, secAt(w.pos + at));
          at = next;
        }
        if (ok) break;
      }
      w.advance(1);
    }
    const skipped = w.offset - this.resyncFrom;
    this.resyncs.push({ offset: this.resyncFrom, skippedBytes: skipped, message: `${this.resyncReason}; skipped ${skipped} bytes to the next valid record` });
    this.resyncFrom = -1;
    return Step.Record;
  }
}

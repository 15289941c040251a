/**
 * pcapng (draft-ietf-opsawg-pcapng): sections in either byte order, interface description blocks
 * with their own link type, snap length and timestamp resolution/offset, enhanced, simple and
 * obsolete packet blocks, interface statistics (kernel drops); every other block is skipped and
 * counted by type.
 *
 * Generic block: type u32, total length u32, body, total length u32 (repeated). Lengths are
 * multiples of 4; the byte order is the one of the section header block that opened the section.
 */
import { ChunkWindow } from './window.js';
import { u16be, u16le, u32be, u32le } from '../bytes/endian.js';
import { MAX_RECORD_BYTES } from './pcap.js';
import { unitsPerSecondFromTsresol, unitsToTimestamp, type Timestamp } from './timestamp.js';
import {
  newPacketRecord,
  Step,
  type CaptureInterface,
  type CaptureParser,
  type CaptureProblem,
  type ResyncNotice,
} from './record.js';

export const enum BlockType {
  SectionHeader = 0x0a0d0d0a,
  InterfaceDescription = 0x00000001,
  ObsoletePacket = 0x00000002,
  SimplePacket = 0x00000003,
  NameResolution = 0x00000004,
  InterfaceStatistics = 0x00000005,
  EnhancedPacket = 0x00000006,
  SystemdJournal = 0x00000009,
  DecryptionSecrets = 0x0000000a,
  CustomCopiable = 0x00000bad,
  CustomNonCopiable = 0x40000bad,
}

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_NAMES: ReadonlyMap<number, string> = new Map([
  [BlockType.NameResolution, 'name resolution'],
  [BlockType.SystemdJournal, 'systemd journal export'],
  [BlockType.DecryptionSecrets, 'decryption secrets'],
  [BlockType.CustomCopiable, 'custom'],
  [BlockType.CustomNonCopiable, 'custom'],
]);

const KNOWN_TYPES = new Set<number>([1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0bad, 0x40000bad, 0x0a0d0d0a]);


export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a;
}

/** Section header facts kept for `info`. */
export interface SectionInfo {
  offset: number;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  hardware: string | null;
  os: string | null;
  application: string | null;
}

export class PcapngParser implements CaptureParser {
  readonly format = 'pcapng' as const;
  readonly record = newPacketRecord();
  error: CaptureProblem | null = null;
  /** Every interface of every section, in order; `sectionBase` maps a section's ids into it. */
  readonly interfaces: CaptureInterface[] = [];
  readonly sections: SectionInfo[] = [];
  readonly resyncs: ResyncNotice[] = [];
  readonly skippedBlocks = new Map<string, number>();
  /**
   * Decryption Secrets Blocks (TLS key logs that `editcap --inject-secrets` puts in a capture):
   * secrets type and data (a view valid during the call). Without a consumer they are counted
   * as skipped blocks.
   */
  onSecrets: ((type: number, data: Uint8Array, offset: number) => void) | null = null;

  private readonly w = new ChunkWindow();
  private le = true;
  private started = false;
  private sectionBase = 0;
  private readonly ts: Timestamp = { sec: 0, nsec: 0 };
  private resyncFrom = -1;
  private resyncReason = '';
  private ended = false;

  get offset(): number {
    return this.w.offset;
  }

  push(chunk: Uint8Array): void {
    this.w.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  next(): Step {
    const w = this.w;
    for (;;) {
      if (this.resyncFrom >= 0 && !this.resync()) return Step.NeedMore;
      if (!w.ensure(12)) {
        if (!this.started && w.available >= 4 && !isPcapngMagic(w.buf.subarray(w.pos, w.pos + 4))) {
          this.error = { offset: 0, message: 'not a pcapng file: expected a section header block (0a 0d 0d 0a)' };
          return Step.Error;
        }
        return Step.NeedMore;
      }
      let b = w.buf;
      let p = w.pos;
      const isShb = b[p] === 0x0a && b[p + 1] === 0x0d && b[p + 2] === 0x0d && b[p + 3] === 0x0a;
      if (isShb) {
        const bom = u32le(b, p + 8);
        if (bom === BYTE_ORDER_MAGIC) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else if (!this.started) {
          this.error = { offset: w.offset + 8, message: `bad section header: byte-order magic ${bom.toString(16)}, expected 1a2b3c4d` };
          return Step.Error;
        } else {
          this.startResync('section header block with a bad byte-order magic');
          continue;
        }
      } else if (!this.started) {
        this.error = { offset: 0, message: 'not a pcapng file: expected a section header block (0a 0d 0d 0a)' };
        return Step.Error;
      }
      const le = this.le;
      const type = le ? u32le(b, p) : u32be(b, p);
      const len = le ? u32le(b, p + 4) : u32be(b, p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_BYTES) {
        if (!this.started) {
          this.error = { offset: w.offset + 4, message: `bad section header: block length ${len}, expected a multiple of 4 between 28 and ${MAX_RECORD_BYTES}` };
          return Step.Error;
        }
        this.startResync(`block of type 0x${type.toString(16)} claims length ${len}`);
        continue;
      }
      if (!w.ensure(len)) return Step.NeedMore;
      b = w.buf;
      p = w.pos;
      const trailer = le ? u32le(b, p + len - 4) : u32be(b, p + len - 4);
      if (trailer !== len) {
        if (!this.started) {
          this.error = { offset: w.offset + len - 4, message: `bad section header: trailing length ${trailer} differs from ${len}` };
          return Step.Error;
        }
        this.startResync(`block of type 0x${type.toString(16)} has trailing length ${trailer}, expected ${len}`);
        continue;
      }
      const blockOffset = w.offset;
      let step: Step | -1 = -1;
      switch (type) {
        case BlockType.SectionHeader:
          if (!this.readSectionHeader(b, p, len, blockOffset)) return Step.Error;
          break;
        case BlockType.InterfaceDescription:
          this.readInterface(b, p, len);
          break;
        case BlockType.EnhancedPacket:
          step = this.readEnhancedPacket(b, p, len, blockOffset);
          break;
        case BlockType.SimplePacket:
          step = this.readSimplePacket(b, p, len, blockOffset);
          break;
        case BlockType.ObsoletePacket:
          step = this.readObsoletePacket(b, p, len, blockOffset);
          break;
        case BlockType.InterfaceStatistics:
          this.readInterfaceStatistics(b, p, len);
          break;
        case BlockType.DecryptionSecrets:
          if (!this.readDecryptionSecrets(b, p, len, blockOffset)) this.countSkipped('decryption secrets');
          break;
        default:
          this.countSkipped(BLOCK_NAMES.get(type) ?? `unknown type 0x${type.toString(16)}`);
      }
      w.advance(len);
      if (step === Step.Record) return Step.Record;
    }
  }

  finish(): CaptureProblem | null {
    const left = this.w.buffered;
    if (!this.started) {
      return { offset: 0, message: `file ends after ${left} bytes, inside the first section header block` };
    }
    if (this.resyncFrom >= 0) {
      const skipped = this.w.offset + left - this.resyncFrom;
      this.resyncs.push({ offset: this.resyncFrom, skippedBytes: skipped, message: `${this.resyncReason}; no valid block found in the remaining ${skipped} bytes` });
      this.resyncFrom = -1;
      return null;
    }
    if (left === 0) return null;
    return { offset: this.w.offset, message: `last block is incomplete: ${left} bytes of a block remain (capture still being written, or cut short)` };
  }

  /** Secrets type (u32), secrets length (u32), the secrets, padding, options. */
  private readDecryptionSecrets(b: Uint8Array, p: number, len: number, offset: number): boolean {
    if (this.onSecrets === null || len < 20) return false;
    const u32 = this.le ? u32le : u32be;
    const type = u32(b, p + 8);
    const n = u32(b, p + 12);
    if (n > len - 20) return false;
    this.onSecrets(type, b.subarray(p + 16, p + 16 + n), offset);
    return true;
  }

  private countSkipped(name: string): void {
    this.skippedBlocks.set(name, (this.skippedBlocks.get(name) ?? 0) + 1);
  }

  private readSectionHeader(b: Uint8Array, p: number, len: number, offset: number): boolean {
    const u16 = this.le ? u16le : u16be;
    if (len < 28) {
      this.error = { offset, message: `section header block of ${len} bytes, expected at least 28` };
      return false;
    }
    const major = u16(b, p + 12);
    const minor = u16(b, p + 14);
    if (major !== 1) {
      this.error = { offset: offset + 12, message: `unsupported pcapng version ${major}.${minor}: expected 1.0` };
      return false;
    }
    const info: SectionInfo = { offset, littleEndian: this.le, versionMajor: major, versionMinor: minor, hardware: null, os: null, application: null };
    this.forEachOption(b, p + 24, p + len - 4, (code, vb, vp, vl) => {
      if (code === 2) info.hardware = utf8(vb, vp, vl);
      else if (code === 3) info.os = utf8(vb, vp, vl);
      else if (code === 4) info.application = utf8(vb, vp, vl);
    });
    this.sections.push(info);
    this.sectionBase = this.interfaces.length;
    this.started = true;
    return true;
  }

  private readInterface(b: Uint8Array, p: number, len: number): void {
    const u16 = this.le ? u16le : u16be;
    const u32 = this.le ? u32le : u32be;
    if (len < 20) {
      this.countSkipped('malformed interface description');
      return;
    }
    const iface: CaptureInterface = {
      linkType: u16(b, p + 8),
      snapLen: u32(b, p + 12),
      name: null,
      description: null,
      unitsPerSecond: 1e6,
      tsOffsetSec: 0,
      stats: null,
    };
    this.forEachOption(b, p + 16, p + len - 4, (code, vb, vp, vl) => {
      if (code === 2) iface.name = utf8(vb, vp, vl);
      else if (code === 3) iface.description = utf8(vb, vp, vl);
      else if (code === 9 && vl >= 1) iface.unitsPerSecond = unitsPerSecondFromTsresol(vb[vp]!);
      else if (code === 14 && vl >= 8) {
        const lo = u32(vb, vp + (this.le ? 0 : 4));
        const hi = u32(vb, vp + (this.le ? 4 : 0)) | 0; // signed seconds
        iface.tsOffsetSec = hi * 4294967296 + lo;
      }
    });
    this.interfaces.push(iface);
  }

  /** Resolve a section-relative interface id; null (and counted) when the id was never declared. */
  private iface(id: number): CaptureInterface | null {
    const iface = this.interfaces[this.sectionBase + id];
    if (iface === undefined || this.sectionBase + id >= this.interfaces.length) {
      this.countSkipped('packet for an undeclared interface');
      return null;
    }
    return iface;
  }

  private fill(b: Uint8Array, dataAt: number, caplen: number, origLen: number, ifaceId: number, iface: CaptureInterface, hi: number, lo: number, offset: number): Step {
    const r = this.record;
    unitsToTimestamp(hi, lo, iface.unitsPerSecond, this.ts);
    r.tsSec = this.ts.sec + iface.tsOffsetSec;
    r.tsNsec = this.ts.nsec;
    r.data = b;
    r.offset = dataAt;
    r.caplen = caplen;
    r.origLen = origLen;
    r.linkType = iface.linkType;
    r.interfaceId = this.sectionBase + ifaceId;
    r.fileOffset = offset;
    return Step.Record;
  }

  private readEnhancedPacket(b: Uint8Array, p: number, len: number, offset: number): Step | -1 {
    const u32 = this.le ? u32le : u32be;
    if (len < 32) {
      this.countSkipped('malformed enhanced packet');
      return -1;
    }
    const id = u32(b, p + 8);
    const iface = this.iface(id);
    if (iface === null) return -1;
    const caplen = u32(b, p + 20);
    if (caplen > len - 32) {
      this.countSkipped('malformed enhanced packet');
      return -1;
    }
    return this.fill(b, p + 28, caplen, u32(b, p + 24), id, iface, u32(b, p + 12), u32(b, p + 16), offset);
  }

  private readSimplePacket(b: Uint8Array, p: number, len: number, offset: number): Step | -1 {
    const u32 = this.le ? u32le : u32be;
    if (len < 16) {
      this.countSkipped('malformed simple packet');
      return -1;
    }
    const iface = this.iface(0);
    if (iface === null) return -1;
    const origLen = u32(b, p + 8);
    let caplen = Math.min(origLen, len - 16);
    if (iface.snapLen > 0) caplen = Math.min(caplen, iface.snapLen);
    // Simple packet blocks carry no timestamp: 0 (the epoch) is what Wireshark shows too.
    return this.fill(b, p + 12, caplen, origLen, 0, iface, 0, 0, offset);
  }

  private readObsoletePacket(b: Uint8Array, p: number, len: number, offset: number): Step | -1 {
    const u16 = this.le ? u16le : u16be;
    const u32 = this.le ? u32le : u32be;
    if (len < 32) {
      this.countSkipped('malformed obsolete packet');
      return -1;
    }
    const id = u16(b, p + 8);
    const iface = this.iface(id);
    if (iface === null) return -1;
    const caplen = u32(b, p + 20);
    if (caplen > len - 32) {
      this.countSkipped('malformed obsolete packet');
      return -1;
    }
    return this.fill(b, p + 28, caplen, u32(b, p + 24), id, iface, u32(b, p + 12), u32(b, p + 16), offset);
  }

  private readInterfaceStatistics(b: Uint8Array, p: number, len: number): void {
    const u32 = this.le ? u32le : u32be;
    if (len < 24) {
      this.countSkipped('malformed interface statistics');
      return;
    }
    const iface = this.interfaces[this.sectionBase + u32(b, p + 8)];
    if (iface === undefined) {
      this.countSkipped('statistics for an undeclared interface');
      return;
    }
    const stats = iface.stats ?? { received: null, droppedByInterface: null, droppedByOs: null, deliveredToUser: null };
    this.forEachOption(b, p + 20, p + len - 4, (code, vb, vp, vl) => {
      if (vl < 8) return;
      const hi = u32(vb, vp + (this.le ? 4 : 0));
      const lo = u32(vb, vp + (this.le ? 0 : 4));
      const v = hi * 4294967296 + lo;
      if (code === 4) stats.received = v;
      else if (code === 5) stats.droppedByInterface = v;
      else if (code === 7) stats.droppedByOs = v;
      else if (code === 8) stats.deliveredToUser = v;
    });
    iface.stats = stats;
  }

  /** Walk TLV options (code u16, length u16, value padded to 4) between `p` and `end`. */
  private forEachOption(b: Uint8Array, p: number, end: number, fn: (code: number, b: Uint8Array, at: number, len: number) => void): void {
    const u16 = this.le ? u16le : u16be;
    while (p + 4 <= end) {
      const code = u16(b, p);
      const olen = u16(b, p + 2);
      if (code === 0) return; // opt_endofopt
      if (p + 4 + olen > end) return; // malformed option list: ignore the rest, the packet is still good
      fn(code, b, p + 4, olen);
      p += 4 + ((olen + 3) & ~3);
    }
  }

  private startResync(reason: string): void {
    this.resyncFrom = this.w.offset;
    this.resyncReason = `damaged block: ${reason}`;
    this.w.advance(4);
  }

  /** Scan forward 4 bytes at a time for a block with a known type whose two lengths agree. */
  private resync(): boolean {
    const w = this.w;
    for (;;) {
      if (!w.ensure(12)) {
        if (!this.ended || !w.ensure(8)) return false;
      }
      // A section header carries its own byte order: read its lengths in that order.
      const b = w.buf;
      const isShb = b[w.pos] === 0x0a && b[w.pos + 1] === 0x0d && b[w.pos + 2] === 0x0d && b[w.pos + 3] === 0x0a;
      const bom = isShb && w.available >= 12 ? u32le(b, w.pos + 8) : 0;
      const u32 = bom === BYTE_ORDER_MAGIC ? u32le : bom === 0x4d3c2b1a ? u32be : this.le ? u32le : u32be;
      const type = u32(b, w.pos);
      const len = u32(b, w.pos + 4);
      if (KNOWN_TYPES.has(type) && len >= 12 && len % 4 === 0 && len <= MAX_RECORD_BYTES) {
        if (w.ensure(len)) {
          if (u32(w.buf, w.pos + len - 4) === len) break;
        } else if (!this.ended) {
          return false;
        } // else: a candidate that runs past the end of input is not a block
      }
      w.advance(4);
    }
    const skipped = w.offset - this.resyncFrom;
    this.resyncs.push({ offset: this.resyncFrom, skippedBytes: skipped, message: `${this.resyncReason}; skipped ${skipped} bytes to the next valid block` });
    this.resyncFrom = -1;
    return true;
  }
}

const decoder = new TextDecoder('utf-8');
function utf8(b: Uint8Array, p: number, len: number): string {
  let end = p + len;
  while (end > p && b[end - 1] === 0) end--;
  return decoder.decode(b.subarray(p, end));
}

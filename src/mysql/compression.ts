/**
 * The compressed protocol (CLIENT_COMPRESS: zlib; CLIENT_ZSTD_COMPRESSION_ALGORITHM: zstd): after
 * authentication every byte travels in compressed packets
 *
 *   int<3> compressed payload length, int<1> compressed sequence id,
 *   int<3> uncompressed length (0: the payload is not compressed), payload
 *
 * whose decompressed payloads concatenate into the ordinary packet stream (packets may straddle
 * compressed packets). This unwraps one direction and feeds the inner framer.
 */
import * as zlib from 'node:zlib';
import type { PacketFramer } from './framing.js';

export type CompressionAlgorithm = 'zlib' | 'zstd';

export type Inflate = (b: Uint8Array) => Uint8Array;

/**
 * How zstd payloads are decompressed: Node's own zlib.zstdDecompressSync (22.15+, 23.8+) or a
 * library the caller loaded; when neither, `inflate` is null and `unavailable` says why (the
 * caller knows the Node.js version; this layer does not look).
 */
export interface ZstdSupport {
  inflate: Inflate | null;
  /** Where `inflate` comes from ('node:zlib', a package name), for the trace. */
  source: string | null;
  unavailable: string;
}

/** Node's own zstd, when this Node.js has it (null otherwise). */
export function nodeZstd(): Inflate | null {
  const z = (zlib as unknown as { zstdDecompressSync?: Inflate }).zstdDecompressSync;
  return typeof z === 'function' ? (b) => z(b) : null;
}

/** The default when the caller says nothing: Node's own zstd, or none. */
export const NODE_ZSTD: ZstdSupport = ((): ZstdSupport => {
  const z = nodeZstd();
  return { inflate: z, source: z === null ? null : 'node:zlib', unavailable: 'zstd compression: not decodable on this Node.js (no zlib.zstdDecompressSync: Node 22.15+)' };
})();

/** zstd needs a decompressor (`zstd`: Node's own by default); null when there is none. */
export function decompressorFor(algorithm: CompressionAlgorithm, zstd: ZstdSupport = NODE_ZSTD): Inflate | null {
  if (algorithm === 'zlib') return (b) => zlib.inflateSync(b);
  return zstd.inflate;
}

/** A zstd frame starts with this magic number (RFC 8878), little-endian 0xFD2FB528. */
export function isZstdFrame(b: Uint8Array, off: number, len: number): boolean {
  return len >= 4 && b[off] === 0x28 && b[off + 1] === 0xb5 && b[off + 2] === 0x2f && b[off + 3] === 0xfd;
}

/**
 * A zlib stream header (RFC 1950): CM 8 (deflate), a window of at most 32 KiB, no preset
 * dictionary, and the check bits that make CMF·256 + FLG a multiple of 31.
 */
export function isZlibHeader(b: Uint8Array, off: number, len: number): boolean {
  if (len < 2) return false;
  const cmf = b[off]!;
  const flg = b[off + 1]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (flg & 0x20) === 0 && ((cmf << 8) | flg) % 31 === 0;
}

/**
 * For a connection whose handshake was not captured, the algorithm is learnt from the payloads:
 * a zstd frame by its magic number, otherwise zlib. `seen` is told which one each payload was.
 */
export function inflateByContent(zstd: ZstdSupport, seen: (a: CompressionAlgorithm) => void): Inflate {
  const zlibInflate = decompressorFor('zlib')!;
  return (b) => {
    if (isZstdFrame(b, 0, b.length)) {
      seen('zstd');
      if (zstd.inflate === null) throw new Error(zstd.unavailable);
      return zstd.inflate(b);
    }
    seen('zlib');
    return zlibInflate(b);
  };
}

/** Does a compressed packet start at the beginning of this chunk? (After a gap, or a mid-stream start.) */
export type CompressedStart = (b: Uint8Array, off: number, len: number) => boolean;

/** Largest compressed packet accepted (the protocol's own limit). */
const MAX_COMPRESSED = 0xffffff;

export class CompressedStream {
  /** Why decoding stopped (damaged data, a gap), or null. */
  failed: string | null = null;
  packets = 0;
  /** Bytes skipped while looking for a compressed packet start (`hunt`). */
  skippedBytes = 0;
  private hunting: CompressedStart | null = null;
  private readonly hdr = new Uint8Array(7);
  private hdrHave = 0;
  private body = new Uint8Array(0);
  private bodyHave = 0;
  private compLen = -1;
  private rawLen = 0;

  constructor(
    private readonly inner: PacketFramer,
    private readonly inflate: Inflate,
  ) {}

  /**
   * The packet boundaries are not known (the stream's start was not captured): skip chunks until
   * one begins with a compressed packet (`start` says), as a TCP segment usually does.
   */
  hunt(start: CompressedStart): void {
    this.hunting = start;
    this.compLen = -1;
    this.hdrHave = 0;
  }

  /** In step with the packet boundaries (not hunting)? */
  get synced(): boolean {
    return this.hunting === null;
  }

  feed(buf: Uint8Array, off: number, len: number, sec: number, nsec: number): void {
    if (this.hunting !== null && len > 0) {
      if (!this.hunting(buf, off, len)) {
        this.skippedBytes += len;
        return;
      }
      this.hunting = null;
    }
    while (len > 0 && this.failed === null) {
      if (this.compLen < 0) {
        const take = Math.min(7 - this.hdrHave, len);
        this.hdr.set(buf.subarray(off, off + take), this.hdrHave);
        this.hdrHave += take;
        off += take;
        len -= take;
        if (this.hdrHave < 7) return;
        const h = this.hdr;
        this.compLen = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.rawLen = h[4]! | (h[5]! << 8) | (h[6]! << 16);
        this.hdrHave = 0;
        this.bodyHave = 0;
        if (this.compLen > MAX_COMPRESSED) {
          this.failed = `impossible compressed packet length ${this.compLen}`;
          return;
        }
        if (this.body.length < this.compLen) this.body = new Uint8Array(Math.max(this.compLen, 4096));
      }
      const take = Math.min(this.compLen - this.bodyHave, len);
      this.body.set(buf.subarray(off, off + take), this.bodyHave);
      this.bodyHave += take;
      off += take;
      len -= take;
      if (this.bodyHave < this.compLen) return;
      const payload = this.body.subarray(0, this.compLen);
      this.compLen = -1;
      this.packets++;
      let out: Uint8Array;
      if (this.rawLen === 0) {
        out = payload;
      } else {
        try {
          out = this.inflate(payload);
        } catch (e) {
          this.failed = `a compressed packet does not decompress (${(e as Error).message})`;
          return;
        }
      }
      this.inner.feed(out, 0, out.length, sec, nsec);
    }
  }
}

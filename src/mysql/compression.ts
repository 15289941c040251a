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

type Inflate = (b: Uint8Array) => Uint8Array;

/** zstd needs a Node.js with zlib.zstdDecompressSync (22.15+); null when this one has none. */
export function decompressorFor(algorithm: CompressionAlgorithm): Inflate | null {
  if (algorithm === 'zlib') return (b) => zlib.inflateSync(b);
  const z = (zlib as unknown as { zstdDecompressSync?: Inflate }).zstdDecompressSync;
  return typeof z === 'function' ? z : null;
}

/** Largest compressed packet accepted (the protocol's own limit). */
const MAX_COMPRESSED = 0xffffff;

export class CompressedStream {
  /** Why decoding stopped (damaged data, a gap), or null. */
  failed: string | null = null;
  packets = 0;
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

  feed(buf: Uint8Array, off: number, len: number, sec: number, nsec: number): void {
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

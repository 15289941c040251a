/**
 * A connection's two byte streams as MySQL packets: a packet framer per direction (framing.ts),
 * made on first use so that a connection that never carries a byte (a SYN flood) costs none, and
 * in front of them, once the compressed protocol is on, a compressed-packet reader per direction
 * (compression.ts) — negotiated at the login, or recognised from the content of a stream whose
 * handshake was not captured (detect.ts).
 */
import { Dir } from '../tcp/stream.js';
import { CompressedStream, decompressorFor, inflateByContent, type CompressionAlgorithm, type ZstdSupport } from './compression.js';
import type { SessionHost } from './connection.js';
import { sniffCompressed } from './detect.js';
import { PacketFramer, type PacketSink, type StartPredicate } from './framing.js';

export class Wire {
  private made: [PacketFramer, PacketFramer] | null = null;
  /** The compressed-packet readers, once the compressed protocol is on. */
  unwrap: [CompressedStream, CompressedStream] | null = null;
  /** The handshake was not captured and no packet decoded yet: the stream may be compressed (detect.ts). */
  maybeCompressed = false;

  constructor(
    private readonly host: SessionHost,
    private readonly clientSink: PacketSink,
    private readonly serverSink: PacketSink,
    private readonly maxRequestBytes: number,
    private readonly maxResponseBytes: number,
    private readonly zstd: ZstdSupport,
  ) {}

  get framers(): [PacketFramer, PacketFramer] {
    return (this.made ??= [new PacketFramer(this.clientSink, this.maxRequestBytes), new PacketFramer(this.serverSink, this.maxResponseBytes)]);
  }

  /** The framers, if any byte came (null: none made yet). */
  get framersMade(): [PacketFramer, PacketFramer] | null {
    return this.made;
  }

  /** Server bytes skipped looking for a packet start since the stream was lost (compressed packets' included). */
  serverSkipped(): number {
    return this.framers[1].skippedBytes + (this.unwrap?.[1].skippedBytes ?? 0);
  }

  /** The server's stream is in step with its packet boundaries. */
  serverSynced(): boolean {
    return this.framers[1].synced && this.unwrap?.[1].synced !== false;
  }

  /** Client bytes never decoded (skipped while hunting). */
  clientUndecoded(): number {
    return this.framers[0].skippedBytes + (this.unwrap?.[0].skippedBytes ?? 0);
  }

  /**
   * After the login OK (`found` null): every byte from now on travels in compressed packets.
   * `found`: the handshake was not captured and this direction's bytes were recognised as
   * compressed packets (the algorithm is then learnt from each payload; the other direction
   * looks for its first).
   */
  startCompression(algorithm: CompressionAlgorithm, zstdLevel: number | null, found: Dir | null = null): void {
    const host = this.host;
    const zstd = this.zstd;
    host.compressed = true;
    host.compression = algorithm;
    const inflate = found === null ? decompressorFor(algorithm, zstd) : algorithm === 'zstd' && zstd.inflate === null ? null : inflateByContent(zstd, (a) => (host.compression = a));
    if (inflate === null) {
      host.trace(null, 'COMPRESSED', null, null, zstd.unavailable);
      host.abandon(zstd.unavailable);
      return;
    }
    this.unwrap = [new CompressedStream(this.framers[0], inflate), new CompressedStream(this.framers[1], inflate)];
    if (found !== null) {
      const other = found === Dir.ClientToServer ? Dir.ServerToClient : Dir.ClientToServer;
      this.unwrap[other].hunt(this.compressedHunt);
    }
    host.trace(found, 'COMPRESSED', null, null, found === null ? `${algorithm} compressed protocol from here on${algorithm === 'zstd' && zstdLevel !== null ? ` (level ${zstdLevel})` : ''}` : `${algorithm} compressed protocol recognised from the content (the handshake was not captured)`);
  }

  /**
   * The other direction of a compressed stream recognised from the content opens (its start not
   * captured): look for its first packet. False when the gap is a hole in a compressed stream,
   * which compressed packets cannot be re-found in.
   */
  compressedOpens(dir: Dir, bytes: number, start: StartPredicate): boolean {
    if (bytes >= 0 || this.unwrap![dir].packets !== 0) return false;
    this.unwrap![dir].hunt(this.compressedHunt);
    this.framers[dir].gap(start);
    return true;
  }

  private readonly compressedHunt = (b: Uint8Array, o: number, l: number): boolean => sniffCompressed(b, o, l, this.zstd.inflate) !== null;

  /**
   * A stream begun before the capture, no packet decoded yet: do this direction's bytes start
   * with compressed packets? Then the connection is compressed from here on (both directions).
   */
  compressedStart(dir: Dir, buf: Uint8Array, offset: number, length: number, tls: boolean): [CompressedStream, CompressedStream] | null {
    const f = this.framers;
    if (f[0].packets + f[1].packets > 0 || tls) {
      this.maybeCompressed = false;
      return null;
    }
    if (f[dir].synced) return null;
    const algorithm = sniffCompressed(buf, offset, length, this.zstd.inflate);
    if (algorithm === null) return null;
    this.maybeCompressed = false;
    this.startCompression(algorithm, null, dir);
    return this.unwrap;
  }
}

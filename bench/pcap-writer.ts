/**
 * What the benchmark's capture generators share: a seeded PRNG, a classic pcap file written
 * through one large buffer, and one Ethernet + IPv4 + TCP frame (with the timestamps option, as
 * Linux sends it) at a time.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** mulberry32: small, fast, seeded, good enough for traffic shapes. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  /** Log-uniform integer in [lo, hi]: as many values between 200 and 400 as between 2000 and 4000. */
  logInt(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(lo * Math.exp(this.float() * Math.log(hi / lo))));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }
  /** Standard normal (Box–Muller, one of the pair). */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }
  /** Exponential with this mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.float() * list.length)]!;
  }
  /** Fisher–Yates, in place. */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  }
}

const RECORD_HEADER = 16;
/** Ethernet 14 + IPv4 20 + TCP 32 (NOP, NOP, timestamps). */
export const FRAME_HEADERS = 14 + 20 + 32;

/** Appends pcap records (classic, little-endian, microseconds, Ethernet) to a file through one large buffer. */
export class PcapWriter {
  readonly buf: Buffer;
  pos = 0;
  /** Bytes written to the file so far plus bytes buffered. */
  total = 0;
  packets = 0;
  capturedBytes = 0;
  payloadBytes = 0;
  clientPayloadBytes = 0;
  portSum = 0;

  constructor(
    private readonly fd: number,
    bufferBytes = 8 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Make room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }

  flush(): void {
    let done = 0;
    while (done < this.pos) done += writeSync(this.fd, this.buf, done, this.pos - done);
    this.pos = 0;
  }

  fileHeader(snaplen = 262144): void {
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, 0); // microsecond magic, written little-endian
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8); // thiszone
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(snaplen, 16);
    b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
    this.total = 24;
  }
}

/** One TCP segment's addressing and header fields. */
export interface Frame {
  /** 6 bytes each. */
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  /** Written only when flags has ACK. */
  ack: number;
  flags: number;
  window: number;
  ipId: number;
  tsval: number;
  tsecr: number;
  /** Counted in PcapWriter.clientPayloadBytes. */
  fromClient: boolean;
}

export const enum TcpFlag {
  Fin = 0x01,
  Syn = 0x02,
  Psh = 0x08,
  Ack = 0x10,
}

/**
 * Append one record: pcap record header, Ethernet (IPv4), IPv4 without options (DF, TTL 64, valid
 * header checksum), TCP with a 32-byte header (NOP, NOP, timestamps). With `payload`, its bytes
 * [from, from + length) are copied in and, with `tcpChecksum`, the TCP checksum is computed over
 * them; without, the payload is left for the caller to fill at the returned offset (valid until
 * the next call) and the checksum is 0 (as on a host that offloads checksums).
 */
export function writeFrame(w: PcapWriter, sec: number, usec: number, f: Frame, length: number, payload: Uint8Array | null = null, from = 0, tcpChecksum = false): number {
  const frame = FRAME_HEADERS + length;
  w.reserve(RECORD_HEADER + frame);
  const b = w.buf;
  let p = w.pos;
  b.writeUInt32LE(sec, p);
  b.writeUInt32LE(usec, p + 4);
  b.writeUInt32LE(frame, p + 8);
  b.writeUInt32LE(frame, p + 12);
  p += RECORD_HEADER;
  b.set(f.dstMac, p);
  b.set(f.srcMac, p + 6);
  b[p + 12] = 0x08;
  b[p + 13] = 0x00;
  p += 14;
  const ip = p;
  b[ip] = 0x45;
  b[ip + 1] = 0;
  b.writeUInt16BE(20 + 32 + length, ip + 2);
  b.writeUInt16BE(f.ipId & 0xffff, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6);
  b[ip + 8] = 64;
  b[ip + 9] = 6;
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt32BE(f.srcIp >>> 0, ip + 12);
  b.writeUInt32BE(f.dstIp >>> 0, ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[ip + i]! << 8) | b[ip + i + 1]!;
  b.writeUInt16BE(~fold(sum) & 0xffff, ip + 10);
  p += 20;
  const tcp = p;
  b.writeUInt16BE(f.srcPort, p);
  b.writeUInt16BE(f.dstPort, p + 2);
  b.writeUInt32BE(f.seq >>> 0, p + 4);
  b.writeUInt32BE(f.flags & TcpFlag.Ack ? f.ack >>> 0 : 0, p + 8);
  b[p + 12] = 8 << 4; // data offset: 8 words
  b[p + 13] = f.flags;
  b.writeUInt16BE(f.window, p + 14);
  b.writeUInt32BE(0, p + 16); // checksum (below) and urgent pointer
  b[p + 20] = 1;
  b[p + 21] = 1;
  b[p + 22] = 8;
  b[p + 23] = 10;
  b.writeUInt32BE(f.tsval >>> 0, p + 24);
  b.writeUInt32BE(f.tsecr >>> 0, p + 28);
  p += 32;
  if (payload !== null && length > 0) b.set(payload.subarray(from, from + length), p);
  if (tcpChecksum) {
    // Pseudo-header (addresses, protocol, TCP length), then the TCP header and payload as 16-bit words.
    let s = (f.srcIp >>> 16) + (f.srcIp & 0xffff) + (f.dstIp >>> 16) + (f.dstIp & 0xffff) + 6 + 32 + length;
    const end = p + length;
    let i = tcp;
    for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
    if (i < end) s += b[i]! << 8;
    b.writeUInt16BE(~fold(s) & 0xffff || 0xffff, tcp + 16);
  }
  w.pos = p + length;
  w.total += RECORD_HEADER + frame;
  w.packets++;
  w.capturedBytes += frame;
  w.payloadBytes += length;
  if (f.fromClient) w.clientPayloadBytes += length;
  w.portSum += f.srcPort + f.dstPort;
  return p;
}

/** The sequence number after a segment: its payload, plus one for SYN and FIN. */
export function seqAfter(seq: number, length: number, flags: number): number {
  return (seq + length + (flags & (TcpFlag.Syn | TcpFlag.Fin) ? 1 : 0)) >>> 0;
}

/** What every generated capture's sidecar (`<capture>.meta.json`) records, at least. */
export interface GeneratedMeta {
  generator: number;
  seed: number;
  /** Requested size in bytes; the file is at least this long. */
  targetBytes: number;
  /** Actual file size in bytes. */
  size: number;
  packets: number;
  /** Sum of caplen over all records. */
  capturedBytes: number;
  /** Sum of TCP payload lengths. */
  payloadBytes: number;
  /** Sum of TCP payload lengths of the clients' segments (to port 3306); the rest is the server's. */
  clientPayloadBytes: number;
  /** Sum of TCP source + destination ports over all packets (a cross-check for the readers). */
  portSum: number;
}

/** The sidecar fields a PcapWriter knows once the capture is written. */
export function generatedMeta(w: PcapWriter, generator: number, seed: number, targetBytes: number): GeneratedMeta {
  return { generator, seed, targetBytes, size: w.total, packets: w.packets, capturedBytes: w.capturedBytes, payloadBytes: w.payloadBytes, clientPayloadBytes: w.clientPayloadBytes, portSum: w.portSum };
}

const metaPath = (capturePath: string): string => `${capturePath}.meta.json`;

/** The sidecar of an existing capture, if the file is complete and was made by this generator version with this seed and size. */
export function cachedCapture<M extends GeneratedMeta>(path: string, generator: number, seed: number, targetBytes: number): M | null {
  if (!existsSync(path) || !existsSync(metaPath(path))) return null;
  try {
    const meta = JSON.parse(readFileSync(metaPath(path), 'utf8')) as M;
    const ok = meta.generator === generator && meta.seed === seed && meta.targetBytes === targetBytes && statSync(path).size === meta.size;
    return ok ? meta : null;
  } catch {
    return null;
  }
}

/**
 * Write a capture at `path`: the file header, then `generate` writes the records and returns the
 * sidecar. Written to a temporary file renamed when complete; the sidecar is written last.
 */
export function writeCapture<M>(path: string, generate: (w: PcapWriter) => M, sidecarIndent = 2): M {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let meta: M;
  try {
    const w = new PcapWriter(fd);
    w.fileHeader();
    meta = generate(w);
    w.flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  writeFileSync(metaPath(path), `${JSON.stringify(meta, null, sidecarIndent)}\n`);
  return meta;
}

/** One's-complement fold of a sum of 16-bit words. */
function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

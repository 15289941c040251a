/**
 * Synthesizes the benchmark capture: a classic little-endian microsecond pcap (Ethernet link type)
 * that looks like MySQL traffic recorded on the loopback interface of a busy server.
 *
 * Shape of the traffic (all sizes are TCP payload bytes; every frame adds 14 Ethernet + 20 IPv4 +
 * 32 TCP (with the timestamps option, as Linux sends it) = 66 header bytes, and 16 bytes of pcap
 * record header):
 *   - 256 client connections open at a time to 127.0.0.1:3306, each from its own ephemeral port;
 *     connections are replaced now and then (FIN both ways), new ones start with a three-way
 *     handshake, a server greeting, a login request and its OK;
 *   - one exchange = a COM_QUERY from the client (60–300 bytes), then the server's reply:
 *     35 % OK (11 bytes), 5 % ERR (30–120 bytes), 60 % result set in one segment, whose size is
 *     drawn log-uniformly from one of three bands: 70 % 200 B–2 KB, 25 % 2–16 KB, 5 % 16 KB up to
 *     65483 bytes (the loopback MSS: 65535 − 20 − 32);
 *   - 30 % of replies are followed by a pure ACK from the client.
 * Sequence and acknowledgement numbers are consistent per connection: each segment's sequence
 * number is the previous one's plus its payload length (plus 1 for a SYN or FIN), and every ACK
 * acknowledges exactly what the peer has sent; nothing is lost, retransmitted or reordered, so TCP
 * reassembly must deliver every payload byte in order with no gap. IPv4 header checksums are
 * valid, TCP checksums are left 0 (the kernel offloads them on loopback, so real captures show
 * garbage there too). Timestamps strictly increase. MySQL packet headers are written at the start
 * of queries, OKs and ERRs; the rest of every payload is pseudo-random bytes from a seeded PRNG, so
 * the file is the same, byte for byte, for the same seed and size.
 *
 * Written through one 8 MiB buffer with fs.writeSync into a temporary file, renamed when complete;
 * a JSON sidecar records what was written so the next run can reuse the file.
 */
import { cachedCapture, generatedMeta, Prng, seqAfter, TcpFlag as Flag, writeCapture, writeFrame, type Frame, type GeneratedMeta, type PcapWriter } from './pcap-writer.js';

/**
 * Bump when the traffic shape or the sidecar's fields change, so stale files are regenerated.
 * 4: the sidecar also records the client → server payload bytes (the traffic is unchanged: the
 * file is byte for byte the one version 3 wrote).
 */
export const GENERATOR_VERSION = 4;

/** The sidecar: the file (its target size is reached on a whole exchange) and what it holds. */
export interface CaptureMeta extends GeneratedMeta {
  /** Connections opened over the whole capture. */
  connections: number;
  exchanges: number;
}

const CONCURRENT_CONNECTIONS = 256;
const SERVER_PORT = 3306;
const LOOPBACK = 0x7f000001;
/** 65535 (max IPv4 total length) − 20 (IPv4) − 32 (TCP with timestamps). */
const LOOPBACK_MSS = 65483;
const POOL_BYTES = 4 * 1024 * 1024;
/** 2025-01-01T00:00:00Z */
const START_SEC = 1735689600;

/** Per-connection TCP state, indexed by connection slot. */
interface Conn {
  open: boolean;
  clientPort: number;
  clientSeq: number;
  serverSeq: number;
}

class TrafficGenerator {
  private readonly rng: Prng;
  /** Pseudo-random bytes payloads are copied from (at random offsets). */
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private readonly conns: Conn[] = [];
  /** Loopback frames carry all-zero MAC addresses. */
  private readonly frame: Frame = { srcMac: new Uint8Array(6), dstMac: new Uint8Array(6), srcIp: LOOPBACK, dstIp: LOOPBACK, srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, ipId: 0, tsval: 0, tsecr: 0, fromClient: false };
  private nextPort = 32768;
  private ipId = 0;
  /** Microseconds since START_SEC. */
  private clockUs = 0;
  connections = 0;
  exchanges = 0;

  constructor(
    private readonly w: PcapWriter,
    seed: number,
  ) {
    this.rng = new Prng(seed);
    for (let i = 0; i < POOL_BYTES; i += 4) this.pool.writeUInt32LE(this.rng.u32(), i);
    for (let i = 0; i < CONCURRENT_CONNECTIONS; i++) this.conns.push({ open: false, clientPort: 0, clientSeq: 0, serverSeq: 0 });
  }

  /** One client request and everything that follows it on one connection. */
  exchange(): void {
    const rng = this.rng;
    const c = this.conns[rng.int(0, CONCURRENT_CONNECTIONS - 1)]!;
    if (!c.open) this.connect(c);
    this.exchanges++;

    // COM_QUERY: 3-byte length, sequence id 0, command 0x03, statement text.
    const qLen = rng.int(60, 300);
    let p = this.packet(c, true, Flag.Psh | Flag.Ack, qLen);
    this.mysqlHeader(p, qLen - 4, 0);
    this.w.buf[p + 4] = 0x03;
    this.tick(rng.int(30, 2000)); // server think time

    const r = rng.float();
    if (r < 0.35) {
      p = this.packet(c, false, Flag.Psh | Flag.Ack, 11);
      this.ok(p, 1);
    } else if (r < 0.4) {
      const eLen = rng.int(30, 120);
      p = this.packet(c, false, Flag.Psh | Flag.Ack, eLen);
      const b = this.w.buf;
      this.mysqlHeader(p, eLen - 4, 1);
      b[p + 4] = 0xff;
      b.writeUInt16LE(1146, p + 5); // ER_NO_SUCH_TABLE
      b.write('#42S02', p + 7, 'latin1');
    } else {
      const band = rng.float();
      const size = band < 0.7 ? rng.logInt(200, 2048) : band < 0.95 ? rng.logInt(2048, 16384) : rng.logInt(16384, LOOPBACK_MSS);
      p = this.packet(c, false, Flag.Psh | Flag.Ack, size);
      this.mysqlHeader(p, 1, 1); // column count packet; rows follow in the same segment
      this.w.buf[p + 4] = rng.int(1, 20);
    }
    if (rng.float() < 0.3) {
      this.tick(rng.int(10, 50));
      this.packet(c, true, Flag.Ack, 0);
    }
    if (rng.float() < 0.0005) this.disconnect(c);
    this.tick(rng.int(0, 200)); // until the next request on any connection
  }

  private connect(c: Conn): void {
    const rng = this.rng;
    c.open = true;
    c.clientPort = this.nextPort;
    this.nextPort = this.nextPort >= 60999 ? 32768 : this.nextPort + 1;
    c.clientSeq = rng.u32();
    c.serverSeq = rng.u32();
    this.connections++;
    this.packet(c, true, Flag.Syn, 0);
    this.tick(rng.int(5, 20));
    this.packet(c, false, Flag.Syn | Flag.Ack, 0);
    this.tick(rng.int(5, 20));
    this.packet(c, true, Flag.Ack, 0);
    this.tick(rng.int(50, 200));
    let p = this.packet(c, false, Flag.Psh | Flag.Ack, 78); // server greeting (HandshakeV10)
    this.mysqlHeader(p, 74, 0);
    this.w.buf[p + 4] = 10;
    this.tick(rng.int(100, 500));
    const loginLen = rng.int(90, 200); // HandshakeResponse41
    p = this.packet(c, true, Flag.Psh | Flag.Ack, loginLen);
    this.mysqlHeader(p, loginLen - 4, 1);
    this.tick(rng.int(100, 500));
    p = this.packet(c, false, Flag.Psh | Flag.Ack, 11);
    this.ok(p, 2);
    this.tick(rng.int(10, 100));
  }

  private disconnect(c: Conn): void {
    const p = this.packet(c, true, Flag.Psh | Flag.Ack, 5); // COM_QUIT
    this.mysqlHeader(p, 1, 0);
    this.w.buf[p + 4] = 0x01;
    this.tick(10);
    this.packet(c, true, Flag.Fin | Flag.Ack, 0);
    this.tick(20);
    this.packet(c, false, Flag.Fin | Flag.Ack, 0);
    this.tick(10);
    this.packet(c, true, Flag.Ack, 0);
    c.open = false;
  }

  private tick(us: number): void {
    this.clockUs += us;
  }

  private mysqlHeader(p: number, length: number, seq: number): void {
    const b = this.w.buf;
    b[p] = length & 0xff;
    b[p + 1] = (length >> 8) & 0xff;
    b[p + 2] = (length >> 16) & 0xff;
    b[p + 3] = seq;
  }

  /** OK_Packet: header, 0x00, affected rows 0, insert id 0, status SERVER_STATUS_AUTOCOMMIT, 0 warnings. */
  private ok(p: number, seq: number): void {
    this.mysqlHeader(p, 7, seq);
    this.w.buf.set([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00], p + 4);
  }

  /**
   * Append one frame (Ethernet, IPv4, TCP with timestamps, payload filled with pseudo-random bytes)
   * and advance the clock by 1 µs so timestamps strictly increase. Returns the payload's offset in
   * the writer's buffer (valid until the next call).
   */
  private packet(c: Conn, fromClient: boolean, flags: number, payloadLen: number): number {
    this.clockUs += 1;
    const f = this.frame;
    f.srcPort = fromClient ? c.clientPort : SERVER_PORT;
    f.dstPort = fromClient ? SERVER_PORT : c.clientPort;
    f.seq = fromClient ? c.clientSeq : c.serverSeq;
    f.ack = fromClient ? c.serverSeq : c.clientSeq;
    f.flags = flags;
    f.window = flags & Flag.Syn ? 65495 : 65535; // no window scaling negotiated
    f.ipId = this.ipId = (this.ipId + 1) & 0xffff;
    f.tsval = f.tsecr = (this.clockUs / 1000) >>> 0;
    f.fromClient = fromClient;
    const p = writeFrame(this.w, START_SEC + Math.floor(this.clockUs / 1e6), this.clockUs % 1e6, f, payloadLen);
    // Payload: pseudo-random bytes; callers overwrite the first bytes with protocol headers.
    if (payloadLen > 0) {
      const from = this.rng.int(0, POOL_BYTES - payloadLen);
      this.pool.copy(this.w.buf, p, from, from + payloadLen);
    }
    if (fromClient) c.clientSeq = seqAfter(c.clientSeq, payloadLen, flags);
    else c.serverSeq = seqAfter(c.serverSeq, payloadLen, flags);
    return p;
  }
}

/** The sidecar of an existing capture, if the file is complete and was made with these parameters. */
export function existingCapture(path: string, targetBytes: number, seed: number): CaptureMeta | null {
  return cachedCapture<CaptureMeta>(path, GENERATOR_VERSION, seed, targetBytes);
}

/** Write a capture of at least `targetBytes` bytes at `path` (and its sidecar). */
export function synthesizeCapture(path: string, targetBytes: number, seed: number): CaptureMeta {
  return writeCapture(path, (w) => {
    const gen = new TrafficGenerator(w, seed);
    while (w.total < targetBytes) gen.exchange();
    return { ...generatedMeta(w, GENERATOR_VERSION, seed, targetBytes), connections: gen.connections, exchanges: gen.exchanges };
  });
}

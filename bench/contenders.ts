/**
 * The workloads the benchmark times. Each runs alone in a fresh child process (see run.ts), reads
 * the whole capture once and returns counts and checksums, so the work cannot be optimised away
 * and the parent can check that every contender saw the same packets.
 *
 * Libraries are loaded by `loadContender`, so a child loads only what its contender needs (its peak
 * RSS is that contender's own) and loads it before the clock starts.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

export const CONTENDERS = ['bare', 'periscope-decode', 'periscope-reassembly', 'periscope-read', 'periscope-rotated', 'pcap-parser'] as const;
export type ContenderName = (typeof CONTENDERS)[number];

/** Not a contender: a child that does nothing, to show Node's own baseline RSS. */
export const BASELINE = 'baseline';

export const LABELS: Readonly<Record<ContenderName, string>> = {
  bare: 'bare loop (readSync 4 MiB + record walk)',
  'periscope-decode': 'periscope reader + link/IP/TCP decode',
  'periscope-reassembly': 'periscope reader + decode + TCP reassembly',
  'periscope-read': 'periscope reader only',
  'periscope-rotated': 'periscope reader + decode, 60 rotated files',
  'pcap-parser': 'pcap-parser (npm 0.2.1)',
};

/** Contenders that read a directory of rotated parts of the capture instead of the file itself. */
export const ROTATED: ReadonlySet<ContenderName> = new Set(['periscope-rotated']);

/** What a workload saw. Fields a contender does not compute are null. */
export interface Outcome {
  packets: number;
  /** Capture files Periscope read (a directory counts its files); null for the other readers. */
  files: number | null;
  /** Sum of caplen. */
  capturedBytes: number | null;
  /** Sum of TCP payload lengths. */
  payloadBytes: number | null;
  /** Sum of TCP source + destination ports. */
  portSum: number | null;
  /** TCP reassembly only (null for the others): payload bytes delivered client → server. */
  clientPayloadBytes: number | null;
  /** TCP reassembly only: connections whose handler saw onClose (every one, at the latest at capture end). */
  connections: number | null;
  /** TCP reassembly only: gap events (onGap calls, any reason and size). */
  gaps: number | null;
  /** TCP reassembly only: segments counted as retransmitted, overlapping, out of order or late. */
  tcpAnomalies: number | null;
}

/** Outcome fields only the reassembly contender computes. */
const NO_REASSEMBLY = { clientPayloadBytes: null, connections: null, gaps: null, tcpAnomalies: null } as const;

const CHUNK = 4 * 1024 * 1024;
/** Room for one record that straddles two chunks: record header + libpcap's largest snap length. */
const SPARE = 16 + 262144;
const GLOBAL_HEADER = 24;

/**
 * The reference: the least work that still visits every packet. Reads 4 MiB chunks with readSync
 * into one buffer, walks the 16-byte record headers (little-endian classic pcap) and reads both TCP
 * ports at fixed offsets (Ethernet 14 + IPv4 20, no options assumed). A record cut by the chunk end
 * is moved to the front of the buffer and completed by the next read.
 */
export function bareLoop(path: string): Outcome {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK + SPARE);
  let packets = 0;
  let capturedBytes = 0;
  let portSum = 0;
  let carry = 0; // bytes of an incomplete record kept at the front of buf
  let skip = GLOBAL_HEADER;
  try {
    for (;;) {
      const n = readSync(fd, buf, carry, CHUNK, null);
      if (n === 0) break;
      const end = carry + n;
      let p = skip;
      skip = 0;
      for (;;) {
        if (p + 16 > end) break;
        const caplen = (buf[p + 8]! | (buf[p + 9]! << 8) | (buf[p + 10]! << 16) | (buf[p + 11]! << 24)) >>> 0;
        const next = p + 16 + caplen;
        if (next > end) {
          if (16 + caplen > SPARE) throw new Error(`record at chunk offset ${p} claims ${caplen} bytes`);
          break;
        }
        const tcp = p + 16 + 14 + 20;
        portSum += ((buf[tcp]! << 8) | buf[tcp + 1]!) + ((buf[tcp + 2]! << 8) | buf[tcp + 3]!);
        capturedBytes += caplen;
        packets++;
        p = next;
      }
      carry = end - p;
      if (carry > 0) buf.copyWithin(0, p, end);
    }
  } finally {
    closeSync(fd);
  }
  if (carry !== 0) throw new Error(`file ends inside a record (${carry} bytes left)`);
  return { packets, files: null, capturedBytes, payloadBytes: null, portSum, ...NO_REASSEMBLY };
}

/** A workload, ready to run: its modules are loaded, so the timing leaves out module loading. */
export type Workload = (path: string) => Outcome | Promise<Outcome>;

/**
 * Periscope's real reading path, and its link/IP/TCP decoder on every packet. The path may be a
 * directory (periscope-rotated): readCaptures expands it and merges its files by timestamp.
 */
async function periscopeDecode(): Promise<Workload> {
  const { readCaptures } = await import('../analyze/read/captures.js');
  const { PacketDecoder } = await import('../src/net/decode.js');
  return async (path) => {
    const decoder = new PacketDecoder();
    let payloadBytes = 0;
    let portSum = 0;
    const result = await readCaptures([path], (record) => {
      if (decoder.decode(record)) {
        payloadBytes += decoder.payloadLength;
        portSum += decoder.srcPort + decoder.dstPort;
      }
    });
    failOnProblems(result.files);
    const capturedBytes = result.files.reduce((sum, f) => sum + f.capturedBytes, 0);
    return { packets: result.packets, files: result.files.length, capturedBytes, payloadBytes, portSum, ...NO_REASSEMBLY };
  };
}

/**
 * periscope-decode plus TCP reassembly: every decoded segment goes to a TcpReassembler (server port
 * 3306), whose handlers add up the bytes delivered per direction and count gap events; finish()
 * at the end closes the connections still open, and each handler adds its sums to the totals
 * when it is closed. The per-packet sums are those of periscope-decode except that payloadBytes is
 * what reassembly delivered, not what the decoder saw, so the difference in time is the
 * reassembler (and the handler calls).
 */
async function periscopeReassembly(): Promise<Workload> {
  const { readCaptures } = await import('../analyze/read/captures.js');
  const { PacketDecoder } = await import('../src/net/decode.js');
  const { TcpReassembler } = await import('../src/tcp/reassembler.js');
  type StreamHandler = import('../src/tcp/stream.js').StreamHandler;
  return async (path) => {
    const decoder = new PacketDecoder();
    const delivered = [0, 0]; // index Dir: client → server, server → client
    let gaps = 0;
    let closed = 0;
    /** One per connection; the reassembler calls it synchronously. */
    class CountingHandler implements StreamHandler {
      private readonly bytes = [0, 0];
      onData(dir: number, _buf: Uint8Array, _offset: number, length: number): void {
        this.bytes[dir]! += length;
      }
      onGap(): void {
        gaps++;
      }
      onClose(): void {
        delivered[0]! += this.bytes[0]!;
        delivered[1]! += this.bytes[1]!;
        this.bytes[0] = this.bytes[1] = 0;
        closed++;
      }
    }
    const reassembler = new TcpReassembler(() => new CountingHandler(), { serverPorts: [3306] });
    let portSum = 0;
    const result = await readCaptures([path], (record) => {
      if (decoder.decode(record)) {
        portSum += decoder.srcPort + decoder.dstPort;
        reassembler.add(decoder, record.tsSec, record.tsNsec);
      }
    });
    failOnProblems(result.files);
    const last = result.files.reduce<{ sec: number; nsec: number } | null>((a, f) => (f.lastTs === null || (a !== null && (a.sec > f.lastTs.sec || (a.sec === f.lastTs.sec && a.nsec >= f.lastTs.nsec))) ? a : f.lastTs), null);
    reassembler.finish(last?.sec ?? 0, last?.nsec ?? 0);
    const capturedBytes = result.files.reduce((sum, f) => sum + f.capturedBytes, 0);
    const t = reassembler.totals;
    return {
      packets: result.packets,
      files: result.files.length,
      capturedBytes,
      payloadBytes: delivered[0]! + delivered[1]!,
      portSum,
      clientPayloadBytes: delivered[0]!,
      connections: closed,
      gaps,
      tcpAnomalies: t.retransmitted + t.overlapping + t.outOfOrder + t.late,
    };
  };
}

/** Periscope's reading path alone: file source, pcap parser, timestamp merge, per-file counters. */
async function periscopeRead(): Promise<Workload> {
  const { readCaptures } = await import('../analyze/read/captures.js');
  return async (path) => {
    let capturedBytes = 0;
    const result = await readCaptures([path], (record) => {
      capturedBytes += record.caplen;
    });
    failOnProblems(result.files);
    return { packets: result.packets, files: result.files.length, capturedBytes, payloadBytes: null, portSum: null, ...NO_REASSEMBLY };
  };
}

function failOnProblems(files: readonly { path: string; ignored: string | null; failure: { message: string } | null; truncatedTail: { message: string } | null }[]): void {
  for (const f of files) {
    const problem = f.failure ?? f.truncatedTail;
    if (problem) throw new Error(`${f.path}: ${problem.message}`);
    if (f.ignored !== null) throw new Error(`${f.path}: ignored (${f.ignored})`);
  }
}

/** The shape of the (untyped, CommonJS) pcap-parser module, as far as it is used here. */
interface PcapParserModule {
  parse(input: NodeJS.ReadableStream | string): PcapParserEmitter;
}
interface PcapParserEmitter {
  on(event: 'packet', listener: (packet: { header: { capturedLength: number }; data: Buffer }) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

/** pcap-parser fed by fs.createReadStream (its documented use), counting 'packet' events. */
function pcapParser(): Workload {
  const pcapp = createRequire(import.meta.url)('pcap-parser') as PcapParserModule;
  return (path) =>
    new Promise((resolve, reject) => {
      let packets = 0;
      let capturedBytes = 0;
      const parser = pcapp.parse(createReadStream(path));
      parser.on('packet', (packet) => {
        packets++;
        capturedBytes += packet.header.capturedLength;
      });
      parser.on('error', reject);
      parser.on('end', () => resolve({ packets, files: null, capturedBytes, payloadBytes: null, portSum: null, ...NO_REASSEMBLY }));
    });
}

/** Load a contender's modules and return its workload. */
export async function loadContender(name: ContenderName): Promise<Workload> {
  switch (name) {
    case 'bare':
      return bareLoop;
    case 'periscope-decode':
    case 'periscope-rotated':
      return periscopeDecode();
    case 'periscope-reassembly':
      return periscopeReassembly();
    case 'periscope-read':
      return periscopeRead();
    case 'pcap-parser':
      return pcapParser();
    default: {
      const never: never = name;
      throw new Error(`unknown contender ${String(never)}`);
    }
  }
}

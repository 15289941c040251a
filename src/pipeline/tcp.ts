/**
 * The first two steps every command shares: a captured packet record → link/IP/TCP decoding
 * (src/net) → TCP reassembly (src/tcp), which hands each connection's byte streams to the handler
 * the factory makes for it. `info` puts its own per-connection tally behind it; the MySQL
 * pipeline (mysql.ts, used by events, trace, analyze, advise, live) puts a MySQL session.
 */
import { PacketDecoder } from '../net/decode.js';
import { sniffGreeting } from '../mysql/greeting.js';
import { TcpReassembler, type ReassemblyOptions } from '../tcp/reassembler.js';
import type { HandlerFactory } from '../tcp/stream.js';
import type { PacketRecord } from '../pcap/record.js';

/** The reassembly limits a user can set (the rest is the pipeline's). */
export type TcpLimits = Pick<ReassemblyOptions, 'maxBufferPerConnection' | 'maxBufferTotal' | 'maxConnections' | 'idleTimeoutSec' | 'reorderWindow' | 'memoryBudget'>;

export class TcpPipeline {
  readonly decoder = new PacketDecoder();
  readonly reassembler: TcpReassembler;
  /** The last record's capture time (a connection still open at the end closes then). */
  lastSec = 0;
  lastNsec = 0;

  /**
   * `ports`: the server ports known in advance (3306, --port); a port whose first bytes are a
   * MySQL greeting is learnt as one.
   */
  constructor(factory: HandlerFactory, ports: readonly number[], limits: TcpLimits = {}) {
    this.reassembler = new TcpReassembler(factory, { ...limits, serverPorts: ports, isServerHello: (b, o, l) => sniffGreeting(b, o, l) !== null });
  }

  /**
   * One captured packet. True when it was a TCP segment, handed to reassembly unless `accept`
   * (seeing the decoded segment in `decoder`) said no.
   */
  add(rec: PacketRecord, accept?: (d: PacketDecoder) => boolean): boolean {
    this.lastSec = rec.tsSec;
    this.lastNsec = rec.tsNsec;
    if (!this.decoder.decode(rec)) return false;
    if (accept === undefined || accept(this.decoder)) this.reassembler.add(this.decoder, rec.tsSec, rec.tsNsec);
    return true;
  }

  /**
   * A TCP segment decoded elsewhere (`d` filled as `decode()` would: a parallel analysis' reader
   * decodes every packet once and routes it to the worker that owns its connection).
   */
  addSegment(d: PacketDecoder, sec: number, nsec: number): void {
    this.lastSec = sec;
    this.lastNsec = nsec;
    this.reassembler.add(d, sec, nsec);
  }

  /** End of the capture: every connection still open closes (at the last record's time unless told). */
  finish(sec = this.lastSec, nsec = this.lastNsec): void {
    this.reassembler.finish(sec, nsec);
  }
}

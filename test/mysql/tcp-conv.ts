/**
 * One MySQL conversation as real TCP segments (test/tcp/harness.ts frames), decoded by
 * MysqlPipeline: for the pipeline tests that need the whole path (mid-stream starts, lost
 * segments, odd segment boundaries, ports and content).
 */
import { zstdSupport } from '../../analyze/zstd.js';
import { MysqlPipeline, type PipelineOptions } from '../../src/pipeline/mysql.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { newPacketRecord } from '../../src/pcap/record.js';
import { frame, Tuple, type Seg } from '../tcp/harness.js';
import type { Pkt } from '../live/mutate.js';

/** One connection as TCP segments: each `c`/`s` call is one segment (or several, with `cuts`). */
export class TcpConv {
  readonly segs: Seg[] = [];
  private crel = 0;
  private srel = 0;
  private us = 1_000_000;

  constructor(
    readonly t = new Tuple('10.1.1.1', '10.1.1.2', 40000, 3306, 1000, 900_000),
    withSyn = true,
  ) {
    if (withSyn) this.segs.push(...t.handshake().map((s) => this.at(s)));
  }

  private at(s: Seg): Seg {
    this.us += 100;
    return { ...s, sec: Math.floor(this.us / 1e6), nsec: (this.us % 1e6) * 1000 };
  }

  /** Client bytes, cut into segments at `cuts` (offsets inside `b`); `drop` segments are not captured. */
  c(b: Uint8Array, cuts: number[] = [], drop: number[] = []): this {
    this.push(b, cuts, drop, true);
    return this;
  }

  s(b: Uint8Array, cuts: number[] = [], drop: number[] = []): this {
    this.push(b, cuts, drop, false);
    return this;
  }

  private push(b: Uint8Array, cuts: number[], drop: number[], client: boolean): void {
    const ends = [...cuts, b.length];
    let at = 0;
    ends.forEach((end, i) => {
      const piece = b.subarray(at, end);
      const seg = client ? this.t.c(this.crel + at, piece, 'PA', this.srel) : this.t.s(this.srel + at, piece, 'PA', this.crel);
      if (!drop.includes(i)) this.segs.push(this.at(seg));
      at = end;
    });
    if (client) this.crel += b.length;
    else this.srel += b.length;
    // The peer acknowledges: a lost segment is then known to be lost (not merely late).
    const ack = client ? this.t.s(this.srel, '', 'A', this.crel) : this.t.c(this.crel, '', 'A', this.srel);
    this.segs.push(this.at(ack));
  }

  /** The server closes first. */
  serverFin(): this {
    this.segs.push(this.at(this.t.s(this.srel, '', 'FA', this.crel)), this.at(this.t.c(this.crel, '', 'FA', this.srel + 1)), this.at(this.t.s(this.srel + 1, '', 'A', this.crel + 1)));
    return this;
  }

  /** A RST from the client or the server. */
  rst(client: boolean): this {
    this.segs.push(this.at(client ? this.t.c(this.crel, '', 'R', this.srel) : this.t.s(this.srel, '', 'R', this.crel)));
    return this;
  }

  /** Nothing for `us` microseconds. */
  wait(us: number): this {
    this.us += us;
    return this;
  }

  fin(): this {
    this.segs.push(this.at(this.t.c(this.crel, '', 'FA', this.srel)), this.at(this.t.s(this.srel, '', 'FA', this.crel + 1)), this.at(this.t.c(this.crel + 1, '', 'A', this.srel + 1)));
    return this;
  }
}

/** Segments of one connection (a TcpConv, or part of one). */
export interface Conversation {
  readonly segs: readonly Seg[];
}

/** Feed the connections' segments (in time order) to a pipeline; its events and the pipeline. */
export function run(...convs: Conversation[]): { events: CommandEvent[]; pipeline: MysqlPipeline } {
  return runWith({}, ...convs);
}

export function runWith(o: Partial<Omit<PipelineOptions, 'onEvent'>>, ...convs: Conversation[]): { events: CommandEvent[]; pipeline: MysqlPipeline } {
  const events: CommandEvent[] = [];
  const pipeline = new MysqlPipeline({ ports: [3306], ...o, session: { zstd: zstdSupport(), ...o.session }, onEvent: (e) => events.push(e) });
  const segs = convs.flatMap((c) => c.segs).sort((a, b) => a.sec! - b.sec! || a.nsec! - b.nsec!);
  for (const s of segs) {
    const { bytes, caplen } = frame(s);
    const rec = newPacketRecord();
    rec.data = bytes;
    rec.caplen = caplen;
    rec.origLen = bytes.length;
    rec.linkType = 1;
    rec.tsSec = s.sec!;
    rec.tsNsec = s.nsec!;
    pipeline.add(rec);
  }
  pipeline.finish();
  return { events, pipeline };
}

/** Feed recorded packets (test/live/mutate.ts `readCapture`) to a pipeline: its events and totals. */
export function feedPackets(linkType: number, pkts: readonly Pkt[], o: Partial<Omit<PipelineOptions, 'onEvent'>> = {}): { events: CommandEvent[]; pipeline: MysqlPipeline } {
  const events: CommandEvent[] = [];
  const pipeline = new MysqlPipeline({ ports: [3306], ...o, session: { zstd: zstdSupport(), ...o.session }, onEvent: (e) => events.push(e) });
  for (const k of pkts) {
    const rec = newPacketRecord();
    rec.data = k.frame;
    rec.caplen = k.frame.length;
    rec.origLen = k.origLen;
    rec.linkType = linkType;
    rec.tsSec = k.sec;
    rec.tsNsec = k.nsec;
    pipeline.add(rec);
  }
  pipeline.finish();
  return { events, pipeline };
}

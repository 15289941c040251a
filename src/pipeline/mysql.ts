/**
 * The decoding pipeline shared by `events`, `trace`, `analyze`, `advise` and `live`: captured
 * packets → link/IP/TCP decoding → TCP reassembly (tcp.ts) → one MySQL session per connection
 * (src/mysql) → command events, in request order across connections (ordered.ts) when asked,
 * and the sessions' counters summed for the health report.
 */
import type { PacketDecoder } from '../net/decode.js';
import { MysqlSession, type CommandEvent, type SessionCounters, type SessionOptions } from '../mysql/session.js';
import { tlsCategory } from '../mysql/tls.js';
import { ProbeBudget, ProbeHandler } from '../mysql/detect.js';
import type { TcpReassembler } from '../tcp/reassembler.js';
import type { ConnectionInfo, StreamHandler } from '../tcp/stream.js';
import type { PacketRecord } from '../pcap/record.js';
import { OrderedEvents } from './ordered.js';
import { TcpPipeline, type TcpLimits } from './tcp.js';

export type { TcpLimits } from './tcp.js';

/** The server ports MySQL is looked for on unless told (`--port`); others are learnt from greetings. */
export const DEFAULT_MYSQL_PORTS: readonly number[] = [3306];

export interface PipelineOptions {
  ports: readonly number[];
  tcp?: TcpLimits;
  session?: SessionOptions;
  /** Every command event, in request-time order across connections. */
  onEvent: (e: CommandEvent) => void;
  /**
   * Look at connections that nothing else classifies (no SYN, no greeting, not a MySQL port) for
   * MySQL commands and responses (default true).
   */
  detect?: boolean;
  /** Only this TCP connection id gets a session (trace --conn). */
  onlyConn?: number | null;
  /**
   * Deliver events in request-time order across connections (default). An aggregate does not
   * need it: false hands each event over as soon as its command completes, saving the hold-back.
   */
  ordered?: boolean;
}

const IGNORE: StreamHandler = { onData() {}, onGap() {}, onClose() {} };

/** Sums of every session's counters, for the health report. */
export interface MysqlTotals extends SessionCounters {
  sessions: number;
  tls: number;
  replication: number;
  compressed: number;
  notMysql: number;
  /** Connections whose decoding stopped early, by reason (TLS, replication, undecodable compression, …). */
  stopped: Record<string, number>;
  /** TLS connections decrypted with a key log's secrets; not decrypted: no secret, unsupported version or suite, other (failed, handshake not captured). */
  tlsDecrypted: number;
  /** Of the decrypted: with records that could not be decrypted (a direction without its secret, damage). */
  tlsPartial: number;
  tlsNoSecret: number;
  tlsUnsupported: number;
  tlsFailed: number;
  /** TLS connections that could not be read: what to look for, at most TLS_DETAILS of them. */
  tlsUnread: TlsUnread[];
  /** Connections looked at for MySQL by their content (nothing else classified them). */
  probed: number;
  /**
   * Ports of connections found to be MySQL by their content: how many, and the commands decoded in
   * them. (Each connection is judged on its own, the port is not learnt: a report is the same
   * whatever the number of threads that share the connections.)
   */
  detected: Record<string, { connections: number; commands: number }>;
}

/** A TLS connection that could not be decrypted, and why (what `events`/`analyze` tell the user). */
export interface TlsUnread {
  client: string;
  server: string;
  version: string | null;
  cipher: string | null;
  /** What to look for in a key log (64 hex digits), when the handshake was seen. */
  clientRandom: string | null;
  reason: string;
  /** Decrypted, but some of its records could not be (the commands in them are missing). */
  partial: boolean;
}

/** What a connection's TLS came to, as every command tells it (events, analyze, info). */
export interface TlsOutcome {
  /** decrypted (perhaps in part); no secret; unsupported version or suite; failed (wrong secret, handshake not captured, …). */
  category: 'decrypted' | 'no-secret' | 'unsupported' | 'failed';
  /** Decrypted, but some of its records could not be (the commands in them are missing). */
  partial: boolean;
  version: string | null;
  cipher: string | null;
  clientRandom: string | null;
  /** Why not (or not all of it) was decrypted, with what to do; null when all of it was. */
  reason: string | null;
}

/** The TLS outcome of a session, or null when the connection did not switch to TLS. */
export function tlsOutcome(s: MysqlSession): TlsOutcome | null {
  const layer = s.tlsLayer;
  if (layer === null) return null;
  const tls = layer.info;
  // Decrypted, but not all of it (one side's secret absent, records lost): said, as the others.
  const partial = tls.state === 'decrypting' && layer.counters.recordsUndecryptable > 0;
  const category = tls.state === 'decrypting' ? 'decrypted' : tls.state === 'no-secret' ? 'no-secret' : tls.state === 'unsupported-suite' || tls.state === 'unsupported-version' ? 'unsupported' : 'failed';
  const reason = partial ? `decrypted in part: ${tls.reason ?? 'records not decrypted'}` : tls.state === 'decrypting' ? null : (tls.reason ?? tlsCategory(tls));
  return { category, partial, version: tls.version, cipher: tls.cipherName, clientRandom: tls.clientRandom, reason };
}

/** TLS connections listed one by one at most (the rest are counted). */
export const TLS_DETAILS = 20;

export class MysqlPipeline {
  private readonly tcp: TcpPipeline;
  readonly totals: MysqlTotals = { sessions: 0, tls: 0, replication: 0, compressed: 0, notMysql: 0, stopped: {}, tlsDecrypted: 0, tlsPartial: 0, tlsNoSecret: 0, tlsUnsupported: 0, tlsFailed: 0, tlsUnread: [], probed: 0, detected: {}, commands: 0, protocolViolations: 0, unknownCommands: 0, resyncs: 0, commandsIncomplete: 0, packetsSkipped: 0, commandsUnseen: 0, clientBytesUndecoded: 0 };
  private readonly ordered: OrderedEvents | null;
  /** Bytes all probes may keep at once. */
  readonly probeBudget = new ProbeBudget();
  private packets = 0;

  constructor(opts: PipelineOptions) {
    this.ordered = opts.ordered === false ? null : new OrderedEvents(opts.onEvent);
    const deliver = this.ordered === null ? opts.onEvent : (e: CommandEvent) => this.ordered!.push(e);
    // zstd comes from the caller (analyze/zstd.ts: node:zlib or fzstd); src/ loads no decompressor.
    const sessionOpts: SessionOptions = opts.session ?? {};
    const sessionFor = (info: ConnectionInfo, fromContent = false): StreamHandler => {
      const session = new MysqlSession(info, deliver, sessionOpts);
      this.ordered?.sources.add(session);
      this.totals.sessions++;
      return {
        onData: (d, b, o, l, s, n) => session.onData(d, b, o, l, s, n),
        onGap: (d, bytes, r, s, n) => session.onGap(d, bytes, r, s, n),
        onClose: (r, s, n, by) => {
          session.onClose(r, s, n, by);
          this.ordered?.sources.delete(session);
          this.account(session);
          if (fromContent) {
            const d = (this.totals.detected[String(session.info.serverPort)] ??= { connections: 0, commands: 0 });
            d.connections++;
            d.commands += session.counters.commands;
          }
        },
      };
    };
    this.tcp = new TcpPipeline((info) => {
      const mysqlPort = this.reassembler.serverPorts.has(info.serverPort);
      if (opts.onlyConn != null && info.id !== opts.onlyConn) return IGNORE;
      if (mysqlPort || info.synSeen || info.sidesBy === 'hello') return sessionFor(info);
      if (opts.detect === false) return IGNORE;
      // Nothing says what this connection is: its first bytes may (src/mysql/detect.ts).
      this.totals.probed++;
      return new ProbeHandler(info, this.probeBudget, (i) => sessionFor(i, true), sessionOpts.zstd?.inflate ?? null);
    }, opts.ports, opts.tcp);
  }

  get decoder(): PacketDecoder {
    return this.tcp.decoder;
  }

  get reassembler(): TcpReassembler {
    return this.tcp.reassembler;
  }

  /**
   * One captured packet. `accept`, when given, sees the decoded TCP segment and says whether this
   * pipeline handles its connection (an analysis worker takes its share of the connections).
   */
  add(rec: PacketRecord, accept?: (d: PacketDecoder) => boolean): void {
    this.tcp.add(rec, accept);
    if ((++this.packets & 1023) === 0) this.ordered?.release();
  }

  /** A TCP segment decoded elsewhere (TcpPipeline.addSegment). */
  addSegment(d: PacketDecoder, sec: number, nsec: number): void {
    this.tcp.addSegment(d, sec, nsec);
    if ((++this.packets & 1023) === 0) this.ordered?.release();
  }

  /** The last packet's capture time (what `finish` closes the open connections at). */
  get lastTime(): { sec: number; nsec: number } {
    return { sec: this.tcp.lastSec, nsec: this.tcp.lastNsec };
  }

  /**
   * End of the capture: close every connection and emit what is left. At the last packet's time
   * unless told (a worker that saw only some of the packets is told the capture's last time).
   */
  finish(sec?: number, nsec?: number): void {
    this.tcp.finish(sec, nsec);
    this.ordered?.drain();
  }

  private account(s: MysqlSession): void {
    const t = this.totals;
    const c = s.counters;
    if (s.tls) t.tls++;
    const tls = tlsOutcome(s);
    if (tls !== null) {
      if (tls.category === 'decrypted') t.tlsDecrypted++;
      else if (tls.category === 'no-secret') t.tlsNoSecret++;
      else if (tls.category === 'unsupported') t.tlsUnsupported++;
      else t.tlsFailed++;
      if (tls.partial) t.tlsPartial++;
      if (tls.reason !== null && t.tlsUnread.length < TLS_DETAILS) {
        t.tlsUnread.push({ client: s.info.client, server: s.info.server, version: tls.version, cipher: tls.cipher, clientRandom: tls.clientRandom, reason: tls.reason, partial: tls.partial });
      }
    }
    if (s.replication) t.replication++;
    if (s.compressed) t.compressed++;
    if (s.serverVersion === null && s.info.synSeen && c.commands === 0) t.notMysql++;
    if (s.stoppedBecause !== null) t.stopped[s.stoppedBecause] = (t.stopped[s.stoppedBecause] ?? 0) + 1;
    t.commands += c.commands;
    t.protocolViolations += c.protocolViolations;
    t.unknownCommands += c.unknownCommands;
    t.resyncs += c.resyncs;
    t.commandsIncomplete += c.commandsIncomplete;
    t.packetsSkipped += c.packetsSkipped;
    t.commandsUnseen += c.commandsUnseen;
    t.clientBytesUndecoded += c.clientBytesUndecoded;
  }

  /** Events released out of order because the buffer was full. */
  get eventsForced(): number {
    return this.ordered?.forced ?? 0;
  }
}

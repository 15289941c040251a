/**
 * The decoding pipeline shared by `events`, `trace`, `analyze`, `advise` and `live`: captured
 * packets → link/IP/TCP decoding → TCP reassembly (tcp.ts) → one MySQL session per connection
 * (src/mysql) → command events, in request order across connections (ordered.ts) when asked,
 * and the sessions' counters summed for the health report.
 */
import type { PacketDecoder } from '../net/decode.js';
import { MysqlSession, type CommandEvent, type SessionCounters, type SessionOptions } from '../mysql/session.js';
import { tlsCategory } from '../mysql/tls.js';
import type { TcpReassembler } from '../tcp/reassembler.js';
import type { StreamHandler } from '../tcp/stream.js';
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

/** TLS connections listed one by one at most (the rest are counted). */
export const TLS_DETAILS = 20;

export class MysqlPipeline {
  private readonly tcp: TcpPipeline;
  readonly totals: MysqlTotals = { sessions: 0, tls: 0, replication: 0, compressed: 0, notMysql: 0, stopped: {}, tlsDecrypted: 0, tlsPartial: 0, tlsNoSecret: 0, tlsUnsupported: 0, tlsFailed: 0, tlsUnread: [], commands: 0, protocolViolations: 0, unknownCommands: 0, resyncs: 0, commandsIncomplete: 0, packetsSkipped: 0, commandsUnseen: 0, clientBytesUndecoded: 0 };
  private readonly ordered: OrderedEvents | null;
  private packets = 0;

  constructor(opts: PipelineOptions) {
    this.ordered = opts.ordered === false ? null : new OrderedEvents(opts.onEvent);
    const deliver = this.ordered === null ? opts.onEvent : (e: CommandEvent) => this.ordered!.push(e);
    this.tcp = new TcpPipeline((info) => {
      const mysqlPort = this.reassembler.serverPorts.has(info.serverPort);
      if ((opts.onlyConn != null && info.id !== opts.onlyConn) || (!mysqlPort && !info.synSeen && info.sidesBy !== 'hello')) return IGNORE;
      const session = new MysqlSession(info, deliver, opts.session);
      this.ordered?.sources.add(session);
      this.totals.sessions++;
      return {
        onData: (d, b, o, l, s, n) => session.onData(d, b, o, l, s, n),
        onGap: (d, bytes, r, s, n) => session.onGap(d, bytes, r, s, n),
        onClose: (r, s, n, by) => {
          session.onClose(r, s, n, by);
          this.ordered?.sources.delete(session);
          this.account(session);
        },
      };
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

  /** End of the capture: close every connection and emit what is left. */
  finish(): void {
    this.tcp.finish();
    this.ordered?.drain();
  }

  private account(s: MysqlSession): void {
    const t = this.totals;
    const c = s.counters;
    if (s.tls) t.tls++;
    const tls = s.tlsLayer?.info;
    // Decrypted, but not all of it (one side's secret absent, records lost): said, as the others.
    const partial = tls?.state === 'decrypting' && s.tlsLayer!.counters.recordsUndecryptable > 0;
    if (tls?.state === 'decrypting') {
      t.tlsDecrypted++;
      if (partial) t.tlsPartial++;
    } else if (tls !== undefined) {
      if (tls.state === 'no-secret') t.tlsNoSecret++;
      else if (tls.state === 'unsupported-suite' || tls.state === 'unsupported-version') t.tlsUnsupported++;
      else t.tlsFailed++;
    }
    if (tls !== undefined && (partial || tls.state !== 'decrypting') && t.tlsUnread.length < TLS_DETAILS) {
      const reason = partial ? `decrypted in part: ${tls.reason ?? 'records not decrypted'}` : (tls.reason ?? tlsCategory(tls));
      t.tlsUnread.push({ client: s.info.client, server: s.info.server, version: tls.version, cipher: tls.cipherName, clientRandom: tls.clientRandom, reason, partial });
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

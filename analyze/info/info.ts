/**
 * `periscope info`: what a capture holds, like capinfos plus a TCP and MySQL view.
 * Accumulates over the packet stream, then `finalize()` builds a plain, JSON-ready report.
 */
import { SKIP_NAMES } from '../../src/net/decode.js';
import { linkTypeName } from '../../src/net/linktype.js';
import { displayServerVersion, sniffGreeting } from '../../src/mysql/greeting.js';
import { ContentClassifier, PROBE_BYTES, swapSides } from '../../src/mysql/detect.js';
import { nodeZstd } from '../../src/mysql/compression.js';
import { MysqlSession } from '../../src/mysql/session.js';
import type { SessionSecrets } from '../../src/tls/keylog.js';
import { Dir, type CloseReason, type ConnectionInfo, type HalfStats, type StreamHandler } from '../../src/tcp/stream.js';
import type { PacketRecord } from '../../src/pcap/record.js';
import { TcpPipeline, type TcpLimits } from '../../src/pipeline/tcp.js';
import { tlsOutcome, type TlsOutcome } from '../../src/pipeline/mysql.js';
import { kernelDrops, type FileReport, type Ts } from '../read/captures.js';
import type { KeyLogSourceReport } from '../read/keylog.js';
import { isoTime } from '../../common/time.js';

/** What `info` keeps per TCP connection. */
interface ConnRecord {
  info: ConnectionInfo;
  /** Server version from a MySQL greeting at the start of the server's stream. */
  greeting: string | null;
  /** A gap of unknown size opened the direction: its start was not captured. */
  startUnseen: [boolean, boolean];
  sawData: [boolean, boolean];
  closeReason: CloseReason | null;
  /** Nothing else classified it (no SYN, greeting or MySQL port): its first bytes are looked at (src/mysql/detect.ts). */
  probe: ContentClassifier | null;
  probed: [number, number];
  /** The connection's TLS, when it switched to TLS after an SSL request. */
  tls: TlsOutcome | null;
}

/**
 * A connection's MySQL session, run (as the decoding pipeline runs it, its events dropped) to find
 * out whether it switches to TLS and, if so, whether it can be decrypted: fed until its login shows
 * it plain (or MYSQL_PROBE_BYTES pass without a decision), fed whole when it is TLS.
 */
const MYSQL_PROBE_BYTES = 1024 * 1024;
const LOGIN_STAGES = new Set(['CONNECTING', 'WAIT_FOR_INIT_PACKET', 'AUTHENTICATE']);

/** TLS connections over the whole capture (listed or not). */
export interface TlsSums {
  connections: number;
  decrypted: number;
  partial: number;
  no_secret: number;
  unsupported: number;
  failed: number;
}


/** Connections listed one by one in the report by default (`--all-connections`: every one). */
export const DEFAULT_CONNECTIONS_LISTED = 10_000;

/** Per server endpoint, summed as connections close: those with a greeting, and the others. */
interface ServerSums {
  port: number;
  /** The greeting of the lowest connection id that had one. */
  greeting: string | null;
  greetingId: number;
  withGreeting: [connections: number, fromClients: number, fromServer: number];
  without: [connections: number, fromClients: number, fromServer: number];
  /** Connections found to be MySQL by their content. */
  content: [connections: number, fromClients: number, fromServer: number];
}

export class InfoAccumulator {
  /** Packets → TCP connections, each told to a tally of this accumulator (`handler`). */
  private readonly tcp: TcpPipeline;
  /** The connections listed (the first `listed`); the others are only summed. */
  private readonly conns: ConnRecord[] = [];
  private notListed = 0;
  private readonly serverSums = new Map<string, ServerSums>();
  private tcpPackets = 0;
  private tcpPayloadBytes = 0;
  private packets = 0;
  private first: Ts | null = null;
  private last: Ts | null = null;

  private readonly tlsSums: TlsSums = { connections: 0, decrypted: 0, partial: 0, no_secret: 0, unsupported: 0, failed: 0 };

  constructor(
    ports: readonly number[],
    opts: TcpLimits = {},
    private readonly listed = DEFAULT_CONNECTIONS_LISTED,
    /** A key log's lookup: TLS connections are decrypted to tell whether they can be. */
    private readonly tlsSecrets: ((clientRandom: Uint8Array) => SessionSecrets | null) | null = null,
  ) {
    this.tcp = new TcpPipeline((info) => this.handler(info), ports, opts);
  }

  private handler(info: ConnectionInfo): StreamHandler {
    const unknown = !info.synSeen && info.sidesBy === 'guess' && !this.tcp.reassembler.serverPorts.has(info.serverPort);
    const rec: ConnRecord = { info, greeting: null, startUnseen: [false, false], sawData: [false, false], closeReason: null, probe: unknown ? new ContentClassifier(nodeZstd()) : null, probed: [0, 0], tls: null };
    // Beyond the limit a connection is summed, not kept: memory and output stay bounded under a flood.
    if (this.conns.length < this.listed) this.conns.push(rec);
    else this.notListed++;
    // Which connections get a MySQL session: those the decoding pipeline would decode.
    // (Made at the first byte: a connection that carries none, a SYN flood's, costs nothing more.)
    const mysql = this.tcp.reassembler.serverPorts.has(info.serverPort) || info.synSeen || info.sidesBy === 'hello';
    let session: MysqlSession | null = null;
    let made = false;
    const start = (): void => {
      made = true;
      if (mysql) session = new MysqlSession(info, () => undefined, { tlsSecrets: this.tlsSecrets });
    };
    let fed = 0;
    return {
      onData: (dir, buf, off, len, sec, nsec) => {
        if (!rec.sawData[dir]) {
          rec.sawData[dir] = true;
          if (dir === Dir.ServerToClient && !rec.startUnseen[dir]) rec.greeting = sniffGreeting(buf, off, len)?.serverVersion ?? null;
        }
        if (rec.probe !== null && rec.probe.verdict === null && rec.probed[dir] < PROBE_BYTES) {
          rec.probed[dir] += len;
          rec.probe.data(dir, buf, off, len);
        }
        if (!made) start();
        if (session === null) return;
        session.onData(dir, buf, off, len, sec, nsec);
        fed += len;
        // Plain after its login (or not MySQL at all): nothing more to learn from it.
        if (!session.tls && (!LOGIN_STAGES.has(session.stage) || fed > MYSQL_PROBE_BYTES)) session = null;
      },
      onGap: (dir, bytes, reason, sec, nsec) => {
        if (bytes < 0) rec.startUnseen[dir] = true;
        if (!made) start();
        session?.onGap(dir, bytes, reason, sec, nsec);
      },
      onClose: (reason, sec, nsec, by) => {
        rec.closeReason = reason;
        if (session !== null) {
          session.onClose(reason, sec, nsec, by);
          rec.tls = tlsOutcome(session);
          if (rec.tls !== null) this.sumTls(rec.tls);
          session = null;
        }
        this.sumServer(rec);
      },
    };
  }

  private sumTls(t: TlsOutcome): void {
    const s = this.tlsSums;
    s.connections++;
    if (t.partial) s.partial++;
    if (t.category === 'decrypted') s.decrypted++;
    else if (t.category === 'no-secret') s.no_secret++;
    else if (t.category === 'unsupported') s.unsupported++;
    else s.failed++;
  }

  private sumServer(c: ConnRecord): void {
    const v = c.probe?.end() ?? null;
    // The content may say the lower port was the client's.
    const i = v === 'mysql-swapped' ? swapSides(c.info) : c.info;
    let s = this.serverSums.get(i.server);
    if (s === undefined) {
      s = { port: i.serverPort, greeting: null, greetingId: Infinity, withGreeting: [0, 0, 0], without: [0, 0, 0], content: [0, 0, 0] };
      this.serverSums.set(i.server, s);
    }
    if (v === 'mysql' || v === 'mysql-swapped') {
      s.content[0]++;
      s.content[1] += i.stats[Dir.ClientToServer].bytes;
      s.content[2] += i.stats[Dir.ServerToClient].bytes;
    }
    if (c.greeting !== null && i.id < s.greetingId) {
      s.greeting = c.greeting;
      s.greetingId = i.id;
    }
    const sums = c.greeting !== null ? s.withGreeting : s.without;
    sums[0]++;
    sums[1] += i.stats[Dir.ClientToServer].bytes;
    sums[2] += i.stats[Dir.ServerToClient].bytes;
  }

  add(rec: PacketRecord): void {
    this.packets++;
    if (this.first === null || rec.tsSec < this.first.sec || (rec.tsSec === this.first.sec && rec.tsNsec < this.first.nsec)) this.first = { sec: rec.tsSec, nsec: rec.tsNsec };
    if (this.last === null || rec.tsSec > this.last.sec || (rec.tsSec === this.last.sec && rec.tsNsec > this.last.nsec)) this.last = { sec: rec.tsSec, nsec: rec.tsNsec };
    if (!this.tcp.add(rec)) return;
    const d = this.tcp.decoder;
    this.tcpPackets++;
    this.tcpPayloadBytes += d.payloadLength + d.payloadMissing;
  }

  finalize(files: readonly FileReport[], keyLogs: readonly KeyLogSourceReport[] = []): InfoReport {
    this.tcp.finish(this.last?.sec ?? 0, this.last?.nsec ?? 0);
    const t = this.tcp.reassembler.totals;
    const decoder = this.tcp.decoder;
    const skipped: Record<string, number> = {};
    decoder.skipped.forEach((n, i) => {
      if (n > 0) skipped[SKIP_NAMES[i]!] = n;
    });
    const unsupported: Record<string, number> = {};
    for (const [lt, n] of decoder.unsupportedLinkTypes) unsupported[linkTypeName(lt)] = n;
    // MySQL servers: a greeting at the start of a server stream, or a server port (given or learnt).
    // (Every connection was summed when it closed: finish() closes those still open.)
    const servers = new Map<string, InfoReport['mysql_servers'][number]>();
    for (const [endpoint, sums] of this.serverSums) {
      const byPort = this.tcp.reassembler.serverPorts.has(sums.port);
      const byContent = sums.greeting === null && !byPort && sums.content[0] > 0;
      if (sums.greeting === null && !byPort && !byContent) continue;
      const s: InfoReport['mysql_servers'][number] = { endpoint, detected_by: 'port', version: null, version_raw: null, connections: 0, bytes_from_clients: 0, bytes_from_server: 0 };
      if (sums.greeting !== null) {
        s.detected_by = 'greeting';
        s.version_raw = sums.greeting;
        s.version = displayServerVersion(sums.greeting);
      }
      if (byContent) s.detected_by = 'content';
      for (const [n, up, down] of byPort ? [sums.withGreeting, sums.without] : [sums.withGreeting, sums.content]) {
        s.connections += n;
        s.bytes_from_clients += up;
        s.bytes_from_server += down;
      }
      servers.set(endpoint, s);
    }
    return {
      files: files.map(fileSummary),
      totals: {
        files: files.filter((f) => f.ignored === null).length,
        files_failed: files.filter((f) => f.failure !== null || f.resyncs.length > 0).length,
        packets: this.packets,
        captured_bytes: files.reduce((n, f) => n + f.capturedBytes, 0),
        wire_bytes: files.reduce((n, f) => n + f.wireBytes, 0),
        packets_cut_by_snaplen: files.reduce((n, f) => n + f.truncatedPackets, 0),
        first: this.first ? isoTime(this.first, digits(files)) : null,
        last: this.last ? isoTime(this.last, digits(files)) : null,
        duration_s: this.first && this.last ? durationSeconds(this.first, this.last) : null,
        damaged_bytes_skipped: files.reduce((n, f) => n + f.resyncs.reduce((m, r) => m + r.skippedBytes, 0), 0),
        kernel_drops: kernelDrops(files),
      },
      skipped: { total: Object.values(skipped).reduce((a, b) => a + b, 0), by_kind: skipped, unsupported_link_types: unsupported },
      tcp: {
        packets: this.tcpPackets,
        payload_bytes: this.tcpPayloadBytes,
        segments_cut_by_snaplen: decoder.truncatedTcp,
        vlan_tagged_packets: decoder.vlanTagged,
        connections: t.connections,
        connections_complete: t.complete,
        connections_mid_stream: t.midStream,
        connections_unfinished: t.unfinished,
        closed_by_fin: t.closedByFin,
        closed_by_rst: t.closedByRst,
        closed_by_idle_timeout: t.closedByIdleTimeout,
        evicted: t.evicted,
        payload_bytes_delivered: t.payloadBytes,
        retransmitted_segments: t.retransmitted,
        overlapping_segments: t.overlapping,
        out_of_order_segments: t.outOfOrder,
        gaps: t.gaps,
        bytes_lost: t.bytesLost,
        bytes_cut_by_snaplen: t.bytesCutBySnaplen,
        late_segments: t.late,
        packets_after_close: t.afterClose,
        packets_without_connection: t.withoutConnection,
        buffer_limit_hits: t.bufferLimitHits,
        sides_guessed: t.sidesGuessed,
      },
      tls: { ...this.tlsSums, key_logs: keyLogs.map((k) => ({ source: k.source, secrets: k.secrets, lines_not_understood: k.bad })) },
      connections: this.conns.map(connectionSummary),
      ...(this.notListed > 0 ? { connections_not_listed: this.notListed } : {}),
      mysql_servers: [...servers.values()].sort((x, y) => y.connections - x.connections || x.endpoint.localeCompare(y.endpoint)),
      mysql_ports: [...this.tcp.reassembler.serverPorts].sort((a, b) => a - b),
    };
  }
}

function connectionSummary(c: ConnRecord) {
  const i = c.info;
  const [up, down] = i.stats;
  return {
    id: i.id,
    client: i.client,
    server: i.server,
    sides_by: i.sidesBy,
    syn_seen: i.synSeen,
    start_unseen: { client: c.startUnseen[0], server: c.startUnseen[1] },
    first: isoTime({ sec: i.firstSec, nsec: i.firstNsec }),
    closed_by: c.closeReason,
    mysql_greeting: c.greeting,
    client_to_server: halfSummary(up),
    server_to_client: halfSummary(down),
    tls: c.tls === null ? null : tlsSummary(c.tls),
  };
}

/** A TLS connection in info's report: whether it could be decrypted, and if not why. */
function tlsSummary(t: TlsOutcome) {
  const decrypted = t.category !== 'decrypted' ? 'no' : t.partial ? 'in part' : 'yes';
  return { version: t.version, cipher: t.cipher, decrypted, outcome: t.category, client_random: t.clientRandom, reason: t.reason };
}

function halfSummary(h: HalfStats) {
  return { segments: h.segments, bytes: h.bytes, retransmitted: h.retransmitted, overlapping: h.overlapping, out_of_order: h.outOfOrder, gaps: h.gaps, bytes_lost: h.bytesLost, late: h.late };
}

/** Nanosecond digits when a capture has finer than microsecond timestamps. */
function digits(files: readonly FileReport[]): 6 | 9 {
  return files.some((f) => f.interfaces.some((i) => i.unitsPerSecond > 1e6)) ? 9 : 6;
}

function durationSeconds(a: Ts, b: Ts): number {
  return ((b.sec - a.sec) * 1e9 + (b.nsec - a.nsec)) / 1e9;
}

function fileSummary(f: FileReport) {
  const linkTypes: Record<string, number> = {};
  f.interfaces.forEach((iface, i) => {
    const name = linkTypeName(iface.linkType);
    linkTypes[name] = (linkTypes[name] ?? 0) + (f.packetsPerInterface[i] ?? 0);
  });
  const res = new Set(f.interfaces.map((i) => i.unitsPerSecond));
  return {
    path: f.path,
    size: f.size,
    ignored_because: f.ignored,
    status: f.ignored !== null ? 'ignored' : f.failure ? 'failed' : f.resyncs.length > 0 ? 'damaged' : f.truncatedTail ? 'cut short' : 'ok',
    format: f.format,
    gzip: f.gzip,
    byte_order: f.littleEndian === null ? null : f.littleEndian ? 'little-endian' : 'big-endian',
    version: f.version,
    snaplen: f.snapLen ?? (f.interfaces.length > 0 ? Math.max(...f.interfaces.map((i) => i.snapLen)) : null),
    timestamp_resolution: [...res].map(resolutionName),
    sections: f.sections.length || (f.format ? 1 : 0),
    interfaces: f.interfaces.map((i, idx) => ({
      name: i.name,
      description: i.description,
      link_type: linkTypeName(i.linkType),
      link_type_id: i.linkType,
      snaplen: i.snapLen,
      packets: f.packetsPerInterface[idx] ?? 0,
      ...(i.stats ? { kernel_stats: i.stats } : {}),
    })),
    application: f.sections.find((s) => s.application)?.application ?? null,
    link_types: linkTypes,
    packets: f.packets,
    captured_bytes: f.capturedBytes,
    wire_bytes: f.wireBytes,
    packets_cut_by_snaplen: f.truncatedPackets,
    first: f.firstTs ? isoTime(f.firstTs, digits([f])) : null,
    last: f.lastTs ? isoTime(f.lastTs, digits([f])) : null,
    timestamps_out_of_order: f.outOfOrderTimestamps,
    skipped_blocks: Object.fromEntries(f.skippedBlocks),
    damage: f.resyncs.map((r) => ({ offset: r.offset, skipped_bytes: r.skippedBytes, message: r.message })),
    truncated_tail: f.truncatedTail,
    error: f.failure,
  };
}

function resolutionName(unitsPerSecond: number): string {
  if (unitsPerSecond === 1e6) return 'microseconds';
  if (unitsPerSecond === 1e9) return 'nanoseconds';
  if (unitsPerSecond === 1e3) return 'milliseconds';
  return `1/${unitsPerSecond} s`;
}

export type InfoReport = {
  files: ReturnType<typeof fileSummary>[];
  totals: {
    files: number;
    files_failed: number;
    packets: number;
    captured_bytes: number;
    wire_bytes: number;
    packets_cut_by_snaplen: number;
    first: string | null;
    last: string | null;
    duration_s: number | null;
    damaged_bytes_skipped: number;
    kernel_drops: number | null;
  };
  skipped: { total: number; by_kind: Record<string, number>; unsupported_link_types: Record<string, number> };
  tcp: TcpSection;
  /** Connections that switched to TLS (SSL request), and what decrypting them came to. */
  tls: TlsSums & { key_logs: { source: string; secrets: number; lines_not_understood: number }[] };
  connections: ReturnType<typeof connectionSummary>[];
  /** Connections beyond the listing limit (`--all-connections` lists every one): counted in `tcp`, not listed. */
  connections_not_listed?: number;
  mysql_servers: { endpoint: string; detected_by: 'greeting' | 'port' | 'content'; version: string | null; version_raw: string | null; connections: number; bytes_from_clients: number; bytes_from_server: number }[];
  mysql_ports: number[];
};

export interface TcpSection {
  packets: number;
  payload_bytes: number;
  segments_cut_by_snaplen: number;
  vlan_tagged_packets: number;
  connections: number;
  connections_complete: number;
  connections_mid_stream: number;
  connections_unfinished: number;
  closed_by_fin: number;
  closed_by_rst: number;
  closed_by_idle_timeout: number;
  evicted: number;
  payload_bytes_delivered: number;
  retransmitted_segments: number;
  overlapping_segments: number;
  out_of_order_segments: number;
  gaps: number;
  bytes_lost: number;
  bytes_cut_by_snaplen: number;
  late_segments: number;
  packets_after_close: number;
  packets_without_connection: number;
  buffer_limit_hits: number;
  sides_guessed: number;
}

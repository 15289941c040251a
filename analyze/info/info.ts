/**
 * `periscope info`: what a capture holds, like capinfos plus a TCP and MySQL view.
 * Accumulates over the packet stream, then `finalize()` builds a plain, JSON-ready report.
 */
import { PacketDecoder, SKIP_NAMES, TcpFlag, formatEndpoint } from '../../src/net/decode.js';
import { linkTypeName } from '../../src/net/linktype.js';
import { displayServerVersion, sniffGreeting } from '../../src/mysql/greeting.js';
import type { PacketRecord } from '../../src/pcap/record.js';
import type { FileReport, Ts } from '../read/captures.js';

export const DEFAULT_MYSQL_PORTS: readonly number[] = [3306];

interface Conn {
  /** Endpoints as `ip:port` (IPv6 in brackets); a is the side that sent the first packet seen. */
  a: string;
  b: string;
  packets: number;
  payloadBytes: number;
  /** The first packet seen was a SYN without ACK: the connection opened inside the capture. */
  opened: boolean;
  finFromA: boolean;
  finFromB: boolean;
  reset: boolean;
}

interface Server {
  endpoint: string;
  detectedBy: 'greeting' | 'port';
  version: string | null;
}

export class InfoAccumulator {
  readonly decoder = new PacketDecoder();
  private readonly ports: Set<number>;
  /** Connections by canonical key; closed ones are moved to `finished` when the tuple is reused. */
  private readonly conns = new Map<string, Conn>();
  private readonly finished: Conn[] = [];
  private readonly servers = new Map<string, Server>();
  private tcpPackets = 0;
  private tcpPayloadBytes = 0;
  private packets = 0;
  private first: Ts | null = null;
  private last: Ts | null = null;

  constructor(ports: readonly number[]) {
    this.ports = new Set(ports);
  }

  add(rec: PacketRecord): void {
    this.packets++;
    if (this.first === null || rec.tsSec < this.first.sec || (rec.tsSec === this.first.sec && rec.tsNsec < this.first.nsec)) this.first = { sec: rec.tsSec, nsec: rec.tsNsec };
    if (this.last === null || rec.tsSec > this.last.sec || (rec.tsSec === this.last.sec && rec.tsNsec > this.last.nsec)) this.last = { sec: rec.tsSec, nsec: rec.tsNsec };
    const d = this.decoder;
    if (!d.decode(rec)) return;
    this.tcpPackets++;
    this.tcpPayloadBytes += d.payloadLength + d.payloadMissing;
    const src = formatEndpoint(d, true);
    const dst = formatEndpoint(d, false);
    const key = src < dst ? `${src}|${dst}` : `${dst}|${src}`;
    let c = this.conns.get(key);
    const pureSyn = (d.flags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn;
    if (c !== undefined && pureSyn && (c.reset || (c.finFromA && c.finFromB))) {
      // Port reuse: a new connection on a tuple whose previous connection ended.
      this.finished.push(c);
      c = undefined;
    }
    if (c === undefined) {
      c = { a: src, b: dst, packets: 0, payloadBytes: 0, opened: pureSyn, finFromA: false, finFromB: false, reset: false };
      this.conns.set(key, c);
    }
    c.packets++;
    c.payloadBytes += d.payloadLength + d.payloadMissing;
    if (d.flags & TcpFlag.Fin) {
      if (src === c.a) c.finFromA = true;
      else c.finFromB = true;
    }
    if (d.flags & TcpFlag.Rst) c.reset = true;
    if (d.payloadLength > 0 && d.data[d.payloadOffset + 4] === 10 && d.data[d.payloadOffset + 3] === 0) {
      const g = sniffGreeting(d.data, d.payloadOffset, d.payloadLength);
      if (g !== null) {
        const s = this.servers.get(src);
        if (s === undefined || s.detectedBy === 'port') this.servers.set(src, { endpoint: src, detectedBy: 'greeting', version: g.serverVersion });
      }
    }
    for (const [port, ep] of [
      [d.srcPort, src],
      [d.dstPort, dst],
    ] as const) {
      if (this.ports.has(port) && !this.servers.has(ep)) this.servers.set(ep, { endpoint: ep, detectedBy: 'port', version: null });
    }
  }

  finalize(files: readonly FileReport[]): InfoReport {
    const all = [...this.finished, ...this.conns.values()];
    const skipped: Record<string, number> = {};
    this.decoder.skipped.forEach((n, i) => {
      if (n > 0) skipped[SKIP_NAMES[i]!] = n;
    });
    const unsupported: Record<string, number> = {};
    for (const [t, n] of this.decoder.unsupportedLinkTypes) unsupported[linkTypeName(t)] = n;
    const servers = [...this.servers.values()]
      .map((s) => {
        const cs = all.filter((c) => c.a === s.endpoint || c.b === s.endpoint);
        return {
          endpoint: s.endpoint,
          detected_by: s.detectedBy,
          version: s.version === null ? null : displayServerVersion(s.version),
          version_raw: s.version,
          connections: cs.length,
          packets: cs.reduce((n, c) => n + c.packets, 0),
          payload_bytes: cs.reduce((n, c) => n + c.payloadBytes, 0),
        };
      })
      .sort((x, y) => y.packets - x.packets || x.endpoint.localeCompare(y.endpoint));
    const closed = all.filter((c) => c.reset || (c.finFromA && c.finFromB)).length;
    return {
      files: files.map(fileSummary),
      totals: {
        files: files.filter((f) => !f.ignored).length,
        files_failed: files.filter((f) => f.failure !== null || f.resyncs.length > 0).length,
        packets: this.packets,
        captured_bytes: files.reduce((n, f) => n + f.capturedBytes, 0),
        wire_bytes: files.reduce((n, f) => n + f.wireBytes, 0),
        packets_cut_by_snaplen: files.reduce((n, f) => n + f.truncatedPackets, 0),
        first: this.first ? isoTime(this.first) : null,
        last: this.last ? isoTime(this.last) : null,
        duration_s: this.first && this.last ? durationSeconds(this.first, this.last) : null,
        damaged_bytes_skipped: files.reduce((n, f) => n + f.resyncs.reduce((m, r) => m + r.skippedBytes, 0), 0),
        kernel_drops: kernelDrops(files),
      },
      skipped: { total: Object.values(skipped).reduce((a, b) => a + b, 0), by_kind: skipped, unsupported_link_types: unsupported },
      tcp: {
        packets: this.tcpPackets,
        payload_bytes: this.tcpPayloadBytes,
        segments_cut_by_snaplen: this.decoder.truncatedTcp,
        vlan_tagged_packets: this.decoder.vlanTagged,
        connections: all.length,
        connections_opened_in_capture: all.filter((c) => c.opened).length,
        connections_mid_stream: all.filter((c) => !c.opened).length,
        connections_closed: closed,
        connections_open_at_end: all.length - closed,
      },
      mysql_servers: servers,
      mysql_ports: [...this.ports].sort((a, b) => a - b),
    };
  }
}

export function isoTime(t: Ts): string {
  const d = new Date(t.sec * 1000);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}Z`;
}

function durationSeconds(a: Ts, b: Ts): number {
  return Math.round(((b.sec - a.sec) * 1e9 + (b.nsec - a.nsec)) / 1e3) / 1e6;
}

function kernelDrops(files: readonly FileReport[]): number | null {
  let known = false;
  let n = 0;
  for (const f of files) {
    for (const i of f.interfaces) {
      const d = i.stats?.droppedByInterface ?? i.stats?.droppedByOs ?? null;
      if (d !== null) {
        known = true;
        n += d;
      }
    }
  }
  return known ? n : null;
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
    status: f.ignored ? 'ignored (not a capture file)' : f.failure ? 'failed' : f.resyncs.length > 0 ? 'damaged' : f.truncatedTail ? 'cut short' : 'ok',
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
    first: f.firstTs ? isoTime(f.firstTs) : null,
    last: f.lastTs ? isoTime(f.lastTs) : null,
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
  tcp: {
    packets: number;
    payload_bytes: number;
    segments_cut_by_snaplen: number;
    vlan_tagged_packets: number;
    connections: number;
    connections_opened_in_capture: number;
    connections_mid_stream: number;
    connections_closed: number;
    connections_open_at_end: number;
  };
  mysql_servers: { endpoint: string; detected_by: 'greeting' | 'port'; version: string | null; version_raw: string | null; connections: number; packets: number; payload_bytes: number }[];
  mysql_ports: number[];
};

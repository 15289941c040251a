/**
 * Link, IP and TCP header decoding: one captured packet in, either a TCP segment (fields on the
 * decoder, payload as a view into the capture buffer) or a counted reason for skipping it.
 *
 * The decoder object is reused for every packet: nothing is allocated on the hot path. Its output
 * fields are valid until the next `decode()` call.
 */
import type { PacketRecord } from '../pcap/record.js';

/** Why a packet did not yield a TCP segment. Index into `PacketDecoder.skipped`. */
export const enum Skip {
  UnsupportedLink = 0,
  NonIp = 1,
  Udp = 2,
  Icmp = 3,
  OtherIpProtocol = 4,
  Ipv4Fragment = 5,
  Ipv6Fragment = 6,
  TruncatedHeaders = 7,
  MalformedIp = 8,
  MalformedTcp = 9,
  Encrypted = 10,
}

/** Human names of `Skip` values, by index. */
export const SKIP_NAMES: readonly string[] = [
  'unsupported link type',
  'not IP (ARP, LLDP, …)',
  'UDP',
  'ICMP',
  'other IP protocol',
  'IPv4 fragment (not reassembled)',
  'IPv6 fragment (not reassembled)',
  'headers cut by the snap length',
  'malformed IP header',
  'malformed TCP header',
  'IPsec ESP (encrypted)',
];

/** TCP flag bits as in the header's 13th byte. */
export const enum TcpFlag {
  Fin = 0x01,
  Syn = 0x02,
  Rst = 0x04,
  Psh = 0x08,
  Ack = 0x10,
  Urg = 0x20,
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

export class PacketDecoder {
  /** Packets skipped, by `Skip` kind. */
  readonly skipped: number[] = new Array<number>(SKIP_NAMES.length).fill(0);
  /** Link types seen that are not decoded, with packet counts. */
  readonly unsupportedLinkTypes = new Map<number, number>();
  /** Packets that carried 802.1Q / 802.1ad VLAN tags. */
  vlanTagged = 0;
  /** TCP packets whose payload the snap length cut (the segment is still delivered, marked). */
  truncatedTcp = 0;

  // ---- output of the last successful decode() ----
  ipVersion: 4 | 6 = 4;
  /** Buffer holding the packet (the record's `data`). */
  data: Uint8Array = new Uint8Array(0);
  /** Offsets of the source and destination addresses in `data` (4 or 16 bytes). */
  srcAddrOffset = 0;
  dstAddrOffset = 0;
  /** IPv4 addresses as unsigned 32-bit numbers (IPv4 only). */
  src4 = 0;
  dst4 = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  /** Captured TCP payload: `data[payloadOffset .. payloadOffset + payloadLength)`. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Payload bytes the segment carried on the wire but the capture does not hold (snap length). */
  payloadMissing = 0;

  /** Decode one record. True: a TCP segment is in the output fields. False: counted in `skipped`. */
  decode(r: PacketRecord): boolean {
    const b = r.data;
    const start = r.offset;
    const capEnd = start + r.caplen;
    const wireEnd = start + r.origLen;
    let p = start;
    let ethertype = 0;
    switch (r.linkType) {
      case 1: // Ethernet II
        if (r.caplen < 14) return this.skip(Skip.TruncatedHeaders);
        ethertype = (b[p + 12]! << 8) | b[p + 13]!;
        p += 14;
        break;
      case 113: // Linux cooked v1: type u16, ARPHRD u16, addr len u16, addr 8, protocol u16
        if (r.caplen < 16) return this.skip(Skip.TruncatedHeaders);
        ethertype = (b[p + 14]! << 8) | b[p + 15]!;
        p += 16;
        break;
      case 276: // Linux cooked v2: protocol u16, reserved u16, ifindex u32, ARPHRD u16, type u8, addr len u8, addr 8
        if (r.caplen < 20) return this.skip(Skip.TruncatedHeaders);
        ethertype = (b[p]! << 8) | b[p + 1]!;
        p += 20;
        break;
      case 0: // BSD loopback: address family, host byte order of the capturing machine
      case 108: {
        // OpenBSD loopback: address family, network byte order
        if (r.caplen < 4) return this.skip(Skip.TruncatedHeaders);
        const le = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
        const be = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        const af = r.linkType === 108 ? be : le <= 0xffff ? le : be;
        p += 4;
        if (af === 2) ethertype = ETHERTYPE_IPV4;
        else if (af === 10 || af === 24 || af === 28 || af === 30) ethertype = ETHERTYPE_IPV6;
        else return this.skip(Skip.NonIp);
        break;
      }
      case 101:
      case 12:
      case 14:
        ethertype = rawIpEthertype(b, p, capEnd);
        break;
      case 228:
        ethertype = ETHERTYPE_IPV4;
        break;
      case 229:
        ethertype = ETHERTYPE_IPV6;
        break;
      default:
        this.unsupportedLinkTypes.set(r.linkType, (this.unsupportedLinkTypes.get(r.linkType) ?? 0) + 1);
        return this.skip(Skip.UnsupportedLink);
    }
    if (ethertype !== ETHERTYPE_IPV4 && ethertype !== ETHERTYPE_IPV6) {
      // VLAN tags (802.1Q, 802.1ad QinQ, legacy 0x9100/0x9200), PPPoE session, MPLS.
      let tagged = false;
      for (;;) {
        if (ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100 || ethertype === 0x9200) {
          if (p + 4 > capEnd) return this.skip(Skip.TruncatedHeaders);
          ethertype = (b[p + 2]! << 8) | b[p + 3]!;
          p += 4;
          tagged = true;
        } else if (ethertype === 0x8864) {
          if (p + 8 > capEnd) return this.skip(Skip.TruncatedHeaders);
          const ppp = (b[p + 6]! << 8) | b[p + 7]!;
          p += 8;
          ethertype = ppp === 0x0021 ? ETHERTYPE_IPV4 : ppp === 0x0057 ? ETHERTYPE_IPV6 : 0;
        } else if (ethertype === 0x8847 || ethertype === 0x8848) {
          for (;;) {
            if (p + 4 > capEnd) return this.skip(Skip.TruncatedHeaders);
            const bottom = b[p + 2]! & 1;
            p += 4;
            if (bottom) break;
          }
          ethertype = rawIpEthertype(b, p, capEnd);
        } else break;
      }
      if (tagged) this.vlanTagged++;
      if (ethertype !== ETHERTYPE_IPV4 && ethertype !== ETHERTYPE_IPV6) return this.skip(Skip.NonIp);
    }
    return ethertype === ETHERTYPE_IPV4 ? this.ipv4(b, p, capEnd, wireEnd) : this.ipv6(b, p, capEnd, wireEnd);
  }

  private skip(kind: Skip): false {
    this.skipped[kind]!++;
    return false;
  }

  private ipv4(b: Uint8Array, p: number, capEnd: number, wireEnd: number): boolean {
    if (p + 20 > capEnd) return this.skip(Skip.TruncatedHeaders);
    const vihl = b[p]!;
    const ihl = (vihl & 0x0f) << 2;
    if (vihl >> 4 !== 4 || ihl < 20) return this.skip(Skip.MalformedIp);
    let total = (b[p + 2]! << 8) | b[p + 3]!;
    // Total length 0: a TSO/GSO super-segment captured before segmentation; the frame length tells.
    if (total === 0) total = wireEnd - p;
    if (total < ihl) return this.skip(Skip.MalformedIp);
    const frag = ((b[p + 6]! << 8) | b[p + 7]!) & 0x3fff; // MF flag + fragment offset
    if (frag !== 0) return this.skip(Skip.Ipv4Fragment);
    const proto = b[p + 9]!;
    if (proto !== 6) return this.skipProtocol(proto);
    if (p + ihl > capEnd) return this.skip(Skip.TruncatedHeaders);
    this.ipVersion = 4;
    this.data = b;
    this.srcAddrOffset = p + 12;
    this.dstAddrOffset = p + 16;
    this.src4 = ((b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!) >>> 0;
    this.dst4 = ((b[p + 16]! << 24) | (b[p + 17]! << 16) | (b[p + 18]! << 8) | b[p + 19]!) >>> 0;
    return this.tcp(b, p + ihl, p + total, capEnd);
  }

  private ipv6(b: Uint8Array, p: number, capEnd: number, wireEnd: number): boolean {
    if (p + 40 > capEnd) return this.skip(Skip.TruncatedHeaders);
    if (b[p]! >> 4 !== 6) return this.skip(Skip.MalformedIp);
    const payloadLen = (b[p + 4]! << 8) | b[p + 5]!;
    // Payload length 0: jumbogram or TSO super-segment; the frame length tells.
    const end = payloadLen === 0 ? wireEnd : p + 40 + payloadLen;
    let next = b[p + 6]!;
    this.srcAddrOffset = p + 8;
    this.dstAddrOffset = p + 24;
    let q = p + 40;
    for (;;) {
      if (next === 6) break;
      if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140 || next === 253 || next === 254) {
        if (q + 8 > capEnd) return this.skip(Skip.TruncatedHeaders);
        next = b[q]!;
        q += (b[q + 1]! + 1) * 8;
      } else if (next === 44) {
        if (q + 8 > capEnd) return this.skip(Skip.TruncatedHeaders);
        const offFlags = (b[q + 2]! << 8) | b[q + 3]!;
        if ((offFlags & 0xfff9) !== 0) return this.skip(Skip.Ipv6Fragment); // offset ≠ 0 or M set
        next = b[q]!; // atomic fragment: a whole packet
        q += 8;
      } else if (next === 51) {
        if (q + 8 > capEnd) return this.skip(Skip.TruncatedHeaders);
        next = b[q]!;
        q += (b[q + 1]! + 2) * 4;
      } else if (next === 50) {
        return this.skip(Skip.Encrypted);
      } else {
        return this.skipProtocol(next);
      }
      if (q > end) return this.skip(Skip.MalformedIp);
    }
    this.ipVersion = 6;
    this.data = b;
    return this.tcp(b, q, end, capEnd);
  }

  private skipProtocol(proto: number): false {
    if (proto === 17) return this.skip(Skip.Udp);
    if (proto === 1 || proto === 58) return this.skip(Skip.Icmp);
    if (proto === 50) return this.skip(Skip.Encrypted);
    return this.skip(Skip.OtherIpProtocol);
  }

  /** `end`: where the IP datagram ends on the wire; `capEnd`: where the captured bytes end. */
  private tcp(b: Uint8Array, p: number, end: number, capEnd: number): boolean {
    if (p + 20 > capEnd) return this.skip(Skip.TruncatedHeaders);
    const hlen = (b[p + 12]! >> 4) << 2;
    if (hlen < 20 || p + hlen > end) return this.skip(Skip.MalformedTcp);
    if (p + hlen > capEnd) return this.skip(Skip.TruncatedHeaders);
    this.srcPort = (b[p]! << 8) | b[p + 1]!;
    this.dstPort = (b[p + 2]! << 8) | b[p + 3]!;
    this.seq = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    this.ack = ((b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!) >>> 0;
    this.flags = b[p + 13]!;
    this.window = (b[p + 14]! << 8) | b[p + 15]!;
    const payload = p + hlen;
    const wireLen = end - payload;
    const captured = Math.max(0, Math.min(end, capEnd) - payload);
    this.payloadOffset = payload;
    this.payloadLength = captured;
    this.payloadMissing = wireLen - captured;
    if (this.payloadMissing > 0) this.truncatedTcp++;
    return true;
  }
}

/** Raw IP link types: the version nibble says which. */
function rawIpEthertype(b: Uint8Array, p: number, capEnd: number): number {
  if (p >= capEnd) return 0;
  const v = b[p]! >> 4;
  return v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0;
}

/** Format an IPv4 (u32) address. */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Format 16 bytes as an IPv6 address (RFC 5952: lower case, longest zero run as ::). */
export function formatIpv6(b: Uint8Array, p: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[p + 2 * i]! << 8) | b[p + 2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestAt < 0) {
    // IPv4-mapped addresses keep their dotted tail.
    return hex(words);
  }
  const head = hex(words.slice(0, bestAt));
  const tail = words.slice(bestAt + bestLen);
  if (bestAt === 0 && bestLen === 5 && words[5] === 0xffff) {
    return `::ffff:${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
  }
  return `${head}::${hex(tail)}`;
}

/** `ip:port`, IPv6 as `[addr]:port`. */
export function formatEndpoint(d: PacketDecoder, source: boolean): string {
  const port = source ? d.srcPort : d.dstPort;
  if (d.ipVersion === 4) return `${formatIpv4(source ? d.src4 : d.dst4)}:${port}`;
  return `[${formatIpv6(d.data, source ? d.srcAddrOffset : d.dstAddrOffset)}]:${port}`;
}

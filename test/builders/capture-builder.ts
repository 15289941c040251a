/**
 * Fluent builders that produce capture bytes for tests:
 *
 *   - `PcapWriter`:   classic libpcap files (µs / ns magic, either byte order, the "modified"
 *                     format with 24-byte record headers, any snaplen and link type);
 *   - `PcapngWriter`: pcapng files (sections in either byte order, IDB with options, EPB, SPB,
 *                     OPB, ISB, NRB, custom and arbitrary blocks);
 *   - `packet()`:     one frame, layer by layer, outermost first:
 *                       packet().ethernet().vlan(10).ipv4({...}).tcp({...}).payload('hi').build()
 *                     Lengths, next-protocol fields and the IPv4 header checksum are filled in
 *                     from the inner layers; every field can be overridden to build broken packets.
 *
 * Every builder writes exactly the wire layout annotated next to it; nothing is validated, so a test
 * can produce any damage it needs.
 */
import { ByteWriter, ascii } from './bytes.js';

export { ByteWriter, ascii, concat, hex } from './bytes.js';

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Classic pcap
// ──────────────────────────────────────────────────────────────────────────────────────────────

export interface PcapOptions {
  /** Byte order of the file (default little-endian). */
  le?: boolean;
  /** Nanosecond magic a1b23c4d instead of a1b2c3d4. */
  nsec?: boolean;
  /** The "modified" (Alexey Kuznetsov) format: magic a1b2cd34, 24-byte record headers. */
  modified?: boolean;
  /** Magic to write instead of the one the options imply. */
  magic?: number;
  versionMajor?: number;
  versionMinor?: number;
  thiszone?: number;
  snaplen?: number;
  /** The whole 32-bit "network" field (link type in the low 16 bits, FCS info above). */
  linkType?: number;
}

export interface PcapPacket {
  sec: number;
  /** Fraction of the second in the file's unit (µs, or ns with `nsec`). */
  frac?: number;
  data: Uint8Array;
  /** Wire length (default: data.length). */
  origLen?: number;
  /** Value written in the caplen field (default: data.length). Only for building damage. */
  caplenField?: number;
  /** Modified format only. */
  ifindex?: number;
  protocol?: number;
  pktType?: number;
}

export class PcapWriter {
  readonly opts: Required<Omit<PcapOptions, 'magic'>> & { magic: number };
  /** File offset of each record header written by `packet()`, in order. */
  readonly offsets: number[] = [];
  private readonly w: ByteWriter;

  constructor(opts: PcapOptions = {}) {
    const le = opts.le ?? true;
    const magic = opts.magic ?? (opts.modified ? 0xa1b2cd34 : opts.nsec ? 0xa1b23c4d : 0xa1b2c3d4);
    this.opts = {
      le,
      nsec: opts.nsec ?? false,
      modified: opts.modified ?? false,
      magic,
      versionMajor: opts.versionMajor ?? 2,
      versionMinor: opts.versionMinor ?? 4,
      thiszone: opts.thiszone ?? 0,
      snaplen: opts.snaplen ?? 262144,
      linkType: opts.linkType ?? 1,
    };
    this.w = new ByteWriter(le);
    // Global header, 24 bytes:
    //   magic u32 | version major u16 | minor u16 | thiszone i32 | sigfigs u32 | snaplen u32 | network u32
    this.w
      .u32(magic)
      .u16(this.opts.versionMajor)
      .u16(this.opts.versionMinor)
      .u32(this.opts.thiszone >>> 0)
      .u32(0)
      .u32(this.opts.snaplen)
      .u32(this.opts.linkType);
  }

  get length(): number {
    return this.w.length;
  }

  packet(p: PcapPacket): this {
    this.offsets.push(this.w.length);
    // Record header, 16 bytes: ts_sec u32 | ts_frac u32 | caplen u32 | origlen u32
    this.w
      .u32(p.sec)
      .u32(p.frac ?? 0)
      .u32(p.caplenField ?? p.data.length)
      .u32(p.origLen ?? p.data.length);
    // Modified format, 8 more bytes: ifindex u32 | protocol u16 | pkt_type u8 | pad u8
    if (this.opts.modified) this.w.u32(p.ifindex ?? 0).u16(p.protocol ?? 0x0800).u8(p.pktType ?? 0).u8(0);
    this.w.bytes(p.data);
    return this;
  }

  /** Append arbitrary bytes (garbage, a cut record, …). */
  raw(b: ArrayLike<number>): this {
    this.w.bytes(b);
    return this;
  }

  build(): Uint8Array {
    return this.w.toBytes();
  }
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// pcapng
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Option value: bytes as given, a string as UTF-8 (no NUL). */
export type OptionValue = Uint8Array | string;
export type Option = readonly [code: number, value: OptionValue];

export interface ShbOptions {
  le?: boolean;
  major?: number;
  minor?: number;
  /** Section length, -1 (unknown) by default. */
  sectionLength?: bigint;
  hardware?: string;
  os?: string;
  userappl?: string;
  /** Byte-order magic to write instead of 1a2b3c4d (for damage). */
  byteOrderMagic?: number;
}

export interface IdbOptions {
  linkType: number;
  snapLen?: number;
  name?: string;
  description?: string;
  /** if_tsresol byte: 10^-n seconds, or 2^-n with the high bit set (0x80 | n). */
  tsresol?: number;
  /** if_tsoffset: seconds added to every timestamp (signed 64-bit). */
  tsoffset?: bigint;
  /** More options, written after the ones above. */
  options?: readonly Option[];
}

export interface EpbOptions {
  iface: number;
  /** Timestamp in the interface's units (64-bit). */
  ts: bigint;
  data: Uint8Array;
  origLen?: number;
  /** Value written in the captured length field (default: data.length). Only for building damage. */
  caplenField?: number;
  options?: readonly Option[];
}

export interface IsbOptions {
  iface: number;
  ts?: bigint;
  /** isb_starttime (2), isb_endtime (3): 64-bit timestamps. */
  startTime?: bigint;
  endTime?: bigint;
  /** isb_ifrecv (4) */
  ifRecv?: bigint;
  /** isb_ifdrop (5) */
  ifDrop?: bigint;
  /** isb_filteraccept (6) */
  filterAccept?: bigint;
  /** isb_osdrop (7) */
  osDrop?: bigint;
  /** isb_usrdeliv (8) */
  usrDeliv?: bigint;
}

export class PcapngWriter {
  private readonly w = new ByteWriter(true);
  /** File offset of every packet block (EPB, SPB, OPB), in order. */
  readonly packetOffsets: number[] = [];
  /** File offset of the last block written. */
  lastOffset = 0;

  get length(): number {
    return this.w.length;
  }

  get le(): boolean {
    return this.w.le;
  }

  /**
   * Section header block (type 0a0d0d0a):
   *   type u32 | total length u32 | byte-order magic 1a2b3c4d u32 | major u16 | minor u16 |
   *   section length i64 | options | total length u32
   */
  shb(o: ShbOptions = {}): this {
    this.w.le = o.le ?? true;
    const body = new ByteWriter(this.w.le)
      .u32(o.byteOrderMagic ?? 0x1a2b3c4d)
      .u16(o.major ?? 1)
      .u16(o.minor ?? 0)
      .u64(o.sectionLength ?? -1n);
    const opts: Option[] = [];
    if (o.hardware !== undefined) opts.push([2, o.hardware]);
    if (o.os !== undefined) opts.push([3, o.os]);
    if (o.userappl !== undefined) opts.push([4, o.userappl]);
    this.options(body, opts);
    return this.block(0x0a0d0d0a, body.toBytes());
  }

  /**
   * Interface description block (type 1):
   *   type | length | link type u16 | reserved u16 | snap length u32 | options | length
   */
  idb(o: IdbOptions): this {
    const le = this.w.le;
    const body = new ByteWriter(le).u16(o.linkType).u16(0).u32(o.snapLen ?? 0);
    const opts: Option[] = [];
    if (o.name !== undefined) opts.push([2, o.name]); // if_name
    if (o.description !== undefined) opts.push([3, o.description]); // if_description
    if (o.tsresol !== undefined) opts.push([9, Uint8Array.of(o.tsresol)]); // if_tsresol, 1 byte
    if (o.tsoffset !== undefined) opts.push([14, new ByteWriter(le).u64(o.tsoffset).toBytes()]); // if_tsoffset, i64
    opts.push(...(o.options ?? []));
    this.options(body, opts);
    return this.block(1, body.toBytes());
  }

  /**
   * Enhanced packet block (type 6):
   *   type | length | interface id u32 | ts high u32 | ts low u32 | captured len u32 |
   *   original len u32 | data (padded to 4) | options | length
   */
  epb(o: EpbOptions): this {
    const body = new ByteWriter(this.w.le)
      .u32(o.iface)
      .u32(Number((o.ts >> 32n) & 0xffffffffn))
      .u32(Number(o.ts & 0xffffffffn))
      .u32(o.caplenField ?? o.data.length)
      .u32(o.origLen ?? o.data.length)
      .bytes(o.data)
      .pad(4);
    this.options(body, o.options ?? []);
    this.packetOffsets.push(this.w.length);
    return this.block(6, body.toBytes());
  }

  /**
   * Simple packet block (type 3), always interface 0, no timestamp:
   *   type | length | original len u32 | data (padded to 4) | length
   */
  spb(o: { data: Uint8Array; origLen?: number }): this {
    const body = new ByteWriter(this.w.le)
      .u32(o.origLen ?? o.data.length)
      .bytes(o.data)
      .pad(4);
    this.packetOffsets.push(this.w.length);
    return this.block(3, body.toBytes());
  }

  /**
   * Obsolete packet block (type 2):
   *   type | length | interface id u16 | drops count u16 | ts high u32 | ts low u32 |
   *   captured len u32 | original len u32 | data (padded to 4) | options | length
   */
  opb(o: { iface: number; ts: bigint; data: Uint8Array; origLen?: number; drops?: number }): this {
    const body = new ByteWriter(this.w.le)
      .u16(o.iface)
      .u16(o.drops ?? 0)
      .u32(Number((o.ts >> 32n) & 0xffffffffn))
      .u32(Number(o.ts & 0xffffffffn))
      .u32(o.data.length)
      .u32(o.origLen ?? o.data.length)
      .bytes(o.data)
      .pad(4);
    this.packetOffsets.push(this.w.length);
    return this.block(2, body.toBytes());
  }

  /**
   * Interface statistics block (type 5):
   *   type | length | interface id u32 | ts high u32 | ts low u32 | options | length
   */
  isb(o: IsbOptions): this {
    const le = this.w.le;
    const ts = o.ts ?? 0n;
    const body = new ByteWriter(le)
      .u32(o.iface)
      .u32(Number((ts >> 32n) & 0xffffffffn))
      .u32(Number(ts & 0xffffffffn));
    const opts: Option[] = [];
    const u64 = (v: bigint): Uint8Array => new ByteWriter(le).u64(v).toBytes();
    if (o.startTime !== undefined) opts.push([2, u64(o.startTime)]);
    if (o.endTime !== undefined) opts.push([3, u64(o.endTime)]);
    if (o.ifRecv !== undefined) opts.push([4, u64(o.ifRecv)]);
    if (o.ifDrop !== undefined) opts.push([5, u64(o.ifDrop)]);
    if (o.filterAccept !== undefined) opts.push([6, u64(o.filterAccept)]);
    if (o.osDrop !== undefined) opts.push([7, u64(o.osDrop)]);
    if (o.usrDeliv !== undefined) opts.push([8, u64(o.usrDeliv)]);
    this.options(body, opts);
    return this.block(5, body.toBytes());
  }

  /**
   * Name resolution block (type 4): records (type u16 | length u16 | value, padded), ended by
   * nrb_record_end (0, 0). Here: IPv4 records (type 1: address[4] then NUL-terminated names).
   */
  nrb(entries: readonly { ipv4: readonly [number, number, number, number]; names: readonly string[] }[]): this {
    const body = new ByteWriter(this.w.le);
    for (const e of entries) {
      const value = new ByteWriter().bytes(e.ipv4);
      for (const n of e.names) value.bytes(ascii(n)).u8(0);
      const v = value.toBytes();
      body.u16(1).u16(v.length).bytes(v).pad(4);
    }
    body.u16(0).u16(0);
    return this.block(4, body.toBytes());
  }

  /**
   * Custom block (type 0bad copiable, 40000bad not copiable):
   *   type | length | private enterprise number u32 | data (padded) | length
   */
  custom(o: { copiable?: boolean; pen?: number; data: Uint8Array }): this {
    const body = new ByteWriter(this.w.le)
      .u32(o.pen ?? 32473)
      .bytes(o.data)
      .pad(4);
    return this.block(o.copiable === false ? 0x40000bad : 0x00000bad, body.toBytes());
  }

  /** Any block: type | total length | body (padded to 4) | total length. */
  block(type: number, body: Uint8Array, opts: { lengthField?: number; trailerField?: number } = {}): this {
    const padded = (body.length + 3) & ~3;
    const total = 12 + padded;
    this.lastOffset = this.w.length;
    this.w.u32(type).u32(opts.lengthField ?? total).bytes(body).zeros(padded - body.length).u32(opts.trailerField ?? total);
    return this;
  }

  /** Append arbitrary bytes. */
  raw(b: ArrayLike<number>): this {
    this.w.bytes(b);
    return this;
  }

  build(): Uint8Array {
    return this.w.toBytes();
  }

  /** Options: code u16 | length u16 | value padded to 4; then opt_endofopt (0, 0) if any. */
  private options(body: ByteWriter, opts: readonly Option[]): void {
    if (opts.length === 0) return;
    for (const [code, value] of opts) {
      const v = typeof value === 'string' ? ascii(value) : value;
      body.u16(code).u16(v.length).bytes(v).pad(4);
    }
    body.u16(0).u16(0);
  }
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Packets
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** One protocol layer: how it encodes itself around its inner bytes, and how outer layers name it. */
interface Layer {
  /** The value an enclosing Ethernet-style type field announces for this layer. */
  ethertype?: number;
  /** The protocol number an enclosing IP header announces for this layer. */
  ipProto?: number;
  /** BSD loopback address family. */
  af?: number;
  encode(inner: Uint8Array, innerLayer: Layer | null): Uint8Array;
}

export const EtherType = { IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd, Vlan: 0x8100, QinQ: 0x88a8 } as const;

export interface EthernetOptions {
  dst?: readonly number[];
  src?: readonly number[];
  /** Type field (default: from the inner layer). */
  type?: number;
  /** Pad the whole frame with zeros to this many bytes (60: the Ethernet minimum without FCS). */
  padTo?: number;
}

export interface Ipv4Options {
  src?: string;
  dst?: string;
  /** Protocol (default: from the inner layer). */
  proto?: number;
  ttl?: number;
  id?: number;
  df?: boolean;
  /** More-fragments flag. */
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** Raw options, zero-padded to a multiple of 4 (IHL grows to match). */
  options?: Uint8Array;
  /** Total length field (default: header + inner). 0 = TSO super-segment. */
  totalLength?: number;
  /** Version/IHL byte override. */
  versionIhl?: number;
}

export type Ipv6Ext =
  | { type: 'hop'; options?: Uint8Array }
  | { type: 'dest'; options?: Uint8Array }
  | { type: 'routing'; routingType?: number; segmentsLeft?: number; addresses?: readonly string[] }
  | { type: 'fragment'; offset?: number; more?: boolean; id?: number }
  | { type: 'ah' };

export interface Ipv6Options {
  src?: string;
  dst?: string;
  /** Next header of the last header (default: from the inner layer). */
  next?: number;
  hopLimit?: number;
  /** Extension headers, in order. */
  ext?: readonly Ipv6Ext[];
  /** Payload length field (default: extensions + inner). 0 = jumbogram / TSO. */
  payloadLength?: number;
  /** BSD loopback family to announce (default 30, macOS). */
  af?: number;
}

export interface TcpOptions {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** Flags as a number or letters: F S R P A U (e.g. 'SA', 'PA'). */
  flags?: number | string;
  window?: number;
  /** Raw options, zero-padded to a multiple of 4 (data offset grows to match). */
  options?: Uint8Array;
  /** Data offset field in 32-bit words (default: from the header size). */
  dataOffset?: number;
}

/** Common TCP options, each as its wire bytes. */
export const TcpOpt = {
  nop: (): number[] => [1],
  mss: (v: number): number[] => [2, 4, v >> 8, v & 0xff],
  wscale: (s: number): number[] => [3, 3, s],
  sackPermitted: (): number[] => [4, 2],
  timestamps: (val: number, ecr: number): number[] => [8, 10, ...be32(val), ...be32(ecr)],
  of: (...opts: number[][]): Uint8Array => Uint8Array.from(opts.flat()),
};

const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const be16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];

export function tcpFlags(f: number | string | undefined): number {
  if (f === undefined) return 0x10; // ACK
  if (typeof f === 'number') return f;
  const bits: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };
  let v = 0;
  for (const c of f) {
    const b = bits[c];
    if (b === undefined) throw new Error(`unknown TCP flag ${c}`);
    v |= b;
  }
  return v;
}

export function ipv4Bytes(s: string): number[] {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${s}`);
  return parts;
}

export function ipv6Bytes(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, null];
  const words = (x: string): number[] => (x === '' ? [] : x.split(':').map((w) => parseInt(w, 16)));
  const h = words(head!);
  const t = tail === null ? [] : words(tail);
  const all = tail === null ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8) throw new Error(`bad IPv6 ${s}`);
  return all.flatMap(be16);
}

/** Internet checksum (RFC 1071) of `b`. */
export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const padTo4 = (b: Uint8Array | undefined): Uint8Array => {
  if (!b) return new Uint8Array(0);
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
};

/** Hop-by-hop / destination options body: the given options padded with PadN to 8n - 2 bytes. */
function optionsExtBody(opts: Uint8Array | undefined): number[] {
  const o = Array.from(opts ?? []);
  const total = Math.ceil((o.length + 2) / 8) * 8;
  const pad = total - 2 - o.length;
  if (pad === 1) o.push(0); // Pad1
  else if (pad >= 2) o.push(1, pad - 2, ...new Array<number>(pad - 2).fill(0)); // PadN
  return o;
}

export class PacketBuilder {
  private readonly layers: Layer[] = [];
  private body: Uint8Array = new Uint8Array(0);

  /** Ethernet II: dst[6] | src[6] | type u16 | inner | zero padding (optional). */
  ethernet(o: EthernetOptions = {}): this {
    this.layers.push({
      encode: (inner, il) => {
        const w = new ByteWriter(false)
          .bytes(o.dst ?? [0x02, 0, 0, 0, 0, 0x02])
          .bytes(o.src ?? [0x02, 0, 0, 0, 0, 0x01])
          .u16(o.type ?? il?.ethertype ?? EtherType.IPv4)
          .bytes(inner);
        if (o.padTo !== undefined && w.length < o.padTo) w.zeros(o.padTo - w.length);
        return w.toBytes();
      },
    });
    return this;
  }

  /**
   * One VLAN tag after an Ethernet-style type field (which announces `tpid`):
   *   TCI u16 (PCP 3 bits | DEI 1 | VID 12) | inner type u16 | inner
   */
  vlan(vid: number, tpid: number = EtherType.Vlan, pcp = 0): this {
    this.layers.push({
      ethertype: tpid,
      encode: (inner, il) =>
        new ByteWriter(false)
          .u16(((pcp & 7) << 13) | (vid & 0xfff))
          .u16(il?.ethertype ?? EtherType.IPv4)
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /** 802.1ad QinQ: an outer service tag (88a8) and an inner customer tag (8100). */
  qinq(outerVid: number, innerVid: number): this {
    return this.vlan(outerVid, EtherType.QinQ).vlan(innerVid, EtherType.Vlan);
  }

  /**
   * Linux cooked v1 (LINKTYPE_LINUX_SLL, 113), 16 bytes:
   *   packet type u16 | ARPHRD u16 | address length u16 | address[8] | protocol u16
   */
  sll(o: { packetType?: number; protocol?: number } = {}): this {
    this.layers.push({
      encode: (inner, il) =>
        new ByteWriter(false)
          .u16(o.packetType ?? 0)
          .u16(1) // ARPHRD_ETHER
          .u16(6)
          .bytes([0x02, 0, 0, 0, 0, 0x01, 0, 0])
          .u16(o.protocol ?? il?.ethertype ?? EtherType.IPv4)
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /**
   * Linux cooked v2 (LINKTYPE_LINUX_SLL2, 276), 20 bytes:
   *   protocol u16 | reserved u16 | interface index u32 | ARPHRD u16 | packet type u8 |
   *   address length u8 | address[8]
   */
  sll2(o: { protocol?: number; ifindex?: number; packetType?: number } = {}): this {
    this.layers.push({
      encode: (inner, il) =>
        new ByteWriter(false)
          .u16(o.protocol ?? il?.ethertype ?? EtherType.IPv4)
          .u16(0)
          .u32(o.ifindex ?? 1)
          .u16(1)
          .u8(o.packetType ?? 0)
          .u8(6)
          .bytes([0x02, 0, 0, 0, 0, 0x01, 0, 0])
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /** BSD loopback (LINKTYPE_NULL, 0): address family u32 in the capturing host's byte order. */
  bsdNull(o: { le?: boolean; af?: number } = {}): this {
    this.layers.push({
      encode: (inner, il) =>
        new ByteWriter(o.le ?? true)
          .u32(o.af ?? il?.af ?? 2)
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /** OpenBSD loopback (LINKTYPE_LOOP, 108): address family u32, network byte order. */
  loop(o: { af?: number } = {}): this {
    return this.bsdNull({ le: false, ...o });
  }

  /**
   * IPv4 (RFC 791):
   *   version/IHL u8 | DSCP/ECN u8 | total length u16 | id u16 | flags (R, DF, MF) + fragment
   *   offset u16 | TTL u8 | protocol u8 | header checksum u16 | src[4] | dst[4] | options (padded)
   */
  ipv4(o: Ipv4Options = {}): this {
    this.layers.push({
      ethertype: EtherType.IPv4,
      af: 2,
      encode: (inner, il) => {
        const opts = padTo4(o.options);
        const hlen = 20 + opts.length;
        const w = new ByteWriter(false)
          .u8(o.versionIhl ?? (0x40 | (hlen >> 2)))
          .u8(0)
          .u16(o.totalLength ?? hlen + inner.length)
          .u16(o.id ?? 0x1234)
          .u16((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff))
          .u8(o.ttl ?? 64)
          .u8(o.proto ?? il?.ipProto ?? 253)
          .u16(0) // checksum, filled below
          .bytes(ipv4Bytes(o.src ?? '10.0.0.1'))
          .bytes(ipv4Bytes(o.dst ?? '10.0.0.2'))
          .bytes(opts);
        const header = w.toBytes();
        const sum = inetChecksum(header);
        header[10] = sum >> 8;
        header[11] = sum & 0xff;
        const out = new Uint8Array(header.length + inner.length);
        out.set(header);
        out.set(inner, header.length);
        return out;
      },
    });
    return this;
  }

  /**
   * IPv6 (RFC 8200), 40 bytes then extension headers:
   *   version/class/flow u32 | payload length u16 | next header u8 | hop limit u8 | src[16] | dst[16]
   * Extension headers (each: next header u8 | length u8 | …):
   *   hop-by-hop (0), destination (60): length in 8-byte units after the first 8; TLV options
   *   routing (43): routing type u8 | segments left u8 | reserved u32 | addresses[16]…
   *   fragment (44), 8 bytes: next u8 | reserved u8 | offset (13 bits) + res (2) + M (1) u16 | id u32
   *   AH (51): length in 4-byte units minus 2 | reserved u16 | SPI u32 | seq u32 | ICV[12]
   */
  ipv6(o: Ipv6Options = {}): this {
    this.layers.push({
      ethertype: EtherType.IPv6,
      af: o.af ?? 30,
      encode: (inner, il) => {
        const ext = o.ext ?? [];
        const codes = ext.map((e) => ({ hop: 0, dest: 60, routing: 43, fragment: 44, ah: 51 })[e.type]);
        const last = o.next ?? il?.ipProto ?? 59;
        const chain = new ByteWriter(false);
        ext.forEach((e, i) => {
          const next = i + 1 < ext.length ? codes[i + 1]! : last;
          switch (e.type) {
            case 'hop':
            case 'dest': {
              const body = optionsExtBody(e.options);
              chain.u8(next).u8((body.length + 2) / 8 - 1).bytes(body);
              break;
            }
            case 'routing': {
              const addrs = e.addresses ?? ['2001:db8::ff'];
              chain
                .u8(next)
                .u8(addrs.length * 2)
                .u8(e.routingType ?? 0)
                .u8(e.segmentsLeft ?? 0)
                .u32(0);
              for (const a of addrs) chain.bytes(ipv6Bytes(a));
              break;
            }
            case 'fragment':
              chain
                .u8(next)
                .u8(0)
                .u16(((e.offset ?? 0) << 3) | (e.more ? 1 : 0))
                .u32(e.id ?? 0xcafe);
              break;
            case 'ah':
              chain.u8(next).u8(24 / 4 - 2).u16(0).u32(0x100).u32(1).zeros(12);
              break;
          }
        });
        const extBytes = chain.toBytes();
        return new ByteWriter(false)
          .u32(0x60000000)
          .u16(o.payloadLength ?? extBytes.length + inner.length)
          .u8(ext.length > 0 ? codes[0]! : last)
          .u8(o.hopLimit ?? 64)
          .bytes(ipv6Bytes(o.src ?? '2001:db8::1'))
          .bytes(ipv6Bytes(o.dst ?? '2001:db8::2'))
          .bytes(extBytes)
          .bytes(inner)
          .toBytes();
      },
    });
    return this;
  }

  /**
   * TCP (RFC 9293):
   *   src port u16 | dst port u16 | seq u32 | ack u32 | data offset (4 bits) + reserved (4) u8 |
   *   flags u8 | window u16 | checksum u16 (left 0) | urgent pointer u16 | options (padded)
   */
  tcp(o: TcpOptions = {}): this {
    this.layers.push({
      ipProto: 6,
      encode: (inner) => {
        const opts = padTo4(o.options);
        const words = o.dataOffset ?? (20 + opts.length) / 4;
        return new ByteWriter(false)
          .u16(o.srcPort ?? 40000)
          .u16(o.dstPort ?? 3306)
          .u32(o.seq ?? 1000)
          .u32(o.ack ?? 2000)
          .u8(words << 4)
          .u8(tcpFlags(o.flags))
          .u16(o.window ?? 65535)
          .u16(0)
          .u16(0)
          .bytes(opts)
          .bytes(inner)
          .toBytes();
      },
    });
    return this;
  }

  /** UDP (RFC 768): src port u16 | dst port u16 | length u16 | checksum u16 (0). */
  udp(o: { srcPort?: number; dstPort?: number } = {}): this {
    this.layers.push({
      ipProto: 17,
      encode: (inner) =>
        new ByteWriter(false)
          .u16(o.srcPort ?? 5353)
          .u16(o.dstPort ?? 53)
          .u16(8 + inner.length)
          .u16(0)
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /** ICMP (proto 1) or ICMPv6 (`v6`, proto 58): type u8 | code u8 | checksum u16 | rest u32. */
  icmp(o: { type?: number; code?: number; v6?: boolean } = {}): this {
    this.layers.push({
      ipProto: o.v6 ? 58 : 1,
      encode: (inner) =>
        new ByteWriter(false)
          .u8(o.type ?? (o.v6 ? 128 : 8))
          .u8(o.code ?? 0)
          .u16(0)
          .u32(0x00010001)
          .bytes(inner)
          .toBytes(),
    });
    return this;
  }

  /**
   * ARP request over Ethernet/IPv4, 28 bytes: htype u16 | ptype u16 | hlen u8 | plen u8 | op u16 |
   * sender MAC[6] | sender IP[4] | target MAC[6] | target IP[4]
   */
  arp(o: { op?: number; senderIp?: string; targetIp?: string } = {}): this {
    this.layers.push({
      ethertype: EtherType.ARP,
      encode: () =>
        new ByteWriter(false)
          .u16(1)
          .u16(0x0800)
          .u8(6)
          .u8(4)
          .u16(o.op ?? 1)
          .bytes([0x02, 0, 0, 0, 0, 0x01])
          .bytes(ipv4Bytes(o.senderIp ?? '10.0.0.1'))
          .zeros(6)
          .bytes(ipv4Bytes(o.targetIp ?? '10.0.0.2'))
          .toBytes(),
    });
    return this;
  }

  /** Innermost bytes (application payload). */
  payload(p: Uint8Array | string | number[]): this {
    this.body = typeof p === 'string' ? ascii(p) : Uint8Array.from(p);
    return this;
  }

  build(): Uint8Array {
    let bytes = this.body;
    let inner: Layer | null = null;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      bytes = l.encode(bytes, inner);
      inner = l;
    }
    return bytes;
  }
}

export const packet = (): PacketBuilder => new PacketBuilder();

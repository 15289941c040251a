import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PacketDecoder, Skip, SKIP_NAMES, formatEndpoint, formatIpv4, formatIpv6 } from '../../src/net/decode.js';
import { linkTypeName } from '../../src/net/linktype.js';
import { newPacketRecord, type PacketRecord } from '../../src/pcap/record.js';
import { packet, PacketBuilder, TcpOpt, ipv6Bytes, concat, type Ipv4Options, type Ipv6Options, type TcpOptions } from '../builders/capture-builder.js';

/** Some bytes before the packet, so that offsets relative to `record.offset` are exercised. */
const LEAD = 7;

function record(linkType: number, frame: Uint8Array, o: { caplen?: number; origLen?: number } = {}): PacketRecord {
  const r = newPacketRecord();
  const caplen = o.caplen ?? frame.length;
  const data = new Uint8Array(LEAD + caplen + 5).fill(0xcc);
  data.set(frame.subarray(0, caplen), LEAD);
  r.data = data;
  r.offset = LEAD;
  r.caplen = caplen;
  r.origLen = o.origLen ?? frame.length;
  r.linkType = linkType;
  return r;
}

interface TcpExpect {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** Offset of the payload from the start of the packet. */
  payloadAt: number;
  payload: string;
  missing?: number;
  vlan?: boolean;
}

/** Decode one packet and check every output field against `e`. */
function expectTcp(linkType: number, frame: Uint8Array, e: TcpExpect, o: { caplen?: number; origLen?: number } = {}): PacketDecoder {
  const d = new PacketDecoder();
  const r = record(linkType, frame, o);
  assert.equal(d.decode(r), true, `not decoded as TCP; skipped: ${d.skipped.map((n, i) => (n ? SKIP_NAMES[i] : '')).join('')}`);
  assert.equal(d.ipVersion, e.ipVersion);
  assert.equal(d.data, r.data);
  assert.equal(formatEndpoint(d, true), e.src);
  assert.equal(formatEndpoint(d, false), e.dst);
  assert.equal(d.seq, e.seq ?? 1000);
  assert.equal(d.ack, e.ack ?? 2000);
  assert.equal(d.flags, e.flags ?? 0x18);
  assert.equal(d.window, e.window ?? 65535);
  assert.equal(d.payloadOffset, LEAD + e.payloadAt);
  assert.equal(d.payloadLength, e.payload.length);
  assert.equal(Buffer.from(d.data.subarray(d.payloadOffset, d.payloadOffset + d.payloadLength)).toString('latin1'), e.payload);
  assert.equal(d.payloadMissing, e.missing ?? 0);
  assert.equal(d.truncatedTcp, e.missing ? 1 : 0);
  assert.equal(d.vlanTagged, e.vlan ? 1 : 0);
  assert.deepEqual(d.skipped, new Array(SKIP_NAMES.length).fill(0));
  return d;
}

function expectSkip(linkType: number, frame: Uint8Array, kind: Skip, o: { caplen?: number; origLen?: number } = {}): PacketDecoder {
  const d = new PacketDecoder();
  assert.equal(d.decode(record(linkType, frame, o)), false, 'decoded, expected a skip');
  const want = new Array<number>(SKIP_NAMES.length).fill(0);
  want[kind] = 1;
  assert.deepEqual(d.skipped, want, `expected skip "${SKIP_NAMES[kind]}", got ${JSON.stringify(d.skipped)}`);
  return d;
}

const v4: Ipv4Options = { src: '192.0.2.10', dst: '198.51.100.20' };
const v6: Ipv6Options = { src: '2001:db8::10', dst: '2001:db8:0:1::20' };
const t: TcpOptions = { srcPort: 51000, dstPort: 3306, flags: 'PA' };
const SQL = 'SELECT 1';
const E4 = { ipVersion: 4, src: '192.0.2.10:51000', dst: '198.51.100.20:3306', payload: SQL } as const;
const E6 = { ipVersion: 6, src: '[2001:db8::10]:51000', dst: '[2001:db8:0:1::20]:3306', payload: SQL } as const;

const tcp4 = (p: PacketBuilder): Uint8Array => p.ipv4(v4).tcp(t).payload(SQL).build();
const tcp6 = (p: PacketBuilder): Uint8Array => p.ipv6(v6).tcp(t).payload(SQL).build();

describe('decode: every link type and encapsulation', () => {
  const cases: { name: string; linkType: number; frame: Uint8Array; e: TcpExpect }[] = [
    { name: 'Ethernet / IPv4', linkType: 1, frame: tcp4(packet().ethernet()), e: { ...E4, payloadAt: 14 + 20 + 20 } },
    { name: 'Ethernet / IPv6', linkType: 1, frame: tcp6(packet().ethernet()), e: { ...E6, payloadAt: 14 + 40 + 20 } },
    { name: 'Ethernet / 802.1Q / IPv4', linkType: 1, frame: tcp4(packet().ethernet().vlan(100)), e: { ...E4, payloadAt: 18 + 40, vlan: true } },
    { name: 'Ethernet / 802.1ad QinQ / IPv6', linkType: 1, frame: tcp6(packet().ethernet().qinq(10, 20)), e: { ...E6, payloadAt: 22 + 60, vlan: true } },
    { name: 'Ethernet / legacy 9100 tag / IPv4', linkType: 1, frame: tcp4(packet().ethernet().vlan(5, 0x9100)), e: { ...E4, payloadAt: 18 + 40, vlan: true } },
    { name: 'Ethernet / MPLS (2 labels) / IPv4', linkType: 1, frame: packet().ethernet({ type: 0x8847 }).payload(concat([0, 0x10, 0x00, 64, 0, 0x20, 0x01, 64], tcp4(packet()))).build(), e: { ...E4, payloadAt: 14 + 8 + 40 } },
    { name: 'Ethernet / PPPoE session / IPv6', linkType: 1, frame: packet().ethernet({ type: 0x8864 }).payload(concat([0x11, 0, 0, 1, 0, 0, 0x00, 0x57], tcp6(packet()))).build(), e: { ...E6, payloadAt: 14 + 8 + 60 } },
    { name: 'Linux SLL / IPv4', linkType: 113, frame: tcp4(packet().sll()), e: { ...E4, payloadAt: 16 + 40 } },
    { name: 'Linux SLL / IPv6', linkType: 113, frame: tcp6(packet().sll()), e: { ...E6, payloadAt: 16 + 60 } },
    { name: 'Linux SLL / 802.1Q / IPv4', linkType: 113, frame: tcp4(packet().sll().vlan(3)), e: { ...E4, payloadAt: 20 + 40, vlan: true } },
    { name: 'Linux SLL2 / IPv4', linkType: 276, frame: tcp4(packet().sll2()), e: { ...E4, payloadAt: 20 + 40 } },
    { name: 'Linux SLL2 / IPv6', linkType: 276, frame: tcp6(packet().sll2({ ifindex: 7 })), e: { ...E6, payloadAt: 20 + 60 } },
    { name: 'BSD NULL LE, AF_INET', linkType: 0, frame: tcp4(packet().bsdNull({ le: true, af: 2 })), e: { ...E4, payloadAt: 4 + 40 } },
    { name: 'BSD NULL BE, AF_INET', linkType: 0, frame: tcp4(packet().bsdNull({ le: false, af: 2 })), e: { ...E4, payloadAt: 4 + 40 } },
    { name: 'BSD NULL LE, AF_INET6 24 (NetBSD, OpenBSD)', linkType: 0, frame: tcp6(packet().bsdNull({ le: true, af: 24 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'BSD NULL LE, AF_INET6 28 (FreeBSD)', linkType: 0, frame: tcp6(packet().bsdNull({ le: true, af: 28 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'BSD NULL LE, AF_INET6 30 (macOS)', linkType: 0, frame: tcp6(packet().bsdNull({ le: true, af: 30 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'BSD NULL BE, AF_INET6 30', linkType: 0, frame: tcp6(packet().bsdNull({ le: false, af: 30 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'BSD NULL BE, AF_INET6 24', linkType: 0, frame: tcp6(packet().bsdNull({ le: false, af: 24 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'BSD NULL LE, AF_INET6 10 (Linux)', linkType: 0, frame: tcp6(packet().bsdNull({ le: true, af: 10 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'LOOP, AF_INET', linkType: 108, frame: tcp4(packet().loop({ af: 2 })), e: { ...E4, payloadAt: 4 + 40 } },
    { name: 'LOOP, AF_INET6 24', linkType: 108, frame: tcp6(packet().loop({ af: 24 })), e: { ...E6, payloadAt: 4 + 60 } },
    { name: 'RAW (101) IPv4', linkType: 101, frame: tcp4(packet()), e: { ...E4, payloadAt: 40 } },
    { name: 'RAW (101) IPv6', linkType: 101, frame: tcp6(packet()), e: { ...E6, payloadAt: 60 } },
    { name: 'RAW (12) IPv4', linkType: 12, frame: tcp4(packet()), e: { ...E4, payloadAt: 40 } },
    { name: 'RAW (14) IPv6', linkType: 14, frame: tcp6(packet()), e: { ...E6, payloadAt: 60 } },
    { name: 'IPV4 (228)', linkType: 228, frame: tcp4(packet()), e: { ...E4, payloadAt: 40 } },
    { name: 'IPV6 (229)', linkType: 229, frame: tcp6(packet()), e: { ...E6, payloadAt: 60 } },
  ];
  for (const c of cases) test(c.name, () => void expectTcp(c.linkType, c.frame, c.e));

  test('the link-type table agrees with the decoder', () => {
    // Every decoded link type has a name; a name ending in "(not decoded)" means the decoder skips it.
    for (const c of cases) assert.doesNotMatch(linkTypeName(c.linkType), /not decoded/);
    assert.equal(linkTypeName(127), 'linktype 127 (not decoded)');
    assert.equal(linkTypeName(113), 'LINUX_SLL (Linux cooked v1)');
    assert.equal(linkTypeName(9999), 'linktype 9999 (not decoded)');
  });
});

describe('decode: TCP header fields', () => {
  test('ports, sequence numbers above 2^31, every flag, window', () => {
    const frame = packet()
      .ethernet()
      .ipv4(v4)
      .tcp({ srcPort: 65535, dstPort: 1, seq: 0xffffffff, ack: 0x80000000, flags: 'FSRPAU', window: 1234 })
      .build();
    const d = expectTcp(1, frame, { ...E4, src: '192.0.2.10:65535', dst: '198.51.100.20:1', seq: 0xffffffff, ack: 0x80000000, flags: 0x3f, window: 1234, payload: '', payloadAt: 54 });
    assert.equal(d.srcPort, 65535);
    assert.equal(d.dstPort, 1);
  });

  test('TCP options move the payload', () => {
    const options = TcpOpt.of(TcpOpt.mss(1460), TcpOpt.sackPermitted(), TcpOpt.timestamps(1, 2), TcpOpt.nop(), TcpOpt.wscale(7));
    assert.equal(options.length, 20);
    const frame = packet().ethernet().ipv4(v4).tcp({ ...t, flags: 'SA', options }).payload(SQL).build();
    expectTcp(1, frame, { ...E4, flags: 0x12, payloadAt: 14 + 20 + 40 });
  });

  test('IPv4 addresses as numbers', () => {
    const d = expectTcp(1, tcp4(packet().ethernet()), { ...E4, payloadAt: 54 });
    assert.equal(d.src4, 0xc000020a);
    assert.equal(d.dst4, 0xc6336414);
    assert.equal(formatIpv4(d.src4), '192.0.2.10');
    assert.equal(d.srcAddrOffset, LEAD + 14 + 12);
    assert.equal(d.dstAddrOffset, LEAD + 14 + 16);
  });

  test('IPv6 address offsets', () => {
    const d = expectTcp(113, tcp6(packet().sll()), { ...E6, payloadAt: 76 });
    assert.equal(d.srcAddrOffset, LEAD + 16 + 8);
    assert.equal(d.dstAddrOffset, LEAD + 16 + 24);
  });

  test('the decoder object is reused: fields follow the last TCP packet', () => {
    const d = new PacketDecoder();
    assert.ok(d.decode(record(1, packet().ethernet().ipv6(v6).tcp({ srcPort: 1 }).payload('abc').build())));
    assert.equal(d.decode(record(1, packet().ethernet().ipv4().udp().build())), false);
    assert.ok(d.decode(record(1, packet().ethernet().ipv4(v4).tcp({ srcPort: 2 }).build())));
    assert.equal(d.ipVersion, 4);
    assert.equal(d.srcPort, 2);
    assert.equal(d.payloadLength, 0);
    assert.equal(d.skipped[Skip.Udp], 1);
  });
});

describe('decode: IPv4 options and fragments', () => {
  test('options (router alert + NOPs) lengthen the header', () => {
    const frame = packet().ethernet().ipv4({ ...v4, options: Uint8Array.of(0x94, 0x04, 0, 0, 1, 1, 1, 0) }).tcp(t).payload(SQL).build();
    expectTcp(1, frame, { ...E4, payloadAt: 14 + 28 + 20 });
  });

  test('maximum header length (IHL 15)', () => {
    const frame = packet().ethernet().ipv4({ ...v4, options: new Uint8Array(40).fill(1) }).tcp(t).payload(SQL).build();
    expectTcp(1, frame, { ...E4, payloadAt: 14 + 60 + 20 });
  });

  test('DF alone is not a fragment', () => {
    expectTcp(1, packet().ethernet().ipv4({ ...v4, df: true }).tcp(t).payload(SQL).build(), { ...E4, payloadAt: 54 });
  });

  test('first fragment (MF) and later fragments (offset) are skipped', () => {
    expectSkip(1, packet().ethernet().ipv4({ mf: true }).tcp().payload(SQL).build(), Skip.Ipv4Fragment);
    expectSkip(1, packet().ethernet().ipv4({ fragOffset: 185 }).payload(SQL).build(), Skip.Ipv4Fragment);
    expectSkip(1, packet().ethernet().ipv4({ fragOffset: 1, mf: true, df: false }).udp().build(), Skip.Ipv4Fragment);
  });
});

describe('decode: IPv6 extension headers', () => {
  const cases: { name: string; ext: Ipv6Options['ext']; extLen: number }[] = [
    { name: 'hop-by-hop', ext: [{ type: 'hop' }], extLen: 8 },
    { name: 'hop-by-hop with router alert', ext: [{ type: 'hop', options: Uint8Array.of(5, 2, 0, 0) }], extLen: 8 },
    // PadN carrying 8 bytes (10 bytes of options) → 2 + 10, padded to 16.
    { name: 'destination options, 16 bytes', ext: [{ type: 'dest', options: Uint8Array.of(1, 8, 0, 0, 0, 0, 0, 0, 0, 0) }], extLen: 16 },
    { name: 'routing (one address)', ext: [{ type: 'routing' }], extLen: 24 },
    { name: 'routing (two addresses)', ext: [{ type: 'routing', addresses: ['2001:db8::a', '2001:db8::b'] }], extLen: 40 },
    { name: 'atomic fragment (offset 0, no M)', ext: [{ type: 'fragment' }], extLen: 8 },
    { name: 'authentication header', ext: [{ type: 'ah' }], extLen: 24 },
    { name: 'hop + routing + fragment + dest + AH', ext: [{ type: 'hop' }, { type: 'routing' }, { type: 'fragment' }, { type: 'dest' }, { type: 'ah' }], extLen: 8 + 24 + 8 + 8 + 24 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const frame = packet().ethernet().ipv6({ ...v6, ext: c.ext }).tcp(t).payload(SQL).build();
      expectTcp(1, frame, { ...E6, payloadAt: 14 + 40 + c.extLen + 20 });
    });
  }

  test('fragments with an offset or the M flag are skipped', () => {
    expectSkip(1, packet().ethernet().ipv6({ ext: [{ type: 'fragment', more: true }] }).tcp().payload(SQL).build(), Skip.Ipv6Fragment);
    expectSkip(1, packet().ethernet().ipv6({ ext: [{ type: 'hop' }, { type: 'fragment', offset: 100 }] }).payload(SQL).build(), Skip.Ipv6Fragment);
  });

  test('ESP is encrypted, ICMPv6 is ICMP, no next header is another protocol', () => {
    expectSkip(229, packet().ipv6({ next: 50 }).payload(new Uint8Array(40)).build(), Skip.Encrypted);
    expectSkip(229, packet().ipv6({ ext: [{ type: 'dest' }], next: 50 }).payload(new Uint8Array(40)).build(), Skip.Encrypted);
    expectSkip(229, packet().ipv6().icmp({ v6: true }).build(), Skip.Icmp);
    expectSkip(229, packet().ipv6({ ext: [{ type: 'hop' }] }).icmp({ v6: true }).build(), Skip.Icmp);
    expectSkip(229, packet().ipv6({ next: 59 }).build(), Skip.OtherIpProtocol);
    expectSkip(229, packet().ipv6().udp().build(), Skip.Udp);
  });

  test('an extension header running past the payload length is malformed', () => {
    const frame = packet().ipv6({ ext: [{ type: 'routing' }], payloadLength: 16 }).tcp().build();
    expectSkip(229, frame, Skip.MalformedIp);
  });

  test('payload length 0 (jumbogram / TSO): the frame length tells', () => {
    const body = 'x'.repeat(3000);
    const frame = packet().ethernet().ipv6({ ...v6, payloadLength: 0 }).tcp(t).payload(body).build();
    expectTcp(1, frame, { ...E6, payloadAt: 74, payload: body });
  });
});

describe('decode: what is not TCP is counted by kind', () => {
  const cases: { name: string; linkType: number; frame: Uint8Array; kind: Skip }[] = [
    { name: 'UDP over IPv4', linkType: 1, frame: packet().ethernet().ipv4().udp().payload('dns').build(), kind: Skip.Udp },
    { name: 'UDP over IPv6', linkType: 1, frame: packet().ethernet().ipv6().udp().build(), kind: Skip.Udp },
    { name: 'ICMP', linkType: 1, frame: packet().ethernet().ipv4().icmp().build(), kind: Skip.Icmp },
    { name: 'ICMPv6', linkType: 1, frame: packet().ethernet().ipv6().icmp({ v6: true }).build(), kind: Skip.Icmp },
    { name: 'ARP', linkType: 1, frame: packet().ethernet().arp().build(), kind: Skip.NonIp },
    { name: 'ARP over SLL', linkType: 113, frame: packet().sll().arp().build(), kind: Skip.NonIp },
    { name: 'ARP behind a VLAN tag', linkType: 1, frame: packet().ethernet().vlan(9).arp().build(), kind: Skip.NonIp },
    { name: '802.3 length field (LLC)', linkType: 1, frame: packet().ethernet({ type: 0x0026 }).payload(new Uint8Array(38)).build(), kind: Skip.NonIp },
    { name: 'GRE over IPv4', linkType: 1, frame: packet().ethernet().ipv4({ proto: 47 }).payload(new Uint8Array(8)).build(), kind: Skip.OtherIpProtocol },
    { name: 'ESP over IPv4', linkType: 101, frame: packet().ipv4({ proto: 50 }).payload(new Uint8Array(8)).build(), kind: Skip.Encrypted },
    { name: 'BSD NULL, AF 7', linkType: 0, frame: packet().bsdNull({ af: 7 }).payload(new Uint8Array(20)).build(), kind: Skip.NonIp },
    { name: 'LOOP, AF 17', linkType: 108, frame: packet().loop({ af: 17 }).payload(new Uint8Array(20)).build(), kind: Skip.NonIp },
    { name: 'raw IP, version 5', linkType: 101, frame: Uint8Array.of(0x50, ...new Array<number>(40).fill(0)), kind: Skip.NonIp },
    { name: 'PPPoE carrying LCP', linkType: 1, frame: packet().ethernet({ type: 0x8864 }).payload([0x11, 0, 0, 1, 0, 4, 0xc0, 0x21, 1, 1, 0, 4]).build(), kind: Skip.NonIp },
    { name: 'IPv4 header in an IPv6 ethertype', linkType: 1, frame: packet().ethernet({ type: 0x86dd }).ipv4().tcp().payload(new Uint8Array(40)).build(), kind: Skip.MalformedIp },
    { name: 'IPv4 version 6 in an IPv4 ethertype', linkType: 1, frame: packet().ethernet({ type: 0x0800 }).ipv6().tcp().build(), kind: Skip.MalformedIp },
    { name: 'IPv4 IHL 4', linkType: 101, frame: packet().ipv4({ versionIhl: 0x44 }).tcp().build(), kind: Skip.MalformedIp },
    { name: 'IPv4 total length below the header', linkType: 101, frame: packet().ipv4({ totalLength: 19 }).tcp().build(), kind: Skip.MalformedIp },
    { name: 'TCP data offset 4', linkType: 101, frame: packet().ipv4().tcp({ dataOffset: 4 }).build(), kind: Skip.MalformedTcp },
    { name: 'TCP header longer than the datagram', linkType: 101, frame: packet().ipv4({ totalLength: 40 }).tcp({ dataOffset: 15 }).payload(new Uint8Array(40)).build(), kind: Skip.MalformedTcp },
  ];
  for (const c of cases) test(c.name, () => void expectSkip(c.linkType, c.frame, c.kind));

  test('unsupported link types are counted per type', () => {
    const d = new PacketDecoder();
    const frame = tcp4(packet().ethernet());
    for (const lt of [127, 127, 105]) assert.equal(d.decode(record(lt, frame)), false);
    assert.equal(d.skipped[Skip.UnsupportedLink], 3);
    assert.deepEqual(
      [...d.unsupportedLinkTypes],
      [
        [127, 2],
        [105, 1],
      ],
    );
  });
});

describe('decode: lengths, padding and snap-length cuts', () => {
  test('Ethernet padding is ignored: the IP total length wins', () => {
    const frame = packet().ethernet({ padTo: 60 }).ipv4(v4).tcp(t).build();
    assert.equal(frame.length, 60);
    expectTcp(1, frame, { ...E4, payloadAt: 54, payload: '' });
    const two = packet().ethernet({ padTo: 60 }).ipv4(v4).tcp(t).payload('ab').build();
    expectTcp(1, two, { ...E4, payloadAt: 54, payload: 'ab' });
  });

  test('padding after an IPv6 packet is ignored too', () => {
    const frame = concat(packet().sll().ipv6(v6).tcp(t).payload('q').build(), [0, 0, 0, 0]);
    expectTcp(113, frame, { ...E6, payloadAt: 76, payload: 'q' });
  });

  test('payload cut by the snap length: payloadMissing', () => {
    const body = 'y'.repeat(100);
    const frame = packet().ethernet().ipv4(v4).tcp(t).payload(body).build();
    expectTcp(1, frame, { ...E4, payloadAt: 54, payload: 'yyy', missing: 97 }, { caplen: 54 + 3 });
    expectTcp(1, frame, { ...E4, payloadAt: 54, payload: '', missing: 100 }, { caplen: 54 });
    const frame6 = packet().ethernet().ipv6(v6).tcp(t).payload(body).build();
    expectTcp(1, frame6, { ...E6, payloadAt: 74, payload: 'y'.repeat(10), missing: 90 }, { caplen: 74 + 10 });
  });

  test('IPv4 total length 0 (TSO): the frame length is used', () => {
    const body = 'z'.repeat(5000);
    const frame = packet().ethernet().ipv4({ ...v4, totalLength: 0 }).tcp(t).payload(body).build();
    expectTcp(1, frame, { ...E4, payloadAt: 54, payload: body });
    // … and with a snap length cut, the wire length gives the missing part.
    expectTcp(1, frame, { ...E4, payloadAt: 54, payload: 'z'.repeat(46), missing: 5000 - 46 }, { caplen: 100 });
  });

  test('headers cut by the snap length', () => {
    const frame = packet().ethernet().ipv4({ options: new Uint8Array(8) }).tcp().payload(SQL).build();
    for (const caplen of [0, 13, 14 + 19, 14 + 27, 14 + 28 + 19]) expectSkip(1, frame, Skip.TruncatedHeaders, { caplen });
    const f6 = packet().ethernet().ipv6({ ext: [{ type: 'hop' }, { type: 'fragment' }] }).tcp().build();
    for (const caplen of [14 + 39, 14 + 40 + 7, 14 + 48 + 7, 14 + 56 + 19]) expectSkip(1, f6, Skip.TruncatedHeaders, { caplen });
    expectSkip(113, packet().sll().ipv4().tcp().build(), Skip.TruncatedHeaders, { caplen: 15 });
    expectSkip(276, packet().sll2().ipv4().tcp().build(), Skip.TruncatedHeaders, { caplen: 19 });
    expectSkip(0, packet().bsdNull().ipv4().tcp().build(), Skip.TruncatedHeaders, { caplen: 3 });
    expectSkip(1, packet().ethernet().vlan(1).ipv4().tcp().build(), Skip.TruncatedHeaders, { caplen: 16 });
    expectSkip(1, packet().ethernet().vlan(1).ipv4().tcp().build(), Skip.TruncatedHeaders, { caplen: 18 + 19 });
  });

  test('TCP header with options cut by the snap length', () => {
    const frame = packet().ethernet().ipv4().tcp({ options: new Uint8Array(12) }).build();
    expectSkip(1, frame, Skip.TruncatedHeaders, { caplen: 54 + 4 });
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  const table: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:1:0:0:0:0:0:0', '0:1::'],
    // A single zero field is not compressed.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // The longest run is compressed; on a tie, the first.
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80:0:0:0:1:0:0:0', 'fe80::1:0:0:0'],
    // Lower case, no leading zeros.
    ['ABCD:EF01:0023:0456:7890:000A:00B0:0C00', 'abcd:ef01:23:456:7890:a:b0:c00'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    // IPv4-mapped addresses keep the dotted quad.
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['0:0:0:0:0:ffff:0:0', '::ffff:0.0.0.0'],
  ];
  for (const [input, want] of table) {
    test(`${input} → ${want}`, () => {
      const b = concat([9, 9, 9], ipv6Bytes(input));
      assert.equal(formatIpv6(b, 3), want);
    });
  }
});

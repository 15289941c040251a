import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PcapParser, pcapMagicInfo, PCAP_MAX_SNAPLEN } from '../../src/pcap/pcap.js';
import { Step } from '../../src/pcap/record.js';
import { PcapWriter, packet, hex, type PcapOptions } from '../builders/capture-builder.js';
import { parseBytes } from '../builders/parse.js';

/** Three packets: a full TCP frame cut by the snap length, an empty record, an odd-sized one. */
const frame = packet().ethernet().ipv4().tcp({ flags: 'PA' }).payload('SELECT 1').build();
const PACKETS = [
  { sec: 1_700_000_000, usec: 123_456, nsec: 123_456_789, data: frame, origLen: 1514 },
  { sec: 1_700_000_001, usec: 0, nsec: 0, data: new Uint8Array(0), origLen: 0 },
  { sec: 1_700_000_002, usec: 999_999, nsec: 999_999_999, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7]), origLen: 7 },
] as const;

interface Variant {
  name: string;
  opts: PcapOptions;
  format: string;
  hdrLen: number;
  linkType: number;
  le: boolean;
  unitsPerSecond: number;
}

const VARIANTS: Variant[] = [
  { name: 'µs little-endian Ethernet', opts: { le: true, linkType: 1, snaplen: 65535 }, format: 'pcap', hdrLen: 16, linkType: 1, le: true, unitsPerSecond: 1e6 },
  { name: 'µs big-endian Linux SLL', opts: { le: false, linkType: 113, snaplen: 96 }, format: 'pcap', hdrLen: 16, linkType: 113, le: false, unitsPerSecond: 1e6 },
  { name: 'ns little-endian SLL2', opts: { le: true, nsec: true, linkType: 276, snaplen: 262144 }, format: 'pcap-nsec', hdrLen: 16, linkType: 276, le: true, unitsPerSecond: 1e9 },
  { name: 'ns big-endian raw IP', opts: { le: false, nsec: true, linkType: 101, snaplen: 1 }, format: 'pcap-nsec', hdrLen: 16, linkType: 101, le: false, unitsPerSecond: 1e9 },
  { name: 'modified little-endian', opts: { le: true, modified: true, linkType: 1, snaplen: 65535 }, format: 'pcap-modified', hdrLen: 24, linkType: 1, le: true, unitsPerSecond: 1e6 },
  { name: 'modified big-endian', opts: { le: false, modified: true, linkType: 12, snaplen: 65535 }, format: 'pcap-modified', hdrLen: 24, linkType: 12, le: false, unitsPerSecond: 1e6 },
  // FCS length in the upper bits of the network field (LINKTYPE_ETHERNET, F bit set, FCS length 2 × 16 bits).
  { name: 'link type with FCS bits', opts: { linkType: 0x50000001 }, format: 'pcap', hdrLen: 16, linkType: 1, le: true, unitsPerSecond: 1e6 },
];

function build(v: Variant): { bytes: Uint8Array; offsets: number[] } {
  const w = new PcapWriter(v.opts);
  for (const p of PACKETS) w.packet({ sec: p.sec, frac: v.opts.nsec ? p.nsec : p.usec, data: p.data, origLen: p.origLen });
  return { bytes: w.build(), offsets: w.offsets };
}

describe('classic pcap: every variant, every field', () => {
  for (const v of VARIANTS) {
    test(v.name, () => {
      const { bytes, offsets } = build(v);
      // Offsets follow from the layout: 24-byte file header, then header + data per record.
      const expectedOffsets = [24, 24 + v.hdrLen + frame.length, 24 + 2 * v.hdrLen + frame.length];
      assert.deepEqual(offsets, expectedOffsets);
      assert.equal(bytes.length, 24 + 3 * v.hdrLen + frame.length + 7);

      const parser = new PcapParser();
      const out = parseBytes(parser, bytes);
      assert.equal(out.error, null);
      assert.equal(out.tail, null);
      assert.equal(parser.format, v.format);
      assert.equal(parser.littleEndian, v.le);
      assert.equal(parser.versionMajor, 2);
      assert.equal(parser.versionMinor, 4);
      assert.equal(parser.snapLen, v.opts.snaplen ?? 262144);
      assert.deepEqual(parser.interfaces, [
        { linkType: v.linkType, snapLen: v.opts.snaplen ?? 262144, name: null, description: null, unitsPerSecond: v.unitsPerSecond, tsOffsetSec: 0, stats: null },
      ]);
      assert.deepEqual(parser.resyncs, []);
      assert.equal(parser.skippedBlocks.size, 0);
      assert.equal(parser.offset, bytes.length);

      const nsOf = (p: (typeof PACKETS)[number]): number => (v.opts.nsec ? p.nsec : p.usec * 1000);
      assert.deepEqual(
        out.records,
        PACKETS.map((p, i) => ({
          tsSec: p.sec,
          tsNsec: nsOf(p),
          caplen: p.data.length,
          origLen: p.origLen,
          linkType: v.linkType,
          interfaceId: 0,
          fileOffset: expectedOffsets[i],
          bytes: p.data,
        })),
      );
    });
  }
});

test('pcap: hand-written big-endian nanosecond file (annotated bytes)', () => {
  const bytes = hex(`
    a1 b2 3c 4d  00 02 00 04  00 00 00 00  00 00 00 00  # magic (ns, BE), version 2.4, thiszone, sigfigs
    00 00 ff ff  00 00 00 65                            # snaplen 65535, linktype 101 (raw IP)
    65 53 f1 00  3b 9a c9 ff  00 00 00 02  00 00 00 05  # ts 1700000000.999999999, caplen 2, origlen 5
    45 00                                               # 2 captured bytes
  `);
  const parser = new PcapParser();
  const out = parseBytes(parser, bytes);
  assert.equal(out.error, null);
  assert.equal(out.tail, null);
  assert.deepEqual(out.records, [
    { tsSec: 1_700_000_000, tsNsec: 999_999_999, caplen: 2, origLen: 5, linkType: 101, interfaceId: 0, fileOffset: 24, bytes: Uint8Array.of(0x45, 0) },
  ]);
});

describe('pcap: fraction overflow is carried into the seconds', () => {
  const cases = [
    { nsec: false, frac: 1_500_000, sec: 11, ns: 500_000_000 },
    { nsec: false, frac: 1_000_000, sec: 11, ns: 0 },
    { nsec: false, frac: 4_294_967_295, sec: 10 + 4294, ns: 967_295_000 },
    { nsec: true, frac: 2_000_000_001, sec: 12, ns: 1 },
    { nsec: true, frac: 999_999_999, sec: 10, ns: 999_999_999 },
  ];
  for (const c of cases) {
    test(`${c.nsec ? 'ns' : 'µs'} fraction ${c.frac}`, () => {
      const bytes = new PcapWriter({ nsec: c.nsec }).packet({ sec: 10, frac: c.frac, data: Uint8Array.of(9) }).build();
      const out = parseBytes(new PcapParser(), bytes);
      assert.equal(out.records.length, 1);
      assert.equal(out.records[0]!.tsSec, c.sec);
      assert.equal(out.records[0]!.tsNsec, c.ns);
    });
  }
});

describe('pcap: end of input', () => {
  const w = new PcapWriter();
  for (const p of PACKETS) w.packet({ sec: p.sec, frac: p.usec, data: p.data, origLen: p.origLen });
  const bytes = w.build();
  const last = w.offsets[2]!;

  test('ends on a record boundary: no tail', () => {
    for (const end of [24, w.offsets[1]!, w.offsets[2]!, bytes.length]) {
      const out = parseBytes(new PcapParser(), bytes.subarray(0, end));
      assert.equal(out.tail, null, `cut at ${end}`);
      assert.equal(out.records.length, [24, w.offsets[1], w.offsets[2], bytes.length].indexOf(end));
    }
  });

  test('cut inside the last record (header or data): finish() returns its offset', () => {
    for (let end = last + 1; end < bytes.length; end++) {
      const parser = new PcapParser();
      const out = parseBytes(parser, bytes.subarray(0, end));
      assert.equal(out.error, null);
      assert.equal(out.records.length, 2, `cut at ${end}`);
      assert.equal(out.tail?.offset, last, `cut at ${end}`);
      assert.match(out.tail!.message, new RegExp(`last record is incomplete: ${end - last} bytes`));
    }
  });

  test('cut inside the file header', () => {
    for (let end = 0; end < 24; end++) {
      const out = parseBytes(new PcapParser(), bytes.subarray(0, end));
      assert.equal(out.records.length, 0);
      assert.deepEqual(out.tail, { offset: 0, message: `file ends after ${end} bytes, inside the 24-byte pcap file header` });
    }
  });
});

describe('pcap: bad file headers are errors with an offset', () => {
  const good = new PcapWriter().build();
  const cases: { name: string; bytes: Uint8Array; offset: number; message: RegExp }[] = [
    { name: 'not a capture at all', bytes: new TextEncoder().encode('this is not a capture file, honest'), offset: 0, message: /not a pcap file: expected magic a1b2c3d4 or a1b23c4d/ },
    { name: 'pcapng given to the pcap parser', bytes: Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, ...new Array<number>(28).fill(0)), offset: 0, message: /not a pcap file/ },
    { name: 'version 1.0', bytes: new PcapWriter({ versionMajor: 1, versionMinor: 0 }).build(), offset: 4, message: /unsupported pcap version 1\.0: expected 2\.4/ },
    { name: 'version 3.4 big-endian', bytes: new PcapWriter({ le: false, versionMajor: 3 }).build(), offset: 4, message: /unsupported pcap version 3\.4/ },
    { name: 'byte-swapped version of a little-endian file', bytes: Uint8Array.from([...good.subarray(0, 4), 0, 2, 0, 4, ...good.subarray(8)]), offset: 4, message: /unsupported pcap version 512\.1024/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parser = new PcapParser();
      parser.push(c.bytes);
      assert.equal(parser.next(), Step.Error);
      assert.equal(parser.error?.offset, c.offset);
      assert.match(parser.error!.message, c.message);
      assert.equal(parser.interfaces.length, 0);
    });
  }
});

describe('pcap: damaged record header → resynchronise', () => {
  const sec = 1_700_000_000;
  const payloads = [0, 1, 2, 3, 4, 5].map((i) => packet().ethernet().ipv4().tcp({ seq: i }).payload(`row ${i}`).build());

  function damaged(damageAt: number, opts: PcapOptions = {}): { bytes: Uint8Array; offsets: number[] } {
    const w = new PcapWriter(opts);
    payloads.forEach((data, i) => w.packet({ sec: sec + i, frac: i * 1000, data, caplenField: i === damageAt ? 0x7fffffff : undefined }));
    return { bytes: w.build(), offsets: w.offsets };
  }

  for (const opts of [{}, { le: false }, { modified: true }, { nsec: true, le: false }] as PcapOptions[]) {
    test(`impossible caplen in the middle (${JSON.stringify(opts)})`, () => {
      const { bytes, offsets } = damaged(2, opts);
      const parser = new PcapParser();
      const out = parseBytes(parser, bytes);
      assert.equal(out.error, null);
      assert.equal(out.tail, null);
      assert.deepEqual(
        out.records.map((r) => [r.fileOffset, r.tsSec]),
        [0, 1, 3, 4, 5].map((i) => [offsets[i], sec + i]),
      );
      assert.deepEqual(out.records[2]!.bytes, payloads[3]);
      assert.equal(parser.resyncs.length, 1);
      const n = parser.resyncs[0]!;
      assert.equal(n.offset, offsets[2]);
      assert.equal(n.skippedBytes, offsets[3]! - offsets[2]!);
      assert.equal(
        n.message,
        `damaged record header: record claims 2147483647 captured bytes, more than the snap length 262144 allows; skipped ${offsets[3]! - offsets[2]!} bytes to the next valid record`,
      );
    });
  }

  test('a garbage record with a far timestamp before the damage does not keep the resync from the records after it (issue 21: periscope live went quiet)', () => {
    // Bytes lost in tcpdump's pipe leave a misaligned header that looks like a record, with a
    // timestamp years away; the next header is impossible. The records after it must still be found.
    const w = new PcapWriter();
    w.packet({ sec, data: payloads[0]! });
    w.packet({ sec: sec + 1, data: payloads[1]! });
    w.packet({ sec: sec + 400_000_000, data: new Uint8Array(20) });
    w.packet({ sec: sec + 2, data: payloads[2]!, caplenField: 0x7fffffff });
    for (const i of [3, 4, 5]) w.packet({ sec: sec + i, frac: i * 1000, data: payloads[i]! });
    const bytes = w.build();
    const parser = new PcapParser();
    const out = parseBytes(parser, bytes);
    assert.deepEqual(
      out.records.map((r) => r.tsSec),
      [sec, sec + 1, sec + 400_000_000, sec + 3, sec + 4, sec + 5],
    );
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[w.offsets[3], w.offsets[4]! - w.offsets[3]!]],
    );
  });

  test('impossible caplen in the first record', () => {
    const { bytes, offsets } = damaged(0);
    const parser = new PcapParser();
    const out = parseBytes(parser, bytes);
    assert.deepEqual(
      out.records.map((r) => r.fileOffset),
      offsets.slice(1),
    );
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[24, offsets[1]! - 24]],
    );
  });

  test('damage with nothing valid after it: reported by finish()', () => {
    const { bytes, offsets } = damaged(5);
    const parser = new PcapParser();
    const out = parseBytes(parser, bytes);
    assert.equal(out.tail, null);
    assert.equal(out.records.length, 5);
    assert.equal(parser.resyncs.length, 1);
    assert.equal(parser.resyncs[0]!.offset, offsets[5]);
    assert.equal(parser.resyncs[0]!.skippedBytes, bytes.length - offsets[5]!);
    assert.match(parser.resyncs[0]!.message, /no valid record found in the remaining \d+ bytes/);
  });

  test('damage just before the last record: end() lets the end of input confirm it', () => {
    const { bytes, offsets } = damaged(4);
    const parser = new PcapParser();
    const out = parseBytes(parser, bytes);
    assert.deepEqual(
      out.records.map((r) => r.fileOffset),
      [0, 1, 2, 3, 5].map((i) => offsets[i]),
    );
    assert.deepEqual(out.records[4]!.bytes, payloads[5]);
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[offsets[4], offsets[5]! - offsets[4]!]],
    );
    // Without end(), the parser cannot know the input ended: the record stays unconfirmed.
    const old = new PcapParser();
    const out2 = parseBytes(old, bytes, { end: false });
    assert.equal(out2.records.length, 4);
    assert.deepEqual(
      old.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[offsets[4], bytes.length - offsets[4]!]],
    );
  });

  test('a false candidate running past the end of input does not hide the records after it', () => {
    // After the damaged header, the damaged record's own bytes hold a believable header (same
    // second) claiming 200000 bytes: far more than the file holds. It must be rejected at the end.
    const w = new PcapWriter();
    w.packet({ sec, data: payloads[0]! });
    const bad = w.length;
    const fake = new PcapWriter().packet({ sec, frac: 5, data: new Uint8Array(0), origLen: 200_000, caplenField: 200_000 }).build().subarray(24);
    w.packet({ sec, data: Uint8Array.from([...fake, 1, 2, 3]), caplenField: 0x7fffffff });
    w.packet({ sec: sec + 1, data: payloads[1]! }).packet({ sec: sec + 2, data: payloads[2]! });
    const parser = new PcapParser();
    const out = parseBytes(parser, w.build());
    assert.deepEqual(
      out.records.map((r) => r.fileOffset),
      [24, w.offsets[2], w.offsets[3]],
    );
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[bad, w.offsets[2]! - bad]],
    );
  });

  test('garbage between records is skipped', () => {
    const w = new PcapWriter();
    w.packet({ sec, data: payloads[0]! });
    const garbageAt = w.length;
    w.raw(new Uint8Array(37).fill(0xff));
    const firstGood = w.length;
    w.packet({ sec: sec + 1, data: payloads[1]! }).packet({ sec: sec + 2, data: payloads[2]! });
    const parser = new PcapParser();
    const out = parseBytes(parser, w.build());
    assert.deepEqual(
      out.records.map((r) => r.fileOffset),
      [24, firstGood, w.offsets[2]],
    );
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[garbageAt, 37]],
    );
  });

  test('a snap length above libpcap’s maximum raises the limit', () => {
    const big = new Uint8Array(PCAP_MAX_SNAPLEN + 10).fill(7);
    const bytes = new PcapWriter({ snaplen: PCAP_MAX_SNAPLEN * 2 }).packet({ sec, data: big }).build();
    const parser = new PcapParser();
    const out = parseBytes(parser, bytes, { chunkSize: 65536 });
    assert.equal(out.records.length, 1);
    assert.equal(out.records[0]!.caplen, big.length);
    assert.deepEqual(parser.resyncs, []);
  });
});

test('pcapMagicInfo: every classic magic in both byte orders', () => {
  const table: [number[], { le: boolean; nsec: boolean; modified: boolean } | null][] = [
    [[0xd4, 0xc3, 0xb2, 0xa1], { le: true, nsec: false, modified: false }],
    [[0xa1, 0xb2, 0xc3, 0xd4], { le: false, nsec: false, modified: false }],
    [[0x4d, 0x3c, 0xb2, 0xa1], { le: true, nsec: true, modified: false }],
    [[0xa1, 0xb2, 0x3c, 0x4d], { le: false, nsec: true, modified: false }],
    [[0x34, 0xcd, 0xb2, 0xa1], { le: true, nsec: false, modified: true }],
    [[0xa1, 0xb2, 0xcd, 0x34], { le: false, nsec: false, modified: true }],
    [[0x0a, 0x0d, 0x0d, 0x0a], null],
    [[0xa1, 0xb2, 0xc3], null],
  ];
  for (const [b, want] of table) assert.deepEqual(pcapMagicInfo(Uint8Array.from(b)), want, b.join(','));
});

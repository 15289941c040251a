import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PcapngParser } from '../../src/pcap/pcapng.js';
import { Step } from '../../src/pcap/record.js';
import { PcapngWriter, ByteWriter, packet, hex, type IdbOptions } from '../builders/capture-builder.js';
import { parseBytes } from '../builders/parse.js';

const frame = packet().ethernet().ipv4().tcp({ flags: 'PA' }).payload('SELECT 1').build();
const rawIp = packet().ipv4({ src: '192.168.1.1' }).tcp({ dstPort: 3307 }).payload('x').build();
const spbFrame = packet().ethernet().ipv6().tcp().payload('abc').build();
const opbFrame = packet().ethernet().ipv4().tcp({ flags: 'S' }).build();
const u32 = (v: number, le: boolean): Uint8Array => new ByteWriter(le).u32(v).toBytes();

describe('pcapng: one section with every block type', () => {
  for (const le of [true, false]) {
    test(le ? 'little-endian' : 'big-endian', () => {
      const w = new PcapngWriter()
        .shb({ le, hardware: 'x86_64', os: 'Linux 6.1', userappl: 'periscope-test' })
        .idb({ linkType: 1, snapLen: 65535, name: 'eth0', description: 'uplink' })
        .idb({ linkType: 101, snapLen: 0, tsresol: 9, name: 'tun0' })
        .epb({ iface: 0, ts: 1_700_000_000_123_456n, data: frame, origLen: 1514, options: [[1, 'a comment'], [2, u32(0x1, le)]] })
        .nrb([{ ipv4: [10, 0, 0, 1], names: ['db.example'] }])
        .epb({ iface: 1, ts: 1_700_000_000_987_654_321n, data: rawIp })
        .custom({ data: Uint8Array.of(1, 2, 3) })
        .custom({ copiable: false, data: Uint8Array.of(4) })
        .block(0xabcd, Uint8Array.of(0, 0, 0, 0))
        .block(0x0a, new Uint8Array(8)) // decryption secrets
        .block(0x09, new Uint8Array(4)) // systemd journal export
        .spb({ data: spbFrame })
        .opb({ iface: 0, ts: 1_700_000_001_000_001n, data: opbFrame, drops: 3 })
        .isb({ iface: 0, ts: 1_700_000_002_000_000n, ifRecv: 100n, ifDrop: 3n, filterAccept: 95n, osDrop: 5n, usrDeliv: 92n })
        .isb({ iface: 1, ifDrop: 0n });
      const bytes = w.build();
      // SHB: 28 + options (12 + 16 + 20 + 4) = 80 bytes; the first IDB follows it.
      assert.equal(bytes[0], 0x0a);
      assert.deepEqual(bytes.subarray(4, 8), u32(80, le));

      const parser = new PcapngParser();
      const out = parseBytes(parser, bytes);
      assert.equal(out.error, null);
      assert.equal(out.tail, null);
      assert.equal(parser.offset, bytes.length);
      const [epb0, epb1, spb, opb] = w.packetOffsets;
      assert.deepEqual(out.records, [
        { tsSec: 1_700_000_000, tsNsec: 123_456_000, caplen: frame.length, origLen: 1514, linkType: 1, interfaceId: 0, fileOffset: epb0, bytes: frame },
        { tsSec: 1_700_000_000, tsNsec: 987_654_321, caplen: rawIp.length, origLen: rawIp.length, linkType: 101, interfaceId: 1, fileOffset: epb1, bytes: rawIp },
        // Simple packet blocks carry no timestamp and belong to interface 0.
        { tsSec: 0, tsNsec: 0, caplen: spbFrame.length, origLen: spbFrame.length, linkType: 1, interfaceId: 0, fileOffset: spb, bytes: spbFrame },
        { tsSec: 1_700_000_001, tsNsec: 1000, caplen: opbFrame.length, origLen: opbFrame.length, linkType: 1, interfaceId: 0, fileOffset: opb, bytes: opbFrame },
      ]);
      assert.deepEqual(parser.interfaces, [
        {
          linkType: 1,
          snapLen: 65535,
          name: 'eth0',
          description: 'uplink',
          unitsPerSecond: 1e6,
          tsOffsetSec: 0,
          stats: { received: 100, droppedByInterface: 3, droppedByOs: 5, deliveredToUser: 92 },
        },
        {
          linkType: 101,
          snapLen: 0,
          name: 'tun0',
          description: null,
          unitsPerSecond: 1e9,
          tsOffsetSec: 0,
          stats: { received: null, droppedByInterface: 0, droppedByOs: null, deliveredToUser: null },
        },
      ]);
      assert.deepEqual(parser.sections, [{ offset: 0, littleEndian: le, versionMajor: 1, versionMinor: 0, hardware: 'x86_64', os: 'Linux 6.1', application: 'periscope-test' }]);
      assert.deepEqual(
        new Map(parser.skippedBlocks),
        new Map([
          ['name resolution', 1],
          ['custom', 2],
          ['unknown type 0xabcd', 1],
          ['decryption secrets', 1],
          ['systemd journal export', 1],
        ]),
      );
      assert.deepEqual(parser.resyncs, []);
    });
  }
});

test('pcapng: hand-written big-endian file (annotated bytes)', () => {
  const bytes = hex(`
    0a 0d 0d 0a  00 00 00 1c  1a 2b 3c 4d  00 01 00 00  # SHB, length 28, BOM (BE), version 1.0
    ff ff ff ff  ff ff ff ff  00 00 00 1c               # section length -1, trailing length
    00 00 00 01  00 00 00 20  00 e4 00 00  00 00 ff ff  # IDB, length 32, LINKTYPE_IPV4 (228), snaplen 65535
    00 09 00 01  06 00 00 00  00 00 00 00  00 00 00 20  # if_tsresol 6, endofopt, trailing length
    00 00 00 06  00 00 00 24  00 00 00 00  00 06 0a 24  # EPB, length 36, interface 0, ts high 0x00060a24
    18 20 22 40  00 00 00 03  00 00 00 10  45 00 00 00  # ts low (1700000000123456 µs), caplen 3, origlen 16, data 45 00 00 + pad
    00 00 00 24                                         # trailing length
  `);
  const parser = new PcapngParser();
  const out = parseBytes(parser, bytes);
  assert.equal(out.error, null);
  assert.equal(out.tail, null);
  assert.deepEqual(out.records, [
    {
      tsSec: 1_700_000_000,
      tsNsec: 123_456_000,
      caplen: 3,
      origLen: 16,
      linkType: 228,
      interfaceId: 0,
      fileOffset: 60,
      bytes: Uint8Array.of(0x45, 0, 0),
    },
  ]);
  assert.equal(parser.sections[0]!.littleEndian, false);
});

describe('pcapng: timestamps (if_tsresol, if_tsoffset)', () => {
  const cases: { name: string; idb: Omit<IdbOptions, 'linkType'>; ts: bigint; sec: number; nsec: number }[] = [
    { name: 'default µs', idb: {}, ts: 1_700_000_000_000_001n, sec: 1_700_000_000, nsec: 1000 },
    { name: 'explicit µs (6)', idb: { tsresol: 6 }, ts: 1_700_000_000_999_999n, sec: 1_700_000_000, nsec: 999_999_000 },
    { name: '10^-9', idb: { tsresol: 9 }, ts: 1_700_000_000_123_456_789n, sec: 1_700_000_000, nsec: 123_456_789 },
    { name: '10^-9, last ns of the second', idb: { tsresol: 9 }, ts: 1_700_000_000_999_999_999n, sec: 1_700_000_000, nsec: 999_999_999 },
    { name: '10^-3', idb: { tsresol: 3 }, ts: 1_700_000_000_123n, sec: 1_700_000_000, nsec: 123_000_000 },
    { name: '10^0 (seconds)', idb: { tsresol: 0 }, ts: 1_700_000_000n, sec: 1_700_000_000, nsec: 0 },
    { name: '10^-10', idb: { tsresol: 10 }, ts: 17_000_000_001_234_567_891n, sec: 1_700_000_000, nsec: 123_456_789 },
    { name: '10^-10, multiple of 10 units', idb: { tsresol: 10 }, ts: 17_000_000_009_999_999_990n, sec: 1_700_000_000, nsec: 999_999_999 },
    { name: '10^-12 (ps)', idb: { tsresol: 12 }, ts: 12_345_678_901_234_567n, sec: 12_345, nsec: 678_901_234 },
    { name: '2^-20, half a second', idb: { tsresol: 0x80 | 20 }, ts: (1_700_000_000n << 20n) + 524_288n, sec: 1_700_000_000, nsec: 500_000_000 },
    { name: '2^-20, one unit = 953.67 ns', idb: { tsresol: 0x80 | 20 }, ts: (1_700_000_000n << 20n) + 1n, sec: 1_700_000_000, nsec: 953 },
    { name: '2^-20, last unit of the second', idb: { tsresol: 0x80 | 20 }, ts: (1_700_000_000n << 20n) + 1_048_575n, sec: 1_700_000_000, nsec: 999_999_046 },
    { name: '2^-30', idb: { tsresol: 0x80 | 30 }, ts: (1n << 30n) * 1_000n + 3n, sec: 1_000, nsec: 2 },
    { name: '2^-32', idb: { tsresol: 0x80 | 32 }, ts: (1_700_000_000n << 32n) + (1n << 31n), sec: 1_700_000_000, nsec: 500_000_000 },
    { name: '2^0', idb: { tsresol: 0x80 }, ts: 42n, sec: 42, nsec: 0 },
    { name: 'if_tsoffset + µs', idb: { tsoffset: 1_600_000_000n }, ts: 100_000_500n, sec: 1_600_000_100, nsec: 500_000 },
    { name: 'negative if_tsoffset + ns', idb: { tsresol: 9, tsoffset: -3600n }, ts: 1_700_000_000_000_000_007n, sec: 1_699_996_400, nsec: 7 },
    { name: 'if_tsoffset + 2^-20', idb: { tsresol: 0x80 | 20, tsoffset: 86_400n }, ts: (5n << 20n) + 262_144n, sec: 86_405, nsec: 250_000_000 },
    { name: 'if_tsoffset above 2^32', idb: { tsoffset: 1n << 33n }, ts: 0n, sec: 2 ** 33, nsec: 0 },
  ];
  for (const le of [true, false]) {
    for (const c of cases) {
      test(`${c.name} (${le ? 'LE' : 'BE'})`, () => {
        const bytes = new PcapngWriter()
          .shb({ le })
          .idb({ linkType: 1, ...c.idb })
          .epb({ iface: 0, ts: c.ts, data: Uint8Array.of(1, 2) })
          .build();
        const parser = new PcapngParser();
        const out = parseBytes(parser, bytes);
        assert.equal(out.records.length, 1);
        assert.equal(out.records[0]!.tsSec, c.sec);
        assert.equal(out.records[0]!.tsNsec, c.nsec);
        if (c.idb.tsoffset !== undefined) assert.equal(parser.interfaces[0]!.tsOffsetSec, Number(c.idb.tsoffset));
      });
    }
  }
});

test('pcapng: several sections with different byte orders and interfaces', () => {
  const w = new PcapngWriter()
    .shb({ le: true, os: 'first' })
    .idb({ linkType: 1, snapLen: 262144, name: 'eth0' })
    .idb({ linkType: 101, snapLen: 128, tsresol: 9, name: 'tun0' })
    .epb({ iface: 0, ts: 1_000_000_000_000_001n, data: frame })
    .epb({ iface: 1, ts: 1_000_000_001_000_000_002n, data: rawIp })
    .isb({ iface: 1, ifDrop: 7n });
  const s2 = w.length;
  w.shb({ le: false, os: 'second' })
    .idb({ linkType: 113, snapLen: 65535, name: 'any' })
    .epb({ iface: 0, ts: 2_000_000_000_000_003n, data: Uint8Array.of(0xaa, 0xbb, 0xcc) })
    // Interface 1 exists in section 1 but not in this one.
    .epb({ iface: 1, ts: 2_000_000_000_000_004n, data: Uint8Array.of(1) })
    .isb({ iface: 0, ifRecv: 10n })
    .isb({ iface: 3, ifRecv: 10n });
  const s3 = w.length;
  w.shb({ le: true, os: 'third' })
    .idb({ linkType: 276, tsresol: 0x80 | 20, tsoffset: 100n })
    .epb({ iface: 0, ts: 3n << 20n, data: Uint8Array.of(5, 6, 7, 8, 9) })
    .spb({ data: Uint8Array.of(0xfe) });
  const bytes = w.build();
  const parser = new PcapngParser();
  const out = parseBytes(parser, bytes);
  assert.equal(out.error, null);
  assert.equal(out.tail, null);
  const o = w.packetOffsets;
  assert.deepEqual(
    out.records.map(({ bytes: _b, ...r }) => r),
    [
      { tsSec: 1_000_000_000, tsNsec: 1_000, caplen: frame.length, origLen: frame.length, linkType: 1, interfaceId: 0, fileOffset: o[0] },
      { tsSec: 1_000_000_001, tsNsec: 2, caplen: rawIp.length, origLen: rawIp.length, linkType: 101, interfaceId: 1, fileOffset: o[1] },
      { tsSec: 2_000_000_000, tsNsec: 3_000, caplen: 3, origLen: 3, linkType: 113, interfaceId: 2, fileOffset: o[2] },
      { tsSec: 103, tsNsec: 0, caplen: 5, origLen: 5, linkType: 276, interfaceId: 3, fileOffset: o[4] },
      { tsSec: 100, tsNsec: 0, caplen: 1, origLen: 1, linkType: 276, interfaceId: 3, fileOffset: o[5] },
    ],
  );
  assert.deepEqual(out.records[2]!.bytes, Uint8Array.of(0xaa, 0xbb, 0xcc));
  assert.deepEqual(
    parser.sections.map((s) => [s.offset, s.littleEndian, s.os]),
    [
      [0, true, 'first'],
      [s2, false, 'second'],
      [s3, true, 'third'],
    ],
  );
  assert.deepEqual(
    parser.interfaces.map((i) => [i.linkType, i.snapLen, i.name, i.unitsPerSecond, i.tsOffsetSec, i.stats?.droppedByInterface ?? null, i.stats?.received ?? null]),
    [
      [1, 262144, 'eth0', 1e6, 0, null, null],
      [101, 128, 'tun0', 1e9, 0, 7, null],
      [113, 65535, 'any', 1e6, 0, null, 10],
      [276, 0, null, 2 ** 20, 100, null, null],
    ],
  );
  assert.deepEqual(
    new Map(parser.skippedBlocks),
    new Map([
      ['packet for an undeclared interface', 1],
      ['statistics for an undeclared interface', 1],
    ]),
  );
});

describe('pcapng: packet blocks in detail', () => {
  test('EPB: empty, odd-sized and snap-length-cut packets, data followed by options', () => {
    const w = new PcapngWriter()
      .shb()
      .idb({ linkType: 1, snapLen: 64 })
      .epb({ iface: 0, ts: 1n, data: new Uint8Array(0), options: [[1, 'empty']] })
      .epb({ iface: 0, ts: 2n, data: Uint8Array.of(1, 2, 3, 4, 5), options: [[1, 'odd']] })
      .epb({ iface: 0, ts: 3n, data: new Uint8Array(64).fill(0x5a), origLen: 1500 });
    const out = parseBytes(new PcapngParser(), w.build());
    assert.deepEqual(
      out.records.map((r) => [r.caplen, r.origLen, r.tsNsec, r.bytes.length, r.bytes[0] ?? null]),
      [
        [0, 0, 1000, 0, null],
        [5, 5, 2000, 5, 1],
        [64, 1500, 3000, 64, 0x5a],
      ],
    );
  });

  test('SPB: captured length is the smallest of original length, block space and snap length', () => {
    const w = new PcapngWriter()
      .shb()
      .idb({ linkType: 1, snapLen: 8 })
      // 10 bytes in the block (padded to 12), origLen 100, snaplen 8 → 8 captured.
      .spb({ data: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), origLen: 100 })
      // 3 bytes in the block (padded to 4), origLen 3 → 3 captured, not 4.
      .spb({ data: Uint8Array.of(7, 7, 7), origLen: 3 });
    const w2 = new PcapngWriter()
      .shb()
      .idb({ linkType: 1, snapLen: 0 })
      // snaplen 0 = unlimited; origLen 100 but only 10 bytes (padded 12) in the block → 12.
      .spb({ data: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), origLen: 100 });
    const out = parseBytes(new PcapngParser(), w.build());
    assert.deepEqual(
      out.records.map((r) => [r.caplen, r.origLen, r.bytes.join(',')]),
      [
        [8, 100, '0,1,2,3,4,5,6,7'],
        [3, 3, '7,7,7'],
      ],
    );
    const out2 = parseBytes(new PcapngParser(), w2.build());
    assert.deepEqual(
      out2.records.map((r) => [r.caplen, r.origLen]),
      [[12, 100]],
    );
  });

  test('OPB: interface id is 16 bits, the drops count is ignored', () => {
    for (const le of [true, false]) {
      const w = new PcapngWriter()
        .shb({ le })
        .idb({ linkType: 1 })
        .idb({ linkType: 0, tsresol: 9 })
        .opb({ iface: 1, ts: 5_000_000_007n, data: Uint8Array.of(2, 0, 0, 0), drops: 65535 });
      const out = parseBytes(new PcapngParser(), w.build());
      assert.deepEqual(
        out.records.map(({ bytes: _b, ...r }) => r),
        [{ tsSec: 5, tsNsec: 7, caplen: 4, origLen: 4, linkType: 0, interfaceId: 1, fileOffset: w.packetOffsets[0] }],
      );
    }
  });

  test('malformed blocks are counted and skipped, reading goes on', () => {
    const w = new PcapngWriter()
      .shb()
      .block(1, Uint8Array.of(1, 0, 0, 0)) // IDB of 16 bytes: too short
      .idb({ linkType: 1 })
      .block(6, new Uint8Array(16)) // EPB of 28 bytes: too short
      .epb({ iface: 0, ts: 1n, data: Uint8Array.of(1, 2, 3, 4), caplenField: 9 }) // caplen beyond the block
      .block(2, new Uint8Array(16)) // OPB too short
      .block(5, new Uint8Array(8)) // ISB too short
      .block(3, new Uint8Array(0)) // SPB too short
      .epb({ iface: 0, ts: 2n, data: Uint8Array.of(9) });
    const parser = new PcapngParser();
    const out = parseBytes(parser, w.build());
    assert.equal(out.error, null);
    assert.deepEqual(
      out.records.map((r) => [r.tsNsec, r.bytes.join(',')]),
      [[2000, '9']],
    );
    // The too-short IDB is not an interface: the valid IDB after it is interface 0.
    assert.equal(parser.interfaces.length, 1);
    assert.deepEqual(
      new Map(parser.skippedBlocks),
      new Map([
        ['malformed interface description', 1],
        ['malformed enhanced packet', 2],
        ['malformed obsolete packet', 1],
        ['malformed interface statistics', 1],
        ['malformed simple packet', 1],
      ]),
    );
  });

  test('option lists: unknown codes skipped, overlong option ends the list, strings lose trailing NULs', () => {
    const w = new PcapngWriter()
      .shb()
      .idb({ linkType: 1, options: [[2, 'eth1\0\0']] }) // NUL-padded if_name
      .idb({ linkType: 1, options: [[0x7fff, 'x'], [9, Uint8Array.of(9)]] })
      .block(1, new ByteWriter(true).u16(1).u16(0).u32(0).u16(9).u16(200).u32(9).toBytes()) // if_tsresol claims 200 bytes
      .epb({ iface: 1, ts: 5n, data: Uint8Array.of(1) })
      .epb({ iface: 2, ts: 5n, data: Uint8Array.of(1) });
    const parser = new PcapngParser();
    const out = parseBytes(parser, w.build());
    assert.equal(parser.interfaces[0]!.name, 'eth1');
    assert.equal(parser.interfaces[1]!.unitsPerSecond, 1e9);
    assert.equal(parser.interfaces[2]!.unitsPerSecond, 1e6);
    assert.deepEqual(
      out.records.map((r) => [r.interfaceId, r.tsNsec]),
      [
        [1, 5],
        [2, 5000],
      ],
    );
  });
});

describe('pcapng: bad file starts are errors with an offset', () => {
  const shb = new PcapngWriter().shb().build();
  const patched = (at: number, v: number, le = true): Uint8Array => {
    const b = new PcapngWriter().shb({ le }).idb({ linkType: 1 }).build();
    b.set(new ByteWriter(le).u32(v).toBytes(), at);
    return b;
  };
  const cases: { name: string; bytes: Uint8Array; offset: number; message: RegExp }[] = [
    { name: 'text file', bytes: new TextEncoder().encode('hello, this is text'), offset: 0, message: /not a pcapng file: expected a section header block/ },
    { name: 'short garbage', bytes: Uint8Array.of(1, 2, 3, 4, 5), offset: 0, message: /not a pcapng file/ },
    { name: 'classic pcap', bytes: Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, ...new Array<number>(16).fill(0)), offset: 0, message: /not a pcapng file/ },
    { name: 'bad byte-order magic', bytes: new PcapngWriter().shb({ byteOrderMagic: 0x11223344 }).build(), offset: 8, message: /bad section header: byte-order magic 11223344, expected 1a2b3c4d/ },
    { name: 'version 2.0', bytes: new PcapngWriter().shb({ major: 2 }).build(), offset: 12, message: /unsupported pcapng version 2\.0: expected 1\.0/ },
    { name: 'version 2.0 big-endian', bytes: new PcapngWriter().shb({ le: false, major: 2, minor: 1 }).build(), offset: 12, message: /unsupported pcapng version 2\.1/ },
    { name: 'length not a multiple of 4', bytes: patched(4, 30), offset: 4, message: /bad section header: block length 30/ },
    { name: 'length below 12', bytes: patched(4, 8, false), offset: 4, message: /bad section header: block length 8/ },
    { name: 'trailing length differs', bytes: patched(24, 32), offset: 24, message: /bad section header: trailing length 32 differs from 28/ },
    { name: 'SHB of 24 bytes', bytes: Uint8Array.from([...shb.subarray(0, 4), 24, 0, 0, 0, ...shb.subarray(8, 20), 24, 0, 0, 0]), offset: 0, message: /section header block of 24 bytes, expected at least 28/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parser = new PcapngParser();
      const out = parseBytes(parser, c.bytes);
      assert.equal(out.records.length, 0);
      assert.ok(out.error, 'expected Step.Error');
      assert.equal(out.error.offset, c.offset);
      assert.match(out.error.message, c.message);
    });
  }

  test('a second section with an unsupported version stops reading', () => {
    const w = new PcapngWriter().shb().idb({ linkType: 1 }).epb({ iface: 0, ts: 1n, data: Uint8Array.of(1) });
    const at = w.length;
    w.shb({ major: 9 }).idb({ linkType: 1 }).epb({ iface: 0, ts: 1n, data: Uint8Array.of(1) });
    const parser = new PcapngParser();
    parser.push(w.build());
    assert.equal(parser.next(), Step.Record);
    assert.equal(parser.next(), Step.Error);
    assert.deepEqual(parser.error, { offset: at + 12, message: 'unsupported pcapng version 9.0: expected 1.0' });
  });
});

describe('pcapng: end of input', () => {
  const w = new PcapngWriter()
    .shb()
    .idb({ linkType: 1 })
    .epb({ iface: 0, ts: 1n, data: frame })
    .epb({ iface: 0, ts: 2n, data: frame });
  const bytes = w.build();
  const last = w.packetOffsets[1]!;

  test('cut inside the last block: finish() returns its offset', () => {
    for (let end = last + 1; end < bytes.length; end++) {
      const out = parseBytes(new PcapngParser(), bytes.subarray(0, end));
      assert.equal(out.error, null);
      assert.equal(out.records.length, 1, `cut at ${end}`);
      assert.deepEqual(out.tail, { offset: last, message: `last block is incomplete: ${end - last} bytes of a block remain (capture still being written, or cut short)` });
    }
  });

  test('cut inside the first section header', () => {
    for (let end = 0; end < 28; end++) {
      const out = parseBytes(new PcapngParser(), bytes.subarray(0, end));
      assert.equal(out.error, null, `cut at ${end}`);
      assert.deepEqual(out.tail, { offset: 0, message: `file ends after ${end} bytes, inside the first section header block` });
    }
  });

  test('a section header alone is a valid, empty capture', () => {
    const parser = new PcapngParser();
    const out = parseBytes(parser, new PcapngWriter().shb().build());
    assert.deepEqual(out, { records: [], error: null, tail: null, pushes: 1 });
    assert.equal(parser.sections.length, 1);
  });
});

describe('pcapng: damaged blocks → resynchronise', () => {
  const data = [0, 1, 2, 3, 4].map((i) => packet().ethernet().ipv4().tcp({ seq: 100 * i }).payload(`payload ${i}`).build());
  function file(le: boolean): { bytes: Uint8Array; offsets: number[] } {
    const w = new PcapngWriter().shb({ le }).idb({ linkType: 1 });
    data.forEach((d, i) => w.epb({ iface: 0, ts: 1_700_000_000_000_000n + BigInt(i), data: d }));
    return { bytes: w.build(), offsets: w.packetOffsets };
  }
  const put = (b: Uint8Array, at: number, v: number, le: boolean): void => b.set(new ByteWriter(le).u32(v).toBytes(), at);

  for (const le of [true, false]) {
    test(`impossible block length (${le ? 'LE' : 'BE'})`, () => {
      const { bytes, offsets } = file(le);
      put(bytes, offsets[1]! + 4, 13, le);
      const parser = new PcapngParser();
      const out = parseBytes(parser, bytes);
      assert.equal(out.error, null);
      assert.equal(out.tail, null);
      assert.deepEqual(
        out.records.map((r) => r.fileOffset),
        [0, 2, 3, 4].map((i) => offsets[i]),
      );
      assert.deepEqual(out.records[1]!.bytes, data[2]);
      const skipped = offsets[2]! - offsets[1]!;
      assert.deepEqual(parser.resyncs, [
        { offset: offsets[1], skippedBytes: skipped, message: `damaged block: block of type 0x6 claims length 13; skipped ${skipped} bytes to the next valid block` },
      ]);
    });

    test(`trailing length differs (${le ? 'LE' : 'BE'})`, () => {
      const { bytes, offsets } = file(le);
      const len = offsets[3]! - offsets[2]!;
      put(bytes, offsets[3]! - 4, 999, le);
      const parser = new PcapngParser();
      const out = parseBytes(parser, bytes);
      assert.deepEqual(
        out.records.map((r) => r.fileOffset),
        [0, 1, 3, 4].map((i) => offsets[i]),
      );
      assert.deepEqual(parser.resyncs, [
        { offset: offsets[2], skippedBytes: len, message: `damaged block: block of type 0x6 has trailing length 999, expected ${len}; skipped ${len} bytes to the next valid block` },
      ]);
    });
  }

  test('a false candidate running past the end of input does not hide the blocks after it', () => {
    // The damaged EPB's data holds what looks like an OPB header (type 2) claiming 131584 bytes.
    const w = new PcapngWriter().shb().idb({ linkType: 1 }).epb({ iface: 0, ts: 1n, data: data[0]! });
    const fake = new ByteWriter(true).u32(2).u32(131584).zeros(8).toBytes();
    w.epb({ iface: 0, ts: 2n, data: fake }).epb({ iface: 0, ts: 3n, data: data[1]! }).epb({ iface: 0, ts: 4n, data: data[2]! });
    const bytes = w.build();
    const o = w.packetOffsets;
    put(bytes, o[1]! + 4, 0x10001, true);
    const parser = new PcapngParser();
    const out = parseBytes(parser, bytes);
    assert.deepEqual(
      out.records.map((r) => r.fileOffset),
      [o[0], o[2], o[3]],
    );
    assert.deepEqual(
      parser.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[o[1], o[2]! - o[1]!]],
    );
    // Without end(), the candidate waits for bytes that never come: the rest is reported skipped.
    const old = new PcapngParser();
    const out2 = parseBytes(old, bytes, { end: false });
    assert.equal(out2.records.length, 1);
    assert.deepEqual(
      old.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[o[1], bytes.length - o[1]!]],
    );
  });

  test('a later section header with a bad byte-order magic', () => {
    const w = new PcapngWriter().shb().idb({ linkType: 1 }).epb({ iface: 0, ts: 1n, data: data[0]! });
    const bad = w.length;
    w.shb({ byteOrderMagic: 0xdeadbeef }).idb({ linkType: 113 }).epb({ iface: 1, ts: 2n, data: data[1]! });
    const parser = new PcapngParser();
    const out = parseBytes(parser, w.build());
    // The damaged header is skipped; its interface joins the current section as interface 1.
    assert.deepEqual(
      out.records.map((r) => [r.fileOffset, r.interfaceId, r.linkType]),
      [
        [w.packetOffsets[0], 0, 1],
        [w.packetOffsets[1], 1, 113],
      ],
    );
    assert.deepEqual(parser.resyncs, [
      { offset: bad, skippedBytes: 28, message: `damaged block: section header block with a bad byte-order magic; skipped 28 bytes to the next valid block` },
    ]);
    assert.equal(parser.sections.length, 1);
  });

  test('damage with nothing valid after it: reported by finish()', () => {
    const { bytes, offsets } = file(true);
    put(bytes, offsets[4]! + 4, 7, true);
    const parser = new PcapngParser();
    const out = parseBytes(parser, bytes);
    assert.equal(out.records.length, 4);
    assert.equal(out.tail, null);
    assert.equal(parser.resyncs.length, 1);
    assert.equal(parser.resyncs[0]!.offset, offsets[4]);
    assert.equal(parser.resyncs[0]!.skippedBytes, bytes.length - offsets[4]!);
    assert.match(parser.resyncs[0]!.message, /claims length 7; no valid block found in the remaining \d+ bytes$/);
  });
});

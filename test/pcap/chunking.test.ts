/**
 * The parsers must deliver the same records, problems and counters whatever the chunking of the
 * input, including when the caller reuses (overwrites) its chunk buffer after NeedMore.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PcapParser } from '../../src/pcap/pcap.js';
import { PcapngParser } from '../../src/pcap/pcapng.js';
import { ChunkWindow } from '../../src/pcap/window.js';
import type { CaptureParser } from '../../src/pcap/record.js';
import { PcapWriter, PcapngWriter, ByteWriter, packet } from '../builders/capture-builder.js';
import { parseBytes, randomCuts, type ParseOptions } from '../builders/parse.js';

const frames = [
  packet().ethernet().ipv4().tcp({ flags: 'S' }).build(),
  packet().ethernet().vlan(7).ipv4().tcp({ flags: 'PA' }).payload('SELECT * FROM t WHERE id = 42').build(),
  new Uint8Array(0),
  packet().ethernet().ipv6().tcp().payload(new Array(300).fill(0x61)).build(),
  Uint8Array.of(1, 2, 3),
];

interface Sample {
  name: string;
  make: () => CaptureParser;
  bytes: Uint8Array;
}

function pcapSample(name: string, opts: ConstructorParameters<typeof PcapWriter>[0], damage?: (b: Uint8Array, offsets: number[]) => void, cut = 0): Sample {
  const w = new PcapWriter(opts);
  frames.forEach((data, i) => w.packet({ sec: 1_700_000_000 + i, frac: 1000 * i + 1, data, origLen: data.length + i }));
  let bytes = w.build();
  damage?.(bytes, w.offsets);
  if (cut) bytes = bytes.subarray(0, bytes.length - cut);
  return { name, make: () => new PcapParser(), bytes };
}

function pcapngSample(name: string, damage?: (b: Uint8Array, offsets: number[]) => void, cut = 0): Sample {
  const w = new PcapngWriter()
    .shb({ le: true, hardware: 'hw' })
    .idb({ linkType: 1, snapLen: 262144, name: 'eth0' })
    .epb({ iface: 0, ts: 1_700_000_000_000_001n, data: frames[0]! })
    .idb({ linkType: 101, tsresol: 9 })
    .epb({ iface: 1, ts: 1_700_000_000_000_000_002n, data: frames[1]!, options: [[1, 'hello']] })
    .nrb([{ ipv4: [127, 0, 0, 1], names: ['localhost'] }])
    .spb({ data: frames[4]! })
    .isb({ iface: 0, ifDrop: 4n })
    .shb({ le: false })
    .idb({ linkType: 113, tsresol: 0x80 | 20 })
    .opb({ iface: 0, ts: 1_700_000_000n << 20n, data: frames[3]! })
    .custom({ data: Uint8Array.of(1, 2, 3, 4, 5) })
    .epb({ iface: 0, ts: (1_700_000_001n << 20n) + 3n, data: frames[2]! })
    .epb({ iface: 0, ts: (1_700_000_002n << 20n) + 3n, data: frames[1]! });
  let bytes = w.build();
  damage?.(bytes, w.packetOffsets);
  if (cut) bytes = bytes.subarray(0, bytes.length - cut);
  return { name, make: () => new PcapngParser(), bytes };
}

const SAMPLES: Sample[] = [
  pcapSample('pcap µs LE', { le: true }),
  pcapSample('pcap ns BE', { le: false, nsec: true }),
  pcapSample('pcap modified BE', { le: false, modified: true }),
  pcapSample('pcap with a damaged record header', {}, (b, o) => b.set(new ByteWriter(true).u32(0xffffff00).toBytes(), o[2]! + 8)),
  pcapSample('pcap with a damaged last record header', {}, (b, o) => b.set(new ByteWriter(true).u32(0xffffff00).toBytes(), o[4]! + 8)),
  pcapSample('pcap cut inside the last record', {}, undefined, 2),
  pcapngSample('pcapng, two sections in both byte orders'),
  pcapngSample('pcapng with a damaged block length', (b, o) => b.set(new ByteWriter(true).u32(10).toBytes(), o[1]! + 4)),
  pcapngSample('pcapng cut inside the last block', undefined, 5),
  { name: 'pcapng bad byte-order magic', make: () => new PcapngParser(), bytes: new PcapngWriter().shb({ byteOrderMagic: 1 }).build() },
  { name: 'pcap bad version', make: () => new PcapParser(), bytes: new PcapWriter({ versionMajor: 7 }).build() },
];

/** Everything observable about one parse, for comparison. */
function observe(s: Sample, o: ParseOptions): unknown {
  const p = s.make();
  const out = parseBytes(p, s.bytes, o);
  return {
    records: out.records,
    error: out.error,
    tail: out.tail,
    resyncs: p.resyncs,
    skipped: [...p.skippedBlocks],
    interfaces: p.interfaces,
    offset: p.offset,
  };
}

describe('chunking: identical results whatever the chunk boundaries', () => {
  for (const s of SAMPLES) {
    test(s.name, () => {
      const reference = observe(s, {});
      // Sanity: the reference really has content.
      const ref = reference as { records: unknown[]; error: unknown };
      assert.ok(ref.records.length > 0 || ref.error !== null);
      // Split in two at every offset, with and without buffer reuse.
      for (let k = 1; k < s.bytes.length; k++) {
        assert.deepEqual(observe(s, { cuts: [k] }), reference, `split at ${k}`);
        assert.deepEqual(observe(s, { cuts: [k], reuse: true }), reference, `split at ${k}, reused buffer`);
      }
      // Fixed chunk sizes, reused buffer.
      for (const size of [1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 24, 31, 64, 100]) {
        assert.deepEqual(observe(s, { chunkSize: size, reuse: true }), reference, `chunks of ${size}`);
      }
      // Pseudo-random chunkings.
      for (let seed = 1; seed <= 50; seed++) {
        assert.deepEqual(observe(s, { cuts: randomCuts(s.bytes.length, seed, 1 + (seed % 60)), reuse: true }), reference, `seed ${seed}`);
      }
    });
  }

  test('property: random cut sets, reused buffer', () => {
    const refs = SAMPLES.map((s) => observe(s, {}));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SAMPLES.length - 1 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { maxLength: 40 }),
        fc.boolean(),
        (i, cuts, reuse) => {
          const s = SAMPLES[i]!;
          const sorted = cuts.filter((c) => c < s.bytes.length).sort((a, b) => a - b);
          assert.deepEqual(observe(s, { cuts: sorted, reuse }), refs[i]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ChunkWindow', () => {
  test('reads in place inside one chunk, no copy', () => {
    const w = new ChunkWindow();
    const chunk = Uint8Array.of(1, 2, 3, 4, 5, 6);
    w.push(chunk);
    assert.ok(w.ensure(4));
    assert.equal(w.buf, chunk);
    w.advance(4);
    assert.equal(w.offset, 4);
    assert.equal(w.available, 2);
    assert.equal(w.buffered, 2);
  });

  test('assembles a straddling record in the spill buffer and returns to the chunk', () => {
    const w = new ChunkWindow();
    const a = Uint8Array.of(1, 2, 3);
    const b = Uint8Array.of(4, 5, 6, 7, 8);
    w.push(a);
    w.advance(1);
    assert.equal(w.ensure(4), false);
    assert.equal(w.buffered, 2);
    a.fill(0); // the caller may reuse its chunk now
    w.push(b);
    assert.ok(w.ensure(4));
    assert.notEqual(w.buf, b);
    assert.deepEqual(Array.from(w.buf.subarray(w.pos, w.pos + 4)), [2, 3, 4, 5]);
    assert.equal(w.offset, 1);
    w.advance(4);
    assert.equal(w.offset, 5);
    // Back on the caller's chunk, in place.
    assert.equal(w.buf, b);
    assert.equal(w.pos, 2);
    assert.ok(w.ensure(3));
    assert.deepEqual(Array.from(w.buf.subarray(w.pos, w.pos + 3)), [6, 7, 8]);
    w.advance(3);
    assert.equal(w.buffered, 0);
  });

  test('a record larger than the spill buffer grows it, across many tiny chunks', () => {
    const w = new ChunkWindow();
    const n = 10_000;
    const shared = new Uint8Array(1);
    for (let i = 0; i < n; i++) {
      if (w.ensure(n)) assert.fail('ensure succeeded too early');
      shared[0] = i & 0xff;
      w.push(shared);
    }
    assert.ok(w.ensure(n));
    for (let i = 0; i < n; i++) assert.equal(w.buf[w.pos + i], i & 0xff);
    w.advance(n);
    assert.equal(w.offset, n);
    assert.equal(w.buffered, 0);
  });
});

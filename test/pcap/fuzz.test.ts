/**
 * Fuzzing the capture parsers and the packet decoder with fast-check: random mutations and
 * truncations of valid files, fed in random chunks into a reused buffer. The parsers and the decoder
 * must never throw, must terminate, and every record they deliver must lie inside the input (its
 * bytes are the input's bytes at the record's offset) and within MAX_RECORD_BYTES.
 *
 * Inputs that once broke something are kept in test/fixtures/crashes/ and replayed below.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { PcapParser, MAX_RECORD_BYTES } from '../../src/pcap/pcap.js';
import { PcapngParser } from '../../src/pcap/pcapng.js';
import { sniff } from '../../src/pcap/detect.js';
import { PacketDecoder, SKIP_NAMES } from '../../src/net/decode.js';
import { newPacketRecord, Step, type CaptureParser } from '../../src/pcap/record.js';
import { PcapWriter, PcapngWriter, packet, TcpOpt } from '../builders/capture-builder.js';
import { handshakeV10 } from '../builders/mysql-builder.js';

const FRAMES: Uint8Array[] = [
  packet().ethernet().ipv4().tcp({ flags: 'S', options: TcpOpt.of(TcpOpt.mss(1460), TcpOpt.wscale(7)) }).build(),
  packet().ethernet().vlan(12).ipv4({ options: Uint8Array.of(0x94, 4, 0, 0) }).tcp({ flags: 'PA' }).payload(handshakeV10({ version: '8.0.36' })).build(),
  packet().ethernet().qinq(1, 2).ipv6({ ext: [{ type: 'hop' }, { type: 'routing' }, { type: 'fragment' }] }).tcp().payload('SELECT 1').build(),
  packet().ethernet({ padTo: 60 }).ipv4().tcp().build(),
  packet().ethernet().ipv4().udp().payload('dns').build(),
  packet().ethernet().arp().build(),
  packet().ethernet().ipv6().icmp({ v6: true }).build(),
];
const RAW: Uint8Array[] = [packet().ipv4().tcp().payload('raw').build(), packet().ipv6({ ext: [{ type: 'ah' }] }).tcp().build()];

function seedFiles(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const opts of [{}, { le: false }, { nsec: true }, { modified: true, le: false }]) {
    const w = new PcapWriter({ ...opts, snaplen: 65535 });
    FRAMES.forEach((data, i) => w.packet({ sec: 1_700_000_000 + i, frac: i * 17, data, origLen: data.length + (i % 2) * 10 }));
    out.push(w.build());
  }
  const ng = new PcapngWriter()
    .shb({ le: true, os: 'Linux' })
    .idb({ linkType: 1, snapLen: 65535, name: 'eth0' })
    .idb({ linkType: 101, tsresol: 9, tsoffset: 10n })
    .epb({ iface: 0, ts: 1_700_000_000_000_000n, data: FRAMES[0]! })
    .epb({ iface: 1, ts: 1_700_000_000_000_000_001n, data: RAW[0]!, options: [[1, 'c']] })
    .nrb([{ ipv4: [10, 0, 0, 1], names: ['db'] }])
    .spb({ data: FRAMES[1]! })
    .opb({ iface: 0, ts: 1_700_000_001_000_000n, data: FRAMES[2]! })
    .isb({ iface: 0, ifDrop: 1n, ifRecv: 9n })
    .custom({ data: Uint8Array.of(1, 2, 3) })
    .shb({ le: false })
    .idb({ linkType: 276, tsresol: 0x80 | 20 })
    .epb({ iface: 0, ts: 1_700_000_000n << 20n, data: packet().sll2().ipv4().tcp().payload('x').build() })
    .epb({ iface: 0, ts: (1_700_000_000n << 20n) + 1n, data: packet().sll2().ipv6().tcp().build() });
  out.push(ng.build());
  const ng2 = new PcapngWriter().shb({ le: false }).idb({ linkType: 0, tsresol: 3 });
  FRAMES.forEach((_, i) => ng2.epb({ iface: 0, ts: BigInt(i), data: packet().bsdNull({ le: false }).ipv4().tcp({ seq: i }).payload('q'.repeat(i)).build() }));
  out.push(ng2.build());
  return out;
}
const SEEDS = seedFiles();

/** `FUZZ_RUNS=20 node --test build/test/pcap/fuzz.test.js` fuzzes 20 times longer. */
const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
const runs = (n: number): number => Math.round(n * SCALE);

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number; le: boolean }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

/** Lengths and values that sit on parser decision boundaries. */
const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 11, 12, 13, 15, 16, 20, 24, 28, 31, 32, 65535, 65536, 262144, 262145, 0x0a0d0d0a, 0x1a2b3c4d, 0x4d3c2b1a, MAX_RECORD_BYTES, MAX_RECORD_BYTES + 4, 0x7fffffff, 0xffffffff];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 0xffffffff })), le: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'set':
        b[at] = m.value;
        break;
      case 'u32':
        for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (m.value >>> (m.le ? 8 * i : 24 - 8 * i)) & 0xff;
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.len)]);
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      default: {
        const never: never = m;
        throw new Error(`unknown mutation ${String(never)}`);
      }
    }
  }
  return b;
}

/** Bytes between a record's header and its data, by format (pcap, modified pcap, EPB/OPB, SPB). */
const DATA_AT = [16, 24, 28, 12];

/** Everything observable about one parse (compared across chunkings). */
interface Observed {
  records: string[];
  error: string | null;
  tail: string | null;
  resyncs: string;
  skipped: string;
}

/**
 * Parse `input` cut at `cuts` into one reused buffer, decoding every record; check the invariants.
 */
function checkParse(make: () => CaptureParser, input: Uint8Array, cuts: readonly number[]): Observed {
  const parser = make();
  const decoder = new PacketDecoder();
  const bounds = [...new Set(cuts.map((c) => c % (input.length + 1)))].filter((c) => c > 0 && c < input.length).sort((a, b) => a - b);
  bounds.push(input.length);
  const shared = new Uint8Array(input.length);
  let from = 0;
  let next = 0;
  let ended = false;
  const records: string[] = [];
  let lastOffset = -1;
  const done = (error: string | null, tail: string | null): Observed => ({
    records,
    error,
    tail,
    resyncs: JSON.stringify(parser.resyncs),
    skipped: JSON.stringify([...parser.skippedBlocks]),
  });
  for (let steps = 0; ; steps++) {
    assert.ok(steps < 1_000_000, 'parser does not terminate');
    const step = parser.next();
    if (step === Step.Record) {
      const r = parser.record;
      assert.ok(r.caplen >= 0 && r.caplen <= MAX_RECORD_BYTES, `caplen ${r.caplen}`);
      assert.ok(r.offset >= 0 && r.offset + r.caplen <= r.data.length, 'record outside its buffer');
      assert.ok(r.fileOffset > lastOffset, `record offsets go backwards: ${r.fileOffset} after ${lastOffset}`);
      lastOffset = r.fileOffset;
      const bytes = r.data.subarray(r.offset, r.offset + r.caplen);
      const at = DATA_AT.map((d) => r.fileOffset + d).find((p) => p + r.caplen <= input.length && Buffer.compare(input.subarray(p, p + r.caplen), bytes) === 0);
      assert.ok(at !== undefined, `record at ${r.fileOffset} (caplen ${r.caplen}) is not the input's bytes`);
      assert.ok(Number.isInteger(r.tsNsec) && r.tsNsec >= 0 && r.tsNsec < 1e9, `tsNsec ${r.tsNsec}`);
      records.push(`${r.fileOffset}+${at - r.fileOffset}:${r.caplen}/${r.origLen} ${r.tsSec}.${r.tsNsec} if${r.interfaceId} lt${r.linkType}`);
      if (decoder.decode(r)) {
        assert.ok(decoder.payloadOffset >= r.offset, 'payload before the record');
        assert.ok(decoder.payloadOffset + decoder.payloadLength <= r.offset + r.caplen, 'payload past the captured bytes');
        assert.ok(decoder.payloadMissing >= 0, `payloadMissing ${decoder.payloadMissing}`);
      }
      continue;
    }
    if (step === Step.Error) {
      assert.ok(parser.error && parser.error.offset >= 0 && parser.error.message.length > 0);
      return done(JSON.stringify(parser.error), null);
    }
    if (next >= bounds.length) {
      if (!ended) {
        ended = true;
        parser.end();
        continue;
      }
      const tail = parser.finish();
      if (tail) assert.ok(tail.offset >= 0 && tail.offset <= input.length, `tail offset ${tail.offset}`);
      for (const n of parser.resyncs) assert.ok(n.offset >= 0 && n.skippedBytes > 0 && n.offset + n.skippedBytes <= input.length, JSON.stringify(n));
      return done(null, JSON.stringify(tail));
    }
    const to = bounds[next++]!;
    shared.fill(0xee);
    shared.set(input.subarray(from, to));
    parser.push(shared.subarray(0, to - from));
    from = to;
  }
}

/** The parser the file reader would choose, or a given one when the magic was destroyed. */
function parserFor(input: Uint8Array, fallback: () => CaptureParser): () => CaptureParser {
  return () => {
    const s = sniff(input.subarray(0, 16));
    return s.kind === 'capture' ? s.parser : fallback();
  };
}

describe('fuzz: capture parsers', () => {
  test('mutated and truncated files never throw; records stay inside the input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SEEDS.length - 1 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (seed, ms, cuts) => {
          const input = mutate(SEEDS[seed]!, ms);
          const fallback = seed < 4 ? () => new PcapParser() : () => new PcapngParser();
          // Damaged input, chunked or whole: the same records, problems and counters.
          assert.deepEqual(checkParse(parserFor(input, fallback), input, cuts), checkParse(parserFor(input, fallback), input, []));
          // Both parsers must also survive the other format.
          checkParse(() => new PcapParser(), input, cuts);
          checkParse(() => new PcapngParser(), input, cuts);
        },
      ),
      { numRuns: runs(1500) },
    );
  });

  test('random bytes behind a valid magic never throw', () => {
    const heads = [SEEDS[0]!.subarray(0, 24), SEEDS[3]!.subarray(0, 24), SEEDS[4]!.subarray(0, 28), SEEDS[5]!.subarray(0, 28)];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: heads.length - 1 }), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (h, body, cuts) => {
        const input = Uint8Array.from([...heads[h]!, ...body]);
        checkParse(h < 2 ? () => new PcapParser() : () => new PcapngParser(), input, cuts);
      }),
      { numRuns: runs(1500) },
    );
  });

  test('unmutated seeds parse completely (the invariant checker itself works)', () => {
    const counts = SEEDS.map((s, i) => checkParse(i < 4 ? () => new PcapParser() : () => new PcapngParser(), s, [7, 100, 101, 333]).records.length);
    assert.deepEqual(counts, [7, 7, 7, 7, 6, 7]);
  });
});

describe('fuzz: packet decoder', () => {
  const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 127];

  function decodeChecked(d: PacketDecoder, linkType: number, frame: Uint8Array, caplen: number, origLen: number): void {
    const r = newPacketRecord();
    r.data = frame;
    r.offset = 0;
    r.caplen = Math.min(caplen, frame.length);
    r.origLen = origLen;
    r.linkType = linkType;
    const before = d.skipped.reduce((a, b) => a + b, 0);
    const ok = d.decode(r);
    const after = d.skipped.reduce((a, b) => a + b, 0);
    if (ok) {
      assert.equal(after, before, 'a decoded packet was also counted as skipped');
      assert.ok(d.payloadOffset >= 0 && d.payloadOffset + d.payloadLength <= r.caplen);
      assert.ok(d.payloadMissing >= 0);
      assert.ok(d.srcPort >= 0 && d.srcPort <= 65535 && d.seq >= 0 && d.seq <= 0xffffffff);
    } else {
      assert.equal(after, before + 1, 'a skipped packet must be counted exactly once');
    }
  }

  test('mutated valid frames', () => {
    const frames: [number, Uint8Array][] = [...FRAMES.map((f) => [1, f] as [number, Uint8Array]), ...RAW.map((f) => [101, f] as [number, Uint8Array])];
    frames.push([113, packet().sll().ipv6({ ext: [{ type: 'dest' }] }).tcp().payload('z').build()]);
    frames.push([0, packet().bsdNull({ af: 30 }).ipv6().tcp().build()]);
    const d = new PacketDecoder();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.array(mutationArb, { maxLength: 4 }),
        fc.nat({ max: 3000 }),
        fc.option(fc.nat({ max: 70000 })),
        (i, ms, caplen, origLen) => {
          const [lt, frame] = frames[i]!;
          const m = mutate(frame, ms);
          decodeChecked(d, lt, m, caplen, origLen ?? m.length);
        },
      ),
      { numRuns: runs(3000) },
    );
    assert.ok(d.skipped.length === SKIP_NAMES.length);
  });

  test('random bytes on every link type', () => {
    const d = new PacketDecoder();
    fc.assert(
      fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 300 }), fc.nat({ max: 300 }), (lt, bytes, caplen, origLen) => {
        decodeChecked(d, lt, bytes, caplen, origLen);
      }),
      { numRuns: runs(3000) },
    );
  });
});

describe('fuzz: kept crash inputs', () => {
  const dir = fileURLToPath(new URL('../../../test/fixtures/crashes/', import.meta.url));
  const files = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.bin')) : [];
  for (const name of files) {
    test(name, () => {
      const input = new Uint8Array(readFileSync(dir + name));
      for (const make of [() => new PcapParser(), () => new PcapngParser()]) {
        checkParse(make, input, []);
        checkParse(make, input, [1, 5, 17, 40]);
      }
    });
  }
});

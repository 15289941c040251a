/**
 * TCP reassembly properties (fast-check).
 *
 * A request/response conversation is modelled as a real TCP stack would send it: handshake, an
 * optional server greeting, rounds of (client request, server response), each burst cut into
 * segments and carrying the acknowledgement of everything the sender had received, then FINs.
 * The capture of it is then damaged: segments duplicated or re-sent re-segmented (overlapping),
 * reordered within a few packets, dropped. Checked:
 *   (a) without drops: each direction is delivered exactly, with no gap; and no byte is delivered
 *       before the peer bytes it acknowledges (causal order across directions);
 *   (b) with drops: per direction, delivered bytes + gap sizes = stream length, and every
 *       delivered byte is the original byte at its stream offset (so none is delivered twice);
 *   (c) random garbage segments never throw, and buffered bytes stay within the total limit.
 *
 * `FUZZ_RUNS=20 node --test build/test/tcp/property.test.js` runs 20 times as many cases.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Dir } from '../../src/tcp/stream.js';
import { setup, type Seg } from './harness.js';
import { describeCase, replay, type Conversation } from './model.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
const runs = (n: number): number => Math.round(n * SCALE);

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Arbitraries
// ──────────────────────────────────────────────────────────────────────────────────────────────

const isnArb = fc.oneof(fc.integer({ min: 0xffffff00, max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 0x7fffffff, 0x80000000));

const conversationArb: fc.Arbitrary<Conversation> = fc.record({
  cisn: isnArb,
  sisn: isnArb,
  greeting: fc.option(fc.uint8Array({ minLength: 1, maxLength: 120 }), { nil: null }),
  rounds: fc.array(fc.record({ req: fc.uint8Array({ minLength: 1, maxLength: 300 }), resp: fc.uint8Array({ minLength: 0, maxLength: 500 }) }), { minLength: 1, maxLength: 4 }),
  sizes: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 6 }),
  acks: fc.boolean(),
});

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Properties
// ──────────────────────────────────────────────────────────────────────────────────────────────

describe('TcpReassembler properties', () => {
  test('(a) duplicated, overlapping, reordered: each direction exact, no gap, causal order across directions', () => {
    fc.assert(
      fc.property(conversationArb, fc.integer(), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.1, 0.3), fc.boolean(), (cv, seed, window, retransmit, shared) => {
        const { sent, pkts, r, rec, causal } = replay(cv, { seed, window, retransmit, drop: 0 }, {}, { shared });
        const why = describeCase(cv, pkts);
        const c = rec.one;
        assert.deepEqual(c.trace().filter((l) => l.includes(' gap ')), [], why);
        assert.equal(Buffer.compare(c.c2s.data, sent.streams[0]), 0, `client stream differs: ${why}`);
        assert.equal(Buffer.compare(c.s2c.data, sent.streams[1]), 0, `server stream differs: ${why}`);
        assert.deepEqual(causal, [], why);
        assert.equal(c.closeReason, 'fin', why);
        assert.equal(c.info.sidesBy, 'syn');
        const t = r.totals;
        assert.deepEqual([t.gaps, t.bytesLost, t.late, t.complete, t.payloadBytes, r.bufferedBytes], [0, 0, 0, 1, sent.streams[0].length + sent.streams[1].length, 0], why);
      }),
      { numRuns: runs(2000) },
    );
  });

  test('(b) segments dropped (and duplicated, reordered): delivered + gaps = stream, every byte at its offset', () => {
    fc.assert(
      fc.property(conversationArb, fc.integer(), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.2), fc.constantFrom(0.05, 0.2, 0.5), fc.boolean(), (cv, seed, window, retransmit, drop, shared) => {
        const { sent, pkts, r, rec } = replay(cv, { seed, window, retransmit, drop }, {}, { shared });
        const why = describeCase(cv, pkts);
        const c = rec.one;
        for (const dir of [Dir.ClientToServer, Dir.ServerToClient] as const) {
          const d = c.dirs[dir];
          const stream = sent.streams[dir];
          const name = dir === Dir.ClientToServer ? 'client' : 'server';
          assert.equal(d.startUnknown, false, `${name}: no unknown start (the SYNs are captured): ${why}`);
          assert.equal(d.length + d.gapBytes, stream.length, `${name}: delivered ${d.length} + lost ${d.gapBytes} ≠ ${stream.length}: ${c.trace().join(' | ')}; ${why}`);
          for (let i = 0; i < d.length; i++) {
            const at = d.offsets[i]!;
            if (stream[at] !== d.data[i]) assert.fail(`${name} byte ${i} delivered at offset ${at}: ${d.data[i]} ≠ ${stream[at]}; ${why}`);
          }
          assert.ok(d.gaps.every((g) => g.bytes > 0), `${name}: gaps ${JSON.stringify(d.gaps)}`);
        }
        // A hole before the FINs waits for reordered data like any other, until the capture ends.
        const lost = c.c2s.gapBytes + c.s2c.gapBytes;
        assert.ok(c.closeReason === 'fin' || (c.closeReason === 'capture-end' && lost > 0), `closed by ${c.closeReason}: ${c.trace().join(' | ')}; ${why}`);
        const t = r.totals;
        assert.equal(t.payloadBytes + t.bytesLost, sent.streams[0].length + sent.streams[1].length);
        assert.equal(r.bufferedBytes, 0);
      }),
      { numRuns: runs(2000) },
    );
  });

  test('(c) random garbage segments never throw; buffered bytes stay within the total limit', () => {
    // Mostly a few tuples with sequence numbers near each direction's base (so that segments
    // overlap, leave holes, duplicate, close and reopen), some anywhere at all.
    const tuples = [
      { src: '10.2.0.1', dst: '10.2.0.2', sp: 40000, dp: 3306, base: [1000, 0xffffff00] },
      { src: '10.2.0.1', dst: '10.2.0.2', sp: 40001, dp: 3306, base: [0x7fffff00, 5] },
      { src: '2001:db8::1', dst: '2001:db8::2', sp: 40000, dp: 50000, base: [0xfffffff0, 0x12345678] },
    ];
    const offArb = fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: -100, max: -1 }) }, { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }) });
    const flagsArb = fc.oneof({ weight: 16, arbitrary: fc.constantFrom('A', 'PA') }, { weight: 3, arbitrary: fc.constantFrom('S', 'SA', 'F', 'FA', 'FPA', 'SPA') }, { weight: 1, arbitrary: fc.constantFrom('R', 'RA') }, { weight: 1, arbitrary: fc.nat({ max: 0xff }) });
    const segArb = fc.oneof(
      {
        weight: 9,
        arbitrary: fc.record({ t: fc.nat({ max: 5 }), fromServer: fc.boolean(), off: offArb, ackOff: offArb, flags: flagsArb, payload: fc.uint8Array({ maxLength: 60 }), cut: fc.option(fc.nat({ max: 60 }), { nil: undefined }), dt: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.constant(1000) }) }).map((g): Seg => {
          const t = tuples[g.t % 3 === 0 || g.t > 3 ? 0 : g.t % 3]!;
          const [me, peer] = g.fromServer ? [1, 0] : [0, 1];
          return {
            src: g.fromServer ? t.dst : t.src,
            dst: g.fromServer ? t.src : t.dst,
            srcPort: g.fromServer ? t.dp : t.sp,
            dstPort: g.fromServer ? t.sp : t.dp,
            seq: (t.base[me]! + g.off) >>> 0,
            ack: (t.base[peer]! + g.ackOff) >>> 0,
            flags: g.flags,
            payload: g.payload,
            sec: g.dt,
            ...(g.cut !== undefined && g.cut < g.payload.length ? { capturedPayload: g.cut } : {}),
          };
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ v6: fc.boolean(), a: fc.nat({ max: 2 }), b: fc.nat({ max: 2 }), srcPort: fc.constantFrom(3306, 40000, 1), dstPort: fc.constantFrom(3306, 40000, 1), seq: fc.nat({ max: 0xffffffff }), ack: fc.nat({ max: 0xffffffff }), flags: fc.nat({ max: 0xff }), payload: fc.uint8Array({ maxLength: 40 }) }).map((g): Seg => {
          const fam = g.v6 ? ['2001:db8::1', '2001:db8::2', '2001:db8::3'] : ['10.2.0.1', '10.2.0.2', '10.2.0.3'];
          return { src: fam[g.a]!, dst: fam[g.b]!, srcPort: g.srcPort, dstPort: g.dstPort, seq: g.seq, ack: g.ack, flags: g.flags, payload: g.payload, sec: 0 };
        }),
      },
    );
    const optsArb = fc.record({
      maxBufferPerConnection: fc.integer({ min: 1, max: 120 }),
      maxBufferTotal: fc.integer({ min: 1, max: 200 }),
      maxConnections: fc.integer({ min: 1, max: 4 }),
      idleTimeoutSec: fc.integer({ min: 1, max: 30 }),
      reorderWindow: fc.integer({ min: 1, max: 8 }),
      serverPorts: fc.constantFrom([3306], [], [40000, 3306]),
      hello: fc.boolean(),
    });
    fc.assert(
      fc.property(optsArb, fc.array(segArb, { maxLength: 60 }), (o, list) => {
        const { hello, ...opts } = o;
        const { r, rec, wire } = setup({ ...opts, ...(hello ? { isServerHello: (b, off, len) => len > 0 && b[off]! < 0x20 } : {}) });
        let sec = 1_000_000;
        for (const g of list) {
          sec += g.sec ?? 0; // the segment's `sec` is the time step
          wire.feed({ ...g, sec });
          assert.ok(r.bufferedBytes <= opts.maxBufferTotal, `buffered ${r.bufferedBytes} > ${opts.maxBufferTotal}`);
          assert.ok(r.trackedConnections <= opts.maxConnections);
        }
        wire.finish(sec + 1);
        assert.equal(r.bufferedBytes, 0);
        let bytes = 0;
        let lost = 0;
        for (const c of rec.conns) {
          assert.equal(c.afterClose, 0, 'nothing after close');
          assert.notEqual(c.closeReason, null, 'every connection closed at the end');
          for (const d of c.dirs) {
            bytes += d.length;
            lost += d.gapBytes;
            assert.ok(d.gaps.filter((g) => g.bytes < 0).length <= 1);
          }
        }
        assert.deepEqual([r.totals.payloadBytes, r.totals.bytesLost], [bytes, lost]);
      }),
      { numRuns: runs(2000) },
    );
  });
});

/**
 * PacketFramer: TCP stream chunks in, whole logical MySQL packets out. Packets are re-framed
 * identically however the stream is cut into chunks; 16 MiB continuations make one logical packet
 * of the right length with only a prefix kept; zero-length packets are packets; after a gap the
 * framer hunts for a start at chunk boundaries and counts what it skips.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketFramer, type Packet, type StartPredicate } from '../../src/mysql/framing.js';
import { concat, ascii } from '../builders/bytes.js';
import { mysqlPacket } from '../builders/mysql-builder.js';
import { randomCuts } from '../builders/parse.js';

interface Got {
  seq: number;
  length: number;
  payload: Uint8Array;
  truncated: boolean;
  first: number;
  last: number;
}

/** A framer whose packets are copied out (the payload view is valid only during the callback). */
function framer(maxKeep = 1 << 20, onPacket?: (p: Packet, f: PacketFramer) => void): { f: PacketFramer; got: Got[] } {
  const got: Got[] = [];
  const f: PacketFramer = new PacketFramer((p) => {
    got.push({ seq: p.seq, length: p.length, payload: p.payload.slice(), truncated: p.truncated, first: p.firstSec, last: p.lastSec });
    onPacket?.(p, f);
  }, maxKeep);
  return { f, got };
}

/** Feed `stream` cut at `cuts`; chunk i gets capture time second i. Each chunk sits inside a larger buffer. */
function feed(f: PacketFramer, stream: Uint8Array, cuts: readonly number[]): void {
  let at = 0;
  let i = 0;
  for (const end of [...cuts.filter((c) => c > 0 && c < stream.length), stream.length]) {
    if (end <= at) continue;
    const buf = new Uint8Array(end - at + 5).fill(0xee);
    buf.set(stream.subarray(at, end), 3);
    f.feed(buf, 3, end - at, i++, 0);
    buf.fill(0xdd); // views into an old chunk must not be kept
    at = end;
  }
}

const payloads = [ascii('\x03SELECT 1'), new Uint8Array(0), Uint8Array.of(0xfe, 0, 0, 2, 0), new Uint8Array(300).fill(0x61), Uint8Array.of(0)];
const stream = concat(...payloads.map((p, i) => mysqlPacket(i, p)));

describe('PacketFramer: chunking', () => {
  test('one chunk: every packet, in order, with its sequence id and length', () => {
    const { f, got } = framer();
    feed(f, stream, []);
    assert.deepEqual(
      got.map((g) => [g.seq, g.length, g.truncated]),
      payloads.map((p, i) => [i, p.length, false]),
    );
    got.forEach((g, i) => assert.deepEqual(g.payload, payloads[i]));
    assert.equal(f.packets, payloads.length);
  });

  test('cut into two chunks at every offset: the same packets', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { f, got } = framer();
      feed(f, stream, [cut]);
      assert.deepEqual(got.map((g) => g.payload), payloads, `cut at ${cut}`);
      assert.deepEqual(got.map((g) => g.seq), [0, 1, 2, 3, 4], `cut at ${cut}`);
    }
  });

  test('cut into three chunks at every pair of offsets around the headers: the same packets', () => {
    const small = stream.subarray(0, 4 + 9 + 4 + 4 + 5);
    for (let a = 1; a < small.length; a++) {
      for (let b = a + 1; b < small.length; b++) {
        const { f, got } = framer();
        feed(f, small, [a, b]);
        assert.deepEqual(got.map((g) => g.payload), payloads.slice(0, 3), `cuts ${a}, ${b}`);
      }
    }
  });

  test('one byte at a time: the same packets; times are those of the first and last byte', () => {
    const { f, got } = framer();
    feed(f, stream, Array.from({ length: stream.length }, (_, i) => i));
    assert.deepEqual(got.map((g) => g.payload), payloads);
    // Packet 0: header bytes 0..3 (chunks 0..3), payload bytes 4..12.
    assert.deepEqual([got[0]!.first, got[0]!.last], [0, 12]);
    // Packet 1 (empty): header bytes 13..16.
    assert.deepEqual([got[1]!.first, got[1]!.last], [13, 16]);
  });

  test('property: any cuts give the packets of the uncut stream', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { minLength: 1, maxLength: 8 }), fc.integer(), fc.integer({ min: 1, max: 40 }), (ps, seed, max) => {
        const s = concat(...ps.map((p, i) => mysqlPacket(i & 0xff, p)));
        const { f, got } = framer();
        feed(f, s, randomCuts(s.length, seed, max));
        assert.deepEqual(got.map((g) => g.payload), ps);
        assert.deepEqual(got.map((g) => g.length), ps.map((p) => p.length));
      }),
    );
  });
});

describe('PacketFramer: zero-length packets', () => {
  test('three empty packets in a row, then a packet: four packets', () => {
    const s = concat(mysqlPacket(3, new Uint8Array(0)), mysqlPacket(4, new Uint8Array(0)), mysqlPacket(5, new Uint8Array(0)), mysqlPacket(6, ascii('x')));
    for (let cut = 0; cut <= s.length; cut++) {
      const { f, got } = framer();
      feed(f, s, [cut]);
      assert.deepEqual(got.map((g) => [g.seq, g.length]), [[3, 0], [4, 0], [5, 0], [6, 1]], `cut at ${cut}`);
    }
  });
});

describe('PacketFramer: keeping only a prefix', () => {
  test('a packet longer than maxKeep: whole length, kept prefix, truncated (whole chunk and split)', () => {
    const p = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
    const s = concat(mysqlPacket(0, p), mysqlPacket(1, ascii('next')));
    for (const cuts of [[], [10], [4000], [2, 3, 4999]]) {
      const { f, got } = framer(100);
      feed(f, s, cuts);
      assert.equal(got.length, 2, `cuts ${cuts}`);
      assert.deepEqual([got[0]!.length, got[0]!.truncated, got[0]!.payload], [5000, true, p.subarray(0, 100)], `cuts ${cuts}`);
      assert.deepEqual([got[1]!.length, got[1]!.truncated, got[1]!.payload], [4, false, ascii('next')], `cuts ${cuts}`);
    }
  });

  test('exactly maxKeep bytes: not truncated', () => {
    const { f, got } = framer(8);
    feed(f, mysqlPacket(0, ascii('12345678')), [5]);
    assert.deepEqual([got[0]!.length, got[0]!.truncated], [8, false]);
  });
});

describe('PacketFramer: 16 MiB continuation', () => {
  const MAX = 0xffffff;
  /** A payload of `n` bytes split as the server sends it: 0xffffff-byte packets, then the rest (maybe empty). */
  function split(n: number, seq0: number, fill: (i: number) => number): Uint8Array {
    const parts: Uint8Array[] = [];
    let at = 0;
    let seq = seq0;
    for (;;) {
      const len = Math.min(MAX, n - at);
      const body = new Uint8Array(len);
      for (let i = 0; i < len; i++) body[i] = fill(at + i);
      parts.push(mysqlPacket(seq++ & 0xff, body));
      at += len;
      if (len < MAX) break;
    }
    return concat(...parts);
  }
  const fill = (i: number): number => (i * 7 + 3) & 0xff;

  test('0xffffff + 10 bytes: one logical packet of 0xffffff+10, first sequence id, kept prefix', () => {
    const s = split(MAX + 10, 0, fill);
    const { f, got } = framer(1024);
    // 64 KiB chunks as TCP would deliver them, plus a cut inside the second header.
    const cuts = [...Array.from({ length: Math.floor(s.length / 65536) }, (_, i) => (i + 1) * 65536), 4 + MAX + 2];
    feed(f, s, cuts.sort((a, b) => a - b));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.length, MAX + 10);
    assert.equal(got[0]!.seq, 0);
    assert.equal(got[0]!.truncated, true);
    assert.deepEqual(got[0]!.payload, Uint8Array.from({ length: 1024 }, (_, i) => fill(i)));
  });

  test('exactly 0xffffff bytes: an empty packet ends it; then the next packet is separate', () => {
    const s = concat(split(MAX, 5, fill), mysqlPacket(0, ascii('after')));
    const { f, got } = framer(16);
    feed(f, s, []);
    assert.deepEqual(got.map((g) => [g.seq, g.length]), [[5, MAX], [0, 5]]);
    assert.deepEqual(got[1]!.payload, ascii('after'));
  });

  test('two full continuations and a tail, kept whole when maxKeep allows (the first bytes of each part in order)', () => {
    const n = 2 * MAX + 3;
    const s = split(n, 0, fill);
    const { f, got } = framer(n);
    feed(f, s, [1, MAX + 5, 2 * MAX + 8]);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.length, n);
    assert.equal(got[0]!.truncated, false);
    const p = got[0]!.payload;
    for (const i of [0, MAX - 1, MAX, 2 * MAX, n - 1]) assert.equal(p[i], fill(i), `byte ${i}`);
  });
});

describe('PacketFramer: hunting after a gap', () => {
  const isCommand: StartPredicate = (b, off, len) => len >= 5 && b[off + 3] === 0 && b[off + 4] === 0x03;

  test('gap inside a packet: cut counted; chunks rejected by the predicate are skipped and counted; the accepted chunk is framed from its start', () => {
    const { f, got } = framer();
    const a = mysqlPacket(0, ascii('\x03SELECT 1'));
    feed(f, a.subarray(0, 6), []);
    f.gap(isCommand);
    assert.equal(f.synced, false);
    assert.equal(f.packetsCut, 1);
    feed(f, ascii('garbage!'), []);
    feed(f, mysqlPacket(1, ascii('x')), []);
    assert.equal(f.skippedBytes, 8 + 5);
    feed(f, concat(mysqlPacket(0, ascii('\x03SELECT 2')), mysqlPacket(0, ascii('\x03SELECT 3'))), []);
    assert.equal(f.synced, true);
    assert.deepEqual(got.map((g) => new TextDecoder().decode(g.payload)), ['\x03SELECT 2', '\x03SELECT 3']);
  });

  test('gap at a packet boundary: nothing cut', () => {
    const { f } = framer();
    feed(f, mysqlPacket(0, ascii('\x03SELECT 1')), []);
    f.gap(isCommand);
    assert.equal(f.packetsCut, 0);
  });

  test('gap inside a 16 MiB continuation: cut counted, the rest is not glued to the next packet', () => {
    const { f, got } = framer(64);
    const big = new Uint8Array(0xffffff);
    feed(f, mysqlPacket(0, big), []);
    assert.equal(got.length, 0, 'the logical packet continues');
    f.gap(isCommand);
    assert.equal(f.packetsCut, 1);
    feed(f, mysqlPacket(0, ascii('\x03SELECT 9')), []);
    assert.deepEqual(got.map((g) => [g.seq, g.length]), [[0, 9]]);
  });

  test('the consumer declares a gap from inside its callback: the rest of the chunk is skipped, no packet is invented', () => {
    const seen: number[] = [];
    const { f, got } = framer(1 << 20, (p, fr) => {
      seen.push(p.length);
      if (p.payload[0] === 0x77) fr.gap(isCommand); // "unknown command: resynchronise"
    });
    const chunk = concat(mysqlPacket(0, ascii('\x77bad')), mysqlPacket(0, ascii('\x03SELECT 1')), mysqlPacket(0, ascii('\x03SELECT 2')));
    feed(f, chunk, []);
    assert.deepEqual(seen, [4], 'only the packet before the gap');
    assert.equal(f.synced, false);
    assert.equal(f.skippedBytes, chunk.length - 8);
    feed(f, mysqlPacket(0, ascii('\x03SELECT 3')), []);
    assert.deepEqual(got.map((g) => g.length), [4, 9]);
  });
});

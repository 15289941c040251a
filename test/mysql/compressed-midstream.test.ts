/**
 * The compressed protocol on connections whose handshake was not captured (issue 16): recognised
 * from the bytes (src/mysql/detect.ts `sniffCompressed`) and decoded from the first command whose
 * request the capture holds. Crafted conversations (zlib, payloads sent as is, zstd from the real
 * `zstd` encoder) cut at random points, and the recorded sample cut before every packet.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { join } from 'node:path';
import type { MysqlPipeline } from '../../src/pipeline/mysql.js';
import type { CommandEvent, SessionOptions } from '../../src/mysql/session.js';
import { sniffCompressed } from '../../src/mysql/detect.js';
import type { ZstdSupport } from '../../src/mysql/compression.js';
import { readCapture, type Pkt } from '../live/mutate.js';
import { repoRoot } from '../cli/run.js';
import { prng } from '../builders/prng.js';
import { ascii, concat } from '../builders/bytes.js';
import { columnCount, columnDef, comQuery, compressedPacket, eof, err, mysqlPacket, ok, textRow, type CompressedForm } from '../builders/mysql-builder.js';
import { TcpConv, feedPackets, runWith } from './tcp-conv.js';
import { ZSTD_CLI, hasZstdCli } from './zstd-cli.js';


interface Planned {
  sql: string;
  rows: number | null;
  error: number | null;
  /** Index in the conversation's segments of the request's (only) segment. */
  seg: number;
}

/**
 * A compressed conversation, as a MySQL client and server write it: each command one compressed
 * packet (sent as is when short, else compressed), each response its inner packets cut into
 * compressed packets at random sizes (inner packets straddle them), each compressed packet sent
 * in one or several TCP segments (of at least `minSegment` bytes, at most an MSS).
 */
export function conversation(seed: number, form: 'zlib' | 'zstd', commands = 12, minSegment = 500): { conv: TcpConv; planned: Planned[] } {
  const r = prng(seed);
  const conv = new TcpConv(undefined, false);
  const planned: Planned[] = [];
  const compress = (b: Uint8Array): CompressedForm => (b.length < 50 ? 'raw' : form);
  for (let i = 0; i < commands; i++) {
    const sql = `SELECT c${i}, pad FROM t${i} WHERE id > ${i * 7} AND note = '${'x'.repeat(Math.floor(r() * 80))}'`;
    const req = mysqlPacket(0, comQuery(sql));
    planned.push({ sql, rows: null, error: null, seg: conv.segs.length });
    conv.c(compressedPacket(0, req, compress(req)));
    let inner: Uint8Array;
    const p = planned[planned.length - 1]!;
    const kind = r();
    if (kind < 0.15) {
      inner = mysqlPacket(1, err(1146, `Table 't${i}' doesn't exist`, '42S02'));
      p.error = 1146;
    } else if (kind < 0.3) {
      inner = mysqlPacket(1, ok({ affectedRows: i }));
      p.rows = null; // an OK: rows affected, none sent
    } else {
      const n = 1 + Math.floor(r() * 120);
      p.rows = n;
      inner = concat(mysqlPacket(1, columnCount(2)), mysqlPacket(2, columnDef(`c${i}`)), mysqlPacket(3, columnDef('pad')), mysqlPacket(4, eof()), ...Array.from({ length: n }, (_, k) => mysqlPacket(5 + k, textRow(`row-${k}-of-${i}`, 'p'.repeat(Math.floor(r() * 60))))), mysqlPacket(5 + n, eof()));
    }
    // Cut the response's bytes into compressed packets, and each of those into segments.
    let seq = 1;
    for (let at = 0; at < inner.length; ) {
      const take = Math.min(inner.length - at, 200 + Math.floor(r() * 3000));
      const part = inner.subarray(at, at + take);
      const cp = compressedPacket(seq++, part, compress(part));
      const cuts: number[] = [];
      // Segments of at most an MSS (a packet shorter than one is not split; TCP sends it whole).
      const size = () => minSegment + Math.floor(r() * (1460 - minSegment));
      for (let c = size(); c < cp.length; c += size()) cuts.push(c);
      conv.s(cp, cuts);
      at += take;
    }
  }
  return { conv, planned };
}

export function decode(segs: TcpConv['segs'], session?: SessionOptions): { events: CommandEvent[]; pipeline: MysqlPipeline } {
  return runWith({ session }, { segs });
}

const brief = (e: CommandEvent) => [e.sql, e.status, e.status === 'error' ? e.errorCode : e.rows, e.compressed];
const expected = (p: Planned) => [p.sql, p.error !== null ? 'error' : 'ok', p.error ?? p.rows, true];

describe('compressed protocol without the handshake', () => {
  test('zlib: crafted conversations cut at random points decode every command whose request was captured', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const { conv, planned } = conversation(seed, 'zlib');
      const r = prng(1000 + seed);
      for (let k = 0; k < 6; k++) {
        const cut = Math.floor(r() * conv.segs.length * 0.8);
        const { events, pipeline } = decode(conv.segs.slice(cut));
        const want = planned.filter((p) => p.seg >= cut).map(expected);
        assert.deepEqual(events.map(brief), want, `seed ${seed}, cut before segment ${cut}`);
        assert.equal(pipeline.totals.compressed, 1, `seed ${seed}, cut ${cut}: marked compressed`);
        assert.deepEqual(pipeline.totals.stopped, {}, `seed ${seed}, cut ${cut}`);
        assert.equal(pipeline.totals.protocolViolations, 0, `seed ${seed}, cut ${cut}`);
      }
    }
  });

  test('segments cut anywhere (a response packet split across segments is not recognised): commands lose their response, none gets another\'s', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const { conv, planned } = conversation(seed, 'zlib', 12, 1);
      const r = prng(2000 + seed);
      for (let k = 0; k < 6; k++) {
        const cut = Math.floor(r() * conv.segs.length * 0.8);
        const { events } = decode(conv.segs.slice(cut));
        const want = planned.filter((p) => p.seg >= cut);
        assert.equal(events.length, want.length, `seed ${seed}, cut ${cut}`);
        events.forEach((e, i) => {
          if (e.status !== 'incomplete') assert.deepEqual(brief(e), expected(want[i]!), `seed ${seed}, cut ${cut}`);
          else assert.equal(e.sql, want[i]!.sql);
        });
      }
    }
  });

  test('the server\'s first response split in a segment too short to recognise: its command incomplete, the next gets its own', () => {
    const conv = new TcpConv(undefined, false);
    const q = (sql: string) => compressedPacket(0, mysqlPacket(0, comQuery(sql)), 'raw');
    conv.c(q('SELECT 1'));
    conv.s(compressedPacket(1, mysqlPacket(1, err(1146, "Table 'x' doesn't exist", '42S02')), 'raw'), [5]);
    conv.c(q('SELECT 2'));
    conv.s(compressedPacket(1, mysqlPacket(1, ok({ affectedRows: 3 })), 'raw'));
    conv.c(q('SELECT 3'));
    conv.s(compressedPacket(1, mysqlPacket(1, ok({ affectedRows: 4 })), 'raw'));
    const { events } = decode(conv.segs);
    assert.deepEqual(
      events.map((e) => [e.sql, e.status, e.affectedRows]),
      [
        ['SELECT 1', 'incomplete', null],
        ['SELECT 2', 'ok', 3],
        ['SELECT 3', 'ok', 4],
      ],
    );
  });

  test('zstd (frames from the real zstd encoder): recognised, decoded with a zstd decoder, said and counted without one', { skip: hasZstdCli ? false : 'the zstd command is not installed' }, () => {
    const { conv, planned } = conversation(7, 'zstd', 6);
    const cut = planned[2]!.seg;
    // With a real zstd decoder (the zstd command, on a Node without its own): decoded.
    const decoded = decode(conv.segs.slice(cut), { zstd: ZSTD_CLI });
    assert.deepEqual(decoded.events.map(brief), planned.slice(2).map(expected));
    // Without one: recognised as zstd, stopped with the reason, nothing invented.
    const none: ZstdSupport = { inflate: null, source: null, unavailable: 'zstd compression: not decodable on this Node.js (test)' };
    const stopped = decode(conv.segs.slice(cut), { zstd: none });
    assert.deepEqual(stopped.events, []);
    assert.deepEqual(stopped.pipeline.totals.stopped, { 'zstd compression: not decodable on this Node.js (test)': 1 });
    assert.equal(stopped.pipeline.totals.compressed, 1);
  });

  test('the recorded sample (mysql --compress), cut before every packet: the commands after the cut, exactly', async () => {
    const cap = await readCapture(join(repoRoot, 'test/fixtures/captures/mariadb-compressed.pcap'));
    const feed = (pkts: Pkt[]) => feedPackets(cap.linkType, pkts);
    const whole = feed(cap.packets).events.filter((e) => e.cmd !== 'connect');
    assert.equal(whole.length, 4);
    const after = (e: CommandEvent, k: Pkt) => e.sec > k.sec || (e.sec === k.sec && e.nsec >= k.nsec);
    // From packet 3 on (the SYN-ACK gone: mid-stream) to the last command.
    for (let cut = 3; cut < cap.packets.length; cut++) {
      const { events, pipeline: p } = feed(cap.packets.slice(cut));
      const first = cap.packets[cut]!;
      const want = whole.filter((e) => after(e, first)).map((e) => [e.cmd, e.sql, e.status, e.rows, e.errorCode, e.compressed]);
      assert.deepEqual(events.filter((e) => e.cmd !== 'connect').map((e) => [e.cmd, e.sql, e.status, e.rows, e.errorCode, e.compressed]), want, `cut before packet ${cut + 1}`);
      assert.deepEqual(p.totals.stopped, {}, `cut before packet ${cut + 1}`);
    }
  });

  test('plain (uncompressed) streams begun mid-stream are never taken for compressed ones', async () => {
    const cap = await readCapture(join(repoRoot, 'samples/mariadb-basic.pcap'));
    for (let cut = 1; cut < cap.packets.length; cut += 7) {
      const { events, pipeline: p } = feedPackets(cap.linkType, cap.packets.slice(cut));
      assert.equal(p.totals.compressed, 0, `cut ${cut}`);
      assert.ok(events.every((e) => !e.compressed), `cut ${cut}`);
    }
  });
});

describe('sniffCompressed', () => {
  const select = mysqlPacket(0, comQuery('SELECT 1'));
  test('compressed packets: zlib proven by decompression, payloads sent as is by their whole packets', () => {
    assert.equal(sniffCompressed(compressedPacket(0, select, 'raw'), 0, 20, null), 'zlib');
    const big = mysqlPacket(0, comQuery(`SELECT '${'a'.repeat(300)}'`));
    const z = compressedPacket(0, big, 'zlib');
    assert.equal(sniffCompressed(z, 0, z.length, null), 'zlib');
    // Cut by the end of the segment: what arrived inflates cleanly, to 32 bytes at least.
    assert.equal(sniffCompressed(z, 0, 7 + 20, null), 'zlib');
    assert.equal(sniffCompressed(z, 0, 7 + 12, null), null, 'too little to tell');
    // Two packets in one segment.
    const two = concat(compressedPacket(0, select, 'raw'), z);
    assert.equal(sniffCompressed(two, 0, two.length, null), 'zlib');
  });

  test('not compressed: plain MySQL packets, damaged zlib, HTTP, TLS, random bytes', () => {
    const no = (b: Uint8Array, why: string) => assert.equal(sniffCompressed(b, 0, b.length, null), null, why);
    no(select, 'a plain command');
    no(mysqlPacket(1, ok()), 'a plain OK');
    no(concat(mysqlPacket(1, ok()), mysqlPacket(2, ok())), 'two plain OKs');
    no(concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')), mysqlPacket(3, eof()), mysqlPacket(4, textRow('x')), mysqlPacket(5, eof())), 'a plain result set');
    const z = compressedPacket(0, mysqlPacket(0, comQuery(`SELECT '${'a'.repeat(300)}'`)), 'zlib');
    const damaged = z.slice();
    damaged[damaged.length - 3]! ^= 0x40;
    no(damaged, 'zlib whose checksum fails');
    const wrongLength = z.slice();
    wrongLength[4]! += 1;
    no(wrongLength, 'zlib that inflates to another length than announced');
    no(ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'HTTP');
    no(concat([0x17, 0x03, 0x03, 0x00, 0x40], new Uint8Array(64).fill(0x9c)), 'a TLS record');
    const r = prng(99);
    let hits = 0;
    for (let i = 0; i < 20000; i++) {
      const b = new Uint8Array(7 + Math.floor(r() * 200)).map(() => Math.floor(r() * 256));
      if (sniffCompressed(b, 0, b.length, null) !== null) hits++;
    }
    assert.equal(hits, 0, 'random bytes');
  });

  test('zlib streams this Node.js writes at every level are recognised', () => {
    const inner = mysqlPacket(1, textRow('v'.repeat(500)));
    for (let level = 1; level <= 9; level++) {
      const payload = zlib.deflateSync(inner, { level });
      const b = concat([payload.length & 0xff, payload.length >> 8, 0, 1, inner.length & 0xff, inner.length >> 8, 0], payload);
      assert.equal(sniffCompressed(b, 0, b.length, null), 'zlib', `level ${level}`);
    }
  });
});

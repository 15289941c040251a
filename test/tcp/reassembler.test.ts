/**
 * TCP reassembly, table-driven: `{segments in, events out}`. Each case feeds segments (real frames,
 * decoded) to a fresh reassembler, ends the capture, and compares every connection's event trace
 * (see `RecordedConn.trace`), then the counters it names.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ReassemblyOptions, ReassemblyTotals, TcpReassembler } from '../../src/tcp/reassembler.js';
import { Dir, GapReason, type HalfStats } from '../../src/tcp/stream.js';
import { setup, Tuple, type Recorder, type Seg, type Wire } from './harness.js';

/** Client 10.0.0.1:40000, server 10.0.0.2:3306; ISNs 1000 and 5000. */
const T = new Tuple('10.0.0.1', '10.0.0.2', 40000, 3306, 1000, 5000);

interface Ctx {
  r: TcpReassembler;
  rec: Recorder;
  wire: Wire;
}

interface Case {
  name: string;
  opts?: ReassemblyOptions;
  segs: Seg[];
  /** End the capture after the segments (default true). */
  finish?: boolean;
  /** Trace of each connection, in order of creation. */
  traces: string[][];
  totals?: Partial<ReassemblyTotals>;
  /** Stats of the first connection, per direction. */
  stats?: [Partial<HalfStats>, Partial<HalfStats>];
  check?: (ctx: Ctx) => void;
}

/** `n` pure ACKs from the server (packets that only advance the reorder window). */
const serverAcks = (n: number, ackRel = 0, t = T): Seg[] => Array.from({ length: n }, () => t.s(0, '', 'A', ackRel));

/** FIN exchange after `c` client and `s` server data bytes, client first; then the last ACK. */
const closeBoth = (c: number, s: number, t = T): Seg[] => [t.c(c, '', 'FA', s), t.s(s, '', 'FA', c + 1), t.c(c + 1, '', 'A', s + 1)];

const W = new Tuple('10.0.0.1', '10.0.0.2', 40000, 3306, 0xfffffff0, 0xfffffffe);

const CASES: Case[] = [
  {
    name: 'in-order request and response, FIN both ways',
    segs: [...T.handshake(), T.c(0, 'hello'), T.s(0, 'world', 'PA', 5), T.c(5, ' again', 'PA', 5), T.s(5, '!', 'PA', 11), ...closeBoth(11, 6)],
    traces: [['C "hello"', 'S "world"', 'C " again"', 'S "!"', 'close fin']],
    totals: { connections: 1, complete: 1, midStream: 0, unfinished: 0, closedByFin: 1, segments: 9, payloadBytes: 17, afterClose: 1, retransmitted: 0, outOfOrder: 0, gaps: 0 },
    stats: [
      { segments: 5, bytes: 11 },
      { segments: 4, bytes: 6 },
    ],
    check: ({ rec }) => {
      // Every in-order payload went out as a view into the capture buffer, not a copy.
      const data = rec.one.events.filter((e) => e.kind === 'data');
      assert.equal(data.length, 4);
      for (const e of data) assert.equal(e.kind === 'data' && e.view, true);
      assert.equal(rec.one.info.synSeen, true);
      assert.equal(rec.one.afterClose, 0);
    },
  },
  {
    name: 'out-of-order data is delivered from a copy, in-order data as a view',
    segs: [...T.handshake(), T.c(3, 'def'), T.c(0, 'abc'), T.c(6, 'ghi')],
    traces: [['C "abcdefghi"', 'close capture-end']],
    check: ({ rec }) => {
      const views = rec.one.events.flatMap((e) => (e.kind === 'data' ? [`${Buffer.from(e.bytes).toString()}:${e.view}`] : []));
      // 'abc' fills the hole and goes through the buffer with 'def'; 'ghi' arrives in order.
      assert.deepEqual(views, ['abc:false', 'def:false', 'ghi:true']);
      // Each with the capture time of the packet that carried it (the wire clock: 1 ms a packet).
      const times = rec.one.events.flatMap((e) => (e.kind === 'data' ? [e.sec * 1000 + e.nsec / 1e6] : []));
      assert.deepEqual(times, [5, 4, 6]);
    },
  },
  {
    name: 'sequence numbers wrap around 2^32 (ISN 0xfffffff0 / 0xfffffffe)',
    segs: [...W.handshake(), W.c(0, '0123456789'), W.c(20, 'ABCDEFGHIJ'), W.c(10, 'abcdefghij'), W.s(0, 'xyz', 'PA', 30), W.c(30, 'klm', 'PA', 3), W.s(5, 'QR', 'PA', 33), W.s(3, 'OP', 'PA', 33), ...closeBoth(33, 7, W)],
    traces: [['C "0123456789abcdefghijABCDEFGHIJ"', 'S "xyz"', 'C "klm"', 'S "OPQR"', 'close fin']],
    totals: { complete: 1, gaps: 0, outOfOrder: 2, retransmitted: 0 },
    check: ({ rec }) => {
      assert.equal(W.cseq(15), 0); // the client stream crossed 2^32 at byte 15
      assert.equal(W.sseq(1), 0);
      assert.deepEqual(rec.one.c2s.gaps, []);
    },
  },
  {
    name: 'sides from SYN/SYN-ACK, whatever the ports say',
    opts: { serverPorts: [5000] },
    segs: (() => {
      const t = new Tuple('10.0.0.9', '10.0.0.2', 5000, 60000, 1, 2);
      return [...t.handshake(), t.c(0, 'q'), t.s(0, 'r', 'PA', 1)];
    })(),
    traces: [['C "q"', 'S "r"', 'close capture-end']],
    totals: { sidesGuessed: 0, midStream: 0, unfinished: 1 },
    check: ({ rec }) => {
      const i = rec.one.info;
      assert.deepEqual([i.sidesBy, i.client, i.server, i.clientPort, i.serverPort, i.synSeen], ['syn', '10.0.0.9:5000', '10.0.0.2:60000', 5000, 60000, true]);
    },
  },
  {
    name: 'sides from a SYN-ACK when the SYN was lost (mid-stream for the client)',
    segs: (() => {
      const t = new Tuple('10.0.0.9', '10.0.0.2', 5000, 60000, 1, 2);
      return [t.synAck(), t.c(0, 'q'), t.s(0, 'r', 'PA', 1)];
    })(),
    traces: [['C gap -1 MidStreamStart', 'C "q"', 'S "r"', 'close capture-end']],
    totals: { midStream: 1, sidesGuessed: 0 },
    check: ({ rec }) => {
      const i = rec.one.info;
      assert.deepEqual([i.sidesBy, i.client, i.server, i.synSeen], ['syn', '10.0.0.9:5000', '10.0.0.2:60000', false]);
    },
  },
  {
    name: 'sides from a server port, no SYN: the first packet is the server’s',
    opts: { serverPorts: [3306] },
    segs: (() => {
      // The client's port is lower than the server's: a guess would get it wrong.
      const t = new Tuple('10.0.0.1', '10.0.0.2', 1000, 3306, 100, 200);
      return [t.s(0, 'greeting', 'PA', 0), t.c(0, 'login', 'PA', 8)];
    })(),
    traces: [['S gap -1 MidStreamStart', 'S "greeting"', 'C gap -1 MidStreamStart', 'C "login"', 'close capture-end']],
    totals: { midStream: 1, sidesGuessed: 0, unfinished: 1, complete: 0 },
    check: ({ rec }) => {
      const i = rec.one.info;
      assert.deepEqual([i.sidesBy, i.client, i.server, i.synSeen], ['port', '10.0.0.1:1000', '10.0.0.2:3306', false]);
    },
  },
  {
    name: 'sides from the server-hello hint, and the port is learnt for the next connection',
    opts: { isServerHello: (b, o, l) => l > 0 && b[o] === 0x0a },
    segs: (() => {
      // Server port 50000 above the client's 40000: the guess alone would pick 40000.
      const t1 = new Tuple('10.0.0.1', '10.0.0.2', 40000, 50000, 100, 200);
      const t2 = new Tuple('10.0.0.1', '10.0.0.2', 40001, 50000, 300, 400);
      return [t1.s(0, '\nhello', 'PA', 0), t1.c(0, 'login', 'PA', 6), t2.c(0, 'query', 'PA', 0)];
    })(),
    traces: [
      ['S gap -1 MidStreamStart', 'S "\nhello"', 'C gap -1 MidStreamStart', 'C "login"', 'close capture-end'],
      ['C gap -1 MidStreamStart', 'C "query"', 'close capture-end'],
    ],
    totals: { sidesGuessed: 0, midStream: 2 },
    check: ({ r, rec }) => {
      const [a, b] = rec.conns;
      assert.deepEqual([a!.info.sidesBy, a!.info.client, a!.info.server], ['hello', '10.0.0.1:40000', '10.0.0.2:50000']);
      assert.deepEqual([b!.info.sidesBy, b!.info.client, b!.info.server], ['port', '10.0.0.1:40001', '10.0.0.2:50000']);
      assert.equal(r.serverPorts.has(50000), true);
    },
  },
  {
    name: 'sides guessed: the lower port is the server',
    segs: (() => {
      const t = new Tuple('10.0.0.2', '10.0.0.1', 40000, 3306, 100, 200);
      return [t.c(0, 'q', 'PA', 0), t.s(0, 'r', 'PA', 1)];
    })(),
    traces: [['C gap -1 MidStreamStart', 'C "q"', 'S gap -1 MidStreamStart', 'S "r"', 'close capture-end']],
    totals: { sidesGuessed: 1 },
    check: ({ rec }) => {
      const i = rec.one.info;
      assert.deepEqual([i.sidesBy, i.client, i.server], ['guess', '10.0.0.2:40000', '10.0.0.1:3306']);
    },
  },
  {
    name: 'retransmission (full duplicate) counted, not delivered again',
    segs: [...T.handshake(), T.c(0, 'abc'), T.c(0, 'abc'), T.s(0, 'ok', 'PA', 3), T.s(0, 'ok', 'PA', 3), T.c(0, 'abc')],
    traces: [['C "abc"', 'S "ok"', 'close capture-end']],
    totals: { retransmitted: 3, overlapping: 0, outOfOrder: 0 },
    stats: [
      { retransmitted: 2, bytes: 3 },
      { retransmitted: 1, bytes: 2 },
    ],
  },
  {
    name: 'partial overlap with delivered bytes: the new part once',
    segs: [...T.handshake(), T.c(0, 'abcd'), T.c(2, 'cdef'), T.c(6, 'gh')],
    traces: [['C "abcdefgh"', 'close capture-end']],
    totals: { overlapping: 1, retransmitted: 0 },
  },
  {
    name: 'partial overlap with buffered bytes (re-segmented retransmission into a hole)',
    segs: [...T.handshake(), T.c(0, 'ab'), T.c(4, 'efgh'), T.c(2, 'cdef'), T.c(1, 'bcdefghi'), T.c(9, 'j')],
    traces: [['C "abcdefghij"', 'close capture-end']],
    totals: { gaps: 0, outOfOrder: 1 },
    check: ({ rec }) => assert.deepEqual(rec.one.c2s.offsets, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  },
  {
    name: 'out-of-order segments are reordered',
    segs: [...T.handshake(), T.c(6, 'ghi'), T.c(3, 'def'), T.c(0, 'abc'), T.s(2, 'CD', 'PA', 9), T.s(0, 'AB', 'PA', 9)],
    traces: [['C "abcdefghi"', 'S "ABCD"', 'close capture-end']],
    totals: { outOfOrder: 3, gaps: 0 },
    stats: [{ outOfOrder: 2 }, { outOfOrder: 1 }],
  },
  {
    name: 'causal order: a response captured before the request it acknowledges comes after it',
    segs: [...T.handshake(), T.s(0, 'resp1', 'PA', 4), T.c(0, 'req1'), T.c(4, 'req2', 'PA', 5), T.s(5, 'resp2', 'PA', 8)],
    traces: [['C "req1"', 'S "resp1"', 'C "req2"', 'S "resp2"', 'close capture-end']],
    totals: { gaps: 0 },
  },
  {
    name: 'causal order: a request captured before the response it acknowledges comes after it',
    segs: [...T.handshake(), T.c(0, 'req1'), T.c(4, 'req2', 'PA', 5), T.s(0, 'resp1', 'PA', 4), T.s(5, 'resp2', 'PA', 8)],
    traces: [['C "req1"', 'S "resp1"', 'C "req2"', 'S "resp2"', 'close capture-end']],
    totals: { gaps: 0 },
  },
  {
    name: 'lost segment: gap of its size (not captured) after the reorder window, then the data after it',
    segs: [...T.handshake(), T.c(0, 'aaa'), /* c(3,'bbbb') lost */ T.c(7, 'ccc'), ...serverAcks(8, 10), T.c(10, 'ddd')],
    traces: [['C "aaa"', 'C gap 4 Unseen', 'C "cccddd"', 'close capture-end']],
    totals: { gaps: 1, bytesLost: 4, outOfOrder: 1, late: 0 },
    stats: [{ gaps: 1, bytesLost: 4, bytes: 9 }, { gaps: 0 }],
    check: ({ rec }) => assert.deepEqual(rec.one.c2s.offsets, [0, 1, 2, 7, 8, 9, 10, 11, 12]),
  },
  {
    name: 'lost request: the response that acknowledges it waits for the window, then a gap in the request',
    segs: [...T.handshake(), T.c(0, 'req1'), /* c(4,'req2') lost */ T.s(0, 'resp', 'PA', 8), ...Array.from({ length: 7 }, () => T.c(8, '', 'A', 0)), T.c(8, 'req3', 'PA', 4)],
    traces: [['C "req1"', 'C gap 4 Unseen', 'S "resp"', 'C "req3"', 'close capture-end']],
    totals: { gaps: 1, bytesLost: 4 },
  },
  {
    name: 'neighbours swapped at close: the last data segment captured after both FINs is not lost',
    segs: [...T.handshake(), T.c(0, 'req'), T.c(3, '', 'FA', 0), T.s(3, '', 'FA', 4), T.s(0, 'abc', 'PA', 4), T.c(4, '', 'A', 4)],
    traces: [['C "req"', 'S "abc"', 'close fin']],
    totals: { complete: 1, closedByFin: 1, gaps: 0, late: 0, afterClose: 1 },
  },
  {
    name: 'loss at the end of a direction, FINs both ways: the hole waits like any other; at the capture end a gap, and the connection ended by FIN',
    segs: [...T.handshake(), T.c(0, 'req'), T.s(0, 'ab', 'PA', 3), /* s(2,'cd') lost */ T.s(4, '', 'FA', 3), T.c(3, '', 'FA', 5), T.s(5, '', 'A', 4)],
    traces: [['C "req"', 'S "ab"', 'S gap 2 CaptureEnd', 'close fin']],
    totals: { complete: 1, unfinished: 0, closedByFin: 1, gaps: 1, bytesLost: 2, afterClose: 0 },
  },
  {
    name: 'loss of the client’s last bytes before its FIN: a gap of their size at the FIN',
    segs: [...T.handshake(), T.c(0, 'abc'), /* c(3,'def') lost */ T.c(6, '', 'FA', 0), T.s(0, '', 'FA', 7), ...serverAcks(8, 7)],
    traces: [['C "abc"', 'C gap 3 Unseen', 'close fin']],
    totals: { complete: 1, gaps: 1, bytesLost: 3, afterClose: 1 },
  },
  {
    name: 'a retransmission after its direction’s FIN is counted as retransmitted, not delivered',
    segs: [...T.handshake(), T.c(0, 'abc'), T.c(3, '', 'FA', 0), T.c(0, 'abc'), T.c(1, 'bc', 'FPA', 0), T.s(0, 'xy', 'PA', 4)],
    traces: [['C "abc"', 'S "xy"', 'close capture-end']],
    totals: { retransmitted: 2, late: 0 },
    stats: [{ retransmitted: 2, bytes: 3 }, {}],
  },
  {
    name: 'RST closes; a hole still open becomes a connection-end gap',
    segs: [...T.handshake(), T.c(0, 'a'), T.c(2, 'c'), T.s(0, '', 'R', 0), T.c(3, 'd')],
    traces: [['C "a"', 'C gap 1 ConnectionEnd', 'C "c"', 'close rst']],
    totals: { closedByRst: 1, complete: 1, afterClose: 1, gaps: 1 },
  },
  {
    name: 'FIN from one side only: open until the capture ends',
    segs: [...T.handshake(), T.c(0, 'bye'), T.c(3, '', 'FA', 0), T.s(0, '', 'A', 4)],
    traces: [['C "bye"', 'close capture-end']],
    totals: { complete: 0, unfinished: 1, closedByFin: 0 },
  },
  {
    name: 'a FIN that arrives before the data it ends',
    segs: [...T.handshake(), T.c(3, '', 'FA', 0), T.c(0, 'abc'), T.s(0, '', 'FA', 4)],
    traces: [['C "abc"', 'close fin']],
    totals: { complete: 1, gaps: 0 },
  },
  {
    name: 'idle timeout (capture time) closes and frees the connection',
    opts: { idleTimeoutSec: 60 },
    segs: (() => {
      const u = new Tuple('10.0.0.1', '10.0.0.2', 40001, 3306, 100, 200);
      return [...T.handshake().map((s) => ({ ...s, sec: 1 })), T.c(0, 'a', 'PA', 0, { sec: 1 }), T.c(2, 'c', 'PA', 0, { sec: 1 }), u.syn({ sec: 61 }), u.synAck({ sec: 62 })];
    })(),
    // At 61 s the connection has been silent for over a second with a hole: given up (Unseen);
    // at 62 s it is idle past the timeout: closed.
    traces: [['C "a"', 'C gap 1 Unseen', 'C "c"', 'close idle-timeout'], ['close capture-end']],
    totals: { closedByIdleTimeout: 1, unfinished: 2, connections: 2 },
    check: ({ rec }) => {
      const e = rec.conns[0]!.events.at(-1)!;
      assert.equal(e.kind, 'close');
    },
  },
  {
    name: 'mid-stream start: a gap of unknown size before the first data of each direction',
    opts: { serverPorts: [3306] },
    segs: [T.c(100, 'q1', 'PA', 50), T.s(50, 'r1', 'PA', 102), T.c(102, '', 'FA', 52), T.s(52, '', 'FA', 103)],
    traces: [['C gap -1 MidStreamStart', 'C "q1"', 'S gap -1 MidStreamStart', 'S "r1"', 'close fin']],
    totals: { midStream: 1, complete: 0, closedByFin: 1, gaps: 0, bytesLost: 0 },
  },
  {
    name: 'mid-stream start with the first segment out of order: the earlier bytes are behind the start',
    opts: { serverPorts: [3306] },
    segs: [T.c(103, 'def', 'PA', 0), T.c(100, 'abc', 'PA', 0), T.c(106, 'ghi', 'PA', 0)],
    traces: [['C gap -1 MidStreamStart', 'C "defghi"', 'close capture-end']],
    totals: { retransmitted: 1 },
  },
  {
    name: 'snap length cut the payload: the captured part, then a snap-length gap',
    segs: [...T.handshake(), T.c(0, 'abcdefgh', 'PA', 0, { capturedPayload: 3 }), T.c(8, 'ij'), T.c(15, 'pqr', 'PA', 0, { capturedPayload: 1 }), T.c(10, 'klmno'), T.c(18, 's')],
    traces: [['C "abc"', 'C gap 5 SnapLength', 'C "ijklmnop"', 'C gap 2 SnapLength', 'C "s"', 'close capture-end']],
    totals: { gaps: 2, bytesLost: 7 },
    check: ({ rec }) => assert.deepEqual(rec.one.c2s.offsets, [0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 18]),
  },
  {
    name: 'snap length cut the whole payload',
    segs: [...T.handshake(), T.c(0, 'abcd', 'PA', 0, { capturedPayload: 0 }), T.c(4, 'ef')],
    traces: [['C gap 4 SnapLength', 'C "ef"', 'close capture-end']],
  },
  {
    name: 'TCP Fast Open: data on the SYN is delivered',
    segs: [T.syn({ payload: 'fast' }), T.synAck({ ack: T.cseq(4) }), T.c(4, 'er', 'PA', 0), T.s(0, 'ok', 'PA', 6)],
    traces: [['C "faster"', 'S "ok"', 'close capture-end']],
    totals: { midStream: 0, gaps: 0 },
  },
  {
    name: 'late segment: arrives after its bytes were declared lost; counted, not delivered',
    segs: [...T.handshake(), T.c(0, 'aaa'), T.c(6, 'ccc'), ...serverAcks(8), T.c(3, 'bbb'), T.c(9, 'ddd')],
    traces: [['C "aaa"', 'C gap 3 Unseen', 'C "cccddd"', 'close capture-end']],
    totals: { late: 1, retransmitted: 0, gaps: 1, bytesLost: 3 },
    stats: [{ late: 1 }, {}],
  },
  {
    name: 'IPv6',
    segs: (() => {
      const t = new Tuple('2001:db8::10', '2001:db8::2', 40000, 3306, 7, 9);
      const u = new Tuple('2001:db8::11', '2001:db8::2', 40000, 3306, 70, 90); // differs in the last word only
      return [...t.handshake(), ...u.handshake(), t.c(3, 'def'), t.c(0, 'abc'), u.c(0, 'UVW'), t.s(0, 'xy', 'PA', 6), u.s(0, 'Z', 'PA', 3), ...closeBoth(6, 2, t)];
    })(),
    traces: [
      ['C "abcdef"', 'S "xy"', 'close fin'],
      ['C "UVW"', 'S "Z"', 'close capture-end'],
    ],
    totals: { connections: 2, complete: 1, unfinished: 1 },
    check: ({ rec }) => {
      const [a, b] = rec.conns;
      assert.deepEqual([a!.info.client, a!.info.server, a!.info.sidesBy], ['[2001:db8::10]:40000', '[2001:db8::2]:3306', 'syn']);
      assert.deepEqual([b!.info.client, b!.info.server], ['[2001:db8::11]:40000', '[2001:db8::2]:3306']);
    },
  },
];

function run(c: Case, shared: boolean): Ctx {
  const ctx = setup(c.opts, { shared });
  ctx.wire.feed(...c.segs);
  if (c.finish !== false) ctx.wire.finish();
  return ctx;
}

describe('TcpReassembler: segments in, events out', () => {
  // Each case twice: a fresh buffer per packet, then one Node Buffer reused (and overwritten) for
  // every packet, as the capture reader reuses its chunks: buffered bytes must be copies.
  for (const c of CASES) for (const shared of [false, true]) {
    test(`${c.name}${shared ? ' [capture buffer reused]' : ''}`, () => {
      const ctx = run(c, shared);
      const { r, rec } = ctx;
      assert.deepEqual(
        rec.conns.map((x) => x.trace()),
        c.traces,
      );
      for (const x of rec.conns) assert.equal(x.afterClose, 0, 'no event after close');
      if (c.totals) {
        const got: Record<string, number> = {};
        for (const k of Object.keys(c.totals)) got[k] = r.totals[k as keyof ReassemblyTotals];
        assert.deepEqual(got, c.totals);
      }
      if (c.stats) {
        for (const dir of [Dir.ClientToServer, Dir.ServerToClient] as const) {
          const want: Partial<HalfStats> = c.stats[dir];
          const got: Record<string, number> = {};
          for (const k of Object.keys(want)) got[k] = rec.conns[0]!.info.stats[dir][k as keyof HalfStats];
          assert.deepEqual(got, want, `stats of ${dir === Dir.ClientToServer ? 'client' : 'server'} direction`);
        }
      }
      // Counters agree with what the consumer saw.
      let bytes = 0;
      let lost = 0;
      let gaps = 0;
      for (const x of rec.conns)
        for (const d of x.dirs) {
          bytes += d.length;
          lost += d.gapBytes;
          gaps += d.gaps.filter((g) => g.bytes > 0).length;
        }
      assert.deepEqual([r.totals.payloadBytes, r.totals.bytesLost, r.totals.gaps], [bytes, lost, gaps]);
      assert.equal(r.bufferedBytes, 0, 'nothing buffered after the capture ends');
      c.check?.(ctx);
    });
  }
});

describe('TcpReassembler: limits and connection lifetime', () => {
  test('the reorder window: the gap comes with the window-th packet after the waiting segment', () => {
    const { r, rec, wire } = setup({ reorderWindow: 4 });
    wire.feed(...T.handshake(), T.c(0, 'a'), T.c(2, 'c'));
    wire.feed(...serverAcks(3));
    assert.deepEqual(rec.one.trace(), ['C "a"']);
    assert.equal(r.bufferedBytes, 1);
    wire.feed(...serverAcks(1));
    assert.deepEqual(rec.one.trace(), ['C "a"', 'C gap 1 Unseen', 'C "c"']);
    assert.equal(r.bufferedBytes, 0);
  });

  test('idle timeout boundary: idle for exactly the timeout stays, one second more closes', () => {
    const { r, rec, wire } = setup({ idleTimeoutSec: 60 });
    const u = new Tuple('10.0.0.3', '10.0.0.2', 40000, 3306, 1, 2);
    wire.feed(T.syn({ sec: 10 }), u.syn({ sec: 70 }));
    assert.equal(r.trackedConnections, 2);
    assert.equal(rec.conns.length, 0, 'no handler before something is said');
    wire.feed(u.synAck({ sec: 71 }));
    assert.equal(r.trackedConnections, 1);
    assert.deepEqual(rec.conns.map((c) => [c.info.id, c.trace()]), [[1, ['close idle-timeout']]]);
    assert.equal(r.totals.closedByIdleTimeout, 1);
    // A packet of the expired tuple now starts a new connection.
    wire.feed(T.c(0, 'x', 'PA', 0, { sec: 72 }));
    assert.equal(rec.conns.at(-1)!.info.id, 3);
  });

  test('maxConnections: the least recently active connection is evicted', () => {
    const { r, rec, wire } = setup({ maxConnections: 2 });
    const [a, b, c, d] = [40001, 40002, 40003, 40004].map((p) => new Tuple('10.0.0.1', '10.0.0.2', p, 3306, p * 10, p * 20));
    wire.feed(...a!.handshake(), a!.c(0, 'A'), ...b!.handshake(), b!.c(0, 'B'), a!.c(1, 'a')); // a is now the most recent
    wire.feed(...c!.handshake(), c!.c(0, 'C')); // evicts b
    assert.equal(r.trackedConnections, 2);
    assert.deepEqual(rec.conns.map((x) => [x.info.clientPort, x.closeReason]), [[40001, null], [40002, 'evicted'], [40003, null]]);
    wire.feed(...d!.handshake()); // evicts a
    assert.deepEqual(rec.conns.map((x) => x.closeReason), ['evicted', 'evicted', null]);
    assert.deepEqual(rec.conns[0]!.trace(), ['C "Aa"', 'close evicted']);
    assert.deepEqual([r.totals.evicted, r.totals.unfinished, r.trackedConnections], [2, 2, 2]);
    // A late packet of an evicted connection starts a new one (mid-stream).
    wire.feed(b!.c(1, 'b'));
    assert.deepEqual(rec.conns.at(-1)!.trace(), ['C gap -1 MidStreamStart', 'C "b"']);
    assert.equal(rec.conns.at(-1)!.info.id, 5);
  });

  test('a closed connection lingers for trailing packets, and counts against maxConnections', () => {
    const { r, rec, wire } = setup({ maxConnections: 1 });
    const u = new Tuple('10.0.0.3', '10.0.0.2', 40000, 3306, 1, 2);
    wire.feed(...T.handshake(), T.c(0, 'x'), ...closeBoth(1, 0));
    assert.equal(r.trackedConnections, 1);
    assert.equal(r.totals.afterClose, 1);
    wire.feed(...u.handshake());
    assert.equal(r.trackedConnections, 1);
    assert.equal(r.totals.evicted, 0, 'a closed connection is dropped, not evicted');
    assert.deepEqual(rec.conns.map((c) => c.closeReason), ['fin']);
  });

  for (const between of [false, true]) {
    test(`port reuse: a new SYN after close is a new connection${between ? ' (other traffic between)' : ' (right after the last packet)'}`, () => {
      const { r, rec, wire } = setup();
      const other = new Tuple('10.0.0.7', '10.0.0.2', 40000, 3306, 1, 2);
      const again = new Tuple('10.0.0.1', '10.0.0.2', 40000, 3306, 9000, 9500);
      wire.feed(...T.handshake(), T.c(0, 'one'), T.s(0, '1', 'PA', 3), ...closeBoth(3, 1));
      if (between) wire.feed(other.syn());
      wire.feed(...again.handshake(), again.c(0, 'two'), again.s(0, '2', 'PA', 3), ...closeBoth(3, 1, again));
      const mine = rec.conns.filter((c) => c.info.client === '10.0.0.1:40000');
      assert.deepEqual(
        mine.map((c) => [c.info.id, c.info.synSeen, c.trace()]),
        [
          [1, true, ['C "one"', 'S "1"', 'close fin']],
          [between ? 3 : 2, true, ['C "two"', 'S "2"', 'close fin']],
        ],
      );
      assert.equal(r.totals.complete, 2);
      assert.equal(r.totals.afterClose, 2);
    });
  }

  for (const between of [false, true]) {
    test(`a new SYN with another ISN on an open tuple replaces the connection${between ? ' (other traffic between)' : ''}`, () => {
      const { r, rec, wire } = setup();
      const other = new Tuple('10.0.0.7', '10.0.0.2', 40000, 3306, 1, 2);
      const again = new Tuple('10.0.0.1', '10.0.0.2', 40000, 3306, 9000, 9500);
      wire.feed(...T.handshake(), T.c(0, 'one'), T.c(4, 'lost-before'));
      wire.feed(T.syn()); // a SYN retransmission with the same ISN changes nothing
      if (between) wire.feed(other.syn());
      wire.feed(...again.handshake(), again.c(0, 'two'));
      wire.finish();
      const mine = rec.conns.filter((c) => c.info.client === '10.0.0.1:40000');
      assert.deepEqual(
        mine.map((c) => c.trace()),
        [
          ['C "one"', 'C gap 1 ConnectionEnd', 'C "lost-before"', 'close replaced'],
          ['C "two"', 'close capture-end'],
        ],
      );
      assert.equal(mine[1]!.info.synSeen, true);
      assert.equal(r.totals.connections, between ? 3 : 2);
    });
  }

  test('per-connection buffer limit: BufferLimit gap, buffered bytes bounded', () => {
    const { r, rec, wire } = setup({ maxBufferPerConnection: 10 });
    let most = 0;
    const feed = (...s: Seg[]): void => {
      for (const x of s) {
        wire.feed(x);
        most = Math.max(most, r.bufferedBytes);
      }
    };
    feed(...T.handshake(), T.c(0, 'a'), T.c(5, 'xxxxx'), T.c(10, 'yyyyy'), T.c(15, 'zzzzz'));
    assert.deepEqual(rec.one.trace(), ['C "a"', 'C gap 4 BufferLimit', 'C "xxxxxyyyyyzzzzz"']);
    assert.ok(most <= 10, `buffered ${most}`);
    assert.equal(r.totals.bufferLimitHits, 1);
    assert.equal(r.bufferedBytes, 0);
  });

  test('per-connection buffer limit counts both directions', () => {
    const { r, rec, wire } = setup({ maxBufferPerConnection: 10 });
    let most = 0;
    for (const s of [...T.handshake(), T.c(0, 'a'), T.s(0, 'b', 'PA', 1), T.c(2, 'cccccc', 'PA', 1), T.s(2, 'dddddd', 'PA', 1)]) {
      wire.feed(s);
      most = Math.max(most, r.bufferedBytes);
    }
    assert.ok(most <= 10, `buffered ${most} bytes in one connection, limit 10`);
    assert.deepEqual(rec.one.trace(), ['C "a"', 'S "b"', 'C gap 1 BufferLimit', 'C "cccccc"']);
    assert.equal(r.totals.bufferLimitHits, 1);
  });

  test('total buffer limit: the connection holding the most gives up its holes', () => {
    const { r, rec, wire } = setup({ maxBufferTotal: 10 });
    const u = new Tuple('10.0.0.3', '10.0.0.2', 40000, 3306, 1, 2);
    let most = 0;
    for (const s of [...T.handshake(), ...u.handshake(), T.c(1, 'AAAAAAA'), u.c(1, 'bbb'), u.c(5, 'cc')]) {
      wire.feed(s);
      most = Math.max(most, r.bufferedBytes);
    }
    assert.ok(most <= 10);
    assert.deepEqual(
      rec.conns.map((c) => c.trace()),
      [['C gap 1 BufferLimit', 'C "AAAAAAA"']],
    );
    assert.equal(r.bufferedBytes, 5);
    wire.feed(u.c(0, 'a'), u.c(4, 'd'));
    assert.deepEqual(rec.conns[1]!.trace(), ['C "abbbdcc"']);
    assert.equal(r.totals.bufferLimitHits, 1);
  });

  test('the segment that fills the hole is not lost to the buffer limit', () => {
    const { r, rec, wire } = setup({ maxBufferPerConnection: 10 });
    wire.feed(...T.handshake(), T.c(3, 'defghij'), T.c(10, 'klm'), T.c(0, 'abc'));
    assert.deepEqual(rec.one.trace(), ['C "abcdefghijklm"']);
    assert.deepEqual([r.totals.late, r.totals.gaps, r.totals.bufferLimitHits], [0, 0, 0]);
  });

  test('a single segment larger than the per-connection limit still waits for its hole', () => {
    const { rec, wire } = setup({ maxBufferPerConnection: 4 });
    wire.feed(...T.handshake(), T.c(3, 'defghij'), T.c(0, 'abc'));
    assert.deepEqual(rec.one.trace(), ['C "abcdefghij"']);
  });

  test('totals over complete, mid-stream and unfinished connections', () => {
    const { r, rec, wire } = setup({ serverPorts: [3306] });
    const mid = new Tuple('10.0.0.3', '10.0.0.2', 40000, 3306, 1, 2);
    const open = new Tuple('10.0.0.4', '10.0.0.2', 40000, 3306, 1, 2);
    wire.feed(...T.handshake(), T.c(0, 'abc'), T.c(0, 'abc'), T.c(5, 'fg'), ...serverAcks(8, 7), T.c(3, 'de'));
    wire.feed(mid.c(10, 'x', 'PA', 10), mid.s(10, 'y', 'PA', 11), mid.s(11, '', 'R', 11));
    wire.feed(...open.handshake(), open.c(2, 'zz'), open.c(1, 'y'));
    wire.feed(...closeBoth(7, 0));
    wire.finish();
    assert.deepEqual(
      rec.conns.map((c) => c.trace()),
      [
        ['C "abc"', 'C gap 2 Unseen', 'C "fg"', 'close fin'],
        ['C gap -1 MidStreamStart', 'C "x"', 'S gap -1 MidStreamStart', 'S "y"', 'close rst'],
        ['C gap 1 CaptureEnd', 'C "yzz"', 'close capture-end'],
      ],
    );
    const t = r.totals;
    assert.deepEqual(
      { connections: t.connections, complete: t.complete, midStream: t.midStream, unfinished: t.unfinished, closedByFin: t.closedByFin, closedByRst: t.closedByRst, retransmitted: t.retransmitted, late: t.late, outOfOrder: t.outOfOrder, gaps: t.gaps, bytesLost: t.bytesLost, payloadBytes: t.payloadBytes, afterClose: t.afterClose },
      { connections: 3, complete: 1, midStream: 1, unfinished: 1, closedByFin: 1, closedByRst: 1, retransmitted: 1, late: 1, outOfOrder: 3, gaps: 2, bytesLost: 3, payloadBytes: 10, afterClose: 1 },
    );
  });

  test('gap reasons have names', async () => {
    const { GAP_REASON_NAMES, describeGap } = await import('../../src/tcp/stream.js');
    assert.equal(GAP_REASON_NAMES.length, 7);
    assert.equal(GAP_REASON_NAMES[GapReason.SnapLength], 'snap length');
    assert.equal(GAP_REASON_NAMES[GapReason.Undecryptable], 'not decrypted');
    // The trace's words for a gap come from the same names.
    assert.equal(describeGap(12, GapReason.BufferLimit), '12 bytes not captured (buffer limit)');
    assert.equal(describeGap(3, GapReason.Undecryptable), '3 bytes not decrypted');
    assert.equal(describeGap(-1, GapReason.MidStreamStart), 'start of stream not captured');
    assert.equal(describeGap(-1, GapReason.Undecryptable), 'TLS records not decrypted');
  });
});

describe('TcpReassembler: holes found by acknowledgements and by silence', () => {
  test('a lost tail with nothing after it: the peer acknowledged it, so it is a gap at the end', () => {
    const { r, rec, wire } = setup();
    wire.feed(...T.handshake(), T.c(0, 'req'), T.s(0, 'resp', 'PA', 3), /* c(3,'more') lost */ T.s(4, '', 'A', 7)).finish();
    assert.deepEqual(rec.one.trace(), ['C "req"', 'S "resp"', 'C gap 4 Unseen', 'close capture-end']);
    assert.equal(r.totals.bytesLost, 4);
  });
  test('a connection that goes silent with a hole: given up after a second of capture time, at the next packet of any connection', () => {
    const u = new Tuple('10.0.0.1', '10.0.0.2', 40001, 3306, 100, 200);
    const { rec, wire } = setup();
    wire.feed(...T.handshake().map((x) => ({ ...x, sec: 1 })), T.c(0, 'a', 'PA', 0, { sec: 1 }), T.c(2, 'c', 'PA', 0, { sec: 1 }), u.syn({ sec: 3 }));
    // The gap comes before the capture ends: at the other connection's SYN, 2 s later.
    assert.deepEqual(rec.conns[0]!.trace(), ['C "a"', 'C gap 1 Unseen', 'C "c"']);
    wire.finish();
    assert.deepEqual(rec.conns[0]!.trace(), ['C "a"', 'C gap 1 Unseen', 'C "c"', 'close capture-end']);
  });
});

/**
 * TCP reassembly of damaged real captures, without tcpdump: every checked-in capture (the sample
 * and the link-layer fixtures, all real MariaDB traffic) is mutated by `test/live/mutate.ts` —
 * packets duplicated, neighbours swapped, payload packets dropped, the first packets cut, and all
 * of it at once — and what the reassembler delivers is checked byte by byte against the
 * reassembly of the original (the truth), as are the counters `periscope info --json` reports.
 *
 * Nine seeds per capture and kind are checked in-process (seed 0 picks packets that make the
 * effect certain); the first is also run through `periscope info --json`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infoJson, repoRoot, sample } from '../cli/run.js';
import { TcpFlag } from '../../src/net/decode.js';
import { mutate, readCapture, reassemble, truthOf, verify, verifyInfo, writePcap, type Capture, type MutationKind, type MutationOptions, type Pkt, type TruthConn } from '../live/mutate.js';

const fixtureDir = join(repoRoot, 'test/fixtures/captures');
const files = [sample, ...(await readdir(fixtureDir)).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(fixtureDir, f))];
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8];

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-mutations-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Original {
  capture: Capture;
  truth: Map<string, TruthConn>;
}

const originals = new Map<string, Promise<Original>>();
function original(file: string): Promise<Original> {
  let o = originals.get(file);
  if (o === undefined) {
    o = (async () => {
      const capture = await readCapture(file);
      const truth = truthOf(capture, await reassemble(file));
      return { capture, truth };
    })();
    originals.set(file, o);
  }
  return o;
}

/**
 * Mutation options of each kind, for a seed (the cut point varies with the seed). Seed 0 picks
 * what makes the effect certain: a pure ACK and a payload packet duplicated; every pair of
 * consecutive payload segments of one direction swapped; a server response and the client's last
 * payload (COM_QUIT, just before its FIN) dropped.
 */
function optionsFor(kind: MutationKind, seed: number, capture: Capture): MutationOptions {
  const ps = capture.packets;
  const cut = [5, 1, 2, 3, 4, 6, 10, 17, 30][seed % 9]! % Math.max(1, ps.length - 5);
  const payload = (p: Pkt | undefined): boolean => p?.tcp != null && p.tcp.payload > 0;
  switch (kind) {
    case 'duplicate':
      if (seed === 0) return { seed, duplicateIndices: [ps.findIndex((p) => p.tcp !== null && p.tcp.flags === TcpFlag.Ack && p.tcp.payload === 0), ps.findIndex(payload)] };
      return { seed, duplicate: seed % 2 ? 0.01 : 0.1 };
    case 'swap': {
      const at: number[] = [];
      for (let i = 0; seed === 0 && i + 1 < ps.length; i++) {
        const a = ps[i]!;
        const b = ps[i + 1]!;
        if (payload(a) && payload(b) && a.tcp!.src === b.tcp!.src && a.tcp!.dst === b.tcp!.dst) at.push(i++);
      }
      return at.length > 0 ? { seed, swapAt: at } : { seed, swap: seed % 2 ? 0.05 : 0.2 };
    }
    case 'drop': {
      if (seed === 0) {
        const server = ps.filter((p) => payload(p) && p.tcp!.src.endsWith(':3306'));
        const client = ps.filter((p) => payload(p) && p.tcp!.dst.endsWith(':3306'));
        return { seed, dropIndices: [server[1]!.index, client[client.length - 1]!.index] };
      }
      return { seed, drop: seed % 2 ? 0.01 : 0.08 };
    }
    case 'cut':
      return { seed, cut };
    case 'all':
      return { seed, cut, drop: 0.05, duplicate: 0.05, swap: 0.1 };
  }
}

const names: Record<MutationKind, string> = {
  duplicate: 'duplicates: same streams; retransmitted = duplicated payload packets; no new gap',
  swap: 'swapped neighbours: same streams; no new gap; out-of-order = reversed payload pairs',
  drop: 'dropped payload packets: every delivered byte at its offset; bytes lost = dropped payload, exactly',
  cut: 'first packets cut: connections whose SYN was cut are mid-stream; each direction a suffix of the truth',
  all: 'all mutations at once: every delivered byte at its offset; bytes lost and mid-stream connections exact',
};

for (const file of files) {
  const short = file.slice(repoRoot.length);
  for (const kind of ['duplicate', 'swap', 'drop', 'cut', 'all'] as const) {
    test(`${short}: ${names[kind]}`, async () => {
      const { capture, truth } = await original(file);
      assert.ok(truth.size > 0, 'the capture holds TCP connections');
      // Over the seeds, each mutation must have done what makes its check meaningful.
      const done = { payloadCopies: 0, ackCopies: 0, reversed: 0 };
      for (const seed of SEEDS) {
        const m = mutate(capture, optionsFor(kind, seed, capture));
        const out = join(dir, `${short.replace(/\W+/g, '_')}-${kind}-${seed}.pcap`);
        await writePcap(out, m.linkType, m.output);
        const got = await reassemble(out);
        const v = verify(kind, m, truth, got);
        assert.deepEqual(v.problems, [], m.summary);
        // What the mutation must have done, so the checks above are not vacuous.
        const exps = [...v.expectations.values()];
        const dirs = exps.flatMap((e) => (e.present ? e.dirs : []));
        if (kind === 'duplicate') {
          assert.ok(m.duplicated.length > 0, m.summary);
          done.payloadCopies += m.duplicated.filter((p) => p.tcp!.payload > 0).length;
          done.ackCopies += m.duplicated.filter((p) => p.tcp!.payload === 0).length;
          assert.equal(got.totals.retransmitted - [...truth.values()].reduce((s, t) => s + t.rec.info.stats[0].retransmitted + t.rec.info.stats[1].retransmitted, 0), m.duplicated.filter((p) => p.tcp!.payload > 0).length, `${m.summary}: one retransmission per duplicated payload packet`);
        }
        if (kind === 'swap') {
          assert.ok(m.swapped.length > 0, m.summary);
          done.reversed += dirs.reduce((s, d) => s + d.reversed, 0);
        }
        if (kind === 'drop') {
          assert.ok(m.dropped.length >= (seed === 0 ? 2 : 1), m.summary);
          assert.equal(
            dirs.reduce((s, d) => s + d.droppedBytes, 0),
            m.droppedPayloadBytes,
            'every dropped byte lies inside a connection seen from its start',
          );
          assert.equal(got.totals.bytesLost - [...truth.values()].reduce((s, t) => s + t.rec.info.stats[0].bytesLost + t.rec.info.stats[1].bytesLost, 0), m.droppedPayloadBytes, m.summary);
        }
        if (kind === 'cut') assert.ok(exps.some((e) => e.present && e.midStream), `${m.summary}: some connection starts mid-stream`);
        if (seed === SEEDS[0]) {
          const { code, report } = await infoJson(out);
          assert.equal(code, 0);
          assert.deepEqual(verifyInfo(report, got, v), [], m.summary);
        }
      }
      if (kind === 'duplicate') assert.ok(done.payloadCopies > 0 && done.ackCopies > 0, 'payload packets and pure ACKs were duplicated');
      // (Only where the capture has two payload segments of one direction next to each other: a
      // strict request/response capture such as mariadb-compressed.pcap has none.)
      if (kind === 'swap' && hasSameDirectionPayloadPair(capture.packets)) assert.ok(done.reversed > 0, 'some swap reversed two payload segments of one direction');
    });
  }
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Regressions: bugs these tests found in src/tcp.
// ──────────────────────────────────────────────────────────────────────────────────────────────

test(
  'a segment that waits in the reassembly buffer while the reader moves on by two 4 MiB chunks keeps its bytes',
  async () => {
    const { capture, truth } = await original(sample);
    // The client's 73-byte query (#16) now arrives before the server response it acknowledges
    // (#15): it waits in the buffer. 9 MB of non-IP frames follow before #15 comes.
    const m = mutate(capture, { seed: 0, swapAt: [15] });
    const frame = new Uint8Array(60_000);
    frame[12] = 0x08;
    frame[13] = 0x06; // ARP: skipped by the decoder
    frame.fill(0xee, 14);
    const filler: Pkt = { index: -1, copy: false, sec: 0, nsec: 0, frame, origLen: frame.length, tcp: null };
    const output = m.output.flatMap((o, i) => (i === 15 ? [o, ...Array.from({ length: 150 }, () => ({ pkt: filler, sec: o.sec, nsec: o.nsec }))] : [o]));
    const out = join(dir, 'wait-across-chunks.pcap');
    await writePcap(out, m.linkType, output);
    const v = verify('swap', { ...m, output }, truth, await reassemble(out));
    assert.deepEqual(v.problems, []);
  },
);

test(
  'a retransmission that arrives after its direction’s FIN is counted as retransmitted',
  async () => {
    const { capture, truth } = await original(sample);
    const ps = capture.packets;
    // Connection 1 ends: #40 the server's last response (11 B), #41 COM_QUIT, #42 the server's FIN,
    // … #48 the client's FIN. A copy of #40 arrives after the server's FIN, before the client's.
    assert.equal(ps[40]!.tcp!.payload, 11);
    assert.ok((ps[42]!.tcp!.flags & TcpFlag.Fin) !== 0 && ps[42]!.tcp!.src.endsWith(':3306'));
    const order = ps.flatMap((p) => (p.index === 42 ? [p, { ...ps[40]!, copy: true }] : [p]));
    const output = order.map((pkt) => ({ pkt, sec: pkt.sec, nsec: pkt.nsec }));
    const out = join(dir, 'retransmission-after-fin.pcap');
    await writePcap(out, capture.linkType, output);
    const m = { ...mutate(capture, { seed: 0 }), output, duplicated: [ps[40]!] };
    const v = verify('duplicate', m, truth, await reassemble(out));
    assert.deepEqual(v.problems, []);
  },
);

/** Does the capture hold two consecutive payload packets in the same direction? */
function hasSameDirectionPayloadPair(packets: readonly Pkt[]): boolean {
  return packets.some((p, i) => {
    const q = packets[i + 1];
    return p.tcp !== null && q?.tcp != null && p.tcp.payload > 0 && q.tcp.payload > 0 && p.tcp.src === q.tcp.src && p.tcp.dst === q.tcp.dst;
  });
}

/**
 * TCP reassembly of real, then damaged, captures: real tcpdump records real MariaDB traffic on
 * loopback (several concurrent connections, multi-KB inserts and result sets that span many
 * segments); `mutate.ts` drops 1% of the payload packets, duplicates 1% of the packets, swaps
 * neighbours and cuts the first packets so every connection starts mid-stream. What the
 * reassembler delivers for the damaged capture is checked byte by byte against what it delivers
 * for the original (the truth, itself checked against what the workload sent and received), and
 * `periscope info --json` must report the retransmissions, reordering and gaps the mutation made.
 */
import { prng } from '../builders/prng.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings, type MysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { mutate, readCapture, reassemble, truthOf, verify, verifyInfo, writePcap, type Capture, type MutationKind, type MutationOptions, type Pkt, type TruthConn } from './mutate.js';
import { infoJson } from '../cli/run.js';
import { TcpFlag } from '../../src/net/decode.js';
import { endAndWait } from './workload.js';

const opts = await liveTestOptions();
let dir = '';
let file = '';
let run: BigWorkload;
let capture: Capture;
let truth: Map<string, TruthConn>;

interface BigWorkload {
  /** Connections opened (the admin one included). */
  connections: number;
  /** Every row body inserted; each worker selected them all. */
  bodies: string[];
}

/** Text of `n` bytes from a seeded PRNG: distinct per row, so a misplaced byte cannot match. */
function text(seed: number, n: number): string {
  const rnd = prng(seed);
  const words = ['select', 'tcp', 'segment', 'gap', 'window', 'maria', 'periscope', 'offset', 'ack', 'stream', 'capture', 'byte'];
  let s = `row-${seed}:`;
  while (s.length < n) s += ` ${words[Math.floor(rnd() * words.length)]}${Math.floor(rnd() * 1000)}`;
  return s.slice(0, n);
}

/**
 * Several connections at once: each inserts rows of a few KB (client segments of several KB),
 * then selects its own rows and everyone's (result sets of hundreds of KB, many segments), with
 * small queries in between. The admin connection creates the table and stays open to the end,
 * so cutting past the last SYN leaves every connection mid-stream.
 */
async function bigWorkload(s: MysqlSettings, workers: number, rows: number): Promise<BigWorkload> {
  const cfg = { host: s.host, port: s.port, user: s.user, password: s.password, database: s.database };
  const admin = await createConnection(cfg);
  await admin.query('DROP TABLE IF EXISTS reassembly_docs');
  await admin.query('CREATE TABLE reassembly_docs (id INT PRIMARY KEY, worker INT NOT NULL, body MEDIUMTEXT NOT NULL)');
  const conns: Connection[] = await Promise.all(Array.from({ length: workers }, () => createConnection(cfg)));
  const bodies: string[] = [];
  await Promise.all(
    conns.map(async (c, w) => {
      for (let r = 0; r < rows; r++) {
        const id = w * 1000 + r;
        const body = text(id + 1, 2000 + ((id * 2654435761) % 6000));
        bodies.push(body);
        await c.execute('INSERT INTO reassembly_docs (id, worker, body) VALUES (?, ?, ?)', [id, w, body]);
        await c.query('SELECT ? AS n', [id]);
      }
      await c.query('SELECT id, body FROM reassembly_docs WHERE worker = ? ORDER BY id', [w]);
    }),
  );
  await Promise.all(conns.map((c) => c.query('SELECT id, worker, body FROM reassembly_docs ORDER BY id')));
  await Promise.all(conns.map((c) => c.end()));
  await admin.query('SELECT COUNT(*) FROM reassembly_docs');
  await endAndWait(admin);
  return { connections: workers + 1, bodies };
}

before(async () => {
  if (opts.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'periscope-reassembly-'));
  file = join(dir, 'big.pcap');
  // A 64 MiB capture buffer: loopback frames are up to 64 KiB, the default 2 MiB holds few. And
  // the work ends only once tcpdump wrote both FINs of every connection: stopped earlier, it may
  // drop what it has not written yet.
  run = await captureWhile({ file, extra: ['-B', '65536'] }, async () => {
    const r = await bigWorkload(mysqlSettings(), 4, 12);
    await waitForFins(file, 2 * r.connections);
    return r;
  });
  capture = await readCapture(file);
  truth = truthOf(capture, await reassemble(file));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Poll the capture file (tcpdump -U writes packet by packet) until it holds `n` FIN segments. */
async function waitForFins(path: string, n: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await readCapture(path);
    const fins = c.packets.filter((p) => p.tcp !== null && (p.tcp.flags & TcpFlag.Fin) !== 0).length;
    if (fins >= n) return;
    if (Date.now() > until) throw new Error(`tcpdump wrote ${fins} FIN segments of ${n} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Walk MySQL packet headers (3-byte length, sequence id): they must tile the stream exactly. */
function mysqlFramesTile(b: Uint8Array): boolean {
  let p = 0;
  while (p + 4 <= b.length) p += 4 + (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16));
  return p === b.length;
}

test('the truth: every connection from SYN to FIN, every payload byte once, MySQL framing intact, every row body in the streams', opts, async () => {
  assert.equal(truth.size, run.connections);
  const captured = capture.packets.reduce((s, p) => s + (p.tcp?.payload ?? 0), 0);
  let delivered = 0;
  for (const t of truth.values()) {
    assert.equal(t.rec.closedBy, 'fin', t.rec.key);
    for (const d of t.dirs) {
      assert.deepEqual(d.holes, [], `${t.rec.key}: nothing lost on loopback`);
      assert.ok(mysqlFramesTile(d.bytes), `${t.rec.key}: MySQL packets tile the stream`);
      delivered += d.bytes.length;
    }
  }
  assert.equal(delivered, captured, 'every captured payload byte delivered exactly once');
  // Independent of the reassembler: what the workload sent and received is in the streams.
  const workers = [...truth.values()].filter((t) => t.dirs[1].bytes.length > 100_000);
  assert.equal(workers.length, run.connections - 1, 'each worker received a result set of every row');
  for (const t of workers) {
    const down = Buffer.from(t.dirs[1].bytes);
    for (const body of run.bodies) assert.ok(down.includes(body), `${t.rec.key}: a row body of ${body.length} bytes is in the server's stream`);
  }
  const up = Buffer.concat([...truth.values()].map((t) => Buffer.from(t.dirs[0].bytes)));
  for (const body of run.bodies) assert.ok(up.includes(body), 'each inserted body is in a client stream');
  // Result sets span several segments: three server segments of one connection in a row.
  const ps = capture.packets;
  assert.ok(
    ps.some((p, i) => p.tcp !== null && [0, 1, 2].every((k) => ps[i + k]?.tcp?.conn === p.tcp!.conn && ps[i + k]!.tcp!.payload > 1000 && ps[i + k]!.tcp!.src.endsWith(':3306'))),
    'a result set spans several segments',
  );
});

/** Cut every packet up to the last SYN (and a few more): no connection is seen from its start. */
function cutPastLastSyn(): number {
  let last = -1;
  capture.packets.forEach((p, i) => {
    if (p.tcp !== null && (p.tcp.flags & TcpFlag.Syn) !== 0) last = i;
  });
  return last + 1 + 3;
}

/**
 * Seeds 1-3: random picks. Seed 0: picks that make each mutation's effect certain — a pure ACK
 * and a result-set segment duplicated; two consecutive result-set segments swapped; a segment in
 * the middle of a result set and a multi-KB insert dropped.
 */
function optionsFor(kind: MutationKind, seed: number): MutationOptions {
  const ps = capture.packets;
  const serverSegment = (p: Pkt | undefined): boolean => p?.tcp != null && p.tcp.payload > 1000 && p.tcp.src.endsWith(':3306');
  // A result set in flight: two consecutive server segments of one connection.
  const run = ps.findIndex((p, i) => serverSegment(p) && serverSegment(ps[i + 1]) && p.tcp!.conn === ps[i + 1]!.tcp!.conn && serverSegment(ps[i + 2]));
  const pureAck = ps.findIndex((p) => p.tcp !== null && p.tcp.payload === 0 && p.tcp.flags === TcpFlag.Ack);
  const insert = ps.findIndex((p) => p.tcp !== null && p.tcp.payload > 2000 && p.tcp.dst.endsWith(':3306'));
  switch (kind) {
    case 'duplicate':
      return seed === 0 ? { seed, duplicateIndices: [pureAck, run] } : { seed, duplicate: 0.01 };
    case 'swap':
      return seed === 0 ? { seed, swapAt: [run] } : { seed, swap: 0.02 };
    case 'drop':
      return seed === 0 ? { seed, dropIndices: [run + 1, insert] } : { seed, drop: 0.01 };
    case 'cut':
      return { seed, cut: cutPastLastSyn() };
    case 'all':
      return { seed, cut: cutPastLastSyn(), drop: 0.01, duplicate: 0.01, swap: 0.02 };
  }
}

const names: Record<MutationKind, string> = {
  duplicate: '1% duplicated: every byte delivered, as in the original; info reports one retransmission per duplicated payload packet, no gap',
  swap: 'neighbours swapped: every byte delivered; info reports the reversed payload pairs as out-of-order, no gap',
  drop: '1% of payload packets dropped: no wrong byte delivered; info reports exactly the dropped payload as lost',
  cut: 'first packets cut past the last SYN: every connection mid-stream, each direction a suffix of the original',
  all: 'all at once: no wrong byte; bytes lost, retransmissions and mid-stream connections as the mutation implies',
};

for (const kind of ['duplicate', 'swap', 'drop', 'cut', 'all'] as const) {
  test(names[kind], opts, async () => {
    // The exact numbers below assume a whole original (the first test says why not, if not).
    for (const t of truth.values()) for (const d of t.dirs) assert.deepEqual(d.holes, [], `${t.rec.key}: tcpdump lost packets of the original capture`);
    for (const seed of [0, 1, 2, 3]) {
      const m = mutate(capture, optionsFor(kind, seed));
      const out = join(dir, `${kind}-${seed}.pcap`);
      await writePcap(out, m.linkType, m.output);
      const got = await reassemble(out);
      const v = verify(kind, m, truth, got);
      assert.deepEqual(v.problems, [], m.summary);
      const exps = [...v.expectations.values()];
      const dirs = exps.flatMap((e) => e.dirs);
      const t = got.totals;
      switch (kind) {
        case 'duplicate': {
          const payloadCopies = m.duplicated.filter((p) => p.tcp!.payload > 0).length;
          if (seed === 0) assert.equal(payloadCopies, 1, `${m.summary}: a payload packet and a pure ACK duplicated`);
          assert.equal(t.retransmitted, payloadCopies, 'one retransmission per duplicated payload packet; pure ACKs are none');
          assert.equal(t.gaps, 0);
          assert.equal(t.payloadBytes, truthBytes(), 'every byte delivered once');
          break;
        }
        case 'swap': {
          const reversed = dirs.reduce((s, d) => s + d.reversed, 0);
          if (seed === 0) assert.equal(reversed, 1, `${m.summary}: two result-set segments reversed`);
          assert.equal(t.outOfOrder, reversed, m.summary);
          assert.equal(t.gaps, 0);
          assert.equal(t.payloadBytes, truthBytes(), 'every byte delivered once');
          break;
        }
        case 'drop':
          assert.ok(m.dropped.length >= (seed === 0 ? 2 : 1), m.summary);
          assert.equal(t.bytesLost, m.droppedPayloadBytes, `${m.summary}: bytes lost = dropped payload`);
          assert.equal(t.payloadBytes + t.bytesLost, truthBytes(), 'every byte delivered or reported lost');
          break;
        case 'cut':
          assert.equal(t.midStream, run.connections, 'every connection starts mid-stream');
          assert.equal(t.complete, 0);
          break;
        case 'all':
          assert.equal(t.midStream, run.connections);
          assert.ok(t.bytesLost > 0 && t.retransmitted > 0, m.summary);
          break;
      }
      if (seed <= 1) {
        const { code, report } = await infoJson(out);
        assert.equal(code, 0);
        assert.deepEqual(verifyInfo(report, got, v), [], m.summary);
      }
    }
  });
}

function truthBytes(): number {
  let n = 0;
  for (const t of truth.values()) n += t.dirs[0].bytes.length + t.dirs[1].bytes.length;
  return n;
}

/**
 * The parallel analysis' single reader (analyze/run/parallel.ts, route.ts, ring.ts, shard.ts):
 * whatever the split of the connections and however small the shared memory (so that every
 * limit is reached: rings full, slots reused and added, records copied), the report is the one
 * thread's, byte for byte, and the files' counters are the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeCaptures, type Analysis } from '../../analyze/run/run.js';
import { analyzeInParallel, ownShare } from '../../analyze/run/parallel.js';
import { BUCKETS, bucketOf, shardTable } from '../../analyze/run/shard.js';
import { buildFilter, describeFilters, type FilterOptions } from '../../analyze/run/filters.js';
import { buildReport } from '../../analyze/report/report.js';
import { keyLogsFor } from '../../analyze/read/keylog.js';
import type { RouterSizes } from '../../analyze/run/route.js';
import { synthesizeMysqlCapture } from '../../bench/synth-mysql.js';
import { repoRoot } from '../cli/run.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-parallel-'));
test.after(() => rm(dir, { recursive: true, force: true }));

// Three captures of the same span of time (read interleaved: three files open at once), one gzip.
const plain = join(dir, 'app-a.pcap');
const plain2 = join(dir, 'app-b.pcap');
const other = join(dir, 'app-c.pcap');
synthesizeMysqlCapture(plain, 3e6, 7);
synthesizeMysqlCapture(plain2, 1e6, 8);
synthesizeMysqlCapture(other, 2e6, 9);
const gz = join(dir, 'app-c.pcap.gz');
await writeFile(gz, gzipSync(await readFile(other)));
await rm(other);
// TLS: one capture decrypted with a key log given, a pcapng one with the secrets inside (a
// Decryption Secrets Block, which the reader passes to the workers in order with the packets).
const samples = ['mariadb-basic.pcap', 'mariadb-tls12.pcap', 'mariadb-tls13-dsb.pcapng'].map((f) => join(repoRoot, 'samples', f));
const keylog = [join(repoRoot, 'samples', 'mariadb-tls12.keys')];
const files = [plain, plain2, gz, ...samples];

/** Every limit bites: 256 entries a ring, 64 KiB chunks, 3 slots to begin with. */
const tiny: RouterSizes = { ringEntries: 256, slotBytes: 64 * 1024, slots: 3 };

function reportOf(a: Analysis, filters: FilterOptions): string {
  const inputs = a.inputs;
  return JSON.stringify(buildReport(a.aggregate.toState(), { version: 'test', files: inputs, filters: describeFilters(filters), order: 'time', redacted: true, interrupted: a.stopped }));
}

async function oneThread(filters: FilterOptions = {}): Promise<{ report: string; a: Analysis }> {
  const keys = await keyLogsFor(files, keylog);
  const a = await analyzeCaptures({ files, ports: [], filter: buildFilter(filters), raw: false, keys });
  return { report: reportOf(a, filters), a };
}

async function threads(workers: number, own: number | undefined, filters: FilterOptions = {}, sizes: RouterSizes = tiny): Promise<{ report: string; a: Analysis }> {
  const a = await analyzeInParallel({ files, workers, ports: [], filters, raw: false, keylog, sizes, own });
  return { report: reportOf(a, filters), a };
}

test('threads: the report is the one thread\'s, whatever the split, with every limit of the shared memory reached', { timeout: 120_000 }, async () => {
  const one = await oneThread();
  const st = one.a.aggregate.health;
  assert.equal(st.tlsDecrypted, 2, 'TLS decrypted, with a key log and with a Decryption Secrets Block');
  assert.ok(one.a.aggregate.toState().overall.events > 1000);
  for (const [workers, own] of [
    [2, 0],
    [2, ownShare(2)],
    [2, BUCKETS],
    [3, 0],
    [4, ownShare(4)],
  ] as const) {
    const many = await threads(workers, own);
    assert.equal(many.report, one.report, `--threads ${workers}, ${own} of ${BUCKETS} buckets on the reader`);
    assert.deepEqual(many.a.files, one.a.files, 'the files read, counted once');
    assert.equal(many.a.packets, one.a.packets);
    const r = many.a.routing!;
    if (own < BUCKETS) {
      assert.ok(r.routed > 0 && r.waitsForRing > 0 && r.waitsForSlot > 0, `rings and slots full at times: ${JSON.stringify(r)}`);
      assert.ok(r.copiedPackets > 0 && r.slots > tiny.slots, `records copied (gzip, across chunks), slots added: ${JSON.stringify(r)}`);
    } else assert.equal(r.routed, 0);
  }
});

test('threads: --since/--until and the other filters apply in every shard as in one thread', { timeout: 60_000 }, async () => {
  const whole = await oneThread();
  const st = whole.a.aggregate.toState().overall;
  // A window inside the synthetic captures' time.
  const { firstTs: first, lastTs: last } = whole.a.files[0]!;
  const from = first!.sec + first!.nsec / 1e9;
  const span = last!.sec + last!.nsec / 1e9 - from;
  const at = (f: number) => new Date((from + span * f) * 1000).toISOString();
  const filters: FilterOptions = { since: at(0.3), until: at(0.6) };
  const one = await oneThread(filters);
  const events = (JSON.parse(one.report) as { overall: { commands: number } }).overall.commands;
  assert.ok(events > 0 && events < st.events, `the window keeps part of the commands: ${events} of ${st.events}`);
  assert.equal((await threads(2, ownShare(2), filters)).report, one.report);
  assert.equal((await threads(3, 0, filters, { ringEntries: 1 << 15, slotBytes: 4 << 20, slots: 8 })).report, one.report);
});

test('threads: the split of the connections', () => {
  // The main thread takes less than a worker (it also reads), nothing from enough threads on.
  assert.ok(ownShare(2) < BUCKETS / 2 && ownShare(2) > BUCKETS / 4, String(ownShare(2)));
  assert.ok(ownShare(4) < ownShare(2));
  assert.equal(ownShare(16), 0);
  for (const [n, own] of [
    [2, 400],
    [3, 0],
    [4, 100],
  ] as const) {
    const t = shardTable(n, own);
    const per = new Array<number>(n).fill(0);
    for (const s of t) per[s]!++;
    assert.equal(per[0], own);
    const rest = per.slice(1);
    assert.ok(Math.max(...rest) - Math.min(...rest) <= 1, `the workers share the rest evenly: ${per.join(' ')}`);
  }
  // Buckets come from the hash's top bits: both halves of the range are used.
  assert.equal(bucketOf(0), 0);
  assert.ok(bucketOf(0xffffffff) < BUCKETS);
  const seen = new Set<number>();
  for (let h = 1; h < 100_000; h += 7) seen.add(bucketOf(Math.imul(h, 2654435761) >>> 0));
  assert.equal(seen.size, BUCKETS);
});

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCaptures, type FileReport } from '../../analyze/read/captures.js';
import { PcapWriter, PcapngWriter, ByteWriter, packet } from '../builders/capture-builder.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-read-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const frame = (i: number): Uint8Array => packet().ethernet().ipv4().tcp({ seq: i }).payload(`packet ${i}`).build();

/** A classic pcap with one packet per (sec, usec) pair. */
function pcap(times: readonly [number, number][], opts: ConstructorParameters<typeof PcapWriter>[0] = {}): PcapWriter {
  const w = new PcapWriter(opts);
  times.forEach(([sec, usec], i) => w.packet({ sec, frac: usec, data: frame(sec * 1000 + i) }));
  return w;
}

/** A pcapng with nanosecond timestamps, one packet per (sec, nsec) pair. */
function pcapng(times: readonly [number, number][]): PcapngWriter {
  const w = new PcapngWriter().shb({ le: false }).idb({ linkType: 113, tsresol: 9, name: 'any' });
  times.forEach(([sec, nsec], i) => w.epb({ iface: 0, ts: BigInt(sec) * 1_000_000_000n + BigInt(nsec), data: frame(sec * 1000 + i) }));
  return w;
}

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, '..'), { recursive: true });
  await writeFile(p, bytes);
  return p;
}

interface Seen {
  file: string;
  sec: number;
  nsec: number;
  bytes: Uint8Array;
}

async function read(paths: string[]): Promise<{ seen: Seen[]; files: FileReport[]; packets: number }> {
  const seen: Seen[] = [];
  const res = await readCaptures(paths, (rec, file) => {
    seen.push({ file: basename(file.path), sec: rec.tsSec, nsec: rec.tsNsec, bytes: Uint8Array.from(rec.data.subarray(rec.offset, rec.offset + rec.caplen)) });
  });
  return { seen, ...res };
}

const byName = (files: FileReport[], name: string): FileReport => {
  const f = files.find((x) => basename(x.path) === name);
  assert.ok(f, `no report for ${name}`);
  return f;
};

describe('readCaptures', () => {
  test('overlapping files are merged in timestamp order', async () => {
    const a = await put('overlap/a.pcap', pcap([[100, 1], [102, 0], [104, 500_000], [106, 0]]).build());
    const b = await put('overlap/b.pcapng', pcapng([[101, 5], [102, 1], [103, 0], [104, 499_999_999], [107, 0]]).build());
    const { seen, files, packets } = await read([b, a]);
    assert.equal(packets, 9);
    assert.deepEqual(
      seen.map((s) => [s.file, s.sec, s.nsec]),
      [
        ['a.pcap', 100, 1000],
        ['b.pcapng', 101, 5],
        ['a.pcap', 102, 0],
        ['b.pcapng', 102, 1],
        ['b.pcapng', 103, 0],
        ['b.pcapng', 104, 499_999_999],
        ['a.pcap', 104, 500_000_000],
        ['a.pcap', 106, 0],
        ['b.pcapng', 107, 0],
      ],
    );
    // The bytes handed to the sink are the packets' bytes.
    assert.deepEqual(seen[0]!.bytes, frame(100 * 1000 + 0));
    assert.deepEqual(seen[1]!.bytes, frame(101 * 1000 + 0));
    assert.deepEqual(seen[8]!.bytes, frame(107 * 1000 + 4));

    assert.deepEqual(
      files.map((f) => basename(f.path)),
      ['b.pcapng', 'a.pcap'],
    );
    const ra = byName(files, 'a.pcap');
    assert.equal(ra.format, 'pcap');
    assert.equal(ra.gzip, false);
    assert.equal(ra.littleEndian, true);
    assert.equal(ra.version, '2.4');
    assert.equal(ra.snapLen, 262144);
    assert.equal(ra.packets, 4);
    assert.equal(ra.capturedBytes, [100_000, 102_001, 104_002, 106_003].reduce((n, i) => n + frame(i).length, 0));
    assert.equal(ra.wireBytes, ra.capturedBytes);
    assert.deepEqual(ra.firstTs, { sec: 100, nsec: 1000 });
    assert.deepEqual(ra.lastTs, { sec: 106, nsec: 0 });
    assert.deepEqual(ra.packetsPerInterface, [4]);
    assert.equal(ra.failure, null);
    assert.equal(ra.truncatedTail, null);
    const rb = byName(files, 'b.pcapng');
    assert.equal(rb.format, 'pcapng');
    assert.equal(rb.littleEndian, false);
    assert.equal(rb.version, '1.0');
    assert.equal(rb.packets, 5);
    assert.equal(rb.interfaces[0]!.name, 'any');
    assert.equal(rb.sections.length, 1);
    assert.deepEqual(rb.firstTs, { sec: 101, nsec: 5 });
    assert.deepEqual(rb.lastTs, { sec: 107, nsec: 0 });
  });

  test('rotated files are read one after the other, whatever the order given', async () => {
    const names = ['rot/cap.pcap2', 'rot/cap.pcap0', 'rot/cap.pcap1'];
    const starts = [300, 100, 200];
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      paths.push(
        await put(
          names[i]!,
          pcap([
            [starts[i]!, 0],
            [starts[i]! + 1, 0],
            [starts[i]! + 2, 0],
          ]).build(),
        ),
      );
    }
    const { seen, files } = await read(paths);
    assert.deepEqual(
      seen.map((s) => [s.file, s.sec]),
      [
        ['cap.pcap0', 100],
        ['cap.pcap0', 101],
        ['cap.pcap0', 102],
        ['cap.pcap1', 200],
        ['cap.pcap1', 201],
        ['cap.pcap1', 202],
        ['cap.pcap2', 300],
        ['cap.pcap2', 301],
        ['cap.pcap2', 302],
      ],
    );
    assert.deepEqual(
      files.map((f) => [basename(f.path), f.packets]),
      [
        ['cap.pcap2', 3],
        ['cap.pcap0', 3],
        ['cap.pcap1', 3],
      ],
    );
  });

  test('a directory: captures read (gzip too), other files ignored, hidden files skipped', async () => {
    await put('dir/1.pcap', pcap([[10, 0], [12, 0]]).build());
    await put('dir/2.pcapng.gz', gzipSync(pcapng([[11, 0], [13, 0]]).build()));
    await put('dir/README.txt', new TextEncoder().encode('captures of the night of the 3rd\n'));
    await put('dir/notes.zip', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0));
    await put('dir/.hidden.pcap', pcap([[1, 0]]).build());
    await mkdir(join(dir, 'dir/sub'), { recursive: true });
    const { seen, files } = await read([join(dir, 'dir')]);
    assert.deepEqual(
      seen.map((s) => [s.file, s.sec]),
      [
        ['1.pcap', 10],
        ['2.pcapng.gz', 11],
        ['1.pcap', 12],
        ['2.pcapng.gz', 13],
      ],
    );
    assert.deepEqual(
      files.map((f) => [basename(f.path), f.ignored, f.failure, f.packets]),
      [
        ['1.pcap', null, null, 2],
        ['2.pcapng.gz', null, null, 2],
        ['README.txt', 'not a capture file', null, 0],
        ['notes.zip', 'not a capture file', null, 0],
        ['sub', 'a subdirectory (not read: name it to read it)', null, 0],
      ],
    );
  });

  test('the same file named twice (or through its directory) is read once', async () => {
    await put('twice/a.pcap', pcap([[10, 0], [12, 0]]).build());
    const { seen, files } = await read([join(dir, 'twice/a.pcap'), join(dir, 'twice')]);
    assert.equal(seen.length, 2);
    assert.deepEqual(
      files.map((f) => f.ignored),
      [null, `the same file as ${join(dir, 'twice/a.pcap')}`],
    );
  });

  test('gzip-compressed pcap and pcapng are read transparently', async () => {
    const plainPcap = pcap([[50, 1], [51, 2], [52, 3]], { nsec: true, le: false }).build();
    const plainNg = pcapng([[60, 7], [61, 8]]).build();
    const gzPcap = await put('gz/a.pcap.gz', gzipSync(plainPcap));
    const gzNg = await put('gz/b.pcapng.gz', gzipSync(plainNg));
    // The name does not matter: the magic does.
    const oddName = await put('gz/c.bin', gzipSync(pcap([[70, 0]]).build()));
    const { seen, files } = await read([gzPcap, gzNg, oddName]);
    assert.deepEqual(
      seen.map((s) => [s.file, s.sec, s.nsec]),
      [
        ['a.pcap.gz', 50, 1],
        ['a.pcap.gz', 51, 2],
        ['a.pcap.gz', 52, 3],
        ['b.pcapng.gz', 60, 7],
        ['b.pcapng.gz', 61, 8],
        ['c.bin', 70, 0],
      ],
    );
    assert.deepEqual(
      files.map((f) => [f.gzip, f.format, f.littleEndian, f.failure, f.truncatedTail]),
      [
        [true, 'pcap-nsec', false, null, null],
        [true, 'pcapng', false, null, null],
        [true, 'pcap', true, null, null],
      ],
    );
    assert.equal(files[0]!.size, gzipSync(plainPcap).length);
  });

  test('a truncated gzip is a truncated tail, not a failure', async () => {
    const times: [number, number][] = Array.from({ length: 3000 }, (_, i) => [1000 + i, i]);
    const gz = gzipSync(pcap(times).build());
    const p = await put('gz/cut.pcap.gz', gz.subarray(0, Math.floor(gz.length * 0.7)));
    const { seen, files } = await read([p]);
    const r = files[0]!;
    assert.equal(r.failure, null);
    assert.ok(r.truncatedTail);
    assert.match(r.truncatedTail.message, /gzip stream ends early/);
    assert.ok(seen.length > 1000 && seen.length < 3000, `${seen.length} packets`);
    assert.equal(r.packets, seen.length);
    // Every packet before the cut is delivered, in order, and the tail is at a record boundary.
    assert.deepEqual(
      seen.map((s) => s.sec),
      times.slice(0, seen.length).map(([s]) => s),
    );
    const recordLen = 16 + frame(1_000_000).length;
    assert.equal(r.truncatedTail.offset, 24 + seen.length * recordLen);
  });

  test('a gzip cut inside its own header is a failure that says so', async () => {
    const gz = gzipSync(pcap([[1, 0]]).build());
    const p = await put('gz/stub.pcap.gz', gz.subarray(0, 12));
    const { files } = await read([p]);
    assert.equal(files[0]!.gzip, true);
    assert.equal(files[0]!.failure?.offset, 0);
    assert.match(files[0]!.failure!.message, /gzip stream ends early/);
  });

  test('an explicit non-capture file is a failure; the other files are still read', async () => {
    const good = await put('mixed/good.pcap', pcap([[5, 0], [6, 0]]).build());
    const text = await put('mixed/notes.txt', new TextEncoder().encode('not a capture'));
    const gzText = await put('mixed/notes.txt.gz', gzipSync(new TextEncoder().encode('not a capture either')));
    const missing = join(dir, 'mixed/missing.pcap');
    const { seen, files } = await read([text, good, gzText, missing]);
    assert.deepEqual(
      seen.map((s) => [s.file, s.sec]),
      [
        ['good.pcap', 5],
        ['good.pcap', 6],
      ],
    );
    const t = byName(files, 'notes.txt');
    assert.equal(t.ignored, null);
    assert.deepEqual(t.failure, { offset: 0, message: 'not a capture file: starts with 6e 6f 74 20, expected a pcap (a1 b2 c3 d4, a1 b2 3c 4d, either byte order), pcapng (0a 0d 0d 0a) or gzip (1f 8b) magic' });
    assert.match(byName(files, 'notes.txt.gz').failure!.message, /^not a capture file: .*\(after gunzip\)$/);
    assert.deepEqual(byName(files, 'missing.pcap').failure, { offset: -1, message: 'no such file or directory' });
    assert.equal(byName(files, 'good.pcap').packets, 2);
  });

  test('a capture cut inside a record: packets before it, tail at its offset', async () => {
    const w = pcap([[1, 0], [2, 0], [3, 0]]);
    const bytes = w.build();
    const p = await put('cut/c.pcap', bytes.subarray(0, bytes.length - 5));
    const { seen, files } = await read([p]);
    assert.equal(seen.length, 2);
    assert.equal(files[0]!.failure, null);
    assert.equal(files[0]!.truncatedTail?.offset, w.offsets[2]);
  });

  test('a capture cut inside its file header is a failure', async () => {
    const p = await put('cut/h.pcap', new PcapWriter().build().subarray(0, 10));
    const { files } = await read([p]);
    assert.equal(files[0]!.truncatedTail, null);
    assert.deepEqual(files[0]!.failure, { offset: 0, message: 'file ends after 10 bytes, inside the 24-byte pcap file header' });
  });

  test('damage before the last record: resynchronised, the last record still delivered', async () => {
    const w = pcap([[1, 0], [2, 0], [3, 0], [4, 0]]);
    const bytes = w.build();
    bytes.set(new ByteWriter(true).u32(0x7fffffff).toBytes(), w.offsets[2]! + 8);
    const p = await put('damaged/d.pcap', bytes);
    const { seen, files } = await read([p]);
    assert.deepEqual(
      seen.map((s) => s.sec),
      [1, 2, 4],
    );
    assert.deepEqual(
      files[0]!.resyncs.map((r) => [r.offset, r.skippedBytes]),
      [[w.offsets[2], w.offsets[3]! - w.offsets[2]!]],
    );
    assert.equal(files[0]!.truncatedTail, null);
  });

  test('timestamps going backwards within a file are counted, order kept as written', async () => {
    const p = await put('ooo/o.pcap', pcap([[10, 0], [12, 0], [11, 0], [13, 0], [9, 0]]).build());
    const { seen, files } = await read([p]);
    assert.deepEqual(
      seen.map((s) => s.sec),
      [10, 12, 11, 13, 9],
    );
    assert.equal(files[0]!.outOfOrderTimestamps, 2);
    assert.deepEqual(files[0]!.lastTs, { sec: 13, nsec: 0 });
  });

  test('a file with no packets is reported with its header facts', async () => {
    const p = await put('empty/e.pcapng', new PcapngWriter().shb().idb({ linkType: 1, name: 'lo' }).build());
    const q = await put('empty/f.pcap', pcap([[3, 0]]).build());
    const { seen, files } = await read([q, p]);
    assert.equal(seen.length, 1);
    const e = byName(files, 'e.pcapng');
    assert.equal(e.packets, 0);
    assert.equal(e.firstTs, null);
    assert.equal(e.interfaces[0]!.name, 'lo');
    assert.equal(e.failure, null);
  });

  test('large files cross the reader’s chunk boundary intact', async () => {
    // 5 MiB of 1400-byte packets: more than one 4 MiB chunk, so records straddle a chunk edge.
    const w = new PcapWriter();
    const n = 3800;
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(1400);
      data.fill(i & 0xff);
      data[0] = i >> 8;
      w.packet({ sec: 1000 + i, data });
    }
    const p = await put('big/b.pcap', w.build());
    let count = 0;
    let bad = 0;
    const res = await readCaptures([p], (rec) => {
      const b = rec.data.subarray(rec.offset, rec.offset + rec.caplen);
      if (rec.tsSec !== 1000 + count || b[0] !== count >> 8 || b[1] !== (count & 0xff) || b[1399] !== (count & 0xff)) bad++;
      count++;
    });
    assert.equal(res.packets, n);
    assert.equal(count, n);
    assert.equal(bad, 0);
  });
});

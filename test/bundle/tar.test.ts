/**
 * The tar reader on archives GNU tar writes (ustar with a prefix, pax and GNU long names, empty
 * files, a member of several blocks), fed in chunks of every size; cut anywhere, it never says
 * the archive ended; a damaged header is an error value.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { TarReader, type TarStep } from '../../analyze/bundle/tar.js';

interface Read {
  files: Map<string, Buffer>;
  ended: boolean;
  /** Where the end-of-archive marker ends. */
  endOffset: number;
  error: string | null;
  cut: string | null;
}

function read(archive: Uint8Array, chunk: number): Read {
  const r = new TarReader();
  const files = new Map<string, Buffer>();
  let current: { path: string; parts: Buffer[] } | null = null;
  let ended = false;
  let endOffset = -1;
  let error: string | null = null;
  for (let at = 0; at < archive.length && error === null; at += chunk) {
    r.push(archive.subarray(at, at + chunk));
    for (let step: TarStep = r.next(); step.kind !== 'need-more'; step = r.next()) {
      if (step.kind === 'entry') current = { path: step.entry.path, parts: [] };
      else if (step.kind === 'data') current!.parts.push(Buffer.from(step.bytes));
      else if (step.kind === 'entry-end') files.set(current!.path, Buffer.concat(current!.parts));
      else if (step.kind === 'error') {
        error = step.message;
        break;
      } else if (step.kind === 'end') {
        ended = true;
        endOffset = r.offset;
        break;
      }
    }
  }
  return { files, ended, endOffset, error, cut: r.finish() };
}

const dir = await mkdtemp(join(tmpdir(), 'periscope-tar-'));
after(() => rm(dir, { recursive: true, force: true }));
const longDir = `${'d'.repeat(60)}/${'e'.repeat(70)}`;
const contents = new Map<string, Buffer>([
  ['a.txt', Buffer.from('hello\n')],
  ['empty', Buffer.alloc(0)],
  ['blocks.bin', Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff))],
  ['exactly-512', Buffer.alloc(512, 0x41)],
  [`${longDir}/long-name-${'x'.repeat(120)}.json`, Buffer.from('{"long":true}')],
  [`${longDir}/prefixed.txt`, Buffer.from('141 characters: ustar splits it into prefix and name')],
  ['ünïcode näme.txt', Buffer.from('utf-8 names')],
]);
for (const [p, b] of contents) {
  await mkdir(join(dir, 'src', p, '..'), { recursive: true });
  await writeFile(join(dir, 'src', p), b);
}

for (const format of ['pax', 'gnu', 'ustar'] as const) {
  test(`GNU tar --format=${format}: every member and its bytes, in chunks of any size`, async (t) => {
    const names = [...contents.keys()].filter((n) => format !== 'ustar' || n.length <= 255);
    const out = join(dir, `${format}.tar`);
    await execa('tar', [`--format=${format}`, '-cf', out, '-C', join(dir, 'src'), ...names]);
    const archive = await readFile(out);
    for (const chunk of [1, 7, 511, 512, 513, 4096, archive.length]) {
      const r = read(archive, chunk);
      assert.equal(r.error, null, `chunk ${chunk}`);
      assert.ok(r.ended, `chunk ${chunk}: the end-of-archive marker`);
      assert.equal(r.cut, null);
      assert.deepEqual([...r.files.keys()].sort(), [...names].sort(), `chunk ${chunk}`);
      for (const n of names) assert.deepEqual(r.files.get(n), contents.get(n), `${n}, chunk ${chunk}`);
    }
    t.diagnostic(`${archive.length} bytes`);
  });
}

test('cut anywhere, the archive never reads as complete', async () => {
  const out = join(dir, 'small.tar');
  await execa('tar', ['--format=pax', '-cf', out, '-C', join(dir, 'src'), 'a.txt', 'blocks.bin', `${longDir}/long-name-${'x'.repeat(120)}.json`]);
  const archive = await readFile(out);
  const end = read(archive, archive.length).endOffset;
  assert.ok(end > 0 && end <= archive.length);
  for (let at = 0; at < end; at += 37) {
    const r = read(archive.subarray(0, at), 64);
    assert.ok(!r.ended, `cut at ${at}`);
    assert.ok(r.cut !== null || r.error !== null, `cut at ${at}: reported`);
  }
});

test('a damaged header is an error, not a throw', () => {
  const r0 = read(Buffer.alloc(1536, 0x20), 512);
  assert.match(r0.error!, /bad checksum/);
});

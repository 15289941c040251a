/**
 * Commands load only what they need: analyze, info, advise (without --schema-from) and --help never load archiver or mysql2 (the
 * bundle commands' dependencies), so the capture path on a production host stays light. Seen by a
 * module resolve hook that logs every module Node resolves.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bin, sample } from './run.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-lazy-'));
after(() => rm(dir, { recursive: true, force: true }));
await writeFile(join(dir, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.LOAD_LOG, r.url + '\\n'); return r; }\n");
await writeFile(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");

async function loaded(...args: string[]): Promise<string[]> {
  return loadedOf(/node_modules\/(archiver|mysql2)\//, ...args);
}

/** The modules of `node_modules` matching `which` that the command loads. */
async function loadedOf(which: RegExp, ...args: string[]): Promise<string[]> {
  const log = join(dir, `${args[0]}.log`);
  await writeFile(log, '');
  const r = await execa('node', ['--import', join(dir, 'register.mjs'), bin, ...args], { reject: false, env: { LOAD_LOG: log } });
  assert.ok(r.exitCode === 0, String(r.stderr));
  return (await readFile(log, 'utf8')).split('\n').filter((l) => which.test(l));
}

test('events and analyze load the Parquet writer only to write Parquet', async () => {
  const pq = /node_modules\/hyparquet(-writer)?\//;
  assert.deepEqual(await loadedOf(pq, 'events', sample), []);
  assert.deepEqual(await loadedOf(pq, 'analyze', sample), []);
  assert.ok((await loadedOf(pq, 'events', sample, '-f', 'parquet', '-o', join(dir, 'pq'))).some((l) => l.includes('/hyparquet-writer/')));
});

test('analyze, info and --help load neither archiver nor mysql2', async () => {
  assert.deepEqual(await loaded('info', sample), []);
  assert.deepEqual(await loaded('analyze', sample), []);
  assert.deepEqual(await loaded('--help'), []);
  assert.deepEqual(await loaded('advise', sample), [], 'advise without a schema server');
});

test('bundle loads archiver (and mysql2 only to collect a schema): the hook sees them', async () => {
  const plain = await loaded('bundle', sample, '-o', join(dir, 'b.tar.gz'));
  assert.ok(plain.some((l) => l.includes('/archiver/')));
  assert.ok(!plain.some((l) => l.includes('/mysql2/')));
  const schema = await loaded('bundle', sample, '-o', join(dir, 'b.tar.gz'), '--schema-from', '127.0.0.1:1', '--user', 'x');
  assert.ok(schema.some((l) => l.includes('/mysql2/')));
});

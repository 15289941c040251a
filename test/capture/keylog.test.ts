/**
 * `periscope capture --keylog FILE` with real tcpdump and the real TLS MariaDB (.ci/run, port 3307):
 * the application's key log, created after the capture started and growing while it runs, is
 * copied into the capture directory (tls-keys.log, 0600, named in the manifest); `analyze` of the
 * directory then decrypts every TLS session without --keylog; a bundle of the directory holds no
 * key material. Plus the usage errors of --keylog on the commands that read captures.
 *
 * Run under the shared lock: flock /tmp/periscope-live.lock npm test
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tlsLiveTestOptions, tlsPort } from '../live/env.js';
import { periscope, sample } from '../cli/run.js';
import { manifestOf, scratch, startCapture } from './helpers.js';

const opts = { ...(await tlsLiveTestOptions()), timeout: 120_000 };
const scr = scratch('periscope-capture-keylog-');
const client = fileURLToPath(new URL('../live/tls-client.js', import.meta.url));

test('capture --keylog: the key log is copied as it grows; analyze of the directory decrypts without --keylog; a bundle holds no key', opts, async () => {
  const dir = join(scr.path(), 'cap');
  const keys = join(scr.path(), 'app-keys.log'); // written by the application, after the capture starts
  const c = await startCapture(dir, ['-i', 'lo', '-p', String(tlsPort), '--keylog', keys]);
  for (const ssl of [{ minVersion: 'TLSv1.3' }, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }]) {
    const r = await execa('node', [`--tls-keylog=${keys}`, client, JSON.stringify({ port: tlsPort, bigReply: false, ssl: { rejectUnauthorized: false, ...ssl } })], { reject: false, env: { NODE_NO_WARNINGS: '1' } });
    assert.equal(r.exitCode, 0, String(r.stderr));
  }
  const stop = await execa('node', [fileURLToPath(new URL('../../../bin/periscope.js', import.meta.url)), 'capture', '--stop', dir], { reject: false });
  assert.equal(stop.exitCode, 0, String(stop.stderr));
  const done = await c.done;
  assert.equal(done.code, 0, done.stderr);

  const copy = join(dir, 'tls-keys.log');
  assert.equal((await stat(copy)).mode & 0o777, 0o600);
  assert.equal(await readFile(copy, 'utf8'), await readFile(keys, 'utf8'), 'the whole key log, copied');
  const m = await manifestOf(dir);
  assert.equal(m.keylog, 'tls-keys.log');
  assert.equal(m.options.keylog, keys);

  const a = await periscope('analyze', '--format', 'json', dir);
  assert.equal(a.code, 0, a.stderr);
  const rep = JSON.parse(a.stdout) as { health: { counters: Record<string, number> }; overall: { commands: number } };
  assert.equal(rep.health.counters.tlsConnections, 2);
  assert.equal(rep.health.counters.tlsDecrypted, 2);
  assert.ok(rep.overall.commands >= 2 * 15, `commands: ${rep.overall.commands}`);

  const b = join(scr.path(), 'b.tar.gz');
  const br = await periscope('bundle', dir, '-o', b, '-q');
  assert.equal(br.code, 0, br.stderr);
  // (The capture's manifest, inside the bundle's, names the key log file: a name, not a secret.)
  const members = (await periscope('inspect', b)).stdout.split('\n').filter((l) => /checksum ok/.test(l));
  assert.ok(members.length >= 4 && !members.some((l) => /tls-keys|keylog|\.log/.test(l)), members.join('\n'));
  const tar = await execa('tar', ['-xzOf', b], { encoding: 'buffer', reject: false });
  const all = Buffer.from(tar.stdout as Uint8Array).toString('latin1');
  for (const line of (await readFile(keys, 'utf8')).trim().split('\n')) assert.ok(!all.includes(line.split(' ')[2]!), 'a secret of the key log is in the bundle');
});

test('--keylog: a missing file or an empty directory is a usage error naming it; a file that is not a key log is said', async () => {
  const missing = await periscope('events', '--keylog', '/nonexistent/keys.log', sample);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /--keylog \/nonexistent\/keys\.log: no such file or directory/);
  const empty = join(scr.path(), 'empty');
  await mkdir(empty);
  const e = await periscope('analyze', '--keylog', empty, sample);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /the directory holds no file/);
  const notKeys = join(scr.path(), 'notes.txt');
  await writeFile(notKeys, 'hello\nCLIENT_RANDOM zz 00\n');
  const w = await periscope('trace', '--keylog', notKeys, sample);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /key log .*notes\.txt: no TLS secret in 2 lines/);
  assert.ok(!(await readdir(scr.path())).includes('tls-keys.log'));
  // capture refuses a key log inside its own directory (it is copied there).
  const c = await periscope('capture', '-o', join(scr.path(), 'x'), '--keylog', join(scr.path(), 'x', 'k.log'));
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, /the key log is copied into the capture directory/);
});

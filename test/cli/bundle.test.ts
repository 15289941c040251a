/**
 * `periscope bundle` and `periscope inspect` through the real CLI, on the bundled sample: the
 * members are what analyze and events print (the same code made them; the events with their
 * statements' shapes added), the manifest's checksums
 * are those of the members as GNU tar unpacks them, the file is private, a capture's manifest and
 * (asked for) the raw capture go in, an unreachable server still gives a bundle that says why, and
 * inspect catches a modified member, a truncated archive and files that are not bundles.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { periscope, periscopeWith, repoRoot, sample } from './run.js';
import { allBytes, manifestOf, members } from '../bundle/members.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-bundle-'));
after(() => rm(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A bundle's event lines without what it adds to `periscope events`' (the statement's shape and parameter types, for advice). */
function asEvents(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      if (l === '') return l;
      const { shape: _s, param_types: _p, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest);
    })
    .join('\n');
}

const plain = join(dir, 'plain.tar.gz');
const made = periscope('bundle', sample, '-o', plain);

test('bundle: the report and events are those analyze and events print; the manifest checks every member', async () => {
  const r = await made;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /periscope inspect/);
  assert.equal((await stat(plain)).mode & 0o777, 0o600, 'the bundle is readable by its owner only');
  const m = await members(plain);
  assert.deepEqual([...m.keys()].sort(), ['events.jsonl.gz', 'manifest.json', 'report.html', 'report.json', 'report.txt']);
  const text = await periscope('analyze', sample);
  assert.equal(m.get('report.txt')!.toString(), `${text.stdout}\n`);
  const json = await periscope('analyze', sample, '--format', 'json');
  assert.deepEqual(JSON.parse(m.get('report.json')!.toString()), JSON.parse(json.stdout));
  const html = await periscope('analyze', sample, '--format', 'html');
  assert.equal(m.get('report.html')!.toString(), `${html.stdout}\n`);
  const events = await periscope('events', sample);
  const bundled = gunzipSync(m.get('events.jsonl.gz')!).toString();
  assert.equal(asEvents(bundled), `${events.stdout}\n`, 'every event, redacted as events prints it');
  // And what advice reads of the raw statement, without its values: literal kinds, parameter types.
  const shaped = bundled.trim().split('\n').map((l) => JSON.parse(l) as { sql: string | null; shape?: string; param_types?: number[] });
  assert.ok(shaped.some((e) => e.sql === 'SELECT COUNT(*) AS n FROM customers WHERE email LIKE ?' && e.shape === "SELECT COUNT(*) AS n FROM customers WHERE email LIKE '%s'"));
  assert.ok(shaped.some((e) => e.sql === 'UPDATE customers SET balance = balance + ? WHERE email = ?' && e.shape === "UPDATE customers SET balance = balance + 0 WHERE email = 's'" && e.param_types?.join() === '5,253'));
  assert.ok(shaped.every((e) => e.shape === undefined || e.shape !== e.sql), 'no shape where the redacted text is the shape');
  assert.ok(shaped.some((e) => e.sql !== null && e.shape === undefined));

  const man = manifestOf(m);
  assert.equal(man.format, 'periscope-bundle');
  assert.equal(man.version, 1);
  assert.equal(man.redacted, true);
  assert.ok(man.redaction.parameters && man.redaction.sql);
  assert.match(man.created.at, /^\d{4}-\d\d-\d\dT/);
  assert.ok(man.created.host.length > 0);
  assert.deepEqual(man.inputs.map((i) => i.path), [sample]);
  assert.deepEqual(man.pcap_included, []);
  assert.equal(man.schema.requested, false);
  assert.equal(man.options.include_pcap, false);
  assert.deepEqual(man.files.map((f) => f.path).sort(), [...m.keys()].filter((k) => k !== 'manifest.json').sort());
  for (const f of man.files) {
    assert.equal(f.size, m.get(f.path)!.length, f.path);
    assert.equal(f.sha256, sha256(m.get(f.path)!), f.path);
  }
});

test('bundle --since/--until/--db…: only the commands of the incident, as analyze and events see them with the same filters', async () => {
  const out = join(dir, 'window.tar.gz');
  const win = ['--since', '2026-11-21T05:08:04.905Z', '--until', '2026-11-21T05:08:04.912Z'];
  const r = await periscope('bundle', sample, '-o', out, ...win);
  assert.equal(r.code, 0, r.stderr);
  const m = await members(out);
  const json = await periscope('analyze', sample, '--format', 'json', ...win);
  assert.deepEqual(JSON.parse(m.get('report.json')!.toString()), JSON.parse(json.stdout), 'the report is that of analyze with the same filters');
  const all = (await periscope('events', sample)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { ts: string; cmd: string });
  const lines = asEvents(gunzipSync(m.get('events.jsonl.gz')!).toString()).trim().split('\n').map((l) => JSON.parse(l) as { ts: string; cmd: string });
  const inWindow = all.filter((e) => e.ts >= '2026-11-21T05:08:04.905' && e.ts < '2026-11-21T05:08:04.912');
  assert.ok(inWindow.length > 0 && inWindow.length < all.length);
  assert.deepEqual(lines, inWindow, 'the events of the window, and only those');
  assert.deepEqual(manifestOf(m).options.filters, { since: win[1], until: win[3] });
});

test('inspect: lists the members, verifies them, shows the manifest and the top of the report', async () => {
  assert.equal((await made).code, 0);
  const r = await periscope('inspect', plain);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['report.json', 'report.txt', 'report.html', 'events.jsonl.gz']) assert.match(r.stdout, new RegExp(`${name.replace('.', '\\.')} +checksum ok`));
  assert.match(r.stdout, /All 4 members match the SHA-256 checksums of the manifest/);
  assert.match(r.stdout, /"format": "periscope-bundle"/);
  assert.match(r.stdout, /Schema: not included \(no --schema-from given\)/);
  assert.match(r.stdout, /Raw packet captures: not included/);
  assert.match(r.stdout, /# Periscope query report/);
  const events = await periscope('events', sample);
  const shown = await periscope('inspect', plain, '--show', 'events.jsonl.gz');
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(asEvents(shown.stdout), events.stdout, '--show gunzips .gz members');
  const missing = await periscope('inspect', plain, '--show', 'secret.txt');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no member secret\.txt in the bundle; it holds report\.json/);
});

test('inspect: a member changed after bundling is reported as modified (exit 2)', async () => {
  assert.equal((await made).code, 0);
  const x = join(dir, 'x');
  await mkdir(x);
  await execa('tar', ['-xzf', plain, '-C', x]);
  const txt = join(x, 'report.txt');
  await writeFile(txt, (await readFile(txt, 'utf8')).replace('Overall', 'Overall, edited'));
  const edited = join(dir, 'edited.tar.gz');
  await execa('tar', ['-czf', edited, '-C', x, 'report.json', 'report.txt', 'report.html', 'events.jsonl.gz', 'manifest.json']);
  const r = await periscope('inspect', edited);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /report\.txt +MODIFIED/);
  assert.match(r.stderr, /report\.txt: modified after the bundle was made/);
  assert.match(r.stderr, /not as Periscope made it/);
  // A member added, one removed.
  await writeFile(join(x, 'extra.txt'), 'hello');
  const added = join(dir, 'added.tar.gz');
  await execa('tar', ['-czf', added, '-C', x, 'report.json', 'report.html', 'events.jsonl.gz', 'extra.txt', 'manifest.json']);
  const a = await periscope('inspect', added);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /extra\.txt: not listed in the manifest/);
  assert.match(a.stderr, /report\.txt: listed in the manifest but missing from the archive/);
  // Repacked unchanged by GNU tar with a directory entry: still as Periscope made it.
  await rm(join(x, 'extra.txt'));
  await execa('tar', ['-xzf', plain, '-C', x]);
  await mkdir(join(x, 'notes'));
  const repacked = join(dir, 'repacked.tar.gz');
  await execa('tar', ['-czf', repacked, '-C', x, 'notes', 'report.json', 'report.txt', 'report.html', 'events.jsonl.gz', 'manifest.json']);
  const rp = await periscope('inspect', repacked);
  assert.equal(rp.code, 0, rp.stderr);
  assert.match(rp.stdout, /notes\/ +a directory/);
});

test('inspect: a truncated bundle is reported as truncated, wherever it was cut (exit 2)', async () => {
  assert.equal((await made).code, 0);
  const whole = await readFile(plain);
  const cut = join(dir, 'cut.tar.gz');
  for (const at of [10, 100, Math.floor(whole.length / 3), Math.floor(whole.length / 2), whole.length - 40, whole.length - 1]) {
    await writeFile(cut, whole.subarray(0, at));
    const r = await periscope('inspect', cut);
    assert.equal(r.code, 2, `cut at ${at}`);
    assert.match(r.stderr, /truncated: .*cut short/, `cut at ${at}: ${r.stderr}`);
  }
  // A whole gzip stream of a cut tar: the archive itself ends early.
  const tar = gunzipSync(whole);
  const { gzipSync } = await import('node:zlib');
  await writeFile(cut, gzipSync(tar.subarray(0, 5000)));
  const r = await periscope('inspect', cut);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /truncated: the archive ends inside report\.json/);
});

test('inspect: a file that is not a bundle, or is missing, is a one-line error (exit 2)', async () => {
  const r = await periscope('inspect', sample);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not gzip-compressed: not a Periscope bundle/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const gz = join(dir, 'other.tar.gz');
  const x = join(dir, 'other');
  await mkdir(x);
  await writeFile(join(x, 'a.txt'), 'a');
  await execa('tar', ['-czf', gz, '-C', x, 'a.txt']);
  const o = await periscope('inspect', gz);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /no manifest\.json: not a Periscope bundle/);
  const none = await periscope('inspect', join(dir, 'none.tar.gz'));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /none\.tar\.gz: no such file/);
});

test('bundle: a capture directory\'s capture.json goes into the manifest as written; --include-pcap adds the capture, loudly', async () => {
  const cap = join(dir, 'cap');
  await mkdir(cap);
  await copyFile(sample, join(cap, 'mysql-1.pcap'));
  const captureManifest = { tool: 'periscope capture', filter: 'tcp port 3306', started: '2026-11-21T05:08:00Z' };
  await writeFile(join(cap, 'capture.json'), JSON.stringify(captureManifest));
  const out = join(dir, 'with-pcap.tar.gz');
  const r = await periscope('bundle', cap, '-o', out, '--include-pcap');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /--include-pcap: THE RAW CAPTURE GOES INTO THE BUNDLE/);
  const m = await members(out);
  const man = manifestOf(m);
  assert.deepEqual(man.capture_manifests, [{ directory: cap, manifest: captureManifest }]);
  assert.deepEqual(man.pcap_included, ['pcap/mysql-1.pcap']);
  assert.equal(man.options.include_pcap, true);
  assert.deepEqual(m.get('pcap/mysql-1.pcap'), await readFile(sample));
  assert.equal(man.files.find((f) => f.path === 'pcap/mysql-1.pcap')!.sha256, sha256(await readFile(sample)));
  const i = await periscope('inspect', out);
  assert.equal(i.code, 0, i.stderr);
  assert.match(i.stdout, /RAW PACKET CAPTURES INCLUDED \(pcap\/mysql-1\.pcap\)/);
  assert.match(i.stdout, /with 1 capture manifest/);

  // A capture.json that is not JSON could hold anything: it is left out.
  await writeFile(join(cap, 'capture.json'), 'password=hunter2\n');
  const notJson = join(dir, 'not-json.tar.gz');
  assert.equal((await periscope('bundle', cap, '-o', notJson)).code, 0);
  const nj = await members(notJson);
  assert.deepEqual(manifestOf(nj).capture_manifests, [{ directory: cap, manifest: '(not JSON: left out of the bundle; 17 bytes)' }]);
  assert.equal(allBytes(nj).indexOf('hunter2'), -1);
});

test('bundle: -o naming a directory is refused before reading; filters that match nothing say so', async () => {
  const r = await periscope('bundle', sample, '-o', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-o .*: is a directory; name a file: no bundle written/);
  const empty = join(dir, 'nothing-passed.tar.gz');
  const e = await periscope('bundle', sample, '-o', empty, '--db', 'nosuchdb');
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stderr, /warning: no command passed the filters: the bundle holds no event; the capture's 35 commands and logins have users periscope; databases periscope_test/);
  assert.match(e.stdout, /0 events: 0 commands and 0 logins/);
  const full = await periscope('bundle', sample, '-o', join(dir, 'full.tar.gz'));
  assert.match(full.stdout, /35 events: 33 commands and 2 logins/);
  // One TLS session decrypted, one not: its handshake is an event, neither a command nor a login.
  const tls = await periscope('bundle', join(repoRoot, 'samples', 'mariadb-tls12.pcap'), '--keylog', join(repoRoot, 'samples', 'mariadb-tls12.keys'), '-o', join(dir, 'tls.tar.gz'));
  assert.equal(tls.code, 0, tls.stderr);
  assert.match(tls.stdout, /20 events: 18 commands, 1 login and 1 TLS session whose login was not seen,/);
});

test('bundle: a server that cannot be reached leaves the schema out, says why, and the bundle is still made', async () => {
  const out = join(dir, 'no-schema.tar.gz');
  const r = await periscopeWith({ env: { MYSQL_PWD: 'x', HOME: dir } }, 'bundle', sample, '-o', out, '--schema-from', '127.0.0.1:1', '--user', 'nobody');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no schema in the bundle: cannot connect to 127\.0\.0\.1:1 as nobody: .*ECONNREFUSED/);
  const m = await members(out);
  const s = manifestOf(m).schema;
  assert.equal(s.requested, true);
  assert.equal(s.collected, false);
  assert.match(s.reason!, /cannot connect to 127\.0\.0\.1:1/);
  assert.equal(s.password_from, 'MYSQL_PWD');
  assert.ok(![...m.keys()].some((k) => k.startsWith('schema/')));
  assert.ok(!m.get('manifest.json')!.toString().includes('"x"'), 'the password is nowhere');
});

test('bundle: usage mistakes are refused before any work (exit 1), a password on the command line first of all', async () => {
  const out = join(dir, 'never.tar.gz');
  for (const [args, msg] of [
    [['--schema-from', '127.0.0.1', '--password', 'secret'], /a password is never taken on the command line/],
    [['--user', 'me'], /--user and --defaults-file are for --schema-from/],
    [['--schema-from', 'host:99999'], /the port must be between 1 and 65535/],
    [['--schema-from', 'db1', '--socket', '/tmp/s.sock'], /give one/],
    [['--schema-from', 'db1', '--defaults-file', join(dir, 'nope.cnf')], /--defaults-file .*nope\.cnf: no such file/],
    [['--since', 'yesterday'], /--since yesterday: expected a date and time/],
    [['--client', 'app-host'], /--client app-host: not an IP address/],
    [['--schema-from', 'db1', '--user', 'a', '--user', 'b'], /--user was given more than once \(a, b\)/],
  ] as [string[], RegExp][]) {
    const r = await periscope('bundle', sample, '-o', out, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    await assert.rejects(stat(out), 'no bundle written');
  }
  const copy = join(dir, 'copy.pcap');
  await copyFile(sample, copy);
  const over = await periscope('bundle', copy, '-o', copy);
  assert.equal(over.code, 1);
  assert.match(over.stderr, /copy\.pcap is one of the captures: name a new file/);
  assert.deepEqual(await readFile(copy), await readFile(sample), 'the capture is untouched');
  const none = await periscope('bundle', sample);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Missing required argument: output/);
});

test('bundle: no capture found, or nowhere to write, is exit 2 and no bundle', async () => {
  const out = join(dir, 'empty.tar.gz');
  const r = await periscope('bundle', join(dir, 'missing.pcap'), '-o', out);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.pcap/);
  await assert.rejects(stat(out));
  const w = await periscope('bundle', sample, '-o', join(dir, 'no', 'such', 'dir.tar.gz'));
  assert.equal(w.code, 2);
  assert.match(w.stderr, /dir\.tar\.gz: the directory .*such does not exist: no bundle written/);
});

test('bundle: the manifest records that TLS was decrypted and from which kind of key log, never a secret nor its path', async () => {
  const samples = join(sample, '..');
  const tls12 = join(samples, 'mariadb-tls12.pcap');
  const keys = join(samples, 'mariadb-tls12.keys');
  const secrets = (await readFile(keys, 'utf8')).split(/\s+/).filter((w) => /^[0-9a-f]{64,}$/.test(w));
  assert.ok(secrets.length > 0);
  const check = async (name: string, args: string[], expected: unknown, inspectLine: RegExp | null) => {
    const out = join(dir, name);
    const r = await periscope('bundle', ...args, '-o', out);
    assert.equal(r.code, 0, r.stderr);
    const m = await members(out);
    assert.deepEqual(manifestOf(m).tls, expected);
    const bytes = allBytes(m).toString('latin1');
    for (const s of secrets) assert.ok(!bytes.includes(s), 'a secret went into the bundle');
    assert.ok(!bytes.includes('mariadb-tls12.keys') && !bytes.includes('tls-keys.log'), 'a key log path went into the bundle');
    const i = await periscope('inspect', out);
    if (inspectLine) assert.match(i.stdout, inspectLine);
    else assert.doesNotMatch(i.stdout, /^TLS:/m);
  };
  // --keylog FILE: one of the two sessions has its secret.
  await check('tls-keylog.tar.gz', [tls12, '--keylog', keys], { connections: 2, decrypted: 1, decrypted_in_part: 0, without_secret: 1, key_logs: [{ kind: 'keylog', sources: 1, secrets: secrets.length / 2 }] }, /TLS: 1 of 2 connections decrypted, with secrets from a key log given with --keylog; the bundle holds no secret\./);
  // A capture directory's tls-keys.log.
  const capdir = join(dir, 'tls-capture');
  await mkdir(capdir);
  await copyFile(tls12, join(capdir, 'periscope-20261121-050804.pcap'));
  await copyFile(keys, join(capdir, 'tls-keys.log'));
  await check('tls-capdir.tar.gz', [capdir], { connections: 2, decrypted: 1, decrypted_in_part: 0, without_secret: 1, key_logs: [{ kind: 'capture-directory', sources: 1, secrets: secrets.length / 2 }] }, /with secrets from the capture directory's tls-keys\.log/);
  // pcapng Decryption Secrets Blocks.
  const dsb = await periscope('bundle', join(samples, 'mariadb-tls13-dsb.pcapng'), '-o', join(dir, 'tls-dsb.tar.gz'));
  assert.equal(dsb.code, 0, dsb.stderr);
  const t = manifestOf(await members(join(dir, 'tls-dsb.tar.gz'))).tls!;
  assert.ok(t.decrypted > 0 && t.decrypted === t.connections, JSON.stringify(t));
  assert.deepEqual(t.key_logs.map((k) => k.kind), ['pcapng-dsb']);
  // No TLS: counted as none, nothing shown.
  await check('no-tls.tar.gz', [sample], { connections: 0, decrypted: 0, decrypted_in_part: 0, without_secret: 0, key_logs: [] }, null);
});

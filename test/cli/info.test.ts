/** `periscope info` as a user runs it: output, exit codes, and one-line errors on bad input. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { periscope, infoJson, sample } from './run.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noStack = (stderr: string): void => assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

test('info on the bundled sample: the capture, its connections and the MariaDB server', async () => {
  const r = await periscope('info', sample);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /format\s+pcap, little-endian, version 2\.4/);
  assert.match(r.stdout, /link type\s+EN10MB \(Ethernet\): 84 packets/);
  assert.match(r.stdout, /TCP connections\s+2: 2 seen whole \(SYN to FIN\/RST\), 0 without their SYN/);
  assert.match(r.stdout, /MySQL server\s+127\.0\.0\.1:3306: 2 connections; 1,914 B \(1\.9 KiB\) from clients, 3,766 B \(3\.7\s+KiB\) from the server\n\s+version 10\.11\.\d+-MariaDB\S* \(from its greeting\)/);
  for (const l of r.stdout.split('\n')) assert.ok(l.length <= 100, `fits 100 columns: ${l}`);
  const { report } = await infoJson(sample);
  assert.equal(report.totals.packets, 84);
  assert.equal(report.tcp.packets, 84);
  assert.equal(report.skipped.total, 0);
  assert.match(r.stdout, /TCP bytes lost\s+none: every payload byte was captured/);
  assert.equal(report.tcp.gaps, 0);
  assert.equal(report.tcp.payload_bytes_delivered, report.tcp.payload_bytes);
});

test('a file that is not a capture: one line naming the file, offset and expectation; exit 2', async () => {
  const f = join(dir, 'notes.txt');
  await writeFile(f, 'hello, this is not a capture\n');
  const r = await periscope('info', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^periscope: error: .*notes\.txt: byte 0: not a capture file: starts with 68 65 6c 6c, expected a pcap .*pcapng .*gzip/m);
  noStack(r.stderr);
});

test('usage errors stop before any work: exit 1, no report', async () => {
  const typo = await periscope('info', sample, '--jsn');
  assert.equal(typo.code, 1);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /unknown option or argument: --jsn/);
  const none = await periscope('info');
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
});

test('nothing read: only the errors, no empty report', async () => {
  const r = await periscope('info', join(dir, 'nothing-here.pcap'));
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  // A directory without captures: the error says what was found there instead.
  const d = join(dir, 'no-captures');
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'notes.txt'), 'notes');
  const a = await periscope('analyze', d);
  assert.equal(a.code, 2);
  assert.equal(a.stdout, '');
  assert.match(a.stderr, /no capture file found in the given paths; ignored: .*notes\.txt \(not a capture file\)/);
});

test('a missing file and an empty file are clear errors', async () => {
  const missing = await periscope('info', join(dir, 'nope.pcap'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.pcap: no such file or directory/);
  const empty = join(dir, 'empty.pcap');
  await writeFile(empty, '');
  const e = await periscope('info', empty);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /empty\.pcap: byte 0: not a capture file: only 0 bytes long/);
  noStack(e.stderr);
});

test('a corrupt file among good ones: the others are read, the summary names the failure, exit 2', async () => {
  const bad = join(dir, 'bad.pcap');
  const good = await readFile(sample);
  const broken = Buffer.from(good);
  broken.writeUInt32LE(0x7fffffff, 24 + 8); // first record: impossible captured length
  broken.writeUInt32LE(0x7fffffff, 24 + 12);
  await writeFile(bad, broken);
  const r = await periscope('info', '--json', sample, bad);
  assert.equal(r.code, 2);
  const report = JSON.parse(r.stdout) as { files: { status: string; damage: { offset: number; skipped_bytes: number }[] }[]; totals: { packets: number } };
  assert.equal(report.files[1]!.status, 'damaged');
  assert.equal(report.files[1]!.damage[0]!.offset, 24);
  // Resynchronised after the damaged record: every later packet is still read.
  assert.equal(report.totals.packets, 84 + 83);
  assert.match(r.stderr, /bad\.pcap: byte 24: damaged record header: record claims 2147483647 captured bytes/);
  assert.match(r.stderr, /1 of 2 files could not be read completely \(see above\); the others were read/);
  noStack(r.stderr);
});

test('a header that is cut short is a failure, not a warning', async () => {
  const f = join(dir, 'short.pcap');
  await writeFile(f, (await readFile(sample)).subarray(0, 20));
  const r = await periscope('info', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /short\.pcap: byte 0: file ends after 20 bytes, inside the 24-byte pcap file header/);
});

test('a directory: captures read, other files ignored and listed', async () => {
  const d = join(dir, 'capdir');
  await mkdir(d);
  await writeFile(join(d, 'a.pcap'), await readFile(sample));
  await writeFile(join(d, 'README.txt'), 'notes');
  const { code, report } = await infoJson(d);
  assert.equal(code, 0);
  assert.equal(report.totals.packets, 84);
  assert.deepEqual(
    report.files.map((f) => f.status),
    ['ignored', 'ok'],
  );
});

test('--port adds a server port; the sample server is found by port and by greeting', async () => {
  const { report } = await infoJson('--port', '3307', sample);
  assert.equal(report.mysql_servers.length, 1);
  const bad = await periscope('info', '--port', 'x', sample);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--port \(-p\) takes a TCP port number, and this is not one; if it was a password: Periscope never takes one/);
  const secret = await periscope('info', '-p', 'hunter2', sample);
  assert.equal(secret.code, 1);
  assert.doesNotMatch(secret.stderr, /hunter2/, 'a password typed as for mysql -p is not echoed');
  const high = await periscope('info', '--port', '70000', sample);
  assert.match(high.stderr, /--port 70000: expected a TCP port number between 1 and 65535/);
});

test('--help of every command, and usage errors', async () => {
  const top = await periscope('--help');
  assert.equal(top.code, 0);
  assert.match(top.stdout, /periscope info <files\.\.>/);
  const info = await periscope('info', '--help');
  assert.equal(info.code, 0);
  assert.match(info.stdout, /--json/);
  assert.match(info.stdout, /--port/);
  const none = await periscope();
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Name a command/);
  const unknown = await periscope('frobnicate');
  assert.equal(unknown.code, 1);
  noStack(unknown.stderr);
  for (const cmd of ['info', 'events', 'trace', 'analyze', 'merge', 'bundle']) {
    const h = await periscope(cmd, '--help');
    assert.doesNotMatch(h.stdout, /\[default: \[\]\]/, `${cmd} --help: no empty default for the files`);
  }
});

test('trace --conn of a connection the capture does not have says so (exit 1)', async () => {
  const r = await periscope('trace', sample, '--conn', '5');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no MySQL connection #5 in the capture \(its TCP connections are #1 to #2;/);
  const ok = await periscope('trace', sample, '--conn', '2');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^\S+ #2 /);
});

test('TCP reassembly limits are options, validated', async () => {
  const help = await periscope('info', '--help');
  for (const o of ['--reorder-window', '--max-buffer-per-connection', '--max-buffer-total', '--idle-timeout', '--max-connections']) assert.match(help.stdout, new RegExp(o));
  const bad = await periscope('info', '--reorder-window', '0', sample);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--reorder-window 0: expected a positive whole number/);
  const ok = await infoJson('--idle-timeout', '0.001', '--max-connections', '1', sample);
  assert.equal(ok.code, 0);
  // One connection tracked at a time: the sample's two connections overlap, so each evicts the
  // other and comes back as a mid-stream connection; no byte is lost in the process.
  assert.ok(ok.report.tcp.evicted >= 2, `evicted ${ok.report.tcp.evicted}`);
  assert.ok(ok.report.tcp.connections > 2);
  assert.equal(ok.report.tcp.payload_bytes_delivered, ok.report.tcp.payload_bytes);
  assert.equal(ok.report.tcp.gaps, 0);
});

type TlsJson = { version: string | null; cipher: string | null; decrypted: 'yes' | 'no' | 'in part'; outcome: string; client_random: string | null; reason: string | null } | null;
interface InfoTls {
  tls: { connections: number; decrypted: number; partial: number; no_secret: number; unsupported: number; failed: number; key_logs: { source: string; secrets: number }[] };
  connections: { id: number; tls: TlsJson }[];
}
const tlsSample = (name: string): string => sample.replace('mariadb-basic.pcap', name);

test('info --keylog: each TLS connection of the recorded samples said decrypted or not, with version, suite and why', async () => {
  // TLS 1.2: one connection whose secret is in the key log, one whose secret is not (recorded so).
  const r12 = await periscope('info', '--json', tlsSample('mariadb-tls12.pcap'), '--keylog', tlsSample('mariadb-tls12.keys'));
  assert.equal(r12.code, 0, r12.stderr);
  const j12 = JSON.parse(r12.stdout) as InfoTls;
  assert.deepEqual({ ...j12.tls, key_logs: j12.tls.key_logs.length }, { connections: 2, decrypted: 1, partial: 0, no_secret: 1, unsupported: 0, failed: 0, key_logs: 1 });
  const [a, b] = j12.connections.map((c) => c.tls);
  assert.deepEqual([a?.version, a?.cipher, a?.decrypted, a?.reason], ['TLS 1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'yes', null]);
  assert.equal(b?.decrypted, 'no');
  assert.equal(b?.outcome, 'no-secret');
  assert.match(b?.client_random ?? '', /^[0-9a-f]{64}$/);
  assert.match(b?.reason ?? '', new RegExp(`look for client random ${b?.client_random}`));
  // TLS 1.3, with its key log; the same session from a pcapng with the secrets inside, no option.
  for (const args of [[tlsSample('mariadb-tls13.pcap'), '--keylog', tlsSample('mariadb-tls13.keys')], [tlsSample('mariadb-tls13-dsb.pcapng')]]) {
    const r = await periscope('info', '--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as InfoTls;
    assert.equal(j.tls.decrypted, 1, args.join(' '));
    assert.deepEqual(j.connections.map((c) => [c.tls?.version, c.tls?.cipher, c.tls?.decrypted]), [['TLS 1.3', 'TLS_AES_256_GCM_SHA384', 'yes']]);
  }
  // Without a key log: no secret, the client random to look for; the text says it.
  const none = await periscope('info', tlsSample('mariadb-tls13.pcap'));
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /TLS CONNECTIONS\s+1: 0 decrypted, 1 not \(no secret 1\)/);
  assert.match(none.stdout, /#1 127\.0\.0\.1:\d+ → 127\.0\.0\.1:3307\n {26}TLS 1\.3 TLS_AES_256_GCM_SHA384: NOT DECRYPTED: no secret for this TLS/);
  // The outcome's rows are indented under their connection (the client random never split from its words).
  assert.match(none.stdout, /\n {26}\S/);
  assert.match(none.stdout, /no key log was given/);
  for (const l of none.stdout.split('\n')) assert.ok(l.length <= 100, `fits 100 columns: ${l}`);
  // A plaintext capture: no TLS line, every connection's tls null.
  const plain = JSON.parse((await periscope('info', '--json', sample)).stdout) as InfoTls;
  assert.equal(plain.tls.connections, 0);
  assert.ok(plain.connections.every((c) => c.tls === null));
  // A key log that is not there: a usage error before any work.
  const missing = await periscope('info', sample, '--keylog', join(dir, 'nope.keys'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /--keylog .*nope\.keys: no such file or directory/);
  noStack(missing.stderr);
});

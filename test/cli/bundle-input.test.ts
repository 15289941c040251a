/**
 * A bundle as an input (issue 21): `analyze` and `merge` of a bundle give the report of its capture
 * — every fingerprint, overall figure and health counter — from the redacted events, with the same
 * filters, orders and formats; the report says which bundle; a bundle that is not as Periscope made
 * it is refused before anything is read from it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, truncate, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { periscope, repoRoot, sample } from './run.js';
import { synthesizeMysqlCapture } from '../../bench/synth-mysql.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-bundle-input-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Captures with prepared statements, errors, several link types and a lost packet (degraded health). */
const CAPTURES = [sample, `${repoRoot}test/fixtures/captures/vlan-qinq.pcap`, `${repoRoot}test/fixtures/captures/linux-sll2-lost-packet.pcap`, `${repoRoot}test/fixtures/mysql/mysql.pcap`, `${repoRoot}test/fixtures/mysql/query-attr.pcap`];

async function bundleOf(capture: string, name: string, ...args: string[]): Promise<string> {
  const out = join(dir, `${name}.tar.gz`);
  const r = await periscope('bundle', capture, '-o', out, ...args);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

async function json(...args: string[]): Promise<Record<string, unknown> & { inputs: Record<string, unknown> }> {
  const r = await periscope('analyze', '--format', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown> & { inputs: Record<string, unknown> };
}

test('analyze BUNDLE: the same report as analyze of its capture (fingerprints, counts, latencies, health), and it says which bundle', async () => {
  for (const [i, capture] of CAPTURES.entries()) {
    const b = await bundleOf(capture, `same-${i}`);
    const fromCapture = await json(capture);
    const fromBundle = await json(b);
    const bundles = fromBundle.inputs.bundles as { path: string; sha256: string; events: number }[];
    assert.equal(bundles.length, 1);
    assert.equal(bundles[0]!.path, b);
    assert.match(bundles[0]!.sha256, /^[0-9a-f]{64}$/);
    delete fromBundle.inputs.bundles;
    // Findings included: the events keep each statement's shape (the literals' kinds that ARG.001,
    // ARG.003, ARG.005 and CLA.003 read, docs/advise.md), so a bundle's findings are its capture's.
    assert.deepEqual(fromBundle, fromCapture, capture);
  }
  const text = await periscope('analyze', await bundleOf(sample, 'text'));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# Periscope query report: bundle .*text\.tar\.gz\n/);
  assert.match(text.stdout, /# from the redacted events of bundle .*text\.tar\.gz \(35 events; made\n#\s+\S+ on \S+ by Periscope/);
});

test('analyze BUNDLE: filters, --order-by, html and the slow log work as on the capture', async () => {
  const b = await bundleOf(sample, 'filters');
  for (const args of [['--order-by', 'count'], ['--min-latency', '150us'], ['--user', 'periscope', '--db', 'periscope_test'], ['--since', '2026-11-21T05:08:04.905Z', '--until', '2026-11-21T05:08:04.912Z'], ['--client', '127.0.0.1']]) {
    const c = await json(sample, ...args);
    const x = await json(b, ...args);
    delete x.inputs.bundles;
    assert.deepEqual(x, c, args.join(' '));
  }
  const none = await periscope('analyze', b, '--db', 'nosuchdb');
  assert.match(none.stderr, /no command passed the filters; the capture's 35 commands and logins have users periscope/);
  const html = await periscope('analyze', b, '--format', 'html');
  assert.equal(html.code, 0, html.stderr);
  assert.match(html.stdout, /from the redacted events of bundle/);
  const slow = await periscope('analyze', b, '--format', 'slowlog');
  const slowCapture = await periscope('analyze', sample, '--format', 'slowlog');
  assert.equal(slow.code, 0, slow.stderr);
  assert.equal(slow.stdout, slowCapture.stdout, 'the same redacted slow log');
});

test('merge: bundles and summaries together, as analyze of the captures together', async () => {
  const b = await bundleOf(sample, 'merge');
  const other = `${repoRoot}test/fixtures/mysql/mysql.pcap`;
  const summary = join(dir, 'other.json');
  assert.equal((await periscope('analyze', other, '--save-summary', summary)).code, 0);
  const merged = await periscope('merge', b, summary, '--format', 'json');
  assert.equal(merged.code, 0, merged.stderr);
  const both = await json(sample, other);
  const m = JSON.parse(merged.stdout) as typeof both;
  const counts = (r: typeof both) => Object.fromEntries((r.fingerprints as { digest: string; count: number }[]).map((f) => [f.digest, f.count]));
  assert.deepEqual(counts(m), counts(both));
  assert.deepEqual(m.overall, both.overall);
  // The views too: tables from the fingerprints, connections from the summaries' sessions.
  assert.deepEqual(m.tables, both.tables);
  assert.deepEqual(m.connections, both.connections);
  assert.equal((m.inputs.bundles as unknown[]).length, 1);
});

test('merge: a summary and a bundle of the same capture (either order, or two bundles) are the same traffic: refused as a copy is', async () => {
  const b = await bundleOf(sample, 'merge-same');
  const summary = join(dir, 'merge-same.json');
  assert.equal((await periscope('analyze', sample, '--save-summary', summary)).code, 0);
  for (const [first, second] of [[summary, b], [b, summary]] as const) {
    const m = await periscope('merge', first, second);
    assert.equal(m.code, 2, m.stderr);
    assert.equal(m.stdout, '');
    assert.ok(m.stderr.includes(`${second}: the same traffic as ${first} (a copy, or a summary or bundle of the same capture?): merging them would count the same commands twice`), m.stderr);
    assert.doesNotMatch(m.stderr, /counted twice/, 'refused, not merged with a warning');
  }
  const copy = join(dir, 'merge-same-copy.tar.gz');
  await copyFile(b, copy);
  const c = await periscope('merge', b, copy);
  assert.equal(c.code, 2, c.stderr);
  assert.match(c.stderr, /merge-same-copy\.tar\.gz: the same traffic as .*merge-same\.tar\.gz/);
});

test('analyze BUNDLE: a modified, truncated or damaged bundle is refused (exit 2), nothing read from it', async () => {
  const b = await bundleOf(sample, 'bad');
  const x = join(dir, 'x');
  await mkdir(x);
  await execa('tar', ['-xzf', b, '-C', x]);
  // One event removed from events.jsonl.gz: the checksum says so.
  const ev = join(x, 'events.jsonl.gz');
  const lines = gunzipSync(await readFile(ev)).toString().split('\n');
  await writeFile(ev, gzipSync(lines.slice(1).join('\n')));
  const edited = join(dir, 'edited.tar.gz');
  await execa('tar', ['-czf', edited, '-C', x, 'report.json', 'report.txt', 'report.html', 'events.jsonl.gz', 'manifest.json']);
  const r = await periscope('analyze', edited);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /edited\.tar\.gz: not a verified Periscope bundle: events\.jsonl\.gz: modified after the bundle was made .*; not read/);
  const cut = join(dir, 'cut.tar.gz');
  await copyFile(b, cut);
  await truncate(cut, (await stat(cut)).size - 100);
  const c = await periscope('analyze', cut);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /cut\.tar\.gz: not a verified Periscope bundle: truncated/);
  // A good bundle beside a bad one: the good one is reported, the exit status says one failed.
  const mixed = await periscope('analyze', b, cut, '--format', 'json');
  assert.equal(mixed.code, 2);
  assert.equal((JSON.parse(mixed.stdout) as { overall: { commands: number } }).overall.commands, 33);
});

/** `bundle` rebuilt as a bundle made before its events kept shapes and parameter types (manifest checksums updated). */
async function withoutShapes(bundle: string, name: string): Promise<string> {
  const x = join(dir, name);
  await mkdir(x);
  await execa('tar', ['-xzf', bundle, '-C', x]);
  const ev = join(x, 'events.jsonl.gz');
  const lines = gunzipSync(await readFile(ev)).toString().split('\n');
  const stripped = lines.map((l) => {
    if (l === '') return l;
    const { shape: _s, param_types: _p, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify(rest);
  });
  assert.notDeepEqual(stripped, lines, 'the events had shapes to remove');
  const gz = gzipSync(stripped.join('\n'));
  await writeFile(ev, gz);
  const man = JSON.parse(await readFile(join(x, 'manifest.json'), 'utf8')) as { files: { path: string; size: number; sha256: string }[] };
  const rec = man.files.find((f) => f.path === 'events.jsonl.gz')!;
  rec.size = gz.length;
  rec.sha256 = createHash('sha256').update(gz).digest('hex');
  await writeFile(join(x, 'manifest.json'), JSON.stringify(man));
  const out = join(dir, `${name}.tar.gz`);
  await execa('tar', ['-czf', out, '-C', x, 'report.json', 'report.txt', 'report.html', 'events.jsonl.gz', 'manifest.json']);
  return out;
}

test('diff CAPTURE BUNDLE: a bundle of the same capture is the same traffic (refused), also one made before bundles kept shapes', async () => {
  const b = await bundleOf(sample, 'diff-same');
  const d = await periscope('diff', sample, b);
  assert.equal(d.code, 2, d.stdout);
  assert.equal(d.stdout, '');
  assert.match(d.stderr, /diff-same\.tar\.gz: the same traffic as .*mariadb-basic\.pcap \(a copy, or a summary or bundle of the same capture\?\)/);
  const old = await withoutShapes(b, 'diff-old');
  const o = await periscope('diff', old, sample);
  assert.equal(o.code, 2, o.stdout);
  assert.match(o.stderr, /the same traffic as/);
  // Such a bundle's events hold no shape: the rules on literal kinds are not judged (no ARG.001),
  // rather than judged on the redacted text (where every literal would read as the number 0).
  const r = await json(old);
  assert.ok(!(r.findings as { rule: string }[]).some((f) => f.rule === 'ARG.001'));
  assert.ok(((await json(b)).findings as { rule: string }[]).some((f) => f.rule === 'ARG.001'));
  // Another capture is compared.
  const other = await periscope('diff', b, join(repoRoot, 'samples', 'mariadb-tls13-dsb.pcapng'));
  assert.equal(other.code, 0, other.stderr);
  // Many connections at once: the bundle's events come in request order, the capture's connection
  // by connection, so counts by client are made in another order: still the same traffic.
  const many = join(dir, 'many.pcap');
  synthesizeMysqlCapture(many, 1e6, 7);
  const m = await periscope('diff', many, await bundleOf(many, 'diff-many'));
  assert.equal(m.code, 2, m.stdout);
  assert.match(m.stderr, /the same traffic as/);
});

test('analyze: a bundle with its own capture, or a bundle twice, is refused, not counted twice', async () => {
  const b = await bundleOf(sample, 'twice');
  const copy = join(dir, 'twice-copy.tar.gz');
  await copyFile(b, copy);
  for (const [args, why] of [
    [[b, sample], /a bundle made from .*mariadb-basic\.pcap, which is also named: its commands would be counted twice/],
    [[sample, b, '--threads', '2'], /a bundle made from .*mariadb-basic\.pcap, which is also named/],
    [[b, b], /with the same filters as .* \(named twice\)/],
    [[b, copy], /with the same filters as .* \(a copy\?\)/],
  ] as const) {
    const r = await periscope('analyze', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, why);
    assert.equal(r.stdout, '');
  }
  // Bundles of one capture's disjoint windows, or of other captures, are read together.
  const early = await bundleOf(sample, 'early', '--until', '2026-11-21T05:08:04.905Z');
  const late = await bundleOf(sample, 'late', '--since', '2026-11-21T05:08:04.905Z');
  const both = await json(early, late);
  const whole = await json(sample);
  const commands = (r: Record<string, unknown>): number => (r.overall as { commands: number }).commands;
  assert.equal(commands(both), commands(whole));
  const other = await periscope('analyze', b, `${repoRoot}test/fixtures/mysql/mysql.pcap`);
  assert.equal(other.code, 0, other.stderr);
});

test('info, events, trace of a bundle: not a capture, and the error says what reads it', async () => {
  const b = await bundleOf(sample, 'not-a-capture');
  for (const cmd of ['info', 'events', 'trace']) {
    const r = await periscope(cmd, b);
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /not a capture file: this is a tar archive \(a Periscope bundle is looked into by 'periscope inspect BUNDLE'/, cmd);
  }
});

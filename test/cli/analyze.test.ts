/**
 * `periscope analyze` and `periscope merge` through the real CLI, on the bundled sample and the
 * fixture captures: the report agrees with the event stream it is built from (counted here
 * independently from `periscope events`), filters and ordering work, summaries merge into exactly
 * the report of all captures at once, and bad input gets a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { periscope, repoRoot, sample, sampleCaptureDir, SAMPLE_FILE } from './run.js';
import { profiled, type Report } from '../../analyze/report/report.js';
import { renderReport } from '../../analyze/report/render.js';

const fixtures = `${repoRoot}test/fixtures/captures/`;
const dir = await mkdtemp(join(tmpdir(), 'periscope-analyze-'));

async function report(...args: string[]): Promise<Report> {
  const r = await periscope('analyze', '--format', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

interface EventLine {
  cmd: string;
  digest: string | null;
  user: string | null;
  status: string;
  latency_us: number | null;
  response_us: number | null;
  rows: number | null;
  error_code: number | null;
}

async function events(...files: string[]): Promise<EventLine[]> {
  const r = await periscope('events', ...files);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EventLine);
}

const RUNS = new Set(['query', 'stmt_execute', 'stmt_fetch', 'stmt_bulk_execute']);

test('analyze: per-fingerprint counts, latency totals, rows and errors agree with the events', async () => {
  const r = await report(sample);
  const evs = await events(sample);
  const want = new Map<string, { count: number; time: number; rows: number; errors: number }>();
  for (const e of evs) {
    if (e.digest === null || !RUNS.has(e.cmd)) continue;
    const w = want.get(e.digest) ?? { count: 0, time: 0, rows: 0, errors: 0 };
    w.count++;
    w.time += e.response_us ?? 0;
    w.rows += e.rows ?? 0;
    if (e.status === 'error') w.errors++;
    want.set(e.digest, w);
  }
  assert.ok(want.size >= 8, 'the sample has many statement shapes');
  for (const [dg, w] of want) {
    const f = r.fingerprints.find((x) => x.digest === dg);
    assert.ok(f, `fingerprint ${dg} in the report`);
    assert.deepEqual({ count: f.count, time: f.latency_us.total, rows: f.rows_sent.sum, errors: f.errors }, w, f.fingerprint);
  }
  assert.equal(r.overall.commands, evs.filter((e) => e.cmd !== 'connect').length);
  assert.equal(r.overall.logins, evs.filter((e) => e.cmd === 'connect').length);
  assert.equal(r.overall.errors, evs.filter((e) => e.cmd !== 'connect' && e.status === 'error').length);
  assert.equal(r.health.status, 'good');
  assert.equal(r.overall.connections, 2);
  // Ranked by total latency, ranks 1..n.
  r.fingerprints.forEach((f, i) => {
    assert.equal(f.rank, i + 1);
    if (i > 0) assert.ok(r.fingerprints[i - 1]!.latency_us.total >= f.latency_us.total);
  });
  const update = r.fingerprints.find((f) => f.fingerprint.startsWith('update customers'))!;
  assert.equal(update.prepared, true, 'prepared statements are marked');
  assert.ok(update.commands.stmt_execute! > 0 && update.commands.stmt_prepare! > 0);
  assert.equal(update.kind, 'update');
  assert.deepEqual(update.tables, ['customers']);
  assert.equal(r.errors.length, 2);
  assert.deepEqual(r.errors.map((e) => e.message).sort(), ['Duplicate entry ? for key ?', "Table ? doesn't exist"], 'error messages are redacted');
  assert.ok(r.timeline.points.length >= 1 && r.histogram.length > 0);
});

test('analyze: the text report fits 100 columns, ranks the same fingerprints and puts nothing on stderr', async () => {
  const r = await periscope('analyze', sample);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.ok(lines.every((l) => [...l].length <= 100), lines.filter((l) => [...l].length > 100).join('\n'));
  const json = await report(sample);
  // Every ranked fingerprint has its block; Quit and call-less rows are named in one line instead.
  for (const f of json.fingerprints.filter(profiled)) assert.ok(r.stdout.includes(`# Query ${f.rank}: ${f.digest}`), `block of ${f.digest}`);
  for (const f of json.fingerprints.filter((x) => !profiled(x))) assert.ok(!r.stdout.includes(f.digest), `no row of ${f.fingerprint}`);
  assert.match(r.stdout, /#  not ranked, no latency to rank: administrator command: Quit \(2 calls\)/);
  assert.match(r.stdout, /# Overall\n#   Commands +33 /);
  assert.doesNotMatch(r.stdout, /ada@example\.com|Duplicate Ada/, 'literals never appear');
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
});

test('analyze: --order-by and --limit', async () => {
  for (const order of ['count', 'p99', 'errors', 'rows', 'max']) {
    const r = await report(sample, '--order-by', order);
    const key = (f: Report['fingerprints'][number]) => (order === 'count' ? f.count : order === 'errors' ? f.errors : order === 'rows' ? f.rows_sent.sum : order === 'p99' ? (f.latency_us.p99 ?? -1) : (f.latency_us.max ?? -1));
    // Ranked by the key; the rows without a latency to rank (Quit, call-less) come last.
    const ranked = r.fingerprints.filter(profiled);
    assert.deepEqual(r.fingerprints.slice(0, ranked.length), ranked);
    for (let i = 1; i < ranked.length; i++) assert.ok(key(ranked[i - 1]!) >= key(ranked[i]!), `${order} at rank ${i + 1}`);
    assert.equal(r.inputs.order, order);
  }
  const t = await periscope('analyze', sample, '--limit', '3');
  assert.equal((t.stdout.match(/^# Query \d+:/gm) ?? []).length, 3);
  assert.match(t.stdout, /more fingerprints/);
});

test('analyze: filters select events; the report records them', async () => {
  const evs = await events(sample);
  const none = await report(sample, '--user', 'nobody');
  assert.equal(none.overall.commands, 0);
  assert.equal(none.fingerprints.length, 0);
  assert.deepEqual(none.inputs.filters, { user: ['nobody'] });
  const noneText = await periscope('analyze', sample, '--user', 'nobody');
  assert.match(noneText.stderr, /warning: no command passed the filters; the capture's 35 commands and logins have users periscope; databases periscope_test; clients 127\.0\.0\.1; servers 127\.0\.0\.1:3306; times 2026-11-21T05:08:04\.897001Z to /);

  const slow = await report(sample, '--min-latency', '200us');
  assert.equal(slow.overall.commands + slow.overall.logins, evs.filter((e) => (e.response_us ?? -1) >= 200).length);
  assert.ok(slow.fingerprints.every((f) => (f.latency_us.min ?? 0) >= 200));

  const late = await report(sample, '--since', '2026-11-21T05:08:04.912Z');
  const early = await report(sample, '--until', '2026-11-21T05:08:04.912Z');
  assert.equal(late.overall.commands + early.overall.commands, evs.filter((e) => e.cmd !== 'connect').length, '--since and --until split the commands');
  assert.ok(late.overall.commands > 0 && early.overall.commands > 0);
  // Rates are per second of the window looked at: the two halves' durations add up to the whole.
  const all = await report(sample);
  assert.equal(late.overall.first, '2026-11-21T05:08:04.912000Z');
  assert.equal(early.overall.last, '2026-11-21T05:08:04.912000Z');
  assert.equal(late.overall.last, all.overall.last);
  assert.ok(Math.abs(late.overall.duration_s! + early.overall.duration_s! - all.overall.duration_s!) < 1e-5, 'the windows split the capture');
  assert.ok(late.overall.duration_s! < all.overall.duration_s!);
  assert.equal(late.overall.commands_per_s, Number((late.overall.commands / late.overall.duration_s!).toFixed(3)));

  // events takes the same filters: the same commands pass.
  const lateEvents = await periscope('events', sample, '--since', '2026-11-21T05:08:04.912Z', '--min-latency', '100us');
  assert.equal(lateEvents.code, 0, lateEvents.stderr);
  const want = evs.filter((e) => (e as unknown as { ts: string }).ts >= '2026-11-21T05:08:04.912' && (e.response_us ?? -1) >= 100);
  assert.ok(want.length > 0);
  assert.deepEqual(lateEvents.stdout.trim().split('\n').map((l) => JSON.parse(l) as EventLine), want);

  const byClient = await report(sample, '--client', '127.0.0.1', '--server', '127.0.0.1:3306', '--db', 'periscope_test');
  assert.equal(byClient.overall.commands, evs.filter((e) => e.cmd !== 'connect').length);
  assert.equal((await report(sample, '--server', '10.9.9.9')).overall.commands, 0);
});

/** The sample with its records' times spread `step` seconds apart, each record `copies` times in a row (as if re-sent). */
async function reshaped(name: string, step: number, copies = 1): Promise<string> {
  const b = await readFile(sample);
  const records: Buffer[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const len = b.readUInt32LE(o + 8);
    records.push(Buffer.from(b.subarray(o, o + 16 + len)));
    o += 16 + len;
  }
  const base = records[0]!.readUInt32LE(0);
  records.forEach((r, i) => {
    r.writeUInt32LE(base + Math.floor(i * step), 0);
    r.writeUInt32LE(Math.round((i * step * 1e6) % 1e6), 4);
  });
  const out = join(dir, name);
  await writeFile(out, Buffer.concat([b.subarray(0, 24), ...records.flatMap((r) => Array.from({ length: copies }, () => r))]));
  return out;
}

test('analyze: bytes from clients and servers are every MySQL byte info counts (greetings in the logins)', async () => {
  const r = await report(sample);
  const info = JSON.parse((await periscope('info', sample, '--json')).stdout) as { connections: { client_to_server: { bytes: number }; server_to_client: { bytes: number } }[] };
  const conns = info.connections;
  assert.equal(r.overall.bytes_in, conns.reduce((a, c) => a + c.client_to_server.bytes, 0));
  assert.equal(r.overall.bytes_out, conns.reduce((a, c) => a + c.server_to_client.bytes, 0));
});

test('analyze text: the labels say what the figures are of', async () => {
  // The profile's shares are of its own calls and time (logins included), said in its heading.
  const j = await report(sample);
  const calls = j.fingerprints.reduce((a, f) => a + f.count, 0);
  const t = await periscope('analyze', sample);
  const ranked = j.fingerprints.filter(profiled).length;
  assert.ok(ranked < j.overall.fingerprints, 'the sample has fingerprints the profile does not rank');
  assert.match(t.stdout, new RegExp(`^# Profile \\(by total latency; ${ranked} of ${j.overall.fingerprints} fingerprints ranked; ${calls} calls, [0-9.]+ms with logins\\)$`, 'm'));
  // The fingerprint figures of Overall, the profile and diff are one count, each part labelled
  // (15 in all: 13 ranked, Quit called with no latency, one only prepared and closed).
  assert.match(t.stdout, /^#   Fingerprints  15: 13 ranked in the profile, 1 called with no latency to rank, 1 never called\n#\s+\(only prepares, closes\)$/m);
  assert.match((await periscope('analyze', sample, '--limit', '5')).stdout, /^# Profile \(by total latency; top 5 of 13 ranked \(15 in all\); /m);
  const dh = await periscope('diff', sample, join(repoRoot, 'samples', 'mariadb-tls13-dsb.pcapng'));
  assert.match(dh.stdout, /^# Before: .*\n#   .*; 15 fingerprints \(14 called, compared\); health good$/m);
  const dhtml = await periscope('diff', sample, join(repoRoot, 'samples', 'mariadb-tls13-dsb.pcapng'), '--format', 'html');
  assert.match(dhtml.stdout, /15 fingerprints \(14 called, compared\)/);
  assert.match(dhtml.stdout, /<h2>Fingerprints compared \(14: called before, after or both; /);
  const html = (await periscope('analyze', sample, '--format', 'html')).stdout;
  assert.match(html, /<b>Fingerprints<\/b>15<br><small>13 ranked in the table, 1 called with no latency to rank, 1 never called \(only prepares, closes\)<\/small>/);
  assert.match(html, /<h2>Fingerprints \(13 of 15, the others below the table; /);
  // Rates as the text writes them (1,647/s), not the JSON's 1646.949.
  assert.match(html, /<b>Commands<\/b>33 \(1,647\/s\)/);
  assert.match(html, /<b>Commands\/s: capture \/ traffic \/ peak<\/b>1,647 \/ 1,714 \/ 1,714/);
  assert.match(t.stdout, /^#   Calls {7}\d+ \([0-9.]+% of the profile's calls, /m);
  // The ranking's figure is a column of the table.
  for (const [order, col] of [['p99', 'p99'], ['max', 'max'], ['avg', 'avg'], ['rows', 'rows'], ['time', 'p95']] as const) {
    const r = await periscope('analyze', sample, '--order-by', order);
    assert.match(r.stdout, new RegExp(`^# Rank Digest +Time +Time% +Calls +${col} +Err +Fingerprint$`, 'm'), order);
  }
  // A long capture's text timeline groups seconds into rows, and its heading says how many.
  const long = await reshaped('spread.pcap', 2.5);
  const l = await periscope('analyze', long);
  assert.equal(l.code, 0, l.stderr);
  const m = /^# Timeline \(a row per (\d+) seconds\)\n.*\n#   (\S+)Z .*\n#   (\S+)Z /m.exec(l.stdout);
  assert.ok(m, l.stdout);
  assert.equal((Date.parse(`${m[3]}Z`) - Date.parse(`${m[2]}Z`)) / 1000, Number(m[1]), 'rows are that many seconds apart');
  // A command whose argument is not SQL says which command it is (the table of a field list).
  const fl = structuredClone(j);
  fl.slowest[0] = { ...fl.slowest[0]!, cmd: 'field_list', sql: 'orders' };
  assert.match(renderReport(fl, 'text', { limit: 20, color: false }), /^#       \(field_list\) orders$/m);
  // A report of live traffic (no file) says so.
  const live = structuredClone(j);
  live.inputs.files = [];
  assert.match(renderReport(live, 'text', { limit: 20, color: false }), /^# Periscope query report: live traffic \(periscope live\)$/m);
  assert.match(renderReport(live, 'html', { limit: 20, color: false }), /<title>Periscope report: live traffic \(periscope live\)<\/title>/);
  // Segments captured twice: a health note, no loss.
  const twice = await reshaped('twice.pcap', 0.001, 2);
  const d = await report(twice);
  assert.equal(d.health.status, 'good');
  assert.ok((d.health.counters.retransmitted ?? 0) > 0);
  assert.ok(d.health.notes.some((n) => /TCP segments retransmitted \(or captured twice\).*nothing lost/.test(n)), JSON.stringify(d.health.notes));
});

test('analyze: bad option values are usage errors (exit 1) naming the option', async () => {
  for (const [args, re] of [
    [['--since', 'yesterday'], /--since yesterday: expected a date and time/],
    [['--min-latency', 'fast'], /--min-latency fast: expected a duration/],
    [['--limit', '0'], /--limit 0/],
    [['--format', 'xml'], /Invalid values:[\s\S]*format/],
    [['--limit', 'abc'], /--limit abc: not a number; expected a whole number of at least 1/],
    [['--threads', 'abc'], /--threads abc: not a number; expected a whole number/],
    [['--threads=x2'], /--threads x2: not a number;/],
    [['--reorder-window', 'many'], /--reorder-window many: not a number; expected a positive whole number/],
    [['-o', join(dir, 'report.pdf')], /--output .*report\.pdf: the format cannot be told from '\.pdf' \(text for \.txt or no extension, json for \.json, html for \.html\): give --format\n/],
    [['-o', join(dir, 'slow.log')], /--output .*slow\.log: the format cannot be told from '\.log' .*give --format; for a slow log, --format slowlog/],
    [['--user'], /--user needs a value/],
    [['-f', 'json', '-f', 'html'], /--format was given more than once \(json, html\): give it once/],
    [['--bogus-option'], /unknown option or argument: --bogus-option\n/],
    [['--since', '2026-11-22', '--until', '2026-11-20'], /--since 2026-11-22 is not before --until 2026-11-20/],
    [['--since', '2026-02-30'], /--since 2026-02-30: not a valid date/],
    [['--client', 'localhost'], /--client localhost: not an IP address; give an IP address as the capture shows it/],
    [['--client', '127.0.0.0/8'], /--client 127\.0\.0\.0\/8: a network/],
    [['--server', '127.0.0.1:99999'], /--server 127\.0\.0\.1:99999: 99999 is not a TCP port/],
    [['-o', join(dir, 'no-such-dir', 'r.txt')], /--output .*r\.txt: the directory .*no-such-dir does not exist/],
    [['-o', dir], /--output .*: is a directory; name a file/],
    [['--save-summary', join(dir, 'no-such-dir', 's.json')], /--save-summary .*s\.json: the directory .*no-such-dir does not exist/],
  ] as const) {
    const r = await periscope('analyze', sample, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', `${args.join(' ')}: no report`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace, not an internal error');
  }
  // A report written to a file is private, redacted or not; live checks its -o before it starts.
  const out = join(dir, 'report.html');
  const w = await periscope('analyze', sample, '-o', out);
  assert.equal(w.code, 0, w.stderr);
  assert.equal((await stat(out)).mode & 0o777, 0o600);
  assert.match(await readFile(out, 'utf8'), /^<!DOCTYPE html>/, 'the format follows the name when -f is not given');
  const asJson = join(dir, 'report.json');
  assert.equal((await periscope('analyze', sample, '-o', asJson)).code, 0);
  assert.equal((JSON.parse(await readFile(asJson, 'utf8')) as Report).overall.commands, 33);
  assert.equal((await periscope('analyze', sample, '-f', 'text', '-o', asJson)).code, 0);
  assert.match(await readFile(asJson, 'utf8'), /^# Periscope query report/, 'an explicit --format wins');
  const pdf = join(dir, 'odd.pdf');
  assert.equal((await periscope('analyze', sample, '-f', 'json', '-o', pdf)).code, 0, 'any name with --format');
  assert.equal((JSON.parse(await readFile(pdf, 'utf8')) as Report).overall.commands, 33);
  const slow = join(dir, 'slow.log');
  assert.equal((await periscope('analyze', sample, '-f', 'slowlog', '-o', slow)).code, 0);
  assert.match(await readFile(slow, 'utf8'), /# Query_time: /);
  const plain = join(dir, 'report');
  assert.equal((await periscope('analyze', sample, '-o', plain)).code, 0, 'no extension: text');
  assert.match(await readFile(plain, 'utf8'), /^# Periscope query report/);
  const livePdf = await periscope('live', '-i', 'lo', '-d', '1s', '-o', join(dir, 'r.pdf'));
  assert.equal(livePdf.code, 1);
  assert.match(livePdf.stderr, /--output .*r\.pdf: the format cannot be told from '\.pdf'.*give --format\n/);
  const liveTop = await periscope('live', '-i', 'lo', '-d', '1s', '--top', 'ten');
  assert.equal(liveTop.code, 1);
  assert.match(liveTop.stderr, /--top ten: not a number; expected a whole number of at least 1/);
  const live = await periscope('live', '-i', 'lo', '-d', '1s', '-o', join(dir, 'no-such-dir', 'r.html'));
  assert.equal(live.code, 1);
  assert.match(live.stderr, /--output .*r\.html: the directory .*no-such-dir does not exist/);
  for (const [args, re] of [
    [['analyze'], /name at least one file or directory to read/],
    [['diff', sample], /error: diff compares two inputs: name BEFORE and AFTER \(captures, summaries or bundles\)\n/],
    [['diff'], /error: diff compares two inputs: name BEFORE and AFTER/],
    [['analyse', sample], /unknown command 'analyse' \(did you mean analyze\?\)/],
  ] as const) {
    const r = await periscope(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('analyze: a missing file is exit 2 with its name; a damaged one still gives a report', async () => {
  const r = await periscope('analyze', join(dir, 'nope.pcap'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.pcap: no such file/);
  assert.equal(r.stdout, '', 'no report of nothing');
  const notes = join(dir, 'notes.pcap');
  await writeFile(notes, 'not a capture\n');
  const n = await periscope('analyze', notes, '-f', 'html', '-o', join(dir, 'notes.html'));
  assert.equal(n.code, 2);
  assert.match(n.stderr, /notes\.pcap: byte 0: not a capture file/);
  await assert.rejects(stat(join(dir, 'notes.html')), 'no report file written');
  const bytes = await readFile(sample);
  const cut = join(dir, 'cut.pcap');
  await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const c = await periscope('analyze', '--format', 'json', cut);
  assert.equal(c.code, 0, 'a capture cut short is a warning');
  assert.match(c.stderr, /cut\.pcap: byte \d+:/);
  const rep = JSON.parse(c.stdout) as Report;
  assert.ok(rep.overall.commands > 5 && rep.overall.commands < 33);
  assert.notEqual(rep.health.status, 'good', 'commands cut by the end of the capture are reported');
  assert.ok(rep.health.notes.some((n) => n.startsWith('1 capture file ends inside a packet record')), JSON.stringify(rep.health.notes));
});

test('merge: summaries of separate captures give exactly the report of analysing them together', async () => {
  const parts = [sample, `${fixtures}linux-sll2-any.pcap`, `${fixtures}ipv6-loopback.pcap`, `${fixtures}mariadb-compressed.pcap`];
  const summaries: string[] = [];
  for (const [i, p] of parts.entries()) {
    const out = join(dir, `part${i}.json${i % 2 ? '.gz' : ''}`);
    const r = await periscope('analyze', p, '--save-summary', out, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(out)).mode & 0o777, 0o600, 'summaries are private');
    summaries.push(out);
  }
  const together = await report(...parts);
  const m = await periscope('merge', '--format', 'json', ...summaries.reverse());
  assert.equal(m.code, 0, m.stderr);
  const merged = JSON.parse(m.stdout) as Report;
  assert.deepEqual(merged, together);
  assert.ok(together.fingerprints.length > 15 && together.overall.connections >= 5);
  // The text forms agree too.
  const t1 = await periscope('analyze', ...parts);
  const t2 = await periscope('merge', ...summaries);
  assert.equal(t2.stdout, t1.stdout);
});

test('merge: a summary of version 1 (latencies to the first byte) is refused, saying why and what to do', async () => {
  const out = join(dir, 'v2.json');
  assert.equal((await periscope('analyze', sample, '--save-summary', out, '--format', 'json')).code, 0);
  const v2 = JSON.parse(await readFile(out, 'utf8')) as { version: number };
  assert.equal(v2.version, 2);
  const old = join(dir, 'v1.json');
  await writeFile(old, JSON.stringify({ ...v2, version: 1 }));
  const r = await periscope('merge', out, old);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /v1\.json: summary version 1, saved by an older Periscope: its latencies are times to the first byte of each response, not the full response times this version reports, and cannot be converted; make it again with 'periscope analyze CAPTURE… --save-summary FILE'/);
  assert.equal(r.stdout, '');
});

test('diff: the same input on both sides is refused, as merge refuses it (a name twice, a copy, its summary)', async () => {
  const same = await periscope('diff', sample, sample);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /mariadb-basic\.pcap: named as both BEFORE and AFTER \(the same name\): compared with itself it shows no change/);
  assert.equal(same.stdout, '');
  const copy = join(dir, 'diff-copy.pcap');
  await writeFile(copy, await readFile(sample));
  const c = await periscope('diff', sample, copy);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /diff-copy\.pcap: the same traffic as .*mariadb-basic\.pcap \(a copy, or a summary or bundle of the same capture\?\)/);
  assert.equal(c.stdout, '');
  const summary = join(dir, 'diff-summary.json');
  assert.equal((await periscope('analyze', sample, '--save-summary', summary, '--format', 'json')).code, 0);
  const s = await periscope('diff', sample, summary);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /the same traffic as/);
});

test('diff: the header gives queries per second as the report does (1,048/s, not 1,048.009)', async () => {
  const d = await periscope('diff', sample, join(repoRoot, 'samples', 'mariadb-tls13-dsb.pcapng'));
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /# Before: .*\n#   .*; 33 commands, 1,048 queries\/s;/);
  assert.match(d.stdout, /# After: .*\n#   .*; 18 commands, 249 queries\/s;/);
});

test('analyze: --db (none) and --user (unknown) select what the report names so, and a miss lists them', async () => {
  const mysql = join(repoRoot, 'test', 'fixtures', 'mysql', 'mysql.pcap'); // 3 commands before USE test, 14 after
  const none = await periscope('analyze', mysql, '--db', '(none)', '--format', 'json');
  assert.equal(none.code, 0, none.stderr);
  const r = JSON.parse(none.stdout) as Report;
  assert.deepEqual(r.overall.databases, { '(none)': 3 });
  const tls = await periscope('analyze', join(repoRoot, 'samples', 'mariadb-tls12.pcap'), '--user', '(unknown)', '--format', 'json');
  assert.equal(tls.code, 0, tls.stderr);
  assert.equal((JSON.parse(tls.stdout) as Report).overall.tls_logins_unseen, 2);
  const miss = await periscope('analyze', mysql, '--db', 'nosuch');
  assert.match(miss.stderr, /databases \(none\), test;/);
});

test('merge: the same capture twice is refused (it would count its commands twice)', async () => {
  const s1 = join(dir, 'twice.json');
  assert.equal((await periscope('analyze', sample, '--save-summary', s1, '--format', 'json')).code, 0);
  const same = await periscope('merge', s1, s1);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /twice\.json: named twice \(the same name\): merging it with itself would count its commands twice/);
  const copy = join(dir, 'twice-copy.json');
  await writeFile(copy, await readFile(s1));
  const c = await periscope('merge', s1, copy);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /twice-copy\.json: the same traffic as .*twice\.json \(a copy, or a summary or bundle of the same capture\?\): merging them would count the same commands twice/);
  assert.equal(c.stdout, '');
  // Two analyses of one capture with the same filters (the state differs only by --no-redact here:
  // its examples once redacted are the other's, so it is the same traffic).
  const raw = join(dir, 'twice-raw.json');
  assert.equal((await periscope('analyze', sample, '--no-redact', '--save-summary', raw, '--format', 'json')).code, 0);
  const r = await periscope('merge', s1, raw);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /twice-raw\.json: the same traffic as .*twice\.json/);
  // Disjoint windows of one capture merge into the whole (with a warning).
  const early = join(dir, 'early.json');
  const late = join(dir, 'late.json');
  assert.equal((await periscope('analyze', sample, '--until', '2026-11-21T05:08:04.912Z', '--save-summary', early, '--format', 'json')).code, 0);
  assert.equal((await periscope('analyze', sample, '--since', '2026-11-21T05:08:04.912Z', '--save-summary', late, '--format', 'json')).code, 0);
  const w = await periscope('merge', '--format', 'json', early, late);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /also in .*early\.json, made with other filters/);
  assert.equal((JSON.parse(w.stdout) as Report).overall.commands, 33);
});

test('merge: a file that is not a summary is exit 2 with an explanation; slowlog needs captures', async () => {
  const r = await periscope('merge', sample);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mariadb-basic\.pcap: not a Periscope summary \(not JSON; captures are read by analyze, not merge\)/);
  const s = await periscope('merge', '--format', 'slowlog', sample);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /Invalid values:[\s\S]*format/);
  assert.match((await periscope('merge', '--help')).stdout, /a slow log needs the\s+captures \(analyze\)/);
});

test('analyze --format slowlog: one entry per statement and administrator command, as the server writes them', async () => {
  const r = await periscope('analyze', sample, '--format', 'slowlog');
  assert.equal(r.code, 0, r.stderr);
  const evs = await events(sample);
  const logged = evs.filter((e) => !['connect', 'stmt_prepare', 'stmt_close', 'stmt_reset', 'stmt_send_long_data'].includes(e.cmd));
  const entries = r.stdout.split('# Time: ').slice(1);
  assert.equal(entries.length, logged.length);
  for (const [i, e] of logged.entries()) {
    const x = entries[i]!;
    assert.match(x, new RegExp(`# Query_time: ${((e.response_us ?? 0) / 1e6).toFixed(6)}  Lock_time: 0\\.000000  Rows_sent: ${e.rows ?? 0} `));
    assert.match(x, /# User@Host: periscope\[periscope\] @  \[127\.0\.0\.1\]  Id: +\d+\n/);
    assert.match(x, /SET timestamp=\d+;\n/);
    assert.match(x, /;\n?$/);
  }
  assert.equal((r.stdout.match(/^use periscope_test;$/gm) ?? []).length, 1, 'use db only when it changes');
  assert.doesNotMatch(r.stdout, /ada@example\.com/);
  assert.match(r.stdout, /# administrator command: Ping;/);
  assert.match(r.stdout, /^UPDATE customers SET balance = balance \+ \? WHERE email = \?;$/m, 'redacted: placeholders stay');

  // Unredacted, prepared statements are written with their values, as the server logs them.
  const raw = await periscope('analyze', sample, '--format', 'slowlog', '--no-redact');
  assert.equal(raw.code, 0, raw.stderr);
  const execs = (await periscope('events', sample, '--no-redact')).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { cmd: string; sql: string; params: (string | null)[] | null })
    .filter((e) => e.cmd === 'stmt_execute' && e.params !== null && e.params.length > 0);
  assert.ok(execs.length >= 4);
  for (const e of execs) {
    const quoted = e.params!.map((p) => (p === null ? 'NULL' : /^-?[0-9.]+$/.test(p) ? `(?:${p.replace('.', '\\.')}|'${p.replace('.', '\\.')}')` : `'${p.replace(/[.+*?()[\]]/g, '\\$&')}'`));
    let k = 0;
    const pattern = e.sql.replace(/[.+*()[\]^$|]/g, '\\$&').replace(/\?/g, () => quoted[k++]!);
    assert.match(raw.stdout, new RegExp(`^${pattern};$`, 'm'), e.sql);
  }
  assert.match(raw.stdout, /^UPDATE customers SET balance = balance \+ 1\.25 WHERE email = 'bob@example\.com';$/m);
});

test('analyze: Ctrl-C stops reading and prints the report of what was read, marked interrupted (one thread and workers)', { timeout: 180_000 }, async () => {
  const { synthesizeCapture } = await import('../../bench/synth.js');
  const big = join(dir, 'big.pcap');
  const meta = synthesizeCapture(big, 400e6, 11);
  try {
    for (const threads of ['1', '2']) await interruptOnce(big, meta.packets, threads);
  } finally {
    await rm(big, { force: true });
  }
});

async function interruptOnce(big: string, total: number, threads: string): Promise<void> {
  const { execa } = await import('execa');
  const proc = execa('node', [`${repoRoot}bin/periscope.js`, 'analyze', big, '--format', 'json', '--progress', '--threads', threads], { reject: false });
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('progress:')) resolve();
    });
    proc.then(() => reject(new Error('finished before it could be interrupted')), reject);
  });
  proc.kill('SIGINT');
  const r = await proc;
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(r.stderr), /interrupted: reporting what was read so far/);
  const rep = JSON.parse(String(r.stdout)) as Report;
  assert.equal(rep.inputs.interrupted, true);
  assert.ok(rep.health.notes.some((n) => n.startsWith('interrupted')));
  assert.ok(rep.health.counters.packets! > 0 && rep.health.counters.packets! < total, `--threads ${threads}: part of the file was read: ${rep.health.counters.packets} of ${total} packets`);
}

test('analyze --threads: workers sharing the connections give exactly the one-thread report', async () => {
  // Several files, one gzip (its packets are copied to the workers), TLS decrypted with a key log
  // and with a pcapng's Decryption Secrets Block (passed to the workers in order with the packets).
  const gz = join(dir, 'compressed.pcap.gz');
  await writeFile(gz, gzipSync(await readFile(`${fixtures}mariadb-compressed.pcap`)));
  const tls = [`${repoRoot}samples/mariadb-tls12.pcap`, `${repoRoot}samples/mariadb-tls13-dsb.pcapng`, '--keylog', `${repoRoot}samples/mariadb-tls12.keys`];
  const parts = [sample, `${fixtures}linux-sll2-any.pcap`, `${fixtures}ipv6-loopback.pcap`, gz, `${fixtures}linux-sll2-lost-packet.pcap`, ...tls];
  // A window that cuts the sample's commands in two.
  const window = ['--since', '2026-11-21T05:08:04.905Z', '--until', '2026-11-21T05:08:04.912Z'];
  for (const args of [parts, [...parts, ...window]]) {
    const one = await periscope('analyze', '--format', 'json', '--threads', '1', ...args);
    assert.equal(one.code, 0, one.stderr);
    for (const n of ['2', '3']) {
      const many = await periscope('analyze', '--format', 'json', '--threads', n, ...args);
      assert.equal(many.code, 0, many.stderr);
      assert.equal(many.stdout, one.stdout, `--threads ${n} ${args.join(' ')}`);
      assert.equal(many.stderr, one.stderr);
    }
    const rep = JSON.parse(one.stdout) as Report;
    if (args === parts) {
      assert.ok(rep.overall.connections >= 6 && rep.health.counters.gaps! > 0, 'several connections, one with a gap');
      assert.equal(rep.health.counters.tlsDecrypted, 2, 'two TLS connections decrypted');
      assert.equal(rep.inputs.files.length, 7);
    } else assert.ok(rep.overall.commands > 0 && rep.overall.commands < 30, `the window keeps some commands: ${rep.overall.commands}`);
  }
  const bad = await periscope('analyze', sample, '--threads', '-1');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--threads -1/);
});

test('analyze: a capture directory with a manifest (periscope capture) feeds the health section', async () => {
  const file = SAMPLE_FILE;
  const cap = await sampleCaptureDir(join(dir, 'with-manifest'), {
    ended: { reason: 'disk-full', detail: 'No space left on device' },
    deleted: [{ ...file, name: 'periscope-20261121-050700.pcap', deletedAt: '2026-11-21T05:08:01.000000Z' }],
    packets: { captured: 84, receivedByFilter: 90, droppedByKernel: 6, droppedByInterface: null, final: true, at: '2026-11-21T05:08:05.000000Z' },
    options: { ports: [3306], hosts: [], filter: null, snaplen: 0, bufferSize: null, duration: null, maxPackets: null, rotateSize: null, rotateSeconds: null, maxFiles: 2, maxTotal: null, minFreeDisk: 0 },
  });
  const r = await periscope('analyze', '--format', 'json', cap);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.equal(rep.health.counters.kernelDrops, 6);
  assert.equal(rep.health.counters.captureFilesDeleted, 1);
  assert.equal(rep.health.status, 'bad', '6 drops in 90 packets');
  assert.ok(rep.health.notes.some((n) => n.includes('kernel dropped 6 packets')));
  assert.ok(rep.health.notes.some((n) => n.includes('ended early')));
  assert.ok(rep.health.notes.some((n) => n.includes('deleted by the ring buffer')));
  assert.equal(rep.inputs.captures[0]!.host, 'db1');
  assert.equal(rep.inputs.captures[0]!.ended_because, 'disk-full: No space left on device');
  assert.equal(rep.overall.commands, 33, 'the capture itself is read as usual');
  // Rates are over the time the capture ran (from its manifest), not only its busy 20 ms.
  assert.equal(rep.overall.first, '2026-11-21T05:08:00.000000Z');
  assert.equal(rep.overall.last, '2026-11-21T05:08:05.000000Z');
  assert.equal(rep.overall.duration_s, 5);
  assert.equal(rep.overall.commands_per_s, 6.6);
  const text = await periscope('analyze', cap);
  assert.match(text.stdout, /# Capture health: BAD/);
  assert.match(text.stdout, /^# captured on db1 \(any, tcp port 3306\) from 2026-11-21T05:08:00\.000000Z to\n#   2026-11-21T05:08:05\.000000Z, ended: disk-full/m);
  const html = await periscope('analyze', '-f', 'html', cap);
  assert.match(html.stdout, /<p class="context">captured on db1 \(any, tcp port 3306\) from .*ended: disk-full/, 'the page says how the capture was made too');

  await writeFile(join(cap, 'capture.json'), '{"format": "periscope-capture", "version": 1');
  const damaged = await periscope('analyze', '--format', 'json', cap);
  assert.equal(damaged.code, 0);
  assert.match(damaged.stderr, /capture\.json: not valid JSON.*the capture files are read without it/);
  assert.equal((JSON.parse(damaged.stdout) as Report).health.counters.kernelDropsKnown, 0);
});

test('analyze: a TLS capture read without its key log says that no command could be read and why, with no rate from no command', async () => {
  const tls = join(repoRoot, 'samples', 'mariadb-tls13.pcap');
  const t = await periscope('analyze', tls);
  assert.match(t.stdout, /^#   Commands {6}0: no command could be read: 1 of 1 MySQL connection uses TLS that could not be\n#\s+decrypted: give the clients' key log with --keylog FILE \(docs\/tls\.md\)$/m);
  assert.doesNotMatch(t.stdout, /cmd\/s|running at once|Latency {7}min/);
  const j = JSON.parse((await periscope('analyze', tls, '--format', 'json')).stdout) as { overall: { commands_per_s: number | null; concurrency: number | null; rates: { capture: { commands_per_s: number | null }; peak: { commands_per_s: number | null } } } };
  assert.equal(j.overall.commands_per_s, null);
  assert.equal(j.overall.rates.capture.commands_per_s, null);
  assert.equal(j.overall.rates.peak.commands_per_s, null);
  assert.equal(j.overall.concurrency, null);
  const h = (await periscope('analyze', tls, '--format', 'html')).stdout;
  assert.match(h, /<b>Commands<\/b>0<br><small>no command could be read: 1 of 1 MySQL connection uses TLS/);
  assert.doesNotMatch(h, /Commands\/s: capture/);
  // With the key log, the rates are back.
  const k = await periscope('analyze', tls, '--keylog', join(repoRoot, 'samples', 'mariadb-tls13.keys'));
  assert.match(k.stdout, /^#   Rates {9}[0-9,.]+ cmd\/s over the capture/m);
  const d = await periscope('diff', tls, sample);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stderr, /mariadb-tls13\.pcap: no command: no command could be read: .*--keylog FILE.*; so every fingerprint of the other side shows as new/);
});

test('analyze: a --since/--until window beside the capture shows the capture\'s own range and says nothing fell in the window', async () => {
  const range = /^# 2026-11-21T05:08:04\.896382Z to 2026-11-21T05:08:04\.916420Z \(20\.0ms\)$/m;
  const after = await periscope('analyze', sample, '--since', '2026-11-22 00:00');
  assert.match(after.stdout, range);
  assert.match(after.stdout, /^#   Commands {6}0: the --since\/--until window \(2026-11-22T00:00:00\.000000Z to the end\) is wholly\n#\s+after the capture: nothing in it$/m);
  const before = await periscope('analyze', sample, '--since', '2026-11-21 05:00', '--until', '2026-11-21 05:05', '--format', 'json');
  const j = JSON.parse(before.stdout) as { overall: { first: string; last: string; duration_s: number; commands_per_s: number | null } };
  assert.deepEqual([j.overall.first, j.overall.last, j.overall.duration_s, j.overall.commands_per_s], ['2026-11-21T05:08:04.896382Z', '2026-11-21T05:08:04.916420Z', 0.020038, null]);
  const html = (await periscope('analyze', sample, '--until', '2026-11-21 05:05', '--format', 'html')).stdout;
  assert.match(html, /<small>the --since\/--until window \(the start to 2026-11-21T05:05:00\.000000Z\) is wholly before the capture: nothing in it<\/small>/);
  // A window over part of the capture is the report's range, as before.
  const part = await periscope('analyze', sample, '--since', '2026-11-21 05:00', '--until', '2026-11-21T05:08:04.905Z');
  assert.match(part.stdout, /^# 2026-11-21T05:08:04\.896382Z to 2026-11-21T05:08:04\.905000Z \(8\.62ms\)$/m);
  const none = await periscope('analyze', sample, '--user', 'nobody');
  assert.match(none.stdout, /^#   Commands {6}0: none passed the filters \(stderr names what the capture holds\)$/m);
});

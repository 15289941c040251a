/**
 * Events as Parquet (issue 18), read back by real readers: DuckDB (always) and pyarrow (where
 * Python has it). The numbers DuckDB computes over the files must be the ones `analyze --format
 * json` reports for the same capture: events, per-digest and per-command counts, latency sums,
 * errors by code. Also: two hosts in one directory queried together, rotation into several files
 * and row groups, the file modes, and the usage errors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { periscope, sample, sampleCaptureDir } from '../cli/run.js';
import { duck, events } from './duck.js';
import { synthesizeMysqlCapture } from '../../bench/synth-mysql.js';
import { EventsParquetSink } from '../../analyze/parquet/sink.js';
import { MysqlPipeline } from '../../src/pipeline/mysql.js';
import { readCaptures } from '../../analyze/read/captures.js';
import type { CommandEvent } from '../../src/mysql/session.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-parquet-'));
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A synthetic capture with prepared statements, errors and many connections (the bench's generator, small). */
let synthetic: string | null = null;
function syntheticCapture(): string {
  if (synthetic === null) {
    synthetic = join(dir, 'synthetic.pcap');
    synthesizeMysqlCapture(synthetic, 2_000_000, 20250303);
  }
  return synthetic;
}

interface ReportJson {
  overall: { commands: number; logins: number; errors: number; latency_us: { total: number } };
  fingerprints: { digest: string; fingerprint: string; count: number; commands: Record<string, number>; latency_us: { total: number }; errors: number }[];
  errors: { code: number; count: number }[];
}

async function report(file: string): Promise<ReportJson> {
  const r = await periscope('analyze', file, '--format', 'json', '-q');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ReportJson;
}

/** The statement runs (their latency, rows and errors are the statement's); the other SQL commands are housekeeping. */
const RUNS = "('query', 'stmt_execute', 'stmt_bulk_execute', 'stmt_fetch')";
const SQL_COMMANDS = "('query', 'stmt_prepare', 'stmt_execute', 'stmt_close', 'stmt_reset', 'stmt_fetch', 'stmt_send_long_data', 'stmt_bulk_execute')";
/** Commands counted with their latency: statement runs, administrator commands and logins. */
const COUNTED = `(cmd NOT IN ${SQL_COMMANDS} OR cmd IN ${RUNS})`;
/**
 * The report's group of an event: its digest; for administrator commands and logins (no digest
 * in events) the command; for statements whose SQL the capture does not know, 'unknown'.
 */
const GROUP = `coalesce(digest, CASE WHEN cmd IN ${SQL_COMMANDS} THEN 'unknown' ELSE cmd END)`;
const ADMIN = 'administrator command: ';
const groupOf = (f: { digest: string; fingerprint: string; commands: Record<string, number> }): string =>
  f.fingerprint.startsWith(ADMIN) ? Object.keys(f.commands)[0]! : f.fingerprint.startsWith('prepared statement unknown') ? 'unknown' : f.digest;

async function sameNumbersAsTheReport(capture: string, out: string): Promise<void> {
  const rep = await report(capture);
  const from = events(out);
  const [all] = await duck(`SELECT count(*) FILTER (WHERE cmd <> 'connect') AS commands, count(*) FILTER (WHERE cmd = 'connect') AS logins,
    count(*) FILTER (WHERE cmd <> 'connect' AND status = 'error') AS errors,
    coalesce(sum(response_us) FILTER (WHERE cmd <> 'connect' AND status <> 'incomplete' AND ${COUNTED}), 0) AS latency FROM ${from}`);
  assert.deepEqual(all, { commands: rep.overall.commands, logins: rep.overall.logins, errors: rep.overall.errors, latency: rep.overall.latency_us.total });

  // Per digest and command: the report's `commands`; SQL digests are the events' digests, the
  // administrator commands (digest null in events) are grouped by command.
  const rows = await duck(`SELECT ${GROUP} AS k, cmd, count(*) AS n FROM ${from} GROUP BY ALL ORDER BY ALL`);
  const got: Record<string, Record<string, number>> = {};
  for (const r of rows) (got[r.k as string] ??= {})[r.cmd as string] = r.n as number;
  const want: Record<string, Record<string, number>> = {};
  for (const f of rep.fingerprints) want[groupOf(f)] = f.commands;
  assert.deepEqual(got, want);

  // Latency sums and errors per fingerprint, over the commands the report counts.
  const lat = await duck(`SELECT ${GROUP} AS k, count(*) AS n, coalesce(sum(response_us) FILTER (WHERE status <> 'incomplete'), 0) AS total,
    count(*) FILTER (WHERE status = 'error') AS errors FROM ${from} WHERE ${COUNTED} GROUP BY ALL ORDER BY ALL`);
  const latGot = Object.fromEntries(lat.map((r) => [r.k, { n: r.n, total: r.total, errors: r.errors }]));
  const latWant = Object.fromEntries(
    rep.fingerprints.filter((f) => f.count > 0).map((f) => [groupOf(f), { n: f.count, total: f.latency_us.total, errors: f.errors }]),
  );
  assert.deepEqual(latGot, latWant);

  // Errors by code.
  const errs = await duck(`SELECT error_code AS code, count(*) AS count FROM ${from} WHERE status = 'error' AND error_code IS NOT NULL AND ${COUNTED} GROUP BY ALL ORDER BY ALL`);
  assert.deepEqual(errs, rep.errors.map((e) => ({ code: e.code, count: e.count })).sort((a, b) => a.code - b.code));
}

test('DuckDB over the Parquet of the sample capture gives the report\'s numbers', async () => {
  const out = join(dir, 'sample');
  const r = await periscope('events', sample, '--format', 'parquet', '-o', out, '--host-label', 'db1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote 35 events in 1 Parquet file \(1 row group\) under /);
  assert.equal(r.stdout, '');
  const files = await readdir(join(out, 'dt=2026-11-21', 'host=db1'));
  assert.deepEqual(files, ['part-0.parquet']);
  await sameNumbersAsTheReport(sample, out);
  // Columns as the JSON events have them, row by row.
  const json = (await periscope('events', sample)).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const rows = await duck(`SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts, * EXCLUDE (ts, tables, dt, host) FROM ${events(out)}`);
  assert.deepEqual(rows, json);
  const [t] = await duck(`SELECT tables FROM ${events(out)} WHERE sql LIKE 'INSERT INTO customers%' LIMIT 1`);
  assert.deepEqual(t, { tables: ['customers'] });
});

test('DuckDB over the Parquet of a larger synthetic capture (prepared statements, errors) gives the report\'s numbers', async () => {
  const capture = syntheticCapture();
  const out = join(dir, 'synthetic');
  const r = await periscope('analyze', capture, '--events-parquet', out, '--host-label', 'db2', '-o', join(dir, 'synthetic-report.txt'));
  assert.equal(r.code, 0, r.stderr);
  await sameNumbersAsTheReport(capture, out);
  const [e] = await duck(`SELECT count(*) FILTER (WHERE status = 'error') AS errors, count(DISTINCT cmd) AS cmds FROM ${events(out)}`);
  assert.ok((e!.errors as number) > 0 && (e!.cmds as number) >= 5, JSON.stringify(e));
});

test('two hosts written to one directory are queried together; a second run of a host adds a part', async () => {
  const out = join(dir, 'fleet');
  for (const [file, host] of [[sample, 'db-a'], [syntheticCapture(), 'db-b'], [sample, 'db-a']] as const) {
    const r = await periscope('events', file, '-f', 'parquet', '-o', out, '--host-label', host);
    assert.equal(r.code, 0, r.stderr);
  }
  const hosts = await duck(`SELECT host, count(*) AS n, count(DISTINCT filename) AS files FROM read_parquet('${out}/**/*.parquet', hive_partitioning = true, filename = true) GROUP BY host ORDER BY host`);
  const syn = { n: (await periscope('events', syntheticCapture())).stdout.trim().split('\n').length };
  assert.deepEqual(hosts, [
    { host: 'db-a', n: 70, files: 2 },
    { host: 'db-b', n: syn.n, files: 1 },
  ]);
  assert.deepEqual(await readdir(join(out, 'dt=2026-11-21', 'host=db-a')), ['part-0.parquet', 'part-1.parquet']);
  // The recipes of docs/parquet.md run over the fleet directory.
  const top = await duck(`SELECT host, digest, count(*) AS calls, sum(latency_us) AS total_us FROM ${events(out)} WHERE digest IS NOT NULL GROUP BY host, digest QUALIFY row_number() OVER (PARTITION BY host ORDER BY total_us DESC) <= 3 ORDER BY host, total_us DESC`);
  assert.equal(top.length, 6);
  const p99 = await duck(`SELECT host, date_trunc('hour', ts) AS hour, quantile_cont(latency_us, 0.99) AS p99_us, count(*) AS n FROM ${events(out)} WHERE cmd <> 'connect' GROUP BY ALL ORDER BY ALL`);
  assert.ok(p99.length >= 2 && p99.every((r) => typeof r.p99_us === 'number' && r.p99_us > 0));
});

test('files are 0600 and directories 0700; metadata names the schema version; --no-sql leaves sql null', async () => {
  const out = join(dir, 'modes');
  const r = await periscope('events', sample, '-f', 'parquet', '-o', out, '--no-sql');
  assert.equal(r.code, 0, r.stderr);
  // No manifest: the host is the server's address.
  const part = join(out, 'dt=2026-11-21', 'host=127.0.0.1', 'part-0.parquet');
  assert.equal((await stat(part)).mode & 0o777, 0o600);
  for (const d of [out, join(out, 'dt=2026-11-21'), join(out, 'dt=2026-11-21', 'host=127.0.0.1')]) assert.equal((await stat(d)).mode & 0o777, 0o700);
  const [s] = await duck(`SELECT count(sql) AS sql, count(digest) AS digests FROM ${events(out)}`);
  assert.deepEqual(s, { sql: 0, digests: 27 });
  const kv = await duck(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${part}') ORDER BY key`);
  const m = Object.fromEntries(kv.map((x) => [x.key, x.value]));
  assert.match(String(m['periscope.version']), /^\d+\.\d+\.\d+/);
  assert.deepEqual({ ...m, 'periscope.version': null }, { 'periscope.host': '127.0.0.1', 'periscope.schema_version': '1', 'periscope.sql': 'none', 'periscope.version': null });
  // Dictionary encoding on the repetitive columns, statistics on ts.
  const meta = await duck(`SELECT path_in_schema AS col, encodings, compression, stats_min_value AS min FROM parquet_metadata('${part}') WHERE path_in_schema IN ('cmd', 'digest', 'ts')`);
  for (const m of meta) {
    assert.equal(m.compression, 'SNAPPY');
    if (m.col !== 'ts') assert.match(String(m.encodings), /RLE_DICTIONARY/);
    else assert.equal(m.min, '2026-11-21 05:08:04.897001+00');
  }
});

test('the default host label is the capture manifest\'s host (made safe for a directory name)', async () => {
  const cap = await sampleCaptureDir(join(dir, 'with-manifest'), { host: 'db1.example.com:eu west' });
  const out = join(dir, 'from-manifest');
  const r = await periscope('events', cap, '-f', 'parquet', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(join(out, 'dt=2026-11-21')), ['host=db1.example.com_eu_west']);
  const [h] = await duck(`SELECT host, count(*) AS n FROM ${events(out)} GROUP BY host`);
  assert.deepEqual(h, { host: 'db1.example.com_eu_west', n: 35 });
});

test('usage errors: -o without parquet, parquet without -o, a bad --host-label, an unwritable or file -o', async () => {
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const cases: [string[], RegExp][] = [
    [['events', sample, '-o', dir], /-o DIR goes with --format parquet/],
    [['events', sample, '-f', 'parquet'], /give the directory with -o DIR/],
    [['events', sample, '-f', 'parquet', '-o', join(dir, 'x'), '--host-label', 'a/b'], /--host-label "a\/b": use letters/],
    [['events', sample, '--no-sql'], /--no-sql .* goes with --format parquet/],
    [['events', sample, '-f', 'parquet', '-o', file], /is a file; name a directory/],
    [['events', sample, '-f', 'parquet', '-o', join(dir, 'missing', 'x')], /does not exist/],
    [['analyze', sample, '--host-label', 'x'], /goes with --events-parquet DIR/],
    [['analyze', sample, '--events-parquet', file], /is a file; name a directory/],
  ];
  for (const [args, msg] of cases) {
    const r = await periscope(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /at .*\.js/);
  }
});

test('the sink rotates: row groups of N events, files of M, across partitions, all read back', async () => {
  const evs: CommandEvent[] = [];
  const p = new MysqlPipeline({ ports: [3306], onEvent: (e) => evs.push(e) });
  await readCaptures([syntheticCapture()], (r) => p.add(r));
  p.finish();
  const out = join(dir, 'rotated');
  const sink = new EventsParquetSink({ dir: out, host: null, sql: 'redacted', version: 'test', rowGroupRows: 500, fileRows: 1500, maxOpen: 2 });
  // Events spread over two days and two "servers" (partitions): the sink holds 500 at most.
  for (const [i, e] of evs.entries()) sink.add({ ...e, sec: e.sec + (i % 2) * 86_400, server: i % 3 === 0 ? '10.0.0.9:3306' : e.server });
  const t = sink.close();
  assert.equal(t.events, evs.length);
  assert.ok(t.files.length >= 4 && t.rowGroups >= Math.ceil(evs.length / 500), JSON.stringify({ files: t.files.length, groups: t.rowGroups }));
  const [n] = await duck(`SELECT count(*) AS n, count(DISTINCT dt) AS days, count(DISTINCT host) AS hosts, sum(latency_us) AS lat FROM ${events(out)}`);
  assert.deepEqual(n, { n: evs.length, days: 2, hosts: 2, lat: evs.reduce((a, e) => a + (e.latencyUs ?? 0), 0) });
  const groups = await duck(`SELECT file_name, max(row_group_id) + 1 AS groups, max(row_group_num_rows) AS biggest FROM parquet_metadata('${out}/**/*.parquet') GROUP BY ALL`);
  assert.ok(groups.every((g) => (g.biggest as number) <= 500));
  const [rows] = await duck(`SELECT max(c) AS most FROM (SELECT filename, count(*) AS c FROM read_parquet('${out}/**/*.parquet', filename = true) GROUP BY filename)`);
  assert.ok((rows!.most as number) <= 1500 + 500, JSON.stringify(rows));
  // No .tmp file is left.
  const all = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(all, []);
});

test('pyarrow reads the same files (where Python has pyarrow)', async (t) => {
  const probe = spawnSync('python3', ['-c', 'import pyarrow, pyarrow.dataset'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with pyarrow is not installed (Debian has no python3-pyarrow package; pip install pyarrow to run this test)');
    return;
  }
  const out = join(dir, 'sample');
  const script = `import pyarrow.dataset as ds, pyarrow.compute as pc, json, sys
d = ds.dataset(sys.argv[1], format='parquet', partitioning='hive')
t = d.to_table()
print(json.dumps({'rows': t.num_rows, 'latency': pc.sum(t['latency_us']).as_py(), 'hosts': sorted(set(t['host'].to_pylist())), 'ts': str(t['ts'].type), 'tables': str(t['tables'].type)}))`;
  const r = spawnSync('python3', ['-c', script, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [d] = await duck(`SELECT count(*) AS rows, sum(latency_us) AS latency FROM ${events(out)}`);
  assert.deepEqual(JSON.parse(r.stdout), { rows: d!.rows, latency: d!.latency, hosts: ['db1'], ts: 'timestamp[us, tz=UTC]', tables: 'list<element: string not null>' });
});

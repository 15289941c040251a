/**
 * Canary: queries, prepared statements and failing statements carry unique marker values through
 * a real MariaDB while real tcpdump captures. The redacted `events` and `trace` output must hold
 * none of them (in any form: text, digits); `--no-redact` shows every one. A bundle of the capture,
 * with the schema of the tables, holds none of them in any member (each one unpacked, gzip members
 * decompressed too); a bundle with `--include-pcap` holds them (the search would find them).
 * One session runs under NO_BACKSLASH_ESCAPES, where `'C:\'` ends a string.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope, periscopeWith } from '../cli/run.js';
import { allBytes, manifestOf, members } from '../bundle/members.js';
import { endAndWait } from './workload.js';

const opts = await liveTestOptions();
let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tag = randomBytes(6).toString('hex');
const m = {
  text: `canary-text-${tag}`,
  email: `canary-${tag}@example.com`,
  number: String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000, 999_999)),
  param: `canary-param-${tag}`,
  paramNumber: String(randomInt(700_000_000, 799_999_999)),
  hex: `CAFE${tag.toUpperCase()}`,
  comment: `canary-comment-${tag}`,
  signal: `canary-signal-${tag}`,
  signalErrno: `canary-signal-errno-${tag}`,
  noEscapes: `canary-nbe-${tag}`,
  noEscapesRow: `canary-nbe-row-${tag}`,
};
const s = mysqlSettings();

let captured: Promise<string> | null = null;
/** The capture of the canary traffic, made once for every test here. */
function capture(): Promise<string> {
  captured ??= (async () => {
    dir = await mkdtemp(join(tmpdir(), 'periscope-canary-'));
    const file = join(dir, 'canary.pcap');
    await captureWhile({ file }, async () => {
      const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
      await c.query('CREATE TABLE IF NOT EXISTS canary (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(100) UNIQUE, note VARCHAR(200), n BIGINT, b VARBINARY(32))');
      await c.query(`INSERT INTO canary (email, note, n, b) VALUES ('${m.email}', "${m.text}", ${m.number}, X'${m.hex}') /* ${m.comment} */`);
      await c.query(`SELECT * FROM canary WHERE note = '${m.text}' OR n = ${m.number}`);
      await c.execute('SELECT * FROM canary WHERE note = ? OR n = ?', [m.param, m.paramNumber]);
      // A failing statement whose error message echoes the value (1062 Duplicate entry '…').
      await c.query(`INSERT INTO canary (email) VALUES ('${m.email}')`).catch(() => undefined);
      await c.query(`DELETE FROM canary WHERE email = '${m.email}'`);
      // Errors whose whole message is the client's text: SIGNAL (1644, SQLSTATE 45000), and one with its own errno and class.
      await c.query(`SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${m.signal}'`).catch(() => undefined);
      await c.query(`SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1001, MESSAGE_TEXT = '${m.signalErrno}'`).catch(() => undefined);
      await endAndWait(c);
      // A session under NO_BACKSLASH_ESCAPES: there `'C:\'` is a whole string, and the marker after
      // it a literal (read with backslash escapes it would be outside any string).
      const n = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
      await n.query("SET sql_mode='NO_BACKSLASH_ESCAPES'");
      await n.query(`SELECT 'C:\\' , '${m.noEscapes}'`);
      await n.query(`INSERT INTO canary (email, note) VALUES ('nbe\\', '${m.noEscapesRow}')`);
      await n.query(`DELETE FROM canary WHERE note = 'x\\' OR note = '${m.noEscapesRow}'`);
      await endAndWait(n);
    });
    return file;
  })();
  return captured;
}

test('no marker value survives redaction; --no-redact shows them all', opts, async () => {
  const file = await capture();
  const redacted = await periscope('events', file);
  assert.equal(redacted.code, 0, redacted.stderr);
  const trace = await periscope('trace', file);
  assert.equal(trace.code, 0, trace.stderr);
  const summary = join(dir, 'canary-summary.json');
  const report = await periscope('analyze', file, '--format', 'json', '--save-summary', summary);
  assert.equal(report.code, 0, report.stderr);
  const text = await periscope('analyze', file, '--format', 'slowlog');
  for (const out of [redacted.stdout + redacted.stderr, trace.stdout + trace.stderr, report.stdout, await readFile(summary, 'utf8'), text.stdout]) {
    for (const [what, v] of Object.entries(m)) assert.ok(!out.includes(v), `redacted output leaks the ${what} marker ${v}`);
    assert.ok(!out.includes(tag), 'no fragment of the markers');
  }
  // The error (1062) is there, with its value masked.
  assert.match(redacted.stdout, /"error_code":1062,"sql_state":"23000","error":"Duplicate entry \? for key \?"/);
  assert.match(redacted.stdout, /"error_code":1644,"sql_state":"45000","error":"\?"/);
  assert.match(redacted.stdout, /"error_code":1001,"sql_state":"HY000","error":"\?"/);
  const raw = await periscope('events', '--no-redact', file);
  assert.equal(raw.code, 0);
  assert.match(raw.stderr, /--no-redact/);
  for (const [what, v] of Object.entries(m)) {
    if (what === 'comment') continue; // comments are part of the SQL as captured: shown too
    assert.ok(raw.stdout.includes(v), `--no-redact shows the ${what} marker`);
  }
  assert.ok(raw.stdout.includes(m.comment));
});

test('a bundle with schema holds no marker in any member; with --include-pcap the search finds them', opts, async () => {
  const file = await capture();
  const out = join(dir, 'canary.tar.gz');
  const b = await periscopeWith({ env: { MYSQL_PWD: s.password, HOME: dir } }, 'bundle', file, '-o', out, '--schema-from', `${s.host}:${s.port}`, '--user', s.user);
  assert.equal(b.code, 0, b.stderr);
  const all = await members(out);
  const man = manifestOf(all);
  assert.equal(man.schema.collected, true, man.schema.reason ?? '');
  assert.ok(man.schema.tables.collected >= 1, 'the canary table\'s schema is in the bundle');
  assert.ok(all.has('events.jsonl.gz') && all.has('schema/tables.json') && all.has('schema/tables.sql') && all.has('schema/server.json'));
  assert.match(all.get('schema/tables.sql')!.toString(), /CREATE TABLE `canary`/);
  const bytes = allBytes(all);
  for (const [what, v] of Object.entries(m)) assert.equal(bytes.indexOf(v), -1, `the bundle leaks the ${what} marker ${v}`);
  assert.equal(bytes.indexOf(tag), -1, 'no fragment of the markers');
  assert.equal(bytes.indexOf(Buffer.from(m.hex, 'hex')), -1, 'nor the hex marker as bytes');
  assert.ok(!(b.stdout + b.stderr).includes(tag));
  const i = await periscope('inspect', out);
  assert.equal(i.code, 0, i.stderr);
  assert.ok(!i.stdout.includes(tag));

  // The same search on a bundle holding the raw capture finds them: it looks in the right places.
  const raw = join(dir, 'canary-raw.tar.gz');
  const r = await periscope('bundle', file, '-o', raw, '--include-pcap');
  assert.equal(r.code, 0, r.stderr);
  const rawBytes = allBytes(await members(raw));
  for (const what of ['text', 'email', 'param'] as const) assert.notEqual(rawBytes.indexOf(m[what]), -1, `--include-pcap keeps the ${what} marker`);
});

test('Parquet events (events --format parquet, analyze --events-parquet) hold no marker; with --no-redact they do', opts, async () => {
  const file = await capture();
  const { duck } = await import('../parquet/duck.js');
  const out = join(dir, 'parquet');
  const e = await periscope('events', file, '-f', 'parquet', '-o', out, '--host-label', 'canary-events');
  assert.equal(e.code, 0, e.stderr);
  const a = await periscope('analyze', file, '--events-parquet', out, '--host-label', 'canary-analyze', '-o', join(dir, 'canary-report.txt'));
  assert.equal(a.code, 0, a.stderr);
  /** Every value of every row, as text (DuckDB decodes the files: compression cannot hide a value). */
  const everything = async (d: string) => JSON.stringify(await duck(`SELECT * FROM read_parquet('${d}/**/*.parquet', hive_partitioning = true)`), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  const text = await everything(out);
  assert.ok(text.includes('canary-events') && text.includes('canary-analyze'), 'both runs were read');
  assert.match(text, /Duplicate entry \? for key \?/);
  const bytes = Buffer.concat(await Promise.all((await readdir(out, { recursive: true })).filter((f) => f.endsWith('.parquet')).map((f) => readFile(join(out, f)))));
  for (const [what, v] of Object.entries(m)) {
    assert.ok(!text.includes(v), `the Parquet values leak the ${what} marker ${v}`);
    assert.equal(bytes.indexOf(v), -1, `the Parquet bytes hold the ${what} marker ${v}`);
  }
  assert.ok(!text.includes(tag) && bytes.indexOf(tag) === -1, 'no fragment of the markers');
  // The same search over --no-redact Parquet finds them: it looks in the right places.
  const raw = join(dir, 'parquet-raw');
  const r = await periscope('events', file, '-f', 'parquet', '-o', raw, '--no-redact');
  assert.equal(r.code, 0, r.stderr);
  const rawText = await everything(raw);
  for (const what of ['text', 'email', 'number', 'signal'] as const) assert.ok(rawText.includes(m[what]), `--no-redact Parquet keeps the ${what} marker`);
});

/**
 * Prepared statements from connections opened before the capture (issue 21): a connection
 * prepares three statements, then the capture starts and only their executes are seen. Each
 * becomes its own row, labelled by its statement id, parameters and result columns — not one
 * "unknown" row — in the report of the capture and of its bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';
import { endAndWait } from './workload.js';

const { skip } = await liveTestOptions();

test('executes of statements prepared before the capture: one row per statement, by id, parameters and columns', { skip, timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-unknown-stmt-'));
  const s = mysqlSettings();
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  try {
    await c.query('CREATE TABLE IF NOT EXISTS unk_t (id INT PRIMARY KEY, v VARCHAR(20))');
    await c.query("REPLACE INTO unk_t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const pointStmt = await c.prepare('SELECT v FROM unk_t WHERE id = ?');
    const rangeStmt = await c.prepare('SELECT id, v FROM unk_t WHERE id > ? AND v < ?');
    const updateStmt = await c.prepare('UPDATE unk_t SET v = ? WHERE id = ?');
    const cap = join(dir, 'mid.pcap');
    await captureWhile({ file: cap }, async () => {
      for (let i = 0; i < 5; i++) await pointStmt.execute([1 + (i % 3)]);
      for (let i = 0; i < 3; i++) await rangeStmt.execute([0, 'z']);
      for (let i = 0; i < 2; i++) await updateStmt.execute(['x', 3]);
    });
    const r = await periscope('analyze', cap, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as Report;
    const rows = rep.fingerprints.filter((f) => f.fingerprint.startsWith('prepared statement #'));
    const names = rows.map((f) => f.fingerprint).join('\n');
    assert.equal(rows.length, 3, names);
    const find = (re: RegExp) => rows.find((f) => re.test(f.fingerprint)) ?? assert.fail(`no row matches ${re}:\n${names}`);
    const point = find(/^prepared statement #\d+ \(prepared before the capture\): 1 parameter \(\w+\); returns unk_t\.v$/);
    const range = find(/^prepared statement #\d+ \(prepared before the capture\): 2 parameters \(\w+, VAR_STRING\); returns unk_t\.id, unk_t\.v$/);
    const update = find(/^prepared statement #\d+ \(prepared before the capture\): 2 parameters \(VAR_STRING, \w+\); no result set$/);
    assert.equal(range.count, 3);
    assert.equal(update.count, 2);
    // The first execute caught mid-stream has no whole response: it stays with the unknown ones.
    const unknown = rep.fingerprints.find((f) => f.fingerprint.startsWith('prepared statement unknown'))?.count ?? 0;
    assert.equal(point.count + unknown, 5);
    assert.ok(unknown <= 1);
    assert.deepEqual(point.tables, ['unk_t']);
    assert.equal(point.kind, 'execute');

    // The bundle keeps what the wire told (events.jsonl.gz: unknown_statement), so its report has the same rows.
    const b = join(dir, 'mid.tar.gz');
    assert.equal((await periscope('bundle', cap, '-o', b)).code, 0);
    const fromBundle = JSON.parse((await periscope('analyze', b, '--format', 'json')).stdout) as Report;
    assert.deepEqual(fromBundle.fingerprints.map((f) => [f.fingerprint, f.count]), rep.fingerprints.map((f) => [f.fingerprint, f.count]));
    await pointStmt.close();
    await rangeStmt.close();
    await updateStmt.close();
  } finally {
    await endAndWait(c);
    if (process.env.KEEP) process.stderr.write(`kept ${dir}\n`); else await rm(dir, { recursive: true, force: true });
  }
});

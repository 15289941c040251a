/**
 * The bench's recorded sysbench capture (bench/sysbench.ts, bench/sysbench-record.ts): what is
 * checked against the server must catch a decode that is off by one statement of any kind, and the
 * recording must find the shared lock held by an ancestor (or it would wait for itself).
 * Nothing here records or times anything.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { decodeChecks } from '../../bench/sysbench.js';
import { parseSysbenchCounts, SYSBENCH_META_VERSION, SYSBENCH_WORKLOAD, type SysbenchMeta } from '../../bench/sysbench-record.js';
import type { ReportFingerprint } from '../../bench/truth.js';

/** sysbench 1.0.20's summary of a run (the recorded one, its latency lines left out). */
const OUTPUT = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Threads started!

SQL statistics:
    queries performed:
        read:                            167020
        write:                           47713
        other:                           23857
        total:                           238590
    transactions:                        11927  (596.10 per sec.)
    queries:                             238590 (11924.54 per sec.)
    ignored errors:                      3      (0.15 per sec.)
    reconnects:                          0      (0.00 per sec.)
`;

const fp = (fingerprint: string, count: number, extra: Partial<ReportFingerprint> = {}): ReportFingerprint => ({
  fingerprint,
  count,
  commands: { stmt_execute: count, stmt_prepare: 1, stmt_close: 1 },
  errors_by_code: {},
  rows_sent: { sum: 0 },
  rows_affected: { sum: 0 },
  no_index_used: 0,
  ...extra,
});

/** A report that matches META: 11,930 transactions begun, 3 of them ended by a deadlock. */
function report(): ReportFingerprint[] {
  return [
    fp('begin', 11930),
    fp('select c from sbtest1 where id = ?', 119300, { rows_sent: { sum: 119300 } }),
    fp('select c from sbtest1 where id between ? and ?', 47720, { rows_sent: { sum: 3579000 } }),
    fp('update sbtest1 set k = k + ? where id = ?', 23860, { errors_by_code: { '1213': 1 } }),
    fp('delete from sbtest1 where id = ?', 11929, { errors_by_code: { '1213': 2 } }),
    fp('insert into sbtest1(id, k, c, pad) values(?, ?, ?, ?)', 11927),
    fp('commit', 11927),
    { ...fp('administrator command: Connect', 4), commands: { connect: 4 } },
    { ...fp('administrator command: Quit', 4), commands: { quit: 4 } },
  ];
}

const META: SysbenchMeta = {
  version: SYSBENCH_META_VERSION,
  recordedAt: '2026-12-08T02:04:24.000Z',
  workload: SYSBENCH_WORKLOAD,
  sysbench: 'sysbench 1.0.20',
  server: '10.11.19-MariaDB',
  tcpdump: 'tcpdump version 4.99.3',
  size: 1,
  tcpdumpStats: { captured: 1, receivedByFilter: 2, droppedByKernel: 0 },
  counts: parseSysbenchCounts(OUTPUT),
  status: {
    Com_begin: 11930,
    Com_commit: 11927,
    Com_delete: 11929,
    Com_insert: 11927,
    Com_select: 167020,
    Com_update: 23860,
    Com_show_status: 1,
    // 4 connections × (statements of the fingerprints above, but the administrator commands).
    Com_stmt_execute: 11930 + 119300 + 47720 + 23860 + 11929 + 11927 + 11927,
    Com_stmt_prepare: 7,
    Com_stmt_close: 7,
    Rows_sent: 119300 + 3579000 + 562,
    Connections: 5,
  },
  statusRows: 562,
  sysbenchOutput: OUTPUT,
};

describe('the sysbench capture in the bench', () => {
  test("sysbench's summary is read figure by figure; a missing figure is an error that says which", () => {
    assert.deepEqual(parseSysbenchCounts(OUTPUT), { reads: 167020, writes: 47713, other: 23857, total: 238590, transactions: 11927, ignoredErrors: 3, reconnects: 0 });
    assert.throws(() => parseSysbenchCounts(OUTPUT.replace(/^\s*transactions:.*$/m, '')), /no "transactions" figure/);
  });

  test('a report that adds up to the server counters and sysbench passes every check', () => {
    const checks = decodeChecks(META, report());
    assert.ok(checks.length >= 15);
    assert.deepEqual(checks.filter((c) => c.expected !== c.reported), []);
  });

  test('one statement missing, of any kind, fails the checks that count it', () => {
    const kinds = ['begin', 'select', 'update', 'delete', 'insert', 'commit'];
    for (const kind of kinds) {
      const r = report().map((f) => (f.fingerprint.startsWith(kind) ? { ...f, count: f.count - 1, commands: { ...f.commands, stmt_execute: (f.commands.stmt_execute ?? 0) - 1 } } : f));
      const wrong = decodeChecks(META, r).filter((c) => c.expected !== c.reported).map((c) => c.name);
      assert.ok(wrong.includes(`server Com_${kind}`), `${kind}: ${wrong.join(', ')}`);
      assert.ok(wrong.includes('server Com_stmt_execute'), kind);
    }
    const rows = report().map((f, i) => (i === 1 ? { ...f, rows_sent: { sum: f.rows_sent.sum + 1 } } : f));
    assert.deepEqual(decodeChecks(META, rows).filter((c) => c.expected !== c.reported).map((c) => c.name), ['server Rows_sent (less the first SHOW GLOBAL STATUS)']);
    const errors = report().map((f) => (f.fingerprint.startsWith('delete') ? { ...f, errors_by_code: {} } : f));
    assert.deepEqual(
      decodeChecks(META, errors).filter((c) => c.expected !== c.reported).map((c) => c.name),
      ['sysbench writes (succeeded)', 'sysbench ignored errors'],
    );
  });

  test('the shared lock is found held by an ancestor (flock → sh → node), and not otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'periscope-lock-'));
    try {
      const lock = join(dir, 'lock');
      writeFileSync(lock, '');
      const probe = join(dir, 'probe.mjs');
      const module = fileURLToPath(new URL('../../bench/sysbench.js', import.meta.url));
      writeFileSync(probe, `import { lockHeldByAncestor } from ${JSON.stringify(module)};\nprocess.stdout.write(String(lockHeldByAncestor(${JSON.stringify(lock)})));\n`);
      const held = await execa('flock', [lock, 'sh', '-c', `"${process.execPath}" "${probe}"; true`]);
      assert.equal(held.stdout, 'true');
      const free = await execa(process.execPath, [probe]);
      assert.equal(free.stdout, 'false');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * `periscope diff` on real recordings (issue 21): the same workload recorded twice from MariaDB
 * with real tcpdump, the second with an added slow query. The slow query is named first; a
 * capture against itself, and two recordings of the same workload, show no new or gone query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope } from '../cli/run.js';
import type { Diff } from '../../analyze/diff/diff.js';
import { endAndWait } from './workload.js';

const { skip } = await liveTestOptions();

/**
 * The table of the workload: in memory, so that an UPDATE's time is not the disk's (an InnoDB
 * commit waits for its log flush: 3-6 ms each on a loaded machine, whose 150 UPDATEs came out
 * 'slower' by more than the added SLEEPs and ranked first).
 */
async function setup(): Promise<void> {
  const s = mysqlSettings();
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  try {
    await c.query('DROP TABLE IF EXISTS diff_t');
    await c.query('CREATE TABLE diff_t (id INT PRIMARY KEY, v INT) ENGINE=MEMORY');
  } finally {
    await endAndWait(c);
  }
}

/** The same statements each time: point selects, a range, an update, a ping; `slow` adds SELECT SLEEP (0.5 s in all). */
async function workload(slow: boolean): Promise<void> {
  const s = mysqlSettings();
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  try {
    await c.query('REPLACE INTO diff_t VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)');
    for (let i = 0; i < 150; i++) {
      await c.query('SELECT v FROM diff_t WHERE id = ?', [1 + (i % 5)]);
      await c.query('SELECT COUNT(*) FROM diff_t WHERE v > ?', [i % 5]);
      await c.query('UPDATE diff_t SET v = v + 1 WHERE id = ?', [1 + (i % 5)]);
      if (slow && i % 30 === 0) await c.query('SELECT SLEEP(0.1)');
    }
  } finally {
    await endAndWait(c);
  }
}

const diff = async (...args: string[]): Promise<Diff> => {
  const r = await periscope('diff', '--format', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Diff;
};

test('diff: the added slow query is named first; a capture against itself is refused, the same workload twice shows no new or gone query', { skip, timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-diff-'));
  try {
    const before = join(dir, 'before.pcap');
    const again = join(dir, 'again.pcap');
    const after = join(dir, 'after.pcap');
    await setup();
    await captureWhile({ file: before }, () => workload(false));
    await captureWhile({ file: again }, () => workload(false));
    await captureWhile({ file: after }, () => workload(true));

    const d = await diff(before, after);
    const first = d.fingerprints[0]!;
    assert.match(first.fingerprint, /^select sleep\(\?\)$/, JSON.stringify(d.fingerprints.slice(0, 3), null, 1));
    assert.equal(first.status, 'new');
    assert.equal(first.after!.calls, 5);
    assert.ok(first.impact_us_per_s > 0);
    assert.equal(d.counts.new, 1);
    assert.equal(d.counts.gone, 0);

    // The same capture on both sides is refused (it could only say 'no change'): by name, a usage
    // error; a byte-identical copy under another name, an error.
    const self = await periscope('diff', '--format', 'json', before, before);
    assert.equal(self.code, 1, self.stderr);
    assert.match(self.stderr, /named as both BEFORE and AFTER/);
    const copy = join(dir, 'copy.pcap');
    await copyFile(before, copy);
    const copied = await periscope('diff', '--format', 'json', before, copy);
    assert.equal(copied.code, 2, copied.stderr);
    assert.equal(copied.stdout, '');
    const same = await diff(before, again);
    assert.equal(same.counts.new + same.counts.gone, 0, 'the same workload: the same statements');
    t.diagnostic(`the same workload twice: ${JSON.stringify(same.counts)}`);
    // The three statements of the loop (150 calls each, give or take a packet tcpdump missed at its start) were tested.
    const tested = same.fingerprints.filter((f) => f.latency_test !== null);
    assert.ok(tested.length >= 3 && tested.every((f) => f.before!.calls >= 140 && f.after!.calls >= 140), JSON.stringify(same.fingerprints.map((f) => [f.fingerprint, f.before?.calls, f.after?.calls])));

    // Text: the slow query on the first line of the list.
    const text = await periscope('diff', before, after);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\n {3}1\. NEW {2}impact \+\S+\/s {2}[0-9a-f]{16}\n {6}select sleep\(\?\)\n/);
    const h = await periscope('diff', before, after, '--format', 'html');
    assert.match(h.stdout, /<tr class="sig">.*select sleep\(\?\)/s);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

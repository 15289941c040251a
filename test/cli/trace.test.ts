/** `periscope trace` selections (issue 21): --since/--until, --conn by the server's connection id, --limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periscope, sample } from './run.js';

const lines = (s: string) => s.split('\n').filter(Boolean);

test('trace --conn id:N: the connection the server numbered N (its greeting), the same lines as --conn #N', async () => {
  const all = await periscope('trace', sample);
  const second = lines(all.stdout).filter((l) => / #2 /.test(l));
  const id = /connection id (\d+)/.exec(second[0]!)![1]!;
  const r = await periscope('trace', sample, '--conn', `id:${id}`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), second);
  assert.deepEqual(lines((await periscope('trace', sample, '--conn', '2')).stdout), second);
  const none = await periscope('trace', sample, '--conn', 'id:999999');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no connection with server connection id 999999/);
  const bad = await periscope('trace', sample, '--conn', 'abc');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--conn abc: expected a connection number/);
});

test('trace --since/--until: only the lines of the window; --limit: at most N lines, said on stderr', async () => {
  const all = lines((await periscope('trace', sample)).stdout);
  const since = '2026-11-21T05:08:04.905Z';
  const until = '2026-11-21T05:08:04.910Z';
  const r = await periscope('trace', sample, '--since', since, '--until', until);
  assert.equal(r.code, 0, r.stderr);
  const want = all.filter((l) => l.slice(0, 27) >= '2026-11-21T05:08:04.905000Z' && l.slice(0, 27) < '2026-11-21T05:08:04.910000Z');
  assert.ok(want.length > 3 && want.length < all.length);
  assert.deepEqual(lines(r.stdout), want);
  const l = await periscope('trace', sample, '--limit', '5');
  assert.equal(l.code, 0);
  assert.deepEqual(lines(l.stdout), all.slice(0, 5));
  assert.match(l.stderr, /stopped after 5 lines \(--limit\)/);
  assert.equal((await periscope('trace', sample, '--since', 'yesterday')).code, 1);
});

test('trace: a --since/--until window that keeps no line is said, with the capture range (not a missing connection)', async () => {
  const r = await periscope('trace', sample, '--since', '2030-01-01');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no trace line in the --since\/--until window; the capture's 154 lines run from 2026-11-21T05:08:04\.896528Z to 2026-11-21T05:08:04\.916410Z/);
  const c = await periscope('trace', sample, '--conn', '1', '--until', '2020-01-01');
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /the capture's 80 lines of that connection run from/);
  assert.doesNotMatch(c.stderr, /no MySQL connection #1/);
  const some = await periscope('trace', sample, '--until', '2026-11-21T05:08:04.9Z');
  assert.doesNotMatch(some.stderr, /window/);
});

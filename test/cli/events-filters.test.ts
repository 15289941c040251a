/** `periscope events` with filters that keep nothing: said on stderr, with what the capture holds (as analyze says it). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periscope, sample } from './run.js';

test('events: filters that keep no event are said, with what the capture holds; filters that keep some are quiet', async () => {
  for (const args of [['--since', '2030-01-01'], ['--user', 'nobody'], ['--client', '10.9.9.9']]) {
    const r = await periscope('events', sample, ...args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no event passed the filters; the capture's 35 commands and logins have users periscope; .*times 2026-11-21T05:08:04\.897001Z to/, args.join(' '));
  }
  const some = await periscope('events', sample, '--user', 'periscope');
  assert.equal(some.stdout.trim().split('\n').length, 35);
  assert.doesNotMatch(some.stderr, /passed the filters/);
});

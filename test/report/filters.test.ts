/** Filter option parsing: times with and without zones and fractions, durations with units. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError, parseDuration, parseTime } from '../../analyze/run/filters.js';

test('parseTime: ISO forms, UTC unless a zone is given, fractions to the nanosecond', () => {
  const base = Date.UTC(2026, 10, 21, 5, 8, 4) / 1000;
  assert.deepEqual(parseTime('since', '2026-11-21T05:08:04Z'), { sec: base, nsec: 0 });
  assert.deepEqual(parseTime('since', '2026-11-21 05:08:04'), { sec: base, nsec: 0 });
  assert.deepEqual(parseTime('since', '2026-11-21T05:08:04.5Z'), { sec: base, nsec: 500_000_000 });
  assert.deepEqual(parseTime('since', '2026-11-21T05:08:04.123456789Z'), { sec: base, nsec: 123_456_789 });
  assert.deepEqual(parseTime('since', '2026-11-21T07:08:04+02:00'), { sec: base, nsec: 0 });
  assert.deepEqual(parseTime('since', '2026-11-21T00:08:04-0500'), { sec: base, nsec: 0 });
  assert.deepEqual(parseTime('since', '2026-11-21 05:08'), { sec: base - 4, nsec: 0 });
  assert.deepEqual(parseTime('since', '2026-11-21'), { sec: Date.UTC(2026, 10, 21) / 1000, nsec: 0 });
  for (const bad of ['yesterday', '2026-13-45T00:00:00Z', '05:08:04', '']) assert.throws(() => parseTime('since', bad), FilterError, bad);
});

test('parseDuration: units, bare numbers are milliseconds', () => {
  assert.equal(parseDuration('min-latency', '250us'), 250);
  assert.equal(parseDuration('min-latency', '250µs'), 250);
  assert.equal(parseDuration('min-latency', '10ms'), 10_000);
  assert.equal(parseDuration('min-latency', '1.5s'), 1_500_000);
  assert.equal(parseDuration('min-latency', '2m'), 120_000_000);
  assert.equal(parseDuration('min-latency', '3'), 3000);
  for (const bad of ['fast', '-1ms', '1 parsec', '']) assert.throws(() => parseDuration('min-latency', bad), FilterError, bad);
});

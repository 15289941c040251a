import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTime } from '../../common/time.js';

test('isoTime: microseconds or nanoseconds, and a damaged timestamp as seconds instead of a throw', () => {
  assert.equal(isoTime({ sec: 1_767_323_045, nsec: 123_456_789 }), '2026-01-02T03:04:05.123456Z');
  assert.equal(isoTime({ sec: 1_767_323_045, nsec: 123_456_789 }, 9), '2026-01-02T03:04:05.123456789Z');
  assert.equal(isoTime({ sec: 0, nsec: 5_000 }), '1970-01-01T00:00:00.000005Z');
  // (capture's scan had its own copy, which threw RangeError here)
  assert.equal(isoTime({ sec: 9e15, nsec: 0 }), '@9000000000000000.000000');
});

/** Sizes and durations as users type them, and numbers printed for people. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, clock, count, OptionError, parseCount, parseDuration, parseSize, parseSpace } from '../../capture/units.js';

test('sizes: decimal and binary units, any case, bare bytes, fractions', () => {
  const cases: [string, number][] = [
    ['100MB', 100e6],
    ['100mb', 100e6],
    ['100 MB', 100e6],
    ['1.5GB', 1.5e9],
    ['1GiB', 1024 ** 3],
    ['500k', 500e3],
    ['500KiB', 512000],
    ['4096', 4096],
    ['2t', 2e12],
    ['1TiB', 1024 ** 4],
    ['0', 0],
    ['10B', 10],
  ];
  for (const [text, v] of cases) assert.equal(parseSize('rotate-size', text), v, text);
  for (const bad of ['', 'MB', '-1MB', '1 2MB', '10XB', '1e6', '0x10']) assert.throws(() => parseSize('rotate-size', bad), (e: Error) => e instanceof OptionError && e.message.startsWith(`--rotate-size ${bad}:`), bad);
});

test('space thresholds: a size or a percentage', () => {
  assert.deepEqual(parseSpace('min-free-disk', '5GB'), { bytes: 5e9 });
  assert.deepEqual(parseSpace('min-free-disk', '12.5%'), { percent: 12.5 });
  assert.deepEqual(parseSpace('min-free-disk', '0'), { bytes: 0 });
  assert.throws(() => parseSpace('min-free-disk', '101%'), OptionError);
  assert.throws(() => parseSpace('min-free-disk', '%'), OptionError);
});

test('durations: bare seconds, units, combinations', () => {
  const cases: [string, number][] = [
    ['90', 90],
    ['1.5', 1.5],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1d2h', 93600],
    ['500ms', 0.5],
    ['1.5h', 5400],
    [' 2M ', 120],
  ];
  for (const [text, v] of cases) assert.equal(parseDuration('duration', text), v, text);
  for (const bad of ['', '0', '0s', 'm', '10 minutes', '1h 30m', '-5', '5x', 'h1']) assert.throws(() => parseDuration('duration', bad), OptionError, bad);
});

test('counts: positive whole numbers only', () => {
  assert.equal(parseCount('max-files', '10'), 10);
  for (const bad of ['0', '-1', '1.5', 'ten', '', '1e3']) assert.throws(() => parseCount('max-files', bad), OptionError, bad);
});

test('printing: counts, decimal sizes, clocks', () => {
  assert.equal(count(1234567), '1,234,567');
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(1000), '1.00 kB');
  assert.equal(bytes(13_000_000), '13.0 MB');
  assert.equal(bytes(999_960), '1.00 MB');
  assert.equal(bytes(80.7e9), '80.7 GB');
  assert.equal(clock(0), '00:00');
  assert.equal(clock(83.9), '01:23');
  assert.equal(clock(3723), '1:02:03');
});

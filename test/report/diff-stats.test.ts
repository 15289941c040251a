/** The tests `periscope diff` applies (analyze/diff/stats.ts), against values worked by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfc, holm, mannWhitney, rateTest, twoSided } from '../../analyze/diff/stats.js';
import { LogHistogram } from '../../analyze/aggregate/histogram.js';

const hist = (...v: number[]) => {
  const h = new LogHistogram();
  for (const x of v) h.add(x);
  return h.toState();
};
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not ${b} ± ${tol}`);

test('erfc and the two-sided normal p-value', () => {
  close(erfc(0), 1, 1e-7, 'erfc(0)');
  close(erfc(1), 0.157299207, 1e-7, 'erfc(1)');
  close(erfc(-1), 1.842700793, 1e-7, 'erfc(-1)');
  close(twoSided(1.959964), 0.05, 1e-6, 'p at z = 1.96');
  close(twoSided(-2.575829), 0.01, 1e-6, 'p at z = -2.58');
});

test('Mann-Whitney U: separated samples, ties (midranks and the tie correction), identical samples', () => {
  // 1..5 against 6..10: U = 25 of 25; z = (25 - 12.5 - 0.5) / sqrt(25 * 11 / 12).
  const sep = mannWhitney(hist(1, 2, 3, 4, 5), hist(6, 7, 8, 9, 10));
  assert.equal(sep.u, 25);
  assert.equal(sep.effect, 1);
  close(sep.z, 12 / Math.sqrt((25 * 11) / 12), 1e-9, 'z');
  close(sep.p, 0.01218, 1e-4, 'p');
  // [1, 1, 2] against [2, 3, 3]: ranks 1.5 1.5 3.5 | 3.5 5.5 5.5, U = 8.5, variance 9/12 (7 - 18/30) = 4.8.
  const tied = mannWhitney(hist(1, 1, 2), hist(2, 3, 3));
  assert.equal(tied.u, 8.5);
  close(tied.z, 3.5 / Math.sqrt(4.8), 1e-9, 'z with ties (continuity: 8.5 - 4.5 - 0.5)');
  close(tied.p, 0.1102, 1e-3, 'p with ties');
  // Slower after: effect above ½; faster: below.
  assert.ok(mannWhitney(hist(6, 7, 8), hist(1, 2, 3)).effect < 0.5);
  // A sample against itself: nothing to see.
  const same = hist(100, 120, 130, 500, 90, 100, 100);
  const self = mannWhitney(same, same);
  assert.equal(self.effect, 0.5);
  assert.equal(self.p, 1);
  // Every value in one bucket: all ties, no test.
  assert.equal(mannWhitney(hist(5, 5, 5), hist(5, 5)).p, 1);
  // An empty side.
  assert.equal(mannWhitney(hist(), hist(1, 2)).p, 1);
});

test('Mann-Whitney U: on a shift of a tenth, large samples see it and small ones do not', () => {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const v = 100 * Math.exp(((i * 7919) % 2000) / 2000 - 0.5);
    a.push(v);
    b.push(v * 1.1);
  }
  assert.ok(mannWhitney(hist(...a), hist(...b)).p < 1e-6);
  assert.ok(mannWhitney(hist(...a.slice(0, 10)), hist(...b.slice(0, 10))).p > 0.05);
});

test('rate test and Holm', () => {
  assert.equal(rateTest(100, 100, 10, 10).p, 1);
  assert.equal(rateTest(100, 100, 10, 10).ratio, 1);
  assert.ok(rateTest(100, 200, 10, 10).p < 1e-6);
  assert.equal(rateTest(100, 200, 10, 20).ratio, 1);
  assert.equal(rateTest(0, 5, null, 10).ratio, null);
  assert.deepEqual(holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5]);
  assert.deepEqual(holm([]), []);
});

/**
 * The HTML report's charts: axes with ticks and titles in the right units, and the chart functions
 * self-contained — the page runs them from their source alone, as a fingerprint's row is clicked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { chartSvg, fingerprintChartSpec, type ChartSpec, type FingerprintSeries } from '../../analyze/report/chart.js';

const ticks = (svg: string, axis: string): string[] => [...svg.matchAll(new RegExp(`<text class="tick ${axis}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
const titles = (svg: string): string[] => [...svg.matchAll(/<text class="axis-title[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

const series: FingerprintSeries = {
  b: 1,
  p: [
    [1_795_237_690, 4, 0, 120, 900, 1500],
    [1_795_237_691, 2, 1, 100, 2000, 2100],
    [1_795_237_700, 1, 0, 5000, 5000, 5000],
  ],
};

test('chart: the functions run from their source alone (what the page does), with the same result', () => {
  const spec = fingerprintChartSpec('fp-chart', series, 1_795_237_684, 1_795_237_744);
  const inPage = runInNewContext(`${chartSvg.toString()}\n${fingerprintChartSpec.toString()}\nchartSvg(fingerprintChartSpec('fp-chart', series, 1795237684, 1795237744))`, { series });
  assert.equal(inPage, chartSvg(spec));
});

test('chart: a fingerprint timeline — calls/s bars, p50/p95/max on a log axis, time of day in UTC', () => {
  const svg = chartSvg(fingerprintChartSpec('fp-chart', series, 1_795_237_684, 1_795_237_744));
  assert.deepEqual(titles(svg), ['time (UTC)', 'calls/s', 'latency (log scale)']);
  // 60 s: a tick every 10 s, as times of day.
  assert.deepEqual(ticks(svg, 'x'), ['05:08:10', '05:08:20', '05:08:30', '05:08:40', '05:08:50', '05:09:00'], ticks(svg, 'x').join(' '));
  // 100 µs to 5 ms: 2 decades, so 2 and 5 between them.
  assert.deepEqual(ticks(svg, 'y2'), ['100us', '200us', '500us', '1ms', '2ms', '5ms', '10ms']);
  assert.deepEqual(ticks(svg, 'y'), ['0', '1', '2', '3', '4']);
  assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 3);
  assert.equal((svg.match(/fill="#d9534f"><title>/g) ?? []).length, 1, 'the bucket with an error is red');
  // The gap from :691 to :700 breaks each line: two pieces (two M) per line.
  for (const d of [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!)) assert.equal(d.split('M').length - 1, 2, d);
});

test('chart: linear axes end on a round tick above the data; log axes at decades; long spans tick in minutes, days', () => {
  const base: ChartSpec = { id: 'c', label: 'c', width: 900, height: 240, x: { title: 'latency', min: 14, max: 860_000, log: true, unit: 'us' }, y: { title: 'commands', min: 0, max: 24_537, unit: 'number' }, bars: [], lines: [], legend: [] };
  const svg = chartSvg(base);
  assert.deepEqual(ticks(svg, 'x'), ['10us', '100us', '1ms', '10ms', '100ms', '1s']);
  assert.deepEqual(ticks(svg, 'y'), ['0', '5000', '10k', '15k', '20k', '25k']);
  const hour = chartSvg({ ...base, x: { title: 'time (UTC)', min: 1_795_237_684, max: 1_795_237_684 + 3600, unit: 'time' } });
  assert.deepEqual(ticks(hour, 'x'), ['05:10', '05:20', '05:30', '05:40', '05:50', '06:00']);
  const days = chartSvg({ ...base, x: { title: 'time (UTC)', min: 1_795_237_684, max: 1_795_237_684 + 3 * 86400, unit: 'time' } });
  assert.ok(ticks(days, 'x').every((t) => /^\d\d-\d\d \d\d:\d\d$|^\d{4}-\d\d-\d\d$/.test(t)), ticks(days, 'x').join(' '));
  // Text from the capture is escaped.
  assert.ok(!chartSvg({ ...base, bars: [{ x0: 20, x1: 30, y: 1, color: '#000', title: '<script>' }] }).includes('<script>'));
});

/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core. The page loads
 * from a file with no console errors and no network request, both charts draw bars and have axes
 * with ticks and titles, nothing scrolls sideways in a 1,400 px window, clicking a column header
 * sorts the fingerprint table, typing in the search box filters it, clicking a row shows its
 * details and its own timeline (the bars those of the JSON report), and screenshots are kept in
 * test/artifacts/.
 * Skips without Chromium on a laptop; fails in CI (PERISCOPE_REQUIRE_LIVE=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { requireLive } from './env.js';
import { periscope, repoRoot, sample } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';

/** The little of a DOM element this test measures (no DOM types in this project). */
type Box = { scrollWidth: number; clientWidth: number; parentElement: Box | null };

const CHROMIUM = '/usr/bin/chromium';
const present = await access(CHROMIUM).then(
  () => true,
  () => false,
);
if (!present && requireLive) throw new Error(`the HTML test needs ${CHROMIUM} (apt-get install chromium); PERISCOPE_REQUIRE_LIVE=1 forbids skipping`);
const skip = present ? false : `skipped: ${CHROMIUM} is not installed (apt-get install chromium)`;

test('html report: loads offline without console errors, charts with axes, fits 1,400 px, sorting, search, a row\'s own timeline', { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-html-'));
  const file = join(dir, 'report.html');
  const inputs = [sample, `${repoRoot}test/fixtures/captures/linux-sll2-any.pcap`];
  const r = await periscope('analyze', ...inputs, '--format', 'html', '-o', file);
  assert.equal(r.code, 0, r.stderr);
  const json = await periscope('analyze', ...inputs, '--format', 'json');
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as Report;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const requests: string[] = [];
    page.on('request', (q) => {
      if (!q.url().startsWith('file:')) requests.push(q.url());
    });
    await page.goto(`file://${file}`);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [], 'the page is self-contained');

    // Both charts draw bars with a height.
    for (const id of ['histogram', 'timeline']) {
      const heights = await page.$$eval(`svg#${id} rect.bar`, (els) => els.map((e) => Number(e.getAttribute('height'))));
      assert.ok(heights.length > 0 && heights.some((h) => h > 1), `${id}: ${heights.length} bars`);
      const box = await page.locator(`svg#${id}`).boundingBox();
      assert.ok(box && box.width > 300 && box.height > 50, `${id} is visible`);
      await assertAxes(`svg#${id}`);
    }
    const titles = async (sel: string) => page.$$eval(`${sel} text.axis-title`, (els) => els.map((e) => e.textContent));
    assert.deepEqual(await titles('svg#histogram'), ['latency (log scale)', 'commands']);
    assert.deepEqual(await titles('svg#timeline'), ['time (UTC)', 'commands/s', 'average latency']);
    // Latency ticks carry their unit, times are times of day.
    assert.ok((await ticks('svg#histogram', 'x')).every((t) => /^\d+(\.\d+)?(us|ms|s|min|h)$/.test(t)), (await ticks('svg#histogram', 'x')).join(' '));
    assert.ok((await ticks('svg#timeline', 'x')).every((t) => /^\d\d:\d\d(:\d\d)?$/.test(t)), (await ticks('svg#timeline', 'x')).join(' '));

    // Nothing scrolls sideways at 1,400 px: not the page, not the fingerprint table.
    const widths = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: Box; querySelector(s: string): Box } }).document;
      const wrap = d.querySelector('#fp-table').parentElement!;
      return { page: [d.documentElement.scrollWidth, d.documentElement.clientWidth], table: [wrap.scrollWidth, wrap.clientWidth] };
    });
    assert.ok(widths.page[0]! <= widths.page[1]! && widths.table[0]! <= widths.table[1]!, `horizontal scroll: ${JSON.stringify(widths)}`);

    // Sorting: Calls descending, then ascending; Fingerprint alphabetically.
    // (No DOM types in this project: a table row as far as this test needs it.)
    type Row = { cells: { getAttribute(n: string): string | null; textContent: string | null }[] };
    const column = async (i: number) => page.$$eval('#fp-table tbody tr', (rows, i) => rows.map((r) => (r as unknown as Row).cells[i]!.getAttribute('data-v') ?? (r as unknown as Row).cells[i]!.textContent!), i);
    const callsCol = (await page.$$eval('#fp-table thead th', (ths) => ths.map((t) => t.textContent))).indexOf('Calls');
    assert.ok(callsCol > 0);
    const rows = (await column(callsCol)).length;
    assert.ok(rows > 10);
    await page.click(`#fp-table thead th:nth-child(${callsCol + 1})`);
    const desc = (await column(callsCol)).map(Number);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    await page.click(`#fp-table thead th:nth-child(${callsCol + 1})`);
    const asc = (await column(callsCol)).map(Number);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    assert.notDeepEqual(asc, desc, 'the order changed');
    await page.click('#fp-table thead th:nth-child(2)');
    const names = await column(1);
    assert.equal(names.length, rows);
    assert.deepEqual(names, [...names].sort((a, b) => b.localeCompare(a)));

    // The search box filters the rows by the text of fingerprint, table, user, database…
    const visible = async () => page.$$eval('#fp-table tbody tr.fp-row', (rs) => rs.filter((x) => !(x as unknown as { hidden: boolean }).hidden).map((x) => x.getAttribute('data-search')!));
    await page.fill('#fp-search', 'no_such_table');
    const hits = await visible();
    assert.ok(hits.length > 0 && hits.length < rows, `${hits.length} of ${rows} rows match 'no_such_table'`);
    assert.ok(hits.every((t) => t.includes('no_such_table')));
    assert.equal(await page.textContent('#fp-count'), `${hits.length} of ${rows} shown`);
    await page.fill('#fp-search', 'CUSTOMERS periscope');
    const both = await visible();
    assert.ok(both.length > 0 && both.every((t) => t.includes('customers') && t.includes('periscope')), 'every word must match, in any case');
    await page.fill('#fp-search', 'nothing matches this');
    assert.equal((await visible()).length, 0);
    await page.fill('#fp-search', '');
    assert.equal((await visible()).length, rows);

    // A click on a row: its details and its own timeline, as the JSON report has it.
    await page.click('#fp-table thead th:nth-child(1)'); // rank, ascending after two clicks
    await page.click('#fp-table thead th:nth-child(1)');
    const first = report.fingerprints[0]!;
    await page.click(`#fp-table tr.fp-row[data-rank="${first.rank}"] td:nth-child(3)`);
    const detail = await page.textContent('#fp-table tr.detail');
    assert.ok(detail!.includes(first.fingerprint) && detail!.includes(first.digest), 'the full fingerprint and its digest');
    const bars = await page.$$eval('svg#fp-chart rect.bar', (els) => els.map((e) => Number(e.getAttribute('height'))));
    assert.equal(bars.length, first.timeline!.points.length, 'a bar per bucket with calls');
    assert.ok(bars.every((h) => h > 1));
    assert.deepEqual(await titles('svg#fp-chart'), ['time (UTC)', 'calls/s', 'latency (log scale)']);
    await assertAxes('svg#fp-chart');
    assert.ok((await ticks('svg#fp-chart', 'y2')).every((t) => /^\d+(\.\d+)?(us|ms|s|min|h)$/.test(t)));
    const box = await page.locator('svg#fp-chart').boundingBox();
    assert.ok(box && box.width > 600 && box.height > 100, 'the chart is visible');
    await page.locator('#fingerprints').screenshot({ path: `${repoRoot}test/artifacts/report-fingerprint.png` });
    // Another row's click closes the first; a second click closes it.
    await page.click(`#fp-table tr.fp-row[data-rank="2"] td:nth-child(3)`);
    assert.equal(await page.locator('#fp-table tr.detail').count(), 1);
    await page.click(`#fp-table tr.fp-row[data-rank="2"] td:nth-child(3)`);
    assert.equal(await page.locator('#fp-table tr.detail').count(), 0);
    // From the keyboard: a row takes the focus, Enter opens it.
    await page.focus('#fp-table tr.fp-row[data-rank="3"]');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#fp-table tr.fp-row[data-rank="3"] + tr.detail svg#fp-chart').count(), 1);
    assert.deepEqual(problems, []);

    // Examples are redacted.
    const text = await page.textContent('body');
    assert.ok(text!.includes('Capture health'));
    assert.ok(!text!.includes('ada@example.com'));

    await mkdir(`${repoRoot}test/artifacts`, { recursive: true });
    await page.screenshot({ path: `${repoRoot}test/artifacts/report.png`, fullPage: true });

    async function ticks(sel: string, axis: 'x' | 'y' | 'y2'): Promise<string[]> {
      return page.$$eval(`${sel} text.tick.${axis}`, (els) => els.map((e) => e.textContent ?? ''));
    }
    /** Both axes have at least two labelled ticks. */
    async function assertAxes(sel: string): Promise<void> {
      for (const axis of ['x', 'y'] as const) {
        const t = await ticks(sel, axis);
        assert.ok(t.length >= 2 && t.every((x) => x.length > 0), `${sel}: ${axis} ticks ${JSON.stringify(t)}`);
      }
    }
  } finally {
    await browser.close();
  }
});

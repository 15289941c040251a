/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core. The page loads
 * from a file with no console errors and no network request, both charts draw bars, clicking a
 * column header sorts the fingerprint table, and a screenshot is kept in test/artifacts/.
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

const CHROMIUM = '/usr/bin/chromium';
const present = await access(CHROMIUM).then(
  () => true,
  () => false,
);
if (!present && requireLive) throw new Error(`the HTML test needs ${CHROMIUM} (apt-get install chromium); PERISCOPE_REQUIRE_LIVE=1 forbids skipping`);
const skip = present ? false : `skipped: ${CHROMIUM} is not installed (apt-get install chromium)`;

test('html report: loads offline without console errors, charts render, sorting works', { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-html-'));
  const file = join(dir, 'report.html');
  const r = await periscope('analyze', sample, `${repoRoot}test/fixtures/captures/linux-sll2-any.pcap`, '--format', 'html', '-o', file);
  assert.equal(r.code, 0, r.stderr);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
    }

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

    // Examples open on click and are redacted.
    const text = await page.textContent('body');
    assert.ok(text!.includes('Capture health'));
    assert.ok(!text!.includes('ada@example.com'));

    await mkdir(`${repoRoot}test/artifacts`, { recursive: true });
    await page.screenshot({ path: `${repoRoot}test/artifacts/report.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});

/**
 * The tables and connections sections of the HTML report in a real browser (Debian's Chromium,
 * playwright-core): present with their rows, sortable by a click like the other tables, and
 * within a 1,400 px window. A screenshot of them is kept in test/artifacts/.
 * Skips without Chromium on a laptop; fails in CI (PERISCOPE_REQUIRE_LIVE=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumSkip, launchChromium } from './chromium.js';
import { periscope, repoRoot, sample } from '../cli/run.js';

const skip = await chromiumSkip();

test('html report: the tables and connections sections show their rows, sort on a click and fit 1,400 px', { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-html-views-'));
  const file = join(dir, 'report.html');
  const r = await periscope('analyze', sample, `${repoRoot}test/fixtures/mysql/mysql.pcap`, '--format', 'html', '-o', file);
  assert.equal(r.code, 0, r.stderr);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`file://${file}`);
    assert.deepEqual(problems, []);

    // (No DOM types in this project: a table row as far as this test needs it.)
    type Row = { cells: { getAttribute(n: string): string | null; textContent: string | null }[] };
    const column = (sel: string, i: number) => page.$$eval(`${sel} tbody tr`, (rows, i) => rows.map((r) => (r as unknown as Row).cells[i]!.getAttribute('data-v') ?? (r as unknown as Row).cells[i]!.textContent!), i);
    const tables = await column('#tables-table', 0);
    assert.ok(tables.includes('customers'), tables.join(', '));
    // Ranked by time; a click on Calls sorts by calls, a second click the other way.
    const time = (await column('#tables-table', 1)).map(Number);
    assert.deepEqual(time, [...time].sort((a, b) => b - a));
    await page.click('#tables-table thead th:nth-child(4)');
    const calls = (await column('#tables-table', 3)).map(Number);
    assert.deepEqual(calls, [...calls].sort((a, b) => b - a));
    await page.click('#tables-table thead th:nth-child(4)');
    assert.deepEqual((await column('#tables-table', 3)).map(Number), [...calls].sort((a, b) => a - b));

    const section = page.locator('#connections');
    const text = (await section.textContent())!;
    assert.match(text, /Logins: \d+ \(/);
    assert.match(text, /Prepared: 4 prepares, 6 executes of them \(1\.5 per prepare\)/);
    const users = await column('#connections table:first-of-type', 0);
    assert.ok(users.includes('periscope'), users.join(', '));

    for (const id of ['#tables', '#connections']) {
      const box = await page.locator(id).boundingBox();
      assert.ok(box && box.x + box.width <= 1400, `${id} fits the window: ${JSON.stringify(box)}`);
      const overflow = await page.$eval(id, (e) => {
        const el = e as unknown as { scrollWidth: number; clientWidth: number; querySelector(s: string): { scrollWidth: number; clientWidth: number } | null };
        const inner = el.querySelector('.scroll');
        return Math.max(el.scrollWidth - el.clientWidth, inner ? inner.scrollWidth - inner.clientWidth : 0);
      });
      assert.ok(overflow <= 0, `${id} needs no horizontal scroll (${overflow} px over)`);
    }
    await mkdir(`${repoRoot}test/artifacts`, { recursive: true });
    await page.locator('#tables').screenshot({ path: `${repoRoot}test/artifacts/report-tables.png` });
    await page.locator('#connections').screenshot({ path: `${repoRoot}test/artifacts/report-connections.png` });
  } finally {
    await browser.close();
  }
});

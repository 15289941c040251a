/** periscope live's stall check (analyze/live/stall.ts): loud when tcpdump captures but nothing is parsed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StallWatch, STALL_SEC } from '../../analyze/live/stall.js';
import { assessHealth } from '../../analyze/report/report.js';

test('a stall is reported once when tcpdump counts packets the analyzer does not parse, and its end too', () => {
  const w = new StallWatch(0);
  // Flowing: both grow.
  for (let s = 1; s <= 5; s++) assert.equal(w.tick(s * 1000, s * 1000, s * 1000 - 50, s * 1e5).message, null);
  // The pipe goes quiet while tcpdump keeps capturing (the run: 0.5 s of traffic, then nothing).
  let said: string[] = [];
  for (let s = 6; s <= 6 + STALL_SEC + 3; s++) {
    const m = w.tick(s * 1000, s * 1000, 4950, 5e5).message;
    if (m) said.push(m);
  }
  assert.equal(said.length, 1, 'said once, not every second');
  assert.match(said[0]!, /^NO PACKETS REACH THE ANALYZER: tcpdump captured \d[\d,]* packets, 4,950 were parsed, none in the last 3 s/);
  assert.equal(w.stalls, 1);
  said = [];
  const m = w.tick(20_000, 20_000, 19_000, 9e5).message;
  assert.match(m!, /^packets reach the analyzer again \(1,000 captured by tcpdump not parsed yet\)/);
});

test('no traffic at all is not a stall: tcpdump captured nothing more than was parsed', () => {
  const w = new StallWatch(0);
  for (let s = 1; s <= 20; s++) assert.equal(w.tick(s * 1000, 100, 100, 1e4).message, null);
  assert.equal(w.stalls, 0);
});

test('packets that never reached the analyzer make the report bad, with a note', () => {
  const h = assessHealth({ packets: 1000, packetsNotAnalysed: 9000, kernelDropsKnown: 1, kernelDrops: 0 }, 500);
  assert.equal(h.status, 'bad');
  assert.ok(h.notes.some((n) => /9,000 packets captured by tcpdump never reached the analyzer/.test(n)), h.notes.join('\n'));
});

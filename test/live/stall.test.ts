/**
 * Issue 21: one run in seven of `periscope live` under load stopped seeing traffic after half a
 * second, silently. Live is run here 8 times in a row (3 s each, about 55 s in all) against
 * MariaDB serving a steady workload that runs past its end; every run must see traffic in every
 * second up to its end: no empty second, commands in the last whole second, the last command
 * within the last second of the run, no stall message, no packet tcpdump captured left unparsed.
 * Real tcpdump, real MariaDB; run under the shared lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { bin } from '../cli/run.js';
import type { Report } from '../../analyze/report/report.js';
import { endAndWait } from './workload.js';

const opts = await liveTestOptions();
const RUNS = 8;

test(`live: ${RUNS} runs in a row under a steady workload each see traffic until their end`, { ...opts, timeout: 180_000 }, async () => {
  const s = mysqlSettings();
  const dir = await mkdtemp(join(tmpdir(), 'periscope-stall-'));
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  let running = true;
  let sent = 0;
  // About 500 statements a second on one connection, until the last run has ended.
  const load = (async () => {
    while (running) {
      await c.query('SELECT ? AS stall_probe', [sent++]);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const problems: string[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const out = join(dir, `run-${run}.json`);
      const r = await execa('node', [bin, 'live', '-i', 'lo', '-p', String(s.port), '--duration', '3s', '--refresh', '1', '-f', 'json', '-o', out], { reject: false });
      const endedMs = Date.now();
      const stderr = String(r.stderr);
      if (r.exitCode !== 0) {
        problems.push(`run ${run}: exit ${r.exitCode}: ${stderr}`);
        continue;
      }
      const rep = JSON.parse(await readFile(out, 'utf8')) as Report;
      const points = rep.timeline.points;
      const empty = points.slice(0, -1).filter((p) => p.commands === 0).map((p) => p.t);
      // The last bucket is the drain's partial second; the one before it is whole.
      const lastWhole = points.length >= 2 ? points[points.length - 2]!.commands : 0;
      const lastCmdMs = rep.overall.rates.traffic.last === null ? 0 : Date.parse(rep.overall.rates.traffic.last);
      const line = `run ${run}: ${rep.overall.commands} commands over ${points.length} s, last whole second ${lastWhole}, last command ${endedMs - lastCmdMs} ms before the exit`;
      if (empty.length > 0) problems.push(`${line}: seconds without a command: ${empty.join(', ')}`);
      if (lastWhole === 0) problems.push(`${line}: no command in the last whole second`);
      if (endedMs - lastCmdMs > 1500) problems.push(`${line}: traffic stopped before the end`);
      if (/NO PACKETS REACH THE ANALYZER|never reached the analyzer|damaged/.test(stderr)) problems.push(`${line}: ${stderr}`);
      if ((rep.health.counters.packetsNotAnalysed ?? 0) > 0 || (rep.health.counters.kernelDrops ?? 0) > 0) problems.push(`${line}: ${JSON.stringify(rep.health.counters)}`);
      if (rep.overall.commands < 500) problems.push(`${line}: too few commands`);
    }
  } finally {
    running = false;
    await load;
    await endAndWait(c);
  }
  assert.deepEqual(problems, []);
});

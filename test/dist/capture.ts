/**
 * What the tests of the built artifacts share: a real capture of MariaDB traffic on loopback, made
 * by the artifact under test (dist/periscope.mjs or the single executable), with the manifest it
 * wrote. Run under the shared live-test lock (flock /tmp/periscope-live.lock …).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { createConnection } from 'mysql2/promise';
import { mysqlSettings } from '../live/env.js';
import type { CaptureManifest } from '../../capture/manifest.js';
import { endAndWait } from '../live/workload.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The query the capture must show, on a table of the artifact's own (`dist_${tag}`): no other test's
 * traffic holds it, even when test files run side by side. As events show it: redacted.
 */
export const marker = (tag: string): string => `SELECT name FROM dist_${tag} WHERE id = ?`;

/**
 * Start the artifact's `capture`, send a few statements on a table of their own once tcpdump
 * listens, stop it with the artifact's `capture --stop`, and return its exit and manifest. (Not
 * --duration: on a loaded machine the statements could come after the window, which is cut.)
 */
export async function captureTraffic(start: (args: string[]) => ResultPromise, dir: string, tag: string): Promise<{ code: number; stderr: string; manifest: CaptureManifest }> {
  const s = mysqlSettings();
  const proc = start(['capture', '--out', dir, '-i', 'lo', '-p', String(s.port)]);
  let exited = false;
  void proc.then(() => (exited = true));
  const until = Date.now() + 20_000;
  for (;;) {
    const m = await readFile(join(dir, 'capture.json'), 'utf8').then((t) => JSON.parse(t) as CaptureManifest, () => null);
    if (m?.ended.reason === 'running') break;
    if (exited || Date.now() > until) throw new Error(`the capture did not start: ${String((await proc).stderr)}`);
    await sleep(100);
  }
  const c = await createConnection({ ...s });
  try {
    await c.query(`CREATE TABLE IF NOT EXISTS dist_${tag} (id INT PRIMARY KEY, name VARCHAR(20))`);
    await c.query(`REPLACE INTO dist_${tag} VALUES (42, 'forty-two')`);
    await c.query(marker(tag).replace('?', '42'));
  } finally {
    await endAndWait(c);
  }
  const stop = await start(['capture', '--stop', dir]);
  if (stop.exitCode !== 0) throw new Error(`capture --stop failed: ${String(stop.stderr)}`);
  const r = await proc;
  const manifest = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
  return { code: r.exitCode ?? -1, stderr: String(r.stderr), manifest };
}

/**
 * `periscope capture` with real tcpdump on loopback, through the real CLI: rotation by size and by
 * time with no command lost across file boundaries (MariaDB traffic, compared with a single-file
 * tcpdump of the same traffic), the ring buffer, the size and disk limits, --max-packets,
 * --duration, --status and --stop from another process, stale pid files, the dead man's switch,
 * permissions, and the pcap stream `periscope live` will use.
 *
 * Run under the shared lock: flock /scr.path()/periscope-live.lock npm test
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { chmod, chown, copyFile, mkdir, stat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { mysqlSettings, requireLive } from '../live/env.js';
import { bin } from '../cli/run.js';
import { captureTestOptions, manifestOf, pidOf, pump, referenceTcpdump, run, scratch, sleep, startCapture, waitFor, withEcho, type Run } from './helpers.js';
import { startPcapStream } from '../../capture/tcpdump.js';
import { DRAIN_MS } from '../../capture/argv.js';
import { PcapParser } from '../../src/pcap/pcap.js';
import { Step } from '../../src/pcap/record.js';
import type { CaptureManifest } from '../../capture/manifest.js';
import { endAndWait } from '../live/workload.js';

const { live: opts, root: rootOpts } = await captureTestOptions();
const scr = scratch('periscope-capture-');
const tmpfs = scr.tmpfs;

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
const pcaps = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('periscope-')).sort();

interface Event {
  ts: string;
  client: string;
  cmd: string;
  sql: string | null;
  status: string;
}

async function events(...paths: string[]): Promise<Event[]> {
  const r = await run(['events', ...paths]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
}

/** MariaDB traffic over ~4 s and ~6 MB: 4 connections, each 15 rounds of a 100 KB result, a small query and a prepared statement. */
async function mysqlTraffic(): Promise<{ ports: Set<string>; queries: number }> {
  const s = mysqlSettings();
  const ports = new Set<string>();
  let queries = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async (i) => {
      const c: Connection = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
      ports.add(`127.0.0.1:${(c as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort}`);
      try {
        for (let r = 0; r < 15; r++) {
          await c.query(`SELECT ${i} AS conn, ${r} AS round, REPEAT('x', 100000) AS pad`);
          await c.query('SELECT 1');
          await c.execute('SELECT ? AS v', [r]);
          queries += 2;
          await sleep(250);
        }
      } finally {
        await endAndWait(c);
      }
    }),
  );
  return { ports, queries };
}

/** A capture that must stop by itself (a limit) while traffic is pumped at `rate` bytes/s. */
async function untilItStops(dir: string, port: number, args: string[], rate: number): Promise<{ r: Run; m: CaptureManifest }> {
  const c = await startCapture(dir, ['-i', 'lo', '-p', String(port), '--buffer-size', '32MiB', ...args]);
  let ended = false;
  const pumping = pump(port, 50_000_000, 4000, rate, () => ended).catch(() => 0);
  const r = await c.done;
  ended = true;
  await pumping;
  return { r, m: await manifestOf(dir) };
}

test('rotation by size and by time: complete files, readable, and no command lost across file boundaries', opts, async () => {
  const bySize = join(scr.path(), 'by-size');
  const byTime = join(scr.path(), 'by-time');
  const ref = join(scr.path(), 'reference.pcap');
  const port = mysqlSettings().port;
  const reference = await referenceTcpdump(ref, `tcp port ${port}`);
  const a = await startCapture(bySize, ['-i', 'lo', '-p', String(port), '--rotate-size', '1MB', '--buffer-size', '32MiB']);
  const b = await startCapture(byTime, ['-i', 'lo', '-p', String(port), '--rotate-seconds', '1', '--buffer-size', '32MiB']);
  const traffic = await mysqlTraffic();
  const stops = await Promise.all([run(['capture', '--stop', bySize]), run(['capture', '--stop', byTime]), reference.stop()]);
  for (const r of stops.slice(0, 2) as { code: number; stderr: string }[]) assert.equal(r.code, 0, r.stderr);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);

  // Per connection, in order (two tcpdumps may stamp the same packet a microsecond apart).
  const mine = (e: Event[]): Record<string, string[]> => {
    const by: Record<string, string[]> = {};
    for (const x of e) if (traffic.ports.has(x.client)) (by[x.client] ??= []).push(`${x.cmd} ${x.status} ${x.sql}`);
    return by;
  };
  const expected = mine(await events(ref));
  assert.equal(Object.values(expected).flat().filter((l) => /^query /.test(l)).length, traffic.queries, 'the reference capture holds every query');
  assert.equal(Object.keys(expected).length, 4);

  for (const [dir, minFiles] of [
    [bySize, 5],
    [byTime, 3],
  ] as const) {
    const m = await manifestOf(dir);
    const names = await pcaps(dir);
    assert.ok(names.length >= minFiles, `${dir}: ${names.length} files`);
    assert.deepEqual(m.files.map((f) => f.name), names, 'the manifest lists the files on disk');
    assert.equal(m.ended.reason, 'stop');
    assert.equal(m.packets.final, true);
    assert.equal(m.packets.droppedByKernel, 0);
    assert.equal(m.files.reduce((n, f) => n + (f.packets ?? NaN), 0), m.packets.captured, 'per-file packet counts add up to what tcpdump wrote');
    for (const f of m.files) assert.equal(f.truncated, false, f.name);
    // Files follow each other in time, and connections carry on across their boundaries. (On lo
    // the kernel stamps packets on both cores and tcpdump writes them in ring order, so a file's
    // first packet may be stamped a few microseconds before the previous file's last: CI saw it.)
    for (let i = 1; i < m.files.length; i++) {
      const first = m.files[i]!.firstPacket;
      const last = m.files[i - 1]!.lastPacket;
      if (first && last) assert.ok(Date.parse(first) >= Date.parse(last) - 1, `${m.files[i]!.name} starts at ${first}, before ${m.files[i - 1]!.name} ends at ${last}`);
    }
    const info = await run(['info', '--json', dir]);
    assert.equal(info.code, 0, info.stderr);
    const report = JSON.parse(info.stdout) as { files: { status: string; truncated_tail: unknown }[]; tcp: { gaps: number } };
    assert.equal(report.tcp.gaps, 0, 'no TCP bytes lost at file boundaries');
    const got = mine(await events(dir));
    assert.deepEqual(got, expected, `${dir}: the same commands as the single-file capture`);
  }
  const sizes = (await manifestOf(bySize)).files.map((f) => f.bytes);
  for (const s of sizes.slice(0, -1)) assert.ok(s >= 1e6 && s <= 1e6 + 262160, `size-rotated file of ${s} bytes: tcpdump rotates past 1,000,000 bytes, by at most one packet`);
  const timed = await pcaps(byTime);
  assert.ok(timed.every((n) => /^periscope-\d{8}-\d{6}\.pcap$/.test(n)));
});

test('ring buffer: --max-files keeps the newest files, the manifest records the deleted ones', opts, async () => {
  const dir = join(scr.path(), 'ring');
  await withEcho(async (echo) => {
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port), '--rotate-size', '1MB', '--max-files', '3', '--buffer-size', '32MiB']);
    await pump(echo.port, 4_000_000, 4000, 4e6);
    // The watch loop deletes the oldest files on its next tick after a rotation (twice a second,
    // later on a loaded machine: a fixed wait here saw 5 files): at most 3 closed files and the one
    // being written once it has run.
    const during = await waitFor('the ring buffer to keep at most 4 files', async () => {
      const names = await pcaps(dir);
      return names.length <= 4 ? names : null;
    }, 10_000);
    assert.ok(during.length >= 3, during.join(', '));
    assert.equal((await run(['capture', '--stop', dir])).code, 0);
    const r = await c.done;
    assert.equal(r.code, 0, r.stderr);
    const m = await manifestOf(dir);
    const names = await pcaps(dir);
    assert.equal(names.length, 3);
    assert.deepEqual(m.files.map((f) => f.name), names);
    assert.ok(m.deleted.length >= 4, `${m.deleted.length} deleted`);
    for (const d of m.deleted) {
      assert.ok(!names.includes(d.name));
      assert.ok(d.name < names[0]!, 'the oldest files go first');
      assert.match(d.deletedAt!, /^\d{4}-\d\d-\d\dT/);
    }
    assert.ok(m.files.every((f) => f.packets !== null && f.packets > 0));
    const info = await run(['info', dir]);
    assert.equal(info.code, 0, info.stderr);
  });
});

test('--max-total stops before the files pass it; --max-packets and --duration stop by themselves', opts, async () => {
  await withEcho(async (echo) => {
    const dir = join(scr.path(), 'max-total');
    const { r, m } = await untilItStops(dir, echo.port, ['--rotate-size', '1MB', '--max-total', '3MB'], 0.5e6);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--max-total reached/);
    assert.equal(m.ended.reason, 'max-total');
    const total = m.files.reduce((n, f) => n + f.bytes, 0);
    assert.ok(total <= 3e6, `${total} bytes`);
    assert.ok(total > 1e6, `${total} bytes: stopped near the limit, not at once`);

    const dir2 = join(scr.path(), 'max-packets');
    const c2 = await startCapture(dir2, ['-i', 'lo', '-p', String(echo.port), '--max-packets', '100']);
    await pump(echo.port, 200 * 100, 100);
    const r2 = await c2.done;
    assert.equal(r2.code, 0, r2.stderr);
    const m2 = await manifestOf(dir2);
    assert.equal(m2.ended.reason, 'max-packets');
    assert.equal(m2.packets.captured, 100);
    assert.equal(m2.files[0]!.packets, 100);

    const dir3 = join(scr.path(), 'duration');
    const t0 = Date.now();
    const c3 = await startCapture(dir3, ['-i', 'lo', '-p', String(echo.port), '--duration', '1s']);
    // Traffic all along, through the stop's drain (2.5 s): the files hold the window, no more.
    let over = false;
    void c3.done.then(() => (over = true));
    await pump(echo.port, 1e9, 1000, 200_000, () => over);
    const r3 = await c3.done;
    assert.equal(r3.code, 0, r3.stderr);
    const m3 = await manifestOf(dir3);
    assert.equal(m3.ended.reason, 'duration');
    assert.ok(Date.now() - t0 < 15_000);
    const ms = (iso: string) => Date.parse(iso) + Number((/\.(\d+)Z$/.exec(iso)?.[1] ?? '').padEnd(6, '0').slice(3, 6)) / 1000;
    const window = ms(m3.endedAt!) - ms(m3.startedAt);
    // From the start of the command (before tcpdump is started) to the window's end: at least the
    // second, and short of the drain that follows it (the start's own time varies with the load).
    assert.ok(window >= 1000 && window < 1000 + DRAIN_MS, `the manifest's window: ${window} ms for --duration 1s (the drain after it: ${DRAIN_MS} ms)`);
    const last = Math.max(...m3.files.map((f) => (f.lastPacket ? ms(f.lastPacket) : 0)));
    assert.ok(last <= ms(m3.endedAt!), `the last packet ${m3.files.map((f) => f.lastPacket).join(', ')} is not after the window's end ${m3.endedAt}`);
    assert.ok(last > ms(m3.endedAt!) - 300, 'traffic up to the end of the window is kept');
    assert.equal(m3.packets.captured, m3.files.reduce((n, f) => n + (f.packets ?? 0), 0), 'the packets cut are not counted as captured');
    const info3 = await run(['info', dir3]);
    assert.equal(info3.code, 0, info3.stderr);
  });
});

test('--status and --stop from another process; files 0600 in a 0700 directory', opts, async () => {
  const dir = join(scr.path(), 'status');
  await withEcho(async (echo) => {
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port)]);
    await pump(echo.port, 100_000, 1000);
    assert.equal(await mode(dir), 0o700);
    for (const n of await readdir(dir)) assert.equal(await mode(join(dir, n)), 0o600, n);
    assert.deepEqual((await readdir(dir)).sort(), ['.periscope-reserve', 'capture.json', 'capture.pid', (await pcaps(dir))[0]!].sort());
    const s = await run(['capture', '--status', dir]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`^capture +running for .*periscope pid ${c.pid.pid}, tcpdump pid ${c.pid.tcpdumpPid}`, 'm'));
    assert.match(s.stdout, /^interface +lo, link type EN10MB.*filter: tcp port \d+$/m);
    const j = await run(['capture', '--status', dir, '--json']);
    const view = JSON.parse(j.stdout) as { state: string; files: { name: string }[]; manifest: CaptureManifest };
    assert.equal(view.state, 'running');
    assert.equal(view.files.length, 1);
    const stop = await run(['capture', '--stop', dir]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^capture ended after .*: stopped with --stop; 1 file/);
    const r = await c.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^periscope: capturing on lo \(tcp port \d+\) into .*; stop with Ctrl-C or: periscope capture --stop /m);
    assert.doesNotMatch(r.stderr, /\r/, 'no status line when stderr is not a terminal');
    assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('periscope-')), ['capture.json'], 'the pid file and the reserve go with the capture');
    const m = await manifestOf(dir);
    assert.equal(m.ended.reason, 'stop');
    assert.ok(m.packets.captured! >= 200, `${m.packets.captured}`);
    const after = await run(['capture', '--status', dir]);
    assert.match(after.stdout, /^capture +ended .*stopped with --stop/m);
    const again = await run(['capture', '--stop', dir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^not running: capture ended/);
    // A second capture into the same directory is refused: files of two captures would be read as one.
    const second = await run(['capture', '--out', dir, '-i', 'lo']);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /is not empty .*give a new or empty directory/);
  });
});

test('SIGINT stops cleanly; a killed periscope leaves an orphan tcpdump that --stop stops, or that the next packets end', opts, async () => {
  await withEcho(async (echo) => {
    const dir = join(scr.path(), 'sigint');
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port)]);
    await pump(echo.port, 50_000, 500);
    c.proc.kill('SIGINT');
    const r = await c.done;
    assert.equal(r.code, 0, r.stderr);
    const m = await manifestOf(dir);
    assert.deepEqual(m.ended, { reason: 'signal', detail: 'SIGINT' });
    assert.equal(m.files[0]!.packets, m.packets.captured);
    assert.ok(m.packets.captured! >= 200, 'the packets before the stop are all written');
    const term = await startCapture(join(scr.path(), 'sigterm'), ['-i', 'lo', '-p', String(echo.port)]);
    term.proc.kill('SIGTERM');
    assert.equal((await term.done).code, 0);
    assert.deepEqual((await manifestOf(join(scr.path(), 'sigterm'))).ended, { reason: 'signal', detail: 'SIGTERM' });

    // Periscope killed: tcpdump runs on, unsupervised, until --stop finds and stops it.
    const dir2 = join(scr.path(), 'orphan');
    const c2 = await startCapture(dir2, ['-i', 'lo', '-p', String(echo.port)]);
    c2.proc.kill('SIGKILL');
    await c2.done;
    const s = await run(['capture', '--status', dir2]);
    assert.match(s.stdout, new RegExp(`tcpdump \\(pid ${c2.pid.tcpdumpPid}\\) is still capturing but the periscope process \\(pid ${c2.pid.pid}\\) is gone`));
    const stop = await run(['capture', '--stop', dir2]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match((await manifestOf(dir2)).ended.detail!, /had ended; --stop stopped its tcpdump/);
    assert.equal(await pidOf(dir2), null);

    // Periscope killed, traffic goes on: tcpdump's next once-a-second report hits the closed pipe and SIGPIPE ends it.
    const dir3 = join(scr.path(), 'dead-man');
    const c3 = await startCapture(dir3, ['-i', 'lo', '-p', String(echo.port)]);
    c3.proc.kill('SIGKILL');
    await c3.done;
    const tcpdumpPid = c3.pid.tcpdumpPid!;
    await waitFor('the orphaned tcpdump to die of SIGPIPE', async () => {
      await pump(echo.port, 10_000, 500);
      try {
        process.kill(tcpdumpPid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const stale = await run(['capture', '--status', dir3]);
    assert.match(stale.stdout, /not running: the periscope process \(pid \d+\) is gone and left a stale pid file/);
    const closed = await run(['capture', '--stop', dir3]);
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, /^not running \(stale pid file removed\): capture ended .*the capturing process ended without closing the capture \(pid \d+; closed by --stop\)/);
    const m3 = await manifestOf(dir3);
    assert.equal(m3.ended.reason, 'interrupted');
    assert.ok(m3.files[0]!.packets! > 0, 'the files are kept and read');
    // tcpdump gave no counters at exit: the packets in the files are the count.
    assert.equal(m3.packets.captured, m3.files.reduce((n, f) => n + (f.packets ?? 0), 0));
    assert.match(closed.stdout, new RegExp(`packets: ${m3.packets.captured!.toLocaleString('en-US')} captured`));
  });
});

test('a stale pid file: the process is gone, or its pid now belongs to another program', opts, async () => {
  const dir = join(scr.path(), 'stale');
  await withEcho(async (echo) => {
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port), '--duration', '1']);
    const rec = c.pid;
    assert.equal((await c.done).code, 0);
    const m = await manifestOf(dir);
    await writeFile(join(dir, 'capture.json'), JSON.stringify({ ...m, ended: { reason: 'running' }, endedAt: null }));
    // A pid that is gone.
    const gone = execa('true');
    await gone;
    await writeFile(join(dir, 'capture.pid'), JSON.stringify({ ...rec, pid: gone.pid, tcpdumpPid: gone.pid }));
    const s1 = await run(['capture', '--status', dir, '--json']);
    assert.equal((JSON.parse(s1.stdout) as { state: string }).state, 'stale');
    // A live pid of another program (this test process), with another start time.
    await writeFile(join(dir, 'capture.pid'), JSON.stringify({ ...rec, pid: process.pid, start: 1, tcpdumpPid: process.pid, tcpdumpStart: 1 }));
    const s2 = await run(['capture', '--status', dir]);
    assert.match(s2.stdout, /stale pid file/);
    const stop = await run(['capture', '--stop', dir]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await pidOf(dir), null);
    assert.equal((await manifestOf(dir)).ended.reason, 'interrupted');
  });
});

test('through sudo: tcpdump writes as the invoking user, who owns the directory and every file', rootOpts, async () => {
  const dir = join(scr.path(), 'sudo');
  await withEcho(async (echo) => {
    const env = { SUDO_USER: 'nobody', SUDO_UID: '65534', SUDO_GID: '65534' };
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port)], env);
    await pump(echo.port, 20_000, 500);
    assert.equal((await run(['capture', '--stop', dir])).code, 0);
    assert.equal((await c.done).code, 0);
    const m = await manifestOf(dir);
    assert.equal(m.user, 'nobody');
    assert.ok(m.tcpdumpArgs.join(' ').includes('-Z nobody'));
    for (const p of [dir, ...(await readdir(dir)).map((n) => join(dir, n))]) {
      const st = await stat(p);
      assert.equal(st.uid, 65534, p);
      assert.equal(st.mode & 0o777, p === dir ? 0o700 : 0o600, p);
    }
  });
});

test('not root, with a tcpdump allowed to capture (setcap on a copy): no -Z, the user owns everything', rootOpts, async (t) => {
  for (const tool of ['setcap', 'setpriv']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) {
      if (requireLive) throw new Error(`${tool} is needed for this test (apt-get install libcap2-bin util-linux)`);
      t.skip(`${tool} is not installed`);
      return;
    }
  }
  await withEcho(async (echo) => {
    // A private copy: the system's tcpdump is left as it is.
    const bindir = join(scr.path(), 'capbin');
    await mkdir(bindir, { mode: 0o755 });
    const tcpdump = join(bindir, 'tcpdump');
    await copyFile((await execa('sh', ['-c', 'command -v tcpdump'])).stdout.trim(), tcpdump);
    await chmod(tcpdump, 0o755);
    await execa('setcap', ['cap_net_raw,cap_net_admin=eip', tcpdump]);
    const home = join(scr.path(), 'nobody-home');
    await mkdir(home, { mode: 0o755 });
    await chown(home, 65534, 65534);
    const dir = join(home, 'cap');
    const as = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const c = execa('setpriv', [...as, process.execPath, bin, 'capture', '-o', dir, '-i', 'lo', '-p', String(echo.port), '--duration', '3'], { reject: false, env: { PERISCOPE_TCPDUMP: tcpdump, PERISCOPE_DEBUG: '' }, timeout: 60_000 });
    await waitFor('the capture to start', async () => (await manifestOf(dir).catch(() => null))?.ended.reason === 'running');
    await pump(echo.port, 20_000, 500);
    const r = await c;
    assert.equal(r.exitCode, 0, String(r.stderr));
    const m = await manifestOf(dir);
    assert.equal(m.user, null);
    assert.ok(!m.tcpdumpArgs.includes('-Z'));
    assert.ok(m.packets.captured! >= 80);
    for (const p of [dir, ...(await readdir(dir)).map((n) => join(dir, n))]) {
      const st = await stat(p);
      assert.equal(st.uid, 65534, p);
      assert.equal(st.mode & 0o777, p === dir ? 0o700 : 0o600, p);
    }
  });
});

test('limits on a small disk: --min-free-disk stops in time; with no margin a full disk is an error and the files stay', rootOpts, async () => {
  await withEcho(async (echo) => {
    const disk = await tmpfs('small-disk', '12m');
    const dir = join(disk, 'cap');
    const { r, m } = await untilItStops(dir, echo.port, ['--rotate-size', '1MB', '--min-free-disk', '6MB'], 1e6);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(m.ended.reason, 'min-free-disk');
    assert.ok(m.files.reduce((n, f) => n + f.bytes, 0) > 1e6, 'it captured until near the margin');
    const df = await execa('df', ['-B1', '--output=avail', disk]);
    assert.ok(Number(df.stdout.split('\n')[1]) > 5e6, `free after the stop: ${df.stdout}`);

    const full = await tmpfs('full-disk', '2m');
    const dir2 = join(full, 'cap');
    const { r: r2, m: m2 } = await untilItStops(dir2, echo.port, ['--min-free-disk', '0'], Infinity);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /^periscope: error: the disk holding .* is full .*: the capture stopped and the files written so far are kept; free some space/m);
    assert.equal(m2.ended.reason, 'disk-full');
    assert.ok((await pcaps(dir2)).length === 1);
  });
});

test('tcpdump dying mid-capture: its exit and messages are reported, the files are kept', rootOpts, async () => {
  await withEcho(async (echo) => {
    const dir = join(scr.path(), 'killed');
    const c = await startCapture(dir, ['-i', 'lo', '-p', String(echo.port)]);
    await pump(echo.port, 20_000, 500);
    process.kill(c.pid.tcpdumpPid!, 'SIGKILL');
    const r = await c.done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^periscope: error: tcpdump stopped unexpectedly \(killed by SIGKILL\); the files written so far are kept in /m);
    const m = await manifestOf(dir);
    assert.equal(m.ended.reason, 'tcpdump-exit');
    assert.equal(m.packets.final, false);
    assert.equal((await pcaps(dir)).length, 1);

    // tcpdump (writing as nobody) cannot open its next file: it exits, and says why.
    const dir2 = join(scr.path(), 'cannot-rotate');
    const c2 = await startCapture(dir2, ['-i', 'lo', '-p', String(echo.port), '--rotate-size', '1MB', '--buffer-size', '32MiB'], { SUDO_USER: 'nobody', SUDO_UID: '65534', SUDO_GID: '65534' });
    await execa('chmod', ['0500', dir2]);
    await pump(echo.port, 3_000_000, 4000).catch(() => 0);
    const r2 = await c2.done;
    await execa('chmod', ['0700', dir2]);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /tcpdump stopped unexpectedly \(exit code 1: .*Permission denied\); the files written so far are kept/);
    assert.equal((await manifestOf(dir2)).ended.reason, 'tcpdump-exit');
    assert.ok((await pcaps(dir2)).length >= 1);
  });
});

test('the pcap stream for periscope live: tcpdump -w - with the same checks; every packet arrives', opts, async () => {
  await withEcho(async (echo) => {
    const s = await startPcapStream({ iface: 'lo', ports: [echo.port] });
    try {
      assert.equal(s.filter, `tcp port ${echo.port}`);
      const parser = new PcapParser();
      let packets = 0;
      s.stdout.on('data', (chunk: Buffer) => {
        parser.push(chunk);
        while (parser.next() === Step.Record) packets++;
      });
      const ended = new Promise((r) => s.stdout.once('end', r));
      const trips = await pump(echo.port, 100 * 200, 200);
      await waitFor('the packets to arrive through the pipe', () => packets >= trips * 2, 10_000);
      const exit = await s.stop();
      await ended;
      assert.equal(parser.error, null);
      assert.equal(exit.requested, true);
      assert.equal(exit.code, 0);
      assert.equal(exit.stats?.captured, packets, 'what tcpdump wrote is what came through the pipe');
      assert.equal(exit.stats?.droppedByKernel, 0);
    } finally {
      await s.stop({ drainMs: 0 }); // a failed assertion must not leave tcpdump running
    }
    await assert.rejects(startPcapStream({ iface: 'nosuch0' }), /there is no network interface 'nosuch0'.*lo/);
    await assert.rejects(startPcapStream({ iface: 'lo', filter: 'port and' }), (e: Error & { kind?: string }) => e.kind === 'bad-filter');
  });
});

const STATUS_LINE = /\rcapturing 00:\d\d · [\d,]+ pkts · [\d.]+ k?B in 1 file · .*kernel drops 0 · free [\d.]+ [kMGT]B\x1b\[K/;

test('on a terminal: a status line twice a second, and Ctrl-C stops after the last packets', opts, async (t) => {
  if ((await execa('sh', ['-c', 'command -v script'], { reject: false })).exitCode !== 0) {
    if (requireLive) throw new Error('script (util-linux) is needed to run the capture on a terminal');
    t.skip('script (util-linux) is not installed: no terminal to test with');
    return;
  }
  await withEcho(async (echo) => {
    const dir = join(scr.path(), 'tty');
    // script(1) gives the capture a terminal; a ^C written to it is the terminal's Ctrl-C (SIGINT to
    // the foreground process group: Periscope, not tcpdump, which has its own session).
    const term = execa('script', ['-qfec', `${process.execPath} ${bin} capture -o ${dir} -i lo -p ${echo.port}`, '/dev/null'], { reject: false, stdin: 'pipe', timeout: 60_000 });
    await waitFor('the capture to start', async () => (await manifestOf(dir).catch(() => null))?.ended.reason === 'running');
    let shown = '';
    term.stdout!.on('data', (d: Buffer) => (shown += d.toString()));
    const trips = await pump(echo.port, 300 * 100, 100);
    // Ctrl-C once the status line has shown tcpdump's counters (asked for once a second: a fixed
    // wait may see none on a loaded machine).
    await waitFor('a status line with the kernel drops', () => STATUS_LINE.test(shown), 10_000).catch(() => undefined);
    term.stdin!.write('\x03');
    const r = await term;
    const out = String(r.stdout);
    assert.match(out, STATUS_LINE);
    assert.match(out, /periscope: stopping \(SIGINT\): waiting 2\.5 s for the last packets/);
    assert.match(out, /\rstopping 00:\d\d · /);
    assert.match(out, /periscope: capture ended after .*: stopped by a signal \(SIGINT\)/);
    const m = await manifestOf(dir);
    assert.deepEqual(m.ended, { reason: 'signal', detail: 'SIGINT' });
    assert.ok(m.packets.captured! >= trips * 2, `${m.packets.captured} packets for ${trips} round trips`);
    assert.equal(m.files[0]!.packets, m.packets.captured);
  });
});

test('no capture is left running', opts, async () => {
  const ps = await execa('ps', ['-eo', 'args'], { reject: false });
  assert.ok(!String(ps.stdout).split('\n').some((l) => l.includes(scr.path())), 'no capture process left behind');
});

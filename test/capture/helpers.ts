/**
 * What the capture tests share: the real CLI run in the background, waiting for a capture to be
 * under way, traffic of known size (a TCP echo pair on a port of its own, so other tests' traffic
 * never lands in these captures) and a reference tcpdump writing one file.
 */
import { execa, type ResultPromise } from 'execa';
import { before, after } from 'node:test';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { liveTestOptions, requireLive } from '../live/env.js';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bin } from '../cli/run.js';
import { drained } from '../live/tcpdump.js';
import type { CaptureManifest } from '../../capture/manifest.js';
import type { PidRecord } from '../../capture/pidfile.js';

export interface Run {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Every test here ends well within this: a hang fails instead of holding the shared lock. */
export const TEST_TIMEOUT_MS = 120_000;

/**
 * Test options: `live` needs tcpdump and MariaDB (skip, or fail under PERISCOPE_REQUIRE_LIVE=1);
 * `root` also needs root (a tmpfs mount, tcpdump as another user).
 */
export async function captureTestOptions(): Promise<{ live: { skip: string | false; timeout: number }; root: { skip: string | false; timeout: number } }> {
  const live = { ...(await liveTestOptions()), timeout: TEST_TIMEOUT_MS };
  if (live.skip || process.geteuid?.() === 0) return { live, root: live };
  if (requireLive) throw new Error('the capture tests need root under PERISCOPE_REQUIRE_LIVE=1 (tmpfs mounts, tcpdump as another user)');
  return { live, root: { skip: 'skipped: needs root (mounts a small tmpfs, runs tcpdump as another user)', timeout: TEST_TIMEOUT_MS } };
}

/**
 * A scratch directory for one test file (0711: tcpdump writing as another user must reach what is
 * inside), with small tmpfs mounts on demand; all removed after the tests.
 */
export function scratch(prefix: string): { path: () => string; tmpfs: (name: string, size: string, extra?: string) => Promise<string> } {
  let dir = '';
  const mounts: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    await chmod(dir, 0o711);
  });
  after(async () => {
    for (const m of mounts) await execa('umount', [m], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });
  return {
    path: () => dir,
    tmpfs: async (name, size, extra = '') => {
      const m = join(dir, name);
      await mkdir(m);
      await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}${extra ? `,${extra}` : ''}`, 'tmpfs', m]);
      mounts.push(m);
      return m;
    },
  };
}

/** The real CLI, with this Node (so PATH may be changed), and extra environment; killed after 90 s. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): { proc: ResultPromise; done: Promise<Run> } {
  const proc = execa(process.execPath, [bin, ...args], { reject: false, env: { PERISCOPE_DEBUG: '', ...env }, timeout: 90_000 });
  const done = proc.then((r) => ({ code: r.exitCode ?? -1, signal: r.signal ?? null, stdout: String(r.stdout), stderr: String(r.stderr) }));
  return { proc, done };
}

export const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> => cli(args, env).done;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, f: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function manifestOf(dir: string): Promise<CaptureManifest> {
  return JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
}

export async function pidOf(dir: string): Promise<PidRecord | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'capture.pid'), 'utf8')) as PidRecord;
  } catch {
    return null;
  }
}

/** Start `periscope capture` and wait until tcpdump listens (manifest written, tcpdump pid known). */
export async function startCapture(dir: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ proc: ResultPromise; done: Promise<Run>; pid: PidRecord }> {
  const c = cli(['capture', '--out', dir, ...args], env);
  let finished: Run | null = null;
  void c.done.then((r) => (finished = r));
  const pid = await waitFor(`the capture in ${dir} to start`, async () => {
    if (finished) throw new Error(`periscope capture exited ${finished.code} before it started: ${finished.stderr}`);
    const p = await pidOf(dir);
    if (p?.tcpdumpPid == null) return null;
    const m = await manifestOf(dir).catch(() => null);
    return m?.ended.reason === 'running' ? p : null;
  });
  return { ...c, pid };
}

/** Run `f` with an echo server, closed afterwards whatever happens. */
export async function withEcho(f: (echo: { port: number }) => Promise<void>): Promise<void> {
  const echo = await echoServer();
  try {
    await f(echo);
  } finally {
    await echo.close();
  }
}

/** A TCP echo server on an ephemeral port of 127.0.0.1. */
export async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Send `total` bytes to the echo server in `chunk`-byte writes, each answered before the next, at
 * most `bytesPerSec` (both directions count once: what is sent), until `enough()` says so. Returns
 * the round trips made.
 */
export async function pump(port: number, total: number, chunk: number, bytesPerSec = Infinity, enough: () => boolean = () => false): Promise<number> {
  const c = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  const buf = Buffer.alloc(chunk, 0x61);
  const t0 = Date.now();
  let sent = 0;
  let trips = 0;
  let pending = 0;
  c.on('data', (d) => (pending -= d.length));
  while (sent < total && !enough()) {
    pending += chunk;
    c.write(buf);
    sent += chunk;
    trips++;
    while (pending > 0) await new Promise((r) => c.once('data', r));
    const ahead = sent / bytesPerSec - (Date.now() - t0) / 1000;
    if (ahead > 0.005) await sleep(ahead * 1000);
  }
  await new Promise<void>((r) => c.end(r));
  return trips;
}

/** A plain tcpdump writing one file (the reference for "no command lost across file boundaries"). */
export async function referenceTcpdump(file: string, filter: string): Promise<{ stop: () => Promise<string> }> {
  const asRoot = process.geteuid?.() === 0 ? ['-Z', 'root'] : []; // keep root: the test's temporary directory is root's
  // --immediate-mode -U: each packet is written as it comes, so that the stop below can wait until
  // tcpdump has written them all (without, packets of the kernel's current block were lost when a
  // loaded machine had not run tcpdump during a fixed wait).
  const proc = execa('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-B', '32768', ...asRoot, '-w', file, '--', filter], { reject: false, buffer: { stdout: false, stderr: true } });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    proc.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('listening on')) resolve();
    });
    void proc.then((r) => reject(new Error(`reference tcpdump exited: ${String(r.stderr)}`)));
  });
  return {
    stop: async () => {
      await drained(proc);
      proc.kill('SIGINT');
      return String((await proc).stderr);
    },
  };
}

/**
 * `periscope capture --out DIR`, `--status DIR` and `--stop DIR`. Each returns the exit code: 0 ok,
 * 2 when the environment is in the way (tcpdump missing or not permitted, an unknown interface, a
 * bad filter, a directory that cannot be written, a full disk, tcpdump dying); every such error is
 * one line saying what to do. Usage errors (exit 1) are found earlier, in options.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rm, rmdir, stat, access, constants } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { captureFiles, DRAIN_MS, TCPDUMP_C_UNIT, type TcpdumpSpec } from './argv.js';
import { CaptureError, type FailureContext } from './errors.js';
import { FileTracker, listCaptureFiles } from './files.js';
import { MANIFEST_NAME, ManifestError, readManifest, writeManifest, type CaptureManifest, type EndReason } from './manifest.js';
import { minFreeBytes, type CaptureOptions } from './options.js';
import { captureState, createPidFile, PID_NAME, processStart, removePidFile, sameProcess, updatePidFile, type PidRecord } from './pidfile.js';
import { CaptureSession, freeSpace, RESERVE_NAME } from './session.js';
import { KeyLogCopier } from './keylog.js';
import { renderStatus, statusLine, summary, type LiveState } from './status.js';
import { bytes } from './units.js';
import { ownerOf, runAs, type RunAs } from './user.js';
import { periscopeVersion } from '../common/version.js';
import { probeArgv } from './probe.js';

/** Where the capture command writes: data on stdout, one-line notes and errors on stderr, and the status line on a terminal. */
export interface CaptureIo {
  out(text: string): void;
  note(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** The terminal for the live status line, or null when stderr is not a terminal. */
  status: { columns(): number; write(line: string): void; clear(): void } | null;
}

export function processCaptureIo(): CaptureIo {
  const err = process.stderr;
  let shown = false;
  const clear = (): void => {
    if (shown) err.write('\r\x1b[K');
    shown = false;
  };
  const line = (prefix: string) => (l: string) => {
    clear();
    err.write(`periscope: ${prefix}${l}\n`);
  };
  return {
    out: (text) => void process.stdout.write(text),
    note: line(''),
    warn: line('warning: '),
    error: line('error: '),
    status: err.isTTY
      ? {
          columns: () => err.columns || 80,
          write: (l) => {
            err.write(`\r${l}\x1b[K`);
            shown = true;
          },
          clear,
        }
      : null,
  };
}

/** SIGHUP ignored at start (nohup): then a closed terminal must not stop the capture. */
function hangupIgnored(): boolean {
  try {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Signals, installed before anything is created so that a stop request is never fatal. */
class StopControl {
  session: CaptureSession | null = null;
  /** A stop requested before the capture started. */
  early: string | null = null;
  private readonly handlers: [NodeJS.Signals, () => void][] = [];

  constructor(private readonly io: CaptureIo) {}

  install(): void {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    if (!hangupIgnored()) signals.push('SIGHUP');
    for (const sig of signals) this.on(sig, () => this.request('signal', sig));
    this.on('SIGUSR2', () => this.request('stop', 'periscope capture --stop'));
  }

  private on(sig: NodeJS.Signals, f: () => void): void {
    process.on(sig, f);
    this.handlers.push([sig, f]);
  }

  private request(reason: EndReason, detail: string): void {
    const s = this.session;
    if (s === null) {
      this.early ??= detail;
      return;
    }
    if (s.stopping) {
      this.io.note('stopping at once; the manifest will not have packet counts for unread files');
      s.hurry();
      return;
    }
    if (this.io.status) this.io.note(`stopping (${detail}): waiting ${DRAIN_MS / 1000} s for the last packets in the kernel's buffer (Ctrl-C again to stop at once)`);
    s.stop(reason, { drain: true, detail: reason === 'signal' ? detail : undefined });
  }

  uninstall(): void {
    for (const [sig, f] of this.handlers) process.off(sig, f);
  }
}

export async function runCapture(opts: CaptureOptions, io: CaptureIo = processCaptureIo(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const control = new StopControl(io);
  control.install();
  try {
    return await capture(opts, io, env, control);
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  } finally {
    control.uninstall();
  }
}

function fsError(dir: string, e: unknown, who: RunAs): CaptureError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return new CaptureError('disk-full', `cannot create ${dir}: the disk is full: free some space or choose another disk (--out)`);
  const why = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOTDIR: 'a part of the path is not a directory', EEXIST: 'it exists and is not a directory', ENOENT: 'no such directory' }[err.code ?? ''] ?? err.message;
  const as = who.why === 'sudo' ? ` (it will belong to ${who.user})` : '';
  return new CaptureError('dir-not-writable', `cannot write the capture into ${dir}${as}: ${why}: choose a directory you can write with --out (e.g. under /var/tmp)`);
}

/**
 * `mkdir -p`, one level at a time. Not Node's recursive mkdir: it reports a read-only file system as
 * ENOENT, and under /proc (where mkdir of a missing name says ENOENT and of its parent EEXIST) it
 * never returns, spinning (Node 20.20).
 */
async function makeDirs(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    try {
      await mkdir(d, { mode });
      break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && missing.length > 0) {
        // The parent is there, yet its child could not be made: the file system does not allow it.
        throw Object.assign(new Error('cannot create a directory there'), { code: 'ENOTSUP' });
      }
      if (err.code !== 'ENOENT' || dirname(d) === d) throw err;
      missing.push(d);
      d = dirname(d);
    }
  }
  for (const m of missing.reverse()) await mkdir(m, { mode });
}

/**
 * A new or empty directory, 0700, owned by the invoking user. Returns whether we created it (to
 * remove it again if tcpdump cannot start). A directory already holding files is refused: rotated
 * files of two captures would be read as one.
 */
async function prepareDir(dir: string, who: RunAs): Promise<boolean> {
  let created = false;
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(fsError(dir, e, who))));
  if (st === null) {
    try {
      await makeDirs(dir, 0o700);
      created = true;
    } catch (e) {
      throw fsError(dir, e, who);
    }
  } else {
    if (!st.isDirectory()) throw fsError(dir, Object.assign(new Error('not a directory'), { code: 'EEXIST' }), who);
    const state = await captureState(join(dir, PID_NAME));
    if (state.state === 'running' || state.state === 'orphan') {
      throw new CaptureError('already-running', `a capture is already running into ${dir} (pid ${state.rec.pid}): see it with periscope capture --status ${dir}, stop it with --stop, or choose another directory`);
    }
    const entries = await readdir(dir).catch((e: unknown) => Promise.reject(fsError(dir, e, who)));
    if (entries.length > 0) {
      const stale = state.state === 'stale' ? ' (a capture that did not end cleanly: close it with periscope capture --stop DIR)' : '';
      throw new CaptureError('dir-not-empty', `${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${stale}): give a new or empty directory, so that one capture's files are never mixed with others`);
    }
  }
  try {
    await chmod(dir, 0o700);
    const owner = ownerOf(who);
    if (owner) await chown(dir, owner.uid, owner.gid);
    await access(dir, constants.W_OK);
  } catch (e) {
    if (created) await rmdir(dir).catch(() => undefined);
    throw fsError(dir, e, who);
  }
  return created;
}

/**
 * Through sudo, tcpdump writes as the user after dropping root (-Z): with rotation it opens every
 * file as that user, so a directory the user cannot reach (under /root, say) would fail at start or
 * at the first rotation. Check as that user, the way tcpdump becomes it (initgroups, setgid,
 * setuid), in a short-lived child.
 */
async function checkWritableAs(dir: string, who: RunAs): Promise<void> {
  if (who.why !== 'sudo' || who.uid === null || who.gid === null) return;
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, probeArgv({ user: who.user, gid: who.gid!, uid: who.uid!, dir }), { timeout: 15_000 }, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }));
  });
  if (r.code === 3) throw new CaptureError('dir-not-writable', `tcpdump cannot write in ${dir} (tcpdump writes as user '${who.user}'): ${r.stderr}: choose a directory that user can reach and write (--out), e.g. one under /var/tmp`);
}

/** Undo a capture that never started: nothing of it stays behind. */
async function undo(dir: string, created: boolean): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (n === PID_NAME || n === MANIFEST_NAME || n === RESERVE_NAME || /^periscope-/.test(n) || n === `.${MANIFEST_NAME}.tmp`) await rm(join(dir, n), { force: true });
  if (created) await rmdir(dir).catch(() => undefined);
}

async function capture(opts: CaptureOptions, io: CaptureIo, env: NodeJS.ProcessEnv, control: StopControl): Promise<number> {
  // Loaded here, not at the top: execa alone costs ~80 ms to load, which --status and --stop do without.
  const { checkFilter, findTcpdump, startTcpdump } = await import('./tcpdump.js');
  const t = await findTcpdump(env);
  const who = runAs(env, process.geteuid?.() ?? null);
  const dir = opts.out;
  const ctx: FailureContext = { tcpdump: t.path, iface: opts.iface, filter: opts.bpf, user: who.user, dir };
  await checkFilter(t, ctx);
  const created = await prepareDir(dir, who);
  const pidPath = join(dir, PID_NAME);
  let started = false;
  try {
    await checkWritableAs(dir, who);
    const space = await freeSpace(dir);
    const minFree = space ? minFreeBytes(opts.minFreeDisk, space.size) : 0;
    if (space && space.free - (opts.rotateSize ?? 0) <= minFree) {
      const file = opts.rotateSize ? ` beyond one file of --rotate-size ${bytes(opts.rotateSize)}` : '';
      const fix = opts.rotateSize && space.free > minFree ? 'a smaller --rotate-size, ' : '';
      throw new CaptureError('low-disk', `only ${bytes(space.free)} free on the disk holding ${dir}, and the capture must leave ${bytes(minFree)} free${file} (--min-free-disk${opts.minFreeDisk === null ? ', default 15% of the disk up to 4 GB' : ''}): free some space, capture to another disk, or choose ${fix}a lower --min-free-disk`);
    }
    if (control.early !== null) {
      io.note(`stopped (${control.early}) before the capture started`);
      return 0;
    }
    process.umask(0o077); // tcpdump inherits it: every capture file is created 0600
    const rec: PidRecord = { pid: process.pid, start: await processStart(process.pid), tcpdumpPid: null, tcpdumpStart: null, startedAt: new Date().toISOString(), host: hostname() };
    try {
      createPidFile(pidPath, rec, ownerOf(who));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CaptureError('already-running', `a capture is already starting in ${dir}: choose another directory`);
      throw fsError(dir, e, who);
    }
    const startedAt = new Date();
    const millions = opts.rotateSize === null ? null : opts.rotateSize / TCPDUMP_C_UNIT;
    const spec: TcpdumpSpec = {
      iface: opts.iface,
      filter: opts.bpf,
      snaplen: opts.snaplen,
      bufferKiB: opts.bufferSize === null ? null : Math.ceil(opts.bufferSize / 1024),
      maxPackets: opts.maxPackets,
      user: who.user,
      output: { kind: 'files', files: captureFiles(dir, startedAt, opts.rotateSeconds, millions), rotateMillions: millions, rotateSeconds: opts.rotateSeconds },
    };
    const running = await startTcpdump(t, spec, ctx);
    started = true;
    try {
      updatePidFile(pidPath, { ...rec, tcpdumpPid: running.pid, tcpdumpStart: await processStart(running.pid) });

      const session = new CaptureSession({
        opts,
        tcpdump: t,
        running,
        runAs: who,
        minFreeDisk: minFree,
        periscopeVersion: periscopeVersion(),
        startedAt,
        warn: (l) => io.warn(l),
        keylog: opts.keylog ? new KeyLogCopier(opts.keylog, dir, ownerOf(who), (l) => io.warn(l)) : null,
        onTick: io.status ? (s) => io.status!.write(statusLine(s, io.status!.columns())) : undefined,
      });
      control.session = session;
      const as = who.user !== null ? ` (tcpdump writes as ${who.user})` : '';
      io.note(`capturing on ${opts.iface} (${opts.bpf}) into ${dir}${as}; stop with Ctrl-C or: periscope capture --stop ${dir}`);
      if (control.early !== null) session.stop('signal', { drain: false, detail: control.early });
      const end = await session.run();
      io.status?.clear();
      removePidFile(pidPath);
      io.note(summary(end.manifest, dir));
      if (end.error) {
        io.error(end.error.message);
        return 2;
      }
      return 0;
    } finally {
      // Whatever went wrong in here, tcpdump does not go on capturing unwatched.
      if (running.running) await running.stop({ drainMs: 0 });
    }
  } catch (e) {
    if (!started) {
      removePidFile(pidPath);
      await undo(dir, created);
    }
    throw e;
  } finally {
    if (started) removePidFile(pidPath);
  }
}

function notACapture(dir: string, e: unknown): CaptureError {
  return new CaptureError('not-a-capture', e instanceof ManifestError ? `${e.message}` : `${dir}: ${(e as Error).message}`);
}

/** The pid file's story; a directory of another user's capture is a clear error, not a crash. */
async function stateOf(dir: string): Promise<Awaited<ReturnType<typeof captureState>>> {
  try {
    return await captureState(join(dir, PID_NAME));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new CaptureError('not-permitted', `cannot read ${join(dir, PID_NAME)}: permission denied (a capture is private to the user who made it: use sudo, or that user)`);
    throw e;
  }
}

function liveState(pidState: Awaited<ReturnType<typeof captureState>>, m: CaptureManifest): LiveState {
  if (pidState.state !== 'none') return pidState.state;
  return m.ended.reason === 'running' ? 'stale' : 'ended';
}

/** `--status DIR`: the capture's state, files and counters (with --json, as JSON). */
export async function runStatus(dir: string, json: boolean, io: CaptureIo = processCaptureIo()): Promise<number> {
  try {
    let m: CaptureManifest;
    try {
      m = readManifest(join(dir, MANIFEST_NAME));
    } catch (e) {
      throw notACapture(dir, e);
    }
    const ps = await stateOf(dir);
    const state = liveState(ps, m);
    const files = await listCaptureFiles(dir).catch(() => []);
    const free = (await freeSpace(dir))?.free ?? null;
    const rec = ps.state === 'none' ? null : ps.rec;
    const view = { dir, state, pid: rec?.pid ?? null, tcpdumpPid: rec?.tcpdumpPid ?? null, manifest: m, files, free };
    io.out(json ? `${JSON.stringify(view, null, 2)}\n` : renderStatus(view));
    return 0;
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until a process is gone (true) or the time is up (false). */
async function gone(pid: number, start: number | null, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!(await sameProcess(pid, start))) return true;
    await sleep(200);
  }
  return false;
}

function sendSignal(pid: number, sig: NodeJS.Signals, dir: string): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM') throw new CaptureError('not-permitted', `the capture in ${dir} runs as another user (pid ${pid}): stop it as that user, e.g. sudo periscope capture --stop ${dir}`);
    if (code !== 'ESRCH') throw e;
  }
}

/**
 * Close the manifest of a capture whose process is gone: the files as they are on disk (read for
 * their packets and times), the end reason, and the end time (the last packet, or now).
 */
async function closeManifest(dir: string, m: CaptureManifest, reason: EndReason, detail: string): Promise<CaptureManifest> {
  await rm(join(dir, RESERVE_NAME), { force: true }); // the room it kept, if the disk is full
  const tracker = new FileTracker(dir, m);
  await tracker.refresh(true);
  await tracker.finishScans(() => false);
  const files = tracker.manifestFiles();
  const last = files.map((f) => f.lastPacket).filter((x): x is string => x !== null).sort().at(-1) ?? null;
  const now = new Date().toISOString();
  // tcpdump never gave its counters at exit: the packets in the files are the count (the last
  // counters it reported, every 10 s, may be older than the last packets).
  const inFiles = files.reduce((n, f) => n + (f.packets ?? 0), 0);
  const packets = m.packets.final || inFiles <= (m.packets.captured ?? 0) ? m.packets : { ...m.packets, captured: inFiles, at: last ?? m.packets.at };
  const closed: CaptureManifest = { ...m, files, packets, deleted: [...tracker.deleted], ended: { reason, detail }, endedAt: reason === 'interrupted' ? (last ?? m.updatedAt) : now, updatedAt: now };
  const st = await stat(dir);
  writeManifest(join(dir, MANIFEST_NAME), closed, process.geteuid?.() === 0 ? { uid: st.uid, gid: st.gid } : null);
  return closed;
}

/** `--stop DIR`: stop a running capture from another terminal (or close one whose process died). */
export async function runStop(dir: string, io: CaptureIo = processCaptureIo()): Promise<number> {
  try {
    const pidPath = join(dir, PID_NAME);
    const ps = await stateOf(dir);
    const manifest = (): CaptureManifest => {
      try {
        return readManifest(join(dir, MANIFEST_NAME));
      } catch (e) {
        throw notACapture(dir, e);
      }
    };
    switch (ps.state) {
      case 'running': {
        sendSignal(ps.rec.pid, 'SIGUSR2', dir);
        io.note(`stopping the capture in ${dir} (pid ${ps.rec.pid})…`);
        if (!(await gone(ps.rec.pid, ps.rec.start, 120_000))) throw new CaptureError('tcpdump-died', `the capture (pid ${ps.rec.pid}) did not stop within 120 s: look at it with periscope capture --status ${dir}; kill ${ps.rec.pid} ends it`);
        io.out(`${summary(manifest(), dir)}\n`);
        return 0;
      }
      case 'orphan': {
        const m = manifest();
        const t = ps.rec.tcpdumpPid!;
        io.note(`the periscope process (pid ${ps.rec.pid}) is gone; stopping its tcpdump (pid ${t})…`);
        await sleep(DRAIN_MS);
        sendSignal(t, 'SIGINT', dir);
        if (!(await gone(t, ps.rec.tcpdumpStart, 10_000))) sendSignal(t, 'SIGKILL', dir);
        const closed = await closeManifest(dir, m, 'stop', `the periscope process (pid ${ps.rec.pid}) had ended; --stop stopped its tcpdump (pid ${t})`);
        removePidFile(pidPath);
        io.out(`${summary(closed, dir)}\n`);
        return 0;
      }
      case 'stale':
      case 'none': {
        const m = manifest();
        if (ps.state === 'none' && m.ended.reason !== 'running') {
          io.out(`not running: ${summary(m, dir)}\n`);
          return 0;
        }
        const pid = ps.state === 'stale' ? ps.rec.pid : null;
        const closed = await closeManifest(dir, m, 'interrupted', `${pid ? `pid ${pid}; ` : ''}closed by --stop`);
        removePidFile(pidPath);
        io.out(`not running (stale pid file removed): ${summary(closed, dir)}\n`);
        return 0;
      }
      default:
        return ps satisfies never;
    }
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    if (e instanceof ManifestError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }
}

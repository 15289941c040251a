/**
 * `DIR/capture.pid`: which processes a running capture is, so that `--status` and `--stop` work from
 * another terminal. Created exclusively (two captures cannot share a directory), removed when the
 * capture ends. A pid file whose process is gone, or whose pid now belongs to another program (the
 * process start time recorded next to the pid differs), is stale.
 */
import { chownSync, closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export const PID_NAME = 'capture.pid';

export interface PidRecord {
  /** The `periscope capture` process. */
  pid: number;
  /** Its start time in clock ticks since boot (/proc/PID/stat field 22), or null off Linux. */
  start: number | null;
  tcpdumpPid: number | null;
  tcpdumpStart: number | null;
  startedAt: string;
  host: string;
}

/** Start time of a process (clock ticks since boot), or null when unknown (no /proc, no process). */
export async function processStart(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields restart after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Alive: it exists (EPERM counts: it belongs to another user, e.g. root). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The same process as recorded: alive, and (where /proc tells) started at the recorded time. */
export async function sameProcess(pid: number | null, start: number | null): Promise<boolean> {
  if (pid === null || !alive(pid)) return false;
  if (start === null) return true;
  const now = await processStart(pid);
  return now === null || now === start;
}

/** Create the pid file; fails with EEXIST when one is there. */
export function createPidFile(path: string, rec: PidRecord, owner: { uid: number; gid: number } | null): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(rec)}\n`);
  } finally {
    closeSync(fd);
  }
  if (owner) chownSync(path, owner.uid, owner.gid);
}

/** Rewrite it (the tcpdump pid becomes known after the file is created); mode and owner stay. */
export function updatePidFile(path: string, rec: PidRecord): void {
  writeFileSync(path, `${JSON.stringify(rec)}\n`);
}

export function readPidFile(path: string): PidRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const v = JSON.parse(text) as PidRecord;
    if (typeof v.pid === 'number') return v;
  } catch {
    // fall through
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, start: null, tcpdumpPid: null, tcpdumpStart: null, startedAt: '', host: '' } : null;
}

export function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export type CaptureState =
  | { state: 'none' }
  | { state: 'running'; rec: PidRecord }
  /** The periscope process is gone but its tcpdump still runs. */
  | { state: 'orphan'; rec: PidRecord }
  | { state: 'stale'; rec: PidRecord };

export async function captureState(path: string): Promise<CaptureState> {
  const rec = readPidFile(path);
  if (rec === null) return { state: 'none' };
  if (await sameProcess(rec.pid, rec.start)) return { state: 'running', rec };
  if (await sameProcess(rec.tcpdumpPid, rec.tcpdumpStart)) return { state: 'orphan', rec };
  return { state: 'stale', rec };
}

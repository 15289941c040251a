/**
 * The capture files in the directory, as tcpdump writes them: found by name, sized, made private,
 * deleted oldest first by the ring buffer, and read once closed for the manifest's packet counts
 * and time ranges. A file is closed once a newer one exists (tcpdump writes one file at a time) or
 * once the capture has ended.
 */
import { chmod, chown, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CAPTURE_FILE_NAME } from './argv.js';
import type { ManifestFile } from './manifest.js';
import { scanCaptureFile } from './scan.js';

interface Tracked extends ManifestFile {
  closed: boolean;
  /** Could not be read for the manifest (not tried again). */
  failed?: boolean;
}

export class FileTracker {
  /** Files in the directory, oldest first. */
  readonly present: Tracked[] = [];
  /** Files the ring buffer deleted (or that disappeared), oldest first. */
  readonly deleted: ManifestFile[] = [];
  /** Problems worth one warning each (a file that could not be made private, read or deleted). */
  readonly problems: string[] = [];
  private scanning: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    prior: { files: readonly ManifestFile[]; deleted: readonly ManifestFile[] } | null = null,
    /** Who the files belong to (through sudo: the invoking user). */
    private readonly owner: { uid: number; gid: number } | null = null,
  ) {
    if (prior) {
      for (const f of prior.files) this.present.push({ ...f, closed: false });
      this.deleted.push(...prior.deleted);
    }
  }

  /** Bytes in the directory now. */
  get bytes(): number {
    return this.present.reduce((n, f) => n + f.bytes, 0);
  }

  /** Bytes written since the start, deleted files included (for the write rate). */
  get written(): number {
    return this.bytes + this.deleted.reduce((n, f) => n + f.bytes, 0);
  }

  /**
   * Look at the directory again. `ended`: tcpdump has exited, every file is closed. Returns whether
   * the set of files changed (a new file, one gone).
   */
  async refresh(ended: boolean): Promise<boolean> {
    const names = (await readdir(this.dir)).filter((n) => CAPTURE_FILE_NAME.test(n)).sort();
    const now = new Set(names);
    let changed = false;
    for (let i = this.present.length - 1; i >= 0; i--) {
      const f = this.present[i]!;
      if (!now.has(f.name)) {
        this.present.splice(i, 1);
        this.deleted.push(gone(f));
        changed = true;
      }
    }
    const known = new Set(this.present.map((f) => f.name));
    for (const name of names) {
      if (known.has(name)) continue;
      const f: Tracked = { name, bytes: 0, firstPacket: null, lastPacket: null, packets: null, truncated: false, closed: false };
      this.present.push(f);
      changed = true;
      await this.makePrivate(f);
    }
    if (changed) this.present.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 0; i < this.present.length; i++) {
      const f = this.present[i]!;
      if (f.closed) continue;
      const closing = ended || i < this.present.length - 1;
      try {
        f.bytes = (await stat(join(this.dir, f.name))).size;
      } catch {
        continue; // deleted meanwhile: the next refresh notices
      }
      if (closing) f.closed = true;
    }
    return changed;
  }

  /**
   * tcpdump creates files with the umask Periscope sets (077); make sure anyway. Without rotation,
   * tcpdump opens its one file before it drops to the -Z user, so root owns it: give it to the user.
   */
  private async makePrivate(f: Tracked): Promise<void> {
    const path = join(this.dir, f.name);
    try {
      const st = await stat(path);
      if ((st.mode & 0o077) !== 0) await chmod(path, 0o600);
      if (this.owner && (st.uid !== this.owner.uid || st.gid !== this.owner.gid)) await chown(path, this.owner.uid, this.owner.gid);
    } catch (e) {
      this.problems.push(`cannot make ${path} private to its owner: ${(e as Error).message}`);
    }
  }

  /** Delete the oldest closed files until at most `max` are left. Returns the names deleted. */
  async keepNewest(max: number): Promise<string[]> {
    const out: string[] = [];
    while (this.present.length > max && this.present[0]!.closed) {
      const f = this.present[0]!;
      try {
        await unlink(join(this.dir, f.name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.problems.push(`cannot delete ${join(this.dir, f.name)} (--max-files): ${(e as Error).message}`);
          break;
        }
      }
      this.present.shift();
      this.deleted.push(gone(f));
      out.push(f.name);
    }
    return out;
  }

  /**
   * Read closed files not read yet (packets, time range), oldest first, one at a time. Returns at
   * once if a scan is under way (it picks up new files as it goes). `cancelled` stops it between
   * reads.
   */
  scanClosed(cancelled: () => boolean): Promise<void> {
    if (this.scanning) return this.scanning;
    // Assigned before it runs: `finally` clears it only after this assignment (it is always async).
    const p: Promise<void> = this.scanAll(cancelled).finally(() => {
      if (this.scanning === p) this.scanning = null;
    });
    this.scanning = p;
    return p;
  }

  private async scanAll(cancelled: () => boolean): Promise<void> {
    for (;;) {
      const f = this.present.find((x) => x.closed && x.packets === null && !x.failed);
      if (!f || cancelled()) return;
      const path = join(this.dir, f.name);
      try {
        const r = await scanCaptureFile(path, cancelled);
        if (r === null) {
          if (cancelled()) return;
          f.failed = true;
          this.problems.push(`${path} is not a capture file`);
          continue;
        }
        Object.assign(f, r);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problems.push(`cannot read ${path}: ${(e as Error).message}`);
        f.failed = true;
      }
    }
  }

  /** Wait for a scan under way (it may have been cancelled), then read what is left. */
  async finishScans(cancelled: () => boolean): Promise<void> {
    if (this.scanning) await this.scanning;
    await this.scanClosed(cancelled);
  }

  /** The manifest's view. */
  manifestFiles(): ManifestFile[] {
    return this.present.map(plain);
  }
}

function plain(f: Tracked): ManifestFile {
  return { name: f.name, bytes: f.bytes, firstPacket: f.firstPacket, lastPacket: f.lastPacket, packets: f.packets, truncated: f.truncated };
}

function gone(f: Tracked): ManifestFile {
  return { ...plain(f), deletedAt: new Date().toISOString() };
}

/** Capture files in a directory with their sizes (for --status), oldest first. */
export async function listCaptureFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  const names = (await readdir(dir)).filter((n) => CAPTURE_FILE_NAME.test(n)).sort();
  const out: { name: string; bytes: number }[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st) out.push({ name, bytes: st.size });
  }
  return out;
}

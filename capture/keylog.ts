/**
 * `capture --keylog FILE`: the TLS key log an application writes (SSLKEYLOGFILE, Node's
 * --tls-keylog…) copied into the capture directory as it grows, so that the capture can be
 * decrypted later, anywhere ("capture now, analyze later" keeps working for TLS).
 *
 * Only what the key log gains while the capture runs is copied (older sessions' secrets would
 * unlock nothing in the capture). The copy is private like the capture files (0600 in the 0700 directory, owned as they are), is
 * named in the manifest, and is what `analyze`/`events` of the directory use without --keylog. A
 * bundle never contains it. Appends only: a line is copied whole or on the next round.
 */
import { chownSync, closeSync, fchmodSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The key log's name inside a capture directory. */
export const CAPTURE_KEYLOG_NAME = 'tls-keys.log';

/** Bytes read at most per round (a key log grows by ~200 bytes per TLS session). */
const ROUND_BYTES = 4 * 1024 * 1024;

export class KeyLogCopier {
  /** Bytes of the source copied so far. */
  private offset = 0;
  /** Bytes written into the copy. */
  copied = 0;
  /** The source was seen (it may appear after the capture started, when the application starts). */
  seen = false;
  private readonly dest: string;
  private created = false;

  constructor(
    readonly source: string,
    dir: string,
    private readonly owner: { uid: number; gid: number } | null,
    private readonly warn: (line: string) => void,
  ) {
    this.dest = join(dir, CAPTURE_KEYLOG_NAME);
    // Only what the key log gains from now on: the secrets of sessions that began before the
    // capture cannot decrypt anything in it (their handshakes are not captured), and copying them
    // would make the capture directory unlock sessions it does not hold.
    try {
      this.offset = statSync(source).size;
    } catch {
      this.offset = 0; // not there yet: the application creates it
    }
  }

  /** Copy what the source gained since the last round (whole lines). Never throws. */
  copy(): void {
    let fd: number;
    try {
      fd = openSync(this.source, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.warnOnce(`--keylog ${this.source}: cannot read it (${code === 'EACCES' ? 'permission denied' : (e as Error).message})`);
      return;
    }
    try {
      this.seen = true;
      const size = fstatSync(fd).size;
      // Truncated or replaced (the application restarted): copy it again from its start.
      if (size < this.offset) this.offset = 0;
      const want = Math.min(size - this.offset, ROUND_BYTES);
      if (want <= 0) return;
      const buf = Buffer.alloc(want);
      const n = readSync(fd, buf, 0, want, this.offset);
      const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
      if (end === 0) return;
      this.append(buf.subarray(0, end));
      this.offset += end;
    } catch (e) {
      this.warnOnce(`--keylog ${this.source}: copy failed (${(e as Error).message})`);
    } finally {
      closeSync(fd);
    }
  }

  private append(bytes: Uint8Array): void {
    const out = openSync(this.dest, 'a', 0o600);
    try {
      if (!this.created) {
        fchmodSync(out, 0o600);
        if (this.owner) chownSync(this.dest, this.owner.uid, this.owner.gid);
        this.created = true;
      }
      writeSync(out, bytes);
      this.copied += bytes.length;
    } finally {
      closeSync(out);
    }
  }

  private warned = false;
  private warnOnce(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(line);
  }
}

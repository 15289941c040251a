/**
 * TLS key logs for decryption: the files given with `--keylog` (a file, or every file of a
 * directory), the key log `periscope capture --keylog` copied into a capture directory, and the
 * secrets inside pcapng Decryption Secrets Blocks (added while the capture is read). One `KeyLog`
 * holds them all; sessions look their secrets up by client random.
 *
 * A key log unlocks every session it covers: it is read, never copied, printed or bundled.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeyLog, type KeyLogParseResult } from '../../src/tls/keylog.js';
import type { SessionSecrets } from '../../src/tls/keylog.js';
import { CAPTURE_KEYLOG_NAME } from '../../capture/keylog.js';
import type { MysqlTotals } from '../../src/pipeline/mysql.js';
import type { FileReport } from './captures.js';
import { count } from '../format.js';
import type { Io } from '../io.js';

export { CAPTURE_KEYLOG_NAME };

/** pcapng Decryption Secrets Block: the secrets type of a TLS key log ('TLSK'). */
export const SECRETS_TLS_KEYLOG = 0x544c534b;

/** A key log file is read whole; beyond this it is not a key log (a capture given by mistake). */
const MAX_KEYLOG_BYTES = 256 * 1024 * 1024;

export class KeyLogError extends Error {}

/** What was read from where, for the user (counts only: never a secret). */
/** Where a key log came from: --keylog, a capture directory's tls-keys.log, a pcapng Decryption Secrets Block. */
export type KeyLogKind = 'keylog' | 'capture-directory' | 'pcapng-dsb';

export interface KeyLogSourceReport {
  source: string;
  kind: KeyLogKind;
  lines: number;
  secrets: number;
  bad: number;
  firstBad: { line: number; reason: string } | null;
}

export class KeyLogs {
  readonly keyLog = new KeyLog();
  readonly sources: KeyLogSourceReport[] = [];
  /** Decryption Secrets Blocks of a type other than a TLS key log (WireGuard, SSH, …). */
  otherSecretBlocks = 0;
  /** Capture files that hold Decryption Secrets Blocks (a bundle never carries them). */
  readonly filesWithSecrets = new Set<string>();
  /** Bytes already read of each growing file (live: the application keeps appending). */
  private readonly offsets = new Map<string, number>();

  /** The lookup a session uses. */
  readonly lookup = (clientRandom: Uint8Array): SessionSecrets | null => this.keyLog.lookup(clientRandom);

  /**
   * Every key log given: files, and the regular files of directories. Errors name the path.
   * `mayNotExist` (live): a key log the application has not created yet is skipped, not an error.
   */
  async addPaths(paths: readonly string[], mayNotExist = false): Promise<void> {
    for (const p of paths) {
      const st = await stat(p).catch((e: NodeJS.ErrnoException) => {
        if (mayNotExist && e.code === 'ENOENT') return null;
        throw new KeyLogError(`--keylog ${p}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
      });
      if (st === null) continue;
      if (st.isDirectory()) {
        const names = (await readdir(p)).filter((n) => !n.startsWith('.')).sort();
        let files = 0;
        for (const n of names) {
          const full = join(p, n);
          if ((await stat(full).catch(() => null))?.isFile()) {
            files++;
            await this.addFile(full, 'keylog');
          }
        }
        if (files === 0) throw new KeyLogError(`--keylog ${p}: the directory holds no file`);
      } else if (st.isFile()) {
        await this.addFile(p, 'keylog');
      } else {
        throw new KeyLogError(`--keylog ${p}: not a regular file or directory`);
      }
    }
  }

  /**
   * The key logs that `periscope capture --keylog` left in the input directories, or beside input
   * files (one file of a capture directory, named by a shell glob).
   */
  async addCaptureDirectories(inputs: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const p of inputs) {
      const isDir = await stat(p).then((s) => s.isDirectory(), () => null);
      if (isDir !== null) dirs.add(isDir ? p : dirname(p));
    }
    for (const p of dirs) {
      const file = join(p, CAPTURE_KEYLOG_NAME);
      if (this.offsets.has(file)) continue;
      if (await stat(file).then((s) => s.isFile(), () => false)) await this.addFile(file, 'capture-directory');
    }
  }

  /** Read a file, or what it gained since the last call (whole lines only). */
  async addFile(path: string, kind: KeyLogKind = 'keylog'): Promise<KeyLogSourceReport> {
    const from = this.offsets.get(path) ?? 0;
    const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new KeyLogError(`--keylog ${path}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
    });
    let text: string;
    try {
      const size = (await fh.stat()).size;
      if (size > MAX_KEYLOG_BYTES) throw new KeyLogError(`--keylog ${path}: ${size} bytes is too large for a key log (is it a capture?)`);
      const buf = Buffer.alloc(Math.max(0, size - from));
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      const got = buf.subarray(0, bytesRead);
      // Whole lines only: a line being written is read the next time.
      const end = got.lastIndexOf(0x0a) + 1;
      text = got.subarray(0, end).toString('utf8');
      this.offsets.set(path, from + end);
    } finally {
      await fh.close();
    }
    if (from === 0 && /\0/.test(text.slice(0, 4096))) throw new KeyLogError(`--keylog ${path}: a binary file, not a key log (expected lines such as 'CLIENT_RANDOM <64 hex digits> <96 hex digits>')`);
    return this.addText(text, path, kind);
  }

  /** Key log text from a pcapng Decryption Secrets Block (or any source), counted under `source`. */
  addText(text: string, source: string, kind: KeyLogKind = 'keylog'): KeyLogSourceReport {
    const r: KeyLogParseResult = this.keyLog.addText(text);
    let rep = this.sources.find((s) => s.source === source);
    if (rep === undefined) {
      rep = { source, kind, lines: 0, secrets: 0, bad: 0, firstBad: null };
      this.sources.push(rep);
    }
    rep.lines += r.lines;
    rep.secrets += r.secrets;
    rep.bad += r.bad.length;
    rep.firstBad ??= r.bad[0] ?? null;
    return rep;
  }

  /** The read hook for pcapng Decryption Secrets Blocks. */
  readonly onSecrets = (type: number, data: Uint8Array, file: FileReport): void => this.addSecretsBlock(type, data, file.path);

  /** A pcapng Decryption Secrets Block. */
  addSecretsBlock(type: number, data: Uint8Array, file: string): void {
    this.filesWithSecrets.add(file);
    if (type !== SECRETS_TLS_KEYLOG) {
      this.otherSecretBlocks++;
      return;
    }
    this.addText(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'), `${file} (decryption secrets block)`, 'pcapng-dsb');
  }

  /** Lines for stderr: key logs that hold nothing usable, or bad lines (never their content). */
  warnings(): string[] {
    const out: string[] = [];
    for (const s of this.sources) {
      if (s.secrets === 0 && s.lines > 0) out.push(`key log ${s.source}: no TLS secret in ${s.lines} line${s.lines === 1 ? '' : 's'} (expected the NSS key log format: 'CLIENT_RANDOM <client random> <master secret>' or the TLS 1.3 '…_TRAFFIC_SECRET' lines)`);
      else if (s.secrets === 0) out.push(`key log ${s.source}: empty`);
      else if (s.bad > 0 && s.firstBad) out.push(`key log ${s.source}: ${s.bad} line${s.bad === 1 ? '' : 's'} not understood, the first at line ${s.firstBad.line}: ${s.firstBad.reason}`);
    }
    return out;
  }
}

/**
 * What the user is told of TLS on stderr (events, trace): the key logs' problems, how many
 * connections were decrypted, and each one that was not, with the reason (its client random, what
 * to do). Never a secret.
 */
export function printTls(io: Io, t: MysqlTotals, keys: KeyLogs): void {
  for (const w of keys.warnings()) io.warn(w);
  if (t.tls === 0) return;
  const unread = t.tls - t.tlsDecrypted;
  if (t.tlsNoSecret > 0 && keys.sources.length === 0) io.warn('TLS: no key log was given (--keylog FILE): TLS connections are not decrypted (docs/tls.md says how to get the clients\' key log)');
  const info = io.info ?? io.warn;
  if (t.tlsDecrypted > 0) info(`TLS: ${t.tlsDecrypted} of ${count(t.tls, 'TLS connection')} decrypted with the key log's secrets`);
  if (t.tlsPartial > 0) {
    io.warn(`TLS: ${t.tlsPartial} of the decrypted ${t.tlsPartial === 1 ? 'has' : 'have'} records that could not be decrypted: commands are missing`);
    for (const u of t.tlsUnread.filter((x) => x.partial)) io.warn(`  ${u.client} → ${u.server}: ${u.reason}`);
  }
  if (unread === 0) return;
  io.warn(`TLS: ${unread} of ${count(t.tls, 'TLS connection')} could not be decrypted: their commands are not shown`);
  for (const u of t.tlsUnread.filter((x) => !x.partial)) {
    const what = [u.version, u.cipher].filter((x) => x !== null).join(' ');
    io.warn(`  ${u.client} → ${u.server}${what ? ` (${what})` : ''}: ${u.reason}`);
  }
  if (unread > t.tlsUnread.length) io.warn(`  … and ${unread - t.tlsUnread.length} more`);
  if (t.tlsNoSecret > 0 && keys.keyLog.size > 0) {
    io.warn(`  the key logs given hold ${count(keys.keyLog.size, 'TLS session')}, not these: were they written by the clients of these connections, during this capture? (docs/tls.md)`);
  }
}

/**
 * What a bundle's manifest says of TLS (counts and kinds of source only: never a secret, a client
 * random or a key log's path): how many TLS connections there were, how many were decrypted, and
 * from which kinds of key log the secrets came.
 */
export interface TlsManifest {
  connections: number;
  decrypted: number;
  decrypted_in_part: number;
  without_secret: number;
  /** Per kind of source that was read: how many sources, and the TLS sessions they hold secrets for. */
  key_logs: { kind: KeyLogKind; sources: number; secrets: number }[];
}

export function tlsManifest(h: { tlsConnections?: number; tlsDecrypted?: number; tlsPartial?: number; tlsNoSecret?: number }, keys: KeyLogs): TlsManifest {
  const kinds = new Map<KeyLogKind, { kind: KeyLogKind; sources: number; secrets: number }>();
  for (const s of keys.sources) {
    const k = kinds.get(s.kind) ?? { kind: s.kind, sources: 0, secrets: 0 };
    k.sources++;
    k.secrets += s.secrets;
    kinds.set(s.kind, k);
  }
  const order: KeyLogKind[] = ['keylog', 'capture-directory', 'pcapng-dsb'];
  return { connections: h.tlsConnections ?? 0, decrypted: h.tlsDecrypted ?? 0, decrypted_in_part: h.tlsPartial ?? 0, without_secret: h.tlsNoSecret ?? 0, key_logs: [...kinds.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind)) };
}

/** Key logs for a command: those given with --keylog, and those capture directories hold. */
export async function keyLogsFor(inputs: readonly string[], keylog: readonly string[]): Promise<KeyLogs> {
  const keys = new KeyLogs();
  await keys.addPaths(keylog);
  await keys.addCaptureDirectories(inputs);
  return keys;
}

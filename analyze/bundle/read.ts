/**
 * Reading a bundle back, streaming: gunzip, walk the tar members, hash each one, and check them
 * against manifest.json. What `inspect` shows and what `upload` checks before sending.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { checkManifest, MANIFEST, type BundleManifest, type MemberRecord } from './manifest.js';
import { TarReader } from './tar.js';

/** A bundle that cannot be opened at all (exit 2). */
export class BundleError extends Error {}

export interface MemberInfo extends MemberRecord {
  /** The tar type flag ('0' for a file). */
  type: string;
}

export interface BundleCheck {
  /** The archive's size on disk. */
  size: number;
  /** SHA-256 of the whole archive file (hex), when it was read to its end. */
  sha256: string | null;
  /** Members read whole, in archive order. */
  members: MemberInfo[];
  manifest: BundleManifest | null;
  /** What is wrong, one line each; empty when every member matches the manifest. */
  problems: string[];
  /** The archive could not be read to its end: cut short, or damaged. */
  unreadable: boolean;
  /** Members asked for with `keep` (and manifest.json), whole. */
  kept: Map<string, Buffer>;
}

export interface ReadBundleOptions {
  keep?: (path: string) => boolean;
  /** Every data chunk of this member, as read (awaited: a slow writer holds reading back). */
  show?: { path: string; write(bytes: Uint8Array): Promise<void> };
}

/** An error of the code `show` writes to (a closed stdout), not of the bundle. */
class ConsumerError extends Error {
  constructor(override readonly cause: unknown) {
    super('show');
  }
}

const AGAIN = 'the file was cut short — an interrupted copy or download? — make or copy it again';

export async function readBundle(path: string, opts: ReadBundleOptions = {}): Promise<BundleCheck> {
  let size: number;
  const head = Buffer.alloc(2);
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BundleError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory (name the .tar.gz file)' : err.message}`);
  }
  const check: BundleCheck = { size, sha256: null, members: [], manifest: null, problems: [], unreadable: false, kept: new Map() };
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    check.problems.push(`not gzip-compressed: not a Periscope bundle (bundles are the .tar.gz files 'periscope bundle' makes)`);
    check.unreadable = true;
    return check;
  }

  const tar = new TarReader();
  const keep = (p: string) => p === MANIFEST || (opts.keep?.(p) ?? false);
  let current: { path: string; type: string; hash: ReturnType<typeof createHash>; size: number; parts: Buffer[] | null } | null = null;
  let ended = false;
  const seen = new Set<string>();
  const gunzip = createGunzip();
  const source = createReadStream(path);
  const whole = createHash('sha256');
  source.on('data', (c) => whole.update(c));
  source.on('error', (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  try {
    reading: for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      tar.push(chunk);
      for (;;) {
        const step = tar.next();
        switch (step.kind) {
          case 'need-more':
            continue reading;
          case 'end':
            ended = true;
            continue reading;
          case 'entry':
            if (seen.has(step.entry.path)) check.problems.push(`${step.entry.path}: in the archive twice`);
            seen.add(step.entry.path);
            current = { path: step.entry.path, type: step.entry.type, hash: createHash('sha256'), size: 0, parts: keep(step.entry.path) ? [] : null };
            break;
          case 'data':
            current!.hash.update(step.bytes);
            current!.size += step.bytes.length;
            current!.parts?.push(Buffer.from(step.bytes));
            if (opts.show?.path === current!.path) {
              try {
                await opts.show.write(step.bytes);
              } catch (e) {
                throw new ConsumerError(e);
              }
            }
            break;
          case 'entry-end': {
            const c = current!;
            check.members.push({ path: c.path, type: c.type, size: c.size, sha256: c.hash.digest('hex') });
            if (c.parts) check.kept.set(c.path, Buffer.concat(c.parts));
            current = null;
            break;
          }
          case 'error':
            check.problems.push(`damaged: ${step.message}`);
            check.unreadable = true;
            source.destroy();
            break reading;
          default: {
            const never: never = step;
            throw new Error(`tar step ${JSON.stringify(never)}`);
          }
        }
      }
    }
  } catch (e) {
    source.destroy();
    if (e instanceof ConsumerError) throw e.cause;
    const err = e as NodeJS.ErrnoException;
    const where = current ? ` (inside ${current.path})` : '';
    check.problems.push(err.code === 'Z_BUF_ERROR' ? `truncated: the compressed data ends early${where}: ${AGAIN}` : `damaged: the compressed data is corrupt${where} (${err.message})`);
    check.unreadable = true;
    return check;
  }
  if (!check.unreadable) {
    const cut = tar.finish();
    if (cut !== null || !ended) {
      check.problems.push(`truncated: ${cut ?? 'the archive ends without its end-of-archive marker'}: ${AGAIN}`);
      check.unreadable = true;
    }
  }
  if (!check.unreadable) {
    check.sha256 = whole.digest('hex');
    compareWithManifest(check);
  }
  return check;
}

/** A directory entry (`schema/`), as GNU tar writes when a bundle is repacked: no content to check. */
export function isDirectory(m: { path: string; size: number }): boolean {
  return m.path.endsWith('/') && m.size === 0;
}

/** Every member against the manifest's list: modified, missing, added. */
function compareWithManifest(check: BundleCheck): void {
  const raw = check.kept.get(MANIFEST);
  if (raw === undefined) {
    check.problems.push(`no ${MANIFEST}: not a Periscope bundle, or its manifest was removed`);
    return;
  }
  try {
    check.manifest = checkManifest(JSON.parse(raw.toString('utf8')));
  } catch (e) {
    check.problems.push(`${MANIFEST}: ${(e as Error).message}`);
    return;
  }
  const listed = new Map(check.manifest.files.map((f) => [f.path, f]));
  for (const m of check.members) {
    if (m.path === MANIFEST || isDirectory(m)) continue;
    const f = listed.get(m.path);
    if (f === undefined) check.problems.push(`${m.path}: not listed in the manifest (added after the bundle was made)`);
    else if (f.size !== m.size || f.sha256 !== m.sha256) check.problems.push(`${m.path}: modified after the bundle was made (${f.size !== m.size ? `${m.size} bytes, the manifest says ${f.size}` : 'its SHA-256 does not match the manifest'})`);
  }
  const present = new Set(check.members.map((m) => m.path));
  for (const f of check.manifest.files) if (!present.has(f.path)) check.problems.push(`${f.path}: listed in the manifest but missing from the archive`);
}

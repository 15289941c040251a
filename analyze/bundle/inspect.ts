/**
 * `periscope inspect FILE.tar.gz`: what a bundle holds, before it is sent — the members with their
 * sizes, every checksum verified against the manifest, the manifest, and the top of the report;
 * `--show PATH` prints one member (gunzipped when it ends in .gz). A modified, truncated or
 * damaged bundle is reported as such (exit 2).
 */
import { createGunzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { size as human } from '../format.js';
import type { Io } from '../io.js';
import { MANIFEST, MEMBERS, type BundleManifest } from './manifest.js';
import { BundleError, isDirectory, readBundle, type BundleCheck } from './read.js';

export interface InspectOptions {
  file: string;
  /** Print this member instead of the overview. */
  show: string | null;
  /** Lines of report.txt shown. */
  reportLines: number;
}

/** Write, waiting while the reader is behind; rejects when it has gone (EPIPE). */
async function write(out: Writable, bytes: Uint8Array): Promise<void> {
  if (out.errored) throw out.errored;
  if (!out.write(bytes)) await once(out, 'drain');
}

export async function runInspect(opts: InspectOptions, io: Io, stdout: Writable = process.stdout): Promise<number> {
  let check: BundleCheck;
  try {
    check = opts.show === null ? await readBundle(opts.file, { keep: (p) => p === MEMBERS.reportText }) : await show(opts.file, opts.show, stdout);
  } catch (e) {
    if (e instanceof BundleError) {
      io.error(e.message);
      return 2;
    }
    // `inspect --show … | head`: the reader went away; nothing more to say.
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw e;
  }
  if (opts.show !== null && !check.unreadable && !check.members.some((m) => m.path === opts.show)) {
    io.error(`${opts.file}: no member ${opts.show} in the bundle; it holds ${check.members.map((m) => m.path).join(', ')}`);
    return 2;
  }
  if (opts.show === null && check.members.length > 0) io.out(overview(opts, check));
  for (const p of check.problems) io.error(`${opts.file}: ${p}`);
  if (check.problems.length === 0) return 0;
  if (check.members.length > 0) io.error(`${opts.file}: this bundle is not as Periscope made it${check.unreadable ? '' : ' (a member was changed, added or removed after it was made)'}; do not send it — make it again with 'periscope bundle'`);
  return 2;
}

/** Read the bundle, streaming one member to stdout as it comes (gunzipped for .gz). */
async function show(file: string, path: string, stdout: Writable): Promise<BundleCheck> {
  const gunzip = path.endsWith('.gz') ? createGunzip() : null;
  // A reader that goes away (EPIPE) fails the next write, which stops reading.
  const onError = (e: Error) => gunzip?.destroy(e);
  stdout.on('error', onError);
  try {
    if (gunzip === null) return await readBundle(file, { show: { path, write: (b) => write(stdout, b) } });
    const piped = new Promise<void>((resolve, reject) => {
      gunzip.on('data', (d: Buffer) => {
        if (!stdout.write(d)) {
          gunzip.pause();
          stdout.once('drain', () => gunzip.resume());
        }
      });
      gunzip.on('end', resolve);
      gunzip.on('error', reject);
    });
    piped.catch(() => undefined);
    const check = await readBundle(file, { show: { path, write: (b) => write(gunzip, b) } });
    gunzip.end();
    try {
      await piped;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw e;
      if (check.members.some((m) => m.path === path)) check.problems.push(`${path}: its gzip data is damaged (${(e as Error).message})`);
    }
    return check;
  } finally {
    stdout.off('error', onError);
  }
}

function overview(opts: InspectOptions, c: BundleCheck): string {
  const m = c.manifest;
  const lines: string[] = [];
  lines.push(`${opts.file}: ${human(c.size)}${m ? `, a Periscope bundle made ${m.created.at} on ${m.created.host} by Periscope ${m.periscope.version} (commit ${m.periscope.commit})` : ''}`);
  lines.push('');
  const width = Math.max(8, ...c.members.map((x) => human(x.size).length));
  const listed = new Map((m?.files ?? []).map((f) => [f.path, f]));
  for (const x of c.members) {
    const f = listed.get(x.path);
    const state = x.path === MANIFEST ? 'the manifest' : isDirectory(x) ? 'a directory' : m === null ? '' : f === undefined ? 'NOT IN THE MANIFEST' : f.sha256 === x.sha256 && f.size === x.size ? 'checksum ok' : 'MODIFIED';
    lines.push(`  ${human(x.size).padStart(width)}  ${x.path.padEnd(24)} ${state}`);
  }
  lines.push('');
  if (c.problems.length === 0 && m !== null) lines.push(`All ${m.files.length} members match the SHA-256 checksums of the manifest.`);
  else lines.push(`NOT VERIFIED: ${c.problems.length} problem${c.problems.length === 1 ? '' : 's'} (on stderr).`);
  if (m !== null) lines.push(...summary(m), '', `${MANIFEST}:`, JSON.stringify(m, null, 2));
  const report = c.kept.get(MEMBERS.reportText);
  if (report !== undefined) {
    const all = report.toString('utf8').split('\n');
    lines.push('', `${MEMBERS.reportText} (the first ${Math.min(opts.reportLines, all.length)} of ${all.length} lines; all of it: periscope inspect ${opts.file} --show ${MEMBERS.reportText}):`, '', ...all.slice(0, opts.reportLines));
  }
  return `${lines.join('\n')}\n`;
}

/** TLS in a bundle: what was decrypted, and from which kinds of key log (never the secrets). */
function tlsLine(t: NonNullable<BundleManifest['tls']>): string {
  const from = t.key_logs.filter((k) => k.secrets > 0).map((k) => KEYLOG_KIND[k.kind]);
  return `TLS: ${t.decrypted} of ${t.connections} connection${t.connections === 1 ? '' : 's'} decrypted${t.decrypted_in_part ? ` (${t.decrypted_in_part} in part)` : ''}${from.length ? `, with secrets from ${from.join(', ')}` : ''}; the bundle holds no secret.`;
}

const KEYLOG_KIND: Record<NonNullable<BundleManifest['tls']>['key_logs'][number]['kind'], string> = { keylog: 'a key log given with --keylog', 'capture-directory': "the capture directory's tls-keys.log", 'pcapng-dsb': "the pcapng file's Decryption Secrets Blocks" };

/** The lines a user checks before sending: what of their data is in the bundle. */
function summary(m: BundleManifest): string[] {
  const s = m.schema;
  const out = [
    `Captures: ${m.inputs.length} file${m.inputs.length === 1 ? '' : 's'}${m.capture_manifests.length ? `, with ${m.capture_manifests.length} capture manifest${m.capture_manifests.length === 1 ? '' : 's'}` : ''}`,
    `Redacted: SQL literals, error message values; no parameter values, result rows, LOAD DATA contents or authentication data (the manifest's "redaction" says how).`,
    s.collected
      ? `Schema: from ${s.server} (${s.server_version}): ${s.tables.collected} table${s.tables.collected === 1 ? '' : 's'}${s.tables.missing.length ? `, ${s.tables.missing.length} missing` : ''}${s.tables.denied.length ? `, ${s.tables.denied.length} not readable` : ''}${s.tables.failed.length ? `, ${s.tables.failed.length} failed` : ''}, ${s.variables} global variables`
      : `Schema: not included (${s.reason})`,
    ...(m.tls && m.tls.connections > 0 ? [tlsLine(m.tls)] : []),
    m.pcap_included.length ? `RAW PACKET CAPTURES INCLUDED (${m.pcap_included.join(', ')}): they hold every value sent to and from the server, unredacted.` : 'Raw packet captures: not included.',
  ];
  return out;
}

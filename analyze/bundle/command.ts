/**
 * `periscope bundle CAPTURE… -o FILE.tar.gz`: everything an analyst needs from a capture, and
 * nothing a customer would not share — the report (json, txt, html, made by the analyze code),
 * every command event redacted (events.jsonl.gz), table schemas from the live server when
 * `--schema-from` names it, and manifest.json describing it all with a SHA-256 per member.
 * Streaming: the events go to a private temporary file beside the output, then every member is
 * streamed into the archive; the raw capture only with `--include-pcap`. Written 0600.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { TarArchive } from 'archiver';
import type { Io } from '../io.js';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import { analyzeCaptures, watchRead } from '../run/run.js';
import { keyLogsFor, tlsManifest } from '../read/keylog.js';
import { buildFilter, describeFilters, type FilterOptions } from '../run/filters.js';
import { unwritable } from '../output.js';
import { isoTime } from '../../common/time.js';
import { applyManifests } from '../run/manifests.js';
import { eventJson } from '../events/command.js';
import { anythingRead, reportFileProblems } from '../read/problems.js';
import { eventShape } from '../aggregate/aggregate.js';
import { LiteralShaper } from '../../src/sql/shape.js';
import { buildReport, type Order, type Report } from '../report/report.js';
import { renderReport } from '../report/render.js';
import { buildInfo } from '../../common/version.js';
import { count, size as human } from '../format.js';
import { collectSchema, notRequested, tablesOfReport, tablesSql, type SchemaResult } from '../schema/collect.js';
import { connectionSettings, type ServerSpec } from '../schema/connect.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, MANIFEST, MEMBERS, REDACTION_POLICY, type BundleManifest, type CaptureManifest, type MemberRecord } from './manifest.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { SqlNormalizer } from '../../src/sql/index.js';

export interface BundleOptions {
  files: string[];
  output: string;
  ports: number[];
  tcp?: TcpLimits;
  order: Order;
  limit: number;
  includePcap: boolean;
  /** Where to read table schemas from (null: no --schema-from). */
  schema: ServerSpec | null;
  /** Which commands go in (the incident's window, a database, a client…); {} for all. */
  filters: FilterOptions;
  progress: boolean;
  /** TLS key logs to decrypt with (never put in the bundle). */
  keylog?: string[];
}

/** The capture's own manifest, written by `periscope capture` beside its files. */
const CAPTURE_MANIFEST = 'capture.json';

export async function runBundle(opts: BundleOptions, io: Io): Promise<number> {
  // Mistakes in the filters and the schema options are usage errors: found before any work.
  const filter = buildFilter(opts.filters);
  const where = unwritable('-o', opts.output); // before the work: a long read is not lost at its end
  if (where !== null) {
    io.error(`${where}: no bundle written`);
    return 2;
  }
  const settings = opts.schema === null ? null : await connectionSettings(opts.schema);
  const keys = await keyLogsFor(opts.files, opts.keylog ?? []);
  for (const w of keys.warnings()) io.warn(w);
  if (opts.includePcap) {
    io.warn('--include-pcap: THE RAW CAPTURE GOES INTO THE BUNDLE. It holds every value sent to and from the server — customer data, unredacted. Send it only where that is allowed.');
  }
  const output = resolve(opts.output);
  if (opts.files.some((f) => resolve(f) === output)) {
    io.error(`-o ${opts.output} is one of the captures: name a new file for the bundle`);
    return 1;
  }
  let work: string;
  try {
    work = await mkdtemp(join(dirname(output), '.periscope-bundle-'));
  } catch (e) {
    io.error(`${opts.output}: cannot write a bundle there (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message})`);
    return 2;
  }
  const watch = await watchRead(opts.files, io, { progress: opts.progress, interrupted: 'stopping; no bundle will be written' });
  try {
    const at = new Date();
    const eventsPath = join(work, MEMBERS.events);
    const events = eventsFile(eventsPath);
    let result;
    try {
      result = await analyzeCaptures({ files: opts.files, ports: opts.ports, tcp: opts.tcp, filter, raw: false, onEvent: events.add, hooks: { ...watch.hooks, beforeRead: events.drained }, keys });
    } finally {
      watch.readDone();
      await events.close();
    }
    const code = reportFileProblems(result.files, io);
    if (!anythingRead(result.files)) {
      io.error('nothing could be read: no bundle written');
      return 2;
    }
    if (watch.stopped()) {
      io.error('interrupted: no bundle written');
      return 130;
    }
    const captures = await applyManifests(result.aggregate.health, opts.files, io.warn);
    const report = buildReport(result.aggregate.toState(), { version: buildInfo().version, files: result.inputs, captures, filters: describeFilters(opts.filters), order: opts.order, redacted: true, interrupted: false });
    if (report.inputs.filters !== null && report.overall.commands + report.overall.logins === 0) {
      const misses = result.misses;
      io.warn(`no command passed the filters: the bundle holds no event${misses !== undefined && misses.count > 0 ? `; ${misses.describe(isoTime)}` : ''}`);
    }

    let schema: SchemaResult | null = null;
    if (settings !== null) {
      schema = await collectSchema(settings, tablesOfReport(report));
      const s = schema.summary;
      if (!s.collected) io.warn(`no schema in the bundle: ${s.reason}`);
      else {
        const gaps = [...s.tables.missing.map((t) => `${t} (missing)`), ...s.tables.denied.map((t) => `${t} (no privilege)`), ...s.tables.failed.map((t) => `${t} (failed)`)];
        if (gaps.length) io.warn(`schema: ${gaps.length} of ${s.tables.requested} tables not collected: ${gaps.slice(0, 10).join(', ')}${gaps.length > 10 ? ', …' : ''} (schema/tables.json says why)`);
        if (s.tables.ambiguous.length) io.warn(`schema: the database of ${s.tables.ambiguous.length === 1 ? 'a table' : `${s.tables.ambiguous.length} tables`} was not known to the capture (no database selected, or selected before it began) and the name is in several places (schemas, or names differing in case), each collected: ${s.tables.ambiguous.slice(0, 5).join('; ')}${s.tables.ambiguous.length > 5 ? '; …' : ''}`);
        if (s.tables.unresolved.length) io.warn(`schema: ${s.tables.unresolved.length === 1 ? 'a table' : `${s.tables.unresolved.length} tables`} of statements with no database known found in no schema: ${s.tables.unresolved.slice(0, 10).join(', ')}`);
        if (s.tables.skipped) io.warn(`schema: only the first ${s.tables.requested - s.tables.skipped} tables were collected (${s.tables.skipped} more)`);
      }
    }

    const pcaps = opts.includePcap ? result.files.filter((f) => f.ignored === null).map((f) => f.path) : [];
    // A key log never goes into a bundle, not even inside a capture: it would unlock the raw capture.
    const withSecrets = pcaps.filter((p) => keys.filesWithSecrets.has(p));
    if (withSecrets.length > 0) {
      io.error(`--include-pcap: ${withSecrets.join(', ')} ${withSecrets.length === 1 ? 'holds' : 'hold'} decryption secrets (pcapng Decryption Secrets Blocks), which a bundle never carries; write a copy without them (editcap --discard-all-secrets IN OUT.pcapng) and bundle that: no bundle written`);
      return 2;
    }
    const tmpArchive = join(work, 'bundle.tar.gz');
    const manifest = await writeArchive(tmpArchive, {
      report,
      limit: opts.limit,
      eventsPath,
      schema,
      pcaps,
      head: {
        format: BUNDLE_FORMAT,
        version: BUNDLE_VERSION,
        periscope: { ...buildInfo(), node: process.version },
        created: { at: at.toISOString(), host: hostname(), platform: `${process.platform} ${process.arch}` },
        inputs: result.inputs,
        capture_manifests: await captureManifests(opts.files),
        options: { ports: opts.ports, tcp: opts.tcp ? { reorder_window: opts.tcp.reorderWindow, max_buffer_per_connection: opts.tcp.maxBufferPerConnection, max_buffer_total: opts.tcp.maxBufferTotal, idle_timeout_s: opts.tcp.idleTimeoutSec, max_connections: opts.tcp.maxConnections } : null, order: opts.order, limit: opts.limit, include_pcap: opts.includePcap, schema_from: settings?.label ?? null, filters: describeFilters(opts.filters) },
        redacted: true,
        redaction: REDACTION_POLICY,
        schema: schema?.summary ?? notRequested(),
        tls: tlsManifest(result.aggregate.health, keys),
      },
    });
    if (watch.stopped()) {
      io.error('interrupted: no bundle written');
      return 130;
    }
    await rename(tmpArchive, output);
    await chmod(output, 0o600);
    const st = await stat(output);
    const s = manifest.schema;
    const schemaLine = s.collected ? `schema of ${s.tables.collected} table${s.tables.collected === 1 ? '' : 's'}` : 'no schema';
    const o = report.overall;
    io.out(`${opts.output}: ${human(st.size)}, ${manifest.files.length + 1} members (report, ${events.count.toLocaleString('en-US')} events: ${eventKinds(o.commands, o.logins, o.tls_logins_unseen)}, ${schemaLine}${pcaps.length ? ', RAW CAPTURES' : ''}).\nLook inside before sending it: periscope inspect ${opts.output}\n`);
    return code;
  } finally {
    watch.end();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * One event of events.jsonl.gz: the redacted event of `periscope events`, and what advice reads of
 * the raw statement without any value (docs/bundle.md): the parameters' type codes (`param_types`)
 * and the statement's shape (`shape`: each literal's kind, src/sql/shape.ts) when it is not the
 * redacted text itself (a statement without literals), so that the bundle's report and findings
 * are its capture's.
 */
export function bundleEventJson(e: CommandEvent, sql: SqlNormalizer, shapes: ShapeCache = new ShapeCache()): Record<string, unknown> {
  const line = eventJson(e, true, sql);
  const shape = shapes.of(e);
  return { ...line, ...(e.paramTypes !== null ? { param_types: e.paramTypes } : {}), ...(shape !== null && shape !== line.sql ? { shape } : {}) };
}

/** Statement shapes by text and parameter types (texts recur: prepared statements, statements without literals); at most about 4 MB of keys. */
export class ShapeCache {
  private readonly shapes = new Map<string, string | null>();
  private readonly shaper = new LiteralShaper();
  private chars = 0;

  of(e: CommandEvent): string | null {
    // (Other modes read the text otherwise, and are rare: not cached.)
    if (e.sql === null || e.sqlTruncated || e.noBackslashEscapes !== false) return eventShape(e, this.shaper);
    const key = e.paramTypes === null ? `${e.cmd}\0${e.sql}` : `${e.cmd}\0${e.sql}\0${e.paramTypes.join(',')}`;
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      shape = eventShape(e, this.shaper);
      if (this.chars + key.length > 4 << 20) {
        this.shapes.clear();
        this.chars = 0;
      }
      this.shapes.set(key, shape);
      this.chars += key.length;
    }
    return shape;
  }
}

/** events.jsonl.gz: one redacted event per line, gzip-compressed into a private file as they come. */
function eventsFile(path: string): { add(e: CommandEvent): void; drained(): Promise<void>; close(): Promise<void>; count: number } {
  const gzip = createGzip();
  const file = createWriteStream(path, { mode: 0o600 });
  gzip.pipe(file);
  const failed = new Promise<never>((_, reject) => {
    gzip.on('error', reject);
    file.on('error', reject);
  });
  failed.catch(() => undefined);
  let lines: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (lines.length) gzip.write(lines.join(''));
    lines = [];
    bytes = 0;
  };
  const sql = new SqlNormalizer();
  const shapes = new ShapeCache();
  const w = {
    count: 0,
    add(e: CommandEvent): void {
      const line = `${JSON.stringify(bundleEventJson(e, sql, shapes))}\n`;
      lines.push(line);
      bytes += line.length;
      w.count++;
      if (bytes > 1 << 16) flush();
    },
    /** Awaited before each chunk of capture is read: the reader waits for the disk. */
    async drained(): Promise<void> {
      if (gzip.writableNeedDrain) await Promise.race([once(gzip, 'drain'), failed]);
    },
    async close(): Promise<void> {
      flush();
      gzip.end();
      await Promise.race([once(file, 'close'), failed]);
    },
  };
  return w;
}

/** capture.json of every directory the captures are in (given as a directory, or a file's). */
async function captureManifests(paths: string[]): Promise<CaptureManifest[]> {
  const dirs = new Set<string>();
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    if (st === null) continue;
    dirs.add(st.isDirectory() ? p : dirname(p));
  }
  const out: CaptureManifest[] = [];
  for (const d of dirs) {
    let text: string;
    try {
      text = await readFile(join(d, CAPTURE_MANIFEST), 'utf8');
    } catch {
      continue;
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch {
      // Not JSON: not what periscope capture writes, and it could hold anything: left out.
      manifest = `(not JSON: left out of the bundle; ${text.length} bytes)`;
    }
    out.push({ directory: d, manifest });
  }
  return out;
}

interface ArchiveContent {
  head: Omit<BundleManifest, 'files' | 'pcap_included'>;
  report: Report;
  limit: number;
  eventsPath: string;
  schema: SchemaResult | null;
  pcaps: string[];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Stream every member into a .tar.gz (0600), the manifest last; returns the manifest. */
async function writeArchive(path: string, c: ArchiveContent): Promise<BundleManifest> {
  const archive = new TarArchive({ gzip: true });
  const out = createWriteStream(path, { mode: 0o600 });
  const failed = new Promise<never>((_, reject) => {
    archive.on('error', reject);
    archive.on('warning', reject);
    out.on('error', reject);
  });
  failed.catch(() => undefined);
  const closed = once(out, 'close');
  archive.pipe(out);
  const date = new Date(c.head.created.at);
  const files: MemberRecord[] = [];
  const streamed: Promise<void>[] = [];

  const addBuffer = (name: string, data: string): void => {
    const b = Buffer.from(data, 'utf8');
    files.push({ path: name, size: b.length, sha256: sha256(b) });
    archive.append(b, { name, date, mode: 0o600 });
  };
  /** A file streamed into the archive, hashed on the way. */
  const addFile = (name: string, source: string, st: Stats): void => {
    const rec: MemberRecord = { path: name, size: 0, sha256: '' };
    files.push(rec);
    const hash = createHash('sha256');
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        rec.size += chunk.length;
        cb(null, chunk);
      },
    });
    const src = createReadStream(source);
    src.on('error', (e) => tee.destroy(e));
    src.pipe(tee);
    streamed.push(
      new Promise((resolve, reject) => {
        tee.on('end', () => {
          rec.sha256 = hash.digest('hex');
          resolve();
        });
        tee.on('error', reject);
      }),
    );
    archive.append(tee, { name, date, mode: 0o600, stats: st });
  };

  addBuffer(MEMBERS.reportJson, renderReport(c.report, 'json', { limit: c.limit, color: false }));
  addBuffer(MEMBERS.reportText, renderReport(c.report, 'text', { limit: c.limit, color: false }));
  addBuffer(MEMBERS.reportHtml, renderReport(c.report, 'html', { limit: c.limit, color: false }));
  addFile(MEMBERS.events, c.eventsPath, await stat(c.eventsPath));
  if (c.schema?.server) {
    addBuffer('schema/server.json', `${JSON.stringify(c.schema.server, null, 2)}\n`);
    addBuffer('schema/tables.json', `${JSON.stringify(c.schema.tables, null, 2)}\n`);
    addBuffer('schema/tables.sql', tablesSql(c.schema, c.head.created.at));
  }
  const pcapNames: string[] = [];
  for (const p of c.pcaps) {
    let name = `pcap/${basename(p)}`;
    for (let i = 2; pcapNames.includes(name); i++) name = `pcap/${i}-${basename(p)}`;
    pcapNames.push(name);
    addFile(name, p, await stat(p));
  }
  await Promise.race([Promise.all(streamed), failed]);
  const manifest: BundleManifest = { ...c.head, pcap_included: pcapNames, files };
  archive.append(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), { name: MANIFEST, date, mode: 0o600 });
  await Promise.race([archive.finalize(), failed]);
  await Promise.race([closed, failed]);
  return manifest;
}

/** What a bundle's events are: `33 commands and 2 logins`; TLS sessions whose login was not seen are neither. */
function eventKinds(commands: number, logins: number, tlsUnseen: number): string {
  const parts = [count(commands, 'command'), count(logins, 'login')];
  if (tlsUnseen > 0) parts.push(count(tlsUnseen, 'TLS session whose login was not seen', 'TLS sessions whose login was not seen'));
  return parts.length === 2 ? parts.join(' and ') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

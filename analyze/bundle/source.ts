/**
 * A bundle as an input: `analyze`, `merge` and `diff` read the redacted events of a bundle as the
 * same command events the aggregator takes from a capture. Verified first (every member against
 * the manifest, as `inspect` does), then `events.jsonl.gz` is streamed a line at a time (memory
 * bounded whatever the bundle holds).
 *
 * What a bundle's events lack, by design (docs/bundle.md, redaction policy): literal values (the SQL
 * is redacted; fingerprints and digests are the same; each statement's shape keeps the literals'
 * kinds for advice), parameter values, and the TCP connection id (rebuilt from the client and
 * server endpoints). The capture's health counters come
 * from the bundle's report.json: the events cannot tell what the capture lost.
 */
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync, constants as zlib } from 'node:zlib';
import type { CommandStatus, LoginEnd, UnknownStatement } from '../../src/mysql/session.js';
import type { Health, ShapedEvent } from '../aggregate/aggregate.js';
import type { CaptureInfo, InputFile } from '../report/report.js';
import { MEMBERS, type BundleManifest } from './manifest.js';
import { BundleError, readBundle } from './read.js';

/** What a report says of a bundle it was made from (`inputs.bundles` in the JSON report). */
export interface BundleInput {
  path: string;
  /** SHA-256 of the whole archive, as verified. */
  sha256: string;
  created: string;
  host: string;
  periscope: string;
  /** The filters the bundle was made with (its events hold only those commands). */
  filters: Record<string, string | number | string[] | number[]> | null;
  events: number;
}

/** A verified bundle: its manifest and what its report.json says of the capture. */
export interface OpenedBundle {
  input: BundleInput;
  manifest: BundleManifest;
  /** The capture files the bundle was made from (manifest inputs). */
  files: InputFile[];
  /** Captures made by `periscope capture` (the bundle's report). */
  captures: CaptureInfo[];
  /** The capture's health counters, from the bundle's report. */
  health: Health;
}

/**
 * Is this file a bundle (a gzip-compressed tar archive) rather than a capture? By content: a
 * gzip-compressed capture is not a tar archive.
 */
export async function isBundleFile(path: string): Promise<boolean> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      if (!(await fh.stat()).isFile()) return false;
      head = Buffer.alloc(16384);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return false; // the capture reader says why it cannot be read
  }
  if (head.length < 18 || head[0] !== 0x1f || head[1] !== 0x8b) return false;
  let plain: Buffer;
  try {
    plain = gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH }); // the start only: no end, no error
  } catch {
    return false;
  }
  // A POSIX tar header: "ustar" at offset 257.
  return plain.length >= 262 && plain.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Verify a bundle (every member against its manifest); BundleError with every problem when it is not as made. */
export async function openBundle(path: string): Promise<OpenedBundle> {
  const check = await readBundle(path, { keep: (p) => p === MEMBERS.reportJson });
  if (check.problems.length > 0 || check.manifest === null) {
    throw new BundleError(`${path}: not a verified Periscope bundle: ${check.problems.join('; ') || 'no manifest'} (periscope inspect ${path} says more)`);
  }
  const m = check.manifest;
  if (!m.files.some((f) => f.path === MEMBERS.events)) throw new BundleError(`${path}: the bundle has no ${MEMBERS.events}: nothing to analyse`);
  let report: { health?: { counters?: Health }; inputs?: { captures?: CaptureInfo[] } } = {};
  const rj = check.kept.get(MEMBERS.reportJson);
  if (rj !== undefined) {
    try {
      report = JSON.parse(rj.toString('utf8')) as typeof report;
    } catch {
      throw new BundleError(`${path}: ${MEMBERS.reportJson} is not JSON`);
    }
  }
  return {
    input: { path, sha256: check.sha256 ?? '', created: m.created.at, host: m.created.host, periscope: m.periscope.version, filters: m.options.filters ?? null, events: 0 },
    manifest: m,
    files: m.inputs,
    captures: report.inputs?.captures ?? [],
    health: { ...(report.health?.counters ?? {}) },
  };
}

const STATUSES: ReadonlySet<string> = new Set<CommandStatus>(['ok', 'error', 'none', 'incomplete', 'aborted']);
const LOGIN_ENDS: ReadonlySet<string> = new Set<LoginEnd>(['client_closed', 'server_closed', 'closed', 'client_reset', 'server_reset', 'reset', 'timed_out', 'replaced', 'evicted', 'capture_end']);

/** One line of events.jsonl.gz back into a command event; a string says what is wrong with it. */
export function eventFromJson(v: unknown, connOf: (client: string, server: string, connId: number | null) => number): ShapedEvent | string {
  if (v === null || typeof v !== 'object') return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const ts = typeof o.ts === 'string' ? parseIsoNs(o.ts) : null;
  if (ts === null) return `no valid ts (${JSON.stringify(o.ts)})`;
  if (typeof o.client !== 'string' || typeof o.server !== 'string' || typeof o.cmd !== 'string') return 'no client, server or cmd';
  if (typeof o.status !== 'string' || !STATUSES.has(o.status)) return `unknown status ${JSON.stringify(o.status)}`;
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const connId = num(o.conn_id);
  return {
    conn: connOf(o.client, o.server, connId),
    sec: ts.sec,
    nsec: ts.nsec,
    client: o.client,
    server: o.server,
    connId,
    user: str(o.user),
    db: str(o.db),
    cmd: o.cmd,
    sql: str(o.sql),
    sqlTruncated: o.sql_truncated === true,
    params: null,
    paramTypes: Array.isArray(o.param_types) && o.param_types.every((t) => Number.isInteger(t)) ? (o.param_types as number[]) : null,
    status: o.status as CommandStatus,
    latencyUs: num(o.latency_us),
    responseUs: num(o.response_us),
    rows: num(o.rows),
    affectedRows: num(o.affected_rows),
    insertId: num(o.insert_id),
    warnings: num(o.warnings),
    errorCode: num(o.error_code),
    sqlState: str(o.sql_state),
    error: str(o.error),
    noIndexUsed: o.no_index_used === true,
    noGoodIndexUsed: o.no_good_index_used === true,
    bytesIn: num(o.bytes_in) ?? 0,
    bytesOut: num(o.bytes_out) ?? 0,
    resultSets: num(o.result_sets) ?? 0,
    tls: o.tls === true,
    tlsVersion: str(o.tls_version),
    tlsCipher: str(o.tls_cipher),
    tlsDecrypted: typeof o.tls_decrypted === 'boolean' ? o.tls_decrypted : null,
    // (Present only when on; the SQL of a bundle is already redacted with it.)
    noBackslashEscapes: o.no_backslash_escapes === true ? true : o.no_backslash_escapes === null ? null : false,
    ended: typeof o.ended === 'string' && LOGIN_ENDS.has(o.ended) ? (o.ended as LoginEnd) : null,
    durationUs: num(o.duration_us),
    compressed: o.compressed === true,
    serverStatus: num(o.server_status),
    ...unknownStatementOf(o.unknown_statement),
    // Made from the raw SQL when the bundle was; absent when the redacted text is the shape (no
    // literal), or in bundles made before: there the shape of a redacted `?` would read every
    // literal as a number, so none.
    shape: typeof o.shape === 'string' ? o.shape : typeof o.sql === 'string' && !o.sql.includes('?') ? undefined : null,
  } satisfies ShapedEvent;
}

/** `2026-11-21T05:00:01.123456789Z` (isoTime's form) → seconds and nanoseconds, exactly. */
export function parseIsoNs(s: string): { sec: number; nsec: number } | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return null;
  return { sec: ms / 1000, nsec: Number((m[2] ?? '').padEnd(9, '0')) };
}

export interface BundleEvents {
  events: number;
  /** Lines that were not events (counted, and the first few named on stderr by the caller). */
  bad: { line: number; why: string }[];
  badCount: number;
}

/**
 * Stream the events of a verified bundle, one `onEvent` per line of events.jsonl.gz, in the
 * order the bundle holds them (request-time order). TCP connection ids are rebuilt per
 * (client, server, server connection id).
 */
export async function readBundleEvents(path: string, onEvent: (e: ShapedEvent) => void): Promise<BundleEvents> {
  const conns = new Map<string, number>();
  const connOf = (client: string, server: string, connId: number | null): number => {
    const k = `${client}\0${server}\0${connId ?? ''}`;
    let id = conns.get(k);
    if (id === undefined) {
      id = conns.size + 1;
      conns.set(k, id);
    }
    return id;
  };
  const out: BundleEvents = { events: 0, bad: [], badCount: 0 };
  let lineNo = 0;
  let rest = '';
  const take = (text: string): void => {
    const lines = (rest + text).split('\n');
    rest = lines.pop()!;
    for (const line of lines) one(line);
  };
  const one = (line: string): void => {
    lineNo++;
    if (line === '') return;
    let v: unknown;
    let e: ShapedEvent | string;
    try {
      v = JSON.parse(line);
      e = eventFromJson(v, connOf);
    } catch {
      e = 'not JSON';
    }
    if (typeof e === 'string') {
      out.badCount++;
      if (out.bad.length < 5) out.bad.push({ line: lineNo, why: e });
      return;
    }
    out.events++;
    onEvent(e);
  };
  const gunzip = createGunzip();
  gunzip.setEncoding('utf8');
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on('data', (s: string) => take(s));
    gunzip.on('end', resolve);
    gunzip.on('error', reject);
  });
  done.catch(() => undefined);
  const check = await readBundle(path, {
    show: {
      path: MEMBERS.events,
      write: async (b) => {
        if (!gunzip.write(b)) await new Promise<void>((r) => gunzip.once('drain', r));
      },
    },
  });
  gunzip.end();
  try {
    await done;
  } catch (e) {
    throw new BundleError(`${path}: ${MEMBERS.events} is damaged (${(e as Error).message})`);
  }
  if (rest !== '') one(rest);
  // The archive changed between the check and this read.
  if (check.problems.length > 0) throw new BundleError(`${path}: changed while it was read: ${check.problems.join('; ')}`);
  return out;
}

export interface BundlesRead {
  bundles: BundleInput[];
  files: InputFile[];
  captures: CaptureInfo[];
  /** Each bundle read: its path, and the capture files it was made from. */
  sources: { path: string; filters: BundleInput['filters']; files: InputFile[] }[];
  /** 0, or 2 when a bundle could not be verified or read (said on stderr; the others are read). */
  code: number;
}

/**
 * Every bundle: verified, then its events handed to `onEvent` (filters are the caller's) and its
 * capture's health added to `health`. A bundle that fails verification is not read at all.
 */
export async function readBundles(paths: readonly string[], onEvent: (e: ShapedEvent) => void, health: Health, io: { error(line: string): void }): Promise<BundlesRead> {
  const out: BundlesRead = { bundles: [], files: [], captures: [], sources: [], code: 0 };
  for (const path of paths) {
    let b: OpenedBundle;
    let r: BundleEvents;
    try {
      b = await openBundle(path);
      r = await readBundleEvents(path, onEvent);
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      io.error(`${e.message}; not read`);
      out.code = 2;
      continue;
    }
    for (const x of r.bad) io.error(`${path}: ${MEMBERS.events} line ${x.line}: ${x.why}; skipped`);
    if (r.badCount > r.bad.length) io.error(`${path}: … and ${r.badCount - r.bad.length} more lines of ${MEMBERS.events} that are not events (skipped)`);
    if (r.badCount > 0) out.code = 2;
    b.input.events = r.events;
    for (const [k, v] of Object.entries(b.health)) if (typeof v === 'number') health[k] = (health[k] ?? 0) + v;
    if (r.badCount > 0) health.eventsUnreadable = (health.eventsUnreadable ?? 0) + r.badCount;
    out.bundles.push(b.input);
    out.files.push(...b.files);
    out.sources.push({ path, filters: b.input.filters, files: b.files });
    out.captures.push(...b.captures);
  }
  return out;
}

/** `unknown_statement` of an event line, when valid. */
function unknownStatementOf(v: unknown): { unknownStatement?: UnknownStatement } {
  if (v === null || typeof v !== 'object') return {};
  const u = v as Record<string, unknown>;
  const ints = (x: unknown): x is number[] => Array.isArray(x) && x.every((t) => Number.isInteger(t));
  if (!Number.isInteger(u.id) || !Array.isArray(u.columns) || !u.columns.every((c) => typeof c === 'string')) return {};
  return { unknownStatement: { id: u.id as number, params: Number.isInteger(u.params) ? (u.params as number) : null, types: ints(u.types) ? u.types : null, columns: u.columns as string[] } };
}

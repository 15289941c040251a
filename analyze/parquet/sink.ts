/**
 * Command events written as Parquet files in Hive-style partitions,
 * `DIR/dt=YYYY-MM-DD/host=NAME/part-N.parquet` (docs/parquet.md), with constant memory:
 *
 * - events are appended to a batch of column arrays per partition; when all the batches together
 *   hold `rowGroupRows` events (or `batchChars` characters of text), the biggest is encoded as one
 *   row group and written out, so at most one row group's worth of events is held;
 * - a file is finished (its footer written) when it holds `fileRows` events, when `finishFiles()`
 *   is called (live: every minute, so the data becomes readable), when more than `maxOpen` files
 *   are open (the least recently written one), and at `close()`;
 * - a file is written as `part-N.parquet.tmp` (0600, created exclusively) and linked to
 *   `part-N.parquet` only when whole, so a reader of `**\/*.parquet` never sees half a file, and
 *   two writers (two hosts, or two runs) into one directory never overwrite each other.
 *
 * The writer is hyparquet-writer (pure JavaScript): see docs/parquet.md for why and what it costs.
 */
import { accessSync, closeSync, constants, linkSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { CommandEvent } from '../../src/mysql/session.js';
import { hostOf } from '../aggregate/aggregate.js';
import { COLUMNS, emptyBatch, PARQUET_SCHEMA_VERSION, RowMaker, schemaElements, type Batch, type SqlMode } from './schema.js';

/** Mode of every Parquet file written; directories are 0700. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export interface SinkOptions {
  dir: string;
  /** The `host=` partition of every event; null: each event's server address. */
  host: string | null;
  sql: SqlMode;
  /** Periscope's version, in each file's metadata. */
  version: string;
  rowGroupRows?: number;
  fileRows?: number;
  batchChars?: number;
  maxOpen?: number;
}

/** Writing failed (disk full, permissions): the message names the file and what happened. */
export class ParquetSinkError extends Error {}

/** A label usable as a partition value: letters, digits, `.`, `_`, `-` (anything else becomes `_`). */
export function partitionLabel(s: string): string {
  const safe = s.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe;
}

/** Why the Parquet output directory `dir` (named by option `opt`) cannot be written, or null. */
export function unwritableDir(opt: string, dir: string): string | null {
  let exists = true;
  try {
    if (!statSync(dir).isDirectory()) return `${opt} ${dir}: is a file; name a directory (the Parquet files go in dt=…/host=…/ under it)`;
  } catch {
    exists = false;
  }
  const parent = dirname(resolve(dir));
  try {
    accessSync(exists ? dir : parent, constants.W_OK | constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${opt} ${dir}: the directory ${parent} does not exist`;
    return `${opt} ${dir}: ${exists ? 'the directory' : `the directory ${parent}`} cannot be written (${code})`;
  }
}

/** hyparquet-writer's byte writer, flushed into a file descriptor after every row group. */
class FdWriter extends ByteWriter {
  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {
    super(1 << 20);
  }

  flush(): void {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (e) {
      throw new ParquetSinkError(`writing ${this.path}: ${(e as Error).message}`);
    }
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }
}

interface OpenFile {
  fd: number;
  /** Its part number, taken when it was created (the name it gets unless another writer took it). */
  n: number;
  tmp: string;
  dir: string;
  writer: ParquetWriter;
  rows: number;
}

interface Partition {
  key: string;
  dir: string;
  batch: Batch;
  rows: number;
  chars: number;
  file: OpenFile | null;
  /** For least-recently-written: a counter value. */
  used: number;
}

export interface SinkTotals {
  events: number;
  files: string[];
  rowGroups: number;
}

export class EventsParquetSink {
  private readonly rows: RowMaker;
  private readonly partitions = new Map<string, Partition>();
  private readonly rowGroupRows: number;
  private readonly fileRows: number;
  private readonly batchChars: number;
  private readonly maxOpen: number;
  private buffered = 0;
  private bufferedChars = 0;
  private clock = 0;
  private openFiles = 0;
  /** The UTC day of the last event, for its `dt=`. */
  private dayStart = Infinity;
  private dayEnd = -Infinity;
  private day = '';
  /** The partition of the last event, its day and server. */
  private last: Partition | null = null;
  private lastDay = '';
  private lastServer = '';
  /** The next part number to try per directory (live opens a file a minute: no rescan from 0). */
  private readonly nextPart = new Map<string, number>();
  readonly totals: SinkTotals = { events: 0, files: [], rowGroups: 0 };

  constructor(private readonly opts: SinkOptions) {
    this.rows = new RowMaker(opts.sql);
    this.rowGroupRows = opts.rowGroupRows ?? 25_000;
    this.fileRows = opts.fileRows ?? 1_000_000;
    this.batchChars = opts.batchChars ?? 64 << 20;
    this.maxOpen = opts.maxOpen ?? 16;
  }

  add(e: CommandEvent): void {
    if (e.sec < this.dayStart || e.sec >= this.dayEnd) {
      this.dayStart = e.sec - (((e.sec % 86_400) + 86_400) % 86_400);
      this.dayEnd = this.dayStart + 86_400;
      this.day = new Date(this.dayStart * 1000).toISOString().slice(0, 10);
    }
    // Most events go where the one before went: the key is built only when the day or server changes.
    let p = this.last;
    if (p === null || this.day !== this.lastDay || (this.opts.host === null && e.server !== this.lastServer)) {
      p = this.partition(this.opts.host ?? partitionLabel(hostOf(e.server)));
      this.last = p;
      this.lastDay = this.day;
      this.lastServer = e.server;
    }
    this.rows.append(e, p.batch);

    const chars = (e.sql?.length ?? 0) + (e.error?.length ?? 0);
    p.rows++;
    p.chars += chars;
    this.buffered++;
    this.bufferedChars += chars;
    this.totals.events++;
    if (this.buffered >= this.rowGroupRows || this.bufferedChars >= this.batchChars) this.writeBiggest();
  }

  private partition(host: string): Partition {
    const key = `dt=${this.day}/host=${host}`;
    let p = this.partitions.get(key);
    if (p === undefined) {
      p = { key, dir: join(this.opts.dir, `dt=${this.day}`, `host=${host}`), batch: emptyBatch(), rows: 0, chars: 0, file: null, used: 0 };
      this.partitions.set(key, p);
    }
    return p;
  }

  /** Write every batch and finish every file: all events so far are readable (live, every minute). */
  finishFiles(): void {
    for (const p of this.partitions.values()) {
      if (p.rows > 0) this.writeBatch(p);
      if (p.file !== null) this.finishFile(p);
    }
    this.partitions.clear();
    this.last = null;
  }

  close(): SinkTotals {
    this.finishFiles();
    return this.totals;
  }

  private writeBiggest(): void {
    let big: Partition | null = null;
    for (const p of this.partitions.values()) if (big === null || p.rows > big.rows) big = p;
    if (big !== null && big.rows > 0) this.writeBatch(big);
  }

  /** The partition's batch as one row group of its current file (a new file when needed). */
  private writeBatch(p: Partition): void {
    if (p.file === null) this.openFile(p);
    const f = p.file!;
    const columnData: ColumnSource[] = COLUMNS.map((c, i) => {
      const data = p.batch[i]!;
      return {
        name: c.name,
        data: c.kind === 'int64' || c.kind === 'timestamp' ? data.map(toBigInt) : data,
        statistics: c.statistics,
        ...(c.dictionary === true ? { encoding: 'RLE_DICTIONARY' as const } : c.dictionary === false ? { encoding: 'PLAIN' as const } : {}),
      } as ColumnSource;
    });
    try {
      void f.writer.write({ columnData, rowGroupSize: p.rows });
    } catch (e) {
      if (e instanceof ParquetSinkError) throw e;
      throw new ParquetSinkError(`encoding a row group of ${f.tmp}: ${(e as Error).message}`);
    }
    this.totals.rowGroups++;
    f.rows += p.rows;
    this.buffered -= p.rows;
    this.bufferedChars -= p.chars;
    p.batch = emptyBatch();
    p.rows = 0;
    p.chars = 0;
    p.used = ++this.clock;
    if (f.rows >= this.fileRows) {
      this.finishFile(p);
      this.retire(p);
    }
  }

  /**
   * Forget a partition with nothing held and no open file, so that a long capture over many days
   * and servers keeps only the partitions in use (an event for it later makes it anew).
   */
  private retire(p: Partition): void {
    if (p.rows > 0 || p.file !== null) return;
    this.partitions.delete(p.key);
    if (this.last === p) this.last = null;
  }

  private openFile(p: Partition): void {
    if (this.openFiles >= this.maxOpen) {
      let lru: Partition | null = null;
      for (const q of this.partitions.values()) if (q.file !== null && (lru === null || q.used < lru.used)) lru = q;
      if (lru !== null) {
        this.finishFile(lru);
        this.retire(lru);
      }
    }
    makeDirs(this.opts.dir, p.dir);
    for (let n = this.nextPart.get(p.dir) ?? 0; ; n++) {
      const tmp = join(p.dir, `part-${n}.parquet.tmp`);
      if (exists(join(p.dir, `part-${n}.parquet`))) continue;
      let fd: number;
      try {
        fd = openSync(tmp, 'wx', FILE_MODE);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new ParquetSinkError(`creating ${tmp}: ${(e as Error).message}`);
      }
      const kvMetadata = [
        { key: 'periscope.schema_version', value: String(PARQUET_SCHEMA_VERSION) },
        { key: 'periscope.version', value: this.opts.version },
        { key: 'periscope.sql', value: this.opts.sql },
        { key: 'periscope.host', value: p.dir.slice(p.dir.lastIndexOf('host=') + 5) },
      ];
      const writer = new ParquetWriter({ writer: new FdWriter(fd, tmp), schema: schemaElements(), codec: 'SNAPPY', kvMetadata, createdBy: `periscope ${this.opts.version} (hyparquet-writer)` });
      p.file = { fd, n, tmp, dir: p.dir, writer, rows: 0 };
      this.nextPart.set(p.dir, n + 1);
      this.openFiles++;
      return;
    }
  }

  private finishFile(p: Partition): void {
    const f = p.file!;
    p.file = null;
    this.openFiles--;
    try {
      void f.writer.finish();
      closeSync(f.fd);
    } catch (e) {
      if (e instanceof ParquetSinkError) throw e;
      throw new ParquetSinkError(`finishing ${f.tmp}: ${(e as Error).message}`);
    }
    // The whole file takes a free part-N name: link() never replaces a file another writer made.
    for (let n = f.n; ; n++) {
      const name = join(f.dir, `part-${n}.parquet`);
      if (exists(`${name}.tmp`) && `${name}.tmp` !== f.tmp) continue;
      try {
        linkSync(f.tmp, name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new ParquetSinkError(`naming ${f.tmp} ${name}: ${(e as Error).message}`);
      }
      unlinkSync(f.tmp);
      this.totals.files.push(name);
      return;
    }
  }
}

function toBigInt(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  const n = v as number;
  // Integers beyond 2^63 - 1 (an unsigned insert id) are clamped: INT64 is signed.
  return n >= 9.223372036854776e18 ? 9223372036854775807n : BigInt(Math.trunc(n));
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `sub` (under `root`) and its parents up to `root`, one level at a time, 0700. */
function makeDirs(root: string, sub: string): void {
  const parts: string[] = [];
  for (let d = resolve(sub); d !== resolve(root) && d !== dirname(d); d = dirname(d)) parts.unshift(d);
  for (const d of [resolve(root), ...parts]) {
    try {
      mkdirSync(d, { mode: DIR_MODE });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ParquetSinkError(`creating the directory ${d}: ${(e as Error).message}`);
    }
  }
}

/** Where `--events-parquet` / `events --format parquet` write, as the command line gave it. */
export interface ParquetOutput {
  dir: string;
  /** `--host-label`; null: the capture manifest's host, else each event's server address. */
  hostLabel: string | null;
  sql: SqlMode;
}

/**
 * The `host=` label of a run: the one given, else the host named by the input directories'
 * capture manifests (when they name one), else null (each event's server address).
 */
export async function hostLabelOf(out: ParquetOutput, inputs: readonly string[], warn: (line: string) => void): Promise<string | null> {
  if (out.hostLabel !== null) return out.hostLabel;
  const { findManifests } = await import('../run/manifests.js');
  const hosts = new Set((await findManifests(inputs, () => {})).map((m) => m.manifest.host));
  if (hosts.size === 1) return partitionLabel([...hosts][0]!);
  if (hosts.size > 1) warn(`the captures were made on ${hosts.size} hosts (${[...hosts].join(', ')}): their events go under host=<server address>; give --host-label to name them`);
  return null;
}

/** One line for stderr: what was written where. */
export function sinkSummary(t: SinkTotals, dir: string): string {
  return `wrote ${t.events.toLocaleString('en-US')} events in ${t.files.length} Parquet ${t.files.length === 1 ? 'file' : 'files'} (${t.rowGroups} row ${t.rowGroups === 1 ? 'group' : 'groups'}) under ${dir}`;
}

/**
 * The Parquet schema of command events (docs/parquet.md): one row per event, the JSON events'
 * column names, fixed and versioned. A column that changes meaning or goes away bumps
 * PARQUET_SCHEMA_VERSION; new columns may be added at the end without one.
 *
 * Each column is its schema element, how its values are taken from an event, and whether it is
 * dictionary-encoded whatever the data (the repetitive strings: endpoints, users, digests…).
 */
import type { SchemaElement } from 'hyparquet';
import type { CommandEvent } from '../../src/mysql/session.js';
import { sessionMode, SqlNormalizer } from '../../src/sql/index.js';
import { lexerFacts } from '../../src/sql/facts.js';
import { SQL_COMMANDS } from '../commands.js';
import { eventError, eventSql } from '../events/command.js';

export const PARQUET_SCHEMA_VERSION = 1;

/** What the `sql` (and `error`) columns hold. */
export type SqlMode = 'redacted' | 'raw' | 'none';

type Kind = 'string' | 'int64' | 'int32' | 'bool' | 'timestamp' | 'strings';

export interface Column {
  name: string;
  kind: Kind;
  required: boolean;
  /**
   * Force dictionary encoding (`true`), never try it (`false`: values nearly all distinct), or let
   * the writer keep one when it halves the size (null).
   */
  dictionary: boolean | null;
  /**
   * Min/max statistics per row group, for the columns queries filter on (readers skip row groups
   * with them); the others go without: statistics double or triple the writer's cost of a column.
   */
  statistics: boolean;
}

const col = (name: string, kind: Kind, opts: { required?: boolean; dictionary?: boolean | null; statistics?: boolean } = {}): Column => ({
  name,
  kind,
  required: opts.required ?? false,
  dictionary: opts.dictionary ?? null,
  statistics: opts.statistics ?? false,
});

/** The columns, in file order. */
export const COLUMNS: readonly Column[] = [
  col('ts', 'timestamp', { required: true, dictionary: false, statistics: true }),
  col('client', 'string', { required: true, dictionary: true }),
  col('server', 'string', { required: true, dictionary: true, statistics: true }),
  col('conn_id', 'int64'),
  col('user', 'string', { dictionary: true, statistics: true }),
  col('db', 'string', { dictionary: true, statistics: true }),
  col('cmd', 'string', { required: true, dictionary: true, statistics: true }),
  col('sql', 'string'),
  col('sql_truncated', 'bool', { required: true }),
  col('digest', 'string', { dictionary: true, statistics: true }),
  col('status', 'string', { required: true, dictionary: true, statistics: true }),
  col('latency_us', 'int64', { dictionary: false, statistics: true }),
  col('response_us', 'int64', { dictionary: false, statistics: true }),
  col('rows', 'int64'),
  col('affected_rows', 'int64'),
  col('insert_id', 'int64', { dictionary: false }),
  col('warnings', 'int32'),
  col('error_code', 'int32', { statistics: true }),
  col('sql_state', 'string', { dictionary: true }),
  col('error', 'string'),
  col('no_index_used', 'bool', { required: true }),
  col('no_good_index_used', 'bool', { required: true }),
  col('result_sets', 'int32', { required: true }),
  col('bytes_in', 'int64', { required: true }),
  col('bytes_out', 'int64', { required: true }),
  col('server_status', 'int32'),
  col('tls', 'bool', { required: true }),
  col('tls_version', 'string', { dictionary: true }),
  col('tls_cipher', 'string', { dictionary: true }),
  col('tls_decrypted', 'bool'),
  col('compressed', 'bool', { required: true }),
  col('tables', 'strings'),
];

/** The Parquet schema elements of COLUMNS (a LIST of strings is three elements). */
export function schemaElements(): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: COLUMNS.length }];
  for (const c of COLUMNS) {
    const repetition_type = c.required ? 'REQUIRED' : 'OPTIONAL';
    switch (c.kind) {
      case 'string':
        out.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type });
        break;
      case 'int64':
        out.push({ name: c.name, type: 'INT64', repetition_type });
        break;
      case 'int32':
        out.push({ name: c.name, type: 'INT32', repetition_type });
        break;
      case 'bool':
        out.push({ name: c.name, type: 'BOOLEAN', repetition_type });
        break;
      case 'timestamp':
        out.push({ name: c.name, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type });
        break;
      case 'strings':
        out.push({ name: c.name, converted_type: 'LIST', logical_type: { type: 'LIST' }, repetition_type, num_children: 1 });
        out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
        out.push({ name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' });
        break;
      default: {
        const never: never = c.kind;
        throw new Error(`unknown column kind ${String(never)}`);
      }
    }
  }
  return out;
}

/**
 * Column arrays of a batch, in COLUMNS order: numbers for integers and timestamps (made BigInt
 * when written), strings, booleans, string arrays, null.
 */
export type Batch = unknown[][];

export function emptyBatch(): Batch {
  return COLUMNS.map(() => []);
}

export class RowMaker {
  /** Tables per fingerprint (the lexer's: node-sql-parser would cost a millisecond a fingerprint and a second to load). */
  private readonly tables = new Map<string, string[]>();
  private readonly bySql = new Map<string, { digest: string; tables: string[] }>();
  private readonly normalizer = new SqlNormalizer();

  private tablesOf(fingerprint: string): string[] {
    let t = this.tables.get(fingerprint);
    if (t === undefined) {
      t = lexerFacts(fingerprint).tables;
      if (this.tables.size >= 10_000) this.tables.clear();
      this.tables.set(fingerprint, t);
    }
    return t;
  }

  constructor(private readonly sql: SqlMode) {}

  /** The statement's digest and tables (null for commands without SQL). */
  private statement(e: CommandEvent): { digest: string; tables: string[] } | null {
    if (e.sql === null || !SQL_COMMANDS.has(e.cmd)) return null;
    // The connection's SQL mode (NO_BACKSLASH_ESCAPES) changes where literals end: the digest is
    // the one events and reports give (eventDigest). The cache by text is for the default mode.
    const cached = e.cmd !== 'query' && e.noBackslashEscapes !== true;
    if (cached) {
      const known = this.bySql.get(e.sql);
      if (known !== undefined) return known;
    }
    const f = this.normalizer.fingerprintAndDigest(e.sql, sessionMode(e.noBackslashEscapes));
    const s = { digest: f.digest, tables: this.tablesOf(f.fingerprint) };
    if (cached) {
      if (this.bySql.size >= 10_000) this.bySql.clear();
      this.bySql.set(e.sql, s);
    }
    return s;
  }

  /** Append the event's values to the batch's columns. */
  append(e: CommandEvent, b: Batch): void {
    const s = this.statement(e);
    const redact = this.sql !== 'raw';
    let i = 0;
    b[i++]!.push(e.sec * 1e6 + Math.floor(e.nsec / 1000));
    b[i++]!.push(e.client);
    b[i++]!.push(e.server);
    b[i++]!.push(e.connId);
    b[i++]!.push(e.user);
    b[i++]!.push(e.db);
    b[i++]!.push(e.cmd);
    b[i++]!.push(this.sql === 'none' ? null : eventSql(e, redact, this.normalizer));
    b[i++]!.push(e.sqlTruncated);
    b[i++]!.push(s === null ? null : s.digest);
    b[i++]!.push(e.status);
    b[i++]!.push(e.latencyUs);
    b[i++]!.push(e.responseUs);
    b[i++]!.push(e.rows);
    b[i++]!.push(e.affectedRows);
    b[i++]!.push(e.insertId);
    b[i++]!.push(e.warnings);
    b[i++]!.push(e.errorCode);
    b[i++]!.push(e.sqlState);
    b[i++]!.push(eventError(e, redact));
    b[i++]!.push(e.noIndexUsed);
    b[i++]!.push(e.noGoodIndexUsed);
    b[i++]!.push(e.resultSets);
    b[i++]!.push(e.bytesIn);
    b[i++]!.push(e.bytesOut);
    b[i++]!.push(e.serverStatus);
    b[i++]!.push(e.tls);
    b[i++]!.push(e.tlsVersion);
    b[i++]!.push(e.tlsCipher);
    b[i++]!.push(e.tlsDecrypted);
    b[i++]!.push(e.compressed);
    b[i++]!.push(s === null ? null : s.tables);
    if (i !== COLUMNS.length) throw new Error(`parquet: ${i} values for ${COLUMNS.length} columns`);
  }
}

/**
 * Table schemas for a bundle, from the live server (`bundle --schema-from`): for every table the
 * captured queries touch, SHOW CREATE TABLE, its indexes (SHOW INDEX) and statistics
 * (information_schema.TABLES); the server's version and the allow-listed global variables
 * (variables.ts). A table that is gone or not readable is reported with the reason, and the rest
 * is still collected; a server that cannot be reached leaves the bundle without schema, saying why.
 *
 * Table names come from the report: lower case (as fingerprints have them), qualified when the
 * statement named the database, else resolved against each database the fingerprint ran in. They
 * are matched case-insensitively against what the server lists, so `Orders` is found from `orders`.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Report } from '../report/report.js';
import { promptPassword, type ConnectionSettings, type PasswordSource } from './connect.js';
import { VARIABLE_ALLOW_LIST } from './variables.js';

/** At most this many tables are collected (a report holds up to 10,000 fingerprints). */
export const MAX_TABLES = 2000;
/** Seconds a single query may take. */
const QUERY_TIMEOUT_MS = 30_000;

export interface TableRef {
  db: string;
  table: string;
}

export type TableStatus = 'collected' | 'missing' | 'denied' | 'failed';

export interface TableStatistics {
  engine: string | null;
  row_format: string | null;
  rows: number | string | null;
  avg_row_length: number | string | null;
  data_length: number | string | null;
  index_length: number | string | null;
  data_free: number | string | null;
  auto_increment: number | string | null;
  create_time: string | null;
  update_time: string | null;
  collation: string | null;
}

export interface SchemaTable {
  /** The names on the server (as the capture names them when the table was not found). */
  database: string;
  table: string;
  status: TableStatus;
  /** Why not collected: the server's message. */
  reason: string | null;
  /** BASE TABLE, VIEW, SYSTEM VIEW, SEQUENCE, … */
  type: string | null;
  create: string | null;
  indexes: Record<string, unknown>[];
  statistics: TableStatistics | null;
}

export interface SchemaSummary {
  /** --schema-from was given. */
  requested: boolean;
  /** Connected, and the server's schema was read (some tables may still be missing). */
  collected: boolean;
  server: string | null;
  user: string | null;
  password_from: PasswordSource | null;
  server_version: string | null;
  /** Why there is no schema (null when collected). */
  reason: string | null;
  /** Allow-listed global variables recorded. */
  variables: number;
  tables: {
    requested: number;
    collected: number;
    missing: string[];
    denied: string[];
    failed: string[];
    /** Tables of statements run with no database (none selected, or unknown), found in no schema by name. */
    unresolved: string[];
    /** Such tables found by name in several places (schemas, or names differing in case only): `name: db1.name, db2.Name` (each collected). */
    ambiguous: string[];
    /** Tables beyond MAX_TABLES, not collected. */
    skipped: number;
  };
}

export interface SchemaResult {
  summary: SchemaSummary;
  server: { version: string; variables: Record<string, string> } | null;
  tables: SchemaTable[];
}

const emptyTables = (): SchemaSummary['tables'] => ({ requested: 0, collected: 0, missing: [], denied: [], failed: [], unresolved: [], ambiguous: [], skipped: 0 });

export function notRequested(): SchemaSummary {
  return { requested: false, collected: false, server: null, user: null, password_from: null, server_version: null, reason: 'no --schema-from given', variables: 0, tables: emptyTables() };
}

/** A report's database keys for commands with no database: none selected, or not known (the login was not captured). */
const NO_DATABASE = new Set(['', '(none)', '(unknown)']);

/**
 * The tables of the report's fingerprints, each in its database(s), without duplicates; an
 * unqualified table whose statements ran with no database (`(none)`: none selected; `(unknown)`:
 * the capture did not see it) is `unresolved`: looked up by name across the server's schemas
 * (collectSchema), never asked for as `(none)`.`t` or `(unknown)`.`t`.
 */
export function tablesOfReport(report: Report): { refs: TableRef[]; unresolved: string[] } {
  const refs = new Map<string, TableRef>();
  const unresolved = new Set<string>();
  const add = (db: string, table: string) => refs.set(`${db.toLowerCase()}\0${table.toLowerCase()}`, { db, table });
  for (const f of report.fingerprints) {
    const dbs = Object.keys(f.databases).filter((d) => !NO_DATABASE.has(d));
    for (const t of f.tables) {
      const dot = t.indexOf('.');
      if (dot > 0) add(t.slice(0, dot), t.slice(dot + 1));
      else if (dbs.length === 0) unresolved.add(t);
      else for (const db of dbs) add(db, t);
    }
  }
  return { refs: [...refs.values()], unresolved: [...unresolved].sort() };
}

/** `name` quoted as a MySQL identifier. */
export const quoteId = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

const errno = (e: unknown): number | undefined => (e as { errno?: number }).errno;
const MISSING = new Set([1146, 1049]); // ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR
const DENIED = new Set([1142, 1143, 1044]); // table, column, database access denied

async function connect(s: ConnectionSettings): Promise<Connection> {
  const { createConnection } = await import('mysql2/promise');
  const open = (password: string | null) =>
    createConnection({
      host: s.host ?? undefined,
      port: s.port ?? undefined,
      socketPath: s.socket ?? undefined,
      user: s.user,
      password: password ?? undefined,
      connectTimeout: 10_000,
      supportBigNumbers: true,
      dateStrings: true,
      charset: 'utf8mb4_general_ci',
    });
  try {
    return await open(s.password);
  } catch (e) {
    if (errno(e) !== 1045 || s.password !== null) throw e;
    const pw = await promptPassword(`Password for ${s.user} on ${s.label}: `);
    if (pw === null) throw e;
    s.password = pw;
    s.passwordFrom = 'prompt';
    return open(pw);
  }
}

export async function collectSchema(s: ConnectionSettings, wanted: { refs: TableRef[]; unresolved: string[] }): Promise<SchemaResult> {
  const summary: SchemaSummary = { requested: true, collected: false, server: s.label, user: s.user, password_from: s.passwordFrom, server_version: null, reason: null, variables: 0, tables: emptyTables() };
  let conn: Connection;
  try {
    conn = await connect(s);
  } catch (e) {
    summary.reason = `cannot connect to ${s.label} as ${s.user}: ${(e as Error).message}`;
    summary.password_from = s.passwordFrom;
    return { summary, server: null, tables: [] };
  }
  summary.password_from = s.passwordFrom;
  try {
    const q = async (sql: string, values: unknown[] = []): Promise<RowDataPacket[]> => (await conn.query<RowDataPacket[]>({ sql, values, timeout: QUERY_TIMEOUT_MS }))[0];
    const version = String((await q('SELECT VERSION() AS v'))[0]!.v);
    const allowed = new Set(VARIABLE_ALLOW_LIST);
    const variables: Record<string, string> = {};
    const rows = await q(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${VARIABLE_ALLOW_LIST.map(() => '?').join(', ')})`, [...VARIABLE_ALLOW_LIST]);
    for (const r of rows) {
      const name = String(r.Variable_name).toLowerCase();
      if (allowed.has(name)) variables[name] = String(r.Value);
    }
    summary.server_version = version;
    summary.variables = Object.keys(variables).length;
    summary.collected = true;
    const byName = await findByName(q, wanted.unresolved);
    summary.tables.unresolved = byName.unresolved;
    summary.tables.ambiguous = byName.ambiguous;
    const all = [...wanted.refs, ...byName.refs];
    const refs = all.slice(0, MAX_TABLES);
    summary.tables.skipped = all.length - refs.length;
    summary.tables.requested = all.length;
    const tables = await collectTables(q, refs);
    for (const t of tables) {
      const name = `${t.database}.${t.table}`;
      if (t.status === 'collected') summary.tables.collected++;
      else if (t.status === 'missing') summary.tables.missing.push(name);
      else if (t.status === 'denied') summary.tables.denied.push(name);
      else summary.tables.failed.push(name);
    }
    return { summary, server: { version, variables }, tables };
  } catch (e) {
    summary.collected = false;
    summary.reason = `reading the schema from ${s.label} failed: ${(e as Error).message}`;
    return { summary, server: null, tables: [] };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export type Query = (sql: string, values?: unknown[]) => Promise<RowDataPacket[]>;

/**
 * Tables whose database the capture does not know, looked up by name (case-insensitively) in
 * every schema the server shows this user: found once, it is that one; found several times (in
 * several schemas, or as names differing in case only), each is collected and the name is listed
 * as ambiguous with where it was found; found nowhere, it stays unresolved.
 */
export async function findByName(q: Query, names: readonly string[]): Promise<{ refs: TableRef[]; unresolved: string[]; ambiguous: string[] }> {
  const out = { refs: [] as TableRef[], unresolved: [] as string[], ambiguous: [] as string[] };
  if (names.length === 0) return out;
  const where = new Map<string, TableRef[]>();
  const rows = await q(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES WHERE LOWER(TABLE_NAME) IN (${names.map(() => '?').join(', ')}) AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys') ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    names.map((n) => n.toLowerCase()),
  );
  for (const r of rows) push(where, String(r.name).toLowerCase(), { db: String(r.db), table: String(r.name) });
  for (const name of names) {
    // In code-point order: the server's ORDER BY uses the catalogue's case-insensitive collation,
    // which leaves names differing only in case in no fixed order.
    const found = (where.get(name.toLowerCase()) ?? []).sort((a, b) => (a.db !== b.db ? (a.db < b.db ? -1 : 1) : a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
    if (found.length === 0) out.unresolved.push(name);
    else if (found.length > 1) out.ambiguous.push(`${name}: ${found.map((t) => `${t.db}.${t.table}`).join(', ')}`);
    out.refs.push(...found);
  }
  return out;
}

async function collectTables(q: Query, refs: TableRef[]): Promise<SchemaTable[]> {
  // What the server shows this user, matched case-insensitively (one listing per database).
  const schemas = new Map<string, string[]>();
  for (const r of await q('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA')) push(schemas, String(r.name).toLowerCase(), String(r.name));
  const listed = new Map<string, Map<string, string[]>>();
  const tablesOf = async (schema: string): Promise<Map<string, string[]>> => {
    let m = listed.get(schema);
    if (m === undefined) {
      m = new Map();
      for (const r of await q('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [schema])) push(m, String(r.name).toLowerCase(), String(r.name));
      listed.set(schema, m);
    }
    return m;
  };
  const out: SchemaTable[] = [];
  const done = new Set<string>();
  for (const ref of refs) {
    const found: [string, string][] = [];
    for (const schema of schemas.get(ref.db.toLowerCase()) ?? []) {
      for (const table of (await tablesOf(schema)).get(ref.table.toLowerCase()) ?? []) found.push([schema, table]);
    }
    // Not listed: gone, or not visible to this user. Asking for it says which.
    if (found.length === 0) found.push([ref.db, ref.table]);
    for (const [db, table] of found) {
      const key = `${db}\0${table}`;
      if (done.has(key)) continue;
      done.add(key);
      out.push(await collectTable(q, db, table));
    }
  }
  return out;
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

async function collectTable(q: Query, db: string, table: string): Promise<SchemaTable> {
  const t: SchemaTable = { database: db, table, status: 'collected', reason: null, type: null, create: null, indexes: [], statistics: null };
  const id = `${quoteId(db)}.${quoteId(table)}`;
  try {
    const row = (await q(`SHOW CREATE TABLE ${id}`))[0];
    t.create = row === undefined ? null : String(row['Create Table'] ?? row['Create View'] ?? '') || null;
    const st = (
      await q(
        `SELECT TABLE_TYPE AS type, ENGINE AS engine, ROW_FORMAT AS row_format, TABLE_ROWS AS \`rows\`, AVG_ROW_LENGTH AS avg_row_length, DATA_LENGTH AS data_length,
                INDEX_LENGTH AS index_length, DATA_FREE AS data_free, AUTO_INCREMENT AS auto_increment, CREATE_TIME AS create_time, UPDATE_TIME AS update_time,
                TABLE_COLLATION AS collation
           FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
        [db, table],
      )
    )[0];
    if (st !== undefined) {
      const { type, ...stats } = st;
      t.type = type === null ? null : String(type);
      t.statistics = stats as TableStatistics;
    } else t.type = row && 'Create View' in row ? 'VIEW' : null;
    if (t.type !== 'VIEW' && t.type !== 'SYSTEM VIEW') {
      t.indexes = (await q(`SHOW INDEX FROM ${id}`)).map((r) => {
        const { Table: _table, ...rest } = r;
        return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k.toLowerCase(), v]));
      });
    }
  } catch (e) {
    const n = errno(e);
    t.status = n !== undefined && MISSING.has(n) ? 'missing' : n !== undefined && DENIED.has(n) ? 'denied' : 'failed';
    t.reason = (e as Error).message;
  }
  return t;
}

/** schema/tables.sql: every collected definition, ready to load into a test server. */
export function tablesSql(r: SchemaResult, at: string): string {
  const lines = [`-- Table definitions collected by Periscope from ${r.summary.server} (${r.summary.server_version}) at ${at}.`, ''];
  for (const t of r.tables) {
    if (t.create === null) continue;
    lines.push(`-- ${t.database}.${t.table}`, `USE ${quoteId(t.database)};`, `${t.create};`, '');
  }
  return `${lines.join('\n')}`;
}

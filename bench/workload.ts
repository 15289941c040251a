/**
 * The application the realistic benchmark capture (bench/synth-mysql.ts) records: four services,
 * each speaking to one MariaDB server with the SQL of one ORM from test/sql/corpus/ (Hibernate,
 * ActiveRecord, Django, Sequelize), with its own hosts, user, connection pool and habits.
 *
 * Every corpus statement becomes a template: its literals (numbers and 'strings') are slots that
 * get fresh values at every execution, so each template is executed many times under one
 * fingerprint, as an application's statements are; statements with `?` placeholders are run as
 * server-side prepared statements (COM_STMT_PREPARE / EXECUTE / CLOSE) with binary parameters
 * and rows. Each template also gets, from its text and the seeded PRNG, a response shape: a result
 * set (columns guessed from the select list, rows from its WHERE / LIMIT / GROUP BY) or an OK with
 * affected rows; a latency distribution; an error rate and code; and how often the application
 * runs it (Zipf over the service's templates). DDL (CREATE / ALTER / DROP) is left out: a steady
 * application does not run it. Statements a connection runs once when it opens (SHOW …, SELECT
 * @@…, SELECT VERSION()) run at connection start only.
 */
import { ColumnType } from '../src/mysql/constants.js';
import { loadCorpus } from './sql.js';
import type { Prng } from './pcap-writer.js';
import { ServerStatus, Wire, writeColumnDef, writeEof, writeErr, writeOk, type ColumnMeta } from './mysql-wire.js';

/** A piece of a statement: fixed text, or a literal that gets a fresh value at each execution. */
type Piece = { fixed: string } | { number: string } | { quoted: string };

const enum Kind {
  Id,
  Int,
  Bool,
  Text,
  Blob,
  DateTime,
  Decimal,
}

interface Column {
  meta: ColumnMeta;
  kind: Kind;
  /** Probability that a value is NULL. */
  nulls: number;
  /** Text and blob lengths. */
  minLen: number;
  maxLen: number;
}

export type Shape = 'rows' | 'insert' | 'write' | 'ok';

export interface ErrorModel {
  rate: number;
  code: number;
  sqlState: string;
  message: string;
}

export interface Template {
  /** Index in the workload's template list (the truth in the capture's sidecar is per id). */
  id: number;
  service: string;
  /** Corpus file and index. */
  source: string;
  /** As in the corpus. */
  sql: string;
  pieces: Piece[];
  /** `?` placeholders outside literals: run as a prepared statement with this many parameters. */
  params: number;
  prepared: boolean;
  /** Parameter types (MYSQL_TYPE_*) of a prepared statement. */
  paramTypes: number[];
  shape: Shape;
  columns: Column[];
  /** Rows of a result set: uniform in [minRows, maxRows] (log-uniform above 1000). */
  minRows: number;
  maxRows: number;
  /** Affected rows of an insert or write. */
  minAffected: number;
  maxAffected: number;
  /** Median latency to the first response byte, µs; spread is log-normal with sigma. */
  latencyUs: number;
  sigma: number;
  /** Server time per 16 KiB of result after the first, µs. */
  chunkUs: number;
  error: ErrorModel | null;
  /** SERVER_STATUS_NO_INDEX_USED on its result (a full scan). */
  noIndexUsed: boolean;
  /** Run once per connection when it opens, not in the mix. */
  init: boolean;
  /** Relative frequency within its service. */
  weight: number;
  /** Next AUTO_INCREMENT value (inserts). */
  nextInsertId: number;
  /** Pre-encoded column count + definitions (+ EOF), for deprecateEof false and true. */
  header: [Buffer | null, Buffer | null];
  /** Pre-encoded PREPARE response after PREPARE_OK (parameter and column definitions), both EOF modes. */
  prepareTail: [Buffer | null, Buffer | null];
}

export interface Service {
  name: string;
  corpus: string;
  user: string;
  database: string;
  /** Client hosts are 10.1.<subnet>.<1..hosts>. */
  subnet: number;
  hosts: number;
  /** Connections open at a time. */
  pool: number;
  /** Client announces CLIENT_DEPRECATE_EOF. */
  deprecateEof: boolean;
  /** Prepared statements: kept per connection (statement cache) or closed after each execution. */
  statementCache: boolean;
  /** Commands per connection before it is closed: exponential with this mean. */
  lifetime: number;
  /** Share of command slots that are a COM_PING (connection validation). */
  pingRate: number;
  /** Commands per unit of work (one application request): geometric with this mean. */
  burst: number;
  /** Mean idle time between units of work, µs (exponential), and the pause between commands of one unit. */
  idleUs: number;
  thinkUs: [number, number];
  clientName: string;
  templates: Template[];
  init: Template[];
  /** Cumulative weights of `templates`, for picking. */
  cdf: Float64Array;
}

const SERVICES: Omit<Service, 'templates' | 'init' | 'cdf'>[] = [
  { name: 'orders', corpus: 'hibernate.json', user: 'orders_svc', database: 'shop', subnet: 1, hosts: 4, pool: 64, deprecateEof: true, statementCache: true, lifetime: 4000, pingRate: 0.01, burst: 6, idleUs: 40000, thinkUs: [20, 300], clientName: 'MariaDB Connector/J' },
  { name: 'web', corpus: 'activerecord.json', user: 'web', database: 'blog', subnet: 2, hosts: 6, pool: 96, deprecateEof: false, statementCache: false, lifetime: 3000, pingRate: 0.03, burst: 8, idleUs: 60000, thinkUs: [30, 500], clientName: 'libmariadb' },
  { name: 'cms', corpus: 'django.json', user: 'cms', database: 'cms', subnet: 3, hosts: 3, pool: 32, deprecateEof: false, statementCache: false, lifetime: 25, pingRate: 0.002, burst: 5, idleUs: 100000, thinkUs: [50, 800], clientName: 'libmysql' },
  { name: 'api', corpus: 'sequelize.json', user: 'api', database: 'app', subnet: 4, hosts: 2, pool: 32, deprecateEof: true, statementCache: false, lifetime: 2000, pingRate: 0.005, burst: 4, idleUs: 30000, thinkUs: [20, 200], clientName: 'mysql2' },
];

// ---------------------------------------------------------------------------------------------
// Literals

const isWord = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$@]/.test(c);

/** Split a statement into fixed text and literal slots; count `?` placeholders outside literals. */
export function scanLiterals(sql: string): { pieces: Piece[]; placeholders: number } {
  const pieces: Piece[] = [];
  let fixed = '';
  let placeholders = 0;
  const flush = (): void => {
    if (fixed) pieces.push({ fixed });
    fixed = '';
  };
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      for (; j < n; j++) {
        if (sql[j] === '\\' && c !== '`') j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      const lit = sql.slice(i, j + 1);
      // Single-quoted strings are literals, unless introduced (x'..', b'..', N'..', _utf8mb4'..').
      if (c === "'" && !isWord(sql[i - 1])) {
        flush();
        pieces.push({ quoted: lit });
      } else fixed += lit;
      i = j + 1;
    } else if ((c === '/' && sql[i + 1] === '*') || (c === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' ')) || c === '#') {
      const close = c === '/' ? sql.indexOf('*/', i + 2) : sql.indexOf('\n', i);
      const j = close < 0 ? n : c === '/' ? close + 2 : close;
      fixed += sql.slice(i, j);
      i = j;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(sql.slice(i))!;
      const end = i + m[0].length;
      if (isWord(sql[end])) {
        // 0x7A3F9C, or an identifier that starts with a digit: not a number.
        let j = end;
        while (j < n && isWord(sql[j])) j++;
        fixed += sql.slice(i, j);
        i = j;
      } else {
        flush();
        pieces.push({ number: m[0] });
        i = end;
      }
    } else if (isWord(c)) {
      let j = i;
      while (j < n && isWord(sql[j])) j++;
      fixed += sql.slice(i, j);
      i = j;
    } else {
      if (c === '?') placeholders++;
      fixed += c;
      i++;
    }
  }
  flush();
  return { pieces, placeholders };
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The statement with fresh literal values: same lengths, same punctuation, other letters and digits. */
export function instanceSql(t: Template, rng: Prng): string {
  let out = '';
  for (const p of t.pieces) {
    if ('fixed' in p) out += p.fixed;
    else if ('number' in p) {
      const s = p.number;
      let intStart = true;
      for (let i = 0; i < s.length; i++) {
        const c = s[i]!;
        if (c >= '0' && c <= '9') {
          const multi = intStart && s[i + 1] !== undefined && s[i + 1]! >= '0' && s[i + 1]! <= '9';
          out += String(multi ? rng.int(1, 9) : rng.int(0, 9));
          intStart = false;
        } else {
          out += c;
          intStart = c === 'e' || c === 'E';
        }
      }
    } else {
      const s = p.quoted;
      out += s[0];
      for (let i = 1; i < s.length - 1; i++) {
        const c = s[i]!;
        if (c === '\\') {
          out += c + s[i + 1]!;
          i++;
        } else if (c >= 'a' && c <= 'z') out += LOWER[rng.int(0, 25)];
        else if (c >= 'A' && c <= 'Z') out += UPPER[rng.int(0, 25)];
        else if (c >= '0' && c <= '9') out += String(rng.int(0, 9));
        else out += c;
      }
      out += s[s.length - 1];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Response shapes

/** Column flags (*_FLAG). */
const NOT_NULL = 0x1;
const PRI_KEY = 0x2;
const BLOB_FLAG = 0x10;
const UNSIGNED = 0x20;
const BINARY = 0x80;
const AUTO_INCREMENT = 0x200;
const NUM = 0x8000;
/** utf8mb4_general_ci, and binary (numbers, dates). */
const UTF8MB4 = 45;
const BINARY_CHARSET = 63;

const TABLE_COLUMNS = ['id', 'name', 'email', 'status', 'created_at', 'updated_at', 'user_id', 'title', 'total', 'price', 'quantity', 'deleted_at', 'is_active', 'payload', 'position', 'country', 'version', 'body'];

function kindOf(name: string): Kind {
  const n = name.toLowerCase();
  if (/(^id$|_id$|^id\d|id_val|userid|^col_0)/.test(n)) return Kind.Id;
  if (/(_at$|date|time|login|applied|starts|expire|createdat|updatedat|startedat)/.test(n)) return Kind.DateTime;
  if (/(price|total|amount|balance|^sum|ratio|^r$)/.test(n)) return Kind.Decimal;
  if (/(payload|body|data|meta|changes|text|content|password)/.test(n)) return Kind.Blob;
  if (/(^is_|active|deleted|published|banned|draft|^one$|^a$|get_lock|release_lock)/.test(n)) return Kind.Bool;
  if (/(count|^n$|num_|quantity|version|views|rating|priority|position|score|age|value|^result$|next_val)/.test(n)) return Kind.Int;
  return Kind.Text;
}

function columnOf(name: string, table: string, schema: string, rng: Prng): Column {
  const kind = kindOf(name);
  const m = (type: number, charset: number, length: number, flags: number, decimals = 0): ColumnMeta => ({ schema, table, orgTable: table, name, orgName: name, charset, length, type, flags, decimals });
  switch (kind) {
    case Kind.Id:
      return { kind, meta: m(ColumnType.LongLong, BINARY_CHARSET, 20, NOT_NULL | (name === 'id' ? PRI_KEY | AUTO_INCREMENT : 0) | UNSIGNED | NUM), nulls: 0, minLen: 0, maxLen: 0 };
    case Kind.Int:
      return { kind, meta: m(ColumnType.Long, BINARY_CHARSET, 11, NUM), nulls: 0, minLen: 0, maxLen: 0 };
    case Kind.Bool:
      return { kind, meta: m(ColumnType.Tiny, BINARY_CHARSET, 1, NOT_NULL | NUM), nulls: 0, minLen: 0, maxLen: 0 };
    case Kind.DateTime:
      return { kind, meta: m(ColumnType.DateTime, BINARY_CHARSET, 19, BINARY), nulls: rng.chance(0.3) ? 0.2 : 0, minLen: 0, maxLen: 0 };
    case Kind.Decimal:
      return { kind, meta: m(ColumnType.NewDecimal, BINARY_CHARSET, 12, NUM, 2), nulls: 0, minLen: 0, maxLen: 0 };
    case Kind.Blob: {
      const lo = rng.logInt(30, 600);
      return { kind, meta: m(ColumnType.Blob, UTF8MB4, 262140, BLOB_FLAG), nulls: rng.chance(0.3) ? 0.1 : 0, minLen: lo, maxLen: lo * rng.int(2, 3) };
    }
    case Kind.Text: {
      const lo = rng.int(3, 16);
      return { kind, meta: m(ColumnType.VarString, UTF8MB4, 1020, 0), nulls: rng.chance(0.2) ? 0.1 : 0, minLen: lo, maxLen: lo + rng.int(0, 48) };
    }
  }
}

/** Split at commas outside parentheses and quotes. */
function topLevelSplit(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quote = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

/** Index of a keyword at parenthesis depth 0 (outside quotes), or -1. */
function topLevelIndex(s: string, keyword: RegExp, from = 0): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && (i === 0 || /\W/.test(s[i - 1]!))) {
      const m = keyword.exec(s.slice(i));
      if (m && m.index === 0) return i;
    }
  }
  return -1;
}

const unquote = (s: string): string => s.replace(/[`"]/g, '');

/** The columns a SELECT or SHOW returns, guessed from its text. */
function columnsOf(sql: string, schema: string, rng: Prng): Column[] {
  const body = stripComments(sql);
  const lower = body.toLowerCase();
  if (lower.startsWith('show full fields')) return ['Field', 'Type', 'Collation', 'Null', 'Key', 'Default', 'Extra', 'Privileges', 'Comment'].map((n) => columnOf(n, 'COLUMNS', 'information_schema', rng));
  if (lower.startsWith('show index')) return ['Table', 'Non_unique', 'Key_name', 'Seq_in_index', 'Column_name', 'Collation', 'Cardinality', 'Sub_part', 'Packed', 'Null', 'Index_type', 'Comment', 'Index_comment'].map((n) => columnOf(n, 'STATISTICS', 'information_schema', rng));
  if (lower.startsWith('show')) return [columnOf('Tables_in_' + schema, 'TABLE_NAMES', 'information_schema', rng)];
  const sel = topLevelIndex(lower, /select\s/);
  if (sel < 0) return [columnOf('result', '', schema, rng)];
  const from = topLevelIndex(lower, /from[\s`(]/, sel + 6);
  const list = body.slice(sel + 6, from < 0 ? body.length : from).replace(/^\s*distinct\s/i, '');
  const tableMatch = from < 0 ? null : /^from\s+[`"]?(\w+)/i.exec(body.slice(from));
  const table = tableMatch ? tableMatch[1]! : '';
  const cols: Column[] = [];
  for (const item of topLevelSplit(list)) {
    if (item === '*' || item.endsWith('.*')) {
      const n = rng.int(5, 12);
      const names = ['id', ...rng.shuffle(TABLE_COLUMNS.slice(1)).slice(0, n - 1)];
      for (const name of names) cols.push(columnOf(name, table, schema, rng));
      continue;
    }
    const alias = /\s+as\s+([`"]?[\w.]+[`"]?)\s*$/i.exec(item);
    const simple = /([\w]+)[`"]?\s*$/.exec(item);
    const name = alias ? unquote(alias[1]!) : /^[`"\w.]+$/.test(item) && simple ? simple[1]! : item.replace(/\s+/g, ' ').slice(0, 64);
    cols.push(columnOf(name, table, schema, rng));
  }
  return cols;
}

function stripComments(sql: string): string {
  return sql.replace(/^(\s|\/\*[\s\S]*?\*\/)+/, '').trim();
}

function shapeOf(sql: string): Shape | 'ddl' {
  const w = (/^\(*\s*(\w+)/.exec(stripComments(sql))?.[1] ?? '').toLowerCase();
  if (w === 'select' || w === 'show' || w === 'with') return 'rows';
  if (w === 'insert' || w === 'replace') return 'insert';
  if (w === 'update' || w === 'delete') return 'write';
  if (w === 'create' || w === 'alter' || w === 'drop') return 'ddl';
  return 'ok';
}

/** Rows a result set returns: [min, max]. */
function rowsOf(sql: string, rng: Prng): { min: number; max: number; report: boolean } {
  const s = stripComments(sql).toLowerCase();
  const from = topLevelIndex(s, /from[\s`(]/);
  const groupBy = /\bgroup by\b/.test(s);
  if (from < 0 || (/^select\s+(count|sum|max|min|avg|case when count|get_lock|release_lock)\s*\(/.test(s) && !groupBy) || /^select\s+count\(\*\)\s+from\s+\(/.test(s)) return { min: 1, max: 1, report: false };
  if (s.startsWith('show')) return { min: 1, max: rng.int(5, 30), report: false };
  const limit = /\blimit\s+(\d+|\?)(\s*,\s*(\d+|\?))?/.exec(s) ?? /\bfetch first\s+(\d+|\?)/.exec(s);
  const byId = /[.`\s(]id`?\s*=\s*[\d?(]/.test(s);
  if ((limit && limit[3] === undefined && limit[1] === '1') || byId) return { min: 0, max: 1, report: false };
  if (groupBy) return { min: 2, max: rng.int(5, 40), report: false };
  const list = /\bin\s*\(([^()]*)\)/.exec(s);
  if (list && !limit) return { min: 0, max: topLevelSplit(list[1]!).length, report: false };
  if (limit) {
    const n = Number(limit[3] ?? limit[1]);
    return { min: 0, max: Number.isFinite(n) ? Math.min(n, 1000) : 20, report: false };
  }
  if (!/\bwhere\b/.test(s)) return { min: rng.logInt(200, 2000), max: rng.logInt(2000, 20000), report: true };
  return { min: 0, max: rng.int(10, 200), report: false };
}

/** Affected rows of an INSERT (its row count; 1–2 with ON DUPLICATE KEY UPDATE) or an UPDATE / DELETE. */
function affectedOf(sql: string, shape: Shape): [number, number] {
  const s = sql.toLowerCase();
  if (shape === 'insert') {
    const values = s.indexOf('values');
    const tuples = values < 0 ? 1 : topLevelSplit(s.slice(values + 6).replace(/\bon duplicate key update[\s\S]*$/, '')).length;
    return /on duplicate key update/.test(s) ? [1, 2] : [tuples, tuples];
  }
  if (shape === 'write') return /[.`\s]id`?\s*=\s*[\d?]/.test(s) ? [0, 1] : [0, 20];
  return [0, 0];
}

function errorOf(sql: string, shape: Shape): ErrorModel | null {
  const s = sql.toLowerCase();
  if (shape === 'insert') return { rate: 0.005, code: 1062, sqlState: '23000', message: "Duplicate entry '4711' for key 'PRIMARY'" };
  if (shape === 'write') return { rate: 0.003, code: 1213, sqlState: '40001', message: 'Deadlock found when trying to get lock; try restarting transaction' };
  if (shape === 'rows' && /for update/.test(s)) return { rate: 0.005, code: 1205, sqlState: 'HY000', message: 'Lock wait timeout exceeded; try restarting transaction' };
  if (shape === 'rows') return { rate: 0.0005, code: 1317, sqlState: '70100', message: 'Query execution was interrupted' };
  return null;
}

function isInit(sql: string): boolean {
  const s = stripComments(sql).toLowerCase();
  return s.startsWith('show') || /^select\s+(@@|version\(\))/.test(s) || /information_schema/.test(s);
}

/** Build the services and their templates from the corpus, deterministically from the seed. */
export function buildServices(rng: Prng): Service[] {
  const services: Service[] = [];
  let id = 0;
  for (const base of SERVICES) {
    const templates: Template[] = [];
    const init: Template[] = [];
    loadCorpus(undefined, (f) => f === base.corpus).forEach((sql, i) => {
      const shape = shapeOf(sql);
      if (shape === 'ddl') return;
      const { pieces, placeholders } = scanLiterals(sql);
      const rows = shape === 'rows' ? rowsOf(sql, rng) : { min: 0, max: 0, report: false };
      const [minAffected, maxAffected] = affectedOf(sql, shape);
      const t: Template = {
        id: id++,
        service: base.name,
        source: `${base.corpus}#${i}`,
        sql,
        pieces,
        params: placeholders,
        prepared: placeholders > 0,
        paramTypes: Array.from({ length: placeholders }, () => (rng.chance(0.5) ? ColumnType.LongLong : ColumnType.VarString)),
        shape,
        columns: shape === 'rows' ? columnsOf(sql, base.database, rng) : [],
        minRows: rows.min,
        maxRows: rows.max,
        minAffected,
        maxAffected,
        latencyUs: rows.report ? rng.logInt(20000, 300000) : shape === 'rows' ? rng.logInt(60, 2000) : shape === 'ok' ? rng.logInt(20, 300) : rng.logInt(150, 4000),
        sigma: 0.4 + rng.float() * 0.4,
        chunkUs: rng.logInt(30, 300),
        error: errorOf(sql, shape),
        noIndexUsed: rows.report,
        init: isInit(sql),
        weight: 0,
        nextInsertId: rng.int(1000, 1000000),
        header: [null, null],
        prepareTail: [null, null],
      };
      (t.init ? init : templates).push(t);
    });
    // Zipf weights over a seeded shuffle; full scans (reports) are rare.
    const order = rng.shuffle(templates.map((_, i) => i));
    order.forEach((ti, rank) => {
      const t = templates[ti]!;
      t.weight = (1 / (rank + 1)) * (t.noIndexUsed ? 0.02 : 1);
    });
    const cdf = new Float64Array(templates.length);
    let sum = 0;
    templates.forEach((t, i) => (cdf[i] = sum += t.weight));
    for (let i = 0; i < cdf.length; i++) cdf[i]! /= sum;
    services.push({ ...base, templates, init, cdf });
  }
  for (const s of services) for (const t of [...s.templates, ...s.init]) encodeHeaders(t);
  return services;
}

/** A template of a service, picked by weight. */
export function pickTemplate(s: Service, rng: Prng): Template {
  const x = rng.float();
  let lo = 0;
  let hi = s.cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return s.templates[lo]!;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** The parameter definitions a PREPARE response sends (MariaDB: name '?', VAR_STRING). */
const PARAM_DEF: ColumnMeta = { schema: '', table: '', orgTable: '', name: '?', orgName: '', charset: BINARY_CHARSET, length: 0, type: ColumnType.VarString, flags: BINARY, decimals: 0 };

function encodeHeaders(t: Template): void {
  const w = new Wire(4096);
  for (const dep of [0, 1] as const) {
    if (t.shape === 'rows') {
      w.reset();
      w.begin(1).lenenc(t.columns.length).end();
      let seq = 2;
      for (const c of t.columns) writeColumnDef(w, seq++, c.meta);
      if (!dep) writeEof(w, seq, ServerStatus.Autocommit);
      t.header[dep] = Buffer.from(w.buf.subarray(0, w.pos));
    }
    if (t.prepared) {
      // After PREPARE_OK (sequence id 1): parameter definitions [EOF], column definitions [EOF].
      w.reset();
      let seq = 2;
      for (let i = 0; i < t.params; i++) writeColumnDef(w, seq++, PARAM_DEF);
      if (t.params > 0 && !dep) writeEof(w, seq++, ServerStatus.Autocommit);
      for (const c of t.columns) writeColumnDef(w, seq++, c.meta);
      if (t.columns.length > 0 && !dep) writeEof(w, seq++, ServerStatus.Autocommit);
      t.prepareTail[dep] = Buffer.from(w.buf.subarray(0, w.pos));
    }
  }
}

/** Words that text values are cut from. */
export function textPool(rng: Prng, size = 1 << 20): Buffer {
  const words = ['alpha', 'order', 'paid', 'shipped', 'new', 'customer', 'lamp', 'chair', 'table', 'blue', 'green', 'red', 'small', 'large', 'berlin', 'paris', 'lisbon', 'oslo', 'note', 'ok', 'pending', 'review', 'draft', 'post', 'comment', 'tag', 'user', 'admin', 'editor', 'example', 'mail', 'com', 'net', 'io'];
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  while (p < size) {
    const word = words[rng.int(0, words.length - 1)]!;
    p += b.write(word, p, size - p, 'latin1');
    if (p < size) b[p++] = rng.chance(0.2) ? 0x2e : 0x20;
  }
  return b;
}

/** Writes result-set rows (text or binary protocol) of a template. */
export class RowWriter {
  constructor(
    private readonly rng: Prng,
    private readonly pool: Buffer,
  ) {}

  private poolSlice(w: Wire, minLen: number, maxLen: number): void {
    const len = this.rng.int(minLen, maxLen);
    const from = this.rng.int(0, this.pool.length - len);
    w.lenencBytes(this.pool, from, from + len);
  }

  /** `YYYY-MM-DD hh:mm:ss` without the lenenc prefix. */
  private dateText(w: Wire): void {
    const r = this.rng;
    const two = (v: number): void => void w.u8(0x30 + Math.floor(v / 10)).u8(0x30 + (v % 10));
    w.digits(r.int(2019, 2025)).u8(0x2d);
    two(r.int(1, 12));
    w.u8(0x2d);
    two(r.int(1, 28));
    w.u8(0x20);
    two(r.int(0, 23));
    w.u8(0x3a);
    two(r.int(0, 59));
    w.u8(0x3a);
    two(r.int(0, 59));
  }

  /** A text-protocol row: every value string<lenenc>, NULL as 0xfb. */
  textRow(w: Wire, seq: number, cols: readonly Column[]): void {
    w.begin(seq);
    for (const c of cols) {
      if (c.nulls > 0 && this.rng.chance(c.nulls)) w.u8(0xfb);
      else this.value(w, c, false);
    }
    w.end();
  }

  /** A binary-protocol row: 0x00 | NULL bitmap (offset 2) | the non-NULL values. */
  binaryRow(w: Wire, seq: number, cols: readonly Column[]): void {
    w.begin(seq).u8(0);
    const bitmap = w.pos;
    w.zeros((cols.length + 9) >> 3);
    cols.forEach((c, i) => {
      if (c.nulls > 0 && this.rng.chance(c.nulls)) w.buf[bitmap + ((i + 2) >> 3)]! |= 1 << ((i + 2) & 7);
      else this.value(w, c, true);
    });
    w.end();
  }

  /** One value: as text (string<lenenc>), or in the binary protocol's form for the column's type. */
  private value(w: Wire, c: Column, binary: boolean): void {
    const r = this.rng;
    switch (c.kind) {
      case Kind.Id:
        if (binary) w.u64(r.int(1, 5000000));
        else w.lenencDigits(r.int(1, 5000000));
        break;
      case Kind.Int:
        if (binary) w.u32(r.int(0, 20000));
        else w.lenencDigits(r.int(0, 20000));
        break;
      case Kind.Bool:
        if (binary) w.u8(r.int(0, 1));
        else w.u8(1).u8(0x30 + r.int(0, 1));
        break;
      case Kind.DateTime:
        if (binary) w.u8(7).u16(r.int(2019, 2025)).u8(r.int(1, 12)).u8(r.int(1, 28)).u8(r.int(0, 23)).u8(r.int(0, 59)).u8(r.int(0, 59));
        else this.dateText(w.u8(19));
        break;
      case Kind.Decimal: {
        // NEWDECIMAL is sent as text in both protocols.
        const at = w.u8(0).pos;
        w.digits(r.int(0, 99999)).u8(0x2e).digits(r.int(10, 99));
        w.buf[at - 1] = w.pos - at;
        break;
      }
      case Kind.Text:
      case Kind.Blob:
        this.poolSlice(w, c.minLen, c.maxLen);
        break;
    }
  }

  /** A binary parameter value of this type (for COM_STMT_EXECUTE). */
  param(w: Wire, type: number): void {
    if (type === ColumnType.LongLong) w.u64(this.rng.int(1, 5000000));
    else this.poolSlice(w, 3, 24);
  }
}

/** What one execution of a statement returned. */
export interface Outcome {
  error: ErrorModel | null;
  rows: number;
  affected: number;
  noIndexUsed: boolean;
}

/** Mostly few rows, now and then many (log-uniform), and some empty results where there may be none. */
function rowsFor(t: Template, rng: Prng): number {
  if (t.minRows === t.maxRows) return t.minRows;
  if (t.maxRows === 1) return rng.chance(0.9) ? 1 : 0;
  if (t.minRows === 0 && rng.chance(0.05)) return 0;
  return rng.logInt(Math.max(1, t.minRows), t.maxRows);
}

/** Decide an execution's outcome: error or success, rows or affected rows. */
export function outcomeOf(t: Template, rng: Prng): Outcome {
  if (t.error !== null && rng.chance(t.error.rate)) return { error: t.error, rows: 0, affected: 0, noIndexUsed: false };
  if (t.shape === 'rows') {
    return { error: null, rows: rowsFor(t, rng), affected: 0, noIndexUsed: t.noIndexUsed };
  }
  return { error: null, rows: 0, affected: rng.int(t.minAffected, t.maxAffected), noIndexUsed: false };
}

/**
 * The response to a COM_QUERY or COM_STMT_EXECUTE, from sequence id 1; `session` is the server
 * status after the statement (SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS).
 */
export function writeResponse(w: Wire, rows: RowWriter, t: Template, o: Outcome, deprecateEof: boolean, binary: boolean, session: number): void {
  if (o.error !== null) {
    writeErr(w, 1, o.error.code, o.error.sqlState, o.error.message);
    return;
  }
  const status = session | (o.noIndexUsed ? ServerStatus.NoIndexUsed : 0);
  if (t.shape !== 'rows') {
    const insertId = t.shape === 'insert' ? t.nextInsertId : 0;
    if (t.shape === 'insert') t.nextInsertId += Math.max(1, o.affected);
    writeOk(w, 1, o.affected, insertId, session);
    return;
  }
  const header = t.header[deprecateEof ? 1 : 0]!;
  w.bytes(header);
  // The EOF after the column definitions (pre-encoded with autocommit) carries the session's status too.
  if (!deprecateEof) w.buf.writeUInt16LE(session, w.pos - 2);
  let seq = t.columns.length + (deprecateEof ? 2 : 3);
  for (let i = 0; i < o.rows; i++) {
    if (binary) rows.binaryRow(w, seq & 0xff, t.columns);
    else rows.textRow(w, seq & 0xff, t.columns);
    seq++;
  }
  if (deprecateEof) writeOk(w, seq & 0xff, 0, 0, status, 0, 0xfe);
  else writeEof(w, seq & 0xff, status);
}

/**
 * Statement facts: what kind of statement a fingerprint is, and which tables it touches.
 *
 * Facts are a function of the fingerprint alone (never of a statement's literals), so they are
 * computed once per fingerprint and cached: parsing is slow (node-sql-parser takes from tens of
 * microseconds to milliseconds a statement) and a capture holds few distinct fingerprints.
 *
 *   kind    from the lexer: the statement's first words are certain.
 *   tables  from node-sql-parser when it parses the statement; from the lexer otherwise (and when
 *           the parser finds none, as for SHOW COLUMNS FROM t): names after FROM, JOIN, UPDATE,
 *           INTO, INSERT/REPLACE, TABLE (in DDL), TRUNCATE, DESCRIBE. Never an error.
 *
 * Table names are as the fingerprint has them: lower case, without backquotes, `schema.table`
 * when the statement names the schema. Common table expressions are not tables.
 *
 * node-sql-parser is loaded on the first parse (about 75 ms), not when this module is imported.
 */
import { loadMysqlParser } from './sql-parser.cjs';
import { KW_FLAGS, kw, RESERVED } from './keywords.js';
import { DEFAULT_LEX_OPTIONS, lex, Tok, TokenList } from './lexer.js';

export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'replace' | 'ddl' | 'transaction' | 'set' | 'show' | 'call' | 'other';

export interface StatementFacts {
  /** Kind of the first statement (a COM_QUERY may hold several, separated by `;`). */
  kind: StatementKind;
  /** Tables read or written, in order of first mention, without duplicates. */
  tables: string[];
  /**
   * `parser`: node-sql-parser parsed the statement and its tables come first (followed by any the
   * lexer is sure of that it missed); `lexer`: it could not parse it, the lexer's tables stand.
   */
  tablesFrom: 'parser' | 'lexer';
  /** Number of statements. */
  statements: number;
}

const K = {
  select: kw('select'),
  with: kw('with'),
  recursive: kw('recursive'),
  as: kw('as'),
  table: kw('table'),
  tables: kw('tables'),
  values: kw('values'),
  insert: kw('insert'),
  update: kw('update'),
  delete: kw('delete'),
  replace: kw('replace'),
  create: kw('create'),
  alter: kw('alter'),
  drop: kw('drop'),
  truncate: kw('truncate'),
  rename: kw('rename'),
  begin: kw('begin'),
  start: kw('start'),
  transaction: kw('transaction'),
  commit: kw('commit'),
  rollback: kw('rollback'),
  savepoint: kw('savepoint'),
  release: kw('release'),
  xa: kw('xa'),
  set: kw('set'),
  show: kw('show'),
  describe: kw('describe'),
  desc: kw('desc'),
  explain: kw('explain'),
  call: kw('call'),
  from: kw('from'),
  join: kw('join'),
  straight_join: kw('straight_join'),
  into: kw('into'),
  key: kw('key'),
  for: kw('for'),
  to: kw('to'),
  if: kw('if'),
  not: kw('not'),
  exists: kw('exists'),
  temporary: kw('temporary'),
  lock: kw('lock'),
  analyze: kw('analyze'),
  optimize: kw('optimize'),
  check: kw('check'),
  repair: kw('repair'),
  checksum: kw('checksum'),
  full: kw('full'),
  columns: kw('columns'),
  fields: kw('fields'),
  index: kw('index'),
  indexes: kw('indexes'),
  keys: kw('keys'),
  in: kw('in'),
  low_priority: kw('low_priority'),
  delayed: kw('delayed'),
  high_priority: kw('high_priority'),
  ignore: kw('ignore'),
  quick: kw('quick'),
  references: kw('references'),
  on: kw('on'),
};

const DDL_VERBS = new Set([K.create, K.alter, K.drop, K.truncate, K.rename]);
const TRANSACTION_VERBS = new Set([K.begin, K.commit, K.rollback, K.savepoint, K.release, K.xa]);
const TABLE_VERBS = new Set([K.create, K.alter, K.drop, K.truncate, K.rename, K.lock, K.analyze, K.optimize, K.check, K.repair, K.checksum, K.temporary]);
const INSERT_MODIFIERS = new Set([K.low_priority, K.delayed, K.high_priority, K.ignore, K.quick]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The tokens of a fingerprint, with helpers to read them. */
class Tokens {
  readonly t = new TokenList();
  readonly b: Uint8Array;
  readonly sig: number[] = [];

  constructor(text: string) {
    this.b = encoder.encode(text);
    lex(this.b, 0, this.b.length, DEFAULT_LEX_OPTIONS, this.t);
    for (let k = 0; k < this.t.count; k++) this.sig.push(k);
  }

  get length(): number {
    return this.sig.length;
  }

  kind(k: number): number {
    return k < this.sig.length ? this.t.kind[this.sig[k]!]! : -1;
  }

  word(k: number): number {
    return this.kind(k) === Tok.Word ? this.t.aux[this.sig[k]!]! : -1;
  }

  text(k: number): string {
    const idx = this.sig[k]!;
    return decoder.decode(this.b.subarray(this.t.start[idx]!, this.t.end[idx]!));
  }

  /** A name part at `k`: an unreserved word or a quoted name (unquoted), or null. */
  namePart(k: number, afterDot: boolean): string | null {
    const kind = this.kind(k);
    if (kind === Tok.Word) {
      if (!afterDot && (KW_FLAGS[this.word(k)]! & RESERVED) !== 0) return null;
      return this.text(k);
    }
    if (kind === Tok.QIdent) {
      const s = this.text(k);
      const q = s[0]!;
      return s.slice(1, -1).split(q + q).join(q);
    }
    return null;
  }

  /** A possibly qualified name at `k`: [name, index after it], or null. */
  qualifiedName(k: number): [string, number] | null {
    const first = this.namePart(k, false);
    if (first === null) return null;
    if (this.kind(k + 1) === Tok.Dot) {
      const second = this.namePart(k + 2, true);
      if (second !== null) return [`${first}.${second}`, k + 3];
    }
    return [first, k + 1];
  }
}

function statementKind(tk: Tokens, k: number, end: number): StatementKind {
  while (k < end && (tk.kind(k) === Tok.ExecOpen || tk.kind(k) === Tok.LParen)) k++;
  const id = tk.word(k);
  switch (id) {
    case K.select:
    case K.table:
    case K.values:
      return 'select';
    case K.insert:
      return 'insert';
    case K.update:
      return 'update';
    case K.delete:
      return 'delete';
    case K.replace:
      return 'replace';
    case K.set:
      return 'set';
    case K.show:
      return 'show';
    case K.call:
      return 'call';
    case K.start:
      return tk.word(k + 1) === K.transaction ? 'transaction' : 'other';
    case K.describe:
    case K.desc:
      return tk.namePart(k + 1, false) !== null ? 'show' : 'other';
    case K.with: {
      // The verb after the common table expressions.
      let depth = 0;
      for (let p = k + 1; p < end; p++) {
        const kind = tk.kind(p);
        if (kind === Tok.LParen) depth++;
        else if (kind === Tok.RParen) depth--;
        else if (depth === 0) {
          const w = tk.word(p);
          if (w === K.select) return 'select';
          if (w === K.update) return 'update';
          if (w === K.delete) return 'delete';
          if (w === K.insert) return 'insert';
          if (w === K.replace) return 'replace';
        }
      }
      return 'select';
    }
    default:
      if (DDL_VERBS.has(id)) return 'ddl';
      if (TRANSACTION_VERBS.has(id)) return 'transaction';
      return 'other';
  }
}

/** Names of the common table expressions of a WITH, which are not tables. */
function cteNames(tk: Tokens): Set<string> {
  const names = new Set<string>();
  for (let k = 0; k < tk.length; k++) {
    if (tk.word(k) !== K.with) continue;
    let p = k + 1;
    if (tk.word(p) === K.recursive) p++;
    for (;;) {
      const name = tk.namePart(p, false);
      if (name === null) break;
      names.add(name);
      p++;
      if (tk.kind(p) === Tok.LParen) p = skipParens(tk, p);
      if (tk.word(p) !== K.as || tk.kind(p + 1) !== Tok.LParen) break;
      p = skipParens(tk, p + 1);
      if (tk.kind(p) !== Tok.Comma) break;
      p++;
    }
  }
  return names;
}

/** Index after the `)` matching the `(` at `k`. */
function skipParens(tk: Tokens, k: number): number {
  let depth = 0;
  for (let p = k; p < tk.length; p++) {
    const kind = tk.kind(p);
    if (kind === Tok.LParen) depth++;
    else if (kind === Tok.RParen && --depth === 0) return p + 1;
  }
  return tk.length;
}

/** Tables the lexer is sure of, in `[from, to)` (one statement). */
function lexerTables(tk: Tokens, from: number, to: number, kind: StatementKind, out: string[]): void {
  const add = (name: string): void => {
    if (!out.includes(name)) out.push(name);
  };
  /** Read a table reference list at `k`: name [[AS] alias] [, …]. */
  const list = (k: number, many: boolean): void => {
    for (;;) {
      const q = tk.qualifiedName(k);
      if (q === null) return;
      const name = q[0];
      if (name !== 'dumpfile') add(name);
      k = q[1];
      if (!many) return;
      if (tk.word(k) === K.as) k++;
      if (tk.namePart(k, false) !== null && tk.kind(k + 1) !== Tok.Dot) k++;
      if (tk.kind(k) !== Tok.Comma) return;
      k++;
    }
  };

  const verb = tk.word(from);
  if (verb === K.describe || verb === K.desc || verb === K.explain) {
    // DESCRIBE t [col], EXPLAIN t; not EXPLAIN FORMAT = JSON SELECT …
    const q = tk.qualifiedName(from + 1);
    if (q !== null && tk.kind(q[1]) !== Tok.Op) {
      add(q[0]);
      return;
    }
  }

  if (kind === 'show') {
    // SHOW [FULL] {COLUMNS|FIELDS|INDEX|INDEXES|KEYS} {FROM|IN} t [{FROM|IN} db]
    let k = from + 1;
    if (tk.word(k) === K.full) k++;
    const what = tk.word(k);
    if (what === K.columns || what === K.fields || what === K.index || what === K.indexes || what === K.keys) {
      k++;
      if (tk.word(k) !== K.from && tk.word(k) !== K.in) return;
      const q = tk.qualifiedName(k + 1);
      if (q === null) return;
      const db = tk.word(q[1]) === K.from || tk.word(q[1]) === K.in ? tk.namePart(q[1] + 1, false) : null;
      add(db !== null && !q[0].includes('.') ? `${db}.${q[0]}` : q[0]);
    } else if (tk.word(from + 1) === K.create && tk.word(from + 2) === K.table) {
      list(from + 3, false);
    }
    return;
  }
  // Parentheses opened by a function call: FROM inside them is not a table (EXTRACT(YEAR FROM d)).
  const call: boolean[] = [false];
  for (let k = from; k < to; k++) {
    const kd = tk.kind(k);
    if (kd === Tok.LParen) {
      const prev = tk.kind(k - 1);
      const w = tk.word(k - 1);
      call.push(prev === Tok.QIdent || (prev === Tok.Word && (KW_FLAGS[w]! & RESERVED) === 0));
      continue;
    }
    if (kd === Tok.RParen) {
      if (call.length > 1) call.pop();
      continue;
    }
    if (kd !== Tok.Word) continue;
    const w = tk.word(k);
    const prev = tk.word(k - 1);
    if (w === K.from) {
      if (!call[call.length - 1]) list(k + 1, true);
    } else if (w === K.join || w === K.straight_join) {
      list(k + 1, false);
    } else if (w === K.update) {
      if (prev !== K.key && prev !== K.for) {
        let p = k + 1;
        while (INSERT_MODIFIERS.has(tk.word(p))) p++;
        list(p, true);
      }
    } else if (w === K.into) {
      list(tk.word(k + 1) === K.table ? k + 2 : k + 1, false); // LOAD DATA … INTO TABLE t
    } else if (w === K.references) {
      list(k + 1, false);
    } else if (w === K.on && tk.word(k - 2) === K.index && tk.kind(k - 1) !== Tok.Dot) {
      list(k + 1, false); // CREATE INDEX i ON t, DROP INDEX i ON t
    } else if ((w === K.insert || w === K.replace) && k === from) {
      let p = k + 1;
      while (INSERT_MODIFIERS.has(tk.word(p))) p++;
      if (tk.word(p) !== K.into) list(p, false);
    } else if (w === K.table || w === K.tables) {
      if (TABLE_VERBS.has(prev) || (prev === K.temporary && TABLE_VERBS.has(tk.word(k - 2)))) {
        let p = k + 1;
        if (tk.word(p) === K.if) p += tk.word(p + 1) === K.not ? 3 : 2;
        for (;;) {
          const q = tk.qualifiedName(p);
          if (q === null) break;
          add(q[0]);
          p = q[1];
          // RENAME TABLE a TO b, LOCK TABLES a READ, b AS x WRITE
          while (p < to && tk.kind(p) !== Tok.Comma && tk.kind(p) !== Tok.LParen && tk.kind(p) !== Tok.Semi) {
            if (tk.word(p) === K.to) {
              const r = tk.qualifiedName(p + 1);
              if (r !== null) {
                add(r[0]);
                p = r[1];
                continue;
              }
            }
            p++;
          }
          if (tk.kind(p) !== Tok.Comma) break;
          p++;
        }
      }
    } else if (w === K.truncate && k === from && tk.word(k + 1) !== K.table) {
      list(k + 1, false);
    }
  }
}

/** Facts from the lexer alone (no parser). */
export function lexerFacts(fingerprint: string): StatementFacts {
  const tk = new Tokens(fingerprint);
  return factsOf(tk, null);
}

function factsOf(tk: Tokens, parserTables: string[] | null): StatementFacts {
  let kind: StatementKind = 'other';
  let statements = 0;
  const tables: string[] = [];
  let k = 0;
  while (k < tk.length) {
    let end = k;
    while (end < tk.length && tk.kind(end) !== Tok.Semi) end++;
    if (end > k) {
      const sk = statementKind(tk, k, end);
      if (statements === 0) kind = sk;
      statements++;
      lexerTables(tk, k, end, sk, tables);
    }
    k = end + 1;
  }
  const ctes = cteNames(tk);
  const keep = (name: string): boolean => !ctes.has(name);
  if (parserTables !== null) {
    // The parser's tables, then any the lexer is sure of that the parser does not report
    // (SHOW COLUMNS FROM t, FOREIGN KEY … REFERENCES p).
    return { kind, tables: [...new Set([...parserTables, ...tables])].filter(keep), tablesFrom: 'parser', statements };
  }
  return { kind, tables: tables.filter(keep), tablesFrom: 'lexer', statements };
}

// -----------------------------------------------------------------------------------------------
// node-sql-parser

interface SqlParser {
  parse(sql: string, opt?: { database?: string }): { tableList: string[] };
}

let parser: SqlParser | null | undefined;

function getParser(): SqlParser | null {
  if (parser === undefined) {
    try {
      const mod = loadMysqlParser() as { Parser: new () => SqlParser };
      parser = new mod.Parser();
    } catch {
      parser = null; // not installed: the lexer's facts stand
    }
  }
  return parser;
}

/**
 * The fingerprint as SQL the parser accepts: `?` → `0`, `(?+)` → `(0)`, `union all ...` dropped.
 */
export function parseForm(fingerprint: string): string {
  const tk = new Tokens(fingerprint.replace(/ union(?: all| distinct)? \.\.\.(?= |$)/g, ''));
  let out = '';
  let run = 0;
  const t = tk.t;
  for (let k = 0; k < tk.length; k++) {
    const idx = tk.sig[k]!;
    const kind = t.kind[idx];
    const s = t.start[idx]!;
    const e = t.end[idx]!;
    if (kind === Tok.Param) {
      out += decoder.decode(tk.b.subarray(run, s)) + '0';
      run = e;
    } else if (kind === Tok.Op && e - s === 1 && tk.b[s] === 0x2b && tk.kind(k - 1) === Tok.Param && tk.kind(k + 1) === Tok.RParen) {
      out += decoder.decode(tk.b.subarray(run, s));
      run = e;
    }
  }
  return out + decoder.decode(tk.b.subarray(run));
}

function parserTables(fingerprint: string): string[] | null {
  const p = getParser();
  if (p === null) return null;
  try {
    const { tableList } = p.parse(parseForm(fingerprint), { database: 'MySQL' });
    const out: string[] = [];
    for (const entry of tableList) {
      const parts = entry.split('::');
      if (parts.length !== 3) continue;
      // node-sql-parser keeps a quoted name's doubled backquote (`a``b` → a``b): the name is a`b.
      const db = parts[1]!.replaceAll('``', '`');
      const table = parts[2]!.replaceAll('``', '`');
      if (table === 'null' || table === '') continue;
      out.push((db === 'null' || db === '' ? table : `${db}.${table}`).toLowerCase());
    }
    return out;
  } catch {
    return null; // does not parse: the lexer's tables stand
  }
}

/** Facts of a fingerprint, with node-sql-parser's tables when it parses (no cache: see StatementFactsCache). */
export function statementFacts(fingerprint: string, maxParseLength = DEFAULT_MAX_PARSE_LENGTH): StatementFacts {
  const tk = new Tokens(fingerprint);
  const fromParser = fingerprint.length <= maxParseLength ? parserTables(fingerprint) : null;
  return factsOf(tk, fromParser);
}

const DEFAULT_MAX_PARSE_LENGTH = 20_000;

export interface FactsCacheOptions {
  /** Fingerprints remembered; the oldest is forgotten past this. Default 50,000. */
  maxEntries?: number;
  /** Longer fingerprints are not given to the parser (it can take seconds on huge ones). Default 20,000 characters. */
  maxParseLength?: number;
}

/** Facts per fingerprint, each computed once. */
export class StatementFactsCache {
  private readonly map = new Map<string, StatementFacts>();
  private readonly maxEntries: number;
  private readonly maxParseLength: number;
  hits = 0;
  misses = 0;

  constructor(opts: FactsCacheOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 50_000);
    this.maxParseLength = opts.maxParseLength ?? DEFAULT_MAX_PARSE_LENGTH;
  }

  get size(): number {
    return this.map.size;
  }

  get(fingerprint: string): StatementFacts {
    const cached = this.map.get(fingerprint);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const facts = statementFacts(fingerprint, this.maxParseLength);
    if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(fingerprint, facts);
    return facts;
  }
}

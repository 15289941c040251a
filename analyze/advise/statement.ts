/**
 * What advice needs to know of one statement, read from node-sql-parser's syntax tree of its
 * shape (literals as typed stand-ins: src/sql/shape.ts) or, without one, of its fingerprint: the
 * tables and their aliases, the WHERE conditions (which column, compared how, with what kind of
 * value), joins, ORDER BY / GROUP BY, LIMIT, SELECT *, SQL_CALC_FOUND_ROWS, INSERT's column list.
 * Parsed once per fingerprint; a statement the parser does not read has no model (no text rule
 * applies to it, never a guess).
 */
import { loadMysqlParser } from '../../src/sql/sql-parser.cjs';
import { parseForm } from '../../src/sql/facts.js';

export interface ColRef {
  /** The qualifier as written (a table name or an alias), lower case; null when unqualified. */
  table: string | null;
  column: string;
}

export type ValueKind = 'number' | 'string' | 'column' | 'null' | 'subquery' | 'list' | 'expr';

/** One comparison of a column (or a function of one) with something. */
export interface Predicate {
  op: string;
  col: ColRef;
  /** The function applied to the column (`year(created)` → year), null when the column is bare. */
  fn: string | null;
  value: ValueKind;
  /** The other side, when it is a column (joins). */
  other: ColRef | null;
  /** LIKE with a pattern that starts with % or _. */
  leadingWildcard: boolean;
  /** IN (…): how many values. */
  listLength: number;
  /** Inside an OR: not a filter an index can use alone. */
  underOr: boolean;
}

export interface TableUse {
  db: string | null;
  name: string;
  alias: string | null;
  /** LEFT JOIN, RIGHT JOIN, INNER JOIN, … (null for the first table). */
  join: string | null;
  on: Predicate[];
}

export interface StatementModel {
  type: string;
  tables: TableUse[];
  hasWhere: boolean;
  where: Predicate[];
  orderBy: ColRef[];
  orderByRand: boolean;
  groupBy: ColRef[];
  limit: { count: number | null; offset: number | null; hasOffset: boolean } | null;
  selectStar: boolean;
  calcFoundRows: boolean;
  /** INSERT / REPLACE: whether a column list was given (null for other statements). */
  insertColumns: boolean | null;
  /** `col IN (SELECT …)`. */
  inSubquery: boolean;
}

interface Parser {
  astify(sql: string, opt?: { database?: string }): unknown;
}

let parser: Parser | null | undefined;
function getParser(): Parser | null {
  if (parser === undefined) {
    try {
      parser = new (loadMysqlParser() as { Parser: new () => Parser }).Parser();
    } catch {
      parser = null;
    }
  }
  return parser;
}

type Node = Record<string, unknown> & { type?: string };

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (v: unknown): string | null => (typeof v === 'string' ? v.toLowerCase() : null);

/** A column name as node-sql-parser writes it (a string, or `{expr: {value}}` in newer versions). */
function columnName(v: unknown): string | null {
  if (typeof v === 'string') return v.toLowerCase();
  if (isNode(v) && isNode(v.expr) && typeof v.expr.value === 'string') return v.expr.value.toLowerCase();
  return null;
}

function colRef(n: unknown): ColRef | null {
  if (!isNode(n) || n.type !== 'column_ref') return null;
  const column = columnName(n.column);
  if (column === null || column === '*') return null;
  return { table: lower(n.table), column };
}

function fnName(n: Node): string | null {
  const name = n.name;
  if (typeof name === 'string') return name.toLowerCase();
  if (isNode(name) && Array.isArray(name.name)) {
    const parts = name.name.map((p: unknown) => (isNode(p) && typeof p.value === 'string' ? p.value : '')).filter(Boolean);
    return parts.length ? parts.join('.').toLowerCase() : null;
  }
  return null;
}

/** A column, or a function (or cast) of exactly one column. */
function columnSide(n: unknown): { col: ColRef; fn: string | null } | null {
  const c = colRef(n);
  if (c !== null) return { col: c, fn: null };
  if (!isNode(n)) return null;
  if (n.type === 'function' || n.type === 'aggr_func') {
    const args = isNode(n.args) ? (Array.isArray(n.args.value) ? n.args.value : [n.args.expr]) : [];
    const cols = args.map(colRef).filter((x): x is ColRef => x !== null);
    const name = fnName(n);
    if (cols.length === 1 && name !== null) return { col: cols[0]!, fn: name };
  }
  if (n.type === 'cast') {
    const c2 = colRef(n.expr);
    if (c2 !== null) return { col: c2, fn: 'cast' };
  }
  return null;
}

function valueKind(n: unknown): { kind: ValueKind; other: ColRef | null; leading: boolean; length: number } {
  const none = { other: null, leading: false, length: 0 };
  if (!isNode(n)) return { kind: 'expr', ...none };
  const t = n.type;
  if (t === 'number' || t === 'bool') return { kind: 'number', ...none };
  if (t === 'single_quote_string' || t === 'double_quote_string' || t === 'string' || t === 'natural_string' || t === 'hex_string' || t === 'full_hex_string' || t === 'bit_string' || t === 'date' || t === 'datetime' || t === 'time' || t === 'timestamp') {
    const v = typeof n.value === 'string' ? n.value : '';
    return { kind: 'string', other: null, leading: v.startsWith('%') || v.startsWith('_'), length: 0 };
  }
  if (t === 'null') return { kind: 'null', ...none };
  if (t === 'column_ref') return { kind: 'column', other: colRef(n), leading: false, length: 0 };
  if (t === 'expr_list' && Array.isArray(n.value)) {
    const vs = n.value as unknown[];
    if (vs.length === 1 && isNode(vs[0]) && 'ast' in vs[0]) return { kind: 'subquery', ...none };
    const kinds = new Set(vs.map((v) => valueKind(v).kind));
    return { kind: kinds.size === 1 && (kinds.has('number') || kinds.has('string')) ? ([...kinds][0] as ValueKind) : 'list', other: null, leading: false, length: vs.length };
  }
  if ('ast' in n) return { kind: 'subquery', ...none };
  return { kind: 'expr', ...none };
}

const COMPARISONS = new Set(['=', '<=>', '!=', '<>', '<', '<=', '>', '>=', 'IN', 'NOT IN', 'LIKE', 'NOT LIKE', 'BETWEEN', 'NOT BETWEEN', 'IS', 'IS NOT']);

/** Every comparison of a column in an expression; `underOr` marks those inside an OR (or a NOT). */
function predicates(n: unknown, out: Predicate[], underOr: boolean, subqueries: { found: boolean }): void {
  if (!isNode(n)) return;
  if (n.type === 'binary_expr') {
    const op = String(n.operator).toUpperCase();
    if (op === 'AND' || op === 'OR' || op === 'XOR') {
      const or = underOr || op !== 'AND';
      predicates(n.left, out, or, subqueries);
      predicates(n.right, out, or, subqueries);
      return;
    }
    if (COMPARISONS.has(op)) {
      let side = columnSide(n.left);
      let other = n.right;
      if (side === null) {
        side = columnSide(n.right);
        other = n.left;
      }
      const v = valueKind(other);
      if ((op === 'IN' || op === 'NOT IN') && v.kind === 'subquery') subqueries.found = true;
      if (side !== null) out.push({ op, col: side.col, fn: side.fn, value: v.kind, other: v.other, leadingWildcard: (op === 'LIKE' || op === 'NOT LIKE') && v.leading, listLength: v.length, underOr });
      return;
    }
  }
  if (n.type === 'unary_expr') predicates(n.expr, out, true, subqueries);
}

function orderCols(list: unknown): ColRef[] {
  if (!Array.isArray(list)) return [];
  return list.map((o) => (isNode(o) ? colRef(o.expr) : null)).filter((c): c is ColRef => c !== null);
}

function tablesOf(from: unknown): TableUse[] {
  if (!Array.isArray(from)) return [];
  const out: TableUse[] = [];
  for (const f of from) {
    if (!isNode(f) || typeof f.table !== 'string') continue;
    const on: Predicate[] = [];
    predicates(f.on, on, false, { found: false });
    out.push({ db: lower(f.db), name: f.table.toLowerCase(), alias: lower(f.as), join: typeof f.join === 'string' ? f.join.toUpperCase() : null, on });
  }
  return out;
}

function limitOf(l: unknown): StatementModel['limit'] {
  if (!isNode(l) || !Array.isArray(l.value) || l.value.length === 0) return null;
  const num = (v: unknown): number | null => (isNode(v) && v.type === 'number' && typeof v.value === 'number' ? v.value : null);
  const vs = l.value as unknown[];
  if (vs.length === 1) return { count: num(vs[0]), offset: null, hasOffset: false };
  // `LIMIT offset, count` (separator ",") or `LIMIT count OFFSET offset`.
  const comma = l.seperator === ',';
  return { count: num(comma ? vs[1] : vs[0]), offset: num(comma ? vs[0] : vs[1]), hasOffset: true };
}

/** The model of one statement, or null when the parser does not read it (or it holds several). */
export function statementModel(sql: string): StatementModel | null {
  const p = getParser();
  if (p === null) return null;
  let ast: unknown;
  try {
    ast = p.astify(sql, { database: 'MySQL' });
  } catch {
    return null;
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return null;
    ast = ast[0];
  }
  if (!isNode(ast) || typeof ast.type !== 'string') return null;
  const type = ast.type.toLowerCase();
  const subq = { found: false };
  const where: Predicate[] = [];
  predicates(ast.where, where, false, subq);
  const tables = type === 'select' || type === 'delete' ? tablesOf(ast.from) : tablesOf(ast.table);
  if (type === 'delete' && tables.length === 0) tables.push(...tablesOf(ast.table));
  const columns = Array.isArray(ast.columns) ? ast.columns : [];
  const selectStar = type === 'select' && (ast.columns === '*' || columns.some((c) => isNode(c) && isNode(c.expr) && c.expr.type === 'column_ref' && columnName(c.expr.column) === '*'));
  const order = Array.isArray(ast.orderby) ? ast.orderby : [];
  const orderByRand = order.some((o) => isNode(o) && isNode(o.expr) && o.expr.type === 'function' && fnName(o.expr) === 'rand');
  const groupBy = isNode(ast.groupby) ? orderCols((ast.groupby as Node).columns ?? []) : Array.isArray(ast.groupby) ? ast.groupby.map(colRef).filter((c): c is ColRef => c !== null) : [];
  const options = Array.isArray(ast.options) ? ast.options.map((o) => String(o).toLowerCase()) : [];
  return {
    type,
    tables,
    hasWhere: ast.where !== null && ast.where !== undefined,
    where,
    orderBy: orderCols(order),
    orderByRand,
    groupBy,
    limit: limitOf(ast.limit),
    selectStar,
    calcFoundRows: options.includes('sql_calc_found_rows'),
    insertColumns: type === 'insert' || type === 'replace' ? Array.isArray(ast.columns) && ast.columns.length > 0 : null,
    inSubquery: subq.found,
  };
}

/**
 * The model of a fingerprint's statement: from its shape when known and readable (`typed`: literal
 * kinds and sizes are real), else from the fingerprint itself (every literal reads as a number 0).
 */
export function modelOf(fingerprint: string, shape: string | null): { model: StatementModel; typed: boolean } | null {
  if (shape !== null) {
    const m = statementModel(shape);
    if (m !== null) return { model: m, typed: true };
  }
  const m = statementModel(parseForm(fingerprint));
  return m === null ? null : { model: m, typed: false };
}

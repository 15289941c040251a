/**
 * The fingerprint's rules, as tables and small functions shared by its writer (the stream,
 * ./fingerprint-stream.ts and ./scan.ts) and the tests' oracle (test/sql/oracle/).
 *
 * Fingerprint: a normal form of a statement that groups the statements a DBA sees as "the same
 * query". It is computed from the tokens, so it depends on nothing the redaction removes: no
 * literal, comment or original spacing can change it. Every rule is documented, with an example,
 * in docs/fingerprints.md; in short:
 *
 *   literals, placeholders, NULL as a value               → ?  (not IS [NOT] NULL, NOT NULL, ORDER BY NULL, DDL)
 *   comments                                              removed (executable ones kept)
 *   spacing                                               one canonical form, token by token
 *   unquoted words, backquoted names                      lower case; `name` → name when it can be
 *   IN (?, ?, …), IN ((?, ?), …)                          in(?+), in((?+))
 *   VALUES (…), (…), …                                    the first row only
 *   ORDER BY / GROUP BY … ASC                             ASC dropped
 *   LIMIT ? OFFSET ?                                      limit ?, ?
 *   A UNION ALL A UNION ALL A (identical branches)        A union all ...
 *   USE db                                                use ?
 *   SET [SESSION|@@session.|@@]x := 'v'                   set x = ?  (GLOBAL/PERSIST kept)
 *   SET NAMES x COLLATE y, SET CHARSET x                  set names ? collate ?, set character set ?
 *   SAVEPOINT s / RELEASE SAVEPOINT s / ROLLBACK TO s     savepoint ? / release savepoint ? / rollback to ?
 *   trailing ;                                            dropped
 */
import { FUNC, kw, KW_FLAGS, RESERVED } from './keywords.js';
import { Tok, type TokenList } from './lexer.js';

// What the last thing written was, for spacing.
export const A_NONE = 0;
export const A_WORD = 1;
export const A_LPAREN = 2;
export const A_RPAREN = 3;
export const A_COMMA = 4;
export const A_DOT = 5;
export const A_OP = 6;
export const A_PREFIX = 7;
export const A_SEMI = 8;
export const A_OTHER = 9;

export const K_NULL = kw('null');
export const K_IS = kw('is');
export const K_NOT = kw('not');
export const K_IN = kw('in');
export const K_VALUES = kw('values');
export const K_VALUE = kw('value');
export const K_ROW = kw('row');
export const K_ORDER = kw('order');
export const K_GROUP = kw('group');
export const K_BY = kw('by');
export const K_ASC = kw('asc');
export const K_LIMIT = kw('limit');
export const K_OFFSET = kw('offset');
export const K_UNION = kw('union');
export const K_ALL = kw('all');
export const K_DISTINCT = kw('distinct');
export const K_HAVING = kw('having');
export const K_FOR = kw('for');
export const K_LOCK = kw('lock');
export const K_INTO = kw('into');
export const K_WINDOW = kw('window');
export const K_PROCEDURE = kw('procedure');
export const K_USE = kw('use');
export const K_SET = kw('set');
export const K_SESSION = kw('session');
export const K_LOCAL = kw('local');
export const K_GLOBAL = kw('global');
export const K_PERSIST = kw('persist');
export const K_PERSIST_ONLY = kw('persist_only');
export const K_NAMES = kw('names');
export const K_COLLATE = kw('collate');
export const K_CHARACTER = kw('character');
export const K_CHARSET = kw('charset');
export const K_TRANSACTION = kw('transaction');
export const K_SAVEPOINT = kw('savepoint');
export const K_RELEASE = kw('release');
export const K_ROLLBACK = kw('rollback');
export const K_TO = kw('to');
export const K_CREATE = kw('create');
export const K_ALTER = kw('alter');

/** What a keyword means to the fingerprint's general rules (a table: one lookup a word). */
export const enum Rule {
  None = 0,
  Null = 1,
  In = 2,
  Values = 3,
  By = 4,
  Asc = 5,
  Limit = 6,
  Union = 7,
  /** HAVING, FOR, LOCK, INTO, WINDOW, PROCEDURE: the ORDER BY / GROUP BY list is over. */
  EndsOrderBy = 8,
}
export const RULE = new Uint8Array(KW_FLAGS.length);
RULE[K_NULL] = Rule.Null;
RULE[K_IN] = Rule.In;
RULE[K_VALUES] = RULE[K_VALUE] = Rule.Values;
RULE[K_BY] = Rule.By;
RULE[K_ASC] = Rule.Asc;
RULE[K_LIMIT] = Rule.Limit;
RULE[K_UNION] = Rule.Union;
for (const id of [K_HAVING, K_FOR, K_LOCK, K_INTO, K_WINDOW, K_PROCEDURE]) RULE[id] = Rule.EndsOrderBy;

export const ASCII = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const B_IN_LIST = ASCII('(?+)');
export const B_IN_TUPLES = ASCII('((?+))');
export const B_ELLIPSIS = ASCII('...');
export const B_CHARACTER_SET = ASCII('character set');

export const MAX_DEPTH = 1024;

/** Whether a space goes between an atom of class `last` and one of class `cur` (special cases in `space`). */
export const SPACE = new Uint8Array(16 * 16);
for (let last = 0; last < 16; last++) {
  for (let cur = 0; cur < 16; cur++) {
    let sp = 1;
    if (last === A_NONE || last === A_LPAREN || last === A_DOT || last === A_PREFIX) sp = 0;
    if (cur === A_COMMA || cur === A_RPAREN || cur === A_SEMI) sp = 0;
    SPACE[last * 16 + cur] = sp;
  }
}

/**
 * The space, if any, between the last atom written (class `last`; `callable`: a word that takes its
 * `(` without a space) and one of class `cur`, written at `buf[length]`. Returns the new length.
 */
export function space(buf: Uint8Array, length: number, last: number, callable: boolean, cur: number): number {
  if (SPACE[last * 16 + cur] === 1) {
    // A dot qualifies the name before it (t.col); after a keyword it is something else (`union all ...`).
    if (cur === A_DOT && (last !== A_WORD || callable)) return length;
    if (cur === A_LPAREN && last === A_WORD && callable) return length;
    buf[length] = 0x20;
    return length + 1;
  }
  if (last === A_DOT && cur !== A_DOT && length > 1 && buf[length - 2] === 0x2e) {
    buf[length] = 0x20; // after the `...` of collapsed UNION branches
    return length + 1;
  }
  return length;
}

/** Is NULL a value (`?`) after keyword `prevKw`? Not in IS [NOT] NULL, NOT NULL, ORDER BY NULL, nor in DDL (`keepNull`). */
export function nullIsValue(keepNull: boolean, prevKw: number): boolean {
  return !keepNull && prevKw !== K_IS && prevKw !== K_NOT && prevKw !== K_BY;
}

/** Keyword ids whose word takes its `(` without a space: not reserved, or a function. */
export const CALLABLE = new Uint8Array(KW_FLAGS.length);
for (let id = 0; id < KW_FLAGS.length; id++) CALLABLE[id] = (KW_FLAGS[id]! & RESERVED) === 0 || (KW_FLAGS[id]! & FUNC) !== 0 ? 1 : 0;

/** Does a `@` right after token `k` belong to it (`'user'@'host'`, `name@host`)? */
export function glued(t: TokenList, k: number): boolean {
  const kind = t.kind[k];
  if (kind === Tok.Lit || kind === Tok.Param || kind === Tok.QIdent) return true;
  return kind === Tok.Word && (KW_FLAGS[t.aux[k]!]! & RESERVED) === 0;
}


/**
 * Identical consecutive top-level UNION branches: `A union all A union all A` → `A union all ...`.
 * The statement is `buf[stmtStart, end)`; `marks[0, count)` are its UNIONs' [branch end, connector
 * end] output offsets. Returns the statement's new end.
 */
export function collapseUnions(buf: Uint8Array, stmtStart: number, end: number, marks: readonly number[], count: number): number {
  const n = count / 2;
  const starts: number[] = [];
  const ends: number[] = [];
  const connStart: number[] = [0];
  const connEnd: number[] = [0];
  starts.push(buf[stmtStart] === 0x20 ? stmtStart + 1 : stmtStart);
  for (let i = 0; i < n; i++) {
    const branchEnd = marks[2 * i]!;
    const cEnd = marks[2 * i + 1]!;
    if (buf[branchEnd] !== 0x20 || cEnd >= end || buf[cEnd] !== 0x20) return end; // not the shape we expect
    ends.push(branchEnd);
    connStart.push(branchEnd + 1);
    connEnd.push(cEnd);
    starts.push(cEnd + 1);
  }
  ends.push(end);
  const src = buf.slice(starts[0]!, end);
  const base = starts[0]!;
  const same = (a0: number, a1: number, b0: number, b1: number): boolean => {
    if (a1 - a0 !== b1 - b0) return false;
    for (let i = 0; i < a1 - a0; i++) if (src[a0 - base + i] !== src[b0 - base + i]) return false;
    return true;
  };
  let o = base;
  const put = (s: number, e: number): void => {
    buf.set(src.subarray(s - base, e - base), o);
    o += e - s;
  };
  let i = 0;
  while (i <= n) {
    let j = i;
    while (j < n && same(starts[j + 1]!, ends[j + 1]!, starts[i]!, ends[i]!) && same(connStart[j + 1]!, connEnd[j + 1]!, connStart[i + 1]!, connEnd[i + 1]!)) j++;
    put(starts[i]!, ends[i]!);
    if (j > i) {
      buf[o++] = 0x20;
      put(connStart[i + 1]!, connEnd[i + 1]!);
      buf[o++] = 0x20;
      buf.set(B_ELLIPSIS, o);
      o += 3;
    }
    if (j < n) {
      buf[o++] = 0x20;
      put(connStart[j + 1]!, connEnd[j + 1]!);
      buf[o++] = 0x20;
    }
    i = j + 1;
  }
  return o;
}

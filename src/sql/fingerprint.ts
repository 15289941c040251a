/**
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
import { FUNC, kw, KW_FLAGS, LOWER, RESERVED } from './keywords.js';
import { OP_UNARY, QIDENT_PLAIN, Tok, type TokenList } from './lexer.js';

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
const K_VALUES = kw('values');
const K_VALUE = kw('value');
export const K_ROW = kw('row');
export const K_ORDER = kw('order');
export const K_GROUP = kw('group');
export const K_BY = kw('by');
const K_ASC = kw('asc');
export const K_LIMIT = kw('limit');
export const K_OFFSET = kw('offset');
const K_UNION = kw('union');
export const K_ALL = kw('all');
export const K_DISTINCT = kw('distinct');
const K_HAVING = kw('having');
const K_FOR = kw('for');
const K_LOCK = kw('lock');
const K_INTO = kw('into');
const K_WINDOW = kw('window');
const K_PROCEDURE = kw('procedure');
export const K_USE = kw('use');
export const K_SET = kw('set');
const K_SESSION = kw('session');
const K_LOCAL = kw('local');
const K_GLOBAL = kw('global');
const K_PERSIST = kw('persist');
const K_PERSIST_ONLY = kw('persist_only');
const K_NAMES = kw('names');
const K_COLLATE = kw('collate');
const K_CHARACTER = kw('character');
const K_CHARSET = kw('charset');
const K_TRANSACTION = kw('transaction');
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

const ASCII = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const B_IN_LIST = ASCII('(?+)');
export const B_IN_TUPLES = ASCII('((?+))');
const B_ELLIPSIS = ASCII('...');
const B_CHARACTER_SET = ASCII('character set');

export const MAX_DEPTH = 1024;

/** Whether a space goes between an atom of class `last` and one of class `cur` (special cases in `space`). */
const SPACE = new Uint8Array(16 * 16);
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

export class FingerprintWriter {
  /** The fingerprint's bytes are `buf[0, length)` after `write`. */
  buf = new Uint8Array(1024);
  length = 0;

  private b: Uint8Array = new Uint8Array(0);
  private t!: TokenList;
  private m = 0;
  private last = A_NONE;
  /** The last word written can take its `(` without a space (a function, a table's column list). */
  private callable = false;
  private prevKw = 0;
  private savepointNames = false;
  /** In CREATE and ALTER, NULL is a column attribute, not a value. */
  private keepNull = false;
  private orderBy = new Uint8Array(MAX_DEPTH + 1);
  /** Top-level UNIONs of the current statement: output offsets [branch end, connector end] pairs. */
  private unions: number[] = [];
  private unionCount = 0;

  write(b: Uint8Array, t: TokenList): void {
    this.b = b;
    this.t = t;
    const m = t.count;
    this.m = m;
    // Every token writes at most twice its length (itself and a space), special forms included.
    const need = m === 0 ? 64 : 2 * (t.end[m - 1]! - t.start[0]!) + 64;
    if (this.buf.length < need) this.buf = new Uint8Array(Math.max(need, this.buf.length * 2));
    this.length = 0;
    this.last = A_NONE;
    this.callable = false;
    this.prevKw = 0;
    let k = 0;
    while (k < m) k = this.statement(k);
  }

  // ---------------------------------------------------------------------------------------------
  // Token access

  private kind(k: number): number {
    return this.t.kind[k]!;
  }

  private wordId(k: number): number {
    return k < this.m && this.kind(k) === Tok.Word ? this.t.aux[k]! : -1;
  }

  private isOp(k: number, text: string): boolean {
    if (k >= this.m || this.kind(k) !== Tok.Op) return false;
    const idx = k;
    const s = this.t.start[idx]!;
    if (this.t.end[idx]! - s !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (this.b[s + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** A value the fingerprint prints as `?`. */
  private isValue(k: number): boolean {
    if (k >= this.m) return false;
    const kind = this.kind(k);
    return kind === Tok.Lit || kind === Tok.Param || kind === Tok.MaskEnd || (kind === Tok.Word && this.t.aux[k] === K_NULL);
  }

  /** Index of the `)` matching the `(` at `k`, or -1. */
  private matching(k: number, to: number): number {
    let depth = 0;
    for (let j = k; j < to; j++) {
      const kind = this.kind(j);
      if (kind === Tok.LParen) depth++;
      else if (kind === Tok.RParen && --depth === 0) return j;
    }
    return -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n + 64));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private space(cur: number): void {
    this.length = space(this.buf, this.length, this.last, this.callable, cur);
  }

  /** Write `b[s, e)` lower-cased, as an atom of class `cls`. */
  private lower(s: number, e: number, cls: number): void {
    this.space(cls);
    const b = this.b;
    const buf = this.buf;
    let o = this.length;
    for (let i = s; i < e; i++) buf[o++] = LOWER[b[i]!]!;
    this.length = o;
    this.last = cls;
  }

  private verbatim(s: number, e: number, cls: number): void {
    this.space(cls);
    const b = this.b;
    const buf = this.buf;
    let o = this.length;
    for (let i = s; i < e; i++) buf[o++] = b[i]!;
    this.length = o;
    this.last = cls;
  }

  private bytes(x: Uint8Array, cls: number, first: number): void {
    this.ensure(x.length + 1);
    this.space(first);
    this.buf.set(x, this.length);
    this.length += x.length;
    this.last = cls;
  }

  private char(c: number, cls: number): void {
    this.space(cls);
    this.buf[this.length++] = c;
    this.last = cls;
  }

  private qmark(): void {
    this.char(0x3f, A_WORD);
    this.callable = false;
    this.kwSeen(0);
  }

  private kwSeen(id: number): void {
    this.prevKw = id;
  }

  /** Write token `k` as it is (lower-cased where case does not matter). */
  private token(k: number): void {
    const t = this.t;
    const idx = k;
    const s = t.start[idx]!;
    const e = t.end[idx]!;
    switch (t.kind[idx] as Tok) {
      case Tok.Word: {
        const id = t.aux[idx]!;
        this.lower(s, e, A_WORD);
        this.callable = CALLABLE[id] === 1;
        this.prevKw = id;
        return;
      }
      case Tok.QIdent:
        this.quotedName(idx, s, e);
        this.kwSeen(0);
        return;
      case Tok.Lit:
      case Tok.MaskEnd:
      case Tok.Param:
        this.qmark();
        return;
      case Tok.LParen:
        this.char(0x28, A_LPAREN);
        break;
      case Tok.RParen:
        this.char(0x29, A_RPAREN);
        break;
      case Tok.Comma:
        this.char(0x2c, A_COMMA);
        break;
      case Tok.Dot:
        this.char(0x2e, A_DOT);
        break;
      case Tok.Semi:
        this.char(0x3b, A_SEMI);
        break;
      case Tok.Op: {
        const c = this.b[s];
        if (c === 0x40 && e - s === 1 && k > 0 && this.last === A_WORD && (this.buf[this.length - 1] === 0x3f || glued(t, k - 1))) {
          this.last = A_LPAREN; // 'user'@'host': no space before the @
        }
        const prefix = (t.aux[idx]! & OP_UNARY) !== 0 || c === 0x40; // -x, ~x, @v, @@v, :name
        this.verbatim(s, e, prefix ? A_PREFIX : A_OP);
        break;
      }
      case Tok.ExecOpen:
      case Tok.ExecClose:
        this.verbatim(s, e, A_OTHER);
        break;
    }
    this.kwSeen(0);
  }

  /** `name` → name when it needs no quotes (the lexer says so); otherwise the quoted form, lower-cased. */
  private quotedName(k: number, s: number, e: number): void {
    if (this.t.aux[k] === QIDENT_PLAIN) this.lower(s + 1, e - 1, A_WORD);
    else this.lower(s, e, A_WORD);
    this.callable = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

  /** Write the statement starting at `k`; returns the index after it (after its `;`). */
  private statement(k: number): number {
    const m = this.m;
    let end = k;
    while (end < m && this.kind(end) !== Tok.Semi) end++;
    if (end === k) return k + 1; // empty statement
    if (this.length > 0) {
      this.char(0x3b, A_SEMI);
    }
    const stmtStart = this.length;
    this.unionCount = 0;
    this.savepointNames = false;
    this.keepNull = false;

    // mysqldump's /*!40101 SET … */; is a statement inside an executable comment.
    let from = k;
    let to = end;
    let closing = -1;
    while (from < to && this.kind(from) === Tok.ExecOpen) this.token(from++);
    if (from > k && to > from && this.kind(to - 1) === Tok.ExecClose) closing = --to;

    const id = this.wordId(from);
    if (id === K_USE && to - from === 2 && this.isName(from + 1)) {
      this.token(from);
      this.qmark();
    } else if (id === K_SET) {
      this.setStatement(from, to);
    } else {
      this.savepointNames = id === K_SAVEPOINT || id === K_RELEASE || id === K_ROLLBACK;
      this.keepNull = id === K_CREATE || id === K_ALTER;
      this.range(from, to, true);
      if (this.unionCount > 0) this.length = collapseUnions(this.buf, stmtStart, this.length, this.unions, this.unionCount);
    }
    if (closing >= 0) this.token(closing);
    return end + 1;
  }

  private isName(k: number): boolean {
    if (k >= this.m) return false;
    const kind = this.kind(k);
    return kind === Tok.Word || kind === Tok.QIdent || kind === Tok.Param || kind === Tok.Lit;
  }

  /**
   * The general rules over tokens `[from, to)`. `top`: this is a whole statement, whose
   * top-level UNIONs are recorded.
   */
  private range(from: number, to: number, top: boolean): void {
    const t = this.t;
    const orderBy = this.orderBy;
    let depth = 0;
    orderBy[0] = 0;
    let valuesEnd = -1;
    for (let k = from; k < to; k++) {
      const idx = k;
      const kind = t.kind[idx] as Tok;
      if (kind === Tok.Word) {
        const id = t.aux[idx]!;
        switch (RULE[id] as Rule) {
          case Rule.None:
            break;
          case Rule.Null:
            if (nullIsValue(this.keepNull, this.prevKw)) {
              this.qmark();
              continue;
            }
            break;
          case Rule.In:
            if (k + 1 < to && t.kind[k + 1] === Tok.LParen) {
              const list = this.valueList(k + 1, to);
              if (list !== 0) {
                this.token(k);
                this.bytes(list > 0 ? B_IN_LIST : B_IN_TUPLES, A_RPAREN, A_LPAREN);
                this.kwSeen(0);
                k = Math.abs(list) - 1;
                continue;
              }
            }
            break;
          case Rule.Values:
            if (valuesEnd < 0) {
              let p = k + 1;
              if (this.wordId(p) === K_ROW) p++;
              if (p < to && t.kind[p] === Tok.LParen) valuesEnd = this.matching(p, to);
            }
            break;
          case Rule.By:
            if (this.prevKw === K_ORDER || this.prevKw === K_GROUP) orderBy[depth] = 1;
            break;
          case Rule.Asc:
            if (orderBy[depth] === 1) continue;
            break;
          case Rule.Limit:
            orderBy[depth] = 0;
            if (k + 3 < to && this.isValue(k + 1) && this.wordId(k + 2) === K_OFFSET && this.isValue(k + 3)) {
              this.token(k);
              this.qmark();
              this.char(0x2c, A_COMMA);
              this.qmark();
              k += 3;
              continue;
            }
            break;
          case Rule.Union:
            orderBy[depth] = 0;
            if (top && depth === 0) {
              const branchEnd = this.length;
              this.token(k);
              const next = this.wordId(k + 1);
              if (k + 1 < to && (next === K_ALL || next === K_DISTINCT)) this.token(++k);
              this.unions[this.unionCount++] = branchEnd;
              this.unions[this.unionCount++] = this.length;
              continue;
            }
            break;
          case Rule.EndsOrderBy:
            orderBy[depth] = 0;
            break;
        }
        if (this.savepointNames && (this.prevKw === K_SAVEPOINT || this.prevKw === K_TO) && id !== K_SAVEPOINT) {
          this.qmark();
          continue;
        }
        // Inline: a word, lower-cased.
        this.space(A_WORD);
        const b = this.b;
        const buf = this.buf;
        let o = this.length;
        const e = t.end[k]!;
        for (let i = t.start[k]!; i < e; i++) buf[o++] = LOWER[b[i]!]!;
        this.length = o;
        this.last = A_WORD;
        this.callable = CALLABLE[id] === 1;
        this.prevKw = id;
        continue;
      }
      if (kind === Tok.Lit || kind === Tok.Param) {
        this.space(A_WORD);
        this.buf[this.length++] = 0x3f;
        this.last = A_WORD;
        this.callable = false;
        this.prevKw = 0;
        continue;
      }
      if (kind === Tok.Comma) {
        this.buf[this.length++] = 0x2c;
        this.last = A_COMMA;
        this.prevKw = 0;
        continue;
      }
      switch (kind) {
        case Tok.QIdent:
          if (this.savepointNames && (this.prevKw === K_SAVEPOINT || this.prevKw === K_TO)) {
            this.qmark();
            continue;
          }
          break;
        case Tok.LParen:
          if (depth < MAX_DEPTH) depth++;
          orderBy[depth] = 0;
          break;
        case Tok.RParen:
          orderBy[depth] = 0;
          if (depth > 0) depth--;
          if (k === valuesEnd) {
            // Multi-row VALUES: keep the first row only.
            this.token(k);
            valuesEnd = -1;
            while (k + 2 < to && this.kind(k + 1) === Tok.Comma) {
              let p = k + 2;
              if (this.wordId(p) === K_ROW) p++;
              if (p >= to || this.kind(p) !== Tok.LParen) break;
              const e = this.matching(p, to);
              if (e < 0) {
                k = to - 1; // a row cut short: it was a row all the same
                break;
              }
              k = e;
            }
            continue;
          }
          break;
        default:
          break;
      }
      this.token(k);
    }
  }

  /**
   * The `(` at `k` opens a list of values only (`(?, ?)`, `(?+)`): returns the index after its `)`;
   * a list of such lists (`((?, ?), (?, ?))`): minus that index; anything else: 0.
   */
  private valueList(k: number, to: number): number {
    if (k + 1 < to && this.kind(k + 1) === Tok.LParen) {
      let p = k + 1;
      for (;;) {
        if (p >= to || this.kind(p) !== Tok.LParen) return 0;
        const e = this.flatList(p + 1, to);
        if (e < 0) return 0;
        p = e + 1;
        if (p < to && this.kind(p) === Tok.Comma) {
          p++;
          continue;
        }
        if (p < to && this.kind(p) === Tok.RParen) return -(p + 1);
        return 0;
      }
    }
    const e = this.flatList(k + 1, to);
    return e < 0 ? 0 : e + 1;
  }

  /** Values separated by commas from `k`, then `)`: the index of that `)`, or -1. */
  private flatList(k: number, to: number): number {
    let p = k;
    for (;;) {
      if (!this.isValue(p) || p >= to) return -1;
      p++;
      if (p + 1 < to && this.isOp(p, '+') && this.kind(p + 1) === Tok.RParen) return p + 1; // (?+)
      if (p < to && this.kind(p) === Tok.Comma) {
        p++;
        continue;
      }
      if (p < to && this.kind(p) === Tok.RParen) return p;
      return -1;
    }
  }

  /** `SET …`: scopes made canonical, each assigned value that is a single token printed as `?`. */
  private setStatement(k: number, to: number): void {
    this.token(k++);
    while (k < to) {
      let e = k;
      let depth = 0;
      for (; e < to; e++) {
        const kind = this.kind(e);
        if (kind === Tok.LParen) depth++;
        else if (kind === Tok.RParen) depth--;
        else if (kind === Tok.Comma && depth <= 0) break;
      }
      this.setItem(k, e);
      if (e >= to) break;
      this.token(e); // ,
      k = e + 1;
    }
  }

  private setItem(k: number, e: number): void {
    let id = this.wordId(k);
    if (id === K_SESSION || id === K_LOCAL) {
      if (this.wordId(k + 1) === K_TRANSACTION) {
        this.range(k, e, false); // SET SESSION TRANSACTION differs from SET TRANSACTION
        return;
      }
      k++;
    } else if (id === K_GLOBAL || id === K_PERSIST || id === K_PERSIST_ONLY) {
      this.token(k++);
    } else if (this.isOp(k, '@@')) {
      const scope = this.wordId(k + 1);
      if (k + 2 < e && this.kind(k + 2) === Tok.Dot && (scope === K_SESSION || scope === K_LOCAL || scope === K_GLOBAL || scope === K_PERSIST || scope === K_PERSIST_ONLY)) {
        if (scope === K_GLOBAL || scope === K_PERSIST || scope === K_PERSIST_ONLY) this.token(k + 1);
        k += 3;
      } else {
        k++;
      }
    }
    id = this.wordId(k);
    if (id === K_NAMES) {
      this.token(k++);
      if (k < e) {
        this.qmark();
        k++;
      }
      if (k < e && this.wordId(k) === K_COLLATE) {
        this.token(k++);
        if (k < e) {
          this.qmark();
          k++;
        }
      }
      this.range(k, e, false);
      return;
    }
    if (id === K_CHARSET || (id === K_CHARACTER && this.wordId(k + 1) === K_SET)) {
      k += id === K_CHARSET ? 1 : 2;
      this.bytes(B_CHARACTER_SET, A_WORD, A_WORD);
      this.callable = false;
      if (k < e) {
        this.qmark();
        k++;
      }
      this.range(k, e, false);
      return;
    }
    let eq = -1;
    let depth = 0;
    for (let p = k; p < e; p++) {
      const kind = this.kind(p);
      if (kind === Tok.LParen) depth++;
      else if (kind === Tok.RParen) depth--;
      else if (depth === 0 && (this.isOp(p, '=') || this.isOp(p, ':='))) {
        eq = p;
        break;
      }
    }
    if (eq < 0) {
      this.range(k, e, false);
      return;
    }
    this.range(k, eq, false);
    this.char(0x3d, A_OP);
    this.kwSeen(0);
    if (eq + 2 === e) {
      const kind = this.kind(eq + 1);
      if (kind === Tok.Word || kind === Tok.QIdent || kind === Tok.Lit || kind === Tok.Param || kind === Tok.MaskEnd) {
        this.qmark(); // SET x = ON, SET x = 'v', SET x = DEFAULT: one group per variable
        return;
      }
    }
    this.range(eq + 1, e, false);
  }
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

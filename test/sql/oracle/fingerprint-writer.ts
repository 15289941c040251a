/**
 * The oracle of the fingerprint (tests only; nothing under src/ or analyze/ may load it, a test
 * checks): the fingerprint of a statement already lexed, written by the rules of
 * src/sql/fingerprint-rules.ts with the whole token list in view, so each rule reads as
 * docs/fingerprints.md states it (look ahead for `IN (…)`, `LIMIT ? OFFSET ?`, the rows of a
 * `VALUES`, `USE db`, the items of a `SET`). Production writes the fingerprint token by token
 * (src/sql/fingerprint-stream.ts); the differential tests (test/sql/stream.test.ts,
 * test/sql/oracle.test.ts) compare the two on every input they generate. It was the production
 * writer of the statements the stream could not follow until issue 14 taught the stream those.
 */
import {
  A_COMMA,
  A_DOT,
  A_LPAREN,
  A_NONE,
  A_OP,
  A_OTHER,
  A_PREFIX,
  A_RPAREN,
  A_SEMI,
  A_WORD,
  B_CHARACTER_SET,
  B_IN_LIST,
  B_IN_TUPLES,
  CALLABLE,
  K_ALL,
  K_ALTER,
  K_CHARACTER,
  K_CHARSET,
  K_COLLATE,
  K_CREATE,
  K_DISTINCT,
  K_GLOBAL,
  K_GROUP,
  K_LOCAL,
  K_NAMES,
  K_NULL,
  K_OFFSET,
  K_ORDER,
  K_PERSIST,
  K_PERSIST_ONLY,
  K_RELEASE,
  K_ROLLBACK,
  K_ROW,
  K_SAVEPOINT,
  K_SESSION,
  K_SET,
  K_TO,
  K_TRANSACTION,
  K_USE,
  MAX_DEPTH,
  RULE,
  Rule,
  collapseUnions,
  glued,
  nullIsValue,
  space,
} from '../../../src/sql/fingerprint-rules.js';
import { LOWER } from '../../../src/sql/keywords.js';
import { OP_UNARY, QIDENT_PLAIN, Tok, type TokenList } from '../../../src/sql/lexer.js';

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

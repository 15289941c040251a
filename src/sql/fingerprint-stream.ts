/**
 * The fingerprint written while the lexer runs, token by token: the lexer hands each token over as
 * soon as it has appended it, so a statement's bytes are read once, not once by the lexer and again
 * by a writer over the token list. It gives exactly what `FingerprintWriter` (./fingerprint.ts,
 * the reference, which sees the whole token list) gives, by the same rules, rewritten for a writer
 * that cannot look ahead:
 *
 *   - a `-`/`+` that may be the sign of a number waits for the next token: if that is a number, the
 *     lexer merges them into one literal (see `pushNumber`), and the sign never existed;
 *   - `IN (…)` and `LIMIT ? OFFSET ?` are written as they come, with the state before their first
 *     word kept; when the last token of the pattern arrives, the output goes back to that state and
 *     the short form is written (`in(?+)`, `limit ?, ?`);
 *   - the rows after the first of `VALUES (…), (…)` are dropped as they come; a `,` (and `ROW`)
 *     after a row waits until the next token shows whether another row follows;
 *   - `UNION` branches are recorded as in the reference and collapsed at the end of the statement.
 *
 * Statements that need more (a statement after a `;`, `SET`, `USE`, executable comments and
 * optimizer hints, absurd nesting) make it `slow`: the caller then runs `FingerprintWriter` on the
 * token list the lexer filled all the same. The test suite checks that both writers agree.
 *
 * Fast paths: while no rule is in progress (`flags === 0`), a token whose processing cannot start
 * one is written directly; everything else goes through `general`, the complete processing.
 */
import { LOWER } from './keywords.js';
import {
  A_COMMA,
  A_DOT,
  A_LPAREN,
  A_NONE,
  A_OP,
  A_PREFIX,
  A_RPAREN,
  A_WORD,
  B_IN_LIST,
  B_IN_TUPLES,
  CALLABLE,
  collapseUnions,
  glued,
  K_ALL,
  K_ALTER,
  K_CREATE,
  K_DISTINCT,
  K_GROUP,
  K_IN,
  K_LIMIT,
  K_NULL,
  K_OFFSET,
  K_ORDER,
  K_RELEASE,
  K_ROLLBACK,
  K_ROW,
  K_SAVEPOINT,
  K_SET,
  K_TO,
  K_USE,
  MAX_DEPTH,
  nullIsValue,
  Rule,
  RULE,
  space,
} from './fingerprint-rules.js';
import { OP_UNARY, QIDENT_PLAIN, Tok, type TokenList, type TokenSink } from './lexer.js';

// `flags`: what is in progress. Zero: nothing, the fast paths apply.
/** The next token is the first of the statement. */
const F_FIRST = 1;
/** Signs wait for the next token. */
const F_PENDING = 2;
/** Rows after the first of a VALUES are being dropped. */
const F_SKIP = 4;
/** The token after UNION decides where its connector ends. */
const F_UNION_NEXT = 8;
/** An `IN (` list that may turn out to hold only values. */
const F_IN = 16;
/** `LIMIT`, perhaps `LIMIT ? OFFSET ?`. */
const F_LIMIT = 32;
/** A VALUES word waits for its `(`. (Whether its first row is open, `valDepth`, matters only to `)`.) */
const F_VALUES = 64;
/** A SAVEPOINT, RELEASE or ROLLBACK statement: names after SAVEPOINT and TO are `?`. */
const F_SAVEPOINT = 128;
/** A `;` was seen: another statement follows, or nothing. */
const F_ENDED = 256;
/** The token-list writer must do it. */
const F_SLOW = 512;

// In-list states (`inState`): a flat list of values, or a list of tuples of values.
const IN_AFTER_WORD = 1; // IN; the next token must be `(`
const IN_OPEN = 2; // (
const IN_VALUE = 3; // ( ?
const IN_COMMA = 4; // ( ?,
const IN_PLUS = 5; // ( ? +
const IN_T_OPEN = 10; // ( (
const IN_T_VALUE = 11; // ( ( ?
const IN_T_COMMA = 12; // ( ( ?,
const IN_T_CLOSED = 13; // ( ( ? )
const IN_T_PLUS = 14; // ( ( ? +
const IN_T_NEXT = 15; // ( ( ? ),
/** `inStep` results. */
const IN_DONE_FLAT = 1;
const IN_DONE_TUPLES = 2;

// Row-skipping states (`skip`).
const SK_COMMA = 1; // after a row: `,` or the end of the rows
const SK_ROW_OR_PAREN = 2; // `,` seen: ROW or `(`
const SK_PAREN = 3; // `, ROW` seen: `(`
const SK_ROW = 4; // inside a dropped row

/** Output position and spacing state, kept to go back to. */
interface Mark {
  length: number;
  last: number;
  callable: boolean;
  prevKw: number;
}

function mark(): Mark {
  return { length: 0, last: 0, callable: false, prevKw: 0 };
}

export class StreamFingerprint implements TokenSink {
  /** The fingerprint's bytes are `buf[0, length)` after `finish`, unless `slow`. */
  buf = new Uint8Array(1024);
  length = 0;
  /** A DataView over `buf` (made again by `begin` when `buf` is a new array). */
  view = new DataView(this.buf.buffer);

  // The writing state, open to the lexer's hot loop (./scan.ts), which writes the common tokens
  // itself while `flags` is 0, exactly as `general` would.
  /** What is in progress (F_*); 0: nothing. */
  flags = 0;
  /** Class of the last atom written (A_*). */
  last = A_NONE;
  /** The last word written takes its `(` without a space. */
  callable = false;
  /** Keyword id of the last token written if it was a word, else 0. */
  prevKw = 0;
  /** Parenthesis depth of the statement. */
  depth = 0;
  /** Per depth: inside ORDER BY or GROUP BY (an ASC there is dropped). */
  readonly orderBy = new Uint8Array(MAX_DEPTH + 1);
  /** Depth inside the first row of a VALUES, or -1: its `)` is not a plain one. */
  valDepth = -1;
  /** In CREATE and ALTER, NULL is a column attribute, not a value. */
  keepNull = false;

  private b: Uint8Array = new Uint8Array(0);
  private t!: TokenList;
  private stmtStart = 0;
  /** Signs waiting: tokens `[pendingFrom, pendingFrom + pending)`. */
  private pendingFrom = 0;
  private pending = 0;
  private inState = 0;
  private inK = 0;
  private readonly inMark = mark();
  private limState = 0;
  private limK = 0;
  private readonly limMark = mark();
  /** 1: VALUES seen, 2: VALUES ROW seen; its `(` opens the first row. */
  private valArm = 0;
  private skip = 0;
  private skipDepth = 0;
  private heldComma = 0;
  private heldRow = 0;
  private unions: number[] = [];
  private unionCount = 0;
  private branchEnd = 0;

  get slow(): boolean {
    return (this.flags & F_SLOW) !== 0;
  }

  /** Start on the tokens the lexer will append to `t` from the bytes `b[from, to)`. */
  begin(b: Uint8Array, t: TokenList, from: number, to: number): void {
    this.b = b;
    this.t = t;
    // Every token writes at most twice its length (itself and a space), special forms included.
    const need = 2 * (to - from) + 64;
    if (this.buf.length < need) this.buf = new Uint8Array(Math.max(need, this.buf.length * 2));
    if (this.view.buffer !== this.buf.buffer) this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.length = 0;
    this.last = A_NONE;
    this.callable = false;
    this.prevKw = 0;
    this.pending = 0;
    this.flags = F_FIRST;
  }

  /** After the last token. */
  finish(): void {
    if ((this.flags & F_SLOW) !== 0) return;
    this.flushSigns();
    if ((this.flags & F_ENDED) === 0) this.endStatement();
  }

  /** What the stream cannot write (executable comments, optimizer hints): the token-list writer will. */
  off(): void {
    this.flags |= F_SLOW;
  }

  // ---------------------------------------------------------------------------------------------
  // The lexer's calls, one per token appended (`k`: its index). Fast paths first.

  /** A Word token (keyword id `id`, 0 for none). */
  word(k: number, id: number): void {
    if ((this.flags | RULE[id]!) !== 0) {
      this.general(k);
      return;
    }
    this.writeWord(k, id);
  }

  /** A Lit, Param or MaskEnd token that is not a number. */
  value(k: number): void {
    if (this.flags !== 0) {
      this.general(k);
      return;
    }
    this.qmark();
  }

  /** A number from `pushNumber`: any signs waiting are inside it now. */
  number(k: number): void {
    if (this.pending !== 0) {
      this.pending = 0;
      this.flags &= ~F_PENDING;
    }
    this.value(k);
  }

  /** A `-` or `+` that is a prefix operator: perhaps the sign of a number to come. */
  sign(k: number): void {
    if ((this.flags & F_SLOW) !== 0) return;
    if (this.pending === 0) this.pendingFrom = k;
    this.pending++;
    this.flags |= F_PENDING;
  }

  /** Any other Op token. */
  op(k: number): void {
    if (this.flags !== 0) {
      this.general(k);
      return;
    }
    this.writeOp(k);
  }

  comma(k: number): void {
    if (this.flags !== 0) {
      this.general(k);
      return;
    }
    this.buf[this.length++] = 0x2c;
    this.last = A_COMMA;
    this.prevKw = 0;
  }

  dot(k: number): void {
    if (this.flags !== 0) {
      this.general(k);
      return;
    }
    this.char(0x2e, A_DOT);
    this.prevKw = 0;
  }

  lparen(k: number): void {
    if (this.flags !== 0 || this.depth >= MAX_DEPTH - 2) {
      this.general(k);
      return;
    }
    this.orderBy[++this.depth] = 0;
    this.char(0x28, A_LPAREN);
    this.prevKw = 0;
  }

  rparen(k: number): void {
    if (this.flags !== 0 || this.depth === this.valDepth) {
      this.general(k);
      return;
    }
    this.orderBy[this.depth] = 0;
    if (this.depth > 0) this.depth--;
    this.char(0x29, A_RPAREN);
    this.prevKw = 0;
  }

  qident(k: number): void {
    if (this.flags !== 0) {
      this.general(k);
      return;
    }
    this.quotedName(k);
    this.prevKw = 0;
  }

  /** Any token (the rare ones). */
  any(k: number): void {
    this.general(k);
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  private char(c: number, cls: number): void {
    const o = space(this.buf, this.length, this.last, this.callable, cls);
    this.buf[o] = c;
    this.length = o + 1;
    this.last = cls;
  }

  private qmark(): void {
    this.char(0x3f, A_WORD);
    this.callable = false;
    this.prevKw = 0;
  }

  /** Write `b[s, e)` lower-cased as a word. */
  private lower(s: number, e: number): void {
    const b = this.b;
    const buf = this.buf;
    let o = space(buf, this.length, this.last, this.callable, A_WORD);
    for (let i = s; i < e; i++) buf[o++] = LOWER[b[i]!]!;
    this.length = o;
    this.last = A_WORD;
  }

  /** Word token `k` as it is, lower-cased. */
  private writeWord(k: number, id: number): void {
    this.lower(this.t.start[k]!, this.t.end[k]!);
    this.callable = CALLABLE[id] === 1;
    this.prevKw = id;
  }

  /** `name` → name when it needs no quotes (the lexer says so); otherwise the quoted form, lower-cased. */
  private quotedName(k: number): void {
    const t = this.t;
    if (t.aux[k] === QIDENT_PLAIN) this.lower(t.start[k]! + 1, t.end[k]! - 1);
    else this.lower(t.start[k]!, t.end[k]!);
    this.callable = true;
  }

  private writeOp(k: number): void {
    const t = this.t;
    const s = t.start[k]!;
    const e = t.end[k]!;
    const c = this.b[s];
    if (c === 0x40 && e - s === 1 && k > 0 && this.last === A_WORD && (this.buf[this.length - 1] === 0x3f || glued(t, k - 1))) {
      this.last = A_LPAREN; // 'user'@'host': no space before the @
    }
    const prefix = (t.aux[k]! & OP_UNARY) !== 0 || c === 0x40; // -x, ~x, @v, @@v, :name
    const buf = this.buf;
    const b = this.b;
    let o = space(buf, this.length, this.last, this.callable, prefix ? A_PREFIX : A_OP);
    for (let i = s; i < e; i++) buf[o++] = b[i]!;
    this.length = o;
    this.last = prefix ? A_PREFIX : A_OP;
    this.prevKw = 0;
  }

  private save(m: Mark): void {
    m.length = this.length;
    m.last = this.last;
    m.callable = this.callable;
    m.prevKw = this.prevKw;
  }

  private restore(m: Mark): void {
    this.length = m.length;
    this.last = m.last;
    this.callable = m.callable;
    this.prevKw = m.prevKw;
  }

  // ---------------------------------------------------------------------------------------------
  // The complete processing

  /**
   * Token `k`, after the signs waiting before it; then `flags` says what is in progress. (Through
   * `process`, which is too large for V8 to inline into the lexer's loop: that loop's inlining
   * budget goes to its fast paths.)
   */
  private general(k: number): void {
    this.process(k, true);
  }

  /** The signs waiting are operators after all: process them. */
  private flushSigns(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    this.flags &= ~F_PENDING;
    const from = this.pendingFrom;
    for (let q = from; q < from + n; q++) this.process(q, false);
  }

  private isValue(k: number): boolean {
    const kind = this.t.kind[k];
    return kind === Tok.Lit || kind === Tok.Param || kind === Tok.MaskEnd || (kind === Tok.Word && this.t.aux[k] === K_NULL);
  }

  private isPlus(k: number): boolean {
    const t = this.t;
    return t.kind[k] === Tok.Op && t.end[k]! - t.start[k]! === 1 && this.b[t.start[k]!] === 0x2b;
  }

  private wordIs(k: number, id: number): boolean {
    return this.t.kind[k] === Tok.Word && this.t.aux[k] === id;
  }

  /**
   * Token `k` of the token list, in order, once it is final. `top`: a token from the lexer (the
   * signs waiting before it are processed first, and `flags` is brought up to date after), not a
   * sign flushed.
   */
  private process(k: number, top: boolean): void {
    if ((this.flags & F_SLOW) !== 0) return;
    if (top && this.pending !== 0) this.flushSigns();
    const kind = this.t.kind[k] as Tok;
    token: {
      if (kind === Tok.Semi) {
        if ((this.flags & F_ENDED) === 0) this.endStatement();
        this.flags |= F_ENDED;
        break token;
      }
      if ((this.flags & F_ENDED) !== 0 || kind === Tok.ExecOpen || kind === Tok.ExecClose) {
        this.off(); // another statement, or an executable comment
        return;
      }
      if ((this.flags & F_FIRST) !== 0) {
        this.startStatement(k);
        if ((this.flags & F_SLOW) !== 0) return;
      }
      if (this.skip !== 0 && this.skipStep(k)) break token;
      if ((this.flags & F_UNION_NEXT) !== 0 && this.unionStep(k)) break token;
      // The patterns see the token before it is written; a rewrite comes after.
      const inDone = this.inState !== 0 ? this.inStep(k) : 0;
      const limDone = this.limState !== 0 ? this.limitStep(k) : false;
      const opensRow = this.valArm !== 0 ? this.valuesStep(k) : false;
      this.normal(k);
      if (opensRow) this.valDepth = this.depth;
      if (inDone !== 0) {
        this.restore(this.inMark);
        this.writeWord(this.inK, K_IN);
        const list = inDone === IN_DONE_FLAT ? B_IN_LIST : B_IN_TUPLES;
        let o = space(this.buf, this.length, this.last, this.callable, A_LPAREN);
        this.buf.set(list, o);
        o += list.length;
        this.length = o;
        this.last = A_RPAREN;
        this.prevKw = 0;
      }
      if (limDone) {
        this.restore(this.limMark);
        this.writeWord(this.limK, K_LIMIT);
        this.qmark();
        this.char(0x2c, A_COMMA);
        this.qmark();
      }
    }
    if (top) {
      let f = this.flags & (F_FIRST | F_SAVEPOINT | F_ENDED | F_SLOW | F_UNION_NEXT);
      if (this.pending !== 0) f |= F_PENDING;
      if (this.skip !== 0) f |= F_SKIP;
      if (this.inState !== 0) f |= F_IN;
      if (this.limState !== 0) f |= F_LIMIT;
      if (this.valArm !== 0) f |= F_VALUES;
      this.flags = f;
    }
  }

  private startStatement(k: number): void {
    this.flags &= ~F_FIRST;
    const id = this.t.kind[k] === Tok.Word ? this.t.aux[k]! : -1;
    if (id === K_USE || id === K_SET) {
      this.off();
      return;
    }
    if (id === K_SAVEPOINT || id === K_RELEASE || id === K_ROLLBACK) this.flags |= F_SAVEPOINT;
    this.keepNull = id === K_CREATE || id === K_ALTER;
    this.stmtStart = this.length;
    this.depth = 0;
    this.orderBy[0] = 0;
    this.inState = 0;
    this.limState = 0;
    this.valArm = 0;
    this.valDepth = -1;
    this.skip = 0;
    this.unionCount = 0;
  }

  private endStatement(): void {
    if ((this.flags & F_FIRST) !== 0) return; // empty
    if (this.skip === SK_ROW_OR_PAREN || this.skip === SK_PAREN) this.releaseHeld();
    this.skip = 0;
    if ((this.flags & F_UNION_NEXT) !== 0) this.unionStep(-1);
    if (this.unionCount > 0) this.length = collapseUnions(this.buf, this.stmtStart, this.length, this.unions, this.unionCount);
    this.inState = 0;
    this.limState = 0;
  }

  /** The token's own rules (`FingerprintWriter.range` for one token). */
  private normal(k: number): void {
    const t = this.t;
    switch (t.kind[k] as Tok) {
      case Tok.Word:
        this.wordRules(k, t.aux[k]!);
        return;
      case Tok.Lit:
      case Tok.Param:
      case Tok.MaskEnd:
        this.qmark();
        return;
      case Tok.Comma:
        this.buf[this.length++] = 0x2c;
        this.last = A_COMMA;
        this.prevKw = 0;
        return;
      case Tok.QIdent:
        if ((this.flags & F_SAVEPOINT) !== 0 && (this.prevKw === K_SAVEPOINT || this.prevKw === K_TO)) {
          this.qmark();
          return;
        }
        this.quotedName(k);
        this.prevKw = 0;
        return;
      case Tok.LParen:
        if (this.depth >= MAX_DEPTH - 2) {
          this.off(); // where the reference's depth stops counting
          return;
        }
        this.orderBy[++this.depth] = 0;
        this.char(0x28, A_LPAREN);
        this.prevKw = 0;
        return;
      case Tok.RParen: {
        const closing = this.depth;
        this.orderBy[closing] = 0;
        if (closing > 0) this.depth--;
        this.char(0x29, A_RPAREN);
        this.prevKw = 0;
        if (closing === this.valDepth) {
          // The end of the first row of a VALUES: drop the rows that follow.
          this.valDepth = -1;
          this.skip = SK_COMMA;
        }
        return;
      }
      case Tok.Dot:
        this.char(0x2e, A_DOT);
        this.prevKw = 0;
        return;
      case Tok.Op:
        this.writeOp(k);
        return;
      default:
        this.off();
    }
  }

  private wordRules(k: number, id: number): void {
    switch (RULE[id] as Rule) {
      case Rule.None:
        break;
      case Rule.Null:
        if (nullIsValue(this.keepNull, this.prevKw)) {
          this.qmark();
          return;
        }
        break;
      case Rule.In:
        this.inState = IN_AFTER_WORD;
        this.inK = k;
        this.save(this.inMark);
        break;
      case Rule.Values:
        if (this.valDepth >= 0) {
          // The reference takes this VALUES only if the first one's row never closes: unknown yet.
          this.off();
          return;
        }
        this.valArm = 1;
        break;
      case Rule.By:
        if (this.prevKw === K_ORDER || this.prevKw === K_GROUP) this.orderBy[this.depth] = 1;
        break;
      case Rule.Asc:
        if (this.orderBy[this.depth] === 1) return;
        break;
      case Rule.Limit:
        this.orderBy[this.depth] = 0;
        this.limState = 1;
        this.limK = k;
        this.save(this.limMark);
        break;
      case Rule.Union:
        this.orderBy[this.depth] = 0;
        if (this.depth === 0) {
          this.branchEnd = this.length;
          this.writeWord(k, id);
          this.flags |= F_UNION_NEXT;
          return;
        }
        break;
      case Rule.EndsOrderBy:
        this.orderBy[this.depth] = 0;
        break;
    }
    if ((this.flags & F_SAVEPOINT) !== 0 && (this.prevKw === K_SAVEPOINT || this.prevKw === K_TO) && id !== K_SAVEPOINT) {
      this.qmark();
      return;
    }
    this.writeWord(k, id);
  }

  /** The token after UNION (`k`, or -1 at the end of the statement): ALL or DISTINCT belong to it. Returns whether `k` was written. */
  private unionStep(k: number): boolean {
    this.flags &= ~F_UNION_NEXT;
    let written = false;
    if (k >= 0 && (this.wordIs(k, K_ALL) || this.wordIs(k, K_DISTINCT))) {
      this.writeWord(k, this.t.aux[k]!);
      written = true;
    }
    this.unions[this.unionCount++] = this.branchEnd;
    this.unions[this.unionCount++] = this.length;
    return written;
  }

  /** Rows after the first of a VALUES. Returns whether `k` was taken (dropped or held). */
  private skipStep(k: number): boolean {
    const kind = this.t.kind[k];
    switch (this.skip) {
      case SK_COMMA:
        if (kind === Tok.Comma) {
          this.heldComma = k;
          this.skip = SK_ROW_OR_PAREN;
          return true;
        }
        this.skip = 0;
        return false;
      case SK_ROW_OR_PAREN:
      case SK_PAREN:
        if (this.skip === SK_ROW_OR_PAREN && this.wordIs(k, K_ROW)) {
          this.heldRow = k;
          this.skip = SK_PAREN;
          return true;
        }
        if (kind === Tok.LParen) {
          this.skip = SK_ROW;
          this.skipDepth = 1;
          return true;
        }
        this.releaseHeld();
        return false;
      default:
        if (kind === Tok.LParen) this.skipDepth++;
        else if (kind === Tok.RParen && --this.skipDepth === 0) this.skip = SK_COMMA;
        return true;
    }
  }

  /** The `,` (and ROW) held after a row did not start another row: write them. */
  private releaseHeld(): void {
    const held = this.skip;
    this.skip = 0;
    this.normal(this.heldComma);
    if (held === SK_PAREN) this.normal(this.heldRow);
  }

  /** The `IN (` list pattern; returns IN_DONE_* when `k` closes a list of values. */
  private inStep(k: number): number {
    const kind = this.t.kind[k];
    const value = this.isValue(k);
    let next = 0;
    let done = 0;
    switch (this.inState) {
      case IN_AFTER_WORD:
        if (kind === Tok.LParen) next = IN_OPEN;
        break;
      case IN_OPEN:
        if (value) next = IN_VALUE;
        else if (kind === Tok.LParen) next = IN_T_OPEN;
        break;
      case IN_VALUE:
        if (kind === Tok.Comma) next = IN_COMMA;
        else if (kind === Tok.RParen) done = IN_DONE_FLAT;
        else if (this.isPlus(k)) next = IN_PLUS;
        break;
      case IN_COMMA:
        if (value) next = IN_VALUE;
        break;
      case IN_PLUS:
        if (kind === Tok.RParen) done = IN_DONE_FLAT;
        break;
      case IN_T_OPEN:
      case IN_T_COMMA:
        if (value) next = IN_T_VALUE;
        break;
      case IN_T_VALUE:
        if (kind === Tok.Comma) next = IN_T_COMMA;
        else if (kind === Tok.RParen) next = IN_T_CLOSED;
        else if (this.isPlus(k)) next = IN_T_PLUS;
        break;
      case IN_T_PLUS:
        if (kind === Tok.RParen) next = IN_T_CLOSED;
        break;
      case IN_T_CLOSED:
        if (kind === Tok.Comma) next = IN_T_NEXT;
        else if (kind === Tok.RParen) done = IN_DONE_TUPLES;
        break;
      case IN_T_NEXT:
        if (kind === Tok.LParen) next = IN_T_OPEN;
        break;
    }
    this.inState = next;
    return done;
  }

  /** `LIMIT ? OFFSET ?`: returns true when `k` completes it. */
  private limitStep(k: number): boolean {
    const state = this.limState;
    this.limState = 0;
    if (state === 1) {
      if (this.isValue(k)) this.limState = 2;
    } else if (state === 2) {
      if (this.wordIs(k, K_OFFSET)) this.limState = 3;
    } else {
      return this.isValue(k);
    }
    return false;
  }

  /** After VALUES [ROW]: returns true when `k` is the `(` that opens the first row. */
  private valuesStep(k: number): boolean {
    if (this.valArm === 1 && this.wordIs(k, K_ROW)) {
      this.valArm = 2;
      return false;
    }
    this.valArm = 0;
    return this.t.kind[k] === Tok.LParen;
  }
}

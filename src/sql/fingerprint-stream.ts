/**
 * The fingerprint, written while the lexer runs, token by token: the lexer hands each token over as
 * soon as it has appended it, so a statement's bytes are read once. This is the one writer of the
 * fingerprint rules (./fingerprint-rules.ts, docs/fingerprints.md). The rules are written as if
 * the whole statement were in view (test/sql/oracle/fingerprint-writer.ts, the tests' oracle, is
 * that plain reading); a writer that cannot look ahead gets the same result this way:
 *
 *   - a `-`/`+` that may be the sign of a number waits for the next token: if that is a number, the
 *     lexer merges them into one literal (see `pushNumber`), and the sign never existed;
 *   - `IN (…)` and `LIMIT ? OFFSET ?` are written as they come, with the state before their first
 *     word kept; when the last token of the pattern arrives, the output goes back to that state and
 *     the short form is written (`in(?+)`, `limit ?, ?`);
 *   - the rows after the first of `VALUES (…), (…)` are dropped as they come; a `,` (and `ROW`)
 *     after a row waits until the next token shows whether another row follows;
 *   - `UNION` branches are recorded and collapsed at the end of the statement;
 *   - what depends on the token after (`USE db` as the whole statement, the one-token value of a
 *     `SET x = v`, the scope words of a `SET`, the `*\/` that closes a statement begun by `/*!`)
 *     holds that one token back until the next arrives;
 *   - a `VALUES` inside the first row of another `VALUES` (whose row is taken only if it closes)
 *     holds the tokens back until that row closes or the rules' range ends, then replays them
 *     (`defer`); the one case that needs more than one token of patience, and a rare one.
 *
 * Statements: each one after a `;` starts afresh (a trailing `;` is dropped); executable comments
 * and optimizer hints are written as they are, their contents by the same rules; a `SET` is read
 * item by item (`setToken`); a statement that starts with `/*!` ends before its closing `*\/`.
 *
 * Fast paths: while nothing is in progress (`flags === 0`), a token whose processing cannot start
 * anything is written directly (here and in ./scan.ts); everything else goes through `process`.
 */
import { LOWER } from './keywords.js';
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
  collapseUnions,
  glued,
  K_ALL,
  K_ALTER,
  K_CHARACTER,
  K_CHARSET,
  K_COLLATE,
  K_CREATE,
  K_DISTINCT,
  K_GLOBAL,
  K_GROUP,
  K_IN,
  K_LIMIT,
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
  nullIsValue,
  Rule,
  RULE,
  space,
} from './fingerprint-rules.js';
import { OP_UNARY, QIDENT_PLAIN, Tok, type TokenList, type TokenSink } from './lexer.js';

// `flags`: what is in progress. Zero: nothing, the fast paths apply.
/** The statement's first token (after any leading `/*!`) is still to come. */
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
/** A VALUES word waits for its `(`. (Whether its first row is open matters only to `)`.) */
const F_VALUES = 64;
/** A SAVEPOINT, RELEASE or ROLLBACK statement: names after SAVEPOINT and TO are `?`. */
const F_SAVEPOINT = 128;
/** A `;` was seen: another statement follows, or nothing. */
const F_ENDED = 256;
/** A statement read by its own rules (SET, USE) or a token held back (`closeHeld`). */
const F_HOLD = 512;
/** Tokens held back until a VALUES row closes (`defer`). */
const F_DEFER = 1024;

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

// Where a SET item is (`item`); an item ends at a `,` outside parentheses or with the statement.
const IT_START = 1; // its first token comes next
const IT_SESSION = 2; // SESSION or LOCAL held: TRANSACTION next keeps it, anything else drops it
const IT_AT = 3; // @@ held: a scope and a dot may follow
const IT_AT_SCOPE = 4; // @@ and a scope word held: a dot next drops them (GLOBAL and PERSIST stay)
const IT_AFTER_SCOPE = 5; // the scope is done: the variable's first token comes next
const IT_CHARACTER = 6; // CHARACTER held: SET next makes CHARACTER SET
const IT_NAMES = 7; // after NAMES: the next token is `?`
const IT_NAMES_VALUE = 8; // after SET NAMES ?: COLLATE, or the rest
const IT_VALUE = 9; // after CHARSET or COLLATE: the next token is `?`, then the rest
const IT_BEFORE_EQ = 10; // the variable: the rules, until its `=` or `:=`
const IT_AFTER_EQ = 11; // after `=`: a value of one token is `?`
const IT_EQ_HELD = 12; // that one token held: the end of the item makes it `?`
const IT_RANGE = 13; // the rest of the item: the rules

/** `valNest` when no first row of a VALUES is open. */
const NO_ROW = 0x7fffffff;

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
  /** The fingerprint's bytes are `buf[0, length)` after `finish`. */
  buf = new Uint8Array(1024);
  length = 0;
  /** A DataView over `buf` (made again by `begin` when `buf` is a new array). */
  view = new DataView(this.buf.buffer);

  // The writing state, open to the lexer's hot loop (./scan.ts), which writes the common tokens
  // itself while `flags` is 0, exactly as `process` would.
  /** What is in progress (F_*); 0: nothing. */
  flags = 0;
  /** Class of the last atom written (A_*). */
  last = A_NONE;
  /** The last word written takes its `(` without a space. */
  callable = false;
  /** Keyword id of the last token written if it was a word, else 0. */
  prevKw = 0;
  /** Parenthesis depth, as the rules count it: never below 0, never above MAX_DEPTH. */
  depth = 0;
  /** Per depth: inside ORDER BY or GROUP BY (an ASC there is dropped). */
  readonly orderBy = new Uint8Array(MAX_DEPTH + 1);
  /** Parentheses opened minus closed since the range began (exact, for matching a row's `)`). */
  nest = 0;
  /** `nest` inside the first row of a VALUES, or NO_ROW: its `)` is not a plain one. */
  valNest = NO_ROW;
  /** In CREATE and ALTER, NULL is a column attribute, not a value. */
  keepNull = false;

  private b: Uint8Array = new Uint8Array(0);
  private t!: TokenList;

  // The statement.
  /** 0: no token yet; 1: only leading `/*!` so far; 2: under way. */
  private stage = 0;
  /** The statement began with `/*!`: a `*\/` just before its end closes it, outside its rules. */
  private lead = false;
  private stmtStart = 0;
  /** A `*\/` held back: the statement's closing one if the statement ends next. */
  private closeHeld = -1;
  /** The closing `*\/`, written after the statement. */
  private closing = -1;
  /** USE: 1 after the word, 2 with its one name held (`use ?` if the statement ends next). */
  private useState = 0;
  private useHeld = 0;
  /** In a SET statement: where its item is, its parenthesis depth, the tokens held. */
  private inSet = false;
  private item = 0;
  private itemDepth = 0;
  private h1 = 0;
  private h2 = 0;

  // The rules' range (a statement, or a part of a SET item) and its patterns.
  /** UNIONs count here (a statement's range, not a SET item's). */
  private top = false;
  /** The open first row of a VALUES is known to close (its VALUES word is taken). */
  private rowCloses = false;
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
  /** Tokens `[deferFrom, deferTo)` held until the open row closes (`deferNest` more `)`), or -1. */
  private deferFrom = -1;
  private deferTo = 0;
  private deferNest = 0;
  /** Replaying tokens from `deadFrom` whose `(` are matched where `matched[k - deadFrom]` is 1; -1: not. */
  private deadFrom = -1;
  private matched = new Uint8Array(64);
  private opens = new Int32Array(64);

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
    this.stage = 0;
    this.closeHeld = -1;
    this.closing = -1;
    this.deferFrom = -1;
    this.deadFrom = -1;
    this.flags = F_FIRST;
  }

  /** After the last token. */
  finish(): void {
    this.flushSigns();
    if (this.closeHeld >= 0) {
      this.closing = this.closeHeld;
      this.closeHeld = -1;
    }
    if ((this.flags & F_ENDED) === 0) this.endStatement();
  }

  /** Buffers a huge statement grew, made small again. */
  shrink(): void {
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(1024);
    if (this.matched.length > 1 << 16) {
      this.matched = new Uint8Array(64);
      this.opens = new Int32Array(64);
    }
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
    if (this.flags !== 0 || this.depth >= MAX_DEPTH) {
      this.general(k);
      return;
    }
    this.orderBy[++this.depth] = 0;
    this.nest++;
    this.char(0x28, A_LPAREN);
    this.prevKw = 0;
  }

  rparen(k: number): void {
    if (this.flags !== 0 || this.nest === this.valNest) {
      this.general(k);
      return;
    }
    this.orderBy[this.depth] = 0;
    if (this.depth > 0) this.depth--;
    this.nest--;
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
    this.verbatim(s, e, prefix ? A_PREFIX : A_OP);
    this.prevKw = 0;
  }

  /** Write `b[s, e)` as it is, as an atom of class `cls`. */
  private verbatim(s: number, e: number, cls: number): void {
    const buf = this.buf;
    const b = this.b;
    let o = space(buf, this.length, this.last, this.callable, cls);
    for (let i = s; i < e; i++) buf[o++] = b[i]!;
    this.length = o;
    this.last = cls;
  }

  /** An executable comment's or a hint's `/*!…`, `/*+` or `*\/`, as written. */
  private execToken(k: number): void {
    this.verbatim(this.t.start[k]!, this.t.end[k]!, A_OTHER);
    this.prevKw = 0;
  }

  /** `character set` (for CHARSET and CHARACTER SET). */
  private characterSet(): void {
    const o = space(this.buf, this.length, this.last, this.callable, A_WORD);
    this.buf.set(B_CHARACTER_SET, o);
    this.length = o + B_CHARACTER_SET.length;
    this.last = A_WORD;
    this.callable = false;
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
  // Token tests

  private isValue(k: number): boolean {
    const kind = this.t.kind[k];
    return kind === Tok.Lit || kind === Tok.Param || kind === Tok.MaskEnd || (kind === Tok.Word && this.t.aux[k] === K_NULL);
  }

  /** Is token `k` the operator `c0` (`c1`: its second byte, or -1)? */
  private isOp(k: number, c0: number, c1: number): boolean {
    const t = this.t;
    if (t.kind[k] !== Tok.Op) return false;
    const s = t.start[k]!;
    return c1 < 0 ? t.end[k]! - s === 1 && this.b[s] === c0 : t.end[k]! - s === 2 && this.b[s] === c0 && this.b[s + 1] === c1;
  }

  private wordIs(k: number, id: number): boolean {
    return this.t.kind[k] === Tok.Word && this.t.aux[k] === id;
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

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

  /**
   * Token `k` of the token list, in order, once it is final. `top`: a token from the lexer (the
   * signs waiting before it are processed first, and `flags` is brought up to date after), not a
   * sign flushed.
   */
  private process(k: number, top: boolean): void {
    if (top && this.pending !== 0) this.flushSigns();
    const kind = this.t.kind[k] as Tok;
    if (this.closeHeld >= 0) {
      // The `*\/` before this token closes the statement if this token ends it.
      const h = this.closeHeld;
      this.closeHeld = -1;
      if (kind === Tok.Semi) this.closing = h;
      else this.statementToken(h);
    }
    if (kind === Tok.Semi) {
      if ((this.flags & F_ENDED) === 0) this.endStatement();
      this.flags |= F_ENDED;
    } else {
      if ((this.flags & F_ENDED) !== 0) {
        this.flags = (this.flags & ~F_ENDED) | F_FIRST;
        if (this.length > 0) this.char(0x3b, A_SEMI);
      }
      if (this.stage === 0) this.startStatement();
      if (kind === Tok.ExecClose && this.lead) this.closeHeld = k;
      else this.statementToken(k);
    }
    if (top) {
      let f = this.flags & (F_FIRST | F_SAVEPOINT | F_ENDED | F_UNION_NEXT);
      if (this.pending !== 0) f |= F_PENDING;
      if (this.skip !== 0) f |= F_SKIP;
      if (this.inState !== 0) f |= F_IN;
      if (this.limState !== 0) f |= F_LIMIT;
      if (this.valArm !== 0) f |= F_VALUES;
      if (this.inSet || this.useState !== 0 || this.closeHeld >= 0) f |= F_HOLD;
      if (this.deferFrom >= 0) f |= F_DEFER;
      this.flags = f;
    }
  }

  private startStatement(): void {
    this.stage = 1;
    this.lead = false;
    this.stmtStart = this.length;
    this.unionCount = 0;
    this.flags &= ~(F_SAVEPOINT | F_UNION_NEXT);
    this.keepNull = false;
    this.inSet = false;
    this.useState = 0;
    this.closing = -1;
    this.startRange(true);
  }

  /** Token `k` of the statement (not a `;`). */
  private statementToken(k: number): void {
    const t = this.t;
    if (this.stage === 1) {
      if (t.kind[k] === Tok.ExecOpen) {
        this.execToken(k); // mysqldump's /*!40101 SET …*/: the statement is inside
        this.lead = true;
        return;
      }
      this.stage = 2;
      this.flags &= ~F_FIRST;
      const id = t.kind[k] === Tok.Word ? t.aux[k]! : -1;
      if (id === K_SET) {
        this.writeWord(k, id);
        this.inSet = true;
        this.item = IT_START;
        this.itemDepth = 0;
        return;
      }
      if (id === K_SAVEPOINT || id === K_RELEASE || id === K_ROLLBACK) this.flags |= F_SAVEPOINT;
      this.keepNull = id === K_CREATE || id === K_ALTER;
      this.rangeToken(k);
      if (id === K_USE) this.useState = 1;
      return;
    }
    if (this.inSet) {
      this.setToken(k);
      return;
    }
    if (this.useState !== 0) {
      // `USE db` alone is `use ?`.
      const held = this.useState === 2;
      this.useState = 0;
      if (held) {
        this.rangeToken(this.useHeld);
      } else if (t.kind[k] === Tok.Word || t.kind[k] === Tok.QIdent) {
        this.useState = 2;
        this.useHeld = k;
        return;
      }
    }
    this.rangeToken(k);
  }

  private endStatement(): void {
    if (this.stage === 0) return; // empty
    if (this.inSet) {
      this.endItem();
      this.inSet = false;
    } else if (this.useState === 2) {
      this.qmark();
    }
    this.useState = 0;
    this.endRange();
    if (this.unionCount > 0) this.length = collapseUnions(this.buf, this.stmtStart, this.length, this.unions, this.unionCount);
    if (this.closing >= 0) {
      this.execToken(this.closing);
      this.closing = -1;
    }
    this.stage = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // SET: `SET [scope] variable = value, …`. The scope (SESSION, LOCAL, @@session., @@) is the
  // default and dropped, GLOBAL and PERSIST stay; `:=` is `=`; a value of one token is `?`; SET
  // NAMES x COLLATE y and SET CHARSET x have their values `?`; SET [SESSION] TRANSACTION as it is.

  private setToken(k: number): void {
    const kind = this.t.kind[k];
    if (kind === Tok.Comma && this.itemDepth <= 0) {
      this.endItem();
      this.char(0x2c, A_COMMA);
      this.prevKw = 0;
      this.item = IT_START;
      this.itemDepth = 0;
      return;
    }
    if (kind === Tok.LParen) this.itemDepth++;
    else if (kind === Tok.RParen) this.itemDepth--;
    this.itemToken(k);
  }

  private itemToken(k: number): void {
    const t = this.t;
    const kind = t.kind[k];
    const id = kind === Tok.Word ? t.aux[k]! : -1;
    switch (this.item) {
      case IT_START:
        if (id === K_SESSION || id === K_LOCAL) {
          this.h1 = k;
          this.item = IT_SESSION;
        } else if (id === K_GLOBAL || id === K_PERSIST || id === K_PERSIST_ONLY) {
          this.writeWord(k, id);
          this.item = IT_AFTER_SCOPE;
        } else if (this.isOp(k, 0x40, 0x40)) {
          this.h1 = k;
          this.item = IT_AT;
        } else {
          this.afterScope(k);
        }
        return;
      case IT_SESSION:
        if (id === K_TRANSACTION) {
          // SET SESSION TRANSACTION differs from SET TRANSACTION.
          this.restOfItem(this.h1);
          this.rangeToken(k);
        } else {
          this.afterScope(k);
        }
        return;
      case IT_AT:
        if (id === K_SESSION || id === K_LOCAL || id === K_GLOBAL || id === K_PERSIST || id === K_PERSIST_ONLY) {
          this.h2 = k;
          this.item = IT_AT_SCOPE;
        } else {
          this.afterScope(k);
        }
        return;
      case IT_AT_SCOPE:
        if (kind === Tok.Dot) {
          const scope = t.aux[this.h2]!;
          if (scope === K_GLOBAL || scope === K_PERSIST || scope === K_PERSIST_ONLY) this.writeWord(this.h2, scope);
          this.item = IT_AFTER_SCOPE;
        } else {
          this.afterScope(this.h2); // @@session without a dot: the variable is named session
          this.itemToken(k);
        }
        return;
      case IT_AFTER_SCOPE:
        this.afterScope(k);
        return;
      case IT_CHARACTER:
        if (id === K_SET) {
          this.characterSet();
          this.item = IT_VALUE;
        } else {
          this.startRange(false);
          this.item = IT_BEFORE_EQ;
          this.itemToken(this.h1);
          this.itemToken(k);
        }
        return;
      case IT_NAMES:
        this.qmark();
        this.item = IT_NAMES_VALUE;
        return;
      case IT_NAMES_VALUE:
        if (id === K_COLLATE) {
          this.writeWord(k, id);
          this.item = IT_VALUE;
        } else {
          this.restOfItem(k);
        }
        return;
      case IT_VALUE:
        this.qmark();
        this.restOfItem(-1);
        return;
      case IT_BEFORE_EQ:
        if (this.itemDepth === 0 && (this.isOp(k, 0x3d, -1) || this.isOp(k, 0x3a, 0x3d))) {
          this.endRange();
          this.char(0x3d, A_OP);
          this.prevKw = 0;
          this.item = IT_AFTER_EQ;
        } else {
          this.rangeToken(k);
        }
        return;
      case IT_AFTER_EQ:
        if (kind === Tok.Word || kind === Tok.QIdent || kind === Tok.Lit || kind === Tok.Param || kind === Tok.MaskEnd) {
          this.h1 = k; // SET x = ON, SET x = 'v', SET x = DEFAULT: one group per variable
          this.item = IT_EQ_HELD;
        } else {
          this.restOfItem(k);
        }
        return;
      case IT_EQ_HELD:
        this.restOfItem(this.h1);
        this.rangeToken(k);
        return;
      default:
        this.rangeToken(k);
    }
  }

  /** The rest of the item by the rules, from token `k` (-1: from the next). */
  private restOfItem(k: number): void {
    this.startRange(false);
    this.item = IT_RANGE;
    if (k >= 0) this.rangeToken(k);
  }

  /** The variable's first token `k`, the scope done: NAMES, CHARSET, CHARACTER SET, or a variable. */
  private afterScope(k: number): void {
    const id = this.t.kind[k] === Tok.Word ? this.t.aux[k]! : -1;
    if (id === K_NAMES) {
      this.writeWord(k, id);
      this.item = IT_NAMES;
    } else if (id === K_CHARSET) {
      this.characterSet();
      this.item = IT_VALUE;
    } else if (id === K_CHARACTER) {
      this.h1 = k;
      this.item = IT_CHARACTER;
    } else {
      this.startRange(false);
      this.item = IT_BEFORE_EQ;
      this.itemToken(k);
    }
  }

  /** The item ends (a `,` outside parentheses, or the statement). */
  private endItem(): void {
    switch (this.item) {
      case IT_AT_SCOPE:
        this.afterScope(this.h2); // `SET @@session`: a variable named session
        break;
      case IT_CHARACTER:
        this.startRange(false);
        this.rangeToken(this.h1);
        break;
      case IT_EQ_HELD:
        this.qmark();
        break;
    }
    this.endRange();
  }

  // ---------------------------------------------------------------------------------------------
  // The rules over a range of tokens: a statement, or the parts of a SET item. Patterns do not
  // reach past a range's end.

  private startRange(top: boolean): void {
    this.top = top;
    this.depth = 0;
    this.orderBy[0] = 0;
    this.nest = 0;
    this.valNest = NO_ROW;
    this.rowCloses = false;
    this.valArm = 0;
    this.skip = 0;
    this.inState = 0;
    this.limState = 0;
    this.deferFrom = -1;
  }

  private endRange(): void {
    if (this.deferFrom >= 0) this.replayDead();
    if (this.skip === SK_ROW_OR_PAREN || this.skip === SK_PAREN) this.releaseHeld();
    this.skip = 0;
    if ((this.flags & F_UNION_NEXT) !== 0) this.unionStep(-1);
    this.inState = 0;
    this.limState = 0;
    this.valArm = 0;
    this.valNest = NO_ROW;
    this.rowCloses = false;
  }

  /** Token `k` by the rules of the range. */
  private rangeToken(k: number): void {
    const t = this.t;
    if (this.deferFrom >= 0) {
      this.deferToken(k);
      return;
    }
    if (this.valNest !== NO_ROW && !this.rowCloses && t.kind[k] === Tok.Word && RULE[t.aux[k]!] === Rule.Values) {
      // A VALUES inside the first row of another: that row is the one whose rows are dropped if
      // it closes; this one's, if it does not. Wait and see.
      this.deferFrom = k;
      this.deferTo = k + 1;
      this.deferNest = this.nest - this.valNest + 1;
      return;
    }
    if (this.skip !== 0 && this.skipStep(k)) return;
    if ((this.flags & F_UNION_NEXT) !== 0 && this.unionStep(k)) return;
    // The patterns see the token before it is written; a rewrite comes after.
    const inDone = this.inState !== 0 ? this.inStep(k) : 0;
    const limDone = this.limState !== 0 ? this.limitStep(k) : false;
    const opensRow = this.valArm !== 0 ? this.valuesStep(k) : false;
    this.normal(k);
    if (opensRow && (this.deadFrom < 0 || this.matched[k - this.deadFrom] === 1)) {
      this.valNest = this.nest;
      this.rowCloses = this.deadFrom >= 0;
    }
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

  /** A token held back (`defer`); when the open row closes with it, the tokens held are replayed, that row's VALUES taken. */
  private deferToken(k: number): void {
    this.deferTo = k + 1;
    const kind = this.t.kind[k];
    if (kind === Tok.LParen) {
      this.deferNest++;
    } else if (kind === Tok.RParen && --this.deferNest === 0) {
      const from = this.deferFrom;
      this.deferFrom = -1;
      this.rowCloses = true;
      for (let q = from; q <= k; q++) this.rangeToken(q);
    }
  }

  /**
   * The range ends with tokens held back: the open row never closes, so its VALUES is not taken.
   * The tokens held are replayed knowing which of their `(` close (a VALUES is taken when its row does).
   */
  private replayDead(): void {
    const from = this.deferFrom;
    const to = this.deferTo;
    this.deferFrom = -1;
    this.valNest = NO_ROW;
    this.rowCloses = false;
    const n = to - from;
    if (this.matched.length < n) {
      this.matched = new Uint8Array(n * 2);
      this.opens = new Int32Array(n * 2);
    }
    const matched = this.matched;
    const opens = this.opens;
    const kinds = this.t.kind;
    let open = 0;
    for (let q = 0; q < n; q++) {
      matched[q] = 0;
      const kind = kinds[from + q];
      if (kind === Tok.LParen) opens[open++] = q;
      else if (kind === Tok.RParen && open > 0) matched[opens[--open]!] = 1;
    }
    this.deadFrom = from;
    for (let q = from; q < to; q++) this.rangeToken(q);
    this.deadFrom = -1;
  }

  /** The token's own rules. */
  private normal(k: number): void {
    const t = this.t;
    const kind = t.kind[k] as Tok;
    switch (kind) {
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
        if (this.depth < MAX_DEPTH) this.depth++;
        this.orderBy[this.depth] = 0;
        this.nest++;
        this.char(0x28, A_LPAREN);
        this.prevKw = 0;
        return;
      case Tok.RParen: {
        const closing = this.nest--;
        this.orderBy[this.depth] = 0;
        if (this.depth > 0) this.depth--;
        this.char(0x29, A_RPAREN);
        this.prevKw = 0;
        if (closing === this.valNest) {
          // The end of the first row of a VALUES: drop the rows that follow.
          this.valNest = NO_ROW;
          this.rowCloses = false;
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
      case Tok.ExecOpen:
      case Tok.ExecClose:
        this.execToken(k);
        return;
      case Tok.Semi: // (a statement's end, never inside a range)
        this.char(0x3b, A_SEMI);
        this.prevKw = 0;
        return;
      default: {
        const never: never = kind;
        return never;
      }
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
        if (this.valNest === NO_ROW) this.valArm = 1; // (inside a row known to close: a word)
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
        if (this.top && this.depth === 0) {
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

  /** The token after UNION (`k`, or -1 at the end of the range): ALL or DISTINCT belong to it. Returns whether `k` was written. */
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
        else if (this.isOp(k, 0x2b, -1)) next = IN_PLUS;
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
        else if (this.isOp(k, 0x2b, -1)) next = IN_T_PLUS;
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

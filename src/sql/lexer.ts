/**
 * A MySQL lexer over bytes that never fails: every byte of the input is part of a token, of a span
 * to mask or of a comment, and anything it cannot be sure of is masked.
 *
 * It only knows what redaction and fingerprinting need: where literals are (strings with `\`
 * escapes and doubled quotes, numbers with their sign, hex and bit values, charset introducers,
 * temporal and ODBC literals, TRUE/FALSE), where comments are (and which comments MySQL executes:
 * `/*!…*\/` and optimizer hints `/*+…*\/`), identifiers, keywords, operators and punctuation.
 *
 * The input is the bytes of one COM_QUERY (or any SQL text) in the connection's character set. Only
 * the ASCII structure matters, which UTF-8, latin1 and the EUC sets share; for GBK, GB18030, Big5
 * and Shift-JIS, whose second bytes can be `\` or a backtick, `LexOptions.multibyte` makes the
 * lexer skip whole multi-byte characters. Bytes ≥ 0x80 outside literals are identifier characters,
 * as in MySQL. A control byte outside a literal (NUL, ESC, …) cannot be SQL: the rest of the input
 * is masked. So are unterminated strings and quoted identifiers.
 *
 * Output, in a reused `TokenList` (nothing is allocated per token):
 *   tokens  the significant tokens, in order (whitespace and comments are not tokens);
 *   spans   what redaction changes, in order: literals to print as `?`, comments to drop.
 */
import { CHARSET_INTRODUCERS, keywordOf, kw, KW_FLAGS, OPERAND, RESERVED } from './keywords.js';

/**
 * What the lexer hands each token to as soon as it has appended it (`k`: the token's index in the
 * `TokenList`), so a consumer can work in the same pass over the bytes: the fingerprint writer of
 * ./fingerprint-stream.ts is the one there is (it gets every token, those of executable comments
 * and optimizer hints included). The lexer declares it and knows nothing of who
 * implements it.
 */
export interface TokenSink {
  /** Before the first token: the lexer will append to `t` the tokens of `b[from, to)`. */
  begin(b: Uint8Array, t: TokenList, from: number, to: number): void;
  /** After the last token. */
  finish(): void;
  /** A Word token (keyword id `id`, 0 for none). */
  word(k: number, id: number): void;
  /** A Lit, Param or MaskEnd token that is not a number. */
  value(k: number): void;
  /** A number (any prefix signs before it are inside it now). */
  number(k: number): void;
  /** A `-` or `+` that is a prefix operator: perhaps the sign of a number to come. */
  sign(k: number): void;
  /** Any other Op token. */
  op(k: number): void;
  comma(k: number): void;
  dot(k: number): void;
  lparen(k: number): void;
  rparen(k: number): void;
  /** A quoted identifier. */
  qident(k: number): void;
  /** Any other token. */
  any(k: number): void;
}

export const enum Tok {
  /** An unquoted identifier or keyword; `aux` is the keyword id (0 for none, and after `name.`). */
  Word = 2,
  /** A backquoted identifier (or a double-quoted one with ANSI_QUOTES). */
  QIdent = 3,
  /** A literal value, sign and introducer included: printed as `?`. */
  Lit = 4,
  /** From here to the end: unterminated literal or garbage, printed as `?`. */
  MaskEnd = 5,
  /** A `?` placeholder. */
  Param = 6,
  /** An operator or other punctuation; `aux` has OP_UNARY when it is a prefix operator. */
  Op = 7,
  LParen = 8,
  RParen = 9,
  Comma = 10,
  Dot = 11,
  Semi = 12,
  /** `/*!` with its version digits, `/*M!…`, or `/*+`: the comment's contents are SQL. `aux`: 1 executable, 2 hint. */
  ExecOpen = 13,
  /** The `*\/` that closes an ExecOpen. */
  ExecClose = 14,
}

/** Kinds of span. */
export const enum Span {
  /** A literal (or the rest of the input): `?`. */
  Mask = 0,
  /** `#…` or `-- …`, up to the newline (excluded). */
  LineComment = 1,
  /** `/*…*\/`. */
  BlockComment = 2,
}

/** `aux` bit of an Op token: a prefix operator (`-x`, `+5`, `~x`, `!x`), not a binary one. */
export const OP_UNARY = 1;

/**
 * `aux` of a QIdent token that needs no quotes: `users`, not `my table`, `2x` or `order` (ASCII
 * letters, digits, `_` and `$`, not starting with a digit, not a reserved word).
 */
export const QIDENT_PLAIN = 1;

export interface LexOptions {
  /** `\` escapes in strings; false when the session has NO_BACKSLASH_ESCAPES (a status flag the server reports). */
  backslashEscapes: boolean;
  /** ANSI_QUOTES: `"…"` is an identifier, not a string. */
  ansiQuotes: boolean;
  /** Lead and trail byte tables of a multi-byte character set whose trail bytes can be ASCII, or null. */
  multibyte: MultibyteTables | null;
}

export interface MultibyteTables {
  lead: Uint8Array;
  trail: Uint8Array;
}

function ranges(pairs: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < pairs.length; i += 2) for (let c = pairs[i]!; c <= pairs[i + 1]!; c++) t[c] = 1;
  return t;
}

const GBK: MultibyteTables = { lead: ranges([0x81, 0xfe]), trail: ranges([0x40, 0x7e, 0x80, 0xfe]) };
const GB18030: MultibyteTables = { lead: ranges([0x81, 0xfe]), trail: ranges([0x30, 0x39, 0x40, 0x7e, 0x80, 0xfe]) };
const BIG5: MultibyteTables = { lead: ranges([0xa1, 0xf9]), trail: ranges([0x40, 0x7e, 0xa1, 0xfe]) };
const SJIS: MultibyteTables = { lead: ranges([0x81, 0x9f, 0xe0, 0xfc]), trail: ranges([0x40, 0x7e, 0x80, 0xfc]) };

/** The multi-byte tables of a MySQL character set name, or null when its ASCII bytes are always ASCII. */
export function multibyteTables(charset: string | undefined): MultibyteTables | null {
  switch ((charset ?? '').toLowerCase()) {
    case 'gbk':
      return GBK;
    case 'gb18030':
      return GB18030;
    case 'big5':
      return BIG5;
    case 'sjis':
    case 'cp932':
      return SJIS;
    default:
      return null;
  }
}

export class TokenList {
  kind = new Uint8Array(256);
  start = new Int32Array(256);
  end = new Int32Array(256);
  aux = new Int32Array(256);
  count = 0;
  spanKind = new Uint8Array(64);
  spanStart = new Int32Array(64);
  spanEnd = new Int32Array(64);
  spanCount = 0;

  get capacity(): number {
    return this.kind.length;
  }

  /** Drop big arrays kept from a huge statement. */
  shrink(): void {
    if (this.kind.length > 1 << 16) {
      this.kind = new Uint8Array(256);
      this.start = new Int32Array(256);
      this.end = new Int32Array(256);
      this.aux = new Int32Array(256);
    }
    if (this.spanKind.length > 1 << 16) {
      this.spanKind = new Uint8Array(64);
      this.spanStart = new Int32Array(64);
      this.spanEnd = new Int32Array(64);
    }
    this.count = this.spanCount = 0;
  }

  growTokens(): void {
    const n = this.kind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    const start = new Int32Array(n);
    start.set(this.start);
    const end = new Int32Array(n);
    end.set(this.end);
    const aux = new Int32Array(n);
    aux.set(this.aux);
    this.kind = kind;
    this.start = start;
    this.end = end;
    this.aux = aux;
  }

  growSpans(): void {
    const n = this.spanKind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.spanKind);
    const start = new Int32Array(n);
    start.set(this.spanStart);
    const end = new Int32Array(n);
    end.set(this.spanEnd);
    this.spanKind = kind;
    this.spanStart = start;
    this.spanEnd = end;
  }
}

/** Append a token; returns the new count. */
export function put(t: TokenList, cnt: number, kind: Tok, s: number, e: number, aux: number): number {
  if (cnt === t.kind.length) t.growTokens();
  t.kind[cnt] = kind;
  t.start[cnt] = s;
  t.end[cnt] = e;
  t.aux[cnt] = aux;
  return cnt + 1;
}

export function span(t: TokenList, kind: Span, s: number, e: number): void {
  const c = t.spanCount;
  if (c === t.spanKind.length) t.growSpans();
  t.spanKind[c] = kind;
  t.spanStart[c] = s;
  t.spanEnd[c] = e;
  t.spanCount = c + 1;
}

/** Append a literal: a token and a span. */
export function lit(t: TokenList, cnt: number, kind: Tok, s: number, e: number): number {
  span(t, Span.Mask, s, e);
  return put(t, cnt, kind, s, e, 0);
}

// Character classes (a const enum: its members are inlined as numbers, so `switch` gets a jump table).
export const enum Cc {
  Op = 0,
  Ws = 1,
  Ident = 2,
  Digit = 3,
  Squote = 4,
  Dquote = 5,
  Backtick = 6,
  Hash = 7,
  Dash = 8,
  Slash = 9,
  Star = 10,
  Lparen = 11,
  Rparen = 12,
  Comma = 13,
  Dot = 14,
  Semi = 15,
  Qmark = 16,
  Lbrace = 17,
  Ctrl = 18,
  Plus = 19,
}

export const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let k = Cc.Op;
  if (c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x20) k = Cc.Ws;
  else if (c < 0x20 || c === 0x7f) k = Cc.Ctrl;
  else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80) k = Cc.Ident;
  else if (c >= 0x30 && c <= 0x39) k = Cc.Digit;
  CLASS[c] = k;
}
CLASS[0x27] = Cc.Squote;
CLASS[0x22] = Cc.Dquote;
CLASS[0x60] = Cc.Backtick;
CLASS[0x23] = Cc.Hash;
CLASS[0x2d] = Cc.Dash;
CLASS[0x2f] = Cc.Slash;
CLASS[0x2a] = Cc.Star;
CLASS[0x28] = Cc.Lparen;
CLASS[0x29] = Cc.Rparen;
CLASS[0x2c] = Cc.Comma;
CLASS[0x2e] = Cc.Dot;
CLASS[0x3b] = Cc.Semi;
CLASS[0x3f] = Cc.Qmark;
CLASS[0x7b] = Cc.Lbrace;
CLASS[0x2b] = Cc.Plus;

/** Identifier bytes (letters, digits, `_`, `$`, ≥ 0x80). */
export const IDENT = new Uint8Array(256);
for (let c = 0; c < 256; c++) IDENT[c] = CLASS[c] === Cc.Ident || CLASS[c] === Cc.Digit ? 1 : 0;

const HEX = new Uint8Array(256);
for (let c = 0; c < 256; c++) HEX[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ? 1 : 0;

const K_IS = kw('is');
const K_NOT = kw('not');

/** What a keyword means to the lexer (a table, so that a word costs one lookup). */
export const enum Lx {
  None = 0,
  /** TRUE, FALSE: literals. */
  Boolean = 1,
  /** DATE, TIME, TIMESTAMP: a string after them is part of a temporal literal. */
  Temporal = 2,
  /** SELECT, INSERT, REPLACE, UPDATE, DELETE: an optimizer hint may follow. */
  Verb = 3,
}
export const LEX_RULE = new Uint8Array(KW_FLAGS.length);
for (const w of ['true', 'false']) LEX_RULE[kw(w)] = Lx.Boolean;
for (const w of ['date', 'time', 'timestamp']) LEX_RULE[kw(w)] = Lx.Temporal;
for (const w of ['select', 'insert', 'replace', 'update', 'delete']) LEX_RULE[kw(w)] = Lx.Verb;

/** Is a `+`/`-` after token `idx` a sign (or any operator there a prefix operator)? */
export function prefixPosition(t: TokenList, idx: number): boolean {
  if (idx < 0) return true;
  switch (t.kind[idx] as Tok) {
    case Tok.Op:
    case Tok.LParen:
    case Tok.Comma:
    case Tok.Semi:
    case Tok.ExecOpen:
    case Tok.ExecClose:
      return true;
    case Tok.Word: {
      const f = KW_FLAGS[t.aux[idx]!]!;
      return (f & RESERVED) !== 0 && (f & OPERAND) === 0;
    }
    default:
      return false;
  }
}

export const DEFAULT_LEX_OPTIONS: LexOptions = { backslashEscapes: true, ansiQuotes: false, multibyte: null };

export const NO_MB = new Uint8Array(256);

/**
 * End (exclusive) of a quoted span opened at `i` by the quote byte `q`, or -1 if unterminated.
 * A doubled quote is one quote; `\` escapes the next byte when `escapes`; a multi-byte character
 * (lead byte in `lead`, trail byte in `trail`) is skipped whole.
 */
export function quotedEnd(b: Uint8Array, n: number, i: number, q: number, escapes: boolean, lead: Uint8Array, trail: Uint8Array): number {
  if (lead === NO_MB) return escapes ? quotedEndEscapes(b, n, i, q) : quotedEndPlain(b, n, i, q);
  let j = i + 1;
  while (j < n) {
    const c = b[j]!;
    if (c === q) {
      if (j + 1 < n && b[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    if (c === 0x5c && escapes) j += 2;
    else if (lead[c] === 1 && j + 1 < n && trail[b[j + 1]!] === 1) j += 2;
    else j++;
  }
  return -1;
}

/** `quotedEnd` for a single-byte character set, with `\` escapes. */
function quotedEndEscapes(b: Uint8Array, n: number, i: number, q: number): number {
  let j = i + 1;
  while (j < n) {
    const c = b[j]!;
    if (c === q) {
      if (j + 1 < n && b[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j += c === 0x5c ? 2 : 1;
  }
  return -1;
}

/** `quotedEnd` for a single-byte character set, without escapes. */
function quotedEndPlain(b: Uint8Array, n: number, i: number, q: number): number {
  let j = i + 1;
  for (;;) {
    while (j < n && b[j] !== q) j++;
    if (j >= n) return -1;
    if (j + 1 < n && b[j + 1] === q) j += 2;
    else return j + 1;
  }
}

/** End of a word starting at `i`: identifier bytes, whole multi-byte characters. */
function wordEnd(b: Uint8Array, n: number, i: number, lead: Uint8Array, trail: Uint8Array): number {
  let j = i;
  while (j < n) {
    const c = b[j]!;
    if (lead[c] === 1 && j + 1 < n && trail[b[j + 1]!] === 1) j += 2;
    else if (IDENT[c] === 1) j++;
    else break;
  }
  return j;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** End of a numeric literal at `i` (a digit or `.digit`), or -1 if these bytes are an identifier. */
export function numberEnd(b: Uint8Array, n: number, i: number): number {
  const c0 = b[i]!;
  if (c0 === 0x30 && i + 1 < n) {
    const c1 = b[i + 1]! | 0x20;
    if (c1 === 0x78) {
      // 0x… (0X too: masking it is the safe side)
      let j = i + 2;
      while (j < n && HEX[b[j]!] === 1) j++;
      return j > i + 2 && (j >= n || IDENT[b[j]!] === 0) ? j : -1;
    }
    if (c1 === 0x62) {
      // 0b… (0B too)
      let j = i + 2;
      while (j < n && (b[j] === 0x30 || b[j] === 0x31)) j++;
      return j > i + 2 && (j >= n || IDENT[b[j]!] === 0) ? j : -1; // `0b`, `0b12`: identifiers
    }
  }
  let j = i;
  while (j < n && isDigit(b[j]!)) j++;
  let fraction = false;
  if (j < n && b[j] === 0x2e) {
    fraction = true;
    j++;
    while (j < n && isDigit(b[j]!)) j++;
  }
  if (j < n && (b[j]! | 0x20) === 0x65) {
    let k = j + 1;
    if (k < n && (b[k] === 0x2b || b[k] === 0x2d)) k++;
    if (k < n && isDigit(b[k]!)) {
      while (k < n && isDigit(b[k]!)) k++;
      j = k;
    }
  }
  if (!fraction && j < n && IDENT[b[j]!] === 1) return -1; // 123abc, 1e5x: identifiers
  return j;
}

export function skipSpaces(b: Uint8Array, n: number, j: number): number {
  while (j < n && CLASS[b[j]!] === Cc.Ws) j++;
  return j;
}

/** Append a number `[s, e)` as a literal, taking in the signs before it that are prefix operators. Returns the new count. */
export function pushNumber(t: TokenList, cnt: number, b: Uint8Array, s: number, e: number): number {
  let p = cnt - 1;
  while (p >= 0 && t.kind[p] === Tok.Op && (t.aux[p]! & OP_UNARY) !== 0 && t.end[p]! - t.start[p]! === 1) {
    const c = b[t.start[p]!];
    if (c !== 0x2d && c !== 0x2b) break;
    s = t.start[p]!;
    p--;
  }
  // Comments between the signs and the number are inside the literal now: drop their spans.
  while (t.spanCount > 0 && t.spanStart[t.spanCount - 1]! >= s) t.spanCount--;
  return lit(t, p + 1, Tok.Lit, s, e);
}

/** Does a quoted literal start at `i` with a letter: X'…', B'…', N'…'? */
export function quotePrefixed(b: Uint8Array, n: number, i: number): boolean {
  if (i + 1 >= n || b[i + 1] !== 0x27) return false;
  const lc = b[i]! | 0x20;
  return lc === 0x78 || lc === 0x62 || lc === 0x6e;
}

/** Is a TRUE or FALSE after the `cnt` tokens of `t` a literal? Not as the operand of IS [NOT]. */
export function booleanLiteral(t: TokenList, cnt: number): boolean {
  if (cnt === 0 || t.kind[cnt - 1] !== Tok.Word) return true;
  const a = t.aux[cnt - 1];
  return !(a === K_IS || (a === K_NOT && cnt > 1 && t.kind[cnt - 2] === Tok.Word && t.aux[cnt - 2] === K_IS));
}

/** Append the `-` or `+` at `i`: a prefix operator (perhaps a sign) or a binary one. Returns the new count. */
function sign(t: TokenList, cnt: number, i: number, fp: TokenSink | null): number {
  const unary = prefixPosition(t, cnt - 1);
  cnt = put(t, cnt, Tok.Op, i, i + 1, unary ? OP_UNARY : 0);
  if (fp !== null) {
    if (unary) fp.sign(cnt - 1);
    else fp.op(cnt - 1);
  }
  return cnt;
}

/** Is the last token a `.` ending at `i`, glued to a preceding name (`t.col`, `` `db`.t ``)? */
export function afterQualifier(t: TokenList, cnt: number, i: number): boolean {
  const d = cnt - 1;
  if (d < 1 || t.kind[d] !== Tok.Dot || t.end[d] !== i) return false;
  const k = t.kind[d - 1];
  return (k === Tok.Word || k === Tok.QIdent) && t.end[d - 1] === t.start[d];
}

/**
 * End of the literal that an introducer (`_utf8mb4`) or DATE/TIME/TIMESTAMP keyword ending at `j`
 * starts, or -1 when no literal follows; -2 when the literal is unterminated.
 */
export function introduced(b: Uint8Array, n: number, j: number, hexBits: boolean, opts: LexOptions, lead: Uint8Array, trail: Uint8Array): number {
  const p = skipSpaces(b, n, j);
  if (p >= n) return -1;
  const c = b[p]!;
  if (c === 0x27 || (c === 0x22 && !opts.ansiQuotes)) {
    const e = quotedEnd(b, n, p, c, opts.backslashEscapes, lead, trail);
    return e < 0 ? -2 : e;
  }
  if (!hexBits) return -1;
  const lc = c | 0x20;
  if ((lc === 0x78 || lc === 0x62) && p + 1 < n && b[p + 1] === 0x27) {
    const e = quotedEnd(b, n, p + 1, 0x27, false, NO_MB, NO_MB);
    return e < 0 ? -2 : e;
  }
  if (isDigit(c)) {
    const e = numberEnd(b, n, p);
    if (e > p) return e;
  }
  return -1;
}

/** End of an ODBC escape `{d '…'}`, `{t '…'}`, `{ts '…'}` at `i`, -1 if there is none, -2 if its string is unterminated. */
function odbcEnd(b: Uint8Array, n: number, i: number, opts: LexOptions, lead: Uint8Array, trail: Uint8Array): number {
  let p = skipSpaces(b, n, i + 1);
  const w = wordEnd(b, n, p, NO_MB, NO_MB);
  const len = w - p;
  const c0 = len > 0 ? b[p]! | 0x20 : 0;
  if (!((len === 1 && (c0 === 0x64 || c0 === 0x74)) || (len === 2 && c0 === 0x74 && (b[p + 1]! | 0x20) === 0x73))) return -1;
  p = skipSpaces(b, n, w);
  if (p >= n || !(b[p] === 0x27 || (b[p] === 0x22 && !opts.ansiQuotes))) return -1;
  const e = quotedEnd(b, n, p, b[p]!, opts.backslashEscapes, lead, trail);
  if (e < 0) return -2;
  const q = skipSpaces(b, n, e);
  return q < n && b[q] === 0x7d ? q + 1 : -1;
}

/**
 * Lex `b[from, to)` into `t` (reset first). Positions are absolute indices into `b`; no byte at or
 * after `to` is read. With `fp`, each token is also handed to it as it is appended (`TokenSink`),
 * so that a consumer works in the same pass.
 */
export function lex(b: Uint8Array, from: number, to: number, opts: LexOptions, t: TokenList, fp: TokenSink | null = null): void {
  t.spanCount = 0;
  if (fp !== null) fp.begin(b, t, from, to);
  t.count = lexRange(b, from, to, opts, t, 0, false, fp);
  if (fp !== null) fp.finish();
}

/**
 * Lex `b[from, to)`, appending tokens from index `cnt`; returns the new count. `hint`: this is the
 * inside of an optimizer hint, whose end MySQL finds before it parses it, so nothing here can run
 * past `to`, and a number-like word (`16M`) is a value.
 */
export function lexRange(b: Uint8Array, from: number, to: number, opts: LexOptions, t: TokenList, cnt: number, hint: boolean, fp: TokenSink | null): number {
  const n = to;
  const esc = opts.backslashEscapes;
  const mb = opts.multibyte;
  const lead = mb === null ? NO_MB : mb.lead;
  const trail = mb === null ? NO_MB : mb.trail;
  const multibyte = mb !== null;
  /** Inside `/*!…*\/`: the next `*\/` closes it. */
  let inExec = false;
  let i = from;

  while (i < n) {
    const c = b[i]!;
    switch (CLASS[c]) {
      case Cc.Ws:
        i = skipSpaces(b, n, i + 1);
        continue;

      case Cc.Ident: {
        if (quotePrefixed(b, n, i)) {
          // X'…', B'…', N'…'
          const e = (c | 0x20) === 0x6e ? quotedEnd(b, n, i + 1, 0x27, esc, lead, trail) : quotedEnd(b, n, i + 1, 0x27, false, NO_MB, NO_MB);
          if (e < 0) {
            cnt = lit(t, cnt, Tok.MaskEnd, i, n);
            if (fp !== null) fp.value(cnt - 1);
            break;
          }
          cnt = lit(t, cnt, Tok.Lit, i, e);
          if (fp !== null) fp.value(cnt - 1);
          i = e;
          continue;
        }
        let j = i + 1;
        if (!multibyte) {
          while (j < n && IDENT[b[j]!] === 1) j++;
        } else {
          j = wordEnd(b, n, i, lead, trail);
        }
        if (cnt > 1 && t.kind[cnt - 1] === Tok.Dot && afterQualifier(t, cnt, i)) {
          cnt = put(t, cnt, Tok.Word, i, j, 0);
          if (fp !== null) fp.word(cnt - 1, 0);
          i = j;
          continue;
        }
        const id = keywordOf(b, i, j);
        const rule = LEX_RULE[id]!;
        if (rule === Lx.Boolean) {
          cnt = booleanLiteral(t, cnt) ? lit(t, cnt, Tok.Lit, i, j) : put(t, cnt, Tok.Word, i, j, id);
          if (fp !== null) fp.any(cnt - 1);
          i = j;
          continue;
        }
        if (rule === Lx.Temporal || (c === 0x5f && isIntroducer(b, i + 1, j))) {
          const e = introduced(b, n, j, c === 0x5f, opts, lead, trail);
          if (e === -2) {
            cnt = lit(t, cnt, Tok.MaskEnd, i, n);
            if (fp !== null) fp.value(cnt - 1);
            break;
          }
          if (e > 0) {
            cnt = lit(t, cnt, Tok.Lit, i, e);
            if (fp !== null) fp.value(cnt - 1);
            i = e;
            continue;
          }
        }
        cnt = put(t, cnt, Tok.Word, i, j, id);
        if (fp !== null) fp.word(cnt - 1, id);
        i = j;
        continue;
      }

      case Cc.Digit: {
        if (!afterQualifier(t, cnt, i)) {
          const e = numberEnd(b, n, i);
          if (e >= 0) {
            cnt = pushNumber(t, cnt, b, i, e);
            if (fp !== null) fp.number(cnt - 1);
            i = e;
            continue;
          }
        }
        const j = wordEnd(b, n, i, lead, trail);
        // A name that starts with digits (`3rd_col`, `123abc`), except where it may be a value:
        // inside an optimizer hint (`16M`), at the end of the input (a number cut short), or
        // digits then an E (`1e`, `10E+` cut short, `1e5x`).
        let k = i;
        while (k < j && isDigit(b[k]!)) k++;
        const valueLike = hint || j === n || (b[k]! | 0x20) === 0x65;
        cnt = valueLike && !afterQualifier(t, cnt, i) ? lit(t, cnt, Tok.Lit, i, j) : put(t, cnt, Tok.Word, i, j, 0);
        if (fp !== null) fp.any(cnt - 1);
        i = j;
        continue;
      }

      case Cc.Squote:
      case Cc.Dquote: {
        const ident = c === 0x22 && opts.ansiQuotes;
        const e = quotedEnd(b, n, i, c, esc && !ident, lead, trail);
        if (e < 0) {
          cnt = lit(t, cnt, Tok.MaskEnd, i, n);
          if (fp !== null) fp.value(cnt - 1);
          break;
        }
        if (ident) {
          cnt = put(t, cnt, Tok.QIdent, i, e, 0);
          if (fp !== null) fp.qident(cnt - 1);
        } else {
          cnt = lit(t, cnt, Tok.Lit, i, e);
          if (fp !== null) fp.value(cnt - 1);
        }
        i = e;
        continue;
      }

      case Cc.Backtick: {
        // Most backquoted names are plain (`users`): find that while scanning.
        let j = i + 1;
        let plain = j < n && CLASS[b[j]!] === Cc.Ident;
        while (j < n && IDENT[b[j]!] === 1) j++;
        if (!multibyte && j < n && b[j] === 0x60 && (j + 1 >= n || b[j + 1] !== 0x60)) {
          const e = j + 1;
          plain = plain && (KW_FLAGS[keywordOf(b, i + 1, j)]! & RESERVED) === 0;
          cnt = put(t, cnt, Tok.QIdent, i, e, plain ? QIDENT_PLAIN : 0);
          if (fp !== null) fp.qident(cnt - 1);
          i = e;
          continue;
        }
        const e = quotedEnd(b, n, i, 0x60, false, lead, trail);
        if (e < 0) {
          cnt = lit(t, cnt, Tok.MaskEnd, i, n);
          if (fp !== null) fp.value(cnt - 1);
          break;
        }
        cnt = put(t, cnt, Tok.QIdent, i, e, 0);
        if (fp !== null) fp.qident(cnt - 1);
        i = e;
        continue;
      }

      case Cc.Hash: {
        let j = i + 1;
        while (j < n && b[j] !== 0x0a) j++;
        span(t, Span.LineComment, i, j);
        i = j;
        continue;
      }

      case Cc.Dash: {
        if (i + 1 < n && b[i + 1] === 0x2d && (i + 2 >= n || b[i + 2]! <= 0x20)) {
          let j = i + 2;
          while (j < n && b[j] !== 0x0a) j++;
          span(t, Span.LineComment, i, j);
          i = j;
          continue;
        }
        if (i + 1 < n && b[i + 1] === 0x3e) {
          const j = i + 2 < n && b[i + 2] === 0x3e ? i + 3 : i + 2; // -> ->>
          cnt = put(t, cnt, Tok.Op, i, j, 0);
          if (fp !== null) fp.op(cnt - 1);
          i = j;
          continue;
        }
        cnt = sign(t, cnt, i, fp);
        i++;
        continue;
      }

      case Cc.Plus:
        cnt = sign(t, cnt, i, fp);
        i++;
        continue;

      case Cc.Slash: {
        if (i + 1 < n && b[i + 1] === 0x2a) {
          const c2 = i + 2 < n ? b[i + 2]! : -1;
          const c3 = i + 3 < n ? b[i + 3]! : -1;
          if (!inExec && !hint && (c2 === 0x21 || ((c2 | 0x20) === 0x6d && c3 === 0x21))) {
            // /*!NNNNN … */ and MariaDB's /*M!NNNNNN … */: executed by the server, lexed as SQL
            // (a string inside may run past the */, as in MySQL).
            let j = c2 === 0x21 ? i + 3 : i + 4;
            const maxDigits = c2 === 0x21 ? 5 : 6;
            let digits = 0;
            while (j < n && digits < maxDigits && isDigit(b[j]!)) {
              j++;
              digits++;
            }
            cnt = put(t, cnt, Tok.ExecOpen, i, j, 1);
            if (fp !== null) fp.any(cnt - 1);
            inExec = true;
            i = j;
            continue;
          }
          if (!inExec && !hint && c2 === 0x2b && cnt > 0 && t.kind[cnt - 1] === Tok.Word && LEX_RULE[t.aux[cnt - 1]!] === Lx.Verb) {
            // An optimizer hint (only right after the statement's verb, as in MySQL): MySQL finds
            // its */ first, then parses what is between, so that is lexed on its own.
            let e = i + 3;
            while (e < n && !(b[e] === 0x2a && e + 1 < n && b[e + 1] === 0x2f)) e++;
            cnt = put(t, cnt, Tok.ExecOpen, i, i + 3, 2);
            if (fp !== null) fp.any(cnt - 1);
            cnt = lexRange(b, i + 3, e, opts, t, cnt, true, fp);
            if (e < n && t.kind[cnt - 1] === Tok.MaskEnd && t.end[cnt - 1] === e) {
              // A quote inside the hint not closed before its */: whether the hint ends at this */
              // or after the quoted text, what follows may be a value. Mask to the end.
              t.end[cnt - 1] = n;
              t.spanEnd[t.spanCount - 1] = n;
              i = n;
              break;
            }
            if (e < n) {
              cnt = put(t, cnt, Tok.ExecClose, e, e + 2, 0);
              if (fp !== null) fp.any(cnt - 1);
            }
            i = e < n ? e + 2 : n;
            continue;
          }
          let j = i + 2;
          while (j < n && !(b[j] === 0x2a && j + 1 < n && b[j + 1] === 0x2f)) j++;
          j = j < n ? j + 2 : n;
          span(t, Span.BlockComment, i, j);
          i = j;
          continue;
        }
        cnt = put(t, cnt, Tok.Op, i, i + 1, 0);
        if (fp !== null) fp.op(cnt - 1);
        i++;
        continue;
      }

      case Cc.Star:
        if (inExec && i + 1 < n && b[i + 1] === 0x2f) {
          cnt = put(t, cnt, Tok.ExecClose, i, i + 2, 0);
          if (fp !== null) fp.any(cnt - 1);
          inExec = false;
          i += 2;
          continue;
        }
        cnt = put(t, cnt, Tok.Op, i, i + 1, 0);
        if (fp !== null) fp.op(cnt - 1);
        i++;
        continue;

      case Cc.Lparen:
        cnt = put(t, cnt, Tok.LParen, i, i + 1, 0);
        if (fp !== null) fp.lparen(cnt - 1);
        i++;
        continue;

      case Cc.Rparen:
        cnt = put(t, cnt, Tok.RParen, i, i + 1, 0);
        if (fp !== null) fp.rparen(cnt - 1);
        i++;
        continue;

      case Cc.Comma:
        cnt = put(t, cnt, Tok.Comma, i, i + 1, 0);
        if (fp !== null) fp.comma(cnt - 1);
        i++;
        continue;

      case Cc.Semi:
        cnt = put(t, cnt, Tok.Semi, i, i + 1, 0);
        if (fp !== null) fp.any(cnt - 1);
        i++;
        continue;

      case Cc.Qmark:
        cnt = put(t, cnt, Tok.Param, i, i + 1, 0);
        if (fp !== null) fp.value(cnt - 1);
        i++;
        continue;

      case Cc.Dot: {
        if (i + 1 < n && isDigit(b[i + 1]!) && !(cnt > 0 && t.end[cnt - 1] === i && isName(t.kind[cnt - 1]!))) {
          const e = numberEnd(b, n, i);
          if (e > i) {
            cnt = pushNumber(t, cnt, b, i, e);
            if (fp !== null) fp.number(cnt - 1);
            i = e;
            continue;
          }
        }
        cnt = put(t, cnt, Tok.Dot, i, i + 1, 0);
        if (fp !== null) fp.dot(cnt - 1);
        i++;
        continue;
      }

      case Cc.Lbrace: {
        const e = odbcEnd(b, n, i, opts, lead, trail);
        if (e === -2) {
          cnt = lit(t, cnt, Tok.MaskEnd, i, n);
          if (fp !== null) fp.value(cnt - 1);
          break;
        }
        if (e > 0) {
          cnt = lit(t, cnt, Tok.Lit, i, e);
          i = e;
        } else {
          cnt = put(t, cnt, Tok.Op, i, i + 1, 0);
          i++;
        }
        if (fp !== null) fp.any(cnt - 1);
        continue;
      }

      case Cc.Ctrl:
        // Not SQL: binary garbage, a mis-decoded packet. Mask everything from here.
        cnt = lit(t, cnt, Tok.MaskEnd, i, n);
        if (fp !== null) fp.value(cnt - 1);
        break;

      default: {
        const j = opEnd(b, n, i, c);
        cnt = put(t, cnt, Tok.Op, i, j, opPrefix(b, n, i, j, c) ? OP_UNARY : 0);
        if (fp !== null) fp.op(cnt - 1);
        i = j;
        continue;
      }
    }
    break; // a MaskEnd ends the input (or the hint)
  }
  return cnt;
}

/** End of the operator (or other punctuation) `c` at `i`: MySQL's multi-byte ones are one token. */
export function opEnd(b: Uint8Array, n: number, i: number, c: number): number {
  const j = i + 1;
  const c1 = j < n ? b[j]! : -1;
  if (c === 0x3c) {
    // < <= <=> <> <<
    if (c1 === 0x3d) return j + 1 < n && b[j + 1] === 0x3e ? j + 2 : j + 1;
    return c1 === 0x3e || c1 === 0x3c ? j + 1 : j;
  }
  if (c === 0x3e) return c1 === 0x3d || c1 === 0x3e ? j + 1 : j;
  if (c === 0x21 || c === 0x3a) return c1 === 0x3d ? j + 1 : j; // != :=
  if (c === 0x7c || c === 0x26 || c === 0x40) return c1 === c ? j + 1 : j; // || && @@
  return j;
}

/** Is the operator `b[i, j)` (first byte `c`) a prefix one: ~x, !x; and :name, a named placeholder of some drivers (not MySQL's, but seen in logs)? */
export function opPrefix(b: Uint8Array, n: number, i: number, j: number, c: number): boolean {
  return j === i + 1 && (c === 0x7e || c === 0x21 || (c === 0x3a && j < n && CLASS[b[j]!] === Cc.Ident));
}

export function isName(k: number): boolean {
  return k === Tok.Word || k === Tok.QIdent;
}

/** Is `b[s, e)` (after the `_`) a character set name, making `_name` an introducer? */
export function isIntroducer(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < 3 || e - s > 8) return false;
  let name = '';
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return CHARSET_INTRODUCERS.has(name);
}


/**
 * The lexer's hot path: one tight loop over the bytes for the tokens most statements are made of
 * (words, names, strings, numbers, placeholders, punctuation, operators), which fills the same
 * `TokenList` as `lex` and writes the fingerprint as it goes, in the same pass.
 *
 * It is `lex` (./lexer.ts) with a `StreamFingerprint`, made faster: no call per token for what is
 * common (V8 inlines little into a function as large as `lexRange`), and a word is copied
 * lower-cased into the fingerprint while it is read, then looked up as a keyword in that copy. When
 * the statement has something it does not handle itself (comments, executable comments and hints,
 * `X'…'`, introducers and temporal literals, TRUE/FALSE, a name after `t.` that starts with a digit,
 * a number that starts with `.`, an unterminated literal, control bytes, a multi-byte character
 * set, ANSI_QUOTES), it hands the rest of the input to `lexRange`, which goes on from the same
 * token list: the tokens are those `lex` gives (the test suite checks it).
 *
 * The fingerprint is written here only while the stream has nothing in progress (`fp.flags` is 0)
 * and the token cannot start anything (no keyword rule); otherwise the token goes to
 * `StreamFingerprint.any`, the complete processing.
 */
import { A_COMMA, A_DOT, A_LPAREN, A_OP, A_PREFIX, A_RPAREN, A_WORD, CALLABLE, K_GROUP, K_ORDER, MAX_DEPTH, nullIsValue, Rule, RULE, space } from './fingerprint-rules.js';
import type { StreamFingerprint } from './fingerprint-stream.js';
import { keywordOfLower, KW_FLAGS, LOWER, RESERVED } from './keywords.js';
import {
  afterQualifier,
  booleanLiteral,
  CLASS,
  Cc,
  IDENT,
  introduced,
  isDigit,
  isIntroducer,
  isName,
  lexRange,
  LEX_RULE,
  Lx,
  NO_MB,
  numberEnd,
  opEnd,
  opPrefix,
  OP_UNARY,
  prefixPosition,
  pushNumber,
  quotePrefixed,
  skipSpaces,
  QIDENT_PLAIN,
  quotedEnd,
  Span,
  span,
  Tok,
  type LexOptions,
  type TokenList,
} from './lexer.js';

/** `lex(b, from, to, opts, t, fp)`, faster. */
export function scan(b: Uint8Array, from: number, to: number, opts: LexOptions, t: TokenList, fp: StreamFingerprint): void {
  t.spanCount = 0;
  fp.begin(b, t, from, to);
  t.count = opts.multibyte === null ? scanRange(b, from, to, opts, t, fp) : lexRange(b, from, to, opts, t, 0, false, fp);
  fp.finish();
}

/** An identifier byte lower-cased; 0 for a byte that is not part of an identifier. */
const LOWER_IDENT = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER_IDENT[c] = IDENT[c] === 1 ? LOWER[c]! : 0;

/** Token `k` of the arrays of a `TokenList` (small enough for V8 to inline anywhere). */
function tok(kind: Uint8Array, start: Int32Array, end: Int32Array, aux: Int32Array, k: number, kd: Tok, s: number, e: number, a: number): void {
  kind[k] = kd;
  start[k] = s;
  end[k] = e;
  aux[k] = a;
}

/** Write `?` (a value) into the fingerprint. */
function qmark(fp: StreamFingerprint): void {
  const o = space(fp.buf, fp.length, fp.last, fp.callable, A_WORD);
  fp.buf[o] = 0x3f;
  fp.length = o + 1;
  fp.last = A_WORD;
  fp.callable = false;
  fp.prevKw = 0;
}

/** Write the punctuation `c` (class `cls`) into the fingerprint. */
function punct(fp: StreamFingerprint, c: number, cls: number): void {
  const o = space(fp.buf, fp.length, fp.last, fp.callable, cls);
  fp.buf[o] = c;
  fp.length = o + 1;
  fp.last = cls;
  fp.prevKw = 0;
}

function scanRange(b: Uint8Array, from: number, n: number, opts: LexOptions, t: TokenList, fp: StreamFingerprint): number {
  const esc = opts.backslashEscapes;
  const ansi = opts.ansiQuotes;
  const buf = fp.buf; // sized by fp.begin for this input
  const view = fp.view;
  let kindA = t.kind;
  let startA = t.start;
  let endA = t.end;
  let auxA = t.aux;
  let cnt = 0;
  let i = from;

  while (i < n) {
    if (cnt + 2 > kindA.length) {
      t.growTokens();
      kindA = t.kind;
      startA = t.start;
      endA = t.end;
      auxA = t.aux;
    }
    const c = b[i]!;
    switch (CLASS[c]) {
      case Cc.Ws:
        i = skipSpaces(b, n, i + 1);
        continue;

      case Cc.Ident: {
        if (quotePrefixed(b, n, i)) break; // X'…', B'…', N'…'

        // The word, lower-cased into the fingerprint (after its space) as it is read: kept if the
        // word is written as it is, overwritten otherwise.
        const flags = fp.flags;
        let o = space(buf, fp.length, fp.last, fp.callable, A_WORD);
        const w = o;
        buf[o++] = LOWER[c]!;
        let j = i + 1;
        while (j < n) {
          const l = LOWER_IDENT[b[j]!]!;
          if (l === 0) break;
          buf[o++] = l;
          j++;
        }
        let id = 0;
        if (!(cnt > 1 && kindA[cnt - 1] === Tok.Dot && afterQualifier(t, cnt, i))) {
          id = keywordOfLower(buf, view, w, o - w);
          const rule = LEX_RULE[id];
          if (rule === Lx.Boolean) {
            if (booleanLiteral(t, cnt)) {
              span(t, Span.Mask, i, j);
              tok(kindA, startA, endA, auxA, cnt++, Tok.Lit, i, j, 0);
              if (flags === 0) qmark(fp);
              else fp.any(cnt - 1);
              i = j;
              continue;
            }
          } else if (rule === Lx.Temporal || (c === 0x5f && isIntroducer(b, i + 1, j))) {
            if (introduced(b, n, j, c === 0x5f, opts, NO_MB, NO_MB) !== -1) break; // DATE '…', _utf8mb4'…'
          }
        }
        tok(kindA, startA, endA, auxA, cnt++, Tok.Word, i, j, id);
        i = j;
        if (flags !== 0) {
          fp.any(cnt - 1);
          continue;
        }
        // The keyword rules that need no lookahead (the others go to the stream).
        switch (RULE[id] as Rule) {
          case Rule.None:
            break;
          case Rule.Null:
            if (nullIsValue(fp.keepNull, fp.prevKw)) {
              qmark(fp);
              continue;
            }
            break;
          case Rule.By:
            if (fp.prevKw === K_ORDER || fp.prevKw === K_GROUP) fp.orderBy[fp.depth] = 1;
            break;
          case Rule.Asc:
            if (fp.orderBy[fp.depth] === 1) continue; // dropped
            break;
          case Rule.EndsOrderBy:
            fp.orderBy[fp.depth] = 0;
            break;
          default:
            fp.any(cnt - 1);
            continue;
        }
        fp.length = o;
        fp.last = A_WORD;
        fp.callable = CALLABLE[id] === 1;
        fp.prevKw = id;
        continue;
      }

      case Cc.Digit: {
        if (cnt > 1 && kindA[cnt - 1] === Tok.Dot && afterQualifier(t, cnt, i)) break; // t.1st_col
        const e = numberEnd(b, n, i);
        if (e < 0) break; // 3rd_col, 12E cut short
        if (cnt > 0 && kindA[cnt - 1] === Tok.Op) {
          cnt = pushNumber(t, cnt, b, i, e); // takes in the signs before it
        } else {
          span(t, Span.Mask, i, e);
          tok(kindA, startA, endA, auxA, cnt++, Tok.Lit, i, e, 0);
        }
        if (fp.flags === 0) qmark(fp);
        else fp.number(cnt - 1);
        i = e;
        continue;
      }

      case Cc.Squote:
      case Cc.Dquote: {
        if (c === 0x22 && ansi) break;
        const e = quotedEnd(b, n, i, c, esc, NO_MB, NO_MB);
        if (e < 0) break; // unterminated: masked to the end
        span(t, Span.Mask, i, e);
        tok(kindA, startA, endA, auxA, cnt++, Tok.Lit, i, e, 0);
        if (fp.flags === 0) qmark(fp);
        else fp.any(cnt - 1);
        i = e;
        continue;
      }

      case Cc.Backtick: {
        // A plain name (`users`), lower-cased into the fingerprint as it is read.
        let j = i + 1;
        let plain = j < n && CLASS[b[j]!] === Cc.Ident;
        let o = space(buf, fp.length, fp.last, fp.callable, A_WORD);
        const w = o;
        while (j < n) {
          const l = LOWER_IDENT[b[j]!]!;
          if (l === 0) break;
          buf[o++] = l;
          j++;
        }
        if (!(j < n && b[j] === 0x60 && (j + 1 >= n || b[j + 1] !== 0x60))) break;
        plain = plain && (KW_FLAGS[keywordOfLower(buf, view, w, o - w)]! & RESERVED) === 0;
        tok(kindA, startA, endA, auxA, cnt++, Tok.QIdent, i, j + 1, plain ? QIDENT_PLAIN : 0);
        if (fp.flags === 0 && plain) {
          fp.length = o;
          fp.last = A_WORD;
          fp.callable = true;
          fp.prevKw = 0;
        } else {
          fp.any(cnt - 1);
        }
        i = j + 1;
        continue;
      }

      case Cc.Dash:
      case Cc.Plus: {
        if (c === 0x2d && i + 1 < n && (b[i + 1] === 0x3e || (b[i + 1] === 0x2d && (i + 2 >= n || b[i + 2]! <= 0x20)))) break; // -> or a comment
        const unary = prefixPosition(t, cnt - 1);
        tok(kindA, startA, endA, auxA, cnt++, Tok.Op, i, i + 1, unary ? OP_UNARY : 0);
        if (unary) fp.sign(cnt - 1);
        else if (fp.flags === 0) punct(fp, c, A_OP);
        else fp.any(cnt - 1);
        i++;
        continue;
      }

      case Cc.Slash:
      case Cc.Star:
        if (c === 0x2f && i + 1 < n && b[i + 1] === 0x2a) break; // a comment
        tok(kindA, startA, endA, auxA, cnt++, Tok.Op, i, i + 1, 0);
        if (fp.flags === 0) punct(fp, c, A_OP);
        else fp.any(cnt - 1);
        i++;
        continue;

      case Cc.Lparen:
        tok(kindA, startA, endA, auxA, cnt++, Tok.LParen, i, i + 1, 0);
        if (fp.flags === 0 && fp.depth < MAX_DEPTH) {
          fp.orderBy[++fp.depth] = 0;
          fp.nest++;
          punct(fp, 0x28, A_LPAREN);
        } else {
          fp.any(cnt - 1);
        }
        i++;
        continue;

      case Cc.Rparen:
        tok(kindA, startA, endA, auxA, cnt++, Tok.RParen, i, i + 1, 0);
        if (fp.flags === 0 && fp.nest !== fp.valNest) {
          fp.orderBy[fp.depth] = 0;
          if (fp.depth > 0) fp.depth--;
          fp.nest--;
          punct(fp, 0x29, A_RPAREN);
        } else {
          fp.any(cnt - 1);
        }
        i++;
        continue;

      case Cc.Comma:
        tok(kindA, startA, endA, auxA, cnt++, Tok.Comma, i, i + 1, 0);
        if (fp.flags === 0) {
          buf[fp.length++] = 0x2c;
          fp.last = A_COMMA;
          fp.prevKw = 0;
        } else {
          fp.any(cnt - 1);
        }
        i++;
        continue;

      case Cc.Semi:
        tok(kindA, startA, endA, auxA, cnt++, Tok.Semi, i, i + 1, 0);
        fp.any(cnt - 1);
        i++;
        continue;

      case Cc.Qmark:
        tok(kindA, startA, endA, auxA, cnt++, Tok.Param, i, i + 1, 0);
        if (fp.flags === 0) qmark(fp);
        else fp.any(cnt - 1);
        i++;
        continue;

      case Cc.Dot:
        if (i + 1 < n && isDigit(b[i + 1]!) && !(cnt > 0 && endA[cnt - 1] === i && isName(kindA[cnt - 1]!))) break; // .5
        tok(kindA, startA, endA, auxA, cnt++, Tok.Dot, i, i + 1, 0);
        if (fp.flags === 0) punct(fp, 0x2e, A_DOT);
        else fp.any(cnt - 1);
        i++;
        continue;

      case Cc.Op: {
        const j = opEnd(b, n, i, c);
        const prefix = opPrefix(b, n, i, j, c);
        tok(kindA, startA, endA, auxA, cnt++, Tok.Op, i, j, prefix ? OP_UNARY : 0);
        if (fp.flags === 0 && c !== 0x40) {
          const cls = prefix ? A_PREFIX : A_OP;
          let o = space(buf, fp.length, fp.last, fp.callable, cls);
          for (let k = i; k < j; k++) buf[o++] = b[k]!;
          fp.length = o;
          fp.last = cls;
          fp.prevKw = 0;
        } else {
          fp.any(cnt - 1); // @ may glue to the name before it
        }
        i = j;
        continue;
      }

      default:
        break; // #, {, control bytes
    }
    break; // what this loop leaves to lexRange
  }
  return i < n ? lexRange(b, i, n, opts, t, cnt, false, fp) : cnt;
}

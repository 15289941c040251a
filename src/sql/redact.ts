/**
 * Redaction: the statement as written, with every literal replaced by `?` and every comment
 * removed (the contents of `/*!…*\/` and `/*+…*\/` stay, as SQL, redacted like the rest).
 * Whitespace, identifiers, keywords, operators and placeholders are copied byte for byte.
 */
import { Span, type TokenList } from './lexer.js';

const QMARK = 0x3f;

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Whether the last `writeRedacted` surely wrote only ASCII bytes. */
export const lastRedacted = { ascii: true };

/** OR of the bytes `copy` copied since `writeRedacted` began. */
let copied = 0;

function copy(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): number {
  const len = e - s;
  if (len > 24) {
    out.set(b.subarray(s, e), o); // past a few bytes, cheaper than a loop
    copied |= 0x80; // unknown: decoded as if not ASCII
    return o + len;
  }
  let or = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    out[o++] = c;
    or |= c;
  }
  copied |= or;
  return o;
}

/**
 * Write the redacted text of `b[from, to)`, already lexed into `t`, to `out` (capacity at least
 * `to - from + 1`). Returns the end of the text in `out`; `redactedStart` gives its start (the text
 * is trimmed of leading and trailing whitespace).
 */
export function writeRedacted(b: Uint8Array, from: number, to: number, t: TokenList, out: Uint8Array): number {
  copied = 0;
  let o = 0;
  let run = from;
  const count = t.spanCount;
  for (let k = 0; k < count; k++) {
    o = copy(b, run, t.spanStart[k]!, out, o);
    run = t.spanEnd[k]!;
    const kind = t.spanKind[k] as Span;
    if (kind === Span.Mask) {
      out[o++] = QMARK;
      continue;
    }
    // A comment goes with the spaces before it; a block comment between two tokens leaves one space.
    while (o > 0 && (out[o - 1] === 0x20 || out[o - 1] === 0x09)) o--;
    if (kind === Span.BlockComment && run < to && !isSpace(b[run]!) && o > 0 && !isSpace(out[o - 1]!)) out[o++] = 0x20;
  }
  o = copy(b, run, to, out, o);
  while (o > 0 && isSpace(out[o - 1]!)) o--;
  lastRedacted.ascii = (copied & 0x80) === 0;
  return o;
}

/** Start of the redacted text in `out[0, end)`: after leading whitespace. */
export function redactedStart(out: Uint8Array, end: number): number {
  let s = 0;
  while (s < end && isSpace(out[s]!)) s++;
  return s;
}

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

/**
 * The redacted text of a statement, written into a reused buffer: `buf[start, end)` after
 * `write`, `ascii` when surely every byte of it is ASCII.
 */
export class RedactedText {
  buf = new Uint8Array(1024);
  start = 0;
  end = 0;
  ascii = true;
  /** OR of the bytes `copy` copied since `write` began. */
  private copied = 0;

  /** Write the redacted text of `b[from, to)`, already lexed into `t`. */
  write(b: Uint8Array, from: number, to: number, t: TokenList): void {
    if (this.buf.length < to - from + 2) this.buf = new Uint8Array(Math.max(to - from + 2, this.buf.length * 2));
    const out = this.buf;
    this.copied = 0;
    let o = 0;
    let run = from;
    const count = t.spanCount;
    for (let k = 0; k < count; k++) {
      o = this.copy(b, run, t.spanStart[k]!, out, o);
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
    o = this.copy(b, run, to, out, o);
    while (o > 0 && isSpace(out[o - 1]!)) o--;
    let s = 0;
    while (s < o && isSpace(out[s]!)) s++;
    this.start = s;
    this.end = o;
    this.ascii = (this.copied & 0x80) === 0;
  }

  /** Drop a buffer grown past `max` bytes (after a huge statement). */
  shrink(max: number): void {
    if (this.buf.length > max) this.buf = new Uint8Array(1024);
  }

  private copy(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): number {
    const len = e - s;
    if (len > 24) {
      out.set(b.subarray(s, e), o); // past a few bytes, cheaper than a loop
      this.copied |= 0x80; // unknown: decoded as if not ASCII
      return o + len;
    }
    let or = 0;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      out[o++] = c;
      or |= c;
    }
    this.copied |= or;
    return o;
  }
}

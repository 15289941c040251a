/**
 * Statements seen before, as templates: a capture repeats a few hundred statement shapes millions
 * of times with other literal values, and a statement that differs from one seen before only inside
 * its string and number literals has the same redacted text, fingerprint and digest. Recognising it
 * costs a comparison of its bytes, not a lexer pass.
 *
 * A template is the bytes of a statement S0 with its literals and comments cut out ("holes"), and
 * S0's results. A statement I matches it when I is the template's bytes with, at each hole, a
 * literal or comment of the same kind, read as the lexer reads it: a string opened by the same
 * quote, to where `quotedEnd` ends it (it must be closed; in X'…' and B'…' without escapes, as the
 * lexer reads those); a number where `numberEnd` ends it (starting with a digit, or a `.` and a
 * digit, as the hole did); a block comment (not `/*!`, `/*M!` nor `/*+`) to its first `*\/`; a line
 * comment to the end of the line. Whatever comes before the string of a literal (X, N, DATE,
 * `_utf8mb4`, `{d`) or after it (`}`) is compared as it is.
 *
 * Why I's results are then S0's: the lexer reads left to right; outside the holes I and S0 have the
 * same bytes, so it makes the same decisions there, provided that nothing it decides depends on a
 * hole's contents other than through the function that reads the hole. Which reads cross into a
 * hole: the token before a hole stops at the hole's first byte, which is the same quote, or a digit
 * (all digits are alike to every table and test of the lexer: class, identifier byte, not `-`, `*`,
 * `=`, `>` nor a space), or the same `.`; `introduced` and `odbcEnd` read across a string with
 * `quotedEnd`, as the hole does, then look at the byte after it, which is the same; nothing else
 * reads past a token's end but one byte (a comment's first byte is `/`, `#` or `-`, as in S0, and
 * the bytes after `/*` and `--` that decide what it is are checked). In a hole, the lexer calls
 * the same function the match did, on the same bytes, with the same end, and takes the same branch:
 * a string is a Lit; a number after the same tokens is a Lit with the same signs merged
 * (`pushNumber` looks at tokens, not values); a comment is a span and no token (the redaction's
 * spacing around it looks at the bytes around it, which are the same). So I has S0's tokens, with
 * other literal values and positions, and the same spans: its fingerprint (made from the tokens,
 * `?` for every literal) and its redacted text (its bytes outside the spans, which are S0's) are
 * S0's. And nothing of I is in them: they are S0's outputs.
 *
 * Executable comments (`/*!40101 … *\/`, `/*M!…`) are lexed as SQL with the same functions and the
 * same end as the rest (only their `*\/` reads as a token), so the argument holds inside them: their
 * opening with its version digits (at most 5, or 6 after `M!`, so that a number right after them
 * starts where it did) and their `*\/` are fixed bytes. An optimizer hint (`/*+ … *\/`) is another
 * matter: its end is found first, by a search for `*\/` across its strings, then its inside is
 * lexed up to there; so a template keeps a hint's bytes as they are, holes and all, and matches
 * only a statement with the same hint, whose search then finds the same end.
 *
 * Statements with what this argument does not cover get no template: unterminated literals and
 * control bytes (masked to the end), and multi-byte character sets.
 *
 * Lookup: by a hash of the statement's first bytes outside its literals and comments
 * (`templateKey`), then a chain of up to MAX_CHAIN templates per slot, the last matched first.
 * Which statements get a template is the caller's choice. The templates live in one arena (an
 * ArrayBuffer), so that a lookup touches few cache lines; memory is bounded (ARENA_BYTES,
 * MAX_TEMPLATES: then all are dropped and the cache fills again).
 */
import { KEYWORDS, kw } from './keywords.js';
import { CLASS, Cc, isDigit, NO_MB, numberEnd, quotedEnd, Span, Tok, type TokenList } from './lexer.js';

/** Hole kinds: a quote byte (a string, `\` escapes as the session says), or one of these. */
const H_NUMBER = 1;
const H_DOT_NUMBER = 2;
/** A string in `'` without escapes: X'…', B'…'. */
const H_RAW_STRING = 3;
/** A block comment `/*…*\/` (not executable, not a hint). */
const H_BLOCK_COMMENT = 4;
/** A comment from `#` or `-- ` to the end of the line. */
const H_LINE_COMMENT = 5;
/** A digit inside a name (`user0_`, `t1`): copied into the results at positions the template knows. */
const H_NAME_DIGIT = 6;

/** Keywords with digits (int1, float8…): a name whose digits change could become one. */
const DIGIT_KEYWORDS = KEYWORDS.map((k) => k.word).filter((w) => /[0-9]/.test(w));
const K_UNION = kw('union');

const KEY_BYTES = 32;
const MAX_CHAIN = 16;
const MAX_TEMPLATES = 1 << 14;

// ---------------------------------------------------------------------------------------------
// Keys

// Key bytes: 0 a byte hashed, 1 a quote (the quoted run is skipped), 2 a digit (a number is skipped
// unless the digit is inside a name), 3 a byte that can be part of a name, 4 `/`, `#` or `-`
// (a comment is skipped).
const KEY_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) KEY_CLASS[c] = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a ? 3 : c === 0x5f || c === 0x24 || c >= 0x80 ? 3 : 0;
KEY_CLASS[0x27] = KEY_CLASS[0x22] = 1;
for (let c = 0x30; c <= 0x39; c++) KEY_CLASS[c] = 2;
KEY_CLASS[0x2f] = KEY_CLASS[0x23] = KEY_CLASS[0x2d] = 4;

/**
 * PLAIN[c]: 1 when the byte `c` can be hashed as it is: ASCII, and neither a quote, a digit, `/`,
 * `#` nor `-` (what may start a literal or a comment). (256 bytes: it stays in the L1 cache.)
 */
const PLAIN = new Uint8Array(256);
for (let c = 0; c < 0x80; c++) PLAIN[c] = KEY_CLASS[c] === 0 || KEY_CLASS[c] === 3 ? 1 : 0;

/**
 * A hash of the first KEY_BYTES bytes of `b[s, e)` that are not in a literal or a comment, as far
 * as a quick look can tell (a small integer): statements that differ only there mostly share it.
 * (It only picks the templates to try: what matches is decided by `TemplateCache.find`.) `v`: a
 * DataView over the memory of `b`, whose offset there is `base`.
 */
function templateKey(v: DataView, base: number, b: Uint8Array, s: number, e: number): number {
  let h = 0x2545f491;
  let taken = 0;
  let name = false;
  let i = s;
  while (i < e && taken < KEY_BYTES) {
    if (e - i >= 4) {
      const w = v.getInt32(base + i, true);
      if ((PLAIN[w & 0xff]! & PLAIN[(w >>> 8) & 0xff]! & PLAIN[(w >>> 16) & 0xff]! & PLAIN[w >>> 24]!) === 1) {
        h = Math.imul(h ^ w, 0x9e3779b1) ^ (h >>> 13);
        name = KEY_CLASS[w >>> 24]! === 3;
        taken += 4;
        i += 4;
        continue;
      }
    }
    const c = b[i]!;
    const k = KEY_CLASS[c]!;
    if (k === 1) {
      i++;
      while (i < e && b[i] !== c) i += b[i] === 0x5c ? 2 : 1;
      i++;
      h = Math.imul(h ^ c, 0x85ebca6b);
      name = false;
      continue;
    }
    if (k === 2 && name) {
      i++; // a digit inside a name: left out, as a template may leave it out (H_NAME_DIGIT)
      continue;
    }
    if (k === 2) {
      // A number: digits, dots, hex digits, an exponent and its sign.
      i++;
      while (i < e) {
        const d = b[i]!;
        if (KEY_CLASS[d]! === 2 || KEY_CLASS[d]! === 3 || d === 0x2e || ((d === 0x2b || d === 0x2d) && (b[i - 1]! | 0x20) === 0x65)) i++;
        else break;
      }
      h = Math.imul(h ^ 0x30, 0x85ebca6b);
      continue;
    }
    if (k === 4 && i + 1 < e) {
      const d = b[i + 1]!;
      const j = c === 0x2f && d === 0x2a ? blockCommentEnd(b, e, i) : c === 0x23 || (c === 0x2d && d === 0x2d) ? lineCommentEnd(b, e, i) : -1;
      if (j > 0) {
        i = j;
        continue;
      }
    }
    name = k === 2 || k === 3;
    h = Math.imul(h ^ c, 0x85ebca6b);
    taken++;
    i++;
  }
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

// ---------------------------------------------------------------------------------------------
// Holes

/** End of the plain block comment at `i` (its first `*\/` included), or -1 (none there, or unterminated). */
function blockCommentEnd(b: Uint8Array, e: number, i: number): number {
  if (i + 2 >= e || b[i] !== 0x2f || b[i + 1] !== 0x2a) return -1;
  const c2 = b[i + 2]!;
  if (c2 === 0x21 || c2 === 0x2b || (c2 | 0x20) === 0x6d) return -1; // /*! /*+ /*M!: not plain (or not surely)
  for (let j = i + 2; j + 1 < e; j++) if (b[j] === 0x2a && b[j + 1] === 0x2f) return j + 2;
  return -1;
}

/** End of the line comment at `i` (before its newline, or the input's end), or -1. */
function lineCommentEnd(b: Uint8Array, e: number, i: number): number {
  const c = b[i];
  if (c === 0x2d) {
    if (!(i + 1 < e && b[i + 1] === 0x2d && (i + 2 >= e || b[i + 2]! <= 0x20))) return -1;
  } else if (c !== 0x23) {
    return -1;
  }
  let j = i + 1;
  while (j < e && b[j] !== 0x0a) j++;
  return j;
}

/** End of the hole of kind `hole` at `b[i]`, or -1 when there is none there. */
function holeEnd(b: Uint8Array, e: number, i: number, hole: number, escapes: boolean): number {
  const c = b[i]!;
  switch (hole) {
    case H_NUMBER:
      return isDigit(c) ? numberEnd(b, e, i) : -1;
    case H_DOT_NUMBER: {
      if (c !== 0x2e || i + 1 >= e || !isDigit(b[i + 1]!)) return -1;
      const j = numberEnd(b, e, i);
      return j > i ? j : -1;
    }
    case H_RAW_STRING:
      return c === 0x27 ? quotedEnd(b, e, i, 0x27, false, NO_MB, NO_MB) : -1;
    case H_BLOCK_COMMENT:
      return blockCommentEnd(b, e, i);
    case H_LINE_COMMENT:
      return lineCommentEnd(b, e, i);
    case H_NAME_DIGIT:
      return isDigit(c) ? i + 1 : -1;
    default:
      return c === hole ? quotedEnd(b, e, i, hole, escapes, NO_MB, NO_MB) : -1;
  }
}

/**
 * The holes of a template of `b[s, e)`, lexed into `t`: [start, end, kind] for each, in order; or
 * null when it can have none (see the file's comment). `escapes`/`ansiQuotes`: the session mode it
 * was lexed in. A span is a hole only if it reads again as the lexer read it; the others (TRUE,
 * FALSE, …) stay in the fixed bytes.
 */
export function templateHoles(b: Uint8Array, _s: number, e: number, t: TokenList, escapes: boolean, ansiQuotes: boolean, nameDigits: boolean): number[] | null {
  let union = false;
  // Optimizer hints, [start, end) each: their bytes stay as they are (no hole inside).
  let hints: number[] | null = null;
  for (let k = 0; k < t.count; k++) {
    const kind = t.kind[k];
    if (kind === Tok.MaskEnd) return null;
    if (kind === Tok.Word && t.aux[k] === K_UNION) union = true;
    if (kind === Tok.ExecOpen && t.aux[k] === 2) {
      let close = k + 1;
      while (close < t.count && t.kind[close] !== Tok.ExecClose) close++;
      (hints ??= []).push(t.start[k]!, close < t.count ? t.end[close]! : e);
    }
  }
  const names: number[] = [];
  if (nameDigits && !union) addNameDigits(b, t, names);
  const holes: number[] = [];
  for (let k = 0; k < t.spanCount; k++) {
    const ss = t.spanStart[k]!;
    const se = t.spanEnd[k]!;
    let hs = ss; // the hole is [hs, he): what comes before and after it in the span is compared as it is
    let he = se;
    let hole = 0;
    const c = b[ss]!;
    if (t.spanKind[k] === Span.BlockComment) {
      hole = H_BLOCK_COMMENT;
    } else if (t.spanKind[k] === Span.LineComment) {
      hole = H_LINE_COMMENT;
    } else if (c === 0x27 || (c === 0x22 && !ansiQuotes)) {
      hole = c;
    } else if (isDigit(c) || c === 0x2e || c === 0x2d || c === 0x2b) {
      // A number, perhaps with signs (and spaces) before it: those stay in the fixed bytes.
      while (hs < se && (b[hs] === 0x2d || b[hs] === 0x2b || b[hs] === 0x20 || (b[hs]! >= 0x09 && b[hs]! <= 0x0d))) hs++;
      if (hs < se) hole = isDigit(b[hs]!) ? H_NUMBER : H_DOT_NUMBER;
    } else {
      // X'…', B'…', N'…', DATE '…', _utf8mb4'…', {d '…'}: the string in it.
      let q = ss;
      while (q < se && b[q] !== 0x27 && !(b[q] === 0x22 && !ansiQuotes)) q++;
      if (q < se) {
        hs = q;
        // X'…', B'…', and after an introducer `_binary X'…'`: read without escapes, as `introduced` does.
        const x = b[q - 1]! | 0x20;
        const raw = b[q] === 0x27 && (x === 0x78 || x === 0x62) && (q === ss + 1 || (q >= ss + 2 && CLASS[b[q - 2]!] === Cc.Ws));
        hole = raw ? H_RAW_STRING : b[q]!;
        he = holeEnd(b, e, hs, hole, escapes);
        if (!(he > hs && he <= se)) hole = 0;
      }
    }
    if (hole !== 0 && holeEnd(b, e, hs, hole, escapes) !== he) hole = 0; // reads otherwise: keep it as it is
    if (hole !== 0) holes.push(hs, he, hole);
  }
  const all = names.length === 0 ? holes : merge(holes, names);
  return hints === null ? all : outside(all, hints);
}

/** The holes (in order) that start outside every range of `ranges` ([start, end)…). */
function outside(holes: number[], ranges: number[]): number[] {
  const out: number[] = [];
  next: for (let h = 0; h < holes.length; h += 3) {
    for (let r = 0; r < ranges.length; r += 2) if (holes[h]! >= ranges[r]! && holes[h]! < ranges[r + 1]!) continue next;
    out.push(holes[h]!, holes[h + 1]!, holes[h + 2]!);
  }
  return out;
}

/** Does any hole stand for a digit inside a name? */
export function hasNameDigits(holes: number[]): boolean {
  for (let h = 2; h < holes.length; h += 3) if (holes[h] === H_NAME_DIGIT) return true;
  return false;
}

/** Is the hole of kind `kind` a digit inside a name? */
export function isNameDigit(kind: number): boolean {
  return kind === H_NAME_DIGIT;
}

/**
 * The digits inside the names of `t` that may change without changing how the statement reads,
 * as holes: in a Word or a QIdent that does not start with a digit (then it would be a number or
 * a name the lexer reads by other rules) nor with `_` (`_utf8` could become an introducer), and
 * that no change of digits can turn into a keyword (int1, float8). Such a digit is an identifier
 * byte to every rule of the lexer, and the fingerprint copies names as they are (but in UNION
 * branches it compares: the caller leaves such statements out).
 */
function addNameDigits(b: Uint8Array, t: TokenList, holes: number[]): void {
  for (let k = 0; k < t.count; k++) {
    const kind = t.kind[k];
    if (kind !== Tok.Word && kind !== Tok.QIdent) continue;
    let s = t.start[k]!;
    let e = t.end[k]!;
    if (kind === Tok.QIdent) {
      s++;
      e--;
    }
    if (s >= e || isDigit(b[s]!) || b[s] === 0x5f) continue;
    let digits = false;
    for (let i = s; i < e; i++) if (isDigit(b[i]!)) digits = true;
    if (!digits || couldBeKeyword(b, s, e)) continue;
    for (let i = s; i < e; i++) if (isDigit(b[i]!)) holes.push(i, i + 1, H_NAME_DIGIT);
  }
}

/** Could `b[s, e)` read as a keyword with other digits? */
function couldBeKeyword(b: Uint8Array, s: number, e: number): boolean {
  next: for (const w of DIGIT_KEYWORDS) {
    if (w.length !== e - s) continue;
    for (let i = 0; i < w.length; i++) {
      const c = b[s + i]! | 0x20;
      const x = w.charCodeAt(i);
      if (!(isDigit(x) ? isDigit(b[s + i]!) : c === x)) continue next;
    }
    return true;
  }
  return false;
}

/** Two lists of holes ([start, end, kind]…, each in order, none overlapping) as one, in order. */
function merge(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! < b[j]!) ? a : b;
    const k = x === a ? i : j;
    out.push(x[k]!, x[k + 1]!, x[k + 2]!);
    if (x === a) i += 3;
    else j += 3;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The cache

// A template's record in the arena, at a multiple of 4: key, mode, next (the id of the next
// template in its slot's chain, or -1), patch (the offset from the record of its patch, or 0), n
// (the number of int32 that follow: 2 × holes + 1), the run lengths and hole kinds (run, hole,
// run, …, run), the fixed bytes; then, for a template with digits inside names, its patch: d (the
// number of those digits), the lengths of the redacted text and of the fingerprint, where each
// digit goes in the redacted text, in the fingerprint (-1: nowhere), then the two texts' bytes.
const R_KEY = 0;
const R_MODE = 4;
const R_NEXT = 8;
const R_PATCH = 12;
const R_N = 16;
const R_SEGMENTS = 20;

/** `TemplateCache.patched`: the results do not fit; written; the template's own digits (nothing written). */
export const PATCH_NONE = 0;
export const PATCH_WRITTEN = 1;
export const PATCH_SAME = 2;

/** Where the digits inside names of a template go in its results (see `TemplateCache.add`). */
export interface Patch {
  /** The redacted text's and the fingerprint's bytes (ASCII). */
  redacted: Uint8Array;
  fingerprint: Uint8Array;
  /** Per digit (in order): its position in each, -1 for none. */
  inRedacted: number[];
  inFingerprint: number[];
}
const ARENA_BYTES = 1 << 22;
const SLOTS = 1 << 15;

export class TemplateCache {
  private readonly arena = new ArrayBuffer(ARENA_BYTES);
  private readonly bytes = new Uint8Array(this.arena);
  private readonly view = new DataView(this.arena);
  private used = 0;
  /** Per slot (`key & (SLOTS - 1)`): the first template of its chain, or -1; and the chain's length. */
  private readonly heads = new Int32Array(SLOTS).fill(-1);
  private readonly lengths = new Uint8Array(SLOTS);
  /** Per slot: templates made, and matched (saturating): see `wanted`. */
  private readonly made = new Uint16Array(SLOTS);
  private readonly matched = new Uint16Array(SLOTS);
  /** Per template id: its record's offset. */
  private offsets = new Int32Array(1024);
  private count = 0;
  /** Lookups and matches since the cache was made. */
  lookups = 0;
  hits = 0;
  /** The digits inside names of the statement the last `find` matched. */
  private readonly digits = new Uint8Array(256);
  private digitCount = 0;
  /** After `patched`: the lengths of the redacted text and of the fingerprint it wrote. */
  redactedLength = 0;
  fingerprintLength = 0;
  /** Per template id, its results (the redacted text null until a caller needed it). */
  readonly redacted: (string | null)[] = [];
  /** Per template id, its fingerprint and digest, one frozen object returned at every match. */
  private readonly pairs: Readonly<{ fingerprint: string; digest: string }>[] = [];
  /** And with its redacted text, made on first use. */
  private readonly triples: (Readonly<{ redacted: string; fingerprint: string; digest: string }> | undefined)[] = [];

  // A DataView over the memory of the last input, to compare it 4 bytes at a time: made again when
  // an input comes in other memory (a DataView per call would cost more than it saves), dropped by
  // `forgetInput`. The only reference to an input kept after a call.
  // (The typed array's getters cost more than a comparison here, so the last input array is kept
  // too, with its offset in that memory.)
  private inputArray: Uint8Array | null = null;
  private inputBuffer: ArrayBufferLike | null = null;
  private inputView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private inputBase = 0;

  /** Drop the reference to the last input's memory. */
  forgetInput(): void {
    this.inputArray = null;
    this.inputBuffer = null;
    this.inputView = new DataView(new ArrayBuffer(0));
  }

  /** A DataView over the memory of `b` (its offset 0 is `b.buffer`'s); `inputBase` is `b.byteOffset`. */
  private viewOf(b: Uint8Array): DataView {
    if (b !== this.inputArray) {
      this.inputArray = b;
      this.inputBase = b.byteOffset;
      const buffer = b.buffer;
      if (buffer !== this.inputBuffer) {
        this.inputBuffer = buffer;
        this.inputView = new DataView(buffer);
      }
    }
    return this.inputView;
  }

  /** The key `find` and `add` take for `b[s, e)` (`templateKey`). */
  key(b: Uint8Array, s: number, e: number): number {
    return templateKey(this.viewOf(b), this.inputBase, b, s, e);
  }

  /** The id of the template `b[s, e)` (key `key`, session mode `mode`) matches, or -1. */
  find(b: Uint8Array, s: number, e: number, key: number, mode: number, escapes: boolean): number {
    this.lookups++;
    const slot = key & (SLOTS - 1);
    let id = this.heads[slot]!;
    if (id < 0) return -1;
    const A = this.view;
    const v = this.viewOf(b);
    const base = this.inputBase;
    let prev = -1;
    while (id >= 0) {
      const r = this.offsets[id]!;
      const next = A.getInt32(r + R_NEXT, true);
      if (A.getInt32(r + R_KEY, true) === key && A.getInt32(r + R_MODE, true) === mode && this.matches(b, s, e, r, escapes, v, base)) {
        if (prev >= 0) {
          // The often matched move to the front.
          A.setInt32(this.offsets[prev]! + R_NEXT, next, true);
          A.setInt32(r + R_NEXT, this.heads[slot]!, true);
          this.heads[slot] = id;
        }
        this.hits++;
        if (this.matched[slot]! < 0xffff) this.matched[slot]++;
        return id;
      }
      prev = id;
      id = next;
    }
    return -1;
  }

  /**
   * Does `b[s, e)` match the template at `r` (see the file's comment)? `escapes`: backslash escapes
   * in strings; `v`: `this.viewOf(b)`, `base`: `b.byteOffset`.
   */
  private matches(b: Uint8Array, s: number, e: number, r: number, escapes: boolean, v: DataView, base: number): boolean {
    const A = this.view;
    const fixed = this.bytes;
    const last = A.getInt32(r + R_N, true) - 1;
    let i = s;
    let p = r + R_SEGMENTS + 4 * (last + 1);
    let d = 0;
    for (let k = 0; ; k += 2) {
      const len = A.getInt32(r + R_SEGMENTS + 4 * k, true);
      if (len > e - i) return false;
      let q = 0;
      const x = base + i;
      for (; q + 8 <= len; q += 8) if (((v.getInt32(x + q, true) ^ A.getInt32(p + q, true)) | (v.getInt32(x + q + 4, true) ^ A.getInt32(p + q + 4, true))) !== 0) return false;
      for (; q + 4 <= len; q += 4) if (v.getInt32(x + q, true) !== A.getInt32(p + q, true)) return false;
      for (; q < len; q++) if (b[i + q] !== fixed[p + q]) return false;
      i += len;
      p += len;
      if (k === last) {
        this.digitCount = d;
        return i === e;
      }
      if (i >= e) return false;
      const hole = A.getInt32(r + R_SEGMENTS + 4 * k + 4, true);
      if (hole === H_NAME_DIGIT) {
        const c = b[i]!;
        if (!isDigit(c) || d === this.digits.length) return false;
        this.digits[d++] = c;
        i++;
        continue;
      }
      const j = holeEnd(b, e, i, hole, escapes);
      if (j < 0) return false;
      i = j;
    }
  }

  /**
   * Make a template of `b[s, e)` (its holes: `templateHoles`) with these results. New templates go
   * last in their chain, in place of the last one when it is full: statements seen once then (a
   * shape made of values the template does not leave out) push out no other.
   */
  add(key: number, mode: number, b: Uint8Array, s: number, e: number, holes: number[], patch: Patch | null, redacted: string | null, fingerprint: string, digest: string): void {
    const n = holes.length / 3;
    let fixedLength = e - s;
    for (let h = 0; h < holes.length; h += 3) fixedLength -= holes[h + 1]! - holes[h]!;
    const main = (R_SEGMENTS + 4 * (2 * n + 1) + fixedLength + 3) & ~3;
    const digits = patch === null ? 0 : patch.inRedacted.length;
    const size = patch === null ? main : (main + 12 + 8 * digits + digits + patch.redacted.length + patch.fingerprint.length + 3) & ~3;
    if (size > ARENA_BYTES / 4) return;
    if (this.used + size > ARENA_BYTES || this.count >= MAX_TEMPLATES) this.clear();
    const A = this.view;
    const r = this.used;
    this.used += size;
    A.setInt32(r + R_KEY, key, true);
    A.setInt32(r + R_MODE, mode, true);
    A.setInt32(r + R_NEXT, -1, true);
    A.setInt32(r + R_PATCH, patch === null ? 0 : main, true);
    A.setInt32(r + R_N, 2 * n + 1, true);
    let f = r + R_SEGMENTS + 4 * (2 * n + 1);
    let run = s;
    for (let h = 0; h <= n; h++) {
      const hs = h < n ? holes[3 * h]! : e;
      this.bytes.set(b.subarray(run, hs), f);
      f += hs - run;
      A.setInt32(r + R_SEGMENTS + 8 * h, hs - run, true);
      if (h < n) {
        A.setInt32(r + R_SEGMENTS + 8 * h + 4, holes[3 * h + 2]!, true);
        run = holes[3 * h + 1]!;
      }
    }
    if (patch !== null) {
      const q = r + main;
      A.setInt32(q, digits, true);
      A.setInt32(q + 4, patch.redacted.length, true);
      A.setInt32(q + 8, patch.fingerprint.length, true);
      for (let i = 0; i < digits; i++) {
        A.setInt32(q + 12 + 4 * i, patch.inRedacted[i]!, true);
        A.setInt32(q + 12 + 4 * (digits + i), patch.inFingerprint[i]!, true);
      }
      this.bytes.set(patch.redacted, q + 12 + 8 * digits);
      this.bytes.set(patch.fingerprint, q + 12 + 8 * digits + patch.redacted.length);
      // And the template's own digits.
      const own = q + 12 + 8 * digits + patch.redacted.length + patch.fingerprint.length;
      for (let i = 0; i < digits; i++) this.bytes[own + i] = patch.redacted[patch.inRedacted[i]!]!;
    }
    const id = this.count++;
    const slot = key & (SLOTS - 1);
    if (this.made[slot]! < 0xffff) this.made[slot]++;
    if (id === this.offsets.length) {
      const grown = new Int32Array(id * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[id] = r;
    this.redacted[id] = redacted;
    this.pairs[id] = Object.freeze({ fingerprint, digest });
    this.triples[id] = undefined;
    let last = this.heads[slot]!;
    if (last < 0) {
      this.heads[slot] = id;
      this.lengths[slot] = 1;
      return;
    }
    let before = -1;
    for (let next = A.getInt32(this.offsets[last]! + R_NEXT, true); next >= 0; next = A.getInt32(this.offsets[last]! + R_NEXT, true)) {
      before = last;
      last = next;
    }
    if (this.lengths[slot]! < MAX_CHAIN) {
      A.setInt32(this.offsets[last]! + R_NEXT, id, true);
      this.lengths[slot]++;
    } else if (before < 0) {
      this.heads[slot] = id; // a chain of one, full: replaced
    } else {
      A.setInt32(this.offsets[before]! + R_NEXT, id, true); // the last one replaced
    }
  }

  /**
   * Should a template be made for a statement of key `key` that matched none? Not once its slot
   * has had templates made that are not matched: statements that differ where a template keeps
   * the bytes (names that change other than in their digits, numbers written as names) would
   * otherwise make one each.
   */
  wanted(key: number): boolean {
    const slot = key & (SLOTS - 1);
    const made = this.made[slot]!;
    return made < 4 || made <= this.matched[slot]!;
  }

  /** Has template `id` digits inside names (its results are then written by `patched`)? */
  hasPatch(id: number): boolean {
    return this.view.getInt32(this.offsets[id]! + R_PATCH, true) !== 0;
  }

  /**
   * The results of the statement the last `find` matched with template `id`, which `hasPatch`:
   * PATCH_SAME when its digits in names are the template's own (its results are the template's;
   * unless `same` is false: then the results are written as for others);
   * else the template's redacted text and fingerprint with those digits, into `redacted` and
   * `fingerprint` (`redactedLength`, `fingerprintLength` long): PATCH_WRITTEN, or PATCH_NONE when
   * they do not fit.
   */
  patched(id: number, redacted: Uint8Array, fingerprint: Uint8Array, same = true): number {
    const A = this.view;
    const q = this.offsets[id]! + A.getInt32(this.offsets[id]! + R_PATCH, true);
    const digits = A.getInt32(q, true);
    const rl = A.getInt32(q + 4, true);
    const fl = A.getInt32(q + 8, true);
    if (digits !== this.digitCount) return PATCH_NONE;
    const own = q + 12 + 8 * digits + rl + fl;
    for (let i = 0; i < digits && same; i++) same = this.digits[i] === this.bytes[own + i];
    if (same) return PATCH_SAME;
    if (rl > redacted.length || fl > fingerprint.length) return PATCH_NONE;
    const at = q + 12 + 8 * digits;
    redacted.set(this.bytes.subarray(at, at + rl));
    fingerprint.set(this.bytes.subarray(at + rl, at + rl + fl));
    for (let i = 0; i < digits; i++) {
      const c = this.digits[i]!;
      redacted[A.getInt32(q + 12 + 4 * i, true)] = c;
      const f = A.getInt32(q + 12 + 4 * (digits + i), true);
      if (f >= 0) fingerprint[f] = c;
    }
    this.redactedLength = rl;
    this.fingerprintLength = fl;
    return PATCH_WRITTEN;
  }

  /** Fingerprint and digest of template `id`, as one object (the same one at every call). */
  grouping(id: number): Readonly<{ fingerprint: string; digest: string }> {
    return this.pairs[id]!;
  }

  /** Redacted text, fingerprint and digest of template `id` as one object (the same one at every call), or null without its redacted text. */
  normalized(id: number): Readonly<{ redacted: string; fingerprint: string; digest: string }> | null {
    const all = this.triples[id];
    if (all !== undefined) return all;
    const redacted = this.redacted[id];
    if (redacted === null || redacted === undefined) return null;
    return (this.triples[id] = Object.freeze({ redacted, ...this.pairs[id]! }));
  }

  /** Templates held. */
  get size(): number {
    return this.count;
  }

  clear(): void {
    this.heads.fill(-1);
    this.lengths.fill(0);
    this.made.fill(0);
    this.matched.fill(0);
    this.used = 0;
    this.count = 0;
    this.redacted.length = 0;
    this.pairs.length = 0;
    this.triples.length = 0;
  }
}

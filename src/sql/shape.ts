/**
 * A statement's shape: its text with every literal replaced by a stand-in that keeps only what
 * advice needs and no value — a string becomes `'s'` (or `'%s'` when it starts with a LIKE
 * wildcard), a number becomes its order of magnitude (0, 1, 10, 100, …; what tells a large
 * OFFSET), `?` placeholders of a prepared statement become `0` or `'s'` by the type the client
 * sent. Comments go. The result is SQL a parser reads, typed as the original was, so rules can
 * tell a string compared with a number, a leading-wildcard LIKE or a long IN list, which a
 * fingerprint (every literal `?`, lists folded) hides. It holds no literal of the statement.
 */
import { DEFAULT_LEX_OPTIONS, lex, Tok, TokenList } from './lexer.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** MYSQL_TYPE_* codes of numeric parameters. */
const NUMERIC_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 16, 246]);

/** Statements longer than this get no shape (advice on them is not worth the parse). */
export const MAX_SHAPE_BYTES = 64 * 1024;

function literal(b: Uint8Array, s: number, e: number): string {
  let i = s;
  // Sign, introducer (_utf8mb4'…', N'…'), temporal keyword (DATE '…'): look for the quote.
  while (i < e && b[i] !== 0x27 && b[i] !== 0x22) i++;
  if (i < e) {
    const c = b[i + 1];
    // X'…' and B'…' are numbers in disguise, but compared as strings: strings here.
    return c === 0x25 || c === 0x5f ? "'%s'" : "'s'";
  }
  const text = decoder.decode(b.subarray(s, e)).toLowerCase();
  if (text === 'true' || text === 'false' || text === 'null') return '0';
  const v = Math.abs(Number(text.replace(/^[-+]\s*/, '')));
  if (!Number.isFinite(v) || v < 1) return '0';
  return String(10 ** Math.floor(Math.log10(v) + 1e-9));
}

/**
 * Makes shapes with one token list, reused from statement to statement (a list per call cost about
 * 124 ms of a bundle of the 30 MB bench capture). Not shared between callers: each owner (an
 * aggregate, a bundle's shape cache) has its own.
 */
export class LiteralShaper {
  private readonly t = new TokenList();

  /** The shape of `sql` (null when it is too long or cannot be lexed to its end). */
  shape(sql: string, paramTypes: readonly number[] | null = null): string | null {
    if (sql.length > MAX_SHAPE_BYTES) return null;
    const b = encoder.encode(sql);
    const t = this.t;
    lex(b, 0, b.length, DEFAULT_LEX_OPTIONS, t);
    let out = '';
    let prevEnd = -1;
    let param = 0;
    for (let k = 0; k < t.count; k++) {
      const kind = t.kind[k]!;
      const s = t.start[k]!;
      const e = t.end[k]!;
      if (kind === Tok.MaskEnd || kind === Tok.ExecOpen || kind === Tok.ExecClose) return null;
      if (prevEnd >= 0 && s > prevEnd) out += ' ';
      prevEnd = e;
      if (kind === Tok.Lit) out += literal(b, s, e);
      else if (kind === Tok.Param) {
        const type = paramTypes?.[param++];
        out += type === undefined || NUMERIC_TYPES.has(type) ? '0' : "'s'";
      } else out += decoder.decode(b.subarray(s, e));
    }
    return out;
  }
}

/** The shape of `sql`, once (a shaper of its own; callers shaping many statements keep a LiteralShaper). */
export function literalShape(sql: string, paramTypes: readonly number[] | null = null): string | null {
  return new LiteralShaper().shape(sql, paramTypes);
}

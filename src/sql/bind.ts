/**
 * A prepared statement with its parameter values written in: what the server ran, as SQL that can
 * be run again or EXPLAINed (the slow log and examples made with --no-redact). Only for output that
 * keeps values; redacted output never calls this.
 *
 * The `?` placeholders are found by the lexer (not those inside strings, comments or names). A
 * value of a numeric type (its MySQL type code says so, and it reads as a number) is written as it
 * is; any other value as a quoted string (`'` doubled, `\` doubled, as the default SQL mode reads
 * it: under NO_BACKSLASH_ESCAPES a value holding `\` would read with its backslashes doubled); SQL
 * NULL as NULL.
 */
import { DEFAULT_LEX_OPTIONS, lex, Tok, TokenList } from './lexer.js';

/** MYSQL_TYPE_* codes whose binary-protocol values are numbers. */
const NUMERIC = new Set([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0d, 0xf6]);
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `value` as an SQL literal; `type` its MySQL type code (null: unknown, then quoted). */
export function sqlLiteral(value: string | null, type: number | null): string {
  if (value === null) return 'NULL';
  if (type !== null && NUMERIC.has(type) && NUMBER.test(value)) return value;
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * `sql` with its `?` placeholders replaced by `params` (as `sqlLiteral` writes them), or null when
 * the statement does not have exactly that many placeholders.
 */
export function bindParameters(sql: string, params: readonly (string | null)[], types: readonly number[] | null): string | null {
  const b = encoder.encode(sql);
  const tokens = new TokenList(); // (a few KiB: this runs only for output that keeps values)
  lex(b, 0, b.length, DEFAULT_LEX_OPTIONS, tokens);
  const parts: string[] = [];
  let run = 0;
  let k = 0;
  for (let i = 0; i < tokens.count; i++) {
    if (tokens.kind[i] !== Tok.Param) continue;
    if (k === params.length) return null;
    parts.push(decoder.decode(b.subarray(run, tokens.start[i])), sqlLiteral(params[k]!, types?.[k] ?? null));
    run = tokens.end[i]!;
    k++;
  }
  if (k !== params.length) return null;
  parts.push(decoder.decode(b.subarray(run)));
  return parts.join('');
}

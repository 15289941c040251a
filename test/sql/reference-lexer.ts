/**
 * A reference lexer for tests, written independently of src/sql/lexer.ts from MySQL's rules, slower
 * and simpler: it only finds string literals. Quotes with `\` escapes and doubled quotes;
 * backquoted names; `#`, `-- ` and `/* *\/` comments; the contents of `/*!…*\/` are SQL;
 * `/*+…*\/` is skipped like a comment (its strings are masked either way); a control character
 * outside a string ends the SQL.
 */
/** [start, end) of the contents of every string literal of `s`, by MySQL's rules. */
export function stringLiterals(s: string, opts: { backslashEscapes?: boolean; ansiQuotes?: boolean } = {}): [number, number][] {
  const esc = opts.backslashEscapes !== false;
  const out: [number, number][] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === "'" || (c === '"' && !opts.ansiQuotes)) {
      let j = i + 1;
      for (;;) {
        if (j >= n) {
          out.push([i + 1, n]);
          return out;
        }
        if (s[j] === '\\' && esc) j += 2;
        else if (s[j] === c) {
          if (s[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out.push([i + 1, j]);
      i = j + 1;
    } else if (c === '`' || c === '"') {
      let j = i + 1;
      while (j < n && !(s[j] === c && s[j + 1] !== c)) j += s[j] === c ? 2 : 1;
      i = j + 1;
    } else if (c === '#' || (c === '-' && s[i + 1] === '-' && (i + 2 >= n || s.charCodeAt(i + 2) <= 32))) {
      while (i < n && s[i] !== '\n') i++;
    } else if (c === '/' && s[i + 1] === '*') {
      if (s[i + 2] === '!') i += 3;
      else if ((s[i + 2] === 'M' || s[i + 2] === 'm') && s[i + 3] === '!') i += 4;
      else {
        const e = s.indexOf('*/', i + 2);
        i = e < 0 ? n : e + 2;
      }
    } else if ((code < 32 && !(code >= 9 && code <= 13)) || code === 127) {
      return out; // not SQL: the rest is masked
    } else i++;
  }
  return out;
}

/**
 * Contents (≥ 4 characters) of string literals that appear nowhere else in `sql`, in any case. A
 * content whose text without its leading and trailing whitespace appears elsewhere does not count:
 * the output may show that text and put a space next to it (`secretA'secretA ` → fingerprint
 * `secreta ?`, the name then a space, not the literal).
 */
export function secretsOf(sql: string, opts?: { backslashEscapes?: boolean; ansiQuotes?: boolean }): string[] {
  const lower = sql.toLowerCase();
  const spans = stringLiterals(sql, opts);
  const elsewhere = (text: string): boolean => {
    for (let at = lower.indexOf(text); at >= 0; at = lower.indexOf(text, at + 1)) {
      if (!spans.some(([a, b]) => at >= a && at + text.length <= b)) return true;
    }
    return false;
  };
  const out: string[] = [];
  for (const [s, e] of spans) {
    const content = lower.slice(s, e);
    if (content.length < 4) continue;
    const trimmed = content.trim();
    // A literal that is a name of the query plus `?` (`'hunter2?` after the name hunter2) is what
    // the redacted text shows anyway: the name, then the `?` that replaces the literal.
    const bare = content.replace(/\?/g, '').trim();
    if (bare.length > 0 && bare !== trimmed && elsewhere(bare)) continue;
    if (!elsewhere(content) && (trimmed.length === 0 || !elsewhere(trimmed))) out.push(content);
  }
  return out;
}


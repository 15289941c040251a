/**
 * A plain literal mask, used until the SQL redaction of src/sql lands: every quoted string and
 * every number becomes `?`; an unterminated quote masks to the end. Comments are dropped.
 * Deliberately blunt: it may mask a digit inside an identifier (t1 → t?), never leak a literal.
 */
export function maskLiterals(sql: string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (; j < n; j++) {
        if (sql[j] === '\\') j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      out += '?';
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = sql.indexOf('`', i + 1);
      const end = j < 0 ? n : j + 1;
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2);
      i = j < 0 ? n : j + 2;
      out += ' ';
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-' && (sql[i + 2] === ' ' || sql[i + 2] === '\t')) || c === '#') {
      const j = sql.indexOf('\n', i);
      i = j < 0 ? n : j;
      continue;
    }
    if (c >= '0' && c <= '9' && !/[A-Za-z_$]/.test(sql[i - 1] ?? ' ')) {
      let j = i;
      while (j < n && /[0-9a-fA-FxXbB.eE+]/.test(sql[j]!)) j++;
      out += '?';
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Server error messages echo values: every quoted span becomes `?`. */
export function maskErrorMessage(msg: string): string {
  return msg.replace(/'(?:[^'\\]|\\.|'')*'?/g, '?').replace(/"(?:[^"\\]|\\.|"")*"?/g, '?');
}

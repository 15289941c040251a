import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlNormalizer, type SqlOptions } from '../../src/sql/index.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const normalizeBytes = sqlNormalizer.normalizeBytes.bind(sqlNormalizer);
const redact = sqlNormalizer.redact.bind(sqlNormalizer);
const redactBytes = sqlNormalizer.redactBytes.bind(sqlNormalizer);

interface Case {
  name: string;
  sql: string;
  redacted: string;
  opts?: SqlOptions;
}

function table(cases: Case[]): void {
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(redact(c.sql, c.opts), c.redacted);
      // The bytes entry point agrees, also on a slice inside a larger buffer.
      const bytes = new TextEncoder().encode(`xx'${c.sql}`);
      assert.equal(redactBytes(bytes, 3, bytes.length, c.opts), c.redacted);
    });
  }
}

describe('redact: strings', () => {
  table([
    { name: 'single-quoted', sql: "SELECT 'secret'", redacted: 'SELECT ?' },
    { name: 'double-quoted (a string without ANSI_QUOTES)', sql: 'SELECT "secret"', redacted: 'SELECT ?' },
    { name: 'backslash-escaped quote', sql: "SELECT 'it\\'s secret' AS x", redacted: 'SELECT ? AS x' },
    { name: 'doubled quote', sql: "SELECT 'it''s secret' AS x", redacted: 'SELECT ? AS x' },
    { name: 'doubled double quote', sql: 'SELECT "say ""hi""" AS x', redacted: 'SELECT ? AS x' },
    { name: 'escaped backslash before the closing quote', sql: "SELECT 'C:\\\\' AS x, 'y'", redacted: 'SELECT ? AS x, ?' },
    { name: 'escape sequences', sql: "SELECT 'a\\nb\\tc\\0d\\Ze\\%f\\_g'", redacted: 'SELECT ?' },
    { name: 'other quote inside', sql: `SELECT 'say "hi"', "it's"`, redacted: 'SELECT ?, ?' },
    { name: 'comment markers inside strings are not comments', sql: "SELECT '-- no', '/* no */', '# no' FROM t", redacted: 'SELECT ?, ?, ? FROM t' },
    { name: 'newlines inside a string', sql: "UPDATE t SET v = 'line1\nline2' WHERE id = 1", redacted: 'UPDATE t SET v = ? WHERE id = ?' },
    { name: 'adjacent strings', sql: "SELECT 'a' 'b'", redacted: 'SELECT ? ?' },
    { name: 'empty string', sql: "SELECT ''", redacted: 'SELECT ?' },
    { name: 'non-ASCII content', sql: "SELECT 'héllo wörld 日本'", redacted: 'SELECT ?' },
    { name: '_charset introducer', sql: "SELECT _utf8mb4'secret'", redacted: 'SELECT ?' },
    { name: 'introducer with a space', sql: "SELECT _binary 'secret'", redacted: 'SELECT ?' },
    { name: 'introducer and COLLATE: COLLATE stays', sql: "SELECT _utf8mb4'x' COLLATE utf8mb4_bin", redacted: 'SELECT ? COLLATE utf8mb4_bin' },
    { name: 'introducer before a hex value', sql: "SELECT _binary 0xCAFE, _latin1 X'41'", redacted: 'SELECT ?, ?' },
    { name: 'not an introducer: the word stays, the string goes', sql: "SELECT _mycol 'alias'", redacted: 'SELECT _mycol ?' },
    { name: "N'…' national string", sql: "SELECT N'secret', n'secret'", redacted: 'SELECT ?, ?' },
    { name: 'N followed by a space is a name', sql: "SELECT N 'alias'", redacted: 'SELECT N ?' },
  ]);
});

describe('redact: numbers', () => {
  table([
    { name: 'integer', sql: 'SELECT * FROM t WHERE id = 12345', redacted: 'SELECT * FROM t WHERE id = ?' },
    { name: 'decimal', sql: 'SELECT 3.14, .5, 5.', redacted: 'SELECT ?, ?, ?' },
    { name: 'exponent', sql: 'SELECT 1e10, 1.5E-3, 2e+7, .1e2', redacted: 'SELECT ?, ?, ?, ?' },
    { name: 'signed: the sign is part of the value', sql: 'SELECT -5, +6, - 7, -8.5e-3', redacted: 'SELECT ?, ?, ?, ?' },
    { name: 'sign after an operator or keyword', sql: 'SELECT a FROM t WHERE b = -1 AND c BETWEEN -2 AND +3 OR d IN (-4, -5)', redacted: 'SELECT a FROM t WHERE b = ? AND c BETWEEN ? AND ? OR d IN (?, ?)' },
    { name: 'binary minus stays', sql: 'SELECT a - 1, a-1, 2 - 1, (a) - 1', redacted: 'SELECT a - ?, a-?, ? - ?, (a) - ?' },
    { name: 'minus minus: a double sign, not a comment', sql: 'SELECT 1 - -1, --5', redacted: 'SELECT ? - ?, ?' },
    { name: 'unary minus on a column stays', sql: 'SELECT -a, - b', redacted: 'SELECT -a, - b' },
    { name: 'CURRENT_DATE - 1: binary', sql: 'SELECT CURRENT_DATE - 1', redacted: 'SELECT CURRENT_DATE - ?' },
    { name: 'INTERVAL', sql: 'SELECT NOW() - INTERVAL 7 DAY, DATE_ADD(d, INTERVAL -1 HOUR)', redacted: 'SELECT NOW() - INTERVAL ? DAY, DATE_ADD(d, INTERVAL ? HOUR)' },
    { name: 'digits inside names stay', sql: 'SELECT t1.col2, 3rd_col FROM db9.t_2024', redacted: 'SELECT t1.col2, 3rd_col FROM db9.t_2024' },
    { name: 'a number-like name after a dot stays', sql: 'SELECT t.1e5, t.123 FROM t', redacted: 'SELECT t.1e5, t.123 FROM t' },
    { name: 'number then letters after a fraction: number and alias', sql: 'SELECT 1.5abc', redacted: 'SELECT ?abc' },
    { name: 'LIMIT and OFFSET', sql: 'SELECT * FROM t LIMIT 10 OFFSET 20', redacted: 'SELECT * FROM t LIMIT ? OFFSET ?' },
    { name: 'LIMIT with a comma', sql: 'SELECT * FROM t LIMIT 20, 10', redacted: 'SELECT * FROM t LIMIT ?, ?' },
  ]);
});

describe('redact: hex, bit, temporal and boolean literals', () => {
  table([
    { name: "X'…' and x'…'", sql: "SELECT X'DEADBEEF', x'cafe'", redacted: 'SELECT ?, ?' },
    { name: '0x…', sql: 'SELECT 0xDEADBEEF, 0x1f', redacted: 'SELECT ?, ?' },
    { name: '0X… is masked too', sql: 'SELECT 0XDEAD', redacted: 'SELECT ?' },
    { name: "B'…' and b'…'", sql: "SELECT B'1010', b'0'", redacted: 'SELECT ?, ?' },
    { name: '0b…', sql: 'SELECT 0b1010', redacted: 'SELECT ?' },
    { name: 'not hex: names', sql: 'SELECT 0x, 0xZZ, 0b2 FROM t', redacted: 'SELECT 0x, 0xZZ, 0b2 FROM t' },
    { name: "DATE '…', TIME '…', TIMESTAMP '…'", sql: "SELECT DATE '2020-01-01', TIME '10:00:00', TIMESTAMP '2020-01-01 10:00:00'", redacted: 'SELECT ?, ?, ?' },
    { name: 'temporal keyword glued to its string', sql: "SELECT date'2020-01-01'", redacted: 'SELECT ?' },
    { name: 'DATE as a type stays', sql: 'SELECT CAST(x AS DATE), DATE(ts) FROM t', redacted: 'SELECT CAST(x AS DATE), DATE(ts) FROM t' },
    { name: 'ODBC {d …}, {t …}, {ts …}', sql: "SELECT {d '2020-01-01'}, { t '10:00' }, {ts '2020-01-01 10:00:00'}", redacted: 'SELECT ?, ?, ?' },
    { name: 'other ODBC escapes stay', sql: 'SELECT {fn NOW()}', redacted: 'SELECT {fn NOW()}' },
    { name: 'TRUE and FALSE', sql: 'SELECT TRUE, false FROM t WHERE a = True', redacted: 'SELECT ?, ? FROM t WHERE a = ?' },
    { name: 'IS [NOT] TRUE/FALSE stay', sql: 'SELECT * FROM t WHERE a IS TRUE AND b IS NOT FALSE', redacted: 'SELECT * FROM t WHERE a IS TRUE AND b IS NOT FALSE' },
    { name: 'NULL stays', sql: 'SELECT * FROM t WHERE a IS NULL OR b = NULL', redacted: 'SELECT * FROM t WHERE a IS NULL OR b = NULL' },
  ]);
});

describe('redact: variables, placeholders, identifiers', () => {
  table([
    { name: 'user variable assignments', sql: "SET @token = 'abc', @n := 42", redacted: 'SET @token = ?, @n := ?' },
    { name: 'SELECT … := …', sql: "SELECT @a := 'secret'", redacted: 'SELECT @a := ?' },
    { name: 'system variables stay', sql: 'SET @@session.sql_mode = @@global.sql_mode', redacted: 'SET @@session.sql_mode = @@global.sql_mode' },
    { name: 'quoted user variable names are masked', sql: "SET @'my var' = 1, @\"x\" = 2, @`y` = 3", redacted: 'SET @? = ?, @? = ?, @`y` = ?' },
    { name: 'placeholders stay', sql: 'SELECT * FROM t WHERE a = ? AND b IN (?, ?)', redacted: 'SELECT * FROM t WHERE a = ? AND b IN (?, ?)' },
    { name: 'backquoted identifiers stay, with doubled backticks and quotes inside', sql: "SELECT `a``b`, `it's` FROM `my table`", redacted: "SELECT `a``b`, `it's` FROM `my table`" },
    { name: 'keywords, case and spacing as written', sql: 'select  A,\n\tB FROM   T', redacted: 'select  A,\n\tB FROM   T' },
    { name: 'ANSI_QUOTES: double quotes are identifiers', sql: 'SELECT "col" FROM "t" WHERE a = \'x\'', redacted: 'SELECT "col" FROM "t" WHERE a = ?', opts: { ansiQuotes: true } },
    { name: 'non-ASCII identifiers', sql: 'SELECT prénom FROM clients_été', redacted: 'SELECT prénom FROM clients_été' },
  ]);
});

describe('redact: comments', () => {
  table([
    { name: '# comment', sql: 'SELECT 1 # note\nFROM t', redacted: 'SELECT ?\nFROM t' },
    { name: '-- comment', sql: 'SELECT 1 -- note\nFROM t', redacted: 'SELECT ?\nFROM t' },
    { name: '--x is not a comment', sql: 'SELECT a--1', redacted: 'SELECT a-?' },
    { name: '-- at the very end', sql: 'SELECT 1 --', redacted: 'SELECT ?' },
    { name: '/* */ comment', sql: "SELECT /* user 'bob' */ 1", redacted: 'SELECT ?' },
    { name: '/* */ between tokens leaves one space', sql: 'SELECT/**/a/*x*/FROM t', redacted: 'SELECT a FROM t' },
    { name: 'leading comment (ORM tags)', sql: '/* controller:users,action:show */ SELECT 1', redacted: 'SELECT ?' },
    { name: 'trailing comment', sql: "SELECT 1 /*application:'Blog'*/", redacted: 'SELECT ?' },
    { name: 'multi-line comment', sql: 'SELECT a,\n/* one\ntwo */\nb FROM t', redacted: 'SELECT a,\n\nb FROM t' },
    { name: 'executable comment kept, redacted', sql: "SELECT /*!40001 SQL_NO_CACHE */ a FROM t WHERE /*!50000 b = 'x' */", redacted: 'SELECT /*!40001 SQL_NO_CACHE */ a FROM t WHERE /*!50000 b = ? */' },
    { name: 'executable comment without version', sql: 'SELECT /*! STRAIGHT_JOIN */ a FROM t', redacted: 'SELECT /*! STRAIGHT_JOIN */ a FROM t' },
    { name: 'MariaDB executable comment', sql: 'SELECT /*M!100101 SQL_NO_CACHE */ 1', redacted: 'SELECT /*M!100101 SQL_NO_CACHE */ ?' },
    { name: 'digits glued to the version are a value', sql: 'SELECT /*!400011*/ a', redacted: 'SELECT /*!40001?*/ a' },
    { name: 'optimizer hint kept, redacted', sql: "SELECT /*+ MAX_EXECUTION_TIME(1000) SET_VAR(sort_buffer_size = 16M) */ a FROM t WHERE b = 'x'", redacted: 'SELECT /*+ MAX_EXECUTION_TIME(?) SET_VAR(sort_buffer_size = ?) */ a FROM t WHERE b = ?' },
    { name: 'a quote inside a hint, not closed before its */: masked to the end', sql: "SELECT /*+ ' */ 'secret' x", redacted: 'SELECT /*+ ?' },
    { name: 'a string closed inside a hint', sql: "SELECT /*+ SET_VAR(optimizer_switch = 'mrr=on') */ a FROM t WHERE b = 'x'", redacted: 'SELECT /*+ SET_VAR(optimizer_switch = ?) */ a FROM t WHERE b = ?' },
    { name: '/*+ not after a verb is a comment', sql: 'SELECT a /*+ hunter2 */ FROM t', redacted: 'SELECT a FROM t' },
  ]);
});

describe('redact: malformed input is masked to the end', () => {
  table([
    { name: 'unterminated single-quoted string', sql: "SELECT * FROM t WHERE a = 'secret and more", redacted: 'SELECT * FROM t WHERE a = ?' },
    { name: 'unterminated double-quoted string', sql: 'SELECT "secret', redacted: 'SELECT ?' },
    { name: 'string ending in a backslash', sql: "SELECT 'secret\\", redacted: 'SELECT ?' },
    { name: 'unterminated backquoted identifier', sql: "SELECT `col FROM t WHERE a = 'x'", redacted: 'SELECT ?' },
    { name: "unterminated X'…'", sql: "SELECT X'DEAD", redacted: 'SELECT ?' },
    { name: 'unterminated comment: dropped', sql: 'SELECT 1 /* secret', redacted: 'SELECT ?' },
    { name: 'unterminated executable comment: its SQL stays', sql: "SELECT /*!40001 a = 'x'", redacted: 'SELECT /*!40001 a = ?' },
    { name: 'truncated in the middle of a multi-row insert', sql: "INSERT INTO t VALUES (1, 'a'), (2, 'bc", redacted: 'INSERT INTO t VALUES (?, ?), (?, ?' },
    { name: 'a NUL byte outside a string: the rest is masked', sql: 'SELECT a\u0000 secret FROM t', redacted: 'SELECT a?' },
    { name: 'other control bytes', sql: 'SELECT \u0001\u0002secret', redacted: 'SELECT ?' },
    { name: 'a NUL inside a string is just content', sql: "SELECT 'a\u0000b', c", redacted: 'SELECT ?, c' },
    { name: 'empty input', sql: '', redacted: '' },
    { name: 'only whitespace and comments', sql: '  /* x */ -- y\n  ', redacted: '' },
  ]);

  test('invalid UTF-8 in names becomes U+FFFD; in strings it is masked', () => {
    const bytes = Uint8Array.from([...new TextEncoder().encode('SELECT a'), 0xff, 0xfe, ...new TextEncoder().encode(" FROM t WHERE b = '"), 0xc3, 0x28, 0x27]);
    assert.equal(redactBytes(bytes), 'SELECT a\ufffd\ufffd FROM t WHERE b = ?');
  });

  test('a slice of a packet: bytes outside [start, end) are never read', () => {
    const bytes = new TextEncoder().encode("SELECT 'a', 'secret tail of the next packet'");
    const end = bytes.indexOf(0x2c); // cut after 'a'
    assert.equal(redactBytes(bytes, 0, end), 'SELECT ?');
    const cut = bytes.length - 10; // cut inside the second string
    assert.equal(redactBytes(bytes, 0, cut), 'SELECT ?, ?');
  });

  test('out-of-range start and end are clamped', () => {
    const bytes = new TextEncoder().encode('SELECT 1');
    assert.equal(redactBytes(bytes, -5, 1000), 'SELECT ?');
    assert.equal(redactBytes(bytes, 7, 3), '');
  });
});

describe('redact: session modes and character sets', () => {
  table([
    { name: 'NO_BACKSLASH_ESCAPES: a backslash does not escape', sql: "SELECT 'C:\\', 'secret'", redacted: 'SELECT ?, ?', opts: { noBackslashEscapes: true } },
    { name: 'with escapes (default) the same text is one string, a name, and an unterminated string', sql: "SELECT 'C:\\', 'y', b", redacted: 'SELECT ?y?' },
  ]);

  test('GBK: a second byte 0x5c inside a string does not escape the quote', () => {
    // 0x95 0x5c is one GBK character; in UTF-8 terms, 0x5c would be a backslash.
    const sql = Uint8Array.from([...new TextEncoder().encode("SELECT '"), 0x95, 0x5c, ...new TextEncoder().encode("', secret_col FROM t")]);
    assert.equal(normalizeBytes(sql, 0, sql.length, { charset: 'gbk' }).redacted, 'SELECT ?, secret_col FROM t');
    // Without the charset, the lexer takes 0x5c as an escape and masks to the end: the safe side.
    assert.equal(redactBytes(sql), 'SELECT ?');
  });

  test('latin1 bytes decode as cp1252', () => {
    const sql = Uint8Array.from([...new TextEncoder().encode('SELECT caf'), 0xe9, ...new TextEncoder().encode(" FROM t WHERE x = '"), 0xe9, 0x27]);
    assert.equal(redactBytes(sql, 0, sql.length, { charset: 'latin1' }), 'SELECT café FROM t WHERE x = ?');
  });
});

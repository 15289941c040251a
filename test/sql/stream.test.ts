/**
 * Differential tests of the one-pass path against the reference path it must equal:
 *
 *   scan(…, StreamFingerprint)   (src/sql/scan.ts, the hot loop, handing rare tokens to lexRange)
 *   lex(…, StreamFingerprint)    (src/sql/lexer.ts, every token through the stream's methods)
 *   lex(…) + FingerprintWriter   (the reference: the token list, then the writer over all of it)
 *
 * The token lists must be identical (kinds, positions, keyword ids, spans), and whenever the
 * stream does not leave the statement to the token-list writer (`slow`), its fingerprint must be
 * the reference's byte for byte. The inputs: the corpus, hand-picked cases for each rule the stream
 * rewrites as it goes, and random token soups that hit the rules' edges (fast-check).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusSql } from './corpus-sql.js';
import { FingerprintWriter } from '../../src/sql/fingerprint.js';
import { StreamFingerprint } from '../../src/sql/fingerprint-stream.js';
import { DEFAULT_LEX_OPTIONS, lex, multibyteTables, TokenList, type LexOptions } from '../../src/sql/lexer.js';
import { scan } from '../../src/sql/scan.js';

const corpus = corpusSql();

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const refTokens = new TokenList();
const tokens = new TokenList();
const writer = new FingerprintWriter();
const stream = new StreamFingerprint();

function tokenList(t: TokenList): string {
  const rows: string[] = [];
  for (let k = 0; k < t.count; k++) rows.push(`${t.kind[k]}:${t.start[k]}-${t.end[k]}:${t.aux[k]}`);
  for (let k = 0; k < t.spanCount; k++) rows.push(`span ${t.spanKind[k]}:${t.spanStart[k]}-${t.spanEnd[k]}`);
  return rows.join(' ');
}

/** Checks one input (bytes `b[s, e)`); returns whether the stream wrote the fingerprint itself. */
function check(b: Uint8Array, s: number, e: number, opts: LexOptions, what: string): boolean {
  lex(b, s, e, opts, refTokens);
  const ref = tokenList(refTokens);
  writer.write(b, refTokens);
  const expected = decoder.decode(writer.buf.subarray(0, writer.length));
  let fast = false;
  for (const via of ['scan', 'lex'] as const) {
    if (via === 'scan') scan(b, s, e, opts, tokens, stream);
    else lex(b, s, e, opts, tokens, stream);
    assert.equal(tokenList(tokens), ref, `${via}: tokens of ${what}`);
    if (!stream.slow) {
      assert.equal(decoder.decode(stream.buf.subarray(0, stream.length)), expected, `${via}: fingerprint of ${what}`);
      fast = true;
    }
  }
  return fast;
}

function checkSql(sql: string, opts: LexOptions = DEFAULT_LEX_OPTIONS): boolean {
  const b = encoder.encode(sql);
  return check(b, 0, b.length, opts, JSON.stringify(sql));
}

const MODES: LexOptions[] = [
  DEFAULT_LEX_OPTIONS,
  { backslashEscapes: false, ansiQuotes: false, multibyte: null },
  { backslashEscapes: true, ansiQuotes: true, multibyte: null },
  { backslashEscapes: true, ansiQuotes: false, multibyte: multibyteTables('gbk') },
];

/** Pieces whose combinations reach every rule of the stream, and their edges. */
const PIECES = [
  'SELECT ', 'select ', 'a', 'b ', 't.', '`t`', '`order`', '`my col`', '`x``y`', '`3d`', ' ', '  ', '\n', 'FROM t ', 'WHERE ', '=', ' = ', '<=>', '>=', '!=', ':=', '@', '@@', '@@session.',
  '(', ')', '(', ')', ',', ', ', '.', '..', '?', '1', '42', '-', '- ', '+', '-1', '+ 2', '.5', '1.5e3', '0x1F', '0b01', "'x'", "'it''s'", "'a\\'b'", '"dq"', "X'AB'", "N'n'", "_utf8mb4'u'",
  'NULL', 'null ', 'IS ', 'NOT ', 'IS NOT ', 'TRUE', 'false', 'IN ', 'IN (', 'in(', 'NOT IN (', 'VALUES ', 'VALUES (', 'VALUE ', 'ROW ', 'ROW(', 'ORDER BY ', 'GROUP BY ', 'BY ', 'ASC', ' asc',
  'DESC', 'LIMIT ', 'OFFSET ', 'LIMIT ? OFFSET ?', 'UNION ', 'UNION ALL ', 'DISTINCT ', 'ALL ', 'HAVING ', 'FOR UPDATE', 'INTO ', 'INSERT INTO t ', 'UPDATE t SET ', 'DELETE ', 'SAVEPOINT ', 'RELEASE ',
  'ROLLBACK ', 'TO ', 'CREATE ', 'ALTER ', 'SET ', 'USE ', 'DATE ', 'DATE', "DATE '2024-01-01'", '{d ', '}', ';', '; ', '/* c */', '/*!40101 ', '*/', '/*+ ', '-- c\n', '# c\n', '#', '--', '->', '->>',
  'count(', 'max(', '*', '/', '%', '~', '!', ':name', '"', "'", '`', '\\', '\u0000', 'é', '日本', 'SET @x = 1', 'USE db',
];

const soup = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((a) => a.join(''));

describe('one-pass lexing and fingerprint', () => {
  test('the corpus: identical tokens and fingerprints; most statements need no second pass', () => {
    let fast = 0;
    for (const sql of corpus) if (checkSql(sql)) fast++;
    assert.ok(fast > corpus.length * 0.8, `${fast} of ${corpus.length}`);
  });

  test('the corpus in every session mode, inside a larger buffer', () => {
    for (const opts of MODES) {
      for (const sql of corpus) {
        const body = encoder.encode(sql);
        const buf = new Uint8Array(body.length + 8).fill(0x27);
        buf.set(body, 4);
        check(buf, 4, 4 + body.length, opts, JSON.stringify(sql));
      }
    }
  });

  test('the rules the stream rewrites as it goes', () => {
    const cases = [
      'SELECT * FROM t WHERE a IN (1, 2, 3)',
      'SELECT * FROM t WHERE a IN (-1, +2, - 3)',
      'SELECT * FROM t WHERE a IN (1 + )',
      'SELECT * FROM t WHERE a IN (?+) AND b IN ((?+)) AND c in((?, ?), (?, ?))',
      'SELECT * FROM t WHERE a IN (1, (2)) OR a IN ((1, 2), 3) OR a IN (()) OR a IN () OR a IN (+) OR a IN (?, +)',
      'SELECT * FROM t WHERE a IN (x IN (1, 2))',
      "SELECT * FROM t WHERE a IN (NULL, 'x', 3",
      'SAVEPOINT in (1)',
      'INSERT INTO t VALUES (1, 2), (3, 4), (5, 6)',
      'INSERT INTO t VALUES ROW(1, 2), ROW(3, 4)',
      'INSERT INTO t VALUES (1), ROW (2), (3) ON DUPLICATE KEY UPDATE a = VALUES(a)',
      'INSERT INTO t VALUES (1),',
      'INSERT INTO t VALUES (1), row',
      'INSERT INTO t VALUES (1), x',
      'INSERT INTO t VALUES (1), (2',
      'INSERT INTO t VALUES (1), -2',
      'INSERT INTO t VALUES (1, (SELECT 1 FROM u VALUES (2), (3)))',
      'INSERT INTO t VALUES VALUES (1), (2)',
      'INSERT INTO t VALUES ROW ROW (1), (2)',
      'SELECT a FROM t ORDER BY a ASC, b DESC, (c ASC) ASC LIMIT 10 OFFSET 20',
      'SELECT a FROM t GROUP BY a ASC HAVING b ASC',
      'SELECT a) ORDER BY a ASC',
      ') ) IN (1) ORDER BY b ASC',
      'INSERT INTO t VALUES (1)) , (2)',
      'SELECT a FROM t LIMIT NULL OFFSET NULL',
      'SELECT a FROM t LIMIT -1 OFFSET -2',
      'SELECT a FROM t LIMIT 1 OFFSET x',
      'ROLLBACK TO limit 1 OFFSET 2',
      'CREATE TABLE t (a INT NULL) LIMIT NULL OFFSET NULL',
      'SELECT a FROM t WHERE b IS NULL AND c IS NOT NULL AND NOT NULL ORDER BY NULL',
      'SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 UNION DISTINCT SELECT 4',
      'SELECT 1 UNION ALL SELECT 1 UNION ALL SELECT 1',
      '(SELECT 1) UNION (SELECT 2) UNION -1',
      'SELECT 1 UNION',
      'SAVEPOINT `s1`; ROLLBACK TO s1; RELEASE SAVEPOINT s1',
      'SAVEPOINT savepoint',
      "GRANT SELECT ON db.* TO 'app'@'%', ?@?, name@host",
      'SELECT a..b, t.1x, t. 1, x.5, .5, a.`b`',
      'SELECT - -1, a - -1, a-1, CURRENT_DATE - 1, -a',
      'SELECT 1;',
      'SELECT 1;;',
      ';',
      '',
      ' ',
      'select 1; select 2',
      'SET x = 1',
      'USE db',
      'SELECT /*!40001 SQL_NO_CACHE */ 1',
      'SELECT /*+ BKA(t) */ 1',
      "SELECT 'abc",
      'SELECT `abc',
      'SELECT 12E',
      'SELECT a FROM t WHERE x = 1 -- c\n AND y = 2 # d\n',
      'SELECT date, time FROM t WHERE date = DATE(x) AND d = DATE \'2024-01-01\'',
      'SELECT _id, _utf8mb4 \'x\', _binary 0x1F FROM t',
      'SELECT {d \'2024-01-01\'}, {x} FROM t',
      'select TRUE, a IS TRUE, a IS NOT FALSE, NOT TRUE',
      `SELECT ${'('.repeat(1030)}1${')'.repeat(1030)}`,
    ];
    for (const sql of cases) for (const opts of MODES) checkSql(sql, opts);
  });

  test('random token soups, every session mode', () => {
    fc.assert(
      fc.property(soup, fc.constantFrom(...MODES), (sql, opts) => {
        checkSql(sql, opts);
      }),
      { numRuns: 20000 },
    );
  });

  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...MODES), (b, opts) => {
        check(b, 0, b.length, opts, `[${b.join(',')}]`);
      }),
      { numRuns: 5000 },
    );
  });
});

/**
 * Differential tests of the one-pass path against the oracle it must equal:
 *
 *   scan(…, StreamFingerprint)   (src/sql/scan.ts, the hot loop, handing rare tokens to lexRange)
 *   lex(…, StreamFingerprint)    (src/sql/lexer.ts, every token through the stream's methods)
 *   lex(…) + FingerprintWriter   (the oracle, ./oracle/fingerprint-writer.ts: the token list, then
 *                                 a writer with all of it in view)
 *
 * The token lists must be identical (kinds, positions, keyword ids, spans), and the stream's
 * fingerprint must be the oracle's byte for byte, for every statement (the stream leaves none to
 * another writer). The inputs: the corpus, hand-picked cases for each rule the stream rewrites as it
 * goes or holds a token back for (several statements, SET, USE, executable comments and hints,
 * nested VALUES, deep nesting), and random token soups that hit the rules' edges (fast-check).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusSql } from './corpus-sql.js';
import { FingerprintWriter } from './oracle/fingerprint-writer.js';
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

/** Checks one input (bytes `b[s, e)`). */
function check(b: Uint8Array, s: number, e: number, opts: LexOptions, what: string): void {
  lex(b, s, e, opts, refTokens);
  const ref = tokenList(refTokens);
  writer.write(b, refTokens);
  const expected = decoder.decode(writer.buf.subarray(0, writer.length));
  for (const via of ['scan', 'lex'] as const) {
    if (via === 'scan') scan(b, s, e, opts, tokens, stream);
    else lex(b, s, e, opts, tokens, stream);
    assert.equal(tokenList(tokens), ref, `${via}: tokens of ${what}`);
    assert.equal(decoder.decode(stream.buf.subarray(0, stream.length)), expected, `${via}: fingerprint of ${what}`);
  }
}

function checkSql(sql: string, opts: LexOptions = DEFAULT_LEX_OPTIONS): void {
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
  'SESSION ', 'LOCAL ', 'GLOBAL ', 'PERSIST ', 'PERSIST_ONLY ', '@@global.', '@@local.', 'NAMES ', 'CHARSET ', 'CHARACTER ', 'CHARACTER SET ', 'COLLATE ', 'TRANSACTION ',
  'SET NAMES ', 'SET SESSION ', 'SET @@', '/*!40101 SET ', '/*M!100101 ', 'SELECT /*+ ', 'INSERT /*+ ', 'VALUE (', 'DEFAULT', 'ON', 'USE ', '; USE ', '; SET ',
];

const soup = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((a) => a.join(''));

describe('one-pass lexing and fingerprint', () => {
  test('the corpus: identical tokens and fingerprints', () => {
    for (const sql of corpus) checkSql(sql);
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

  test('what the stream once left to a second writer: several statements, SET, USE, executable comments, hints, nested VALUES, deep nesting', () => {
    const cases = [
      'SELECT 1; SELECT 2;', 'SELECT 1;; ;SELECT 2', ';SELECT 1', 'SELECT a IS; NULL', 'SELECT a ORDER; BY x ASC', 'SELECT 1 UNION SELECT 1; SELECT 2 UNION ALL SELECT 2 UNION ALL SELECT 2',
      'SAVEPOINT a; SELECT b', 'SELECT 1; SAVEPOINT s1; ROLLBACK TO s1', 'CREATE TABLE t (a INT NULL); SELECT NULL', 'SELECT count; (1)', 'SELECT 1 -; - 2', 'SELECT a.; .b',
      'USE db', 'USE `db`', 'USE ?', "USE 'db'", 'USE', 'USE db x', 'USE (db)', 'USE null', 'USE in', 'USE db;', 'USE db; USE db2', 'USE -1', 'USE db -1', 'USE db - x', 'use db',
      'SET x = 1', 'SET @x := 1, @y = 2', 'SET autocommit=0', 'SET @@session.autocommit = ON', 'SET @@global.max_connections = 500', 'SET @@autocommit = 1', 'SET @@session = 1',
      'SET @@global x = 1', 'SET @@', 'SET @@session', 'SET @@global.', 'SET SESSION x = 1', 'SET LOCAL x = 1', 'SET GLOBAL x = 1', 'SET PERSIST x = 1', 'SET PERSIST_ONLY x = 1',
      'SET SESSION TRANSACTION READ ONLY', 'SET LOCAL TRANSACTION ISOLATION LEVEL READ COMMITTED', 'SET TRANSACTION READ WRITE', 'SET SESSION', 'SET SESSION, x = 1',
      "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'", 'SET NAMES utf8', 'SET NAMES', 'SET NAMES (a, b)', 'SET NAMES utf8 COLLATE', 'SET NAMES utf8 COLLATE x y', 'SET NAMES DEFAULT, x = 1',
      'SET CHARSET utf8', 'SET CHARACTER SET utf8', 'SET CHARACTER x = 1', 'SET CHARACTER', 'SET CHARSET', 'SET CHARSET utf8 x', 'SET GLOBAL CHARSET x',
      'SET x = 1 + 2', 'SET x = (SELECT 1)', 'SET x = -1', 'SET x = - 1', 'SET x = -a', 'SET x = - , y = 1', 'SET x = , y', 'SET = 1', 'SET x', 'SET x, y', 'SET , x = 1', 'SET x = 1,,',
      'SET a) = 1', 'SET a ) VALUES ( = 1', 'SET (a = 1) = 2', 'SET a = b = c', 'SET a := b := c', 'SET x = IN (1, 2)', 'SET x = a IN (1, 2), y = 3', 'SET x = VALUES (1), (2)',
      'SET x = (VALUES (1), (2)), y = VALUES (3), (4)', 'SET x = 1 LIMIT 1 OFFSET 2', 'SET x = ? UNION SELECT ?', "SET x = 'a' 'b'", 'SET x = NULL', 'SET x = NULL + 1', 'SET x = ROW',
      'SET @t = \'x\', @n := 5', 'SET x = 1; SET y = 2', 'SET SAVEPOINT x', "SET PASSWORD = 'x'", "SET PASSWORD FOR 'u'@'h' = 'x'", 'SET ROLE ALL', 'SET DEFAULT ROLE x TO u',
      '/*!40101 SET NAMES utf8 */', '/*!40101 SET NAMES utf8 */;', '/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;', '/*!40101 SET character_set_client = utf8 */',
      '/*!40103 SET TIME_ZONE=\'+00:00\' */', '/*!40101 SET x = 1 */ x', '/*!1 SET x = */', '/*!1 SET x */', '/*!1 SET NAMES */', '/*!1 SET @@session */', '/*!1 SET CHARACTER */',
      '/*!1 USE db */', '/*!1 USE db */ x', '/*!1 */', '/*!1 */ x', '/*!1 SELECT 1 UNION SELECT 1 */', '/*!1 SELECT a UNION */', '/*!1 INSERT INTO t VALUES (1), (2 */',
      '/*!1 INSERT INTO t VALUES (1), */', '/*!1 INSERT INTO t VALUES (1), ROW */', '/*!1 INSERT INTO t VALUES (1), (2 */ x', '/*!1 SELECT 1 */ ; SELECT 2', '/*!1 SELECT -*/',
      '/*!1 SELECT 1 LIMIT 1 OFFSET 2 */', '/*!1 a */ /*!2 b */', '/*M!100101 SELECT 1 */', 'SELECT /*!40001 SQL_NO_CACHE */ 1', 'SELECT /*!1 a, */ b', '/*!1 ; */', '/*!1 SET x = 1; */',
      'SELECT /*+ BKA(t1) NO_BKA(t2) */ * FROM t1', 'SELECT /*+ SET_VAR(sort_buffer_size = 16M) */ 1', "SELECT /*+ QB_NAME('q') */ 1", "SELECT /*+ a('x */ 1", 'SELECT /*+ a; b */ x',
      'INSERT /*+ x */ INTO t VALUES (1), (2)', 'SELECT /*+ IN (1, 2) */ 1', 'SELECT /*+', 'SELECT /*+ x', 'UPDATE /*+ NO_MERGE(a) */ t SET a = 1', 'SELECT /*+ \u0001 */ 1',
      'INSERT INTO t VALUES (1, (VALUES (2), (3)))', 'INSERT INTO t VALUES (1, (VALUES (2), (3))', 'INSERT INTO t VALUES (VALUES (1), (2)', 'VALUES (VALUES (VALUES (1), (2)), (3)), (4)',
      'VALUES (VALUES (VALUES (1), (2)), (3), (4)', 'VALUES (VALUES (VALUES (1), (2), (3)', 'VALUES (a, VALUES ROW(1), ROW(2)) , (b)', 'VALUES (x VALUES (1), (2)) VALUES (3), (4)',
      'VALUES ((VALUES (1), (2)), VALUES (3), (4)', 'VALUES (1 VALUES (2)), (3) UNION VALUES (4), (5)', 'SET x = (VALUES (VALUES (1), (2)), (3)', 'VALUES (VALUES (1), (2) ; VALUES (3), (4)',
      'VALUES (VALUES (1), (2) */', '/*!1 VALUES (VALUES (1), (2) */', 'VALUES (IN (VALUES (1), (2)', 'VALUES (LIMIT 1 VALUES (1), (2) OFFSET 3', `VALUES (${'VALUES ('.repeat(50)}1), (2)`,
      `SELECT ${'('.repeat(1030)}1${')'.repeat(1030)}`, `SELECT ${'('.repeat(1030)}1${')'.repeat(1030)} UNION SELECT 1 UNION SELECT 1`, `SELECT ${'('.repeat(1030)}a ORDER BY b ASC${')'.repeat(1030)} ASC`,
      `INSERT INTO t VALUES (${'('.repeat(1030)}1${')'.repeat(1030)}), (2)`, `INSERT INTO t VALUES (1020${'('.repeat(1020)}, ${'('.repeat(10)}1${')'.repeat(1031)}, (2)`,
      `SELECT ${'('.repeat(1030)}1${')'.repeat(1025)} UNION ALL SELECT 1 UNION ALL SELECT 1 ORDER BY a ASC`, `${')'.repeat(5)}SELECT 1 UNION SELECT 1`,
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

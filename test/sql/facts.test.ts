import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SqlNormalizer } from '../../src/sql/index.js';
import { lexerFacts, parseForm, StatementFactsCache, statementFacts, type StatementKind } from '../../src/sql/facts.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);

interface Case {
  sql: string;
  kind: StatementKind;
  tables: string[];
}

const cases: Case[] = [
  { sql: "SELECT * FROM users WHERE email = 'x'", kind: 'select', tables: ['users'] },
  { sql: 'SELECT u.id FROM `shop`.`users` u JOIN orders o ON o.user_id = u.id', kind: 'select', tables: ['shop.users', 'orders'] },
  { sql: 'SELECT * FROM a, b AS bb, c cc WHERE a.id = bb.id', kind: 'select', tables: ['a', 'b', 'c'] },
  { sql: 'SELECT * FROM t WHERE id IN (SELECT t_id FROM u WHERE x = 1)', kind: 'select', tables: ['t', 'u'] },
  { sql: 'SELECT EXTRACT(YEAR FROM created_at), TRIM(LEADING 0 FROM code) FROM t', kind: 'select', tables: ['t'] },
  { sql: 'WITH c AS (SELECT * FROM t) SELECT * FROM c JOIN d.u ON c.id = u.id', kind: 'select', tables: ['t', 'd.u'] },
  { sql: 'WITH c AS (SELECT id FROM t) UPDATE u JOIN c ON c.id = u.id SET u.x = 1', kind: 'update', tables: ['t', 'u'] },
  { sql: '(SELECT a FROM t1) UNION (SELECT a FROM t2)', kind: 'select', tables: ['t1', 't2'] },
  { sql: 'SELECT 1', kind: 'select', tables: [] },
  { sql: 'SELECT 1 FROM DUAL', kind: 'select', tables: [] },
  { sql: 'TABLE t1', kind: 'select', tables: [] },
  { sql: "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", kind: 'insert', tables: ['t'] },
  { sql: 'INSERT t VALUES (1)', kind: 'insert', tables: ['t'] },
  { sql: 'INSERT IGNORE INTO db.t SELECT * FROM src', kind: 'insert', tables: ['db.t', 'src'] },
  { sql: 'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1', kind: 'insert', tables: ['t'] },
  { sql: "REPLACE INTO t SET a = 1, b = 'x'", kind: 'replace', tables: ['t'] },
  { sql: "UPDATE accounts SET balance = balance - 1 WHERE id = 7", kind: 'update', tables: ['accounts'] },
  { sql: 'UPDATE LOW_PRIORITY a JOIN b ON a.id = b.id SET a.x = b.x', kind: 'update', tables: ['a', 'b'] },
  { sql: 'DELETE FROM sessions WHERE expires < NOW()', kind: 'delete', tables: ['sessions'] },
  { sql: 'DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id', kind: 'delete', tables: ['t1', 't2'] },
  { sql: 'CREATE TABLE IF NOT EXISTS s.t (id INT PRIMARY KEY)', kind: 'ddl', tables: ['s.t'] },
  { sql: 'CREATE TEMPORARY TABLE tmp (id INT)', kind: 'ddl', tables: ['tmp'] },
  { sql: 'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES p (id)', kind: 'ddl', tables: ['t', 'p'] },
  { sql: 'DROP TABLE IF EXISTS a, b', kind: 'ddl', tables: ['a', 'b'] },
  { sql: 'TRUNCATE TABLE t', kind: 'ddl', tables: ['t'] },
  { sql: 'TRUNCATE t', kind: 'ddl', tables: ['t'] },
  { sql: 'RENAME TABLE a TO b, c TO d', kind: 'ddl', tables: ['a', 'b', 'c', 'd'] },
  { sql: 'CREATE INDEX i ON t (a)', kind: 'ddl', tables: ['t'] },
  { sql: 'CREATE DATABASE shop', kind: 'ddl', tables: [] },
  { sql: 'BEGIN', kind: 'transaction', tables: [] },
  { sql: 'START TRANSACTION READ ONLY', kind: 'transaction', tables: [] },
  { sql: 'COMMIT', kind: 'transaction', tables: [] },
  { sql: 'ROLLBACK TO SAVEPOINT s1', kind: 'transaction', tables: [] },
  { sql: 'SAVEPOINT s1', kind: 'transaction', tables: [] },
  { sql: "XA START 'x'", kind: 'transaction', tables: [] },
  { sql: 'SET autocommit = 0', kind: 'set', tables: [] },
  { sql: 'SET NAMES utf8mb4', kind: 'set', tables: [] },
  { sql: 'SHOW TABLES FROM shop', kind: 'show', tables: [] },
  { sql: 'SHOW FULL COLUMNS FROM users FROM shop', kind: 'show', tables: ['shop.users'] },
  { sql: 'SHOW INDEX FROM shop.users', kind: 'show', tables: ['shop.users'] },
  { sql: 'SHOW CREATE TABLE t', kind: 'show', tables: ['t'] },
  { sql: 'DESCRIBE t', kind: 'show', tables: ['t'] },
  { sql: "CALL p(1, 'x')", kind: 'call', tables: [] },
  { sql: 'USE shop', kind: 'other', tables: [] },
  { sql: 'LOCK TABLES a READ, b AS x WRITE', kind: 'other', tables: ['a', 'b'] },
  { sql: 'EXPLAIN SELECT * FROM t', kind: 'other', tables: ['t'] },
  { sql: 'KILL 42', kind: 'other', tables: [] },
  { sql: "LOAD DATA INFILE '/tmp/x' INTO TABLE t", kind: 'other', tables: ['t'] },
  { sql: '/*!40101 SET NAMES utf8 */', kind: 'set', tables: [] },
  { sql: 'SELECT * FROM t1; UPDATE t2 SET a = 1', kind: 'select', tables: ['t1', 't2'] },
  { sql: 'SELECT * FROM `we``ird` w JOIN `odd name` o JOIN `s``x`.`y z`', kind: 'select', tables: ['we`ird', 'odd name', 's`x.y z'] },
];

describe('statement facts', () => {
  for (const c of cases) {
    test(c.sql, () => {
      const f = statementFacts(fingerprint(c.sql));
      assert.equal(f.kind, c.kind);
      assert.deepEqual([...f.tables].sort(), [...c.tables].sort());
    });
  }

  test('multi-statement: the first kind, every table, the count', () => {
    const f = statementFacts(fingerprint('SELECT * FROM t1; UPDATE t2 SET a = 1; COMMIT'));
    assert.equal(f.statements, 3);
    assert.equal(f.kind, 'select');
  });

  test('the lexer alone when the parser cannot parse', () => {
    const fp = fingerprint('UPDATE LOW_PRIORITY a JOIN b ON a.id = b.id SET a.x = b.x');
    const f = statementFacts(fp);
    assert.equal(f.tablesFrom, 'lexer');
    assert.deepEqual(f.tables, ['a', 'b']);
  });

  test('the parser when it parses', () => {
    const f = statementFacts(fingerprint("SELECT * FROM t WHERE a IN (1, 2) AND b = 'x' LIMIT 10 OFFSET 20"));
    assert.equal(f.tablesFrom, 'parser');
    assert.deepEqual(f.tables, ['t']);
  });

  test('parse form of a fingerprint', () => {
    assert.equal(parseForm('select * from t where a in(?+) limit ?, ?'), 'select * from t where a in(0) limit 0, 0');
    assert.equal(parseForm('select a from t where b = ? union all ...'), 'select a from t where b = 0');
  });

  test('lexerFacts agrees on kinds', () => {
    for (const c of cases) assert.equal(lexerFacts(fingerprint(c.sql)).kind, c.kind, c.sql);
  });

  test('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const fp = fingerprint(s);
        const f = statementFacts(fp);
        // Every table named is a name the statement holds.
        for (const t of f.tables) assert.ok(t.length > 0 && fp.toLowerCase().includes(t.toLowerCase().split('.').pop()!), `${t} in ${fp}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('StatementFactsCache', () => {
  test('computes each fingerprint once', () => {
    const cache = new StatementFactsCache();
    const fp = fingerprint('SELECT * FROM users WHERE id = 1');
    const a = cache.get(fp);
    const b = cache.get(fingerprint('SELECT * FROM users WHERE id = 2'));
    assert.equal(a, b);
    assert.equal(cache.misses, 1);
    assert.equal(cache.hits, 1);
  });

  test('forgets the oldest past maxEntries', () => {
    const cache = new StatementFactsCache({ maxEntries: 2 });
    cache.get('select ? from a');
    cache.get('select ? from b');
    cache.get('select ? from c');
    assert.equal(cache.size, 2);
  });

  test('does not parse past maxParseLength', () => {
    const cache = new StatementFactsCache({ maxParseLength: 10 });
    assert.equal(cache.get('select * from some_table').tablesFrom, 'lexer');
  });
});

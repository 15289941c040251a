import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { digest, SqlNormalizer } from '../../src/sql/index.js';
import { hashBytes, murmur3, newHash, SEED_HIGH, SEED_LOW } from '../../src/sql/digest.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);
const fingerprintBytes = sqlNormalizer.fingerprintBytes.bind(sqlNormalizer);
const normalize = sqlNormalizer.normalize.bind(sqlNormalizer);
const redact = sqlNormalizer.redact.bind(sqlNormalizer);

interface Case {
  name: string;
  sql: string;
  fingerprint: string;
}

function table(cases: Case[]): void {
  for (const c of cases) {
    test(c.name, () => {
      const f = fingerprint(c.sql);
      assert.equal(f, c.fingerprint);
      // The same from the redacted text, from bytes, and of the fingerprint itself.
      assert.equal(fingerprint(redact(c.sql)), f, 'fingerprint(redact(sql))');
      const bytes = new TextEncoder().encode(c.sql);
      assert.equal(fingerprintBytes(bytes), f, 'fingerprintBytes');
      assert.equal(fingerprint(f), f, 'fingerprint(fingerprint(sql))');
    });
  }
}

/** Statements that must share a fingerprint. */
function same(name: string, sqls: string[]): void {
  test(name, () => {
    const fs = sqls.map((s) => fingerprint(s));
    for (let i = 1; i < fs.length; i++) assert.equal(fs[i], fs[0], `${sqls[i]} vs ${sqls[0]}`);
  });
}

/** Statements that must not. */
function different(name: string, sqls: string[]): void {
  test(name, () => {
    const fs = sqls.map((s) => fingerprint(s));
    assert.equal(new Set(fs).size, fs.length, fs.join(' | '));
  });
}

describe('fingerprint: values', () => {
  table([
    { name: 'literals are ?', sql: "SELECT * FROM t WHERE a = 'x' AND b = 5 AND c = -1.5e3 AND d = X'AB' AND e = TRUE", fingerprint: 'select * from t where a = ? and b = ? and c = ? and d = ? and e = ?' },
    { name: 'NULL as a value is ?', sql: 'UPDATE t SET a = NULL WHERE b = NULL', fingerprint: 'update t set a = ? where b = ?' },
    { name: 'IS NULL, IS NOT NULL, NOT NULL stay', sql: 'SELECT * FROM t WHERE a IS NULL AND b IS NOT NULL AND NOT NULL', fingerprint: 'select * from t where a is null and b is not null and not null' },
    { name: 'ORDER BY NULL stays', sql: 'SELECT a FROM t GROUP BY a ORDER BY NULL', fingerprint: 'select a from t group by a order by null' },
    { name: 'NULL in DDL stays', sql: 'CREATE TABLE t (a INT NULL DEFAULT NULL, b INT NOT NULL)', fingerprint: 'create table t(a int null default null, b int not null)' },
    { name: 'placeholders and literals are the same', sql: 'SELECT * FROM t WHERE a = ? AND b = 1', fingerprint: 'select * from t where a = ? and b = ?' },
  ]);
});

describe('fingerprint: comments, case, spacing', () => {
  table([
    { name: 'comments removed', sql: "/* tag */ SELECT a -- x\nFROM t # y\nWHERE b = 1 /* z */", fingerprint: 'select a from t where b = ?' },
    { name: 'executable comments kept, their contents normalized', sql: 'SELECT /*!40001 SQL_NO_CACHE */ * FROM `film`', fingerprint: 'select /*!40001 sql_no_cache */ * from film' },
    { name: 'optimizer hints kept, normalized', sql: 'SELECT /*+ MAX_EXECUTION_TIME(1000) BKA(t1) */ a FROM t1', fingerprint: 'select /*+ max_execution_time(?) bka(t1) */ a from t1' },
    { name: 'keywords and names lower case', sql: 'SELECT Name, COUNT(*) FROM Users WHERE Active = 1 GROUP BY Name', fingerprint: 'select name, count(*) from users where active = ? group by name' },
    { name: 'whitespace collapsed, canonical spacing', sql: 'SELECT  a,b ,c\n\tFROM t WHERE(a=1)AND b>=2', fingerprint: 'select a, b, c from t where (a = ?) and b >= ?' },
    { name: 'function calls: no space before (', sql: 'SELECT COUNT (*), MAX( a ), IFNULL(b,0) FROM t', fingerprint: 'select count(*), max(a), ifnull(b, ?) from t' },
    { name: 'backquotes dropped where not needed', sql: 'SELECT `t`.`id`, `order`, `my col`, `2x` FROM `db`.`t`', fingerprint: 'select t.id, `order`, `my col`, `2x` from db.t' },
    { name: 'unary operators glued', sql: 'SELECT -a, - b, ~c, !d, NOT e FROM t', fingerprint: 'select -a, -b, ~c, !d, not e from t' },
    { name: "user@host", sql: "GRANT SELECT ON db.* TO 'app'@'10.0.0.%'", fingerprint: 'grant select on db.* to ?@?' },
    { name: 'trailing semicolon dropped, statements separated', sql: 'SELECT 1; SELECT 2;;', fingerprint: 'select ?; select ?' },
  ]);
  same('spacing and case never matter', ['select a from t where id=1', 'SELECT a FROM t WHERE id = 2', 'select\n  a\nfrom\n  t\nwhere\n  id   =   3', 'SELECT `a` FROM `t` WHERE `id`=4 -- x']);
});

describe('fingerprint: lists', () => {
  table([
    { name: 'IN list', sql: 'SELECT * FROM t WHERE id IN (1, 2, 3)', fingerprint: 'select * from t where id in(?+)' },
    { name: 'IN with one value', sql: "SELECT * FROM t WHERE id IN ('x')", fingerprint: 'select * from t where id in(?+)' },
    { name: 'IN with placeholders and NULL', sql: 'SELECT * FROM t WHERE id IN (?, ?, NULL)', fingerprint: 'select * from t where id in(?+)' },
    { name: 'NOT IN', sql: 'SELECT * FROM t WHERE id NOT IN (1,2)', fingerprint: 'select * from t where id not in(?+)' },
    { name: 'IN of tuples', sql: 'SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))', fingerprint: 'select * from t where (a, b) in((?+))' },
    { name: 'IN with a subquery is kept', sql: 'SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = 1)', fingerprint: 'select * from t where id in(select id from u where x = ?)' },
    { name: 'IN with expressions is kept', sql: 'SELECT * FROM t WHERE id IN (a, b + 1)', fingerprint: 'select * from t where id in(a, b + ?)' },
    { name: 'empty IN list', sql: 'SELECT * FROM t WHERE id IN ()', fingerprint: 'select * from t where id in()' },
    { name: 'multi-row VALUES: the first row', sql: "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", fingerprint: 'insert into t(a, b) values(?, ?)' },
    { name: 'VALUES rows with functions: the first row', sql: 'INSERT INTO t (a, b) VALUES (1, NOW()), (2, NOW())', fingerprint: 'insert into t(a, b) values(?, now())' },
    { name: 'VALUES ROW(…)', sql: 'VALUES ROW(1, 2), ROW(3, 4)', fingerprint: 'values row(?, ?)' },
    { name: 'VALUE (singular)', sql: 'INSERT INTO t VALUE (1), (2)', fingerprint: 'insert into t value(?)' },
    { name: 'VALUES() in ON DUPLICATE KEY UPDATE is a function', sql: 'INSERT INTO t (a, b) VALUES (1, 2), (3, 4) ON DUPLICATE KEY UPDATE a = VALUES(a), b = VALUES(b)', fingerprint: 'insert into t(a, b) values(?, ?) on duplicate key update a = values(a), b = values(b)' },
    { name: 'a row cut short', sql: "INSERT INTO t VALUES (1, 'a'), (2, 'b", fingerprint: 'insert into t values(?, ?)' },
  ]);
  same('IN lists of any length', ['SELECT * FROM t WHERE id IN (1)', 'SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)', 'SELECT * FROM t WHERE id IN (?,?)']);
  same('multi-row inserts of any length', ['INSERT INTO t (a) VALUES (1)', 'INSERT INTO t (a) VALUES (1), (2)', 'INSERT INTO t (a) VALUES (?), (?), (?)']);
});

describe('fingerprint: clauses', () => {
  table([
    { name: 'ORDER BY … ASC: ASC dropped', sql: 'SELECT * FROM t ORDER BY a ASC, b DESC, c asc', fingerprint: 'select * from t order by a, b desc, c' },
    { name: 'GROUP BY … ASC (MySQL 5.7)', sql: 'SELECT a FROM t GROUP BY a ASC', fingerprint: 'select a from t group by a' },
    { name: 'ASC in a window', sql: 'SELECT ROW_NUMBER() OVER (ORDER BY a ASC) FROM t', fingerprint: 'select row_number() over (order by a) from t' },
    { name: 'ASC outside ORDER BY stays', sql: 'CREATE INDEX i ON t (a ASC)', fingerprint: 'create index i on t(a asc)' },
    { name: 'LIMIT ?', sql: 'SELECT * FROM t LIMIT 10', fingerprint: 'select * from t limit ?' },
    { name: 'LIMIT ?, ?', sql: 'SELECT * FROM t LIMIT 20, 10', fingerprint: 'select * from t limit ?, ?' },
    { name: 'LIMIT ? OFFSET ? becomes LIMIT ?, ?', sql: 'SELECT * FROM t LIMIT 10 OFFSET 20', fingerprint: 'select * from t limit ?, ?' },
    { name: 'identical UNION branches collapse', sql: 'SELECT a FROM t WHERE id = 1 UNION ALL SELECT a FROM t WHERE id = 2 UNION ALL SELECT a FROM t WHERE id = 3', fingerprint: 'select a from t where id = ? union all ...' },
    { name: 'different UNION branches stay', sql: 'SELECT a FROM t UNION SELECT a FROM u', fingerprint: 'select a from t union select a from u' },
    { name: 'UNION branches in parentheses', sql: '(SELECT a FROM t WHERE x = 1) UNION (SELECT a FROM t WHERE x = 2)', fingerprint: '(select a from t where x = ?) union ...' },
    { name: 'a UNION inside a subquery is kept', sql: 'SELECT * FROM (SELECT 1 UNION ALL SELECT 2) x', fingerprint: 'select * from (select ? union all select ?) x' },
  ]);
  same('LIMIT ? OFFSET ? and LIMIT ?, ?', ['SELECT * FROM t LIMIT 10 OFFSET 20', 'SELECT * FROM t LIMIT 20, 10']);
  different('LIMIT ? and LIMIT ?, ? (page one against deep pages)', ['SELECT * FROM t LIMIT 10', 'SELECT * FROM t LIMIT 20, 10']);
  same('UNION chains of any length', ['SELECT a FROM t WHERE id = 1 UNION ALL SELECT a FROM t WHERE id = 2', 'SELECT a FROM t WHERE id = 1 UNION ALL SELECT a FROM t WHERE id = 2 UNION ALL SELECT a FROM t WHERE id = 3']);
});

describe('fingerprint: statements', () => {
  table([
    { name: 'USE db', sql: 'USE `shop_42`', fingerprint: 'use ?' },
    { name: 'USE INDEX is not USE', sql: 'SELECT * FROM t USE INDEX (i) WHERE a = 1', fingerprint: 'select * from t use index (i) where a = ?' },
    { name: 'SET x = literal', sql: "SET sql_mode = 'TRADITIONAL'", fingerprint: 'set sql_mode = ?' },
    { name: 'SET x = word', sql: 'SET autocommit = ON', fingerprint: 'set autocommit = ?' },
    { name: 'SET SESSION x', sql: 'SET SESSION wait_timeout = 28800', fingerprint: 'set wait_timeout = ?' },
    { name: 'SET @@session.x', sql: 'SET @@session.wait_timeout = 28800', fingerprint: 'set wait_timeout = ?' },
    { name: 'SET @@x and SET LOCAL x', sql: 'SET @@wait_timeout = 1, LOCAL net_read_timeout = 2', fingerprint: 'set wait_timeout = ?, net_read_timeout = ?' },
    { name: 'SET GLOBAL x and SET @@global.x', sql: 'SET @@global.max_connections = 500, GLOBAL x = 1', fingerprint: 'set global max_connections = ?, global x = ?' },
    { name: 'SET PERSIST', sql: 'SET PERSIST max_connections = 500', fingerprint: 'set persist max_connections = ?' },
    { name: 'SET x := y', sql: 'SET @a := 1', fingerprint: 'set @a = ?' },
    { name: 'SET with an expression', sql: "SET @@sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", fingerprint: 'set sql_mode = concat(@@sql_mode, ?)' },
    { name: 'SET NAMES', sql: 'SET NAMES utf8mb4', fingerprint: 'set names ?' },
    { name: 'SET NAMES … COLLATE …', sql: "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'", fingerprint: 'set names ? collate ?' },
    { name: 'SET CHARSET and SET CHARACTER SET', sql: 'SET CHARSET utf8', fingerprint: 'set character set ?' },
    { name: 'SET TRANSACTION stays', sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', fingerprint: 'set transaction isolation level read committed' },
    { name: 'SET SESSION TRANSACTION keeps SESSION', sql: 'SET SESSION TRANSACTION READ ONLY', fingerprint: 'set session transaction read only' },
    { name: 'SET inside an executable comment', sql: '/*!40101 SET NAMES utf8 */;', fingerprint: '/*!40101 set names ? */' },
    { name: 'UPDATE … SET is not a SET statement', sql: 'UPDATE t SET a = b', fingerprint: 'update t set a = b' },
    { name: 'SAVEPOINT name', sql: 'SAVEPOINT `s140234567_x1`', fingerprint: 'savepoint ?' },
    { name: 'RELEASE SAVEPOINT name', sql: 'RELEASE SAVEPOINT s1', fingerprint: 'release savepoint ?' },
    { name: 'ROLLBACK TO [SAVEPOINT] name', sql: 'ROLLBACK TO SAVEPOINT s1; ROLLBACK WORK TO s2', fingerprint: 'rollback to savepoint ?; rollback work to ?' },
    { name: 'CALL keeps its arguments', sql: "CALL p(1, 'x', @out)", fingerprint: 'call p(?, ?, @out)' },
  ]);
  same('SET variants of one variable', ['SET autocommit=0', 'SET autocommit = 1', 'SET SESSION autocommit = ON', 'SET @@session.autocommit = OFF', 'SET @@autocommit := 1', 'SET LOCAL autocommit = 0']);
  different('SET scopes', ['SET x = 1', 'SET GLOBAL x = 1', 'SET PERSIST x = 1']);
  same('savepoint names', ['SAVEPOINT s1', 'SAVEPOINT `s140234567_x9`']);
  same('charset spellings', ['SET NAMES utf8mb4', "SET NAMES 'latin1'", 'SET NAMES DEFAULT']);
});

describe('fingerprint: idempotence on tricky text', () => {
  const tricky = [
    'select a from t where id in(?+)',
    'select * from t where (a, b) in((?+))',
    'select ? union all ...',
    'select ? - ?, -a, - -b, ? - -?, a--1',
    "select /*+ max_execution_time(?) */ a from t where b = ?",
    'set names ? collate ?',
  ];
  for (const f of tricky) test(f, () => assert.equal(fingerprint(fingerprint(f)), fingerprint(f)));
});

describe('digest', () => {
  test('MurmurHash3 x86_32 reference vectors', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['\0\0\0\0', 0, 0x2362f9de],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [s, seed, want] of vectors) {
      const b = new TextEncoder().encode(s);
      assert.equal(murmur3(b, 0, b.length, seed), want, `${JSON.stringify(s)} seed ${seed}`);
    }
  });

  test('the digest is the two lanes, high first, 16 hex digits', () => {
    for (const s of ['', 'select ?', 'select * from t where a in(?+)', 'x'.repeat(1001), 'sélect ünïcode']) {
      const b = new TextEncoder().encode(s);
      const want = murmur3(b, 0, b.length, SEED_HIGH).toString(16).padStart(8, '0') + murmur3(b, 0, b.length, SEED_LOW).toString(16).padStart(8, '0');
      assert.equal(digest(s), want);
      assert.match(digest(s), /^[0-9a-f]{16}$/);
      const h = newHash();
      hashBytes(b, 0, b.length, null, h);
      assert.equal(h.high, murmur3(b, 0, b.length, SEED_HIGH));
      assert.equal(h.low, murmur3(b, 0, b.length, SEED_LOW));
    }
  });

  test('pinned values: a change here changes every report id', () => {
    assert.equal(digest('select ?'), digest('select ?'));
    assert.deepEqual(
      ['select ?', 'select * from users where id = ?', 'insert into t(a, b) values(?, ?)', 'commit'].map(digest),
      [PINNED['select ?'], PINNED['select * from users where id = ?'], PINNED['insert into t(a, b) values(?, ?)'], PINNED.commit],
    );
  });

  test('normalize: digest of the fingerprint, cached or not, from bytes or strings', () => {
    for (const sql of ['SELECT 1', 'SELECT 2', "SELECT * FROM café WHERE a = 'x'", 'SELECT * FROM t WHERE id IN (1,2)']) {
      const n = normalize(sql);
      assert.equal(n.digest, digest(n.fingerprint));
      assert.equal(normalize(sql).digest, n.digest);
    }
  });
});

const PINNED: Record<string, string> = {
  'select ?': '3c563ca95e802a31',
  'select * from users where id = ?': 'fcf21c915c245b9e',
  'insert into t(a, b) values(?, ?)': 'bd8db3f49334f9ef',
  commit: '016b23af952c8e31',
};

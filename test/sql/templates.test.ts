/**
 * The template cache (src/sql/templates.ts) against the path without it, which is the reference:
 * every result with templates on must be the result with them off. Statements are fed so that
 * templates get made (each one twice, since a template is made once a fingerprint has been seen)
 * and then variants of them that must match: other literal values, other comment contents. The
 * tests also check that those variants do hit templates, or they would prove nothing.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusSql } from './corpus-sql.js';
import { prng } from '../builders/prng.js';
import { type NormalizedSql, SqlNormalizer, type SqlOptions } from '../../src/sql/index.js';
import { DEFAULT_LEX_OPTIONS, lex, Span, TokenList } from '../../src/sql/lexer.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const clearSqlCaches = sqlNormalizer.clearCaches.bind(sqlNormalizer);
const fingerprintAndDigest = sqlNormalizer.fingerprintAndDigest.bind(sqlNormalizer);
const fingerprintAndDigestBytes = sqlNormalizer.fingerprintAndDigestBytes.bind(sqlNormalizer);
const normalize = sqlNormalizer.normalize.bind(sqlNormalizer);
const normalizeBytes = sqlNormalizer.normalizeBytes.bind(sqlNormalizer);
const redact = sqlNormalizer.redact.bind(sqlNormalizer);
const redactBytes = sqlNormalizer.redactBytes.bind(sqlNormalizer);
const setSqlTemplates = sqlNormalizer.setTemplates.bind(sqlNormalizer);
const sqlCacheStats = sqlNormalizer.cacheStats.bind(sqlNormalizer);

const corpus = corpusSql();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The results without templates. */
function reference(bytes: Uint8Array, opts?: SqlOptions): NormalizedSql {
  setSqlTemplates(false);
  const n = normalizeBytes(bytes, 0, bytes.length, opts);
  setSqlTemplates(true);
  return n;
}

const tokens = new TokenList();

/**
 * `sql` with other values in its literals and other text in its comments, the rest as it is: a
 * statement that must match a template made from `sql`. Strings keep their quotes and get letters
 * and digits; numbers get other digits (as many or more); comments other words.
 */
function variant(sql: string, rnd: () => number): string {
  const b = encoder.encode(sql);
  lex(b, 0, b.length, DEFAULT_LEX_OPTIONS, tokens);
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)]!;
  const out: Uint8Array[] = [];
  let run = 0;
  for (let k = 0; k < tokens.spanCount; k++) {
    const s = tokens.spanStart[k]!;
    const e = tokens.spanEnd[k]!;
    const text = decoder.decode(b.subarray(s, e));
    let next: string | null = null;
    if (tokens.spanKind[k] === Span.BlockComment && /^\/\*[^!+Mm][\s\S]*\*\/$/.test(text)) next = `/* ${pick('abc')}${pick('xyz')} */`;
    else if (tokens.spanKind[k] === Span.LineComment && /^#[^\n]*$/.test(text)) next = `# ${pick('abc')}`;
    else if (tokens.spanKind[k] === Span.Mask && /^'[A-Za-z0-9 _@.:-]*'$/.test(text)) next = `'${Array.from({ length: Math.floor(rnd() * 12) }, () => pick('abcXYZ019 _-')).join('')}'`;
    else if (tokens.spanKind[k] === Span.Mask && /^[0-9]+$/.test(text)) next = Array.from({ length: text.length + Math.floor(rnd() * 3) }, () => pick('123456789')).join('');
    if (next === null) continue;
    out.push(b.subarray(run, s), encoder.encode(next));
    run = e;
  }
  out.push(b.subarray(run));
  return decoder.decode(Buffer.concat(out));
}

function same(got: NormalizedSql, want: NormalizedSql, what: string): void {
  assert.equal(got.redacted, want.redacted, `redacted of ${what}`);
  assert.equal(got.fingerprint, want.fingerprint, `fingerprint of ${what}`);
  assert.equal(got.digest, want.digest, `digest of ${what}`);
}

describe('template cache', () => {
  after(() => {
    setSqlTemplates(true);
    clearSqlCaches();
  });

  test('the corpus and variants of it: the same results as without templates, and most variants hit', () => {
    const rnd = prng(7);
    clearSqlCaches();
    const before = sqlCacheStats();
    let variants = 0;
    for (const sql of corpus) {
      const b = encoder.encode(sql);
      const want = reference(b);
      same(normalizeBytes(b), want, sql);
      same(normalizeBytes(b), want, sql); // the template is made here
      for (let r = 0; r < 3; r++) {
        const v = variant(sql, rnd);
        const vb = encoder.encode(v);
        const ref = reference(vb);
        same(normalizeBytes(vb), ref, v);
        same(normalize(v), ref, v);
        const fd = fingerprintAndDigestBytes(vb);
        assert.equal(fd.fingerprint, ref.fingerprint, v);
        assert.equal(fd.digest, ref.digest, v);
        const fs = fingerprintAndDigest(v);
        assert.equal(fs.fingerprint, ref.fingerprint, v);
        assert.equal(fs.digest, ref.digest, v);
        assert.equal(redactBytes(vb), ref.redacted, v);
        assert.equal(redact(v), ref.redacted, v);
        variants++;
      }
    }
    const after = sqlCacheStats();
    // Each variant is looked up six times; most must hit (not those with hints, unterminated literals…).
    assert.ok(after.hits - before.hits > variants * 6 * 0.8, `${after.hits - before.hits} hits for ${variants} variants`);
  });

  test('inside a larger buffer, at any offset, and in every session mode', () => {
    const modes: (SqlOptions | undefined)[] = [undefined, { charset: 'utf8mb4' }, { charset: 'latin1' }, { noBackslashEscapes: true }, { ansiQuotes: true }, { charset: 'gbk' }, { charset: 'sjis' }];
    const rnd = prng(11);
    for (const opts of modes) {
      clearSqlCaches();
      for (const sql of corpus) {
        const v = variant(sql, rnd);
        for (const s of [sql, sql, v]) {
          const body = encoder.encode(s);
          const at = Math.floor(rnd() * 7);
          const buf = new Uint8Array(body.length + 16).fill(0x27);
          buf.set(body, at);
          const want = reference(body, opts);
          same(normalizeBytes(buf, at, at + body.length, opts), want, `${s} ${JSON.stringify(opts)}`);
        }
      }
    }
  });

  /** Past the bytes the lookup key is made of: what follows is decided by the match alone. */
  const LONG = 'SELECT a, b, c, d, e FROM some_long_table_name WHERE ';

  test('a template made in one session mode is not used in another', () => {
    // [template statement, its mode, statement, its mode]: the same bytes read otherwise.
    const cases: [string, SqlOptions | undefined, string, SqlOptions | undefined][] = [
      [`${LONG}x = "a" AND y = 1`, { ansiQuotes: true }, `${LONG}x = "a" AND y = 2`, undefined],
      [`${LONG}x = "a" AND y = 1`, undefined, `${LONG}x = "b" AND y = 2`, { ansiQuotes: true }],
      [`${LONG}x = 'a\\' , 'b'`, { noBackslashEscapes: true }, `${LONG}x = 'c\\' , 'd'`, undefined],
      [`${LONG}x = 'é' AND y = 1`, undefined, `${LONG}x = 'ü' AND y = 2`, { charset: 'latin1' }],
    ];
    for (const [a, aOpts, b, bOpts] of cases) {
      clearSqlCaches();
      const ab = encoder.encode(a);
      normalizeBytes(ab, 0, ab.length, aOpts);
      normalizeBytes(ab, 0, ab.length, aOpts);
      const bb = encoder.encode(b);
      same(normalizeBytes(bb, 0, bb.length, bOpts), reference(bb, bOpts), `${b} ${JSON.stringify(bOpts)}`);
    }
  });

  test('statements that look like a template but must not match it', () => {
    // [template statement, statement that reads otherwise, mode]
    const cases: [string, string, SqlOptions | undefined][] = [
      ['x = 1 AND y = 2', 'x =  AND y = 2', undefined], // a number gone
      ['x = 1 AND y = 2', 'x = 1 AND y = 2 OR d', undefined], // more after the end
      ['x = 1 AND y = 2', 'x = 1 AND y = ', undefined], // less
      ["x = 'a' AND y = 2", 'x = a AND y = 2', undefined], // a string gone
      ['x = 1 /* c */ AND y = 2', 'x = 1 /*!40001 AND z */ AND y = 2', undefined],
      ['x = 1 /* c */ AND y = 2', 'x = 1 /*+ BKA(t) */ AND y = 2', undefined],
      ['x = 1 /* c */ AND y = 2', 'x = 1 /* c AND y = 2', undefined],
      ["x = 'a' -- c\n AND y = 2", "x = 'a' --c\n AND y = 2", undefined],
      ["x = 'a' # c\n AND y = 2", "x = 'a' #c AND y = 2", undefined],
      ['x = 1.5 AND y = 2', 'x = 1.5e AND y = 2', undefined],
      ['x = 15 AND y = 2', 'x = 15x AND y = 2', undefined],
      ['x = .5 AND y = 2', 'x = .e AND y = 2', undefined],
      ['x = 5 AND y = 2', 'x = .5 AND y = 2', undefined],
      ['x = .5 AND y = 2', 'x = . AND y = 2', undefined],
      ["x = X'AB' AND y = 2 AND w", "x = X'A\\' AND y = ' AND y = 2 AND w", undefined], // read with escapes, it would match
      ["x = X'AB' AND y = 2", "x = X'A\\' AND y = 2", undefined],
      ["x = DATE '2024-01-01'", 'x = DATE (1)', undefined],
      ["x = 'a' , 'b'", "x = 'c\\' , ' , 'd'", { noBackslashEscapes: true }], // read with escapes, it would match
      ["x = 'a' , 'b'", "x = 'c\\' , ' , 'd'", undefined],
    ];
    for (const [a, b, opts] of cases) {
      clearSqlCaches();
      const ab = encoder.encode(LONG + a);
      same(normalizeBytes(ab, 0, ab.length, opts), reference(ab, opts), a);
      normalizeBytes(ab, 0, ab.length, opts);
      const bb = encoder.encode(LONG + b);
      same(normalizeBytes(bb, 0, bb.length, opts), reference(bb, opts), b);
    }
  });

  test('names with other digits: the same results as without templates, and most hit', () => {
    // Digits inside names that change (generated aliases, numbered tables): the template copies
    // them into its results, unless a change could make the statement read otherwise.
    const names = (sql: string, d: number): string => sql.replace(/([A-Za-z_$][A-Za-z_$0-9]*?)([0-9]+)/g, (_m, head: string, digits: string) => head + digits.replace(/[0-9]/g, (c) => String((Number(c) + d) % 10)));
    clearSqlCaches();
    const before = sqlCacheStats();
    let looked = 0;
    for (const sql of corpus) {
      for (const d of [0, 3, 7, 1]) {
        const v = names(variant(sql, prng(d + 1)), d);
        const vb = encoder.encode(v);
        const ref = reference(vb);
        same(normalizeBytes(vb), ref, v);
        const fd = fingerprintAndDigestBytes(vb);
        assert.equal(fd.fingerprint, ref.fingerprint, v);
        assert.equal(fd.digest, ref.digest, v);
        assert.equal(redactBytes(vb), ref.redacted, v);
        looked += 3;
      }
    }
    const hits = sqlCacheStats().hits - before.hits;
    assert.ok(hits > looked * 0.6, `${hits} hits of ${looked} lookups`);
  });

  test('names whose digits must stay as they are', () => {
    const cases: [string, string][] = [
      ['x.int1 = 1 AND int1 = 2 AND `int1` = 3', 'x.int5 = 1 AND int5 = 2 AND `int5` = 3'], // int1…int8 are keywords
      ['a = float5', 'a = float4'],
      ["a = _utf9 'x'", "a = _utf8 'x'"], // an introducer
      ['a = _utf8mb5 AND b = 1', 'a = _utf8mb4 AND b = 1'],
      ['t1.a = 1 UNION ALL SELECT a FROM t1', 't1.a = 1 UNION ALL SELECT a FROM t2'], // UNION branches compared
      ['a IN (t1, t2)', 'a IN (t3, t4)'],
      ['a = 1a AND b = x1', 'a = 2a AND b = x2'], // names that start with digits
      ['a = 0x1F AND b = x1', 'a = 0xGG AND b = x2'],
      ['a = 1 LIMIT 1 OFFSET c1', 'a = 1 LIMIT 1 OFFSET c2'],
      ['a = 1x1 AND b = x1', 'a = 0x1 AND b = x2'], // a name, then a hex literal
      ['a = 1b1 AND b = x1', 'a = 0b1 AND b = x2'],
      // Branches that become identical only when several digits change (one at a time, none does).
      ['a = 1 UNION ALL SELECT c FROM t1 UNION ALL SELECT c FROM t5 UNION ALL SELECT c FROM t9', 'a = 1 UNION ALL SELECT c FROM t3 UNION ALL SELECT c FROM t3 UNION ALL SELECT c FROM t3'],
    ];
    for (const [a, b] of cases) {
      clearSqlCaches();
      for (const s of [a, a, a, b, a, b]) {
        const x = encoder.encode(LONG + s);
        same(normalizeBytes(x), reference(x), s);
      }
    }
    clearSqlCaches();
    for (const s of ['SAVEPOINT s1_x2', 'SAVEPOINT s5_x9', 'INSERT INTO t1 (c1) VALUES (1), (2) ON DUPLICATE KEY UPDATE c1 = VALUES(c1)', 'INSERT INTO t7 (c3) VALUES (5), (6) ON DUPLICATE KEY UPDATE c3 = VALUES(c3)']) {
      const x = encoder.encode(s);
      same(normalizeBytes(x), reference(x), s);
    }
  });

  test('a template with digits in names, made without its redacted text, then asked for it', () => {
    for (const sql of ['select user0_.id as id1_0_ from users user0_ where user0_.email=?', 'SELECT * FROM t1 JOIN t22 ON t1.a = t22.b WHERE t1.c = 5']) {
      clearSqlCaches();
      const x = encoder.encode(sql);
      const want = reference(x);
      const fd = fingerprintAndDigestBytes(x); // makes the template (its digits are names')
      assert.equal(fd.fingerprint, want.fingerprint);
      same(normalizeBytes(x), want, sql); // the same digits, no redacted text kept: written
      same(normalizeBytes(x), want, sql);
      assert.equal(redactBytes(x), want.redacted);
      const y = encoder.encode(sql.replace(/[0-9]/g, (c) => String((Number(c) + 4) % 10)));
      same(normalizeBytes(y), reference(y), 'other digits');
    }
  });

  test('hints: a template keeps their bytes (a string inside one can end it: its */ is found first)', () => {
    clearSqlCaches();
    const a = encoder.encode("SELECT /*+ SET_VAR(sort_buffer_size = 'x') */ a, b, c, d, e FROM some_long_table_name");
    const b = encoder.encode("SELECT /*+ SET_VAR(sort_buffer_size = 'x*/y') */ a, b, c, d, e FROM some_long_table_name");
    normalizeBytes(a);
    normalizeBytes(a);
    same(normalizeBytes(b), reference(b), 'hint');
  });

  test('executable comments and hints: literals in and around them', () => {
    // [statement made a template, another statement, must it match?]
    const cases: [string, string, boolean][] = [
      ["/*!40101 SET @a = 'x', @b = 12 */", "/*!40101 SET @a = 'yy*/', @b = 345 */", true], // a string in an executable comment may hold */
      ["SELECT /*!40001 SQL_NO_CACHE */ * FROM t WHERE id = 1 /* c */", "SELECT /*!40001 SQL_NO_CACHE */ * FROM t WHERE id = 22 /* other */", true],
      ['/*M!100101 SET SESSION max_statement_time=30 */', '/*M!100101 SET SESSION max_statement_time=4 */', true],
      ['/*!4010112 */ SELECT 1', '/*!4010199 */ SELECT 2', true], // five version digits, then a number
      ['/*!40101 SET NAMES utf8mb4 */', '/*!50101 SET NAMES utf8mb4 */', false],
      ["SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t1 WHERE a = 'x'", "SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t1 WHERE a = 'other'", true],
      ["SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t1 WHERE a = 'x'", "SELECT /*+ MAX_EXECUTION_TIME(2000) */ * FROM t1 WHERE a = 'x'", false],
      ["SELECT /*+ SET_VAR(x = 'a') */ * FROM t1 WHERE a = 1", "SELECT /*+ SET_VAR(x = 'a*/') */ * FROM t1 WHERE a = 1", false],
      ['INSERT /*+ SET_VAR(foreign_key_checks=OFF) */ INTO t2 VALUES(2)', 'INSERT /*+ SET_VAR(foreign_key_checks=OFF) */ INTO t2 VALUES(31)', true],
    ];
    for (const [a, b, hit] of cases) checkPair(a, b, hit);
  });

  test("an introducer before X'…' or B'…': the string read without escapes, as the lexer reads it", () => {
    // (Found by review: the hole was read with escapes, so `X'\''` matched and took the template's results.)
    checkPair("SELECT _binary X'ab', 1 FROM t", "SELECT _binary X'\\'', 1 FROM t", false);
    checkPair("SELECT _utf8mb4 B'01' AS x, 2", "SELECT _utf8mb4 B'\\'' AS x, 2", false);
    checkPair("SELECT _binary X'ab', 1 FROM t", "SELECT _binary X'cdef', 2 FROM t", true);
    checkPair("SELECT _binary\tb'01', 1 FROM t", "SELECT _binary\tb'1', 2 FROM t", true);
    checkPair("SELECT _latin1'a\\'b', 1 FROM t", "SELECT _latin1'c\\'d', 2 FROM t", true); // an introducer's own string has escapes
  });

  /** Make a template of `a`, then check `b` against the path without templates, and whether it matched. */
  function checkPair(a: string, b: string, hit: boolean): void {
    clearSqlCaches();
    const x = encoder.encode(a);
    same(normalizeBytes(x), reference(x), a);
    same(normalizeBytes(x), reference(x), a); // the template is made here
    const y = encoder.encode(b);
    const before = sqlCacheStats().hits;
    same(normalizeBytes(y), reference(y), b);
    assert.equal(sqlCacheStats().hits - before, hit ? 1 : 0, `${b} after ${a}`);
  }

  const PIECES = [
    'SELECT ', 'a', 'b1 ', 't.', '`t`', '`x1`', ' ', '\n', 'FROM t ', 'WHERE ', '=', ' = ', '(', ')', ',', '.', '?', '1', '42', '-', '+', '.5', '1.5e3', '0x1F', "'x'", "'it''s'",
    "'a\\'b'", '"dq"', "X'AB'", "N'n'", "_utf8mb4'u'", 'NULL', 'IS ', 'NOT ', 'TRUE', 'IN (', 'VALUES (', 'ROW ', 'ORDER BY ', 'ASC', 'LIMIT ', 'OFFSET ', 'UNION ALL ', 'SET ',
    'USE ', 'DATE ', "DATE '2024-01-01'", '{d ', '}', ';', '/* c */', '/*!40101 ', '*/', '/*+ ', '-- c\n', '# c\n', '#', '--', '->', '"', "'", '`', '\\', '\u0000', 'é', '@',
  ];
  const soup = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((a) => a.join(''));
  /** Every digit of `s` changed (literal values, and names: then the template must not match). */
  const tweak = (s: string, d: number): string => s.replace(/[0-9]/g, (c) => String((Number(c) + d) % 10));
  /** `s` with the piece at `at` (in pieces) left out, or another put there. */
  const edits = fc.tuple(fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }), fc.nat(), fc.constantFrom(...PIECES)).map(([pieces, at, other]) => {
    const i = pieces.length === 0 ? 0 : at % pieces.length;
    return [pieces.join(''), [...pieces.slice(0, i), ...pieces.slice(i + 1)].join(''), [...pieces.slice(0, i), other, ...pieces.slice(i + 1)].join(''), [...pieces, other].join('')] as const;
  });

  test('random SQL, its variants: the same results as without templates', () => {
    clearSqlCaches();
    fc.assert(
      fc.property(soup, fc.integer({ min: 1, max: 9 }), fc.constantFrom<SqlOptions | undefined>(undefined, { noBackslashEscapes: true }, { ansiQuotes: true }), (sql, d, opts) => {
        for (const s of [sql, sql, tweak(sql, d), variant(sql, prng(d))]) {
          const b = encoder.encode(s);
          same(normalizeBytes(b, 0, b.length, opts), reference(b, opts), JSON.stringify(s));
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('random SQL with a piece left out, replaced or added: the same results as without templates', () => {
    fc.assert(
      fc.property(edits, fc.constantFrom<SqlOptions | undefined>(undefined, { noBackslashEscapes: true }, { ansiQuotes: true }), (all, opts) => {
        clearSqlCaches();
        for (const s of [all[0], ...all]) {
          const b = encoder.encode(s);
          same(normalizeBytes(b, 0, b.length, opts), reference(b, opts), JSON.stringify(s));
        }
      }),
      { numRuns: 10000 },
    );
  });

  test('random bytes, twice then changed: the same results as without templates', () => {
    clearSqlCaches();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), (b, at) => {
        const c = b.slice();
        if (c.length > 0) c[at % c.length] ^= 1;
        for (const x of [b, b, c]) same(normalizeBytes(x), reference(x), `[${x.join(',')}]`);
      }),
      { numRuns: 3000 },
    );
  });

  /** Bytes that end or change a literal or a comment when they stand inside one. */
  const HOSTILE = ["'", "''", '\\', "\\'", '"', '`', '*/', '/*', '\n', '-- ', '#', '0', '9', 'e', 'E+', '.', 'x', "X'", ' ', '\t', '\u0000', 'é', ';', ')', '}'];

  test('every literal and comment of the corpus given hostile bytes inside: the same results as without templates', () => {
    // Each corpus statement is made a template, then each of its spans gets each hostile piece at
    // three places inside it (after its first quote, or its first byte, and before its last byte):
    // what still reads as the same literal must match, what reads otherwise must not.
    clearSqlCaches();
    const before = sqlCacheStats().hits;
    let tried = 0;
    for (const sql of corpus) {
      const b = encoder.encode(sql);
      normalizeBytes(b);
      normalizeBytes(b); // the template is made here
      lex(b, 0, b.length, DEFAULT_LEX_OPTIONS, tokens);
      const spans: [number, number][] = [];
      for (let k = 0; k < tokens.spanCount; k++) spans.push([tokens.spanStart[k]!, tokens.spanEnd[k]!]);
      for (const [start, e] of spans) {
        let s = start;
        for (let q = start; q < e - 1; q++) {
          if (b[q] === 0x27 || b[q] === 0x22) {
            s = q;
            break;
          }
        }
        const places = new Set([s + 1, Math.min(e - 1, s + 1 + Math.floor((e - s - 1) / 2)), Math.max(s + 1, e - 1)]);
        for (const at of places) {
          for (const piece of HOSTILE) {
            const changed = new Uint8Array(Buffer.concat([b.subarray(0, at), encoder.encode(piece), b.subarray(at)]));
            same(normalizeBytes(changed), reference(changed), JSON.stringify(decoder.decode(changed)));
            tried++;
          }
        }
      }
    }
    // Hostile bytes often still read as the same literal: those statements must have matched.
    const hits = sqlCacheStats().hits - before - corpus.length;
    assert.ok(hits > tried / 10, `${hits} hits in ${tried} statements`);
  });

  test('bounded: many distinct statements keep the cache within its limits, results unchanged', () => {
    clearSqlCaches();
    for (let i = 0; i < 40000; i++) {
      const s = `SELECT c${i} FROM t${i % 97} WHERE a = ${i}`;
      const b = encoder.encode(s);
      normalizeBytes(b);
      normalizeBytes(b);
    }
    assert.ok(sqlCacheStats().templates <= 1 << 14);
    const b = encoder.encode('SELECT c5 FROM t5 WHERE a = 77');
    same(normalizeBytes(b), reference(b), 'after many');
  });
});

describe('SqlNormalizer instances', () => {
  test('each owns its caches: what one has seen, made or cleared is nothing to another; the results are the same', () => {
    const a = new SqlNormalizer();
    const b = new SqlNormalizer();
    const statements = corpus.slice(0, 200);
    for (let round = 0; round < 3; round++) for (const s of statements) a.normalize(s);
    const made = a.cacheStats();
    assert.ok(made.templates > 0 && made.hits > 0, `a made and used templates (${JSON.stringify(made)})`);
    assert.deepEqual(b.cacheStats(), { templates: 0, lookups: 0, hits: 0 }, 'b saw nothing');
    for (const s of statements) {
      const first = b.normalize(s);
      assert.deepEqual({ ...first }, { ...a.normalize(s) }, s);
    }
    const fresh = new SqlNormalizer();
    for (const s of statements) fresh.normalize(s);
    assert.deepEqual(b.cacheStats(), fresh.cacheStats(), 'b made and matched what a fresh instance does: nothing of a');
    const held = a.cacheStats().templates;
    b.clearCaches();
    assert.equal(a.cacheStats().templates, held, 'clearing b leaves a as it was');
    // Interleaved calls on two instances, in other session modes, give what each gives alone.
    const c = new SqlNormalizer({ templates: false });
    for (const s of statements) {
      const x = a.normalize(s, { noBackslashEscapes: true });
      const y = b.redact(s);
      assert.deepEqual({ ...x }, { ...c.normalize(s, { noBackslashEscapes: true }) }, s);
      assert.equal(y, c.redact(s), s);
    }
  });
});

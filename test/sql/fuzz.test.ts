/**
 * Fuzz: random bytes and random SQL-like text never make the functions throw, and no string
 * literal's content (found by the independent reference lexer of ./reference-lexer.ts) survives in
 * the output.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { digest, redactErrorMessage, SqlNormalizer, type SqlOptions } from '../../src/sql/index.js';
import { lexerFacts, statementFacts } from '../../src/sql/facts.js';
import { secretsOf, stringLiterals } from './reference-lexer.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);
const normalize = sqlNormalizer.normalize.bind(sqlNormalizer);
const normalizeBytes = sqlNormalizer.normalizeBytes.bind(sqlNormalizer);
const redact = sqlNormalizer.redact.bind(sqlNormalizer);

const PIECES = [
  "'", "'", '"', '`', '\\', '\\', '#', '-', '--', '-- ', '/*', '*/', '/*!', '/*!40101 ', '/*+', '/*M!100101', '*', '/',
  ' ', ' ', ' ', '\n', '\t', 'a', 'x', 'b', 'N', 'X', '_utf8', '_binary ', 'SELECT ', 'select ', 'FROM t ', 'WHERE ',
  'DATE ', '{d ', '}', '@', '@@', '(', ')', ',', ';', '=', '0x', '0b', '1', '9', '.', 'e', 'IN (', 'VALUES (', 'NULL',
  'TRUE', 'LIMIT ', 'OFFSET ', 'UNION ALL ', 'SET ', 'secretA', 'hunter2', 'tok3n', 'é', '日本', '\u0000', '?',
];
const sqlish = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => a.join(''));

function checkHidden(sql: string, opts: SqlOptions, reading = { backslashEscapes: !opts.noBackslashEscapes }): void {
  const n = normalize(sql, opts);
  const secrets = secretsOf(sql, { ...reading, ansiQuotes: opts.ansiQuotes });
  for (const s of secrets) {
    assert.ok(!n.redacted.toLowerCase().includes(s), `redacted shows ${JSON.stringify(s)}\n  sql: ${JSON.stringify(sql)}\n  out: ${JSON.stringify(n.redacted)}`);
    assert.ok(!n.fingerprint.includes(s), `fingerprint shows ${JSON.stringify(s)}\n  sql: ${JSON.stringify(sql)}\n  out: ${JSON.stringify(n.fingerprint)}`);
  }
}

describe('fuzz', () => {
  test('the reference lexer', () => {
    const spans = (s: string): string[] => stringLiterals(s).map(([a, b]) => s.slice(a, b));
    assert.deepEqual(spans("a 'b' \"c\" `'d'` # 'e'\n -- 'f'\n /* 'g' */ /*!40101 'h' */ 'i''j' 'k\\'l' 'm"), ['b', 'c', 'h', "i''j", "k\\'l", 'm']);
  });

  test('random bytes: never throws, always a 16-hex digest', () => {
    const modes: SqlOptions[] = [{}, { charset: 'gbk' }, { charset: 'sjis' }, { charset: 'latin1' }, { noBackslashEscapes: true }, { ansiQuotes: true }];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...modes), (bytes, opts) => {
        const n = normalizeBytes(bytes, 0, bytes.length, opts);
        // The same bytes again give the same result (nothing leaks from one call into the next).
        assert.deepEqual(normalizeBytes(bytes, 0, bytes.length, opts), n);
        assert.match(n.digest, /^[0-9a-f]{16}$/);
        assert.equal(n.digest, digest(n.fingerprint));
      }),
      { numRuns: 2000 },
    );
  });

  test('random strings (any code point, lone surrogates too): never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const n = normalize(s);
        assert.equal(fingerprint(s), n.fingerprint);
        assert.equal(redact(s), n.redacted);
        const message = redactErrorMessage(s);
        assert.equal(redactErrorMessage(message), message, 'a redacted message has nothing left to redact');
      }),
      { numRuns: 1000 },
    );
  });

  test('random SQL-like text: no string literal content survives', () => {
    fc.assert(
      fc.property(sqlish, (sql) => checkHidden(sql, {})),
      { numRuns: 5000 },
    );
  });

  test('the same with NO_BACKSLASH_ESCAPES and with ANSI_QUOTES', () => {
    fc.assert(
      fc.property(sqlish, fc.constantFrom<SqlOptions>({ noBackslashEscapes: true }, { ansiQuotes: true }), (sql, opts) => checkHidden(sql, opts)),
      { numRuns: 2000 },
    );
  });

  test('NO_BACKSLASH_ESCAPES not known (null): no literal of either reading survives', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        checkHidden(sql, { noBackslashEscapes: null }, { backslashEscapes: true });
        checkHidden(sql, { noBackslashEscapes: null }, { backslashEscapes: false });
        // Where the two readings agree, the result is theirs.
        const a = normalize(sql, {});
        const b = normalize(sql, { noBackslashEscapes: true });
        const n = normalize(sql, { noBackslashEscapes: null });
        if (a.redacted === b.redacted) assert.equal(n.redacted, a.redacted);
        if (a.fingerprint === b.fingerprint) assert.deepEqual({ ...n }, { ...a, redacted: n.redacted });
        assert.equal(redact(sql, { noBackslashEscapes: null }), n.redacted);
        assert.equal(fingerprint(sql, { noBackslashEscapes: null }), n.fingerprint);
        const bytes = new TextEncoder().encode(sql);
        assert.deepEqual({ ...normalizeBytes(bytes, 0, bytes.length, { noBackslashEscapes: null }) }, { ...n });
      }),
      { numRuns: 3000 },
    );
    assert.equal(redact("SELECT 'a\\' , 'secret'", { noBackslashEscapes: null }), 'SELECT ? ?');
  });

  test('every prefix of SQL-like text (a query cut short)', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        for (let k = 0; k <= sql.length; k += 3) checkHidden(sql.slice(0, k), {});
      }),
      { numRuns: 300 },
    );
  });

  test('statement facts never throw on fingerprints of random text', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        const fp = fingerprint(sql);
        assert.equal(statementFacts(fp).kind, lexerFacts(fp).kind, 'the parser never changes the kind the lexer read');
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * `SqlNormalizer` against the oracle: the plain path, written from the rules with nothing
 * remembered — the lexer (no sink), the token-list writer of ./oracle/fingerprint-writer.ts (the
 * rules read with the whole token list in view; production never loads it), the redaction from the lexer's spans, and `digest` of the
 * fingerprint string. The normalizer takes other ways (the template cache with its name-digit
 * patches, the one-pass stream, the table of fingerprints seen); whatever way a statement takes,
 * its three results must be the oracle's, byte for byte. Statements are fed several times with
 * other values, so that templates get made and then matched.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusSql } from './corpus-sql.js';
import { prng } from '../builders/prng.js';
import { vary, varyNames } from '../../bench/sql.js';
import { digest, SqlNormalizer, type NormalizedSql, type SqlOptions } from '../../src/sql/index.js';
import { FingerprintWriter } from './oracle/fingerprint-writer.js';
import { lex, TokenList, type LexOptions } from '../../src/sql/lexer.js';
import { RedactedText } from '../../src/sql/redact.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const tokens = new TokenList();
const writer = new FingerprintWriter();
const redacted = new RedactedText();

function oracle(b: Uint8Array, opts: SqlOptions): NormalizedSql {
  const o: LexOptions = { backslashEscapes: opts.noBackslashEscapes !== true, ansiQuotes: opts.ansiQuotes === true, multibyte: null };
  lex(b, 0, b.length, o, tokens);
  writer.write(b, tokens);
  const fingerprint = decoder.decode(writer.buf.subarray(0, writer.length));
  redacted.write(b, 0, b.length, tokens);
  return { redacted: decoder.decode(redacted.buf.subarray(redacted.start, redacted.end)), fingerprint, digest: digest(fingerprint) };
}

const MODES: SqlOptions[] = [{}, { noBackslashEscapes: true }, { ansiQuotes: true }];

/** Every way in: bytes and string, all three results and grouping alone. */
function check(n: SqlNormalizer, sql: string, opts: SqlOptions): void {
  const b = encoder.encode(sql);
  const want = oracle(b, opts);
  const what = `${JSON.stringify(sql)} ${JSON.stringify(opts)}`;
  assert.deepEqual({ ...n.normalizeBytes(b, 0, b.length, opts) }, want, `normalizeBytes ${what}`);
  assert.deepEqual({ ...n.normalize(sql, opts) }, want, `normalize ${what}`);
  assert.deepEqual({ ...n.fingerprintAndDigestBytes(b, 0, b.length, opts) }, { fingerprint: want.fingerprint, digest: want.digest }, `fingerprintAndDigestBytes ${what}`);
  assert.equal(n.redact(sql, opts), want.redacted, `redact ${what}`);
}

describe('SqlNormalizer against the oracle (lexer + token-list writer + spans, nothing remembered)', () => {
  const corpus = corpusSql();

  test('the corpus with fresh values, then with fresh digits inside names, three rounds, every mode: the templates are used and change nothing', () => {
    for (const opts of MODES) {
      const n = new SqlNormalizer();
      const rnd = prng(14);
      for (let round = 0; round < 3; round++) {
        for (const sql of corpus) {
          check(n, vary(sql, rnd), opts);
          check(n, varyNames(sql, rnd), opts);
        }
      }
      const stats = n.cacheStats();
      assert.ok(stats.hits > stats.lookups / 2, `most lookups hit a template (${JSON.stringify(stats)})`);
    }
  });

  const PIECES = [
    'SELECT ', 'a', 'b1 ', 't.', '`t`', '`order`', ' ', '\n', 'FROM t ', 'WHERE ', '=', '(', ')', ',', '?', '1', '42', '-', '.5', '1e3', '0x1F', "'x'", "'a\\'b'", '"dq"', "X'AB'", '_utf8mb4',
    'NULL', 'IS ', 'NOT ', 'TRUE', 'IN (', 'VALUES (', 'ROW(', 'ORDER BY ', 'ASC', 'LIMIT ', 'OFFSET ', 'UNION ALL ', 'SET ', 'USE ', 'SAVEPOINT ', ';', '/* c */', '/*!40101 ', '*/', '/*+ ',
    '-- c\n', '#', '@', '@@session.', ':=', 'é', '\\', "'",
  ];

  test('random token soups, each twice then with other digits, in every mode one after the other (a template is made in one mode, looked up in the next)', () => {
    const n = new SqlNormalizer();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }), fc.integer({ min: 0, max: 9 }), (parts, d) => {
        const sql = parts.join('');
        for (const opts of MODES) {
          check(n, sql, opts);
          check(n, sql, opts);
          check(n, sql.replace(/[0-9]/g, String(d)), opts);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('random bytes (valid UTF-8 or not), each twice', () => {
    const n = new SqlNormalizer();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...MODES), (b, opts) => {
        const want = oracle(b, opts);
        for (let i = 0; i < 2; i++) assert.deepEqual({ ...n.normalizeBytes(b, 0, b.length, opts) }, want, JSON.stringify([...b]));
      }),
      { numRuns: 3000 },
    );
  });
});

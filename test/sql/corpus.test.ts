/**
 * The corpus: real-world statements (MySQL documentation examples; the SQL Hibernate, ActiveRecord,
 * Django and Sequelize send; tools like mysqldump and drivers; edge cases), each with its expected
 * redacted text and fingerprint, reviewed by hand. Plus the invariants every statement must keep.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digest, SqlNormalizer } from '../../src/sql/index.js';
import { StatementFactsCache } from '../../src/sql/facts.js';
import { secretsOf } from './reference-lexer.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);
const normalize = sqlNormalizer.normalize.bind(sqlNormalizer);
const normalizeBytes = sqlNormalizer.normalizeBytes.bind(sqlNormalizer);

interface Entry {
  sql: string;
  redacted: string;
  fingerprint: string;
}

/** This file runs as build/test/sql/corpus.test.js; the corpus stays in the source tree. */
const DIR = fileURLToPath(new URL('../../../test/sql/corpus/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const corpus = new Map<string, Entry[]>(files.map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Entry[]]));
const all = [...corpus.values()].flat();

describe('corpus', () => {
  test('holds at least 300 statements', () => {
    assert.ok(all.length >= 300, `${all.length}`);
  });

  for (const [file, entries] of corpus) {
    test(`${file}: redacted text and fingerprint as reviewed`, () => {
      for (const e of entries) {
        const n = normalize(e.sql);
        assert.equal(n.redacted, e.redacted, e.sql);
        assert.equal(n.fingerprint, e.fingerprint, e.sql);
      }
    });
  }

  test('bytes and strings agree', () => {
    for (const e of all) {
      const b = new TextEncoder().encode(e.sql);
      const n = normalizeBytes(b);
      assert.equal(n.redacted, e.redacted, e.sql);
      assert.equal(n.fingerprint, e.fingerprint, e.sql);
    }
  });

  test('no string literal survives', () => {
    for (const e of all) {
      for (const s of secretsOf(e.sql)) {
        assert.ok(!e.redacted.toLowerCase().includes(s), `${s} in ${e.redacted}`);
        assert.ok(!e.fingerprint.includes(s), `${s} in ${e.fingerprint}`);
      }
    }
  });

  test('fingerprint(redacted) = fingerprint = fingerprint(fingerprint); digest = digest(fingerprint)', () => {
    for (const e of all) {
      assert.equal(fingerprint(e.redacted), e.fingerprint, e.sql);
      assert.equal(fingerprint(e.fingerprint), e.fingerprint, e.sql);
      assert.equal(normalize(e.sql).digest, digest(e.fingerprint));
    }
  });

  test('distinct statements stay distinct: no two different queries of a file share a fingerprint by accident', () => {
    // The corpus has few intended duplicates (same query, other literals): list them.
    const seen = new Map<string, string>();
    const shared: string[] = [];
    for (const e of all) {
      const prev = seen.get(e.fingerprint);
      if (prev !== undefined && prev !== e.sql) shared.push(e.fingerprint);
      seen.set(e.fingerprint, e.sql);
    }
    assert.ok(shared.length < all.length / 10, shared.join('\n'));
  });

  test('statement facts for every fingerprint, without an error', () => {
    const cache = new StatementFactsCache();
    const kinds = new Map<string, number>();
    for (const e of all) {
      const f = cache.get(e.fingerprint);
      kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
    }
    for (const k of ['select', 'insert', 'update', 'delete', 'replace', 'ddl', 'transaction', 'set', 'show', 'call', 'other']) assert.ok((kinds.get(k) ?? 0) > 0, k);
  });
});

/**
 * Property: statements built from random SQL shapes, with random literals of every kind (each
 * carrying a distinctive random marker), random whitespace and comments (carrying markers too):
 * no marker survives redaction or fingerprinting, in any case, from strings or from bytes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SqlNormalizer, type SqlOptions } from '../../src/sql/index.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);
const normalize = sqlNormalizer.normalize.bind(sqlNormalizer);
const normalizeBytes = sqlNormalizer.normalizeBytes.bind(sqlNormalizer);

/** A piece of SQL and the texts that must not survive it. */
interface Piece {
  sql: string;
  secrets: string[];
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const chars = (alphabet: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** A text marker: `Qz` and 8 to 12 letters and digits, so it cannot occur by chance. */
const marker = chars(ALNUM, 8, 12).map((s) => `Qz${s}`);
/** A numeric marker: 9 to 12 digits, not starting with 0. */
const digits = fc.tuple(fc.constantFrom(...'123456789'), chars('0123456789', 8, 11)).map(([a, b]) => a + b);
const hex = chars('0123456789abcdef', 12, 20).map((s) => `f${s}`);
const bits = chars('01', 20, 28).map((s) => `1${s}`);
const filler = chars('abcdefghij -_.,;:!?()[]{}<>=+*/%&|^~é日本ü', 0, 6);

/** Every literal syntax MySQL has, each hiding one or two markers. */
const literal: fc.Arbitrary<Piece> = fc.oneof(
  marker.map((m) => ({ sql: `'${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `"${m}"`, secrets: [m] })),
  fc.tuple(marker, marker).map(([m, n]) => ({ sql: `'${m}\\'${n}'`, secrets: [m, n] })),
  fc.tuple(marker, marker).map(([m, n]) => ({ sql: `'${m}''${n}'`, secrets: [m, n] })),
  fc.tuple(marker, marker).map(([m, n]) => ({ sql: `"${m}""${n}\\"x"`, secrets: [m, n] })),
  marker.map((m) => ({ sql: `'${m}\\\\'`, secrets: [m] })),
  fc.tuple(marker, filler).map(([m, f]) => ({ sql: `'\\n${f}${m}\\t\\0\\Z\\%'`, secrets: [m] })),
  marker.map((m) => ({ sql: `'-- ${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `'/* ${m} */'`, secrets: [m] })),
  marker.map((m) => ({ sql: `'# ${m}'`, secrets: [m] })),
  fc.tuple(marker, marker).map(([m, n]) => ({ sql: `'${m}\n${n}'`, secrets: [m, n] })),
  fc.tuple(marker, filler).map(([m, f]) => ({ sql: `'${f}${m}${f}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `_utf8mb4'${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `_binary '${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `_latin1"${m}" COLLATE latin1_bin`, secrets: [m] })),
  marker.map((m) => ({ sql: `N'${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `n'${m}'`, secrets: [m] })),
  hex.map((h) => ({ sql: `X'${h}'`, secrets: [h] })),
  hex.map((h) => ({ sql: `x'${h.toUpperCase()}'`, secrets: [h] })),
  hex.map((h) => ({ sql: `0x${h}`, secrets: [h] })),
  hex.map((h) => ({ sql: `_binary 0x${h}`, secrets: [h] })),
  bits.map((b) => ({ sql: `B'${b}'`, secrets: [b] })),
  bits.map((b) => ({ sql: `0b${b}`, secrets: [b] })),
  marker.map((m) => ({ sql: `DATE '${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `TIMESTAMP'${m}'`, secrets: [m] })),
  marker.map((m) => ({ sql: `time "${m}"`, secrets: [m] })),
  marker.map((m) => ({ sql: `{d '${m}'}`, secrets: [m] })),
  marker.map((m) => ({ sql: `{ ts '${m}' }`, secrets: [m] })),
  digits.map((n) => ({ sql: n, secrets: [n] })),
  digits.map((n) => ({ sql: `-${n}`, secrets: [n] })),
  digits.map((n) => ({ sql: `+${n}`, secrets: [n] })),
  digits.map((n) => ({ sql: `- ${n}`, secrets: [n] })),
  digits.map((n) => ({ sql: `- -${n}`, secrets: [n] })),
  fc.tuple(digits, digits).map(([a, b]) => ({ sql: `${a}.${b}`, secrets: [a, b] })),
  fc.tuple(digits, digits).map(([a, b]) => ({ sql: `-${a}.${b}e-7`, secrets: [a, b] })),
  digits.map((n) => ({ sql: `.${n}`, secrets: [n] })),
  digits.map((n) => ({ sql: `${n}.`, secrets: [n] })),
  digits.map((n) => ({ sql: `${n}E+12`, secrets: [n] })),
  fc.constantFrom('TRUE', 'false', 'NULL', '?').map((s) => ({ sql: s, secrets: [] })),
);

/** Whitespace and comments between tokens; comments carry markers too. */
const separator: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(' ', '  ', '\n', '\t', ' \r\n ').map((s) => ({ sql: s, secrets: [] })) },
  { weight: 1, arbitrary: marker.map((m) => ({ sql: ` /* ${m} 'x */ `, secrets: [m] })) },
  { weight: 1, arbitrary: marker.map((m) => ({ sql: ` -- ${m} "\n`, secrets: [m] })) },
  { weight: 1, arbitrary: marker.map((m) => ({ sql: ` # ${m} \`\n`, secrets: [m] })) },
);

type Shape = (l: (i: number) => string, s: (i: number) => string) => string;

/** SQL shapes: `l(i)` is the i-th literal, `s(i)` the i-th separator. */
const SHAPES: Shape[] = [
  (l, s) => `SELECT${s(0)}${l(0)}${s(1)}FROM t WHERE a =${s(2)}${l(1)}`,
  (l, s) => `SELECT * FROM t WHERE a IN (${l(0)},${s(0)}${l(1)}, ${l(2)})${s(1)}AND b NOT IN(${l(3)})`,
  (l, s) => `INSERT INTO t (a, b) VALUES (${l(0)}, ${l(1)}),${s(0)}(${l(2)},${s(1)}${l(3)})`,
  (l, s) => `UPDATE t SET a = ${l(0)}, b = b+${l(1)}${s(0)}WHERE c BETWEEN ${l(2)} AND${s(1)}${l(3)}`,
  (l, s) => `SET @v = ${l(0)},${s(0)}@w := ${l(1)}`,
  (l, s) => `SET SESSION sql_mode =${s(0)}${l(0)}`,
  (l) => `SELECT @x := ${l(0)}, @y:=${l(1)}`,
  (l) => `SELECT /*!40101 ${l(0)}, */ a FROM t WHERE b = /*!50000 ${l(1)} */`,
  (l) => `SELECT /*+ SET_VAR(x = ${l(0)}) MAX_EXECUTION_TIME(${l(1)}) */ a FROM t`,
  (l, s) => `CALL p(${l(0)},${s(0)}${l(1)})`,
  (l, s) => `SELECT CASE WHEN a = ${l(0)} THEN ${l(1)}${s(0)}ELSE ${l(2)} END FROM t`,
  (l, s) => `SELECT * FROM t WHERE a = ${l(0)}${s(0)}ORDER BY b ASC LIMIT ${l(1)}, ${l(2)}`,
  (l, s) => `SELECT JSON_EXTRACT(doc,${s(0)}${l(0)}) FROM t WHERE doc->>${l(1)} = ${l(2)}`,
  // (`a-` then `- 5` would be `a-- 5`: a comment, for MySQL too)
  (l, s) => `SELECT a - ${l(0)}, a-${l(1).replace(/^-\s+/, '')}, (${l(2)})${s(0)}FROM t`,
  (l, s) => `SELECT ${l(0)};${s(0)}SELECT ${l(1)};`,
  (l, s) => `SELECT ${l(0)}${s(0)}UNION ALL SELECT ${l(1)} UNION ALL SELECT ${l(2)}`,
  (l, s) => `SELECT * FROM t WHERE (a, b) IN ((${l(0)}, ${l(1)}),${s(0)}(${l(2)}, ${l(3)}))`,
  (l) => `GRANT SELECT ON db.* TO ${l(0)}@${l(1)} IDENTIFIED BY ${l(2)}`,
  (l, s) => `SELECT * FROM t WHERE a LIKE ${l(0)} ESCAPE ${l(1)}${s(0)}AND b = INTERVAL ${l(2)} DAY`,
  (l, s) => `INSERT INTO t SET a = ${l(0)}${s(0)}ON DUPLICATE KEY UPDATE a = VALUES(a) + ${l(1)}`,
];

const statement: fc.Arbitrary<Piece> = fc
  .tuple(fc.integer({ min: 0, max: SHAPES.length - 1 }), fc.array(literal, { minLength: 4, maxLength: 4 }), fc.array(separator, { minLength: 3, maxLength: 3 }))
  .map(([shape, lits, seps]) => ({
    sql: SHAPES[shape]!((i) => lits[i]!.sql, (i) => seps[i]!.sql),
    secrets: [...lits, ...seps].flatMap((p) => p.secrets),
  }));

function assertHidden(out: string, secrets: string[], what: string, sql: string): void {
  const lower = out.toLowerCase();
  for (const s of secrets) assert.ok(!lower.includes(s.toLowerCase()), `${what} shows ${JSON.stringify(s)}\n  sql: ${JSON.stringify(sql)}\n  out: ${JSON.stringify(out)}`);
  // The shapes have no quote outside literals and comments, so none may remain.
  assert.ok(!/['"]/.test(out), `${what} has a quote\n  sql: ${JSON.stringify(sql)}\n  out: ${JSON.stringify(out)}`);
}

describe('property: no literal value survives', () => {
  const runs = 3000;

  test('redaction and fingerprint, from strings', () => {
    fc.assert(
      fc.property(statement, ({ sql, secrets }) => {
        const n = normalize(sql);
        assertHidden(n.redacted, secrets, 'redacted', sql);
        assertHidden(n.fingerprint, secrets, 'fingerprint', sql);
      }),
      { numRuns: runs },
    );
  });

  test('from bytes, inside a larger buffer, with every session mode that keeps the same literals', () => {
    const modes: SqlOptions[] = [{}, { charset: 'utf8mb4' }, { charset: 'latin1' }, { charset: 'gbk' }];
    fc.assert(
      fc.property(statement, fc.constantFrom(...modes), ({ sql, secrets }, opts) => {
        const body = new TextEncoder().encode(sql);
        const buf = new Uint8Array(body.length + 8);
        buf.fill(0x27); // quotes around the slice: never read
        buf.set(body, 4);
        const n = normalizeBytes(buf, 4, 4 + body.length, opts);
        assertHidden(n.redacted, secrets, 'redacted', sql);
        assertHidden(n.fingerprint, secrets, 'fingerprint', sql);
      }),
      { numRuns: runs / 2 },
    );
  });

  test('cut at any length (a truncated query)', () => {
    fc.assert(
      fc.property(statement, fc.double({ min: 0, max: 1, noNaN: true }), ({ sql, secrets }, at) => {
        const cut = sql.slice(0, Math.floor(sql.length * at));
        const n = normalize(cut);
        // A marker cut short is still a prefix of a value: check the parts long enough to tell.
        const parts = secrets.flatMap((s) => [s, ...[...Array(Math.max(0, s.length - 6)).keys()].map((k) => s.slice(0, k + 7))]).filter((s) => cut.includes(s));
        for (const s of parts) {
          assert.ok(!n.redacted.toLowerCase().includes(s.toLowerCase()), `redacted shows ${s}: ${JSON.stringify(cut)} → ${n.redacted}`);
          assert.ok(!n.fingerprint.includes(s.toLowerCase()), `fingerprint shows ${s}: ${JSON.stringify(cut)} → ${n.fingerprint}`);
        }
      }),
      { numRuns: runs / 2 },
    );
  });

  test('fingerprint(redacted) = fingerprint, and fingerprinting a fingerprint changes nothing', () => {
    fc.assert(
      fc.property(statement, ({ sql }) => {
        const n = normalize(sql);
        assert.equal(fingerprint(n.redacted), n.fingerprint, sql);
        assert.equal(fingerprint(n.fingerprint), n.fingerprint, sql);
      }),
      { numRuns: runs / 2 },
    );
  });

  test('statements differing only in literal values, spacing and comments share a fingerprint', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SHAPES.length - 1 }), fc.array(marker, { minLength: 4, maxLength: 4 }), fc.array(marker, { minLength: 4, maxLength: 4 }), fc.array(separator, { minLength: 3, maxLength: 3 }), (shape, a, b, seps) => {
        const one = SHAPES[shape]!((i) => `'${a[i]}'`, () => ' ');
        const two = SHAPES[shape]!((i) => `'${b[i]}'`, (i) => seps[i]!.sql);
        assert.equal(fingerprint(two), fingerprint(one));
      }),
      { numRuns: runs / 3 },
    );
  });
});

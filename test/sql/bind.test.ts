/** Parameter values written into a prepared statement (src/sql/bind.ts): only real placeholders, quoted by type. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindParameters, sqlLiteral } from '../../src/sql/bind.js';

const LONG = 0x03;
const DOUBLE = 0x05;
const NEWDECIMAL = 0xf6;
const VARCHAR = 0xfd;
const DATETIME = 0x0c;

test('placeholders are replaced in order; those inside strings, comments and names are not placeholders', () => {
  assert.equal(
    bindParameters("SELECT '?', `a?` FROM t /* ? */ WHERE a = ? AND b = ? -- ?\n", ['7', 'x'], [LONG, VARCHAR]),
    "SELECT '?', `a?` FROM t /* ? */ WHERE a = 7 AND b = 'x' -- ?\n",
  );
  assert.equal(bindParameters('SELECT 1', [], null), 'SELECT 1');
  assert.equal(bindParameters('SELECT ?, ?', ['1'], [LONG]), null, 'fewer values than placeholders');
  assert.equal(bindParameters('SELECT ?', ['1', '2'], [LONG, LONG]), null, 'more values than placeholders');
  assert.equal(bindParameters('SELECT é, ? FROM t', ['ü'], [VARCHAR]), "SELECT é, 'ü' FROM t");
});

test('values: numbers of numeric types as they are, everything else quoted, NULL as NULL', () => {
  assert.equal(sqlLiteral('42', LONG), '42');
  assert.equal(sqlLiteral('-1.5e3', DOUBLE), '-1.5e3');
  assert.equal(sqlLiteral('12.50', NEWDECIMAL), '12.50');
  assert.equal(sqlLiteral('42', VARCHAR), "'42'", 'a string that looks like a number stays a string');
  assert.equal(sqlLiteral('42', null), "'42'", 'type unknown: quoted');
  assert.equal(sqlLiteral('1; DROP TABLE t', LONG), "'1; DROP TABLE t'", 'a numeric type with a value that is not a number is quoted');
  assert.equal(sqlLiteral("it's \\ here", VARCHAR), "'it''s \\\\ here'");
  assert.equal(sqlLiteral('2026-11-21 05:08:04', DATETIME), "'2026-11-21 05:08:04'");
  assert.equal(sqlLiteral(null, LONG), 'NULL');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryAttributesAfter, querySql, useDatabase } from '../../src/mysql/query.js';

test('useDatabase: USE in any case and spacing, nothing else', () => {
  assert.equal(useDatabase('USE shop'), 'shop');
  assert.equal(useDatabase(' \n\tuse `shop`;'), 'shop');
  // Unicode white space is white space to the expression: the first-letter shortcut must not skip it.
  assert.equal(useDatabase('\u00a0use shop'), 'shop');
  assert.equal(useDatabase('\ufeffUSE shop '), 'shop');
  for (const sql of ['', '   ', 'SELECT 1', 'update t set a = 1', 'user', '\u0001use shop', 'USE']) assert.equal(useDatabase(sql), undefined, sql);
});

test('COM_QUERY: query attributes learnt from the packet, the SQL after them', () => {
  const plain = new Uint8Array([0x03, ...new TextEncoder().encode('SELECT 1')]);
  assert.equal(queryAttributesAfter(plain, null), null);
  assert.equal(querySql(plain, null), 'SELECT 1');
  // 0 attributes, 1 parameter set: the block shows the capability.
  const attrs = new Uint8Array([0x03, 0x00, 0x01, ...new TextEncoder().encode('SELECT 2')]);
  assert.equal(queryAttributesAfter(attrs, null), true);
  assert.equal(querySql(attrs, true), 'SELECT 2');
  assert.equal(queryAttributesAfter(attrs, false), false);
});

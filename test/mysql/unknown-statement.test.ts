/** Executes of statements the capture never saw prepared: parameters inferred from crafted bytes, column names read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnName, inferExecuteParams } from '../../src/mysql/packets.js';

const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
const lenStr = (s: string) => [s.length, ...Buffer.from(s)];
/** COM_STMT_EXECUTE: id, flags 0, iteration count 1, then the parameter block. */
const execute = (id: number, block: number[]) => Uint8Array.from([0x17, ...u32(id), 0, ...u32(1), ...block]);

test('inferExecuteParams: the only count whose layout ends at the packet end', () => {
  assert.deepEqual(inferExecuteParams(execute(1, [])), { count: 0, types: [] });
  // One LONG (3): bitmap 0, bound 1, type 03 00, value 4 bytes.
  assert.deepEqual(inferExecuteParams(execute(1, [0, 1, 3, 0, ...u32(42)])), { count: 1, types: [3] });
  // A VAR_STRING and an unsigned LONGLONG: bitmap, bound, fd 00, 08 80, 'abc', 8 bytes.
  assert.deepEqual(inferExecuteParams(execute(7, [0, 1, 0xfd, 0, 0x08, 0x80, ...lenStr('abc'), 1, 0, 0, 0, 0, 0, 0, 0])), { count: 2, types: [0xfd, 0x08] });
  // A NULL second parameter (bitmap bit 1): no value bytes for it.
  assert.deepEqual(inferExecuteParams(execute(7, [2, 1, 3, 0, 3, 0, ...u32(5)])), { count: 2, types: [3, 3] });
  // Types not sent (bound flag 0): the count cannot be known.
  assert.equal(inferExecuteParams(execute(1, [0, 0, ...u32(42)])), null);
  // Bytes that fit no layout.
  assert.equal(inferExecuteParams(execute(1, [0, 1, 0x42, 0x42, 9])), null);
});

test('columnName: table.column by their original names, the aliases when there are none', () => {
  const def = (table: string, orgTable: string, name: string, orgName: string) => Uint8Array.from([...lenStr('def'), ...lenStr('db'), ...lenStr(table), ...lenStr(orgTable), ...lenStr(name), ...lenStr(orgName), 0x0c, 0x21, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
  assert.equal(columnName(def('t', 'sbtest1', 'x', 'c')), 'sbtest1.c');
  assert.equal(columnName(def('', '', 'COUNT(*)', '')), 'COUNT(*)');
  assert.equal(columnName(Uint8Array.from([3, 0x64])), null);
});

/** The resynchronisation checks (src/mysql/resync.ts): pure functions of a segment's bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Com } from '../../src/mysql/constants.js';
import { Expect } from '../../src/mysql/response.js';
import { commandStart, resyncExpectation, responseStart } from '../../src/mysql/resync.js';
import { concat, ascii } from '../builders/bytes.js';
import { columnCount, columnDef, mysqlPacket, ok } from '../builders/mysql-builder.js';

const at = (b: Uint8Array) => commandStart(b, 0, b.length);

test('a command start: sequence id 0, a command sent after a gap, printable SQL', () => {
  assert.equal(at(mysqlPacket(0, ascii('\x03SELECT 1'))), Com.Query);
  assert.equal(at(mysqlPacket(0, Uint8Array.of(Com.Ping))), Com.Ping);
  assert.equal(at(mysqlPacket(1, ascii('\x03SELECT 1'))), -1, 'sequence id 1 is a reply, not a command');
  assert.equal(at(mysqlPacket(0, Uint8Array.of(0x77))), -1, 'not a command byte');
  assert.equal(at(mysqlPacket(0, Uint8Array.of(Com.BinlogDump, 0, 0, 0, 0))), -1, 'not one a client starts with after a gap');
  assert.equal(at(mysqlPacket(0, concat(Uint8Array.of(Com.Query), new Uint8Array(30).fill(1)))), -1, 'SQL is mostly printable');
  // A long query cut by the segment: at least 16 bytes of it must be here.
  const long = mysqlPacket(0, ascii(`\x03SELECT '${'x'.repeat(100)}'`));
  assert.equal(commandStart(long, 0, 40), Com.Query);
  assert.equal(commandStart(long, 0, 12), -1);
  // The same bytes checked twice give the same answer: nothing is counted or changed.
  assert.equal(at(long), at(long));
});

test('a response start: sequence id 1, short, the next packet in the segment is sequence id 2', () => {
  const r = concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')));
  assert.equal(responseStart(r, 0, r.length), true);
  assert.equal(responseStart(mysqlPacket(1, ok()), 0, 11), true);
  const wrongNext = concat(mysqlPacket(1, columnCount(1)), mysqlPacket(5, columnDef('a')));
  assert.equal(responseStart(wrongNext, 0, wrongNext.length), false);
  assert.equal(responseStart(mysqlPacket(0, ok()), 0, 11), false);
});

test('a resynchronised response is read from its first packet (fetch and change_user as a plain result)', () => {
  assert.equal(resyncExpectation(Com.StmtPrepare).kind, Expect.PrepareOk);
  assert.equal(resyncExpectation(Com.Query).kind, Expect.Result);
  assert.equal(resyncExpectation(Com.StmtFetch).kind, Expect.Result);
  assert.equal(resyncExpectation(Com.ChangeUser).kind, Expect.Result);
});

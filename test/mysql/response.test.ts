/**
 * The response machine on its own (src/mysql/response.ts): a pure function of the expectation,
 * the packet and a small context, walked through whole responses packet by packet.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Cap, Com } from '../../src/mysql/constants.js';
import type { Packet } from '../../src/mysql/framing.js';
import { Expect, Outcome, expectationFor, learnDeprecateEof, stageOf, step, type Expectation, type ResponseContext } from '../../src/mysql/response.js';
import { columnCount, columnDef, eof, err, localInfileRequest, ok, okEof, prepareOk, textRow } from '../builders/mysql-builder.js';

function packet(payload: Uint8Array): Packet {
  return { seq: 1, length: payload.length, b0: payload.length > 0 ? payload[0]! : -1, payload, truncated: false, firstSec: 0, firstNsec: 0, lastSec: 0, lastNsec: 0 };
}

const CAPS = Cap.Protocol41 | Cap.Transactions | Cap.SecureConnection;

/** Feed a response to the machine from the command's first expectation: outcomes, stages, and the end. */
function walk(com: number, payloads: Uint8Array[], deprecateEof: boolean | null, cursor = false) {
  let e: Expectation = expectationFor(com);
  const ctx: ResponseContext = { caps: CAPS, mariaCaps: 0, deprecateEof, cursor };
  const outcomes: Outcome[] = [];
  const stages: string[] = [];
  let done: string | null = null;
  for (const payload of payloads) {
    assert.equal(done, null, 'no packet after the end');
    const p = packet(payload);
    const learnt = learnDeprecateEof(e, p, ctx.deprecateEof);
    if (learnt !== null) {
      ctx.deprecateEof = true;
      e = learnt;
    }
    const before = [e.kind, e.left, e.columns];
    const s = step(e, p, ctx);
    assert.deepEqual([e.kind, e.left, e.columns], before, 'the expectation is not changed in place');
    outcomes.push(s.outcome);
    ctx.deprecateEof = s.deprecateEof;
    done = s.done;
    e = s.next;
    stages.push(stageOf(e.kind));
  }
  return { outcomes, stages, done, deprecateEof: ctx.deprecateEof, last: e };
}

describe('response machine', () => {
  test('a result set with EOFs: count, definitions, EOF, rows, EOF', () => {
    const r = walk(Com.Query, [columnCount(2), columnDef('a'), columnDef('b'), eof(), textRow('1', '2'), textRow('3', null), eof()], false);
    assert.deepEqual(r.outcomes, [Outcome.ResultSet, Outcome.Column, Outcome.Column, Outcome.DefinitionsEof, Outcome.Row, Outcome.Row, Outcome.EndOfRows]);
    assert.deepEqual(r.stages, ['WAIT_FOR_FIELD_DEF', 'WAIT_FOR_FIELD_DEF', 'WAIT_FOR_FIELD_DEF', 'WAIT_FOR_ROW', 'WAIT_FOR_ROW', 'WAIT_FOR_ROW', 'READY_FOR_COMMAND']);
    assert.equal(r.done, 'ok');
  });

  test('CLIENT_DEPRECATE_EOF not known: learnt where the EOF after the definitions is missing', () => {
    const r = walk(Com.Query, [columnCount(1), columnDef('a'), textRow('1'), okEof()], null);
    assert.deepEqual(r.outcomes, [Outcome.ResultSet, Outcome.Column, Outcome.Row, Outcome.EndOfRows]);
    assert.equal(r.deprecateEof, true);
    assert.equal(r.done, 'ok');
  });

  test('an EOF of 5 bytes where it was not known: CLIENT_DEPRECATE_EOF is off', () => {
    assert.equal(walk(Com.Query, [columnCount(1), columnDef('a'), eof(), eof()], null).deprecateEof, false);
  });

  test('more results: the end of the rows expects the next result', () => {
    const r = walk(Com.Query, [columnCount(1), columnDef('a'), eof(), textRow('1'), eof(0x000a), ok()], false);
    assert.deepEqual(r.outcomes.slice(-2), [Outcome.EndOfRows, Outcome.Ok]);
    assert.deepEqual(r.stages.slice(-2), ['WAIT_FOR_RESULT', 'READY_FOR_COMMAND']);
    assert.equal(r.done, 'ok');
  });

  test('ERR ends any expectation', () => {
    for (const payloads of [[err(1064, 'syntax')], [columnCount(1), err(1317, 'interrupted')], [columnCount(1), columnDef('a'), eof(), textRow('x'), err(1317, 'interrupted')]]) {
      const r = walk(Com.Query, payloads, false);
      assert.equal(r.outcomes.at(-1), Outcome.Error);
      assert.equal(r.done, 'error');
    }
  });

  test('a prepared statement: PREPARE_OK, parameter definitions, column definitions, with and without EOFs', () => {
    const withEof = walk(Com.StmtPrepare, [prepareOk(7, 1, 2), columnDef('?'), columnDef('?'), eof(), columnDef('c'), eof()], false);
    assert.deepEqual(withEof.outcomes, [Outcome.PrepareOk, Outcome.Definition, Outcome.Definition, Outcome.Definition, Outcome.Definition, Outcome.Prepared]);
    assert.deepEqual(withEof.stages, ['WAIT_FOR_PARAM_DEF', 'WAIT_FOR_PARAM_DEF', 'WAIT_FOR_PARAM_DEF', 'WAIT_FOR_FIELD_DEF', 'WAIT_FOR_FIELD_DEF', 'READY_FOR_COMMAND']);
    const without = walk(Com.StmtPrepare, [prepareOk(7, 1, 2), columnDef('?'), columnDef('?'), columnDef('c')], true);
    assert.deepEqual(without.outcomes, [Outcome.PrepareOk, Outcome.Definition, Outcome.Definition, Outcome.Prepared]);
    assert.equal(without.done, 'ok');
    // Not known: the missing EOF after the parameters teaches it.
    const learnt = walk(Com.StmtPrepare, [prepareOk(7, 1, 1), columnDef('?'), columnDef('c')], null);
    assert.equal(learnt.deprecateEof, true);
    assert.equal(learnt.done, 'ok');
  });

  test('a PREPARE_OK that is not one: the command is incomplete', () => {
    const r = walk(Com.StmtPrepare, [columnCount(3)], false);
    assert.deepEqual([r.outcomes, r.done], [[Outcome.BadPrepareOk], 'incomplete']);
  });

  test('LOCAL INFILE: the request, then the answer after the file', () => {
    const r = walk(Com.Query, [localInfileRequest('x.csv')], false);
    assert.deepEqual([r.outcomes, r.last.kind, r.stages], [[Outcome.FileRequest], Expect.FileData, ['FILE_REQUEST']]);
    assert.equal(step(r.last, packet(ok()), { caps: CAPS, mariaCaps: 0, deprecateEof: false, cursor: false }).outcome, Outcome.Ok);
  });

  test('an implausible column count loses the stream', () => {
    const s = step(expectationFor(Com.Query), packet(Uint8Array.of(0xfc, 0xff, 0xff)), { caps: CAPS, mariaCaps: 0, deprecateEof: false, cursor: false });
    assert.deepEqual([s.outcome, s.done, s.status], [Outcome.BadColumnCount, 'incomplete', 0xffff]);
  });

  test('a cursor: the EOF after the definitions ends the result (rows come with fetch)', () => {
    const r = walk(Com.StmtExecute, [columnCount(1), columnDef('a'), eof(0x0042)], false, true);
    assert.deepEqual([r.outcomes.at(-1), r.done], [Outcome.EndOfRows, 'ok']);
    assert.deepEqual(walk(Com.StmtFetch, [textRow('1'), eof(0x0082)], false).outcomes, [Outcome.Row, Outcome.EndOfRows]);
  });
});

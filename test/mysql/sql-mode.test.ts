/**
 * NO_BACKSLASH_ESCAPES (server status flag 0x0200) followed per connection: each command carries
 * the mode in force when it was sent, and every output redacts and fingerprints with it. Under
 * that mode `'a\'` is a whole string, so `SELECT 'a\' , 'secret'` has two literals; read with
 * backslash escapes, `secret` is outside any string and used to leak.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Dir } from '../../src/tcp/stream.js';
import { columnCount, columnDef, comQuery, eof, err, ok, okEof, textRow } from '../builders/mysql-builder.js';
import { Conv, DEPRECATE_EOF_CAPS } from './driver.js';
import { eventJson } from '../../analyze/events/command.js';
import { SqlNormalizer } from '../../src/sql/index.js';
import { traceLine } from '../../analyze/trace/command.js';
import { Aggregator } from '../../analyze/aggregate/aggregate.js';
import { SlowlogWriter } from '../../analyze/report/slowlog.js';

const sql = new SqlNormalizer();

const NBE = 0x0200;
const AUTOCOMMIT = 0x0002;
const LEAKY = "SELECT 'a\\' , 'secret'";

/** Every redacted output of the connection's events and trace: none may show `secret`. */
function assertHidden(c: Conv): void {
  for (const e of c.commands) {
    const j = JSON.stringify(eventJson(e, true, sql));
    assert.ok(!j.includes('secret'), `event shows the literal: ${j}`);
  }
  for (const t of c.traces) {
    const line = traceLine(t, true, false, sql);
    assert.ok(!line.includes('secret'), `trace shows the literal: ${line}`);
  }
  const agg = new Aggregator({ raw: false });
  for (const e of c.commands) agg.add(e);
  const state = JSON.stringify(agg.toState());
  assert.ok(!state.includes('secret'), 'the report state shows the literal');
  const slow = new SlowlogWriter(true);
  for (const e of c.commands) {
    const text = slow.entry(e);
    assert.ok(!text.includes('secret'), `the slow log shows the literal: ${text}`);
  }
}

/** A one-row result set ending with EOF carrying `status`. */
function resultSet(c: Conv, status: number): void {
  c.sMany(1, [columnCount(1), columnDef('a'), eof(status), textRow('x'), eof(status)]);
}

describe('NO_BACKSLASH_ESCAPES', () => {
  test('SET sql_mode: the OK turns it on for the commands after it, and off again', () => {
    const c = new Conv().login();
    c.c(0, comQuery("SET sql_mode='NO_BACKSLASH_ESCAPES'")).s(1, ok({ status: AUTOCOMMIT | NBE }));
    c.c(0, comQuery(LEAKY));
    resultSet(c, AUTOCOMMIT | NBE);
    c.c(0, comQuery("SET sql_mode=''")).s(1, ok({ status: AUTOCOMMIT }));
    c.c(0, comQuery("SELECT 'it\\'s'")).s(1, ok({ status: AUTOCOMMIT }));
    c.close();
    assert.deepEqual(
      c.commands.map((e) => e.noBackslashEscapes),
      // (A statement that sets sql_mode is read for either mode: the mode may change under it.)
      [null, true, null, false],
    );
    assert.equal(eventJson(c.commands[1]!, true, sql).sql, 'SELECT ? , ?');
    assert.equal(eventJson(c.commands[1]!, true, sql).no_backslash_escapes, true);
    assert.equal(eventJson(c.commands[3]!, true, sql).sql, 'SELECT ?');
    assert.equal(eventJson(c.commands[3]!, true, sql).no_backslash_escapes, undefined);
    assertHidden(c);
  });

  test('on from the greeting (a server whose global sql_mode has it)', () => {
    const c = new Conv().login({ greeting: { status: AUTOCOMMIT | NBE }, ok: ok({ status: AUTOCOMMIT | NBE }) });
    c.c(0, comQuery(LEAKY)).s(1, err(1146, "Table 'x' doesn't exist", '42S02'));
    c.close();
    assert.equal(c.commands[0]!.noBackslashEscapes, true);
    assertHidden(c);
  });

  test('result sets ending with OK (CLIENT_DEPRECATE_EOF) carry the flag too', () => {
    const c = new Conv().login({ response: { capabilities: DEPRECATE_EOF_CAPS }, ok: ok({ status: AUTOCOMMIT }) });
    c.c(0, comQuery("SET SESSION sql_mode=CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")).s(1, ok({ status: AUTOCOMMIT | NBE }));
    c.c(0, comQuery(LEAKY)).sMany(1, [columnCount(1), columnDef('a'), textRow('x'), okEof(AUTOCOMMIT | NBE)]);
    c.c(0, comQuery(LEAKY)).s(1, ok({ status: AUTOCOMMIT | NBE }));
    c.close();
    assert.deepEqual(c.commands.map((e) => e.noBackslashEscapes), [null, true, true]);
    assertHidden(c);
  });

  test('mid-stream: a command sent before any status takes the mode of its answer', () => {
    const c = new Conv({ synSeen: false });
    c.gap(Dir.ClientToServer, -1).gap(Dir.ServerToClient, -1);
    c.c(0, comQuery(LEAKY));
    resultSet(c, AUTOCOMMIT | NBE);
    c.c(0, comQuery("SELECT 'b\\' , 'secret'")).s(1, ok({ status: AUTOCOMMIT | NBE }));
    c.close();
    assert.deepEqual(c.commands.map((e) => e.noBackslashEscapes), [true, true]);
    assertHidden(c);
  });

  test('mid-stream, never answered with a status: not known, and redacted for either mode', () => {
    const c = new Conv({ synSeen: false });
    c.gap(Dir.ClientToServer, -1).gap(Dir.ServerToClient, -1);
    c.c(0, comQuery(LEAKY)).s(1, err(1064, 'You have an error in your SQL syntax', '42000'));
    c.c(0, comQuery("SELECT 'it\\'s' , 'secret'"));
    c.close();
    assert.deepEqual(c.commands.map((e) => e.noBackslashEscapes), [null, null]);
    assertHidden(c);
    // Where both readings agree, nothing is lost.
    const d = new Conv({ synSeen: false });
    d.gap(Dir.ClientToServer, -1).gap(Dir.ServerToClient, -1);
    d.c(0, comQuery("SELECT 'secret' FROM t")).s(1, err(1146, 'no table', '42S02')).close();
    assert.equal(eventJson(d.commands[0]!, true, sql).sql, 'SELECT ? FROM t');
  });

  test('a multi-statement that changes the mode under itself is redacted for either mode', () => {
    const MORE = 0x0008;
    const c = new Conv().login();
    c.c(0, comQuery(`SET sql_mode='NO_BACKSLASH_ESCAPES'; ${LEAKY}`));
    c.s(1, ok({ status: AUTOCOMMIT | NBE | MORE }));
    c.sMany(1, [columnCount(1), columnDef('a'), eof(AUTOCOMMIT | NBE), textRow('x'), eof(AUTOCOMMIT | NBE)]);
    c.close();
    assert.equal(c.commands[0]!.noBackslashEscapes, null);
    assertHidden(c);
  });
});

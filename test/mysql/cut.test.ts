/**
 * Nothing lost silently: a command whose bytes stop part-way (the capture ends, the connection
 * closes, a gap) is reported with what arrived of it — its SQL prefix, marked cut — and, when its
 * response was captured, with its latency and outcome; it is counted in the health line when it
 * has no response.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Dir } from '../../src/tcp/stream.js';
import { ascii, concat } from '../builders/bytes.js';
import { COM, comQuery, err, mysqlPacket, ok } from '../builders/mysql-builder.js';
import { Conv } from './driver.js';
import { eventJson } from '../../analyze/events/command.js';
import { SqlNormalizer } from '../../src/sql/index.js';
import { assessHealth } from '../../analyze/report/report.js';

const sql = new SqlNormalizer();

/** The first `n` bytes of the framed query `sql`. */
const head = (sql: string, n: number): Uint8Array => mysqlPacket(0, comQuery(sql)).subarray(0, n);
const LONG = `SELECT * FROM orders WHERE note = 'secret-${'x'.repeat(5000)}' AND id IN (1)`;

describe('commands cut part-way', () => {
  test('the capture ends inside a query announcing 5,000 bytes: an incomplete event with its SQL prefix', () => {
    const c = new Conv().login();
    c.c(0, comQuery('SELECT 1')).s(1, ok());
    c.raw(Dir.ClientToServer, head(LONG, 204));
    c.close('capture-end');
    const [, cut] = c.commands;
    assert.ok(cut, 'the cut query is an event');
    assert.equal(cut.cmd, 'query');
    assert.equal(cut.status, 'incomplete');
    assert.equal(cut.sqlTruncated, true);
    assert.equal(cut.sql, LONG.slice(0, 199));
    assert.equal(cut.bytesIn, 204);
    assert.equal(c.session.counters.commandsIncomplete, 1);
    // Redacted, the cut literal is masked to the end.
    assert.equal(eventJson(cut, true, sql).sql, 'SELECT * FROM orders WHERE note = ?');
  });

  test('an unfinished 16 MiB multi-packet statement: reported, cut', () => {
    const c = new Conv().login();
    const first = new Uint8Array(0xffffff);
    first[0] = COM.QUERY;
    first.set(ascii("INSERT INTO blobs VALUES ('"), 1);
    first.fill(0x61, 28);
    c.raw(Dir.ClientToServer, concat(new Uint8Array([0xff, 0xff, 0xff, 0]), first));
    c.raw(Dir.ClientToServer, concat(new Uint8Array([0x10, 0x00, 0x00, 1]), ascii('aaaa')));
    c.close('fin', undefined);
    const cut = c.commands[0];
    assert.ok(cut, 'the statement is an event');
    assert.equal(cut.status, 'incomplete');
    assert.equal(cut.sqlTruncated, true);
    assert.ok(cut.sql!.startsWith("INSERT INTO blobs VALUES ('aaa"));
    assert.equal(cut.bytesIn, 0xffffff + 4 + 4);
    assert.equal(c.session.counters.commandsIncomplete, 1);
  });

  test('a query partly lost in a gap whose response was captured: its prefix, latency and outcome', () => {
    const c = new Conv().login();
    c.raw(Dir.ClientToServer, head(LONG, 300), 2_000_000);
    c.gap(Dir.ClientToServer, 4000, undefined, 2_000_100);
    c.s(1, err(1146, "Table 'shop.orders' doesn't exist", '42S02'), 2_000_900);
    c.c(0, comQuery('SELECT 2'), 2_001_000).s(1, ok(), 2_001_200);
    c.close();
    const [cut, next] = c.commands;
    assert.deepEqual([cut?.cmd, cut?.status, cut?.sqlTruncated, cut?.errorCode, cut?.latencyUs], ['query', 'error', true, 1146, 900]);
    assert.equal(cut!.sql, LONG.slice(0, 295));
    assert.deepEqual([next?.sql, next?.status, next?.latencyUs], ['SELECT 2', 'ok', 200]);
    assert.equal(c.session.counters.commandsUnseen, 0);
  });

  test('a gap that takes only whole packets cuts nothing', () => {
    const c = new Conv().login();
    c.c(0, comQuery('SELECT 1'));
    c.gap(Dir.ClientToServer, 20);
    c.s(1, ok()).s(1, ok());
    c.close();
    assert.deepEqual(c.commands.map((e) => [e.sql, e.sqlTruncated]), [['SELECT 1', false]]);
  });

  test('client bytes never decoded: counted, and the health is not good', () => {
    const c = new Conv({ synSeen: false });
    c.gap(Dir.ClientToServer, -1).gap(Dir.ServerToClient, -1);
    c.raw(Dir.ClientToServer, ascii("the tail of a statement begun before the capture', 1)"));
    c.c(0, comQuery('SELECT 1')).s(1, ok());
    c.close('capture-end');
    assert.deepEqual(c.commands.map((e) => e.sql), ['SELECT 1']);
    assert.equal(c.session.counters.clientBytesUndecoded, 53);
    const h = assessHealth({ packets: 8, clientBytesUndecoded: 53, mysqlConnections: 1 }, 1);
    assert.equal(h.status, 'degraded');
    assert.match(h.notes.join('\n'), /53 bytes from clients never decoded/);
    assert.equal(assessHealth({ packets: 8, mysqlConnections: 1 }, 1).status, 'good');
  });
});

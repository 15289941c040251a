/**
 * The MySQL decoder behind real TCP: segments built as frames (test/tcp/harness.ts), decoded and
 * reassembled by MysqlPipeline, command events out. Covers what only the whole path shows: a
 * connection that starts mid-stream, a lost segment, MySQL packets cut at odd segment boundaries,
 * and a server on the MySQL port that does not speak MySQL.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ascii, concat } from '../builders/bytes.js';
import { columnCount, columnDef, com, comQuery, COM, eof, greetingPayload, handshakeResponse41, mysqlPacket, ok, textRow } from '../builders/mysql-builder.js';

import { TcpConv, run } from './tcp-conv.js';
import { Tuple } from '../tcp/harness.js';

const greeting = mysqlPacket(0, greetingPayload({ connectionId: 5 }));
const login = mysqlPacket(1, handshakeResponse41({ user: 'app', database: 'shop' }));
const loginOk = mysqlPacket(2, ok());
const select = mysqlPacket(0, comQuery('SELECT a FROM t'));
const rows = (n: number): Uint8Array => concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')), mysqlPacket(3, eof()), ...Array.from({ length: n }, (_, i) => mysqlPacket(4 + i, textRow(`row-${i}`))), mysqlPacket(4 + n, eof()));

describe('MysqlPipeline over TCP segments', () => {
  test('login and a query, every MySQL packet cut across segments at odd places', () => {
    const conv = new TcpConv()
      .s(greeting, [1, 10])
      .c(login, [3])
      .s(loginOk)
      .c(select, [2, 7])
      .s(rows(3), [4, 20, 33])
      .c(mysqlPacket(0, com(COM.QUIT)))
      .fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.user, e.rows, e.connId, e.client, e.server]),
      [
        ['connect', 'ok', 'app', null, 5, '10.1.1.1:40000', '10.1.1.2:3306'],
        ['query', 'ok', 'app', 3, 5, '10.1.1.1:40000', '10.1.1.2:3306'],
        ['quit', 'none', 'app', null, 5, '10.1.1.1:40000', '10.1.1.2:3306'],
      ],
    );
    assert.equal(pipeline.totals.sessions, 1);
    assert.equal(pipeline.totals.protocolViolations, 0);
  });

  test('mid-stream start (no SYN, no handshake): resync at the first command', () => {
    const conv = new TcpConv(undefined, false)
      .s(mysqlPacket(7, textRow('the end of an earlier result')))
      .c(select)
      .s(rows(2))
      .fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.rows, e.sql]),
      [['query', 'ok', 2, 'SELECT a FROM t']],
    );
    assert.equal(pipeline.totals.resyncs, 1);
  });

  test('a server segment lost in the middle of a result set: incomplete, the next query decoded, no invented event', () => {
    const big = rows(40);
    const conv = new TcpConv()
      .s(greeting)
      .c(login)
      .s(loginOk)
      .c(select)
      .s(big, [100, 200, 300], [1])
      .c(mysqlPacket(0, comQuery('SELECT 2')))
      .s(mysqlPacket(1, ok()))
      .fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.sql]),
      [
        ['connect', 'ok', null],
        ['query', 'incomplete', 'SELECT a FROM t'],
        ['query', 'ok', 'SELECT 2'],
      ],
    );
    assert.equal(pipeline.totals.commandsIncomplete, 1);
    assert.equal(pipeline.reassembler.totals.gaps, 1);
  });

  test('the first segment of a long response lost: that query incomplete, the following ones get their own responses', () => {
    const conv = new TcpConv()
      .s(greeting)
      .c(login)
      .s(loginOk)
      .c(select)
      .s(rows(40), [100, 200, 300], [0])
      .c(mysqlPacket(0, comQuery('SELECT 2')))
      .s(mysqlPacket(1, ok({ affectedRows: 2 })))
      .c(mysqlPacket(0, com(COM.PING)))
      .s(mysqlPacket(1, ok()))
      .fin();
    const { events } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.affectedRows]),
      [
        ['connect', 'ok', null],
        ['query', 'incomplete', null],
        ['query', 'ok', 2],
        ['ping', 'ok', 0],
      ],
    );
  });

  test('an HTTP server on port 3306: marked as not MySQL, no events', () => {
    const conv = new TcpConv()
      .c(ascii('GET /health HTTP/1.1\r\nHost: db\r\n\r\n'))
      .s(ascii('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
      .fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(events, []);
    assert.equal(pipeline.totals.notMysql, 1);
    assert.equal(pipeline.totals.commands, 0);
  });

  test('two connections interleaved: events in request-time order across connections', () => {
    const a = new TcpConv(new Tuple('10.1.1.1', '10.1.1.2', 40001, 3306, 5, 7));
    const b = new TcpConv(new Tuple('10.1.1.3', '10.1.1.2', 40002, 3306, 9, 11));
    a.s(greeting).c(login).s(loginOk).c(select).s(rows(1)).fin();
    b.s(greeting).c(login).s(loginOk).c(select).s(rows(2)).fin();
    const { events } = run(a, b);
    const times = events.map((e) => e.sec * 1e9 + e.nsec);
    assert.deepEqual(times, [...times].sort((x, y) => x - y));
    assert.equal(events.length, 4);
  });

  test('logins that never finish are aborted connects: how the connection ended, and its duration', () => {
    const at = (t: Tuple): TcpConv => new TcpConv(t);
    const tuple = (port: number): Tuple => new Tuple('10.1.1.1', '10.1.1.2', port, 3306, 1000, 900_000);
    const convs = [
      // A health check or port scan: greeted, the client closes.
      at(tuple(41001)).s(greeting).wait(2_000).fin(),
      // The client resets after the greeting.
      at(tuple(41002)).s(greeting).rst(true),
      // The client sent its handshake response; the server gave up on it (connect_timeout) and closed.
      at(tuple(41003)).s(greeting).c(login).wait(10_000_000).serverFin(),
      // The server resets during the login.
      at(tuple(41004)).s(greeting).c(login).rst(false),
      // A full login, for contrast.
      at(tuple(41005)).s(greeting).c(login).s(loginOk).c(mysqlPacket(0, com(COM.QUIT))).fin(),
      // Greeted, and the capture ended before anything else: not aborted, cut by the capture.
      at(tuple(41006)).s(greeting),
      // No greeting at all (SYN, SYN-ACK, FIN): no login began, no event.
      at(tuple(41007)).fin(),
    ];
    const { events, pipeline } = run(...convs);
    const connects = events.filter((e) => e.cmd === 'connect').sort((a, b) => a.client.localeCompare(b.client));
    assert.deepEqual(
      connects.map((e) => [e.client.split(':')[1], e.status, e.ended, e.user, e.connId]),
      [
        ['41001', 'aborted', 'client_closed', null, 5],
        ['41002', 'aborted', 'client_reset', null, 5],
        ['41003', 'aborted', 'server_closed', 'app', 5],
        ['41004', 'aborted', 'server_reset', 'app', 5],
        ['41005', 'ok', null, 'app', 5],
        ['41006', 'incomplete', 'capture_end', null, 5],
      ],
    );
    // Durations from the connection's first packet (the SYN) to its end.
    const d = (port: string): number => connects.find((e) => e.client.endsWith(port))!.durationUs!;
    assert.ok(d('41001') >= 2_000 && d('41001') < 3_000, `${d('41001')}`);
    assert.ok(d('41003') >= 10_000_000 && d('41003') < 10_001_000, `${d('41003')}`);
    assert.equal(connects[4]!.durationUs, null);
    // The login cut by the capture's end is counted as incomplete; the aborted ones are not losses.
    assert.equal(pipeline.totals.commandsIncomplete, 1);
  });

  test('a capture that starts after the SYN but before the greeting decodes the login', () => {
    const conv = new TcpConv(undefined, false).s(greeting).c(login).s(loginOk).c(select).s(rows(2)).c(mysqlPacket(0, com(COM.QUIT))).fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.user, e.db, e.connId, e.rows]),
      [
        ['connect', 'ok', 'app', 'shop', 5, null],
        ['query', 'ok', 'app', 'shop', 5, 2],
        ['quit', 'none', 'app', 'shop', 5, null],
      ],
    );
    assert.equal(pipeline.totals.protocolViolations, 0);
    assert.equal(pipeline.totals.clientBytesUndecoded, 0);
  });

  test('mid-stream: the first command found keeps its response (latency and outcome)', () => {
    const conv = new TcpConv(undefined, false).c(select).s(rows(2)).c(select).s(rows(1)).fin();
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.status, e.rows, e.latencyUs !== null]),
      [
        ['query', 'ok', 2, true],
        ['query', 'ok', 1, true],
      ],
    );
    assert.equal(pipeline.totals.commandsIncomplete, 0);
    assert.equal(pipeline.totals.commandsUnseen, 0);
  });

  test('data buffered after a hole when the capture ends is decoded after a gap, not discarded', () => {
    const q2 = mysqlPacket(0, comQuery('SELECT b FROM t2'));
    const q3 = mysqlPacket(0, comQuery('SELECT c FROM t3'));
    const conv = new TcpConv().s(greeting).c(login).s(loginOk).c(select).s(rows(1));
    // q2 lost, q3 captured; no acknowledgement follows (the capture ends): q3 waits behind the hole.
    conv.c(concat(q2, q3), [q2.length], [0]);
    conv.segs.pop(); // (the server's ACK of both, which would prove the loss at once)
    const { events, pipeline } = run(conv);
    assert.deepEqual(
      events.map((e) => [e.cmd, e.sql, e.status]),
      [
        ['connect', null, 'ok'],
        ['query', 'SELECT a FROM t', 'ok'],
        ['query', 'SELECT c FROM t3', 'incomplete'],
      ],
    );
    assert.equal(pipeline.reassembler.totals.bytesLost, q2.length);
  });
});

/**
 * zstd protocol compression (CLIENT_ZSTD_COMPRESSION_ALGORITHM, MySQL 8.0.18+): the level byte of
 * the handshake response, payloads written by the real `zstd` encoder, decoded by whatever zstd
 * this process has (Node's own zlib, or the fzstd package: analyze/zstd.ts) — and, on a Node.js
 * without either, the connection said not decodable, with the version, and counted.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Dir } from '../../src/tcp/stream.js';
import { parseHandshakeResponse } from '../../src/mysql/packets.js';
import { zstdSupport } from '../../analyze/zstd.js';
import { pipelineHealth } from '../../analyze/run/run.js';
import { concat } from '../builders/bytes.js';
import { CAP, CLIENT_BASE_CAPS, columnCount, columnDef, comQuery, compressedPacket, eof, handshakeResponse41, greetingPayload, mysqlPacket, ok, textRow } from '../builders/mysql-builder.js';
import { Conv } from './driver.js';
import { TcpConv, run } from './tcp-conv.js';
import { ZSTD_CLI, hasZstdCli } from './zstd-cli.js';

const skip = hasZstdCli ? false : 'the zstd command (the real encoder these streams are made with) is not installed';


const CAPS = CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB | CAP.ZSTD_COMPRESSION_ALGORITHM;
const SQL = `SELECT name, '${'z'.repeat(120)}' FROM users WHERE id = 42`;
const result = (): Uint8Array => concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('name')), mysqlPacket(3, eof()), ...Array.from({ length: 30 }, (_, i) => mysqlPacket(4 + i, textRow(`user-${i}-${'n'.repeat(40)}`))), mysqlPacket(34, eof()));

describe('zstd protocol compression', () => {
  test('the handshake response carries the zstd level after the attributes', () => {
    const r = parseHandshakeResponse(handshakeResponse41({ capabilities: CAPS, database: 'shop', zstdLevel: 7 }));
    assert.equal(r?.zstdLevel, 7);
    assert.equal(r?.database, 'shop');
    assert.equal(parseHandshakeResponse(handshakeResponse41({ capabilities: CLIENT_BASE_CAPS }))?.zstdLevel, null);
  });

  test('a zstd session (frames from the zstd encoder) decoded with a real zstd decoder', { skip }, () => {
    const c = new Conv({ zstd: ZSTD_CLI });
    c.login({ greeting: { capabilities: 0xdfffffff | CAP.ZSTD_COMPRESSION_ALGORITHM }, response: { capabilities: CAPS, database: 'shop', zstdLevel: 7 } });
    c.raw(Dir.ClientToServer, compressedPacket(0, mysqlPacket(0, comQuery(SQL)), 'zstd'));
    c.raw(Dir.ServerToClient, compressedPacket(1, result(), 'zstd'));
    c.raw(Dir.ClientToServer, compressedPacket(0, mysqlPacket(0, comQuery('SELECT 1')), 'raw'));
    c.raw(Dir.ServerToClient, compressedPacket(1, mysqlPacket(1, ok({ affectedRows: 0 })), 'raw'));
    assert.deepEqual(
      c.commands.map((e) => [e.sql, e.status, e.rows, e.compressed]),
      [
        [SQL, 'ok', 30, true],
        ['SELECT 1', 'ok', null, true],
      ],
    );
    assert.equal(c.session.compression, 'zstd');
    assert.ok(c.traces.some((t) => t.detail === 'zstd compressed protocol from here on (level 7)'));
  });

  test('through the pipeline, with the zstd this Node.js has: decoded, or said not decodable with the version and counted', { skip }, () => {
    const conv = new TcpConv()
      .s(mysqlPacket(0, greetingPayload({ capabilities: 0xdfffffff | CAP.ZSTD_COMPRESSION_ALGORITHM })))
      .c(mysqlPacket(1, handshakeResponse41({ capabilities: CAPS, database: 'shop' })))
      .s(mysqlPacket(2, ok()))
      .c(compressedPacket(0, mysqlPacket(0, comQuery(SQL)), 'zstd'))
      .s(compressedPacket(1, result(), 'zstd'))
      .fin();
    const { events, pipeline } = run(conv);
    const here = zstdSupport();
    if (here.inflate !== null) {
      assert.deepEqual(events.map((e) => [e.cmd, e.status, e.rows]), [
        ['connect', 'ok', null],
        ['query', 'ok', 30],
      ]);
      return;
    }
    assert.match(here.unavailable, new RegExp(`^zstd compression: not decodable on this Node\\.js \\(${process.version.replace(/\./g, '\\.')};`));
    assert.deepEqual(events.map((e) => [e.cmd, e.status]), [['connect', 'ok']]);
    assert.deepEqual(pipeline.totals.stopped, { [here.unavailable]: 1 });
    assert.equal(pipeline.totals.compressed, 1);
    assert.equal(pipelineHealth(pipeline).undecodableConnections, 1);
  });
});

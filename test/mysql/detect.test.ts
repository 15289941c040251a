/**
 * MySQL recognised from its content on a port nobody named, without a greeting or a SYN (issue
 * 16): the recorded captures moved to port 13306 and cut after their logins decode exactly as they
 * do on 3306; the guess is reported; non-MySQL traffic (HTTP, TLS, other binary protocols, random
 * bytes) is never taken for MySQL.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CommandEvent } from '../../src/mysql/session.js';
import { ContentClassifier, commandShape, responseShape } from '../../src/mysql/detect.js';
import { pipelineHealth } from '../../analyze/run/run.js';
import { InfoAccumulator } from '../../analyze/info/info.js';
import { renderInfoText } from '../../analyze/info/render.js';
import { newPacketRecord } from '../../src/pcap/record.js';
import { assessHealth } from '../../analyze/report/report.js';
import { readCapture, type Pkt } from '../live/mutate.js';
import { repoRoot } from '../cli/run.js';
import { prng } from '../builders/prng.js';
import { ascii, concat } from '../builders/bytes.js';
import { columnCount, columnDef, com, comQuery, COM, eof, err, mysqlPacket, ok, textRow } from '../builders/mysql-builder.js';
import { Tuple } from '../tcp/harness.js';
import { TcpConv, feedPackets, runWith } from './tcp-conv.js';

/** The frame with TCP port `from` (either side) changed to `to` (Ethernet, IPv4 or IPv6). */
function movePort(p: Pkt, from: number, to: number): Pkt {
  const f = p.frame.slice();
  const type = (f[12]! << 8) | f[13]!;
  const tcp = type === 0x0800 && f[23] === 6 ? 14 + (f[14]! & 0x0f) * 4 : type === 0x86dd && f[20] === 6 ? 54 : -1;
  if (tcp < 0) return p;
  for (const at of [tcp, tcp + 2]) {
    if (((f[at]! << 8) | f[at + 1]!) === from) {
      f[at] = to >> 8;
      f[at + 1] = to & 0xff;
    }
  }
  return { ...p, frame: f };
}

const captures = ['samples/mariadb-basic.pcap', 'test/fixtures/captures/mariadb-compressed.pcap', 'test/fixtures/mysql/mysql.pcap', 'test/fixtures/mysql/caching_sha2_password.pcap', 'test/fixtures/mysql/query-attr.pcap', 'test/fixtures/mysql/selects_with_new_proto.pcap'];

const brief = (e: CommandEvent) => [e.conn, e.cmd, e.sql, e.status, e.rows, e.affectedRows, e.errorCode, e.latencyUs, e.client.replace(/:13306$/, ':3306'), e.server.replace(/:13306$/, ':3306')];

describe('MySQL recognised from its content on another port', () => {
  for (const file of captures) {
    test(`${file} on port 13306, cut after the logins: the same commands as on 3306`, async () => {
      const cap = await readCapture(join(repoRoot, file));
      const moved = cap.packets.map((p) => movePort(p, 3306, 13306));
      let compared = 0;
      // Cut at several points: mid-stream connections, no greeting, no SYN.
      for (const frac of [0.15, 0.3, 0.5]) {
        const cut = Math.floor(cap.packets.length * frac);
        const ref = feedPackets(cap.linkType, cap.packets.slice(cut));
        const got = feedPackets(cap.linkType, moved.slice(cut));
        assert.deepEqual(got.events.map(brief), ref.events.map(brief), `${file} cut before packet ${cut + 1}`);
        // What only the content could find: the events of the connections without SYN or greeting.
        const without = feedPackets(cap.linkType, moved.slice(cut), { detect: false });
        const found = got.events.length - without.events.length;
        const d = got.pipeline.totals.detected['13306'];
        if (found > 0) assert.ok(d !== undefined && d.commands >= found, `${file} cut ${cut}: port 13306 detected (${JSON.stringify(got.pipeline.totals.detected)})`);
        else assert.equal(d, undefined, `${file} cut ${cut}`);
        compared += found;
      }
      assert.ok(compared > 0, `${file}: some commands found by content only`);
    });
  }

  test('the report says which port was recognised, how, and how many commands', async () => {
    const cap = await readCapture(join(repoRoot, 'samples/mariadb-basic.pcap'));
    const moved = cap.packets.map((p) => movePort(p, 3306, 13306)).slice(20);
    const { pipeline } = feedPackets(cap.linkType, moved);
    const d = pipeline.totals.detected['13306']!;
    const health = assessHealth(pipelineHealth(pipeline), d.commands);
    const note = health.notes.find((n) => n.startsWith('port 13306'));
    assert.equal(note, `port 13306 looks like MySQL: ${d.commands} commands decoded in ${d.connections} ${d.connections === 1 ? 'connection' : 'connections'}, detected from content (no greeting or SYN seen; --port 13306 to say so)`);
  });

  test('info names the server found by its content', async () => {
    const cap = await readCapture(join(repoRoot, 'test/fixtures/captures/mariadb-compressed.pcap'));
    const info = new InfoAccumulator([3306]);
    for (const k of cap.packets.slice(8).map((p) => movePort(p, 3306, 13306))) {
      const rec = newPacketRecord();
      rec.data = k.frame;
      rec.caplen = k.frame.length;
      rec.origLen = k.origLen;
      rec.linkType = cap.linkType;
      rec.tsSec = k.sec;
      rec.tsNsec = k.nsec;
      info.add(rec);
    }
    const r = info.finalize([]);
    assert.deepEqual(r.mysql_servers.map((s) => [s.endpoint, s.detected_by, s.connections]), [['127.0.0.1:13306', 'content', 1]]);
    assert.match(renderInfoText(r), /looks like MySQL: found by its content/);
  });

  test('the client on the lower port: the sides are put right by the content', () => {
    const conv = new TcpConv(new Tuple('10.1.1.1', '10.1.1.2', 1025, 13306, 1000, 900_000), false);
    for (let i = 0; i < 3; i++) {
      conv.c(mysqlPacket(0, comQuery(`SELECT ${i} FROM dual`)));
      conv.s(concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('x')), mysqlPacket(3, eof()), mysqlPacket(4, textRow(String(i))), mysqlPacket(5, eof())));
    }
    conv.fin();
    const { events, pipeline } = runWith({}, conv);
    assert.deepEqual(
      events.map((e) => [e.sql, e.status, e.rows, e.client, e.server]),
      [0, 1, 2].map((i) => [`SELECT ${i} FROM dual`, 'ok', 1, '10.1.1.1:1025', '10.1.1.2:13306']),
    );
    assert.deepEqual(pipeline.totals.detected, { '13306': { connections: 1, commands: 3 } });
  });

  test('--no-detect (detect: false): such connections are ignored, as before', async () => {
    const cap = await readCapture(join(repoRoot, 'samples/mariadb-basic.pcap'));
    const moved = cap.packets.map((p) => movePort(p, 3306, 13306)).slice(20);
    const off = feedPackets(cap.linkType, moved, { detect: false });
    const on = feedPackets(cap.linkType, moved);
    assert.equal(off.pipeline.totals.probed, 0);
    assert.deepEqual(off.pipeline.totals.detected, {});
    assert.ok(off.events.length < on.events.length);
  });
});

describe('no false positives', () => {
  /** A conversation on ports nobody named, begun before the capture: request/response segments. */
  function conversation(pairs: [Uint8Array, Uint8Array][], port = 8080): TcpConv {
    const conv = new TcpConv(new Tuple('10.2.2.1', '10.2.2.2', 50000, port, 77, 99), false);
    for (const [c, s] of pairs) conv.c(c).s(s);
    return conv.fin();
  }

  test('HTTP keep-alive, TLS records, PostgreSQL, Redis, random bytes: not MySQL', () => {
    const r = prng(5);
    const rand = (n: number) => new Uint8Array(n).map(() => Math.floor(r() * 256));
    const tls = (n: number) => concat([0x17, 0x03, 0x03, n >> 8, n & 0xff], rand(n));
    const pg = (type: string, body: Uint8Array) => concat(ascii(type), [0, 0, (body.length + 4) >> 8, (body.length + 4) & 0xff], body);
    const cases: [string, [Uint8Array, Uint8Array][]][] = [
      ['HTTP', Array.from({ length: 20 }, (_, i) => [ascii(`GET /item/${i} HTTP/1.1\r\nHost: api\r\n\r\n`), ascii(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${i % 10}${i % 7}`)])],
      ['TLS', Array.from({ length: 20 }, (_, i) => [tls(30 + i * 13), tls(200 + i * 31)])],
      ['TLS, short records', Array.from({ length: 40 }, (_, i) => [tls(i % 4), tls(1 + (i % 3))])],
      ['PostgreSQL', Array.from({ length: 20 }, (_, i) => [pg('Q', ascii(`SELECT ${i}\0`)), concat(pg('T', rand(20)), pg('D', rand(10)), pg('C', ascii('SELECT 1\0')), pg('Z', ascii('I')))])],
      ['Redis', Array.from({ length: 20 }, (_, i) => [ascii(`*2\r\n$3\r\nGET\r\n$4\r\nk${i}xx\r\n`), ascii(`$3\r\nv${i}x\r\n`)])],
      ['random', Array.from({ length: 40 }, (_, i) => [rand(5 + (i % 60)), rand(5 + (i % 90))])],
    ];
    for (const [name, pairs] of cases) {
      const { events, pipeline } = runWith({}, conversation(pairs));
      assert.deepEqual(events, [], name);
      assert.deepEqual(pipeline.totals.detected, {}, name);
      assert.equal(pipeline.totals.sessions, 0, name);
      assert.equal(pipeline.totals.probed, 1, name);
    }
  });

  test('random byte streams in random segments, 2,000 connections: none taken for MySQL', () => {
    const r = prng(11);
    let taken = 0;
    for (let i = 0; i < 2000; i++) {
      const c = new ContentClassifier();
      for (let k = 0; k < 20 && c.verdict === null; k++) {
        const n = 5 + Math.floor(r() * 300);
        const b = new Uint8Array(n).map(() => Math.floor(r() * 256));
        // Random bytes with a MySQL-like header sometimes: the hard case.
        if (r() < 0.5) {
          b[0] = n - 4;
          b[1] = 0;
          b[2] = 0;
          b[3] = k % 2 === 0 ? 0 : 1;
          if (k % 2 === 0) b[4] = COM.QUERY;
        }
        c.data((k % 2) as 0 | 1, b, 0, n);
      }
      if (c.end() !== 'not-mysql') taken++;
    }
    assert.equal(taken, 0);
  });

  test('TLS connections of the samples, moved to 13306 and cut after their handshakes: not MySQL', async () => {
    for (const file of ['samples/mariadb-tls12.pcap', 'samples/mariadb-tls13.pcap', 'test/fixtures/mysql/encrypted.pcap']) {
      const cap = await readCapture(join(repoRoot, file));
      const moved = cap.packets.map((p) => movePort(p, 3306, 13306));
      for (const frac of [0.3, 0.6]) {
        const cut = Math.floor(cap.packets.length * frac);
        const { pipeline } = feedPackets(cap.linkType, moved.slice(cut));
        assert.deepEqual(pipeline.totals.detected, {}, `${file} cut ${cut}`);
      }
    }
  });

  test('shapes: commands and responses', () => {
    const q = mysqlPacket(0, comQuery('SELECT 1'));
    assert.ok(commandShape(q, 0, q.length));
    assert.ok(commandShape(concat(mysqlPacket(0, com(COM.PING)), q), 0, q.length + 5), 'pipelined');
    assert.ok(!commandShape(q, 0, q.length - 1), 'a short command cut');
    assert.ok(!commandShape(mysqlPacket(0, comQuery('\x01\x02\x03\x04binary')), 0, 16), 'not SQL');
    const rs = concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, columnDef('a')), mysqlPacket(3, eof()));
    assert.ok(responseShape(rs, 0, rs.length));
    assert.ok(responseShape(mysqlPacket(1, ok()), 0, 11));
    const e = mysqlPacket(1, err(1064, 'syntax'));
    assert.ok(responseShape(e, 0, e.length));
    assert.ok(!responseShape(mysqlPacket(2, ok()), 0, 11), 'sequence id 2');
    assert.ok(!responseShape(concat(mysqlPacket(1, columnCount(1)), mysqlPacket(2, textRow('a'))), 0, 12), 'no column definition');
  });
});

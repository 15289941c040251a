import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { displayServerVersion, sniffGreeting } from '../../src/mysql/greeting.js';
import { concat, hex, ascii } from '../builders/bytes.js';
import { handshakeV10, mysqlPacket } from '../builders/mysql-builder.js';

const sniff = (b: Uint8Array): ReturnType<typeof sniffGreeting> => sniffGreeting(b, 0, b.length);

describe('sniffGreeting: server greetings', () => {
  const cases: { name: string; version: string; connectionId: number; authPlugin?: string }[] = [
    { name: 'MySQL 8.0', version: '8.0.36', connectionId: 0x01020304 },
    { name: 'MySQL 8.4 with a distribution suffix', version: '8.4.2-0ubuntu0.24.04.1', connectionId: 12 },
    { name: 'MySQL 5.7', version: '5.7.44-log', connectionId: 0xffffffff, authPlugin: 'mysql_native_password' },
    { name: 'MariaDB 10.11 (5.5.5- prefix)', version: '5.5.5-10.11.6-MariaDB-0+deb12u1', connectionId: 42, authPlugin: 'mysql_native_password' },
    { name: 'MariaDB 11', version: '11.4.2-MariaDB', connectionId: 7 },
    { name: 'one-character version', version: '9', connectionId: 0 },
    { name: '100-character version', version: '8.0.36-'.padEnd(100, 'x'), connectionId: 1 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const g = handshakeV10({ version: c.version, connectionId: c.connectionId, authPlugin: c.authPlugin });
      assert.deepEqual(sniff(g), { serverVersion: c.version, connectionId: c.connectionId });
    });
  }

  test('inside a larger buffer, followed by more bytes', () => {
    const g = handshakeV10({ version: '8.0.36', connectionId: 99 });
    const b = concat([1, 2, 3, 4, 5], g, ascii('trailing bytes of the next segment'));
    assert.deepEqual(sniffGreeting(b, 5, b.length - 5), { serverVersion: '8.0.36', connectionId: 99 });
  });

  test('a minimal greeting (annotated bytes)', () => {
    const b = hex(`
      12 00 00 00                # payload length 18, sequence id 0
      0a                         # protocol version 10
      35 00                      # server version "5", NUL
      2a 00 00 00                # connection id 42
      61 61 61 61 61 61 61 61    # auth-plugin-data part 1
      00                         # filler
      ff f7                      # capabilities (low)
    `);
    assert.deepEqual(sniff(b), { serverVersion: '5', connectionId: 42 });
  });
});

describe('sniffGreeting: everything else is null', () => {
  const good = handshakeV10({ version: '8.0.36' });
  const cases: { name: string; bytes: Uint8Array; len?: number }[] = [
    { name: 'sequence id 1', bytes: handshakeV10({ seq: 1 }) },
    { name: 'protocol version 9', bytes: handshakeV10({ protocol: 9 }) },
    { name: 'error packet instead of a greeting', bytes: mysqlPacket(0, concat([0xff, 0x6a, 0x04], ascii("Host '10.0.0.9' is not allowed to connect to this MySQL server"))) },
    { name: 'a COM_QUERY', bytes: mysqlPacket(0, concat([0x03], ascii('SELECT @@version_comment LIMIT 1'))) },
    { name: 'HTTP', bytes: ascii('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') },
    { name: 'TLS record', bytes: hex('16 03 01 02 00 01 00 01 fc 03 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00') },
    { name: 'greeting cut short (segment holds only part of it)', bytes: good, len: good.length - 1 },
    { name: 'too short to be anything', bytes: good, len: 21 },
    { name: 'non-printable byte in the version', bytes: handshakeV10({ version: '8.0\x01.36' }) },
    { name: 'non-ASCII byte in the version', bytes: handshakeV10({ version: Uint8Array.of(0x38, 0xc3, 0xa9) }) },
    { name: 'empty version', bytes: handshakeV10({ version: '' }) },
    { name: '101-character version', bytes: handshakeV10({ version: '8'.repeat(101) }) },
    { name: 'non-zero filler', bytes: handshakeV10({ filler: 1 }) },
    { name: 'declared length too small for the fixed fields', bytes: concat([17, 0, 0, 0, 10, 0x35, 0], new Uint8Array(20)) },
    { name: 'version without its NUL inside the packet', bytes: mysqlPacket(0, concat([10], ascii('8.0.36-aaaaaaaaaaaaaaaaaaaaa'))) },
    { name: 'version NUL too close to the end for the fixed fields', bytes: mysqlPacket(0, concat([10], ascii('8.0.36-aaaaaaaaaaaaaaaaaaa'), [0], new Uint8Array(12))) },
  ];
  for (const c of cases) test(c.name, () => assert.equal(sniffGreeting(c.bytes, 0, c.len ?? c.bytes.length), null));
});

test('displayServerVersion drops the 5.5.5- prefix MariaDB sends for old clients', () => {
  assert.equal(displayServerVersion('5.5.5-10.11.19-MariaDB-0+deb12u1'), '10.11.19-MariaDB-0+deb12u1');
  assert.equal(displayServerVersion('8.0.32'), '8.0.32');
  assert.equal(displayServerVersion('5.5.5-custom'), '5.5.5-custom');
});

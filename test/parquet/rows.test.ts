/**
 * The Parquet rows' digest is the events' digest (eventDigest) whatever the connection's SQL mode:
 * under NO_BACKSLASH_ESCAPES a backslash does not escape a quote, so `'a\'` ends the literal and the
 * statement's fingerprint (and digest) differ from the default mode's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLUMNS, emptyBatch, RowMaker } from '../../analyze/parquet/schema.js';
import { eventDigest } from '../../analyze/events/command.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { sessionMode, SqlNormalizer } from '../../src/sql/index.js';

const event = (cmd: string, sql: string, noBackslashEscapes: boolean | null): CommandEvent =>
  ({
    conn: 1, sec: 1700000000, nsec: 0, client: '10.0.0.1:50000', server: '10.0.0.2:3306', connId: 42, user: 'app', db: 'shop',
    cmd, sql, sqlTruncated: false, params: null, paramTypes: null, status: 'ok', latencyUs: 120, responseUs: 100, rows: 1,
    affectedRows: null, insertId: null, warnings: 0, errorCode: null, sqlState: null, error: null, noIndexUsed: false,
    noGoodIndexUsed: false, serverStatus: 2, bytesIn: 40, bytesOut: 300, resultSets: 1, tls: false, tlsVersion: null,
    tlsCipher: null, tlsDecrypted: null, compressed: false, noBackslashEscapes, ended: null, durationUs: null,
  }) as CommandEvent;

test('Parquet rows: the digest follows the connection\'s NO_BACKSLASH_ESCAPES, as events do', () => {
  const sql = new SqlNormalizer();
  const text = "SELECT a FROM t WHERE b = 'x\\' OR c = 'y'";
  const modes = [sql.fingerprintAndDigest(text, sessionMode(null)).digest, sql.fingerprintAndDigest(text, sessionMode(true)).digest];
  assert.notEqual(modes[0], modes[1], 'the two modes fingerprint this statement differently');
  const digestColumn = COLUMNS.findIndex((c) => c.name === 'digest');
  for (const cmd of ['query', 'prepare']) {
    const rows = new RowMaker('redacted');
    const b = emptyBatch();
    // The default mode first: a cache by text must not answer for the other mode.
    for (const nbe of [null, true, null, true]) rows.append(event(cmd, text, nbe), b);
    const want = [null, true, null, true].map((nbe) => eventDigest(event(cmd, text, nbe), sql));
    assert.deepEqual(b[digestColumn], want, cmd);
  }
});

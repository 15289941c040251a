/**
 * A statement's shape (what a bundle's events and a summary's examples keep for advice) is read in
 * the connection's SQL mode: with NO_BACKSLASH_ESCAPES, `'C:\'` ends a string, so the default
 * reading would take the next string's contents for SQL and keep them in the shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator, eventShape } from '../../analyze/aggregate/aggregate.js';
import { bundleEventJson, ShapeCache } from '../../analyze/bundle/command.js';
import { SqlNormalizer } from '../../src/sql/index.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { LiteralShaper } from '../../src/sql/shape.js';

const shaper = new LiteralShaper();

const SECRET = 'Sup3rS3cret';
const SQL = `UPDATE users SET path = 'C:\\', password = '${SECRET}' # '`;

function ev(o: Partial<CommandEvent>): CommandEvent {
  return {
    conn: 1, sec: 1_700_000_000, nsec: 0, client: '10.0.0.5:50000', server: '10.0.0.1:3306', connId: 7, user: 'app', db: 'shop',
    cmd: 'query', sql: SQL, sqlTruncated: false, params: null, paramTypes: null, status: 'ok', latencyUs: 100, responseUs: 120,
    rows: null, affectedRows: 1, insertId: null, warnings: 0, errorCode: null, sqlState: null, error: null, noIndexUsed: false,
    noGoodIndexUsed: false, serverStatus: 0x202, bytesIn: 10, bytesOut: 20, resultSets: 1, tls: false, tlsVersion: null,
    tlsCipher: null, tlsDecrypted: null, compressed: false, noBackslashEscapes: true, ended: null, durationUs: null, ...o,
  };
}

test('shape: NO_BACKSLASH_ESCAPES is followed, no literal in a bundle event or a summary example', () => {
  const e = ev({});
  assert.equal(eventShape(e, shaper), "UPDATE users SET path = 's', password = 's'");
  const shapes = new ShapeCache();
  // The same text in a default-mode connection first: the cache must not hand its reading over.
  bundleEventJson(ev({ noBackslashEscapes: false }), new SqlNormalizer(), shapes);
  const line = JSON.stringify(bundleEventJson(e, new SqlNormalizer(), shapes));
  assert.ok(!line.includes(SECRET), line);
  const agg = new Aggregator();
  agg.add(e);
  const state = JSON.stringify(agg.toState());
  assert.ok(!state.includes(SECRET), state);
});

test('shape: mode not known (capture began mid-connection): no shape unless both readings agree', () => {
  assert.equal(eventShape(ev({ noBackslashEscapes: null }), shaper), null);
  const agg = new Aggregator();
  agg.add(ev({ noBackslashEscapes: null }));
  const state = JSON.stringify(agg.toState());
  assert.ok(!state.includes(SECRET), state);
  assert.equal(eventShape(ev({ noBackslashEscapes: null, sql: "SELECT * FROM t WHERE a = 'x' LIMIT 50" }), shaper), "SELECT * FROM t WHERE a = 's' LIMIT 10");
  // Default mode: the backslash escapes the quote, as the server reads it.
  assert.equal(eventShape(ev({ noBackslashEscapes: false, sql: "SELECT 'it\\'s', 12" }), shaper), "SELECT 's', 10");
});

/**
 * The MySQL session over TLS, through the whole pipeline on the recorded TLS samples: secrets that
 * are not there when the session starts but appear later (a key log that grows while `live` runs)
 * still give the commands sent after they appeared; no secret at all gives a login known only as
 * TLS, no invented command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MysqlPipeline } from '../../src/pipeline/mysql.js';
import { readCaptures } from '../../analyze/read/captures.js';
import { KeyLog, type SessionSecrets } from '../../src/tls/keylog.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { repoRoot } from '../cli/run.js';

async function decode(capture: string, secrets: (cr: Uint8Array) => SessionSecrets | null): Promise<{ events: CommandEvent[]; pipeline: MysqlPipeline }> {
  const events: CommandEvent[] = [];
  const pipeline = new MysqlPipeline({ ports: [3307], onEvent: (e) => events.push(e), session: { tlsSecrets: secrets } });
  await readCaptures([`${repoRoot}samples/${capture}.pcap`], (rec) => pipeline.add(rec));
  pipeline.finish();
  return { events, pipeline };
}

function keys(capture: string): KeyLog {
  const k = new KeyLog();
  k.addText(readFileSync(`${repoRoot}samples/${capture}.keys`, 'utf8'));
  return k;
}

test('mariadb-tls13 (compressed inside TLS): secrets that appear late cannot resume the compressed stream: the login only, no invented command', async () => {
  const k = keys('mariadb-tls13');
  let calls = 0;
  const late = await decode('mariadb-tls13', (cr) => (calls++ === 0 ? null : k.lookup(cr)));
  assert.deepEqual(late.events.map((e) => [e.cmd, e.tlsDecrypted]), [['connect', false]]);
});

for (const capture of ['mariadb-tls12']) {
  test(`${capture}: secrets that appear after the handshake: the commands after them are decoded, the login is known as TLS only`, async () => {
    const k = keys(capture);
    const all = await decode(capture, (cr) => k.lookup(cr));
    let calls = 0;
    const late = await decode(capture, (cr) => (calls++ === 0 ? null : k.lookup(cr)));
    assert.ok(calls >= 2, 'looked up again after the first failure');
    const first = late.events.filter((e) => e.conn === 1);
    assert.equal(first[0]!.cmd, 'connect');
    assert.equal(first[0]!.tlsDecrypted, false);
    const decoded = first.filter((e) => e.cmd !== 'connect');
    assert.ok(decoded.length > 0, 'commands decoded once the secrets appeared');
    assert.ok(decoded.every((e) => e.tlsDecrypted === true));
    // Every command decoded late is one of the commands a full key log gives, with the same SQL and outcome.
    const key = (e: CommandEvent) => `${e.sec}.${e.nsec} ${e.cmd} ${e.sql} ${e.status}`;
    const truth = new Set(all.events.map(key));
    for (const e of decoded.filter((x) => x.status !== 'incomplete')) assert.ok(truth.has(key(e)), key(e));
    assert.equal(late.pipeline.totals.tlsDecrypted, all.pipeline.totals.tlsDecrypted);
  });

}

for (const capture of ['mariadb-tls12', 'mariadb-tls13']) {
  test(`${capture}: no secret ever: one login known as TLS per connection, no invented command`, async () => {
    const { events, pipeline } = await decode(capture, () => null);
    assert.ok(events.length > 0);
    assert.ok(events.every((e) => e.cmd === 'connect' && e.tls && e.tlsDecrypted === false && e.status === 'incomplete'), JSON.stringify(events.map((e) => e.cmd)));
    assert.equal(pipeline.totals.tlsNoSecret, events.length);
    assert.equal(pipeline.totals.commandsIncomplete, 0, 'a TLS login not decrypted is not a loss');
  });
}

test('mariadb-tls13 with a key log that lacks the client side (no CLIENT_TRAFFIC_SECRET_0): decrypted in part, and said so', async () => {
  const k = new KeyLog();
  k.addText(readFileSync(`${repoRoot}samples/mariadb-tls13.keys`, 'utf8').split('\n').filter((l) => !l.startsWith('CLIENT_TRAFFIC_SECRET_0')).join('\n'));
  const { pipeline } = await decode('mariadb-tls13', (cr) => k.lookup(cr));
  assert.equal(pipeline.totals.tlsDecrypted, 1);
  assert.equal(pipeline.totals.tlsPartial, 1);
  assert.match(pipeline.totals.tlsUnread[0]!.reason, /^decrypted in part: \d+ record\(s\) could not be decrypted/);
});

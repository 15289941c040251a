/**
 * Canary: queries, prepared statements and failing statements carry unique marker values through
 * a real MariaDB while real tcpdump captures. The redacted `events` and `trace` output must hold
 * none of them (in any form: text, digits); `--no-redact` shows every one.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope } from '../cli/run.js';

const opts = await liveTestOptions();
let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('no marker value survives redaction; --no-redact shows them all', opts, async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-canary-'));
  const file = join(dir, 'canary.pcap');
  const tag = randomBytes(6).toString('hex');
  const m = {
    text: `canary-text-${tag}`,
    email: `canary-${tag}@example.com`,
    number: String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000, 999_999)),
    param: `canary-param-${tag}`,
    paramNumber: String(randomInt(700_000_000, 799_999_999)),
    hex: `CAFE${tag.toUpperCase()}`,
    comment: `canary-comment-${tag}`,
  };
  const s = mysqlSettings();
  await captureWhile({ file }, async () => {
    const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
    await c.query('CREATE TABLE IF NOT EXISTS canary (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(100) UNIQUE, note VARCHAR(200), n BIGINT, b VARBINARY(32))');
    await c.query(`INSERT INTO canary (email, note, n, b) VALUES ('${m.email}', "${m.text}", ${m.number}, X'${m.hex}') /* ${m.comment} */`);
    await c.query(`SELECT * FROM canary WHERE note = '${m.text}' OR n = ${m.number}`);
    await c.execute('SELECT * FROM canary WHERE note = ? OR n = ?', [m.param, m.paramNumber]);
    // A failing statement whose error message echoes the value (1062 Duplicate entry '…').
    await c.query(`INSERT INTO canary (email) VALUES ('${m.email}')`).catch(() => undefined);
    await c.query(`DELETE FROM canary WHERE email = '${m.email}'`);
    await c.end();
  });
  const redacted = await periscope('events', file);
  assert.equal(redacted.code, 0, redacted.stderr);
  const trace = await periscope('trace', file);
  assert.equal(trace.code, 0, trace.stderr);
  for (const out of [redacted.stdout + redacted.stderr, trace.stdout + trace.stderr]) {
    for (const [what, v] of Object.entries(m)) assert.ok(!out.includes(v), `redacted output leaks the ${what} marker ${v}`);
    assert.ok(!out.includes(tag), 'no fragment of the markers');
  }
  // The error (1062) is there, with its value masked.
  assert.match(redacted.stdout, /"error_code":1062,"sql_state":"23000","error":"Duplicate entry \? for key \?"/);
  const raw = await periscope('events', '--no-redact', file);
  assert.equal(raw.code, 0);
  assert.match(raw.stderr, /--no-redact/);
  for (const [what, v] of Object.entries(m)) {
    if (what === 'comment') continue; // comments are part of the SQL as captured: shown too
    assert.ok(raw.stdout.includes(v), `--no-redact shows the ${what} marker`);
  }
  assert.ok(raw.stdout.includes(m.comment));
});

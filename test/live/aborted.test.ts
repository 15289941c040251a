/**
 * Aborted logins on a real MariaDB, captured by real tcpdump: a client that reads the greeting
 * and closes (a health check), one that resets after it (a port scan), and one that sends half a
 * handshake response and closes. Each is a `connect` event with status `aborted` and how it
 * ended; the report counts them; and the server's own Aborted_connects moved by as many.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope } from '../cli/run.js';
import { endAndWait } from './workload.js';

const opts = await liveTestOptions();
let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
const s = mysqlSettings();

/** Connect, wait for the greeting, then `end` the socket as told; resolves when it is closed. */
function greetedThen(how: (sock: Socket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: s.host, port: s.port });
    sock.once('data', () => how(sock));
    sock.on('error', () => undefined); // a reset is what some cases want
    sock.once('close', () => resolve());
    sock.setTimeout(5000, () => reject(new Error('no greeting from the server')));
  });
}

async function abortedConnects(): Promise<number> {
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  const [rows] = await c.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Aborted_connects'");
  await endAndWait(c);
  return Number(rows[0]!.Value);
}

/** Aborted_connects once it reaches `want`, or as it is after 10 s. */
async function waitForAborted(want: number): Promise<number> {
  const until = Date.now() + 10_000;
  for (;;) {
    const n = await abortedConnects();
    if (n >= want || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('logins that never finish: aborted connects, as the server counts them', opts, async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-aborted-'));
  const file = join(dir, 'aborted.pcap');
  const before = await abortedConnects();
  await captureWhile({ file }, async () => {
    await greetedThen((sock) => sock.end()); // FIN from the client
    await greetedThen((sock) => sock.resetAndDestroy()); // RST from the client
    // Four bytes of a handshake response's header, then nothing: the server waits for the rest.
    await greetedThen((sock) => sock.end(Buffer.from([0x40, 0x00, 0x00, 0x01])));
  });
  // The server counts an aborted login when its thread sees the end of the connection: for the
  // client's FIN that is before it closes its side (which our 'close' waited for), but a reset
  // ends the client's socket at once, and the server's thread may not have run yet (a loaded
  // machine). So the counter is awaited, not read once.
  const after = await waitForAborted(before + 3);
  const ev = await periscope('events', file);
  assert.equal(ev.code, 0, ev.stderr);
  const events = ev.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const aborted = events.filter((e) => e.cmd === 'connect' && e.status === 'aborted');
  assert.deepEqual(aborted.map((e) => e.ended).sort(), ['client_closed', 'client_closed', 'client_reset']);
  for (const e of aborted) {
    assert.equal(typeof e.duration_us, 'number');
    assert.ok((e.duration_us as number) >= 0 && (e.duration_us as number) < 5_000_000);
    assert.ok(typeof e.conn_id === 'number', 'the greeting gave the connection id');
  }
  // The server counted them too (other clients may add to its counter, never take away).
  assert.ok(after - before >= aborted.length, `Aborted_connects moved by ${after - before}, ${aborted.length} aborted logins seen`);
  const report = await periscope('analyze', file, '--format', 'json');
  assert.equal(report.code, 0, report.stderr);
  assert.equal((JSON.parse(report.stdout) as { overall: { logins_aborted: number } }).overall.logins_aborted, 3);
  const text = await periscope('analyze', file);
  assert.match(text.stdout, /logins 3, 3 aborted/);
});

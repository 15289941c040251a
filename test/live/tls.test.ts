/**
 * TLS decryption against real parts: real MariaDB with TLS (.ci/run starts it on 127.0.0.1:3307),
 * real mysql2 clients under `node --tls-keylog`, real tcpdump. One capture holds the same workload
 * (with a reply spanning many TLS records, errors and prepared statements) in plaintext and over
 * every supported TLS 1.3 and TLS 1.2 suite, compressed inside TLS, a connection whose secrets
 * are not in the key log and one with a CBC suite. Then:
 *   - every decrypted connection gives the same commands and outcomes as the plaintext one;
 *   - tshark, given the same key log, finds the same queries (the oracle);
 *   - the pcapng with the secrets injected (editcap) gives the same events without --keylog;
 *   - the connections that cannot be decrypted are named with the reason;
 *   - the report says how many were decrypted; no literal reaches a redacted output.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { tlsLiveTestOptions, tlsPort } from './env.js';
import { captureWhile } from './tcpdump.js';
import { periscope } from '../cli/run.js';

const opts = await tlsLiveTestOptions();
const client = fileURLToPath(new URL('./tls-client.js', import.meta.url));

interface Run {
  name: string;
  keys: boolean;
  cfg: { ssl?: Record<string, unknown> | null; compress?: boolean };
  /** What the events must say of it. */
  version?: string;
  cipher?: string;
}

const insecure = { rejectUnauthorized: false };
const RUNS: Run[] = [
  { name: 'plaintext', keys: true, cfg: { ssl: null } },
  { name: 'tls13-aes128', keys: true, cfg: { ssl: { ...insecure, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' } }, version: 'TLS 1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
  { name: 'tls13-aes256', keys: true, cfg: { ssl: { ...insecure, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' } }, version: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  { name: 'tls13-chacha', keys: true, cfg: { ssl: { ...insecure, minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' } }, version: 'TLS 1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' },
  { name: 'tls12-ecdhe-aes128', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } }, version: 'TLS 1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'tls12-ecdhe-aes256', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' } }, version: 'TLS 1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
  { name: 'tls12-ecdhe-chacha', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' } }, version: 'TLS 1.2', cipher: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { name: 'tls12-dhe-aes128', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256' } }, version: 'TLS 1.2', cipher: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'tls12-rsa-aes256', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'AES256-GCM-SHA384' } }, version: 'TLS 1.2', cipher: 'TLS_RSA_WITH_AES_256_GCM_SHA384' },
  { name: 'tls13-compressed', keys: true, cfg: { compress: true, ssl: { ...insecure, minVersion: 'TLSv1.3' } }, version: 'TLS 1.3' },
  { name: 'no-secret', keys: false, cfg: { ssl: { ...insecure, minVersion: 'TLSv1.3' } }, version: 'TLS 1.3' },
  { name: 'cbc', keys: true, cfg: { ssl: { ...insecure, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' } }, version: 'TLS 1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256' },
];
const DECRYPTED = RUNS.filter((r) => r.name !== 'plaintext' && r.name !== 'no-secret' && r.name !== 'cbc');

let dir = '';
let pcap = '';
let keys = '';

interface Ev {
  ts: string;
  client: string;
  conn_id: number | null;
  cmd: string;
  sql: string | null;
  status: string;
  error_code: number | null;
  rows: number | null;
  affected_rows: number | null;
  tls: boolean;
  tls_version: string | null;
  tls_cipher: string | null;
  tls_decrypted: boolean | null;
  compressed: boolean;
}

/**
 * Events by connection, connections in the order they began (the runs' order). A client port may
 * be reused by the next run (the server closes first), so the server's connection id is part of
 * the key.
 */
function byConnection(events: Ev[]): Ev[][] {
  const m = new Map<string, Ev[]>();
  for (const e of events) {
    const k = `${e.client}#${e.conn_id}`;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(e);
  }
  return [...m.values()].sort((a, b) => (a[0]!.ts < b[0]!.ts ? -1 : 1));
}

const parse = (out: string): Ev[] => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
/** What must be the same over TLS as in plaintext. */
const shape = (c: Ev[]) => c.map((e) => [e.cmd, e.sql, e.status, e.error_code, e.rows, e.affected_rows]);

before(async () => {
  if (opts.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'periscope-live-tls-'));
  pcap = join(dir, 'tls.pcap');
  keys = join(dir, 'keys.log');
  // A 64 MiB kernel buffer: the 200 KB replies come in bursts that libpcap's default 2 MiB may
  // drop on a loaded machine (then the test would measure the capture, not the decoder).
  await captureWhile({ file: pcap, filter: `tcp port ${tlsPort}`, extra: ['-B', '65536'] }, async () => {
    for (const r of RUNS) {
      const args = [...(r.keys ? [`--tls-keylog=${keys}`] : []), client, JSON.stringify({ port: tlsPort, ...r.cfg })];
      const res = await execa('node', args, { reject: false, env: { NODE_NO_WARNINGS: '1' } });
      assert.equal(res.exitCode, 0, `${r.name}: the client failed: ${String(res.stderr)}`);
    }
  });
});

after(async () => {
  if (dir && !process.env.PERISCOPE_KEEP_TEST_FILES) await rm(dir, { recursive: true, force: true });
});

test('every supported TLS 1.3 and 1.2 suite: the same commands and outcomes as in plaintext', opts, async () => {
  const info = await periscope('info', '--json', pcap);
  const lost = (JSON.parse(info.stdout) as { tcp: { bytes_lost: number } }).tcp.bytes_lost;
  assert.equal(lost, 0, 'tcpdump missed packets of the capture (a loaded machine): nothing to compare');
  const r = await periscope('events', '--no-redact', '--keylog', keys, pcap);
  assert.equal(r.code, 0, r.stderr);
  const conns = byConnection(parse(r.stdout));
  assert.equal(conns.length, RUNS.length, `one connection per run: ${conns.length}`);
  const plain = conns[0]!;
  assert.ok(plain.every((e) => !e.tls));
  assert.ok(shape(plain).length >= 15, 'the workload ran');
  assert.ok(plain.some((e) => (e.rows ?? 0) === 1000), 'the reply spanning many records');
  for (const [i, run] of RUNS.entries()) {
    const c = conns[i]!;
    if (!DECRYPTED.includes(run)) continue;
    assert.ok(c.every((e) => e.tls && e.tls_decrypted === true), `${run.name}: every event decrypted`);
    assert.equal(c[0]!.tls_version, run.version, run.name);
    if (run.cipher) assert.equal(c[0]!.tls_cipher, run.cipher, run.name);
    assert.equal(c.some((e) => e.compressed), run.cfg.compress === true, `${run.name}: compressed inside TLS`);
    assert.deepEqual(shape(c), shape(plain), `${run.name}: the same commands as in plaintext`);
  }
  // The two that cannot be decrypted: a login known only as TLS, and why on stderr.
  for (const name of ['no-secret', 'cbc']) {
    const c = conns[RUNS.findIndex((x) => x.name === name)]!;
    assert.deepEqual(c.map((e) => [e.cmd, e.status, e.tls, e.tls_decrypted]), [['connect', 'incomplete', true, false]], name);
  }
  assert.match(r.stderr, /TLS: 9 of 11 TLS connections decrypted/);
  assert.match(r.stderr, /TLS: 2 of 11 TLS connections could not be decrypted/);
  assert.match(r.stderr, /no secret for this TLS session in the key log \(look for client random [0-9a-f]{64}/);
  assert.match(r.stderr, /TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256/);
});

test('tshark with the same key log (the oracle) finds the same queries', opts, async () => {
  const ours = parse((await periscope('events', '--no-redact', '--keylog', keys, pcap)).stdout);
  const t = await execa('tshark', ['-r', pcap, '-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${tlsPort},mysql`, '-Y', 'mysql.query', '-T', 'fields', '-E', 'occurrence=f', '-e', 'tcp.stream', '-e', 'mysql.query'], { reject: false });
  assert.equal(t.exitCode, 0, String(t.stderr));
  // tshark numbers TCP streams in the order they begin: stream i is run i. Compared: the
  // connections we decrypt, but the compressed one (tshark does not read the compressed protocol;
  // it does decrypt the CBC suite, which we do not).
  const conns = byConnection(ours);
  const compared = new Set(RUNS.map((r, i) => (DECRYPTED.includes(r) && !r.cfg.compress ? i : -1)).filter((i) => i >= 0));
  assert.equal(compared.size, 8);
  const theirs = String(t.stdout).trim().split('\n').map((l) => l.split('\t')).filter(([stream]) => compared.has(Number(stream))).map(([, q]) => q!.replace(/\\n/g, '\n')).sort();
  // (tshark's mysql.query is the SQL of COM_QUERY and COM_STMT_PREPARE.)
  const mine = [...compared].flatMap((i) => conns[i]!).filter((e) => e.cmd === 'query' || e.cmd === 'stmt_prepare').map((e) => e.sql!).sort();
  assert.ok(mine.length >= 8 * 10, `queries decoded: ${mine.length}`);
  assert.deepEqual(mine, theirs);
});

test('a pcapng with the secrets injected (editcap) gives the same events without --keylog', opts, async () => {
  const ng = join(dir, 'tls-secrets.pcapng');
  const e = await execa('editcap', ['--inject-secrets', `tls,${keys}`, pcap, ng], { reject: false });
  assert.equal(e.exitCode, 0, String(e.stderr));
  const withKeys = await periscope('events', '--keylog', keys, pcap);
  const inside = await periscope('events', ng);
  assert.equal(inside.code, 0, inside.stderr);
  assert.equal(inside.stdout, withKeys.stdout);
  // A bundle never carries a key log, not even inside a capture.
  const b = await periscope('bundle', ng, '-o', join(dir, 'b.tar.gz'), '--include-pcap', '-q');
  assert.equal(b.code, 2, b.stderr);
  assert.match(b.stderr, /decryption secrets .*editcap --discard-all-secrets/);
});

test('analyze: decrypted connections in the report, the others named in its health', opts, async () => {
  const r = await periscope('analyze', '--format', 'json', '--keylog', keys, pcap);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { health: { notes: string[]; counters: Record<string, number> }; overall: { commands: number } };
  assert.equal(rep.health.counters.tlsConnections, 11);
  assert.equal(rep.health.counters.tlsDecrypted, 9);
  assert.equal(rep.health.counters.tlsNoSecret, 1);
  assert.equal(rep.health.counters.tlsUnsupported, 1);
  assert.ok(rep.health.notes.some((n) => /9 of 11 TLS connections decrypted/.test(n)), rep.health.notes.join('\n'));
  // Two threads: the same report.
  const r2 = await periscope('analyze', '--format', 'json', '--threads', '2', '--keylog', keys, pcap);
  assert.equal(r2.stdout, r.stdout);
});

test('redacted outputs of decrypted sessions hold no literal of the workload', opts, async () => {
  const markers = ['ada@example.com', 'Duplicate Ada', 'bob@example.com', '2026-01-02 03:04:05', 'periscope-big-reply-'];
  const outs = [
    (await periscope('events', '--keylog', keys, pcap)).stdout,
    (await periscope('analyze', '--keylog', keys, pcap)).stdout,
    (await periscope('analyze', '--format', 'json', '--keylog', keys, pcap)).stdout,
    (await periscope('trace', '--keylog', keys, pcap)).stdout,
  ];
  // The raw events do hold them: the canary would find a leak.
  const raw = (await periscope('events', '--no-redact', '--keylog', keys, pcap)).stdout;
  assert.ok(raw.includes('ada@example.com'));
  for (const out of outs) for (const m of markers) assert.ok(!out.includes(m), `a redacted output holds ${m}`);
  assert.ok((await readFile(keys, 'utf8')).includes('CLIENT_RANDOM'));
});

/**
 * TLS decryption throughput (src/tls): how fast TlsConnection turns recorded TLS traffic into
 * plaintext, in MB/s of TLS bytes (MB = 1e6) and records/s.
 *
 *   npm run bench -- --only tls          (or: node build/bench/tls.js after `npx tsc -p .`)
 *   PERISCOPE_BENCH_REPS=5 PERISCOPE_BENCH_TLS_MB=32
 *
 * Genuine sessions are made in-process once (node:tls client and server over recorded streams,
 * test/tls/session.ts) and then fed, as recorded, to a fresh TlsConnection per run; the best of
 * PERISCOPE_BENCH_REPS runs is reported after a warm-up run. Workloads:
 *   bulk    large replies (full 16 KiB records), TLS 1.3 AES-128-GCM, TLS 1.3 ChaCha20-Poly1305,
 *           TLS 1.2 ECDHE-RSA AES-128-GCM: what a big result set costs;
 *   small   2,000 request/response pairs of 60 and 200 bytes (one record each), TLS 1.3
 *           AES-128-GCM and ChaCha20-Poly1305: what an OLTP workload of short queries costs per
 *           record; each also with the WebAssembly module turned off (src/tls/wasm: the
 *           JavaScript paths of src/tls/gcm.ts and src/tls/chacha.ts), and with both turned off
 *           (an OpenSSL context made per record, as for long records), side by side. The ChaCha20
 *           bulk line is repeated without WebAssembly too.
 * Each line also shows the same bytes read without keys (the key log has no secret: records are
 * framed and counted, nothing decrypted): the part of the cost that is not cryptography.
 * Every run must deliver exactly the plaintext the applications wrote (else exit code 1).
 */
import { pathToFileURL } from 'node:url';
import type { Dir } from '../src/tcp/stream.js';
import { TlsConnection, type PlainSink } from '../src/tls/connection.js';
import { KeyLog } from '../src/tls/keylog.js';
import { setGcmJsMax } from '../src/tls/gcm.js';
import { setChaChaJsMax } from '../src/tls/chacha.js';
import { aeadWasmStatus, setAeadWasm } from '../src/tls/wasm/aead.js';
import { makeSession, type Session, type SessionOptions } from '../test/tls/session.js';

export interface TlsBenchLine {
  name: string;
  tlsBytes: number;
  records: number;
  seconds: number;
  mbPerSecond: number;
  recordsPerSecond: number;
  /** The same input without keys: framing and counting only. */
  noKeySeconds: number;
  noKeyMbPerSecond: number;
  ok: boolean;
}

export interface TlsBenchResult {
  repetitions: number;
  lines: TlsBenchLine[];
  ok: boolean;
}

class CountingSink implements PlainSink {
  bytes = 0;
  gaps = 0;
  onData(_dir: Dir, _buf: Uint8Array, _offset: number, length: number): void {
    this.bytes += length;
  }
  onGap(): void {
    this.gaps++;
  }
}

function run(sessions: Session[], keylog: KeyLog | null): { seconds: number; records: number; plain: number } {
  const t0 = process.hrtime.bigint();
  let records = 0;
  let plain = 0;
  for (const s of sessions) {
    const sink = new CountingSink();
    const conn = new TlsConnection((r) => (keylog === null ? null : keylog.lookup(r)), sink);
    for (const c of s.chunks) conn.onData(c.dir as Dir, c.bytes, 0, c.bytes.length, 0, 0);
    records += conn.counters.records;
    plain += sink.bytes;
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, records, plain };
}

/** Which path opens the records: the default (WebAssembly when it loads), JavaScript only, or an OpenSSL context per record. */
type Path = 'default' | 'js' | 'openssl';

async function workload(name: string, opts: SessionOptions, exchanges: [number, number][], copies: number, reps: number, path: Path): Promise<TlsBenchLine> {
  const one = await makeSession({ ...opts, exchanges });
  if (path === 'openssl') {
    setGcmJsMax(0);
    setChaChaJsMax(0);
  }
  if (path === 'js') setAeadWasm(false);
  try {
    return measure(name, one, copies, reps);
  } finally {
    setGcmJsMax(-1);
    setChaChaJsMax(-1);
    setAeadWasm(true);
  }
}

function measure(name: string, one: Session, copies: number, reps: number): TlsBenchLine {
  const sessions = Array.from({ length: copies }, () => one);
  const keylog = new KeyLog();
  keylog.addText(one.keylog);
  const tlsBytes = one.chunks.reduce((n, c) => n + c.bytes.length, 0) * copies;
  const want = (one.plain[0].length + one.plain[1].length) * copies;
  let best = Infinity;
  let bestNoKey = Infinity;
  let records = 0;
  let ok = true;
  for (let i = 0; i <= reps; i++) {
    const r = run(sessions, keylog);
    const n = run(sessions, null);
    if (r.plain !== want) ok = false;
    records = r.records;
    if (i === 0) continue; // warm-up
    best = Math.min(best, r.seconds);
    bestNoKey = Math.min(bestNoKey, n.seconds);
  }
  return {
    name,
    tlsBytes,
    records,
    seconds: best,
    mbPerSecond: tlsBytes / 1e6 / best,
    recordsPerSecond: records / best,
    noKeySeconds: bestNoKey,
    noKeyMbPerSecond: tlsBytes / 1e6 / bestNoKey,
    ok,
  };
}

export async function runTlsBench(opts: { megabytes?: number; reps?: number; log?: (line: string) => void } = {}): Promise<TlsBenchResult> {
  const mb = opts.megabytes ?? 32;
  const reps = opts.reps ?? 5;
  const log = opts.log ?? (() => undefined);
  const T13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
  const T12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
  // Bulk: one session of 8 replies of 1 MB, repeated to make `mb` megabytes.
  const bulk: [number, number][] = Array.from({ length: 8 }, () => [100, 1_000_000] as [number, number]);
  const bulkCopies = Math.max(1, Math.round(mb / 8));
  const small: [number, number][] = Array.from({ length: 2000 }, () => [60, 200] as [number, number]);
  const lines: TlsBenchLine[] = [];
  log(`WebAssembly (src/tls/wasm): ${aeadWasmStatus()}`);
  const AES = { ...T13, ciphers: 'TLS_AES_128_GCM_SHA256' };
  const CHACHA = { ...T13, ciphers: 'TLS_CHACHA20_POLY1305_SHA256' };
  for (const [name, o, ex, copies, path] of [
    ['bulk  TLS 1.3 AES-128-GCM', AES, bulk, bulkCopies, 'default'],
    ['bulk  TLS 1.3 ChaCha20-Poly1305', CHACHA, bulk, bulkCopies, 'default'],
    ['bulk, same, JavaScript and OpenSSL only', CHACHA, bulk, bulkCopies, 'js'],
    ['bulk  TLS 1.2 ECDHE-RSA AES-128-GCM', { ...T12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, bulk, bulkCopies, 'default'],
    ['small TLS 1.3 AES-128-GCM (60/200 B)', AES, small, 10, 'default'],
    ['small, same, JavaScript GHASH (no WebAssembly)', AES, small, 10, 'js'],
    ['small, same, OpenSSL context per record', AES, small, 10, 'openssl'],
    ['small TLS 1.3 ChaCha20-Poly1305', CHACHA, small, 10, 'default'],
    ['small, same, JavaScript (no WebAssembly)', CHACHA, small, 10, 'js'],
    ['small, same, OpenSSL context per record', CHACHA, small, 10, 'openssl'],
  ] as [string, SessionOptions, [number, number][], number, Path][]) {
    log(`${name}: making the session and running ${reps} + 1 times…`);
    lines.push(await workload(name, o, ex, copies, reps, path));
  }
  return { repetitions: reps, lines, ok: lines.every((l) => l.ok) };
}

export function tlsBenchLines(r: TlsBenchResult): string[] {
  const fmt = (v: number, d: number): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const rows = r.lines.map((l) => [
    l.name,
    fmt(l.tlsBytes / 1e6, 1),
    fmt(l.records, 0),
    fmt(l.seconds, 3),
    fmt(l.mbPerSecond, 0),
    fmt(l.recordsPerSecond, 0),
    fmt((l.seconds / l.records) * 1e6, 2),
    fmt(l.noKeyMbPerSecond, 0),
    l.ok ? 'ok' : 'WRONG PLAINTEXT',
  ]);
  const headers = ['workload', 'TLS MB', 'records', 'seconds', 'MB/s', 'records/s', 'µs/record', 'no-key MB/s', 'check'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const reps = Number(process.env.PERISCOPE_BENCH_REPS ?? 5);
  const r = await runTlsBench({ megabytes: Number(process.env.PERISCOPE_BENCH_TLS_MB ?? 32), reps, log: (l) => console.log(l) });
  for (const l of tlsBenchLines(r)) console.log(l);
  if (!r.ok) process.exitCode = 1;
}

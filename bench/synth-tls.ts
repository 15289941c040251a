/**
 * The same MySQL workload of short queries twice, as tcpdump would record it: in plaintext, and
 * over TLS (genuine node:tls sessions over in-memory streams, their client's key log written
 * beside the capture). For the end-to-end TLS line of `npm run bench -- --only tls`.
 *
 *   node build/bench/synth-tls.js DIR [QUERIES] [SEED]
 *     writes DIR/plain.pcap, DIR/tls13-aes128gcm.pcap (+ .keys), DIR/tls13-chacha20.pcap (+ .keys)
 *
 * The workload (what the previous session recorded by hand against MariaDB with mysql2): one
 * connection; MariaDB's greeting, the login (with an SSL request first over TLS), then QUERIES
 * commands: point selects (`SELECT c FROM sbtest1 WHERE id=N`, one row of 120 characters) and,
 * one in ten, a range select of 10 rows; COM_QUIT. Each MySQL message is one application write,
 * so one TLS record (60–1,400 bytes) and one TCP segment, as a client and server on loopback send
 * them; the capture interleaves request and reply 100 µs apart. TCP: SYN, SYN/ACK, ACK, exact
 * sequence and acknowledgement numbers, FINs; nothing lost. The plaintext capture carries the
 * same MySQL bytes (sequence ids aside: the SSL request takes one) in the same segmentation.
 *
 * The TLS bytes are what node:tls (OpenSSL) wrote; nothing of src/tls is used to make them.
 * A sidecar (`DIR/meta.json`) records the generator version, seed, query count and sizes; files
 * are reused while it matches.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { CAP, CLIENT_BASE_CAPS, columnCount, columnDef, comQuery, eof, greetingPayload, handshakeResponse41, mysqlPacket, ok, sslRequest, textRow, COM, com } from '../test/builders/mysql-builder.js';
import { End, RSA, type Chunk } from '../test/tls/session.js';
import { Prng, seqAfter, TcpFlag, writeCapture, writeFrame, type Frame, type PcapWriter } from './pcap-writer.js';

/** Bump when the traffic changes, so cached captures are rewritten. */
export const TLS_GENERATOR_VERSION = 1;

export interface TlsVariant {
  /** File name without extension. */
  name: string;
  label: string;
  /** node:tls options forcing the suite; null: the plaintext capture. */
  tls: { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion; ciphers: string } | null;
}

export const TLS_VARIANTS: readonly TlsVariant[] = [
  { name: 'plain', label: 'plaintext', tls: null },
  { name: 'tls13-aes128gcm', label: 'TLS 1.3 AES-128-GCM', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' } },
  { name: 'tls13-chacha20', label: 'TLS 1.3 ChaCha20-Poly1305', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' } },
];

export interface TlsCapturesMeta {
  generator: number;
  seed: number;
  queries: number;
  /** Per variant: file size, packets, TLS records (0 for plaintext), and the key log path. */
  files: Record<string, { path: string; keylog: string | null; size: number; packets: number; payloadBytes: number }>;
  /** Commands the capture holds: queries + quit (the login is counted apart). */
  commands: number;
}

const SERVER_VERSION = '5.5.5-10.11.11-MariaDB-0+deb12u1';

/** The MySQL conversation after the greeting and login: [request, reply] pairs (reply may be empty). */
function conversation(queries: number, seed: number, seqBase: number): { login: [Uint8Array, Uint8Array]; pairs: [Uint8Array, Uint8Array][] } {
  const rng = new Prng(seed);
  const caps = CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB | (seqBase > 1 ? CAP.SSL : 0);
  const login: [Uint8Array, Uint8Array] = [
    mysqlPacket(seqBase, handshakeResponse41({ capabilities: caps, user: 'bench', database: 'sbtest', authPlugin: 'mysql_native_password', attributes: { _client_name: 'bench' } })),
    mysqlPacket(seqBase + 1, ok()),
  ];
  const colCount = mysqlPacket(1, columnCount(1));
  const col = mysqlPacket(2, columnDef('c', 0xfe, { table: 'sbtest1' }));
  const pairs: [Uint8Array, Uint8Array][] = [];
  const filler = (): string => {
    let s = '';
    while (s.length < 120) s += `${rng.u32().toString().padStart(11, '0')}-`;
    return s.slice(0, 120);
  };
  for (let i = 0; i < queries; i++) {
    const range = i % 10 === 9;
    const id = rng.int(1, 1_000_000);
    const sql = range ? `SELECT c FROM sbtest1 WHERE id BETWEEN ${id} AND ${id + 9}` : `SELECT c FROM sbtest1 WHERE id=${id}`;
    const rows = range ? 10 : 1;
    const parts: Uint8Array[] = [colCount, col, mysqlPacket(3, eof())];
    for (let r = 0; r < rows; r++) parts.push(mysqlPacket(4 + r, textRow(filler())));
    parts.push(mysqlPacket(4 + rows, eof(0x0002)));
    pairs.push([mysqlPacket(0, comQuery(sql)), Buffer.concat(parts)]);
  }
  pairs.push([mysqlPacket(0, com(COM.QUIT)), new Uint8Array(0)]);
  return { login, pairs };
}

/**
 * The conversation over a genuine TLS session: each message written by its side once the peer has
 * read the previous one (a request/reply protocol), so each is one record. Returns the raw bytes
 * each side wrote, in order, and the client's key log.
 */
async function overTls(v: NonNullable<TlsVariant['tls']>, pairs: [Uint8Array, Uint8Array][]): Promise<{ chunks: Chunk[]; keylog: string }> {
  const chunks: Chunk[] = [];
  const a = new End(0, chunks);
  const b = new End(1, chunks);
  a.peer = b;
  b.peer = a;
  const server = new tls.TLSSocket(b, { isServer: true, secureContext: tls.createSecureContext({ ...RSA, ...v }) });
  const client = tls.connect({ socket: a, rejectUnauthorized: false, ...v });
  let keylog = '';
  client.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
  const got = [0, 0];
  let wake: (() => void) | null = null;
  server.on('data', (d: Buffer) => {
    got[0] += d.length;
    wake?.();
  });
  client.on('data', (d: Buffer) => {
    got[1] += d.length;
    wake?.();
  });
  const until = (dir: 0 | 1, n: number): Promise<void> =>
    got[dir]! >= n
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = () => {
            if (got[dir]! >= n) {
              wake = null;
              resolve();
            }
          };
        });
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
    server.once('error', reject);
  });
  const want = [0, 0];
  for (const [q, r] of pairs) {
    want[0] += q.length;
    client.write(q);
    await until(0, want[0]!);
    if (r.length === 0) continue;
    want[1] += r.length;
    server.write(r);
    await until(1, want[1]!);
  }
  client.end();
  await new Promise<void>((resolve) => {
    if (server.readableEnded) resolve();
    else server.once('end', resolve);
    setTimeout(resolve, 2000).unref();
  });
  server.end();
  client.destroy();
  server.destroy();
  return { chunks, keylog };
}

/** Writes one connection carrying `chunks` (in order) as TCP segments, 100 µs apart. */
function writeConnection(w: PcapWriter, chunks: readonly Chunk[]): void {
  const start = 1740992400;
  let us = 0;
  const client: Frame = { srcMac: Uint8Array.of(2, 0, 0, 0, 0, 1), dstMac: Uint8Array.of(2, 0, 0, 0, 0, 2), srcIp: 0x0a000001, dstIp: 0x0a00000a, srcPort: 40000, dstPort: 3306, seq: 1000, ack: 0, flags: 0, window: 65535, ipId: 1, tsval: 1, tsecr: 0, fromClient: true };
  const server: Frame = { srcMac: client.dstMac, dstMac: client.srcMac, srcIp: client.dstIp, dstIp: client.srcIp, srcPort: 3306, dstPort: 40000, seq: 900000, ack: 0, flags: 0, window: 65535, ipId: 1, tsval: 1, tsecr: 1, fromClient: false };
  const send = (f: Frame, peer: Frame, flags: number, payload: Uint8Array | null, from: number, len: number): void => {
    f.flags = flags;
    f.ack = peer.seq;
    us += 100;
    writeFrame(w, start + Math.floor(us / 1e6), us % 1e6, f, len, payload, from, true);
    f.seq = seqAfter(f.seq, len, flags);
    f.ipId++;
    f.tsval++;
  };
  send(client, server, TcpFlag.Syn, null, 0, 0);
  send(server, client, TcpFlag.Syn | TcpFlag.Ack, null, 0, 0);
  send(client, server, TcpFlag.Ack, null, 0, 0);
  for (const c of chunks) {
    const [f, peer] = c.dir === 0 ? [client, server] : [server, client];
    for (let p = 0; p < c.bytes.length; p += 32768) send(f, peer, TcpFlag.Ack | TcpFlag.Psh, c.bytes, p, Math.min(32768, c.bytes.length - p));
  }
  send(client, server, TcpFlag.Fin | TcpFlag.Ack, null, 0, 0);
  send(server, client, TcpFlag.Fin | TcpFlag.Ack, null, 0, 0);
  send(client, server, TcpFlag.Ack, null, 0, 0);
}

/** A capture of the sidecar still there whole, with its key log. */
function intact(f: TlsCapturesMeta['files'][string] | undefined): boolean {
  return f !== undefined && existsSync(f.path) && statSync(f.path).size === f.size && (f.keylog === null || existsSync(f.keylog));
}

/** Makes (or reuses) the captures in `dir`. */
export async function tlsCaptures(dir: string, queries: number, seed: number, log: (s: string) => void = () => undefined): Promise<TlsCapturesMeta> {
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    try {
      const m = JSON.parse(readFileSync(metaPath, 'utf8')) as TlsCapturesMeta;
      if (m.generator === TLS_GENERATOR_VERSION && m.seed === seed && m.queries === queries && TLS_VARIANTS.every((v) => intact(m.files[v.name]))) return m;
    } catch {
      // made again below
    }
  }
  mkdirSync(dir, { recursive: true });
  const greeting = mysqlPacket(0, greetingPayload({ version: SERVER_VERSION, capabilities: 0x81fff7fe | CAP.SSL, mariaCapabilities: 0x1d, authPlugin: 'mysql_native_password' }));
  const meta: TlsCapturesMeta = { generator: TLS_GENERATOR_VERSION, seed, queries, files: {}, commands: queries + 1 };
  for (const v of TLS_VARIANTS) {
    log(`making ${v.name} (${queries.toLocaleString('en-US')} queries)…`);
    const chunks: Chunk[] = [{ dir: 1, bytes: greeting }];
    let keylogPath: string | null = null;
    if (v.tls === null) {
      const { login, pairs } = conversation(queries, seed, 1);
      for (const [q, r] of [login, ...pairs]) {
        chunks.push({ dir: 0, bytes: q });
        if (r.length > 0) chunks.push({ dir: 1, bytes: r });
      }
    } else {
      const { login, pairs } = conversation(queries, seed, 2);
      chunks.push({ dir: 0, bytes: mysqlPacket(1, sslRequest(CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB | CAP.SSL)) });
      const s = await overTls(v.tls, [login, ...pairs]);
      for (const c of s.chunks) chunks.push(c);
      keylogPath = join(dir, `${v.name}.keys`);
      writeFileSync(`${keylogPath}.tmp`, s.keylog, { mode: 0o600 });
      renameSync(`${keylogPath}.tmp`, keylogPath);
    }
    const path = join(dir, `${v.name}.pcap`);
    const w = writeCapture(path, (pw) => {
      writeConnection(pw, chunks);
      return { size: pw.total, packets: pw.packets, payloadBytes: pw.payloadBytes };
    });
    meta.files[v.name] = { path, keylog: keylogPath, ...w };
  }
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, q, s] = process.argv.slice(2);
  if (dir === undefined) {
    console.error('usage: node build/bench/synth-tls.js DIR [QUERIES] [SEED]');
    process.exitCode = 1;
  } else {
    const m = await tlsCaptures(dir, Number(q ?? 150_000), Number(s ?? 20261207), (l) => console.log(l));
    console.log(JSON.stringify(m, null, 2));
  }
}

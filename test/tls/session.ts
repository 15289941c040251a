/**
 * Genuine TLS sessions made in-process: a node:tls client and server joined by a pair of raw
 * streams that record every byte each side writes, in the order written, with the client's
 * `keylog` lines. The application data each side wrote is kept to compare with what the
 * decryptor delivers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createCipheriv } from 'node:crypto';
import { TlsConnection, type PlainSink } from '../../src/tls/connection.js';
import { KeyLog } from '../../src/tls/keylog.js';
import type { Dir, GapReason } from '../../src/tcp/stream.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (name: string): string => readFileSync(join(repoRoot, 'test/fixtures/tls', name), 'utf8');
export const RSA = { key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') };
export const ECDSA = { key: fixture('ecdsa-key.pem'), cert: fixture('ecdsa-cert.pem') };

/** One write on the wire: 0 client → server, 1 server → client. */
export interface Chunk {
  dir: 0 | 1;
  bytes: Uint8Array;
}

export interface Session {
  chunks: Chunk[];
  keylog: string;
  /** What the application wrote, per direction (0: client, 1: server). */
  plain: [Buffer, Buffer];
  /** What the client and server negotiated, as node reports it. */
  protocol: string | null;
  cipher: string;
}

/** One end of an in-memory wire: what is written to it is recorded (in `log`) and pushed to its peer. */
export class End extends Duplex {
  peer: End | null = null;
  constructor(
    readonly dir: 0 | 1,
    readonly log: Chunk[],
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.log.push({ dir: this.dir, bytes: Uint8Array.prototype.slice.call(chunk) });
    this.peer!.push(chunk);
    cb();
  }
  override _read(): void {}
  override _final(cb: (e?: Error | null) => void): void {
    this.peer!.push(null);
    cb();
  }
}

export interface SessionOptions {
  /** Both sides' version range. */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher list (TLS 1.2) or TLS 1.3 suite names (node takes both in `ciphers`). */
  ciphers?: string;
  ecdsa?: boolean;
  dhparam?: 'auto';
  /** Request/response exchanges: [client message, server reply] sizes in bytes. */
  exchanges?: [number, number][];
}

/** Bytes of a recognisable pattern, different per call. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

export async function makeSession(o: SessionOptions): Promise<Session> {
  const chunks: Chunk[] = [];
  const a = new End(0, chunks);
  const b = new End(1, chunks);
  a.peer = b;
  b.peer = a;
  const cred = o.ecdsa ? ECDSA : RSA;
  const common = { minVersion: o.minVersion, maxVersion: o.maxVersion, ...(o.ciphers ? { ciphers: o.ciphers } : {}) };
  const server = new tls.TLSSocket(b, { isServer: true, secureContext: tls.createSecureContext({ ...cred, ...common, ...(o.dhparam ? { dhparam: o.dhparam } : {}) }) });
  let keylog = '';
  const client = tls.connect({ socket: a, rejectUnauthorized: false, ...common });
  client.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
  const plain: [Buffer[], Buffer[]] = [[], []];
  const serverIn: Buffer[] = [];
  server.on('data', (d: Buffer) => serverIn.push(d));
  const clientIn: Buffer[] = [];
  client.on('data', (d: Buffer) => clientIn.push(d));
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
    server.once('error', reject);
  });
  const exchanges = o.exchanges ?? [[40, 200], [300, 70_000], [5, 11]];
  let seed = 1;
  for (const [q, r] of exchanges) {
    const query = pattern(q, seed++);
    const reply = pattern(r, seed++);
    const want = serverIn.reduce((n, x) => n + x.length, 0) + q;
    client.write(query);
    plain[0].push(query);
    await until(() => serverIn.reduce((n, x) => n + x.length, 0) >= want);
    const wantC = clientIn.reduce((n, x) => n + x.length, 0) + r;
    server.write(reply);
    plain[1].push(reply);
    await until(() => clientIn.reduce((n, x) => n + x.length, 0) >= wantC);
  }
  const protocol = client.getProtocol();
  const cipher = client.getCipher().standardName;
  client.end();
  await until(() => server.readableEnded || server.destroyed, 2000).catch(() => undefined);
  server.end();
  client.destroy();
  server.destroy();
  return { chunks, keylog, plain: [Buffer.concat(plain[0]), Buffer.concat(plain[1])], protocol, cipher };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}

/** What a sink received. */
export class RecordingSink implements PlainSink {
  readonly data: [Buffer[], Buffer[]] = [[], []];
  readonly gaps: { dir: Dir; bytes: number; reason: GapReason }[] = [];
  onData(dir: Dir, buf: Uint8Array, offset: number, length: number): void {
    this.data[dir === 0 ? 0 : 1].push(Buffer.from(buf.subarray(offset, offset + length)));
  }
  onGap(dir: Dir, bytes: number, reason: GapReason): void {
    this.gaps.push({ dir, bytes, reason });
  }
  text(dir: 0 | 1): Buffer {
    return Buffer.concat(this.data[dir]);
  }
}

/**
 * Feeds chunks to a connection, cut into pieces by `cut` (sizes; default whole chunks), through
 * one reused buffer that is scribbled over after each call (catches kept views).
 */
export function feed(conn: TlsConnection, chunks: Chunk[], cut?: (dir: 0 | 1, remaining: number) => number): void {
  const scratch = new Uint8Array(1 << 17);
  for (const c of chunks) {
    let p = 0;
    while (p < c.bytes.length) {
      const n = Math.max(1, Math.min(cut ? cut(c.dir, c.bytes.length - p) : c.bytes.length - p, c.bytes.length - p, scratch.length));
      scratch.set(c.bytes.subarray(p, p + n));
      conn.onData(c.dir as Dir, scratch, 0, n, 1, 0);
      scratch.fill(0xee, 0, n);
      p += n;
    }
  }
}

export function decrypt(s: Session, keylogText = s.keylog): { conn: TlsConnection; sink: RecordingSink; keylog: KeyLog } {
  const keylog = new KeyLog();
  keylog.addText(keylogText);
  const sink = new RecordingSink();
  const conn = new TlsConnection((r) => keylog.lookup(r), sink);
  return { conn, sink, keylog };
}

/** TLS 1.3 record protection, from RFC 8446 §5.2–5.3, for crafted records in tests. */
export function seal13(aead: string, key: Uint8Array, iv: Uint8Array, seq: number, innerType: number, content: Uint8Array): Uint8Array {
  const nonce = Buffer.from(iv);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
  const inner = Buffer.concat([content, Buffer.of(innerType)]);
  const len = inner.length + 16;
  const header = Buffer.of(23, 3, 3, len >> 8, len & 0xff);
  const c = createCipheriv(aead as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(header);
  const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
  return Buffer.concat([header, body]);
}

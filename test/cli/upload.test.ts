/**
 * `periscope upload` against a real local HTTPS server started here, with a self-signed
 * certificate made by openssl for this test and trusted with --ca (or NODE_EXTRA_CA_CERTS). The
 * multipart body is read back with the platform's own form-data parser (undici's Response): the
 * fields and the file arrive whole. A 503 is retried, then succeeds; a 4xx is an error at once;
 * a refused connection is retried, then fails; http:// needs --insecure-http; an untrusted
 * certificate and a modified bundle are refused with a clear message.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bin, periscope, periscopeWith, sample } from './run.js';
import { have, requireLive } from '../live/env.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-upload-'));
after(() => rm(dir, { recursive: true, force: true }));

const openssl = await have('openssl');
if (!openssl && requireLive) throw new Error('openssl is needed for the upload test (apt-get install openssl)');
const opts = { skip: openssl ? false : 'skipped: openssl is not installed (it makes the test server\'s certificate)' };

interface Received {
  fields: Record<string, string>;
  file: { name: string; type: string; bytes: Buffer } | null;
}

/** What the server answers, request by request (the last one repeats). */
let plan: { status: number; body: string; headers?: Record<string, string> }[] = [];
let received: Received[] = [];

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const form = await new Response(Buffer.concat(parts), { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
  const r: Received = { fields: {}, file: null };
  for (const [k, v] of form) {
    if (typeof v === 'string') r.fields[k] = v;
    else r.file = { name: v.name, type: v.type, bytes: Buffer.from(await v.arrayBuffer()) };
  }
  received.push(r);
  const answer = plan.length > 1 ? plan.shift()! : plan[0]!;
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(answer.body);
}

let https: Server;
let http: Server;
let httpsUrl = '';
let httpUrl = '';
const cert = join(dir, 'cert.pem');
const bundle = join(dir, 'b.tar.gz');

before(async () => {
  if (!openssl) return;
  const key = join(dir, 'key.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  const serve = (req: IncomingMessage, res: ServerResponse) => void handle(req, res).catch((e: Error) => res.writeHead(500).end(e.message));
  https = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, serve);
  http = createHttpServer(serve);
  await Promise.all([new Promise<void>((r) => https.listen(0, '127.0.0.1', r)), new Promise<void>((r) => http.listen(0, '127.0.0.1', r))]);
  httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}/upload`;
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/upload`;
  const b = await periscope('bundle', sample, '-o', bundle);
  assert.equal(b.code, 0, b.stderr);
});
after(() => {
  https?.close();
  http?.close();
});

function reset(...answers: typeof plan): void {
  plan = answers;
  received = [];
}

test('upload: the fields and the whole file arrive as multipart/form-data; the answer is printed', opts, async () => {
  reset({ status: 201, body: '{"id":"case-17","stored":true}' });
  const r = await periscope('upload', bundle, '--url', httpsUrl, '--ca', cert, '--field', 'ticket=4711', '--field', 'note=a b=c');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\{"id":"case-17","stored":true\}\nuploaded .*b\.tar\.gz to https:\/\/127\.0\.0\.1:\d+\/upload: 201$/);
  assert.doesNotMatch(r.stderr, /warning/, 'a success is not a warning');
  assert.equal(received.length, 1);
  const got = received[0]!;
  const bytes = await readFile(bundle);
  assert.deepEqual(got.file, { name: 'b.tar.gz', type: 'application/gzip', bytes });
  assert.equal(got.fields.ticket, '4711');
  assert.equal(got.fields.note, 'a b=c');
  assert.equal(got.fields.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.match(got.fields.periscope_version!, /^\d+\.\d+\.\d+/);
});

test('upload: a 503 is tried again after a back-off, then succeeds', opts, async () => {
  reset({ status: 503, body: 'busy, come back later' }, { status: 200, body: 'ok' });
  const r = await periscope('upload', bundle, '--url', httpsUrl, '--ca', cert);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /upload: the server answered 503: busy, come back later; trying again in 1 s \(1 of 5 retries\)/);
  assert.match(r.stdout, /^ok\nuploaded /);
  assert.equal(received.length, 2);
  assert.deepEqual(received[1]!.file!.bytes, await readFile(bundle), 'the retry sends the whole file again');
});

test('upload: a 4xx is an error at once, with the server\'s answer (exit 2)', opts, async () => {
  reset({ status: 413, body: '{"error":"bundle too large for this ticket"}' });
  const r = await periscope('upload', bundle, '--url', httpsUrl, '--ca', cert);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /upload to https:\/\/127\.0\.0\.1:\d+\/upload failed: the server answered 413: \{"error":"bundle too large for this ticket"\} \(not retried/);
  assert.equal(received.length, 1, 'not retried');
});

test('upload: a refused connection is tried again, then fails with the reason (exit 2)', opts, async () => {
  const closed = createHttpServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const r = await periscope('upload', bundle, '--url', `https://127.0.0.1:${port}/`, '--retries', '1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /connect ECONNREFUSED 127\.0\.0\.1:\d+; trying again in 1 s \(1 of 1 retries\)/);
  assert.match(r.stderr, /failed after 2 tries: connect ECONNREFUSED/);
});

test('upload: plain http:// only with --insecure-http; other schemes never', opts, async () => {
  reset({ status: 200, body: 'ok' });
  const refused = await periscope('upload', bundle, '--url', httpUrl);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /plain http:\/\/ would send the bundle unencrypted; use https:\/\/ \(--insecure-http allows/);
  assert.equal(received.length, 0, 'nothing was sent');
  const allowed = await periscope('upload', bundle, '--url', httpUrl, '--insecure-http');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /--insecure-http: sending the bundle unencrypted/);
  assert.equal(received.length, 1);
  const ftp = await periscope('upload', bundle, '--url', 'ftp://127.0.0.1/x');
  assert.equal(ftp.code, 1);
  assert.match(ftp.stderr, /only https:\/\/ URLs are supported/);
  const creds = await periscope('upload', bundle, '--url', 'https://me:secret@127.0.0.1/x');
  assert.equal(creds.code, 1);
});

test('upload: reserved field names and a --ca that is no certificate are refused; the answer cannot drive the terminal', opts, async () => {
  reset({ status: 200, body: 'ok \u001b[31mRED\u001b[0m \u001b]0;pwned\u0007' });
  for (const name of ['sha256', 'bundle', 'periscope_version']) {
    const r = await periscope('upload', bundle, '--url', httpsUrl, '--ca', cert, '--field', `${name}=x`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--field ${name}=…: ${name} is a field Periscope sends itself`));
  }
  const notPem = await periscope('upload', bundle, '--url', httpsUrl, '--ca', bundle);
  assert.equal(notPem.code, 1);
  assert.match(notPem.stderr, /--ca .*b\.tar\.gz: no PEM certificate in it/);
  assert.equal(received.length, 0);
  const r = await periscope('upload', bundle, '--url', httpsUrl, '--ca', cert);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\u001b|\u0007/, 'no control character reaches the terminal');
  assert.match(r.stdout, /^ok \\x1b\[31mRED/);
});

test('upload: an untrusted certificate is refused with the way out; NODE_EXTRA_CA_CERTS trusts it too', opts, async () => {
  reset({ status: 200, body: 'ok' });
  const r = await periscope('upload', bundle, '--url', httpsUrl);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the server's certificate is not trusted \(self[- ]signed certificate\); if it is signed by a private CA, give that CA with --ca FILE/);
  assert.equal(received.length, 0);
  const extra = await periscopeWith({ env: { NODE_EXTRA_CA_CERTS: cert } }, 'upload', bundle, '--url', httpsUrl);
  assert.equal(extra.code, 0, extra.stderr);
  assert.equal(received.length, 1);
});

test('upload: a bundle that is not as Periscope made it is not sent', opts, async () => {
  reset({ status: 200, body: 'ok' });
  const x = join(dir, 'x');
  await mkdir(x, { recursive: true });
  await execa('tar', ['-xzf', bundle, '-C', x]);
  await writeFile(join(x, 'report.txt'), 'edited');
  const edited = join(dir, 'edited.tar.gz');
  await execa('tar', ['-czf', edited, '-C', x, 'report.json', 'report.txt', 'report.html', 'events.jsonl.gz', 'manifest.json']);
  const r = await periscope('upload', edited, '--url', httpsUrl, '--ca', cert);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /report\.txt: modified after the bundle was made/);
  assert.match(r.stderr, /not uploaded: the bundle is not as Periscope made it/);
  assert.equal(received.length, 0);
});

test('upload: a progress bar on a terminal', opts, async (t) => {
  if (!(await have('script'))) {
    t.skip('script (util-linux) is not installed');
    return;
  }
  reset({ status: 200, body: 'ok' });
  // A bundle big enough to draw: the sample's capture included many times is not needed; the bar is drawn at 100% when done.
  const r = await execa('script', ['-q', '-e', '-c', `node ${bin} upload ${bundle} --url ${httpsUrl} --ca ${cert}`, '/dev/null'], { reject: false });
  assert.equal(r.exitCode, 0, String(r.stdout));
  assert.match(String(r.stdout), /\[#+\] 100% /);
  assert.equal(received.length, 1);
});

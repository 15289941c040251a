/**
 * `periscope upload FILE.tar.gz --url URL`: send a bundle, only when asked, as a
 * multipart/form-data POST (form fields, then the file) over HTTPS — plain HTTP only with
 * `--insecure-http`. The bundle is verified first (as `inspect` does). A progress bar on a
 * terminal; on a 5xx answer or a network error, tries again with back-off (Retry-After honoured);
 * a 4xx answer is an error at once. The server's answer is printed.
 *
 * Node's own http/https client: it takes an extra CA (`--ca`, for a server with a private or
 * self-signed certificate) per request, streams the file, and needs no dependency.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Io } from '../io.js';
import { Progress } from '../progress.js';
import { periscopeVersion } from '../../common/version.js';
import { BundleError, readBundle } from './read.js';

export interface UploadOptions {
  file: string;
  url: string;
  /** Form fields sent before the file (`--field name=value`). */
  fields: [string, string][];
  /** PEM file of a CA to trust besides the system's. */
  ca: string | null;
  insecureHttp: boolean;
  /** Tries after the first. */
  retries: number;
  /** Seconds without progress before a try is given up. */
  timeoutSec: number;
  progress: boolean;
  /** First back-off, doubled each try. */
  backoffMs?: number;
}

/** A mistake in the options (exit 1). */
export class UploadUsageError extends Error {}

/** The form field that carries the bundle. */
export const FILE_FIELD = 'bundle';
/** Answers longer than this are cut when shown. */
const MAX_SHOWN = 64 * 1024;

interface Answer {
  status: number;
  body: string;
  retryAfter: number | null;
  location: string | null;
}

/** Checks the options; throws UploadUsageError. */
export function checkUrl(url: string, insecureHttp: boolean): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UploadUsageError(`--url ${url}: not a URL (expected https://host/path)`);
  }
  if (u.protocol === 'http:' && !insecureHttp) throw new UploadUsageError(`--url ${url}: plain http:// would send the bundle unencrypted; use https:// (--insecure-http allows http:// for local testing)`);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UploadUsageError(`--url ${url}: only https:// URLs are supported`);
  if (u.username || u.password) throw new UploadUsageError('--url: credentials in the URL would be shown in process lists; put a token in a --field instead');
  return u;
}

/** The server's text with control characters (terminal escapes) shown as `\xNN`: never interpreted by the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A form-data field name or file name, quoted as RFC 7578 asks (", CR and LF percent-encoded). */
const quoted = (s: string): string => `"${s.replace(/["\r\n]/g, (c) => encodeURIComponent(c))}"`;

export async function runUpload(opts: UploadOptions, io: Io): Promise<number> {
  const url = checkUrl(opts.url, opts.insecureHttp);
  let ca: string[] | undefined;
  if (opts.ca !== null) {
    try {
      const pem = await readFile(opts.ca, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UploadUsageError(`--ca ${opts.ca}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`);
      ca = [...rootCertificates, pem];
    } catch (e) {
      if (e instanceof UploadUsageError) throw e;
      throw new UploadUsageError(`--ca ${opts.ca}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  }
  if (url.protocol === 'http:') io.warn(`--insecure-http: sending the bundle unencrypted to ${url.host}`);

  // Never send what inspect would reject.
  let check;
  try {
    check = await readBundle(opts.file);
  } catch (e) {
    if (e instanceof BundleError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }
  if (check.problems.length > 0) {
    for (const p of check.problems) io.error(`${opts.file}: ${p}`);
    io.error(`${opts.file}: not uploaded: the bundle is not as Periscope made it (periscope inspect ${opts.file} shows what is wrong)`);
    return 2;
  }

  for (const [k] of opts.fields) {
    if (k === 'sha256' || k === 'periscope_version' || k === FILE_FIELD) throw new UploadUsageError(`--field ${k}=…: ${k} is a field Periscope sends itself; choose another name`);
  }
  const boundary = `----periscope-${randomBytes(12).toString('hex')}`;
  const fields: [string, string][] = [['sha256', check.sha256!], ['periscope_version', periscopeVersion()], ...opts.fields];
  const head = Buffer.from(
    fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(k)}\r\n\r\n${v}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(FILE_FIELD)}; filename=${quoted(basename(opts.file))}\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + check.size + tail.length;

  const backoff = opts.backoffMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    const progress = opts.progress ? new Progress(check.size, process.stderr, 'bytes') : null;
    let answer: Answer | null = null;
    let failure: Error | null = null;
    try {
      answer = await post(url, {
        ca,
        timeoutMs: opts.timeoutSec * 1000,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(length), 'user-agent': `periscope/${periscopeVersion()}` },
        body: async function* () {
          yield head;
          for await (const c of createReadStream(opts.file)) {
            progress?.update((c as Buffer).length, 0);
            yield c as Buffer;
          }
          yield tail;
        },
      });
    } catch (e) {
      failure = e as Error;
    } finally {
      progress?.done();
    }
    if (failure !== null && tlsProblem(failure)) {
      const code = (failure as NodeJS.ErrnoException).code ?? '';
      const hint = /HOSTNAME|ALTNAME/.test(code) || /does not match/i.test(failure.message) ? `the certificate is not for ${url.hostname}: use the host name it names in --url` : opts.ca !== null ? `--ca ${opts.ca} is not the CA that signed it` : 'if it is signed by a private CA, give that CA with --ca FILE';
      io.error(`${url.host}: the server's certificate is not trusted (${printable(failure.message)}); ${hint}`);
      return 2;
    }
    if (answer !== null && answer.status < 300) {
      const body = printable(answer.body);
      io.out(body.endsWith('\n') || body === '' ? body : `${body}\n`);
      io.out(`uploaded ${opts.file} to ${url.origin}${url.pathname}: ${answer.status}\n`);
      return 0;
    }
    const what = answer !== null ? `the server answered ${answer.status}${answer.body ? `: ${oneLine(answer.body)}` : ''}` : `${failure!.message}`;
    if (answer !== null && answer.status < 500) {
      const hint = answer.status < 400 ? ` (redirected${answer.location ? ` to ${answer.location}` : ''}: upload to that URL)` : ' (not retried: the request itself was refused)';
      io.error(`upload to ${url.origin}${url.pathname} failed: ${what}${hint}`);
      return 2;
    }
    if (attempt >= opts.retries) {
      io.error(`upload to ${url.origin}${url.pathname} failed after ${attempt + 1} tr${attempt ? 'ies' : 'y'}: ${what}`);
      return 2;
    }
    const wait = Math.min(60_000, answer?.retryAfter !== null && answer?.retryAfter !== undefined ? answer.retryAfter * 1000 : backoff * 2 ** attempt);
    io.warn(`upload: ${what}; trying again in ${(wait / 1000).toFixed(wait < 1000 ? 1 : 0)} s (${attempt + 1} of ${opts.retries} retries)`);
    await sleep(wait);
  }
}

const oneLine = (s: string): string => {
  const t = printable(s.replace(/\s+/g, ' ').trim());
  return t.length > 500 ? `${t.slice(0, 500)}…` : t;
};

function tlsProblem(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|UNABLE_TO_GET_ISSUER/.test(code);
}

/** One POST; resolves with the answer (whatever its status), rejects on a network error. */
function post(url: URL, o: { ca?: string[]; timeoutMs: number; headers: Record<string, string>; body: () => AsyncGenerator<Buffer> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'POST', headers: o.headers, ca: o.ca, timeout: o.timeoutMs });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no progress for ${o.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      let n = 0;
      res.on('data', (d: Buffer) => {
        if (n < MAX_SHOWN) parts.push(d);
        n += d.length;
      });
      res.on('error', reject);
      res.on('end', () => {
        let body = Buffer.concat(parts).toString('utf8');
        if (n > MAX_SHOWN) body = `${body.slice(0, MAX_SHOWN)}\n… (${n} bytes in all)`;
        const ra = Number(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, body, retryAfter: Number.isFinite(ra) && ra >= 0 ? ra : null, location: res.headers.location ?? null });
      });
    });
    // A server that answers before reading everything (413, 401) ends the request early: its answer counts.
    pipeline(o.body(), req).catch(() => undefined);
  });
}

/**
 * How `bundle --schema-from` reaches the server: host and port, or a Unix socket; the user; and a
 * password that never comes from the command line — an option file's [client] section
 * (`--defaults-file`, else ~/.my.cnf), else MYSQL_PWD, else a prompt on the terminal (no echo)
 * when the server refuses the login without one.
 */
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface ServerSpec {
  /** `host`, `host:port`, `[v6]:port`, or a socket path (starts with / or .). */
  server: string | null;
  socket: string | null;
  user: string | null;
  defaultsFile: string | null;
}

export type PasswordSource = 'option file' | 'MYSQL_PWD' | 'prompt' | 'none';

export interface ConnectionSettings {
  host: string | null;
  port: number | null;
  socket: string | null;
  user: string;
  password: string | null;
  passwordFrom: PasswordSource;
  /** The option file read, if any. */
  optionFile: string | null;
  /** How to name the server in messages and the manifest (never the password). */
  label: string;
}

/** A mistake in --schema-from / --defaults-file, found before any work (exit 1). */
export class SchemaUsageError extends Error {}

/** Parse `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function parseServer(s: string): { host: string; port: number | null } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m === null) throw new SchemaUsageError(`--schema-from ${s}: expected HOST, HOST:PORT, [IPv6]:PORT or a socket path`);
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) throw new SchemaUsageError(`--schema-from ${s}: the port must be between 1 and 65535`);
  return { host: m[1]!, port };
}

/**
 * The [client] section of a MySQL option file: `key=value` lines, `#` and `;` comments, values
 * optionally quoted with the escapes \n \t \\ \s; `-` and `_` alike in keys. `!include` lines are not
 * followed.
 */
export function parseOptionFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const sec = /^\[([^\]]*)\]/.exec(line);
    if (sec) {
      section = sec[1]!.trim().toLowerCase();
      continue;
    }
    if (section !== 'client') continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase().replaceAll('_', '-');
    out.set(key, eq < 0 ? '' : optionValue(line.slice(eq + 1).trim()));
  }
  return out;
}

function optionValue(v: string): string {
  const q = v[0];
  if (q === '"' || q === "'") {
    let out = '';
    for (let i = 1; i < v.length; i++) {
      const c = v[i]!;
      if (c === q) return out;
      if (c === '\\' && i + 1 < v.length) {
        const e = v[++i]!;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 's' ? ' ' : e === 'r' ? '\r' : e === 'b' ? '\b' : e;
      } else out += c;
    }
    return out; // no closing quote: the rest as written
  }
  const hash = v.indexOf('#');
  return (hash < 0 ? v : v.slice(0, hash)).trim();
}

async function readOptionFile(path: string, required: boolean): Promise<Map<string, string> | null> {
  try {
    return parseOptionFile(await readFile(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!required && err.code === 'ENOENT') return null;
    throw new SchemaUsageError(`--defaults-file ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/** Connection settings from the options, the option file and the environment (no prompt yet). */
export async function connectionSettings(spec: ServerSpec, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionSettings> {
  const optionFile = spec.defaultsFile ?? join(homedir(), '.my.cnf');
  const file = await readOptionFile(optionFile, spec.defaultsFile !== null);
  const opt = file ?? new Map<string, string>();
  let socket = spec.socket;
  let host: string | null = null;
  let port: number | null = null;
  if (spec.server !== null && (spec.server.startsWith('/') || spec.server.startsWith('.'))) {
    if (socket !== null) throw new SchemaUsageError('--schema-from names a socket and --socket names another: give one');
    socket = spec.server;
  } else if (spec.server !== null) {
    if (socket !== null) throw new SchemaUsageError('--socket and --schema-from HOST: give one (a socket, or a host)');
    ({ host, port } = parseServer(spec.server));
    if (port === null && opt.has('port')) {
      port = Number(opt.get('port'));
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SchemaUsageError(`${optionFile}: port ${opt.get('port')} is not a TCP port`);
    }
    port ??= 3306;
  }
  const user = spec.user ?? opt.get('user') ?? userInfo().username;
  let password: string | null = null;
  let passwordFrom: PasswordSource = 'none';
  if (opt.has('password')) {
    password = opt.get('password')!;
    passwordFrom = 'option file';
  } else if (env.MYSQL_PWD !== undefined) {
    password = env.MYSQL_PWD;
    passwordFrom = 'MYSQL_PWD';
  }
  const label = socket !== null ? socket : host!.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, socket, user, password, passwordFrom, optionFile: file === null ? null : optionFile, label };
}

/** Ask for a password on the terminal without echoing it; null when stdin is not a terminal or on Ctrl-C / Ctrl-D. */
export async function promptPassword(question: string): Promise<string | null> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return null;
  // No echo from the start: raw mode before the question, so nothing typed early is shown.
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  process.stderr.write(question);
  return new Promise((resolve) => {
    let pw = '';
    const done = (v: string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(v);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done(pw);
        if (ch === '\u0003' || ch === '\u0004') return done(null);
        if (ch === '\u007f' || ch === '\b') pw = [...pw].slice(0, -1).join('');
        else pw += ch;
      }
    };
    stdin.on('data', onData);
  });
}

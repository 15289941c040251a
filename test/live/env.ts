/**
 * What the live tests need: real tcpdump (with the right to capture) and a real MariaDB/MySQL
 * server on 127.0.0.1:3306 with a test account. On a laptop without them, live tests skip with a
 * clear message; with PERISCOPE_REQUIRE_LIVE=1 (set by CI) a missing piece is a failure instead.
 *
 * Connection settings (environment): PERISCOPE_MYSQL_HOST (127.0.0.1), PERISCOPE_MYSQL_PORT (3306),
 * PERISCOPE_MYSQL_USER (periscope), PERISCOPE_MYSQL_PASSWORD (periscope),
 * PERISCOPE_MYSQL_DATABASE (periscope_test). `.ci/run` creates that account.
 */
import { execa } from 'execa';
import { createConnection } from 'mysql2/promise';
import { endAndWait } from './workload.js';

export interface MysqlSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function mysqlSettings(host?: string): MysqlSettings {
  const e = process.env;
  return {
    host: host ?? e.PERISCOPE_MYSQL_HOST ?? '127.0.0.1',
    port: Number(e.PERISCOPE_MYSQL_PORT ?? 3306),
    user: e.PERISCOPE_MYSQL_USER ?? 'periscope',
    password: e.PERISCOPE_MYSQL_PASSWORD ?? 'periscope',
    database: e.PERISCOPE_MYSQL_DATABASE ?? 'periscope_test',
  };
}

export const requireLive = process.env.PERISCOPE_REQUIRE_LIVE === '1';

let cached: Promise<string | null> | null = null;

/** null when tcpdump and MariaDB are usable; otherwise why not. */
export function liveUnavailable(): Promise<string | null> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<string | null> {
  try {
    await execa('tcpdump', ['--version']);
  } catch {
    return 'tcpdump is not installed (apt-get install tcpdump)';
  }
  try {
    await execa('tcpdump', ['-i', 'lo', '-d', 'tcp port 3306']);
    // May it capture? It says so before it listens; once it listens, it may (stopped then, not
    // after a fixed wait: this runs once per test file).
    const p = execa('tcpdump', ['-i', 'lo', '-c', '1', '-w', '/dev/null', 'tcp port 1'], { timeout: 10_000, reject: false });
    let said = '';
    p.stderr!.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('listening on')) p.kill('SIGINT');
    });
    const r = await p;
    if (/permission|not permitted/i.test(String(r.stderr))) return 'tcpdump may not capture here (run as root or grant cap_net_raw)';
  } catch (e) {
    return `tcpdump cannot capture on lo: ${(e as Error).message.split('\n')[0]}`;
  }
  const s = mysqlSettings();
  try {
    const c = await createConnection({ ...s, connectTimeout: 3000 });
    await endAndWait(c); // closed both ways: its last packets never land in a capture started next
  } catch (e) {
    return `MariaDB is not reachable at ${s.host}:${s.port} as ${s.user} (${(e as Error).message}); see .ci/run for the setup`;
  }
  return null;
}

/** Options for `test()`: skip with the reason, or fail when live tests are required. */
export async function liveTestOptions(): Promise<{ skip: string | false }> {
  const why = await liveUnavailable();
  if (why === null) return { skip: false };
  if (requireLive) throw new Error(`live tests are required (PERISCOPE_REQUIRE_LIVE=1) but: ${why}`);
  return { skip: `skipped: ${why}` };
}

/** Is a command on PATH? */
export async function have(cmd: string): Promise<boolean> {
  const r = await execa('sh', ['-c', `command -v ${cmd}`], { reject: false });
  return r.exitCode === 0;
}

/** The TLS MariaDB of `.ci/run` (127.0.0.1:3307; PERISCOPE_MYSQL_TLS_PORT): its port, or why it cannot be used. */
export const tlsPort = Number(process.env.PERISCOPE_MYSQL_TLS_PORT ?? 3307);

async function probeTls(): Promise<string | null> {
  const base = await liveUnavailable();
  if (base !== null) return base;
  const s = mysqlSettings();
  try {
    const c = await createConnection({ ...s, port: tlsPort, connectTimeout: 3000, ssl: { rejectUnauthorized: false } });
    await endAndWait(c);
  } catch (e) {
    return `the TLS MariaDB is not reachable at ${s.host}:${tlsPort} with TLS as ${s.user} (${(e as Error).message}); .ci/run starts it`;
  }
  return null;
}

let tlsCached: Promise<string | null> | null = null;

/** Options for the TLS live tests: skip with the reason, or fail when live tests are required. */
export async function tlsLiveTestOptions(): Promise<{ skip: string | false }> {
  tlsCached ??= probeTls();
  const why = await tlsCached;
  if (why === null) return { skip: false };
  if (requireLive) throw new Error(`live tests are required (PERISCOPE_REQUIRE_LIVE=1) but: ${why}`);
  return { skip: `skipped: ${why}` };
}

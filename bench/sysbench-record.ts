/**
 * A real recorded capture for the bench (issue 19): sysbench `oltp_read_write` against the test
 * MariaDB (test/live/env.ts's account) on loopback, 4 threads, 20 s, recorded by real tcpdump on
 * `lo` through capture/tcpdump.ts (the capture command's start, 64 MiB kernel buffer, 2.5 s drain
 * and counters), with the server's own statement counters read before and after, so that the
 * bench can check what Periscope decodes against what the server executed.
 *
 * Run by bench/sysbench.ts as a child process, under `flock /tmp/periscope-live.lock` (tcpdump on
 * lo sees every helper's traffic) unless an ancestor already holds the lock:
 *
 *   node build/bench/sysbench-record.js OUT.pcap
 *
 * writes OUT.pcap (0600) and OUT's sidecar `<OUT without .pcap>.meta.json`. The sbtest tables
 * (4 × 10,000 rows in the test database) are made before and dropped after. The password goes to
 * sysbench in a 0600 config file, never on its command line.
 */
import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection, type Connection } from 'mysql2/promise';
import { findTcpdump, startTcpdump } from '../capture/tcpdump.js';
import { runAs } from '../capture/user.js';
import { liveUnavailable, mysqlSettings } from '../test/live/env.js';

/** Bumped when what is recorded changes: an older sidecar makes the capture be recorded again. */
export const SYSBENCH_META_VERSION = 2;

/** The workload, as the issue measured it. */
export const SYSBENCH_WORKLOAD = { test: 'oltp_read_write', threads: 4, seconds: 20, tables: 4, tableSize: 10_000 } as const;

/** sysbench's own summary ("SQL statistics"). */
export interface SysbenchCounts {
  reads: number;
  writes: number;
  other: number;
  total: number;
  transactions: number;
  ignoredErrors: number;
  reconnects: number;
}

/** The sidecar of a recorded capture. */
export interface SysbenchMeta {
  version: number;
  recordedAt: string;
  workload: typeof SYSBENCH_WORKLOAD;
  sysbench: string;
  server: string;
  tcpdump: string;
  /** The capture's size in bytes (a sidecar whose size differs is not the file's). */
  size: number;
  /** tcpdump's counters at exit. */
  tcpdumpStats: { captured: number; receivedByFilter: number | null; droppedByKernel: number | null };
  counts: SysbenchCounts;
  /**
   * SHOW GLOBAL STATUS after − before, for the counters that change (Com_*, Rows_sent, Questions,
   * …). Besides sysbench's statements they hold the first SHOW GLOBAL STATUS (Com_show_status 1,
   * its `statusRows` rows in Rows_sent) and the second one's connection (Connections 1): no other
   * statement reached the server, if every other user of it respects the lock.
   */
  status: Record<string, number>;
  statusRows: number;
  /** The lines sysbench printed for `run`. */
  sysbenchOutput: string;
}

export function metaPathOf(pcap: string): string {
  return pcap.replace(/\.pcap$/, '') + '.meta.json';
}

/** The sidecar, or null when it is missing, of another version, or does not describe the file. */
export function existingSysbenchCapture(pcap: string): SysbenchMeta | null {
  try {
    const meta = JSON.parse(readFileSync(metaPathOf(pcap), 'utf8')) as SysbenchMeta;
    if (meta.version !== SYSBENCH_META_VERSION || statSync(pcap).size !== meta.size) return null;
    return meta;
  } catch {
    return null;
  }
}

/** sysbench's "SQL statistics" block. */
export function parseSysbenchCounts(out: string): SysbenchCounts {
  const num = (label: string): number => {
    const m = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(out);
    if (!m) throw new Error(`sysbench printed no "${label}" figure:\n${out.slice(-1500)}`);
    return Number(m[1]);
  };
  return { reads: num('read'), writes: num('write'), other: num('other'), total: num('total'), transactions: num('transactions'), ignoredErrors: num('ignored errors'), reconnects: num('reconnects') };
}

/** One connection to the test server (test/live/env.ts's account) for `fn`, closed after. */
export async function withServer<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
  const s = mysqlSettings();
  const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** SHOW GLOBAL STATUS: its numeric counters, and how many rows it sent (they count in Rows_sent). */
const globalStatus = (): Promise<{ values: Map<string, number>; rows: number }> =>
  withServer(async (c) => {
    const [rows] = await c.query('SHOW GLOBAL STATUS');
    const out = new Map<string, number>();
    for (const r of rows as { Variable_name: string; Value: string }[]) {
      if (/^\d+$/.test(r.Value)) out.set(r.Variable_name, Number(r.Value));
    }
    return { values: out, rows: (rows as unknown[]).length };
  });

const serverVersion = (): Promise<string> =>
  withServer(async (c) => {
    const [rows] = await c.query('SELECT VERSION() AS v');
    return String((rows as { v: string }[])[0]!.v);
  });

/** Counters worth keeping: the statement kinds, and a few totals. */
const KEPT = /^(Com_(select|insert|update|delete|begin|commit|rollback|stmt_\w+|show_status)|Questions|Queries|Rows_sent|Connections|Aborted_\w+)$/;

export async function recordSysbench(pcap: string, log: (line: string) => void): Promise<SysbenchMeta> {
  const w = SYSBENCH_WORKLOAD;
  const s = mysqlSettings();
  const dir = mkdtempSync(join(tmpdir(), 'periscope-sysbench-'));
  const cfg = join(dir, 'sysbench.cfg');
  writeFileSync(
    cfg,
    [
      'db-driver=mysql',
      `mysql-host=${s.host}`,
      `mysql-port=${s.port}`,
      `mysql-user=${s.user}`,
      `mysql-password=${s.password}`,
      `mysql-db=${s.database}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // The test's own options on the command line: sysbench 1.0.20 applies only the general ones
  // (the driver's) from --config-file (tables=4 there gave one table).
  const sysbench = (test: string, ...args: string[]) =>
    execa('sysbench', [`--config-file=${cfg}`, test, `--tables=${w.tables}`, `--table-size=${w.tableSize}`, ...args], { reject: false, all: true });
  const must = async (what: string, ...args: [string, ...string[]]): Promise<string> => {
    const r = await sysbench(...args);
    if (r.exitCode !== 0) throw new Error(`sysbench ${what} failed (exit ${r.exitCode}):\n${String(r.all).slice(-2000)}`);
    return String(r.stdout);
  };
  try {
    const version = String((await execa('sysbench', ['--version'])).stdout).trim();
    await sysbench(w.test, 'cleanup'); // leftovers of an interrupted run
    log(`  sysbench ${w.test} prepare: ${w.tables} tables × ${w.tableSize.toLocaleString('en-US')} rows in ${s.database}`);
    await must('prepare', w.test, 'prepare');
    const server = await serverVersion();
    const before = await globalStatus();

    const t = await findTcpdump();
    const filter = `tcp port ${s.port}`;
    rmSync(pcap, { force: true });
    const who = runAs(process.env, process.geteuid?.() ?? null);
    const ctx = { tcpdump: t.path, iface: 'lo', filter, user: who.user, dir: null };
    const tcpdump = await startTcpdump(
      t,
      { iface: 'lo', filter, snaplen: 0, bufferKiB: 65536, maxPackets: null, user: who.user, output: { kind: 'files', files: { template: pcap, first: basename(pcap) }, rotateMillions: null, rotateSeconds: null } },
      ctx,
    );
    log(`  recording: tcpdump on lo (${filter}, -B 64MiB) around sysbench ${w.test} run, ${w.threads} threads, ${w.seconds} s`);
    // tcpdump is stopped (after its drain) whether or not sysbench succeeded.
    const ran = await must('run', w.test, 'run', `--threads=${w.threads}`, `--time=${w.seconds}`, '--report-interval=0').then(
      (text) => ({ text, error: null }),
      (error: unknown) => ({ text: '', error }),
    );
    const exit = await tcpdump.stop();
    if (ran.error !== null) throw ran.error;
    const out = ran.text;
    const after = await globalStatus();
    if (exit.stats === null) throw new Error(`tcpdump printed no counters at exit: ${exit.messages.join(' | ')}`);
    chmodSync(pcap, 0o600);
    const status: Record<string, number> = {};
    for (const [k, v] of after.values) {
      const d = v - (before.values.get(k) ?? 0);
      if (KEPT.test(k) && d !== 0) status[k] = d;
    }
    const meta: SysbenchMeta = {
      version: SYSBENCH_META_VERSION,
      recordedAt: new Date().toISOString(),
      workload: w,
      sysbench: version,
      server,
      tcpdump: t.version,
      size: statSync(pcap).size,
      tcpdumpStats: { captured: exit.stats.captured, receivedByFilter: exit.stats.receivedByFilter, droppedByKernel: exit.stats.droppedByKernel },
      counts: parseSysbenchCounts(out),
      status,
      statusRows: before.rows,
      sysbenchOutput: out.trim(),
    };
    writeFileSync(metaPathOf(pcap), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    return meta;
  } finally {
    // The sbtest tables go whatever happened (a failed run leaves none behind).
    await sysbench(w.test, 'cleanup');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out || !out.endsWith('.pcap')) {
    console.error('usage: node build/bench/sysbench-record.js OUT.pcap');
    process.exitCode = 2;
  } else {
    // Probed here, under the lock: a connection to the server is traffic other helpers' captures would see.
    const why = await liveUnavailable();
    if (why !== null) {
      console.log(`  cannot record: ${why}`);
      process.exit(3);
    }
    try {
      const m = await recordSysbench(out, (l) => console.log(l));
      console.log(`  recorded ${out}: ${(m.size / 1e6).toFixed(1)} MB, tcpdump captured ${m.tcpdumpStats.captured.toLocaleString('en-US')} packets, kernel drops ${m.tcpdumpStats.droppedByKernel ?? '?'}; sysbench: ${m.counts.transactions.toLocaleString('en-US')} transactions, ${m.counts.total.toLocaleString('en-US')} queries`);
    } catch (e) {
      console.error(`sysbench recording failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
}

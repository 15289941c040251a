/**
 * The one CLI entry: wires the subcommands (loaded on demand, so `capture` never pulls in the
 * analyzer) and is the only place that exits the process.
 */
import { resolve } from 'node:path';
import { isSea } from 'node:sea';
import { isMainThread, workerData } from 'node:worker_threads';
import yargs from './yargs.cjs';
import { processIo } from '../analyze/io.js';
import { versionLine } from '../common/version.js';
import { bundleCommands } from './bundle.js';
import { filterOptions, filterSettings, strings, userFilterOption } from './filter-options.js';
import { keylogOption, keylogSetting } from './tls-options.js';

/** A mistake in the command line: exit 1 with the message, before any work. */
class UsageError extends Error {}

/** Exit codes. */
export const enum Exit {
  Ok = 0,
  Usage = 1,
  BadInput = 2,
  Internal = 70,
}

function ports(v: unknown): number[] {
  const list = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(','));
  return list.map((s) => {
    const p = Number(s);
    // A value that is not a number is not echoed: `-p secret`, typed as for the mysql client, is a password.
    if (!/^\d+$/.test(s.trim())) throw new UsageError("--port (-p) takes a TCP port number, and this is not one; if it was a password: Periscope never takes one on the command line (MYSQL_PWD, an option file or the prompt)");
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UsageError(`--port ${s}: expected a TCP port number between 1 and 65535`);
    return p;
  });
}

/** TCP reassembly limits, shared by every command that reassembles streams. */
const tcpOptions = {
  'reorder-window': { describe: 'packets to wait for a hole to fill before its bytes count as lost', type: 'number', default: 8, group: 'TCP reassembly:' },
  'max-buffer-per-connection': { describe: 'MiB of out-of-order data held per connection', type: 'number', default: 4, group: 'TCP reassembly:' },
  'max-buffer-total': { describe: 'MiB of out-of-order data held in total', type: 'number', default: 256, group: 'TCP reassembly:' },
  'idle-timeout': { describe: 'capture seconds before a silent connection is closed', type: 'number', default: 900, group: 'TCP reassembly:' },
  'max-connections': { describe: 'connections tracked at once (oldest closed beyond)', type: 'number', default: 500000, group: 'TCP reassembly:' },
  'memory-budget': { describe: 'MiB for reassembly and connection state: beyond --max-buffer-total, 2 KiB per tracked connection; past it the least recently active connections are closed first, and the report says how many', type: 'number', default: 1024, group: 'TCP reassembly:' },
} as const;

/**
 * `--name VALUE:` for an error about a numeric option. yargs turns `--threads abc` into NaN, and
 * an error that says 'NaN' does not say what was wrong: such a value is shown as typed (only the
 * entry reads argv).
 */
function shown(name: string, v: number): string {
  if (!Number.isNaN(v)) return `--${name} ${v}:`;
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith(`--${name}=`)) return `--${name} ${a.slice(name.length + 3)}: not a number;`;
    if (a === `--${name}` && i + 1 < argv.length) return `--${name} ${argv[i + 1]!}: not a number;`;
  }
  return `--${name} is not a number:`;
}

function tcpSettings(a: { reorderWindow: number; maxBufferPerConnection: number; maxBufferTotal: number; idleTimeout: number; maxConnections: number; memoryBudget: number }) {
  const positive = (name: string, v: number, integer: boolean): number => {
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new UsageError(`${shown(name, v)} expected a positive ${integer ? 'whole ' : ''}number`);
    return v;
  };
  return {
    reorderWindow: positive('reorder-window', a.reorderWindow, true),
    maxBufferPerConnection: Math.round(positive('max-buffer-per-connection', a.maxBufferPerConnection, false) * 1024 * 1024),
    maxBufferTotal: Math.round(positive('max-buffer-total', a.maxBufferTotal, false) * 1024 * 1024),
    idleTimeoutSec: positive('idle-timeout', a.idleTimeout, false),
    maxConnections: positive('max-connections', a.maxConnections, true),
    memoryBudget: Math.round(positive('memory-budget', a.memoryBudget, false) * 1024 * 1024),
  };
}

/** How events are written as Parquet (events --format parquet, analyze and live --events-parquet). */
const parquetOptions = {
  'host-label': { describe: 'the host=NAME partition of the Parquet files (default: the host in the capture\'s manifest, else each event\'s server address)', type: 'string', requiresArg: true, group: 'Parquet:' },
  sql: { describe: 'write the redacted SQL into the Parquet files (--no-sql: digests only)', type: 'boolean', default: true, group: 'Parquet:' },
} as const;

/**
 * The Parquet output, or null when none was asked (`dir` null); --host-label and --no-sql
 * without it are mistakes (`needs` names the option that asks for Parquet).
 */
function parquetSettings(a: { hostLabel?: string; sql: boolean; redact: boolean }, dir: string | null, needs: string): { dir: string; hostLabel: string | null; sql: 'redacted' | 'raw' | 'none' } | null {
  if (dir === null) {
    if (a.hostLabel !== undefined) throw new UsageError(`--host-label names the Parquet partition: it goes with ${needs}`);
    if (!a.sql) throw new UsageError(`--no-sql leaves SQL out of the Parquet files: it goes with ${needs}`);
    return null;
  }
  if (a.hostLabel !== undefined) {
    const bad = /[^A-Za-z0-9._-]/.test(a.hostLabel) || a.hostLabel === '' || a.hostLabel === '.' || a.hostLabel === '..';
    if (bad) throw new UsageError(`--host-label ${JSON.stringify(a.hostLabel)}: use letters, digits, '.', '_' and '-' only (it names a directory, host=NAME)`);
  }
  return { dir, hostLabel: a.hostLabel ?? null, sql: !a.sql ? 'none' : a.redact ? 'redacted' : 'raw' };
}

/** Report output options, shared by analyze and merge. */
const reportOptions = {
  format: { alias: 'f', describe: 'text (fits 100 columns), json (docs/report-json.md), html (one self-contained page), slowlog (MySQL slow query log; analyze only); default: from the -o name (.html, .json; .txt or none: text; other names need --format)', choices: ['text', 'json', 'html', 'slowlog'], type: 'string', group: 'Report:' },
  output: { alias: 'o', describe: 'write to FILE instead of stdout', type: 'string', requiresArg: true, group: 'Report:' },
  'order-by': { describe: 'rank fingerprints by (time, avg, p95, p99, max: of the full response time, request to the last byte of the answer)', choices: ['time', 'count', 'avg', 'p95', 'p99', 'max', 'errors', 'rows'], default: 'time', group: 'Report:' },
  limit: { describe: 'fingerprints detailed in the text report (json and html have all)', type: 'number', default: 20, group: 'Report:' },
} as const;

/**
 * The format asked for, or the one the output file's name says (`-o report.html`, `.json`, `.txt`
 * or no extension: text). Any other name is refused: `-o report.pdf` or `-o slow.log` would
 * otherwise get a text report the name does not promise.
 */
function formatOf(format: string | undefined, output: string | undefined, slowlog = true): string {
  if (format !== undefined) return format;
  const base = (output ?? '').split(/[\\/]/).pop()!;
  const ext = /\.([^.]+)$/.exec(base)?.[1]?.toLowerCase();
  if (ext === undefined || ext === 'txt' || ext === 'text') return 'text';
  if (ext === 'json') return 'json';
  if (ext === 'html' || ext === 'htm') return 'html';
  const hint = ext === 'log' && slowlog ? '; for a slow log, --format slowlog' : '';
  throw new UsageError(`--output ${output}: the format cannot be told from '.${ext}' (text for .txt or no extension, json for .json, html for .html): give --format${hint}`);
}

function renderSettings(a: { format?: string; output?: string; orderBy: string; limit: number }) {
  if (!Number.isInteger(a.limit) || a.limit < 1) throw new UsageError(`${shown('limit', a.limit)} expected a whole number of at least 1`);
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && a.output === undefined;
  return { format: formatOf(a.format, a.output) as 'text' | 'json' | 'html' | 'slowlog', output: a.output ?? null, order: a.orderBy as 'time', limit: a.limit, color };
}

function threadCount(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 64) throw new UsageError(`${shown('threads', v)} expected a whole number from 1 to 64, or 0 for one per core`);
  return v;
}

/** `work()`, with the commands' own usage errors (of these classes) made the entry's: exit 1, no stack. */
async function usageErrors<T>(work: () => T | Promise<T>, ...kinds: (new (message: string) => Error)[]): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (kinds.some((k) => e instanceof k)) throw new UsageError((e as Error).message);
    throw e;
  }
}

/** Options that may be given more than once (their values are lists). */
const LISTS = new Set(['_', 'files', 'inputs', 'summaries', 'captures', 'port', 'p', 'user', 'db', 'client', 'server', 'host', 'field', 'keylog']);

/** Every other option given twice is a mistake (`-f json -f html`), not a list to guess from. */
function singleValues(argv: Record<string, unknown>): true {
  for (const [key, v] of Object.entries(argv)) {
    if (!Array.isArray(v) || LISTS.has(key) || key.length === 1 || /[A-Z]/.test(key)) continue;
    throw new UsageError(`--${key} was given more than once (${v.map(String).join(', ')}): give it once`);
  }
  return true;
}

/** yargs's messages, said the way the rest of Periscope says things. */
function usageMessage(msg: string, command: string | undefined): string {
  let m = /^Did you mean (\S+)\?$/.exec(msg);
  if (m) return `unknown command${command === undefined ? '' : ` '${command}'`} (did you mean ${m[1]}?)`;
  if (/^Not enough non-option arguments/.test(msg)) return command === 'diff' ? 'diff compares two inputs: name BEFORE and AFTER (captures, summaries or bundles)' : 'name at least one file or directory to read';
  m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (m) {
    const all = m[1]!.split(', ');
    // `--rotate-size -5MB`: a value that starts with '-' reads as options (5, M, B).
    if (all.every((n) => n.length === 1)) return `unknown options ${all.map((n) => `-${n}`).join(', ')}: a value that starts with '-' is read as options (sizes, counts and durations are positive)`;
    const names = all.filter((n) => !/[a-z][A-Z]/.test(n)); // yargs names an unknown --dashed-option twice, the second time camelCased
    const shown = (names.length ? names : all).map((n) => (n.length > 1 && !n.includes('/') && !n.includes('.') ? `--${n}` : n));
    return `unknown ${shown.length === 1 ? 'option or argument' : 'options or arguments'}: ${shown.join(', ')}`;
  }
  m = /^Not enough arguments following: (.*)$/.exec(msg);
  if (m) return `--${m[1]} needs a value`;
  return msg;
}

async function main(argv: string[]): Promise<number> {
  let code: number = Exit.Ok;
  await yargs(argv)
    .scriptName('periscope')
    .usage('$0 <command> [options]\n\nSee every query an application sends to MySQL/MariaDB, from packet captures.')
    .command(
      'info <files..>',
      'Describe captures: format, link types, packets, time range, what was skipped, TCP connections, MySQL servers, TLS connections (and whether --keylog decrypts them)',
      (y) =>
        y
          .positional('files', { describe: 'pcap/pcapng files (optionally .gz) or directories of them; several are read as one capture in timestamp order', type: 'string', array: true, demandOption: true, default: undefined })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat the option or give a comma-separated list; 3306 is always included)', type: 'string' })
          .option('json', { describe: 'print the report as JSON', type: 'boolean', default: false })
          .option('all-connections', { describe: 'list every TCP connection (by default the first 10,000 are listed, the others counted: a flood stays small)', type: 'boolean', default: false })
          .options(keylogOption)
          .options(tcpOptions)
          .example('$0 info samples/mariadb-basic.pcap', 'describe the bundled sample')
          .example('$0 info /var/tmp/cap/ --port 3307', 'all files of a rotated capture, with a server on 3307')
          .example('$0 info samples/mariadb-tls13.pcap --keylog samples/mariadb-tls13.keys', 'which TLS connections the key log decrypts, and why not the others'),
      async (a) => {
        const { runInfo } = await import('../analyze/info/command.js');
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        code = await usageErrors(() => runInfo({ files: a.files as string[], ports: ports(a.port), json: a.json, tcp: tcpSettings(a), allConnections: a.allConnections, keylog: keylogSetting(a) }, processIo), KeyLogError);
      },
    )
    .command(
      'events <files..>',
      'Decode the MySQL protocol: one JSON line per client command (and per login), in capture order',
      (y) =>
        y
          .positional('files', { describe: 'pcap/pcapng files (optionally .gz) or directories of them', type: 'string', array: true, demandOption: true, default: undefined })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat or comma-separate; 3306 is always included)', type: 'string' })
          .option('redact', { describe: 'replace literals in SQL and error messages with ? and omit parameters (--no-redact prints them as captured)', type: 'boolean', default: true })
          .option('format', { alias: 'f', describe: 'json: one JSON line per event on stdout; parquet: Parquet files under -o DIR, in dt=YYYY-MM-DD/host=NAME/ partitions (docs/parquet.md)', choices: ['json', 'parquet'], default: 'json', type: 'string', group: 'Parquet:' })
          .option('output', { alias: 'o', describe: 'with --format parquet: the directory to write into (made 0700 if missing; files 0600)', type: 'string', requiresArg: true, group: 'Parquet:' })
          .options(parquetOptions)
          .options({ ...filterOptions, ...userFilterOption })
          .options(keylogOption)
          .options(tcpOptions)
          .example('$0 events samples/mariadb-basic.pcap', 'every command of the sample, redacted')
          .example('$0 events samples/mariadb-tls13.pcap --keylog samples/mariadb-tls13.keys', 'a TLS capture, decrypted with the key log its client wrote')
          .example("$0 events cap.pcap --since '2026-11-21 05:00' --min-latency 100ms", 'the slow commands from 05:00 on')
          .example("$0 events cap.pcap | jq 'select(.status == \"error\")'", 'only failed commands')
          .example('$0 events /var/tmp/cap -f parquet -o fleet/ --host-label db1', 'Parquet for DuckDB, ClickHouse, Spark: fleet/dt=…/host=db1/part-0.parquet'),
      async (a) => {
        const { runEvents, EventsUsageError } = await import('../analyze/events/command.js');
        const { FilterError } = await import('../analyze/run/filters.js');
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        if (a.format === 'parquet' && a.output === undefined) throw new UsageError('--format parquet writes files: give the directory with -o DIR');
        if (a.format !== 'parquet' && a.output !== undefined) throw new UsageError('-o DIR goes with --format parquet (JSON lines go to stdout: redirect them)');
        const parquet = a.format === 'parquet' ? parquetSettings(a, a.output!, '--format parquet') : (parquetSettings(a, null, '--format parquet') ?? undefined);
        code = await usageErrors(() => runEvents({ files: a.files as string[], ports: ports(a.port), redact: a.redact, tcp: tcpSettings(a), filters: filterSettings(a, true), parquet: parquet ?? undefined, keylog: keylogSetting(a) }, processIo), FilterError, EventsUsageError, KeyLogError);
      },
    )
    .command(
      'trace <files..>',
      'The MySQL protocol flow, stage by stage: one line per protocol event per connection',
      (y) =>
        y
          .positional('files', { describe: 'pcap/pcapng files (optionally .gz) or directories of them', type: 'string', array: true, demandOption: true, default: undefined })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat or comma-separate; 3306 is always included)', type: 'string' })
          .option('conn', { describe: "only this connection: the #N of the trace lines, or id:N for the server's connection id (its greeting's, CONNECTION_ID(), conn_id in events)", type: 'string', requiresArg: true })
          .option('since', { describe: 'only lines from this time on (ISO 8601; UTC unless a zone is given)', type: 'string', requiresArg: true })
          .option('until', { describe: 'only lines before this time', type: 'string', requiresArg: true })
          .option('limit', { describe: 'at most N lines (reading stops there)', type: 'number', requiresArg: true })
          .option('hex', { describe: 'add a hex dump of each packet (needs --no-redact: raw bytes hold values)', type: 'boolean', default: false })
          .option('redact', { describe: 'replace literals in SQL and messages with ? (--no-redact shows them)', type: 'boolean', default: true })
          .options(keylogOption)
          .options(tcpOptions)
          .example('$0 trace samples/mariadb-basic.pcap --conn 1', 'the first connection of the sample')
          .example("$0 trace cap.pcap --conn id:4711 --since '2026-11-21 05:00' --limit 200", 'the server\'s connection 4711 from 05:00, 200 lines'),
      async (a) => {
        const { runTrace } = await import('../analyze/trace/command.js');
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        const { parseTime, FilterError } = await import('../analyze/run/filters.js');
        const conn = a.conn === undefined ? null : /^#?(\d+)$/.exec(a.conn);
        const connId = a.conn === undefined ? null : /^id[:=](\d+)$/i.exec(a.conn);
        if (a.conn !== undefined && conn === null && connId === null) throw new UsageError(`--conn ${a.conn}: expected a connection number (#N of the trace lines) or id:N (the server's connection id)`);
        if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1)) throw new UsageError(`--limit ${Number.isNaN(a.limit) ? 'is not a number' : a.limit}: expected a whole number of at least 1`);
        const time = (opt: string, v: string | undefined) => (v === undefined ? null : usageErrors(() => parseTime(opt, v), FilterError));
        const since = await time('since', a.since);
        const until = await time('until', a.until);
        code = await usageErrors(() => runTrace({ files: a.files as string[], ports: ports(a.port), redact: a.redact, hex: a.hex, conn: conn ? Number(conn[1]) : null, connId: connId ? Number(connId[1]) : null, since, until, limit: a.limit ?? null, tcp: tcpSettings(a), keylog: keylogSetting(a) }, processIo), KeyLogError);
      },
    )
    .command(
      'analyze <files..>',
      'The query report: per fingerprint, latency percentiles (full response time, split into first byte and transfer), rows, errors; per table; connections (logins, lifetime, idle, prepared statements) by user and client; overall figures and the capture\'s health',
      (y) =>
        y
          .positional('files', { describe: 'pcap/pcapng files (optionally .gz) or directories of them (rotated files continue connections), or bundles (.tar.gz made by periscope bundle: verified, then read from their redacted events)', type: 'string', array: true, demandOption: true, default: undefined })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat or comma-separate; 3306 is always included)', type: 'string' })
          .options(reportOptions)
          .option('save-summary', { describe: 'also write a mergeable summary (histograms and counts, no events) to FILE (.gz to compress)', type: 'string', requiresArg: true })
          .option('redact', { describe: 'replace literals in examples and messages with ? (--no-redact shows them as captured)', type: 'boolean', default: true })
          .option('quiet', { alias: 'q', describe: 'no progress line on stderr', type: 'boolean', default: false })
          .option('threads', { describe: 'threads sharing the connections: the main one reads the captures once and hands N - 1 workers their packets (0: one per core, up to 4); the slow log always uses one', type: 'number', default: 1 })
          .option('progress', { describe: 'progress on stderr even when it is not a terminal (a line every 2 s)', type: 'boolean', default: false })
          .option('events-parquet', { describe: 'also write every event the report counts as Parquet files under DIR, in dt=YYYY-MM-DD/host=NAME/ partitions (docs/parquet.md)', type: 'string', requiresArg: true, group: 'Parquet:' })
          .options(parquetOptions)
          .options({ ...filterOptions, ...userFilterOption })
          .options(keylogOption)
          .options(tcpOptions)
          .example('$0 analyze samples/mariadb-basic.pcap', 'the report of the bundled sample')
          .example('$0 analyze cap.pcap --keylog /secure/keys.log', 'TLS connections decrypted with the key log the clients wrote')
          .example('$0 analyze /var/tmp/cap/ --format html -o report.html', 'a rotated capture as an HTML page')
          .example('$0 analyze cap.pcap --format slowlog -o slow.log && pt-query-digest slow.log', 'feed the capture to tools that read slow logs')
          .example('$0 analyze host1/ --save-summary h1.json; $0 merge h1.json h2.json', 'one report over several hosts')
          .example('$0 analyze ticket-4711.tar.gz --order-by p99', 'the report of a bundle someone sent, re-ranked'),
      async (a) => {
        const { runAnalyze, AnalyzeUsageError } = await import('../analyze/run/command.js');
        const o = renderSettings(a);
        const settings = {
          ...o,
          files: a.files as string[],
          ports: ports(a.port),
          tcp: tcpSettings(a),
          redact: a.redact,
          saveSummary: a.saveSummary ?? null,
          threads: threadCount(a.threads),
          progress: !a.quiet && (a.progress || process.stderr.isTTY === true),
          filters: filterSettings(a, true),
          keylog: keylogSetting(a),
          eventsParquet: parquetSettings(a, a.eventsParquet ?? null, '--events-parquet DIR'),
        };
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        code = await usageErrors(() => runAnalyze(settings, processIo), AnalyzeUsageError, KeyLogError);
      },
    )
    .command(
      'advise <inputs..>',
      'What to change, and why: findings from the server\'s flags, the statements, transactions, the workload and (with --schema-from) the schema, ranked by the time at stake, with the exact DDL (docs/advise.md)',
      (y) =>
        y
          .positional('inputs', { describe: 'pcap/pcapng files (optionally .gz) or directories of them; or one bundle (.tar.gz: its report and schema)', type: 'string', array: true, demandOption: true, default: undefined })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat or comma-separate; 3306 is always included)', type: 'string' })
          .option('format', { alias: 'f', describe: 'text (fits 100 columns), json, html (one self-contained page); default: from the -o name (.html, .json), else text', choices: ['text', 'json', 'html'], type: 'string', group: 'Output:' })
          .option('output', { alias: 'o', describe: 'write to FILE (mode 0600) instead of stdout', type: 'string', requiresArg: true, group: 'Output:' })
          .option('quiet', { alias: 'q', describe: 'no progress line on stderr', type: 'boolean', default: false })
          .option('progress', { describe: 'progress on stderr even when it is not a terminal', type: 'boolean', default: false })
          .option('schema-from', { describe: 'collect the schema of the tables the queries touch from this server (HOST, HOST:PORT, [IPv6]:PORT, or a socket path), for index and key advice', type: 'string', requiresArg: true, group: 'Schema:' })
          .option('socket', { describe: 'the server\'s Unix socket (instead of a host in --schema-from)', type: 'string', requiresArg: true, group: 'Schema:' })
          .option('schema-user', { describe: 'MySQL user for --schema-from (default: the option file\'s, else your login name); --user is the filter, as for analyze', type: 'string', requiresArg: true, group: 'Schema:' })
          .option('defaults-file', { describe: 'MySQL option file whose [client] section gives user, password, port (default: ~/.my.cnf). The password is never an option: this file, MYSQL_PWD, or a prompt', type: 'string', requiresArg: true, group: 'Schema:' })
          .option('schema', { describe: 'read the schema from FILE instead: a bundle\'s schema/tables.json', type: 'string', requiresArg: true, group: 'Schema:' })
          .options(keylogOption)
          .option('password', { type: 'string', hidden: true })
          .option('unindexed-share', { describe: 'IDX.001: share of a fingerprint\'s executions flagged no index / no good index used', type: 'number', default: 0.5, group: 'Thresholds:' })
          .option('in-list-max', { describe: 'ARG.005: values in an IN list', type: 'number', default: 100, group: 'Thresholds:' })
          .option('offset-min', { describe: 'CLA.003: LIMIT offset', type: 'number', default: 1000, group: 'Thresholds:' })
          .option('n-plus-one-loop', { describe: 'WKL.001: statements per loop, on average', type: 'number', default: 3, group: 'Thresholds:' })
          .option('executes-per-prepare', { describe: 'WKL.002: executes per prepare, at most', type: 'number', default: 1.5, group: 'Thresholds:' })
          .option('prepare-min', { describe: 'WKL.002: prepares of a fingerprint, at least', type: 'number', default: 10, group: 'Thresholds:' })
          .option('commands-per-connection', { describe: 'WKL.003: commands a short connection runs, at most (login to quit)', type: 'number', default: 5, group: 'Thresholds:' })
          .option('short-connections', { describe: 'WKL.003: short connections, at least (and half of those seen whole)', type: 'number', default: 10, group: 'Thresholds:' })
          .option('idle-in-transaction', { describe: 'WKL.004: a wait between two statements of a transaction (250ms, 1s; a bare number is ms)', type: 'string', default: '1s', group: 'Thresholds:' })
          .option('long-transaction', { describe: 'WKL.005: a transaction\'s duration', type: 'string', default: '5s', group: 'Thresholds:' })
          .option('chatter-share', { describe: 'WKL.007: session statements per query', type: 'number', default: 0.2, group: 'Thresholds:' })
          .option('chatter-min', { describe: 'WKL.007: session statements, at least', type: 'number', default: 10, group: 'Thresholds:' })
          .options({ ...filterOptions, ...userFilterOption })
          .options(tcpOptions)
          .example('$0 advise cap.pcap', 'findings from the capture alone')
          .example('MYSQL_PWD=… $0 advise /var/tmp/cap/ --schema-from db1:3306 --schema-user periscope_ro', 'with index and key advice from the schema')
          .example('$0 advise ticket-4711.tar.gz --format html -o advice.html', 'on a bundle someone sent'),
      async (a) => {
        if (a.password !== undefined) throw new UsageError('--password: a password is never taken on the command line (other users see it in the process list); use MYSQL_PWD, an option file (--defaults-file, ~/.my.cnf), or answer the prompt');
        const { runAdvise, AdviseUsageError } = await import('../analyze/advise/command.js');
        const { parseDuration, FilterError } = await import('../analyze/run/filters.js');
        const positive = (name: string, v: number): number => {
          if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} ${Number.isNaN(v) ? 'is not a number' : v}: expected a positive number`);
          return v;
        };
        const share = (name: string, v: number): number => {
          if (!(v > 0 && v <= 1)) throw new UsageError(`--${name} ${Number.isNaN(v) ? 'is not a number' : v}: expected a share above 0, at most 1`);
          return v;
        };
        const schemaWanted = a.schemaFrom !== undefined || a.socket !== undefined;
        if (!schemaWanted && (a.schemaUser !== undefined || a.defaultsFile !== undefined)) throw new UsageError('--schema-user and --defaults-file are for --schema-from (or --socket): name the server to collect the schema from');
        const settings = await usageErrors(
          () => ({
            inputs: a.inputs as string[],
            ports: ports(a.port),
            tcp: tcpSettings(a),
            filters: filterSettings(a, true),
            schemaFrom: schemaWanted ? { server: a.schemaFrom ?? null, socket: a.socket ?? null, user: a.schemaUser ?? null, defaultsFile: a.defaultsFile ?? null } : null,
            schemaFile: a.schema ?? null,
            format: formatOf(a.format, a.output) as 'text' | 'json' | 'html',
            output: a.output ?? null,
            progress: !a.quiet && (a.progress || process.stderr.isTTY === true),
            keylog: keylogSetting(a),
            thresholds: {
              noIndexShare: share('unindexed-share', a.unindexedShare),
              inListMax: positive('in-list-max', a.inListMax),
              offsetMin: positive('offset-min', a.offsetMin),
              nPlusOneLoop: positive('n-plus-one-loop', a.nPlusOneLoop),
              executesPerPrepare: positive('executes-per-prepare', a.executesPerPrepare),
              prepareMin: positive('prepare-min', a.prepareMin),
              commandsPerLogin: positive('commands-per-connection', a.commandsPerConnection),
              loginMin: positive('short-connections', a.shortConnections),
              idleInTransactionUs: parseDuration('idle-in-transaction', a.idleInTransaction),
              longTransactionUs: parseDuration('long-transaction', a.longTransaction),
              chatterShare: positive('chatter-share', a.chatterShare),
              chatterMin: positive('chatter-min', a.chatterMin),
            },
          }),
          FilterError,
        );
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        code = await usageErrors(() => runAdvise(settings, processIo), AdviseUsageError, KeyLogError);
      },
    )
    .command(
      'merge <summaries..>',
      'One report from summaries saved by analyze --save-summary (several hosts or days), as if analysed together',
      (y) =>
        y
          .positional('summaries', { describe: 'summary files written by analyze --save-summary, or bundles (.tar.gz made by periscope bundle); the same traffic twice (a copy, a summary and a bundle of one capture) is refused', type: 'string', array: true, demandOption: true, default: undefined })
          .options({ ...reportOptions, format: { ...reportOptions.format, describe: 'text (fits 100 columns), json (docs/report-json.md), html (one self-contained page); default: from the -o name (.html, .json; .txt or none: text; other names need --format); a slow log needs the captures (analyze)', choices: ['text', 'json', 'html'] } })
          .example('$0 merge monday.json.gz tuesday.json.gz --format html -o week.html', 'a week in one report'),
      async (a) => {
        const { runMerge, AnalyzeUsageError } = await import('../analyze/run/command.js');
        code = await usageErrors(() => runMerge({ ...renderSettings(a), summaries: a.summaries as string[] }, processIo), AnalyzeUsageError);
      },
    )
    .command(
      'diff <before> <after>',
      'Before/after: per fingerprint new, gone, calls and latency (p50/p95/p99) changes, tested for significance, ranked by impact',
      (y) =>
        y
          .positional('before', { describe: 'a capture (file or directory), a summary (analyze --save-summary) or a bundle', type: 'string', demandOption: true })
          .positional('after', { describe: 'the same kinds, after the change', type: 'string', demandOption: true })
          .option('port', { alias: 'p', describe: 'extra MySQL server port for captures (repeat or comma-separate; 3306 is always included)', type: 'string' })
          .options({
            format: { ...reportOptions.format, describe: 'text (fits 100 columns), json (every fingerprint and test), html (one self-contained page); default: from the -o name (.html, .json), else text', choices: ['text', 'json', 'html'] },
            output: reportOptions.output,
            limit: { describe: 'fingerprints shown in the text diff (json and html have all)', type: 'number', default: 20, group: 'Report:' },
            all: { describe: 'the text diff also lists fingerprints without a significant change', type: 'boolean', default: false, group: 'Report:' },
            alpha: { describe: 'significance level, over all the fingerprints tested (Holm)', type: 'number', default: 0.01, group: 'Test:' },
            'min-change': { describe: 'smallest relative change called a change (0.1: p50 or p95, or the call rate, moved by 10 %)', type: 'number', default: 0.1, group: 'Test:' },
          })
          .options(keylogOption)
          .options(tcpOptions)
          .example('$0 diff monday.json.gz tuesday.json.gz', 'what changed with the deploy')
          .example('$0 diff before.pcap after/ -o diff.html', 'as a page'),
      async (a) => {
        const { runDiff, DiffUsageError } = await import('../analyze/diff/command.js');
        const { KeyLogError } = await import('../analyze/read/keylog.js');
        const o = renderSettings({ ...a, orderBy: 'time' });
        if (o.format === 'slowlog') throw new UsageError('diff writes text, json or html');
        code = await usageErrors(
          () => runDiff({ before: a.before as string, after: a.after as string, ports: ports(a.port), tcp: tcpSettings(a), format: o.format as 'text', output: o.output, limit: o.limit, all: a.all, alpha: a.alpha, minChange: a.minChange, minCalls: 5, keylog: keylogSetting(a) }, processIo),
          DiffUsageError,
          KeyLogError,
        );
      },
    )
    .command(bundleCommands({ usage: (m) => new UsageError(m), done: (c) => (code = c), ports, tcpOptions, tcpSettings }))
    .command(
      'capture',
      'Capture MySQL traffic with tcpdump into rotating pcap files in a directory, with limits and a manifest (analyze them later, anywhere)',
      (y) =>
        y
          .option('out', { alias: 'o', describe: 'directory to write into: created 0700 (or an empty one), files 0600', type: 'string', group: 'Capture:' })
          .option('interface', { alias: 'i', describe: "network interface ('any': all of them; tcpdump -D lists them)", type: 'string', default: 'any', group: 'Capture:' })
          .option('port', { alias: 'p', describe: 'MySQL server port (repeat or comma-separate); default 3306', type: 'string', group: 'Capture:' })
          .option('host', { describe: 'only traffic to or from this address, network (10.0.0.0/8) or host name (repeat or comma-separate)', type: 'string', group: 'Capture:' })
          .option('filter', { describe: 'extra BPF expression, and-ed with the port and host filter', type: 'string', group: 'Capture:' })
          .option('snaplen', { alias: 's', describe: 'bytes kept of each packet; 0: whole packets (needed to see whole queries)', type: 'number', default: 0, group: 'Capture:' })
          .option('buffer-size', { alias: 'B', describe: 'kernel capture buffer, e.g. 128MiB (raise it if the status line shows kernel drops); default 64MiB (docs/capture.md: measured)', type: 'string', group: 'Capture:' })
          .option('rotate-size', { alias: 'C', describe: 'start a new file when this one reaches this size, e.g. 100MB (whole millions of bytes)', type: 'string', group: 'Files and limits:' })
          .option('rotate-seconds', { alias: 'G', describe: 'start a new file every N seconds (15m etc. allowed; with traffic: a new file starts with the first packet after)', type: 'string', group: 'Files and limits:' })
          .option('max-files', { alias: 'W', describe: 'ring buffer: keep only the newest N files, deleting the oldest (needs --rotate-size or --rotate-seconds)', type: 'string', group: 'Files and limits:' })
          .option('max-total', { describe: 'stop before the files in the directory pass this size, e.g. 10GB', type: 'string', group: 'Files and limits:' })
          .option('min-free-disk', { describe: 'stop before free space on the disk falls below this, e.g. 5GB or 10%; default 15% of the disk, at most 4GB', type: 'string', group: 'Files and limits:' })
          .option('duration', { alias: 'd', describe: 'stop after this long, e.g. 30s, 15m, 2h (then 2.5 s more for the packets the kernel still holds)', type: 'string', group: 'Files and limits:' })
          .option('max-packets', { alias: 'c', describe: 'stop after this many packets', type: 'string', group: 'Files and limits:' })
          .option('keylog', { describe: "the TLS key log the application writes (SSLKEYLOGFILE, node --tls-keylog): copied into the directory as it grows (tls-keys.log, 0600), so the capture can be decrypted later; it need not exist yet. docs/tls.md", type: 'string', requiresArg: true, group: 'Capture:' })
          .option('status', { describe: 'show the state of the capture in DIR (from another terminal)', type: 'string', group: 'Control:' })
          .option('stop', { describe: 'stop the capture running into DIR (from another terminal), or close one whose process died', type: 'string', group: 'Control:' })
          .option('json', { describe: 'with --status: print it as JSON', type: 'boolean', default: false, group: 'Control:' })
          .example('sudo $0 capture --out /var/tmp/cap', 'all MySQL traffic on port 3306, any interface, until Ctrl-C')
          .example('sudo $0 capture -o /var/tmp/cap -i eth0 -p 3306 --rotate-size 100MB --max-files 50', 'a ring buffer of the newest 5 GB')
          .example('sudo $0 capture -o /var/tmp/cap --duration 15m --host 10.1.2.3', 'one client, for 15 minutes')
          .example('sudo $0 capture -o /var/tmp/cap --keylog /run/app/tls-keys.log', 'TLS connections too: the key log is copied beside the capture')
          .example('$0 capture --status /var/tmp/cap', 'from another terminal')
          .epilog('Needs tcpdump and the right to capture (root, or: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)). Run through sudo, tcpdump writes as your user. The directory gets capture.json (the manifest) and, while running, capture.pid. Details: docs/capture.md'),
      async (a) => {
        const given = [a.out, a.status, a.stop].filter((v) => v !== undefined).length;
        if (given !== 1) throw new UsageError('give one of --out DIR (start a capture), --status DIR or --stop DIR');
        if (a.json && a.status === undefined) throw new UsageError('--json goes with --status DIR');
        const cmd = await import('../capture/command.js');
        if (a.status !== undefined) {
          code = await cmd.runStatus(resolve(a.status), a.json);
          return;
        }
        if (a.stop !== undefined) {
          code = await cmd.runStop(resolve(a.stop));
          return;
        }
        const { captureOptions } = await import('../capture/options.js');
        const { OptionError } = await import('../capture/units.js');
        const args = {
          out: a.out!,
          interface: a.interface,
          ports: ports(a.port),
          host: a.host,
          filter: a.filter,
          snaplen: a.snaplen,
          bufferSize: a.bufferSize,
          duration: a.duration,
          maxPackets: a.maxPackets,
          rotateSize: a.rotateSize,
          rotateSeconds: a.rotateSeconds,
          maxFiles: a.maxFiles,
          maxTotal: a.maxTotal,
          minFreeDisk: a.minFreeDisk,
          keylog: a.keylog,
        };
        const opts = await usageErrors(() => captureOptions(args), OptionError);
        code = await cmd.runCapture(opts);
      },
    )
    .command(
      'live',
      'Watch MySQL traffic as it happens: tcpdump piped into the analyzer, a top-N table of fingerprints redrawn every few seconds; the full report on exit',
      (y) =>
        y
          .option('interface', { alias: 'i', describe: "network interface ('any': all of them)", type: 'string', default: 'any', group: 'Capture:' })
          .option('port', { alias: 'p', describe: 'MySQL server port (repeat or comma-separate); default 3306', type: 'string', group: 'Capture:' })
          .option('host', { describe: 'only traffic to or from this address or network (repeat or comma-separate)', type: 'string', group: 'Capture:' })
          .option('filter', { describe: 'extra BPF expression, and-ed with the port and host filter', type: 'string', group: 'Capture:' })
          .option('buffer-size', { alias: 'B', describe: 'kernel capture buffer, e.g. 128MiB (raise it if kernel drops show); default 64MiB (docs/capture.md: measured)', type: 'string', group: 'Capture:' })
          .option('duration', { alias: 'd', describe: 'stop after this long, e.g. 30s, 15m (default: until Ctrl-C); then 2.5 s more for the packets the kernel still holds', type: 'string', group: 'Capture:' })
          .option('refresh', { describe: 'seconds between two redraws of the table', type: 'number', default: 2 })
          .option('top', { describe: 'fingerprints in the table', type: 'number', default: 15 })
          .option('order-by', { describe: 'rank the table by', choices: ['time', 'count'], default: 'time' })
          .option('format', { alias: 'f', describe: 'format of the report saved with -o (default: from its name, .html or .json; .txt or none: text; other names need --format)', choices: ['text', 'json', 'html'], type: 'string', group: 'On exit:' })
          .option('output', { alias: 'o', describe: 'on exit, write the report analyze would make of the same traffic to FILE', type: 'string', requiresArg: true, group: 'On exit:' })
          .option('save-summary', { describe: 'on exit, also write a mergeable summary to FILE', type: 'string', requiresArg: true, group: 'On exit:' })
          .option('redact', { describe: 'replace literals with ? (--no-redact shows them as captured)', type: 'boolean', default: true })
          .options(keylogOption)
          .option('events-parquet', { describe: 'also write every event as Parquet files under DIR (dt=YYYY-MM-DD/host=NAME/; a file finished every minute; docs/parquet.md)', type: 'string', requiresArg: true, group: 'Parquet:' })
          .options({ ...parquetOptions, 'host-label': { ...parquetOptions['host-label'], describe: 'the host=NAME partition of the Parquet files (default: this machine\'s host name)' } })
          .example('sudo $0 live -i lo -p 3306', 'watch a local server')
          .example('sudo $0 live -p 3306 --keylog /run/app/tls-keys.log', 'TLS sessions too, with the key log the application writes (re-read as it grows)')
          .example('sudo $0 live -d 60s -o report.html -f html', 'one minute, then the report as a page')
          .epilog('Needs tcpdump and the right to capture, as capture does. No packet is written to disk.'),
      async (a) => {
        const { parseDuration, parseSize, OptionError } = await import('../capture/units.js');
        const { DEFAULT_BUFFER_SIZE } = await import('../capture/argv.js');
        if (!Number.isFinite(a.refresh) || a.refresh < 0.2) throw new UsageError(`${shown('refresh', a.refresh)} expected seconds, at least 0.2`);
        if (!Number.isInteger(a.top) || a.top < 1) throw new UsageError(`${shown('top', a.top)} expected a whole number of at least 1`);
        const durationSec = await usageErrors(() => (a.duration === undefined ? null : parseDuration('duration', a.duration)), OptionError);
        const bufferKiB = await usageErrors(() => Math.ceil((a.bufferSize === undefined ? DEFAULT_BUFFER_SIZE : parseSize('buffer-size', a.bufferSize)) / 1024), OptionError);
        const { runLive } = await import('../analyze/live/command.js');
        code = await runLive(
          {
            iface: a.interface,
            ports: ports(a.port),
            hosts: strings(a.host)?.flatMap((h) => h.split(',')) ?? [],
            filter: a.filter ?? null,
            bufferKiB,
            refreshSec: a.refresh,
            top: a.top,
            durationSec,
            redact: a.redact,
            order: a.orderBy as 'time' | 'count',
            format: formatOf(a.format, a.output, false) as 'text' | 'json' | 'html',
            output: a.output ?? null,
            saveSummary: a.saveSummary ?? null,
            screen: process.stdout.isTTY === true,
            keylog: keylogSetting(a),
            eventsParquet: parquetSettings(a, a.eventsParquet ?? null, '--events-parquet DIR'),
          },
          processIo,
        );
      },
    )
    .demandCommand(1, 'Name a command: info, events, trace, analyze, advise, merge, diff, capture, live, bundle, inspect or upload (periscope --help lists them).')
    .strict()
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .check(singleValues)
    .fail((msg, err) => {
      // yargs's own complaints (YError) and its messages are usage errors; anything else is ours.
      if (err !== undefined && err !== null && err.name !== 'YError') throw err;
      throw new UsageError(usageMessage(msg ?? err?.message ?? 'invalid command line', argv.find((x) => !x.startsWith('-'))));
    })
    .help()
    .alias('h', 'help')
    .version(versionLine())
    .parseAsync();
  return code;
}

/**
 * dist/periscope.mjs is one file: its analysis workers run this same file, marked in workerData.
 * (Not awaited: the single executable's bundle is CommonJS, which has no top-level await.)
 */
const isWorker = !isMainThread && (workerData as { periscopeWorker?: boolean } | null)?.periscopeWorker === true;

if (isWorker) void import('../analyze/run/worker.js');
// The single executable's child that checks, as the sudo user, that tcpdump can write (PROBE_COMMAND
// of capture/probe.ts: a Node.js is given the code with -e instead).
else if (isSea() && process.argv[2] === '__periscope-probe-writable') void import('../capture/probe.js').then((p) => p.runProbe(process.argv[3] ?? ''));
else run();

function run(): void {
  // Output piped into a program that stops reading (`| head`): stop quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(Exit.Ok);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const e = err as Error;
      if (process.env.PERISCOPE_DEBUG) process.stderr.write(`${e.stack}\n`);
      if (err instanceof UsageError) {
        process.stderr.write(`periscope: error: ${e.message}\nRun 'periscope --help' (or 'periscope COMMAND --help') for usage.\n`);
        process.exitCode = Exit.Usage;
        return;
      }
      process.stderr.write(`periscope: error: ${e.message} (internal error; PERISCOPE_DEBUG=1 shows where)\n`);
      process.exitCode = Exit.Internal;
    },
  );
}

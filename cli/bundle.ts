/**
 * The bundle commands — bundle, inspect, upload — for the CLI entry. Their code (archiver, mysql2,
 * the HTTP client) is imported only when one of them runs, never by `capture` or `analyze`.
 */
import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import type { TcpLimits } from '../src/pipeline/mysql.js';
import { processIo } from '../analyze/io.js';
import { filterOptions, filterSettings } from './filter-options.js';
import { keylogOption, keylogSetting } from './tls-options.js';

type TcpOption = 'reorder-window' | 'max-buffer-per-connection' | 'max-buffer-total' | 'idle-timeout' | 'max-connections' | 'memory-budget';
type TcpArgs = { reorderWindow: number; maxBufferPerConnection: number; maxBufferTotal: number; idleTimeout: number; maxConnections: number; memoryBudget: number };

/** What the entry shares with these commands. */
export interface BundleCli {
  usage(message: string): Error;
  done(code: number): void;
  ports(v: unknown): number[];
  tcpOptions: { readonly [K in TcpOption]: { readonly describe: string; readonly type: 'number'; readonly default: number; readonly group: string } };
  tcpSettings(a: TcpArgs): TcpLimits;
}

function command<U>(m: { command: string; describe: string; builder: (y: Argv) => Argv<U>; handler: (a: ArgumentsCamelCase<U>) => Promise<void> }): CommandModule<object, U> {
  return m;
}

export function bundleCommands(cli: BundleCli): CommandModule<object, never>[] {
  /** Run a command, turning its own usage errors into the entry's (exit 1). */
  const run = async (f: () => Promise<number>, usageErrors: (new (m: string) => Error)[]): Promise<void> => {
    try {
      cli.done(await f());
    } catch (e) {
      if (usageErrors.some((c) => e instanceof c)) throw cli.usage((e as Error).message);
      throw e;
    }
  };
  const bundle = command({
    command: 'bundle <captures..>',
    describe: 'A redacted, self-describing .tar.gz to send to an expert: report, events, table schemas, checksums (docs/bundle.md)',
    builder: (y) =>
      y
        .positional('captures', { describe: 'pcap/pcapng files (optionally .gz) or directories of them', type: 'string', array: true, demandOption: true, default: undefined })
        .option('output', { alias: 'o', describe: 'the bundle to write (FILE.tar.gz, mode 0600)', type: 'string', requiresArg: true, demandOption: true })
        .option('port', { alias: 'p', describe: 'extra MySQL server port in the capture (repeat or comma-separate; 3306 is always included)', type: 'string' })
        .option('order-by', { describe: 'rank the report\'s fingerprints by', choices: ['time', 'count', 'avg', 'p95', 'p99', 'max', 'errors', 'rows'], default: 'time' })
        .option('limit', { describe: 'fingerprints detailed in report.txt (report.json and report.html have all)', type: 'number', default: 20 })
        .options(filterOptions)
        .option('include-pcap', { describe: 'also put the raw captures in the bundle: they hold every value, unredacted (a loud warning; recorded in the manifest)', type: 'boolean', default: false })
        .option('quiet', { alias: 'q', describe: 'no progress line on stderr', type: 'boolean', default: false })
        .option('schema-from', { describe: 'collect the schema of the tables the queries touch from this server: HOST, HOST:PORT, [IPv6]:PORT, or a socket path', type: 'string', requiresArg: true, group: 'Schema:' })
        .option('socket', { describe: 'the server\'s Unix socket (instead of a host in --schema-from)', type: 'string', requiresArg: true, group: 'Schema:' })
        .option('user', { alias: 'u', describe: 'MySQL user (default: the option file\'s, else your login name)', type: 'string', requiresArg: true, group: 'Schema:' })
        .option('defaults-file', { describe: 'MySQL option file whose [client] section gives user, password, port (default: ~/.my.cnf if it exists). The password is never an option: it comes from this file, MYSQL_PWD, or a prompt', type: 'string', requiresArg: true, group: 'Schema:' })
        .option('password', { type: 'string', hidden: true })
        .options(keylogOption)
        .options(cli.tcpOptions)
        .example('$0 bundle /var/tmp/cap/ -o ticket-4711.tar.gz', 'report and redacted events of a rotated capture')
        .example('MYSQL_PWD=… $0 bundle cap.pcap -o b.tar.gz --schema-from db1:3306 --user periscope_ro', 'with the schema of every table the queries touch')
        .example("$0 bundle /var/tmp/cap/ -o incident.tar.gz --since '2026-11-21 05:00' --until '2026-11-21 05:30'", 'only the incident\'s half hour')
        .example('$0 inspect b.tar.gz', 'look inside before sending it'),
    handler: async (a) => {
      if (a.password !== undefined) throw cli.usage('--password: a password is never taken on the command line (other users see it in the process list); use MYSQL_PWD, an option file (--defaults-file, ~/.my.cnf), or answer the prompt');
      if (!Number.isInteger(a.limit) || a.limit < 1) throw cli.usage(`--limit ${a.limit}: expected a whole number of at least 1`);
      if (Array.isArray(a.user)) throw cli.usage(`--user was given more than once (${a.user.join(', ')}): give the MySQL account once`);
      const schemaWanted = a.schemaFrom !== undefined || a.socket !== undefined;
      if (schemaWanted && a.port !== undefined) processIo.warn(`-p/--port ${String(a.port)} is a MySQL server port in the capture, not the schema server's (give that as --schema-from HOST:PORT) nor a password`);
      if (!schemaWanted && (a.user !== undefined || a.defaultsFile !== undefined)) throw cli.usage('--user and --defaults-file are for --schema-from (or --socket): name the server to collect the schema from');
      const { runBundle } = await import('../analyze/bundle/command.js');
      const { SchemaUsageError } = await import('../analyze/schema/connect.js');
      const { FilterError } = await import('../analyze/run/filters.js');
      const { KeyLogError } = await import('../analyze/read/keylog.js');
      await run(
        () =>
          runBundle(
            {
              files: a.captures as string[],
              output: a.output,
              ports: cli.ports(a.port),
              tcp: cli.tcpSettings(a),
              order: a.orderBy as 'time',
              limit: a.limit,
              includePcap: a.includePcap,
              schema: schemaWanted ? { server: a.schemaFrom ?? null, socket: a.socket ?? null, user: a.user ?? null, defaultsFile: a.defaultsFile ?? null } : null,
              filters: filterSettings(a, false),
              progress: !a.quiet && process.stderr.isTTY === true,
              keylog: keylogSetting(a),
            },
            processIo,
          ),
        [SchemaUsageError, FilterError, KeyLogError],
      );
    },
  });
  const inspect = command({
    command: 'inspect <bundle>',
    describe: 'What a bundle holds, checked: members and sizes, every SHA-256 against the manifest, the manifest, the top of the report',
    builder: (y) =>
      y
        .positional('bundle', { describe: 'a .tar.gz made by periscope bundle', type: 'string', demandOption: true })
        .option('show', { describe: 'print this member instead (gunzipped when it ends in .gz), e.g. report.txt, events.jsonl.gz, schema/tables.sql', type: 'string', requiresArg: true })
        .option('lines', { describe: 'lines of report.txt shown', type: 'number', default: 40 })
        .example('$0 inspect b.tar.gz', 'check it and see what it holds')
        .example('$0 inspect b.tar.gz --show events.jsonl.gz | jq -c .sql | sort | uniq -c', 'every statement, as it will be sent'),
    handler: async (a) => {
      const { runInspect } = await import('../analyze/bundle/inspect.js');
      await run(() => runInspect({ file: a.bundle, show: a.show ?? null, reportLines: Math.max(0, Math.floor(a.lines)) }, processIo), []);
    },
  });
  const upload = command({
    command: 'upload <bundle>',
    describe: 'Send a bundle: a multipart/form-data POST over HTTPS, verified first, retried on 5xx and network errors',
    builder: (y) =>
      y
        .positional('bundle', { describe: 'a .tar.gz made by periscope bundle', type: 'string', demandOption: true })
        .option('url', { describe: 'where to POST it (https://…)', type: 'string', requiresArg: true, demandOption: true })
        .option('field', { describe: 'a form field sent with the file, NAME=VALUE (repeatable), e.g. ticket=4711', type: 'string', array: true, requiresArg: true })
        .option('ca', { describe: 'PEM file of a CA to trust besides the system\'s (a private or self-signed server certificate); NODE_EXTRA_CA_CERTS works too', type: 'string', requiresArg: true })
        .option('insecure-http', { describe: 'allow a plain http:// URL (for local testing: the bundle travels unencrypted)', type: 'boolean', default: false })
        .option('retries', { describe: 'tries again after a 5xx answer or a network error, waiting 1, 2, 4… s (or the server\'s Retry-After)', type: 'number', default: 5 })
        .option('timeout', { describe: 'seconds without progress before a try is given up', type: 'number', default: 60 })
        .example('$0 upload b.tar.gz --url https://support.example.com/upload --field ticket=4711', 'send it'),
    handler: async (a) => {
      if (!Number.isInteger(a.retries) || a.retries < 0) throw cli.usage(`--retries ${a.retries}: expected a whole number, 0 or more`);
      if (!(a.timeout > 0)) throw cli.usage(`--timeout ${a.timeout}: expected a positive number of seconds`);
      const fields = (a.field ?? []).map((f): [string, string] => {
        const eq = String(f).indexOf('=');
        if (eq < 1) throw cli.usage(`--field ${f}: expected NAME=VALUE`);
        return [String(f).slice(0, eq), String(f).slice(eq + 1)];
      });
      const { runUpload, UploadUsageError } = await import('../analyze/bundle/upload.js');
      await run(
        () => runUpload({ file: a.bundle, url: a.url, fields, ca: a.ca ?? null, insecureHttp: a.insecureHttp, retries: a.retries, timeoutSec: a.timeout, progress: process.stderr.isTTY === true }, processIo),
        [UploadUsageError],
      );
    },
  });
  return [bundle, inspect, upload] as unknown as CommandModule<object, never>[];
}

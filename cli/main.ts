/**
 * The one CLI entry: wires the subcommands (loaded on demand, so `capture` never pulls in the
 * analyzer) and is the only place that exits the process.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { processIo } from './io.js';

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
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`--port ${s}: expected a TCP port number between 1 and 65535`);
    return p;
  });
}

async function main(argv: string[]): Promise<number> {
  let code: number = Exit.Ok;
  await yargs(argv)
    .scriptName('periscope')
    .usage('$0 <command> [options]\n\nSee every query an application sends to MySQL/MariaDB, from packet captures.')
    .command(
      'info <files..>',
      'Describe captures: format, link types, packets, time range, what was skipped, TCP connections, MySQL servers',
      (y) =>
        y
          .positional('files', { describe: 'pcap/pcapng files (optionally .gz) or directories of them; several are read as one capture in timestamp order', type: 'string', array: true, demandOption: true })
          .option('port', { alias: 'p', describe: 'extra MySQL server port (repeat the option or give a comma-separated list; 3306 is always included)', type: 'string' })
          .option('json', { describe: 'print the report as JSON', type: 'boolean', default: false })
          .example('$0 info samples/mariadb-basic.pcap', 'describe the bundled sample')
          .example('$0 info /var/tmp/cap/ --port 3307', 'all files of a rotated capture, with a server on 3307'),
      async (a) => {
        const { runInfo } = await import('../analyze/info/command.js');
        code = await runInfo({ files: a.files as string[], ports: ports(a.port), json: a.json }, processIo);
      },
    )
    .demandCommand(1, 'Name a command; see the list above.')
    .strict()
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`periscope: error: ${msg}\nRun 'periscope --help' (or 'periscope COMMAND --help') for usage.\n`);
      code = Exit.Usage;
    })
    .help()
    .alias('h', 'help')
    .version()
    .parseAsync();
  return code;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    if (process.env.PERISCOPE_DEBUG) process.stderr.write(`${e.stack}\n`);
    const usage = e.message.startsWith('--');
    process.stderr.write(`periscope: error: ${e.message}${usage ? '' : ' (internal error; PERISCOPE_DEBUG=1 shows where)'}\n`);
    process.exitCode = usage ? Exit.Usage : Exit.Internal;
  },
);

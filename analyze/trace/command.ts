/**
 * `periscope trace FILE…`: the protocol flow, one line per protocol event per connection, with
 * the stage the connection is in — like the MySQL client's protocol trace plugin, from a capture.
 */
import { readCaptures } from '../read/captures.js';
import { keyLogsFor, printTls } from '../read/keylog.js';
import { reportFileProblems } from '../read/problems.js';
import { isoTime } from '../../common/time.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline, type TcpLimits } from '../../src/pipeline/mysql.js';
import { redactErrorMessage, sessionMode, SqlNormalizer } from '../../src/sql/index.js';
import { Dir } from '../../src/tcp/stream.js';
import type { TraceEntry } from '../../src/mysql/session.js';
import type { Io } from '../io.js';
import { zstdSupport } from '../zstd.js';

export interface TraceOptions {
  files: string[];
  ports: number[];
  redact: boolean;
  hex: boolean;
  conn: number | null;
  /** Only the connection the server numbered so (its greeting's connection id, CONNECTION_ID()). */
  connId?: number | null;
  /** Only lines from / before these times. */
  since?: { sec: number; nsec: number } | null;
  until?: { sec: number; nsec: number } | null;
  /** At most this many lines; reading stops there. */
  limit?: number | null;
  tcp?: TcpLimits;
  /** TLS key logs (files or directories) to decrypt TLS connections with. */
  keylog?: string[];
}

const before = (a: { sec: number; nsec: number }, b: { sec: number; nsec: number }): boolean => a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);

/** Events whose detail carries SQL or server messages (redacted unless --no-redact). */
const SQL_EVENTS = new Set(['SEND_COMMAND']);
const MESSAGE_EVENTS = new Set(['ERROR']);

/**
 * An ERROR line's detail, `CODE [SQLSTATE] message`, with the message redacted; `command`: the
 * detail of the connection's last SEND_COMMAND (`query SIGNAL …`), for errors a SIGNAL made.
 */
function redactErrorDetail(detail: string, command: string | undefined): string {
  const m = /^(\d+) (?:([0-9A-Z]{5}) )?/.exec(detail);
  const sql = command === undefined ? null : command.slice(command.indexOf(' ') + 1);
  if (m === null) return redactErrorMessage(detail, { sql });
  return m[0] + redactErrorMessage(detail.slice(m[0].length), { code: Number(m[1]), sqlState: m[2] ?? null, sql });
}

/** One trace line, SQL redacted by `sql`; `command`: the detail of the connection's last SEND_COMMAND. */
export function traceLine(t: TraceEntry, redact: boolean, hex: boolean, sql: SqlNormalizer, command?: string): string {
  const dir = t.dir === Dir.ClientToServer ? 'C>S' : t.dir === Dir.ServerToClient ? 'S>C' : '   ';
  const detail = redact && SQL_EVENTS.has(t.event) ? sql.redact(t.detail, sessionMode(t.noBackslashEscapes)) : redact && MESSAGE_EVENTS.has(t.event) ? redactErrorDetail(t.detail, command) : t.detail;
  const seq = t.seq === null ? '' : ` seq=${t.seq}`;
  const len = t.length === null ? '' : ` len=${t.length}`;
  let line = `${isoTime({ sec: t.sec, nsec: t.nsec })} #${t.conn} ${dir} ${t.stage.padEnd(20)} ${t.event}${seq}${len}${detail ? `  ${detail}` : ''}\n`;
  if (hex && t.payload !== null && t.event !== 'SEND_AUTH_RESPONSE') line += hexDump(t.payload);
  return line;
}

function hexDump(b: Uint8Array, max = 256): string {
  let out = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i += 16) {
    const row = b.subarray(i, Math.min(i + 16, n));
    const hex = Array.from(row, (v) => v.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (v) => (v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.')).join('');
    out += `      ${i.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${ascii}\n`;
  }
  if (b.length > max) out += `      … ${b.length - max} more bytes\n`;
  return out;
}

export async function runTrace(opts: TraceOptions, io: Io): Promise<number> {
  if (opts.hex && opts.redact) {
    io.error('--hex shows raw packet bytes, which hold literal values: add --no-redact to see them');
    return 1;
  }
  if (!opts.redact) io.warn('--no-redact: SQL text and server messages are printed as captured; they may hold customer data');
  const keys = await keyLogsFor(opts.files, opts.keylog ?? []); // KeyLogError: a usage error, before any work
  const out: string[] = [];
  let size = 0;
  let lines = 0;
  const lastCommand = new Map<number, string>();
  const sql = new SqlNormalizer();
  const byServerId = new Map<number, boolean>();
  const since = opts.since ?? null;
  const until = opts.until ?? null;
  const limit = opts.limit ?? null;
  let cut = false;
  // The first and last lines the time window left out, to say so when it kept none.
  let outside = 0;
  let firstOut: TraceEntry | null = null;
  let lastOut: TraceEntry | null = null;
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])],
    tcp: opts.tcp,
    onlyConn: opts.conn,
    onEvent: () => undefined,
    session: {
      zstd: zstdSupport(),
      tlsSecrets: keys.lookup,
      trace: (t) => {
        if (opts.connId != null) {
          // The server's connection id is in its greeting, the first line of a connection.
          if (t.event === 'INIT_PACKET_RECEIVED') byServerId.set(t.conn, /connection id (\d+)/.exec(t.detail)?.[1] === String(opts.connId));
          if (byServerId.get(t.conn) !== true) return;
        }
        if ((since !== null && before(t, since)) || (until !== null && !before(t, until))) {
          outside++;
          firstOut ??= t;
          lastOut = t;
          return;
        }
        if (limit !== null && lines >= limit) {
          cut = true;
          return;
        }
        if (SQL_EVENTS.has(t.event)) {
          if (lastCommand.size >= 100_000) lastCommand.clear(); // bounded: a connection's entry is only needed until its reply
          lastCommand.set(t.conn, t.detail);
        }
        const line = traceLine(t, opts.redact, opts.hex, sql, lastCommand.get(t.conn));
        lines++;
        out.push(line);
        size += line.length;
        if (size > 1 << 16) {
          io.out(out.join(''));
          out.length = 0;
          size = 0;
        }
      },
    },
  });
  const { files } = await readCaptures(opts.files, (rec) => pipeline.add(rec), { beforeRead: io.drain, shouldStop: () => cut, onSecrets: keys.onSecrets });
  if (!cut) pipeline.finish();
  io.out(out.join(''));
  if (cut) io.warn(`stopped after ${limit} lines (--limit); the capture was not read further`);
  printTls(io, pipeline.totals, keys);
  const code = reportFileProblems(files, io);
  if (lines === 0 && outside > 0 && firstOut !== null && lastOut !== null) {
    io.warn(`no trace line in the --since/--until window; the capture's ${outside.toLocaleString('en-US')} line${outside === 1 ? '' : 's'}${opts.conn !== null || opts.connId != null ? ' of that connection' : ''} run from ${isoTime(firstOut)} to ${isoTime(lastOut)}`);
  }
  if (opts.connId != null && lines === 0 && outside === 0 && code === 0) {
    io.error(`no connection with server connection id ${opts.connId} in the capture (the id is in each connection's greeting; a connection caught mid-stream has none: use --conn #N)`);
    return 1;
  }
  if (opts.conn !== null && lines === 0 && outside === 0 && code === 0) {
    const n = pipeline.reassembler.totals.connections;
    io.error(`no MySQL connection #${opts.conn} in the capture (its TCP connections are #1 to #${n}; 'periscope trace' without --conn shows them all)`);
    return 1;
  }
  return code;
}

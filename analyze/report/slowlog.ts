/**
 * Command events as a MySQL slow query log, so that every tool that reads one (pt-query-digest,
 * mysqldumpslow, …) can read a capture. Each entry:
 *
 *   # Time: 2026-11-21T05:08:04.903068Z
 *   # User@Host: app[app] @  [10.0.0.5]  Id:    42
 *   # Query_time: 0.000412  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0  Rows_affected: 0
 *   use shop;
 *   SET timestamp=1763701684;
 *   SELECT * FROM orders WHERE id = ?;
 *
 * `Query_time` is the full response time (request's last packet to response's last packet: the
 * reports' latency), close to what the server itself logs for a large result set.
 * What the wire does not show is written as 0: Lock_time and Rows_examined (the server never
 * sends them; the fields stay because mysqldumpslow needs them). With --no-redact, a prepared
 * statement's execution is written with its parameter values in place of its `?` (src/sql/bind.ts),
 * as the server logs it, so that it can be run again or EXPLAINed. `use db;` is written when the database differs from the previous entry's, as the
 * server does. Commands without SQL are `# administrator command: Ping;` lines, as in the server's
 * log. Logins and the statement housekeeping commands (prepare, close, reset, send long data) are
 * not written: the server does not log them either.
 */
import type { CommandEvent } from '../../src/mysql/session.js';
import { sessionMode, SqlNormalizer } from '../../src/sql/index.js';
import { bindParameters } from '../../src/sql/bind.js';
import { isoTime } from '../../common/time.js';
import { adminFingerprint, hostOf, latencyOf } from '../aggregate/aggregate.js';
import { SQL_COMMANDS, STATEMENT_RUNS } from '../commands.js';

/** Logins and statement housekeeping: not in a server's slow log. */
const skipped = (cmd: string): boolean => cmd === 'connect' || (SQL_COMMANDS.has(cmd) && !STATEMENT_RUNS.has(cmd));

export const SLOWLOG_HEADER = '/usr/sbin/mariadbd, Version: (captured by Periscope). started with:\nTcp port: 0  Unix socket: (none)\nTime                Id Command    Argument\n';

export class SlowlogWriter {
  private db: string | null = null;
  private readonly sql = new SqlNormalizer();

  constructor(private readonly redact: boolean) {}

  /** The entry of one event, or '' for events the slow log does not hold. */
  entry(e: CommandEvent): string {
    if (skipped(e.cmd)) return '';
    const secs = (us: number | null) => ((us ?? 0) / 1e6).toFixed(6);
    const user = e.user ?? '';
    let s = `# Time: ${isoTime({ sec: e.sec, nsec: e.nsec })}\n`;
    s += `# User@Host: ${user}[${user}] @  [${hostOf(e.client)}]  Id: ${String(e.connId ?? 0).padStart(5)}\n`;
    s += `# Query_time: ${secs(latencyOf(e))}  Lock_time: 0.000000  Rows_sent: ${e.rows ?? 0}  Rows_examined: 0  Rows_affected: ${e.affectedRows ?? 0}\n`;
    if (e.errorCode !== null) s += `# Errno: ${e.errorCode}\n`;
    if (e.db !== null && e.db !== this.db) {
      s += `use ${e.db};\n`;
      this.db = e.db;
    }
    s += `SET timestamp=${e.sec};\n`;
    if (STATEMENT_RUNS.has(e.cmd) && e.sql !== null) {
      // Unredacted, a prepared statement is written with its values, as the server's own slow log does.
      const bound = this.redact || e.params === null ? null : bindParameters(e.sql, e.params, e.paramTypes);
      const sql = (this.redact ? this.sql.redact(e.sql, sessionMode(e.noBackslashEscapes)) : (bound ?? e.sql)).replace(/;\s*$/, '');
      s += `${sql};\n`;
    } else {
      s += `# ${adminFingerprint(e.cmd)};\n`;
    }
    return s;
  }
}

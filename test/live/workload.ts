/**
 * A small, deterministic MariaDB workload: what the bundled sample and the live tests capture.
 * It covers login, DDL, inserts, queries with results, an error, prepared statements (prepare,
 * execute with parameters, close), a database change and quit. Returns what it did, so tests can
 * compare what they decode with what happened.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import type { MysqlSettings } from './env.js';

export interface WorkloadResult {
  connections: number;
  queries: number;
  errors: number;
}

export interface WorkloadOptions {
  connections?: number;
  /** mysql2's `ssl` option (TLS after the SSL request): minVersion, maxVersion, ciphers, ca… */
  ssl?: Record<string, unknown>;
  /** The compressed protocol (inside TLS too). */
  compress?: boolean;
  /** One more query whose reply spans many TLS records (1,000 rows, about 200 KB). */
  bigReply?: boolean;
}

export async function runWorkload(s: MysqlSettings, opts: WorkloadOptions = {}): Promise<WorkloadResult> {
  const result: WorkloadResult = { connections: 0, queries: 0, errors: 0 };
  const n = opts.connections ?? 2;
  for (let i = 0; i < n; i++) {
    const c: Connection = await createConnection({
      host: s.host, port: s.port, user: s.user, password: s.password, database: s.database,
      ...(opts.ssl ? { ssl: opts.ssl } : {}), ...(opts.compress ? { compress: true } : {}),
    });
    result.connections++;
    const q = async (sql: string, params?: (string | number | null)[]): Promise<void> => {
      result.queries++;
      if (params) await c.execute(sql, params);
      else await c.query(sql);
    };
    if (i === 0) {
      await q('DROP TABLE IF EXISTS customers');
      await q('CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(100) NOT NULL UNIQUE, name VARCHAR(100), balance DECIMAL(10,2), created DATETIME)');
      await q("INSERT INTO customers (email, name, balance, created) VALUES ('ada@example.com', 'Ada', 10.50, '2026-01-02 03:04:05'), ('bob@example.com', 'Bob', 0, NOW()), ('cy@example.com', NULL, -3.25, NOW())");
    }
    await q('SELECT id, email, name, balance FROM customers ORDER BY id');
    await q("SELECT COUNT(*) AS n FROM customers WHERE email LIKE '%@example.com'");
    await q('SELECT @@version, DATABASE(), CONNECTION_ID()');
    try {
      await q('SELECT * FROM no_such_table');
    } catch {
      result.errors++;
    }
    try {
      await q("INSERT INTO customers (email, name) VALUES ('ada@example.com', 'Duplicate Ada')");
    } catch {
      result.errors++;
    }
    // Prepared statements (binary protocol): prepare once, execute with several parameter sets.
    await q('SELECT id, name, balance FROM customers WHERE id = ? AND balance >= ?', [1, 0]);
    await q('SELECT id, name, balance FROM customers WHERE id = ? AND balance >= ?', [2, -100]);
    await q('UPDATE customers SET balance = balance + ? WHERE email = ?', [1.25, 'bob@example.com']);
    await c.unprepare('SELECT id, name, balance FROM customers WHERE id = ? AND balance >= ?'); // COM_STMT_CLOSE
    if (opts.bigReply) await q("SELECT seq, REPEAT('periscope-big-reply-', 10) AS pad FROM seq_1_to_1000"); // MariaDB's sequence engine
    await c.query('USE periscope_test');
    result.queries++;
    await c.ping();
    await endAndWait(c);
  }
  return result;
}

/**
 * COM_QUIT, then wait until the socket is closed both ways. mysql2's `end()` resolves before the
 * QUIT packet is even written, so a capture stopped right after the workload could miss the last
 * connection's FINs on a loaded machine (CI: 2 of 3 connections "seen whole").
 */
export async function endAndWait(c: Connection): Promise<void> {
  const stream = (c as unknown as { connection: { stream: NodeJS.EventEmitter & { closed?: boolean; destroyed?: boolean } } }).connection.stream;
  const done = stream.closed === true ? Promise.resolve() : new Promise<void>((resolve) => stream.once('close', () => resolve()));
  await c.end(); // COM_QUIT
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
}

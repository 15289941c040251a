/**
 * The pieces of schema collection that need no server: option files, --schema-from forms, where
 * the password comes from, which tables a report names, and the variable allow-list as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionSettings, parseOptionFile, parseServer } from '../../analyze/schema/connect.js';
import { findByName, quoteId, tablesOfReport, type Query } from '../../analyze/schema/collect.js';
import type { RowDataPacket } from 'mysql2/promise';
import { VARIABLE_ALLOW_LIST } from '../../analyze/schema/variables.js';
import type { Report } from '../../analyze/report/report.js';
import { repoRoot } from '../cli/run.js';

test('option files: the [client] section, comments, quotes and escapes', () => {
  const o = parseOptionFile(
    [
      '# a comment',
      '[mysqld]',
      'password = not-this-one',
      '[client]',
      'user = app_ro   # trailing comment',
      "password = 'p#ss\\tword'",
      'host=db1',
      'port = 3307',
      '; another comment',
      '!includedir /etc/mysql/conf.d/',
      'ssl_ca = /etc/ca.pem',
      '[mysqldump]',
      'user = other',
    ].join('\n'),
  );
  assert.equal(o.get('user'), 'app_ro');
  assert.equal(o.get('password'), 'p#ss\tword');
  assert.equal(o.get('port'), '3307');
  assert.equal(o.get('ssl-ca'), '/etc/ca.pem');
  assert.equal(o.size, 5);
});

test('--schema-from forms', () => {
  assert.deepEqual(parseServer('db1'), { host: 'db1', port: null });
  assert.deepEqual(parseServer('db1:3307'), { host: 'db1', port: 3307 });
  assert.deepEqual(parseServer('[::1]:3306'), { host: '::1', port: 3306 });
  assert.deepEqual(parseServer('[fe80::1]'), { host: 'fe80::1', port: null });
  assert.throws(() => parseServer('db1:0'), /between 1 and 65535/);
  assert.throws(() => parseServer('a:b:c'), /expected HOST/);
});

test('the password: option file first, then MYSQL_PWD; never from anywhere else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-cnf-'));
  try {
    const cnf = join(dir, 'my.cnf');
    await writeFile(cnf, '[client]\nuser=fromfile\npassword="secret from file"\nport=3310\n', { mode: 0o600 });
    const a = await connectionSettings({ server: '127.0.0.1', socket: null, user: null, defaultsFile: cnf }, { MYSQL_PWD: 'env' });
    assert.deepEqual([a.user, a.password, a.passwordFrom, a.port, a.label], ['fromfile', 'secret from file', 'option file', 3310, '127.0.0.1:3310']);
    await writeFile(cnf, '[client]\nuser=fromfile\n');
    const b = await connectionSettings({ server: '[::1]:3306', socket: null, user: 'cli', defaultsFile: cnf }, { MYSQL_PWD: 'env' });
    assert.deepEqual([b.user, b.password, b.passwordFrom, b.label], ['cli', 'env', 'MYSQL_PWD', '[::1]:3306']);
    const c = await connectionSettings({ server: '/run/mysqld/mysqld.sock', socket: null, user: 'u', defaultsFile: cnf }, {});
    assert.deepEqual([c.socket, c.host, c.password, c.passwordFrom, c.label], ['/run/mysqld/mysqld.sock', null, null, 'none', '/run/mysqld/mysqld.sock']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tables of a report: qualified as named, unqualified in each database the fingerprint ran in', () => {
  const fp = (tables: string[], databases: Record<string, number>) => ({ tables, databases }) as unknown as Report['fingerprints'][number];
  // A report names commands with no database known '(none)'.
  const report = { fingerprints: [fp(['orders', 'shop.items'], { app: 3, app_test: 1 }), fp(['orders'], { app: 2 }), fp(['lonely'], { '(none)': 4 }), fp(['sbtest1'], { '(none)': 2 }), fp(['we`ird'], { app: 1 })] } as unknown as Report;
  const t = tablesOfReport(report);
  assert.deepEqual(
    t.refs.map((r) => `${r.db}.${r.table}`),
    ['app.orders', 'app_test.orders', 'shop.items', 'app.we`ird'],
  );
  assert.deepEqual(t.unresolved, ['lonely', 'sbtest1']);
  assert.equal(quoteId('we`ird'), '`we``ird`');
});

test('tables with no database known are looked up by name across schemas; several schemas are ambiguous', async () => {
  const asked: { sql: string; values: unknown[] }[] = [];
  const q: Query = async (sql, values = []) => {
    asked.push({ sql, values });
    return [
      { db: 'sbtest', name: 'sbtest1' },
      { db: 'app', name: 'Orders' },
      { db: 'app_old', name: 'orders' },
    ] as unknown as RowDataPacket[];
  };
  const r = await findByName(q, ['sbtest1', 'ORDERS', 'lonely']);
  assert.deepEqual(r.refs, [{ db: 'sbtest', table: 'sbtest1' }, { db: 'app', table: 'Orders' }, { db: 'app_old', table: 'orders' }]);
  assert.deepEqual(r.ambiguous, ['ORDERS: app.Orders, app_old.orders']);
  assert.deepEqual(r.unresolved, ['lonely']);
  assert.deepEqual(asked[0]!.values, ['sbtest1', 'orders', 'lonely']);
  assert.doesNotMatch(asked.map((a) => a.sql).join('\n'), /\((none|unknown)\)/);
  assert.deepEqual(await findByName(q, []), { refs: [], unresolved: [], ambiguous: [] });
  // Names differing only in case in one schema: the server's case-insensitive ORDER BY leaves them
  // in any order; the list is in code-point order whatever order the rows came in.
  for (const rows of [[{ db: 'd', name: 't' }, { db: 'd', name: 'T' }], [{ db: 'd', name: 'T' }, { db: 'd', name: 't' }]]) {
    const dup = await findByName(async () => rows as unknown as RowDataPacket[], ['t']);
    assert.deepEqual(dup.ambiguous, ['t: d.T, d.t']);
  }
});

test('the variable allow-list in docs/bundle.md is the one in the code', async () => {
  const doc = await readFile(`${repoRoot}docs/bundle.md`, 'utf8');
  const section = doc.slice(doc.indexOf('<!-- allow-list -->'), doc.indexOf('<!-- /allow-list -->'));
  const documented = [...section.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  assert.deepEqual(documented, [...VARIABLE_ALLOW_LIST]);
  // Variables that hold secrets, paths, hosts or SQL: never in the list.
  const never = ['report_password', 'wsrep_sst_auth', 'ssl_key', 'ssl_cert', 'ssl_ca', 'file_key_management_filename', 'init_connect', 'init_file', 'init_slave', 'datadir', 'tmpdir', 'plugin_dir', 'secure_file_priv', 'log_error', 'general_log_file', 'slow_query_log_file', 'socket', 'hostname', 'bind_address', 'report_host', 'report_user', 'server_audit_file_path'];
  for (const v of never) assert.ok(!VARIABLE_ALLOW_LIST.includes(v), v);
});

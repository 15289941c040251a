/**
 * Bundles' schema collection against the real MariaDB: traffic touching tables whose names need
 * quoting (a space, a backquote), a mixed-case name, a view, a qualified name, a table dropped
 * after the capture and one the second account may not read, captured with real tcpdump. As the
 * test account, the dropped table is `missing` and every other is collected; as an account with
 * SELECT on some tables only, the unreadable one is `denied` and the rest is still collected. The
 * password from an option file, a wrong one, and the no-echo prompt on a terminal.
 *
 * Needs the second account of .ci/run (`periscope_limited`, no privileges of its own) and the
 * test account's GRANT OPTION on periscope_test.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createConnection } from 'mysql2/promise';
import { have, liveTestOptions, mysqlSettings, requireLive } from './env.js';
import { captureWhile } from './tcpdump.js';
import { bin, periscope, periscopeWith } from '../cli/run.js';
import { manifestOf, members } from '../bundle/members.js';
import type { SchemaTable } from '../../analyze/schema/collect.js';
import { VARIABLE_ALLOW_LIST } from '../../analyze/schema/variables.js';
import { endAndWait } from './workload.js';

const s = mysqlSettings();
const LIMITED = { user: 'periscope_limited', password: 'periscope_limited' };

async function options(): Promise<{ skip: string | false }> {
  const o = await liveTestOptions();
  if (o.skip) return o;
  try {
    const c = await createConnection({ host: s.host, port: s.port, ...LIMITED, connectTimeout: 3000 });
    await endAndWait(c);
  } catch (e) {
    const why = `the second test account ${LIMITED.user} is missing (${(e as Error).message}); see .ci/run or the README's test accounts`;
    if (requireLive) throw new Error(`live tests are required (PERISCOPE_REQUIRE_LIVE=1) but: ${why}`);
    return { skip: `skipped: ${why}` };
  }
  return { skip: false };
}
const opts = await options();

const dir = await mkdtemp(join(tmpdir(), 'periscope-schema-'));
after(() => rm(dir, { recursive: true, force: true }));
const file = join(dir, 'schema.pcap');
const db = s.database;
const readable = ['bundle odd name', 'bundle`tick', 'BundleMixed', 'bundle_plain', 'bundle_view'];

let captured: Promise<void> | null = null;
function capture(): Promise<void> {
  captured ??= (async () => {
    const c = await createConnection({ ...s, multipleStatements: true });
    await c.query('DROP VIEW IF EXISTS bundle_view; DROP TABLE IF EXISTS `bundle odd name`, `bundle``tick`, BundleMixed, bundle_plain, bundle_gone, bundle_secret');
    await c.query('CREATE TABLE `bundle odd name` (id INT PRIMARY KEY, `a column` VARCHAR(20), KEY `by column` (`a column`))');
    await c.query('CREATE TABLE `bundle``tick` (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))');
    await c.query('CREATE TABLE BundleMixed (id INT PRIMARY KEY, n INT, KEY n (n))');
    await c.query('CREATE TABLE bundle_plain (id INT PRIMARY KEY)');
    await c.query('CREATE VIEW bundle_view AS SELECT id FROM bundle_plain');
    await c.query('CREATE TABLE bundle_gone (id INT)');
    await c.query('CREATE TABLE bundle_secret (id INT, secret VARCHAR(10))');
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      await c.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM '${LIMITED.user}'@'${host}'`).catch(() => undefined);
      for (const t of readable) await c.query(`GRANT SELECT, SHOW VIEW ON ${db}.\`${t.replaceAll('`', '``')}\` TO '${LIMITED.user}'@'${host}'`);
    }
    await captureWhile({ file }, async () => {
      const w = await createConnection(s);
      await w.query('SELECT * FROM `bundle odd name` WHERE id = 1');
      await w.query("INSERT INTO `bundle``tick` (v) VALUES ('x')");
      await w.query('SELECT COUNT(*) FROM BundleMixed WHERE n > 3');
      await w.query(`SELECT * FROM ${db}.bundle_plain JOIN bundle_view USING (id)`);
      await w.query('SELECT * FROM bundle_gone');
      await w.query('SELECT * FROM bundle_secret');
      await endAndWait(w);
    });
    await c.query('DROP TABLE bundle_gone');
    await endAndWait(c);
  })();
  return captured;
}

after(async () => {
  if (captured === null) return;
  const c = await createConnection({ ...s, multipleStatements: true });
  await c.query('DROP VIEW IF EXISTS bundle_view; DROP TABLE IF EXISTS `bundle odd name`, `bundle``tick`, BundleMixed, bundle_plain, bundle_gone, bundle_secret');
  await endAndWait(c);
});

async function bundle(name: string, env: Record<string, string>, ...args: string[]) {
  const out = join(dir, `${name}.tar.gz`);
  const r = await periscopeWith({ env: { HOME: dir, ...env } }, 'bundle', file, '-o', out, '--schema-from', `${s.host}:${s.port}`, ...args);
  assert.equal(r.code, 0, r.stderr);
  const m = await members(out);
  const tables = JSON.parse(m.get('schema/tables.json')?.toString() ?? '[]') as SchemaTable[];
  return { r, out, m, man: manifestOf(m), tables, byName: (t: string) => tables.find((x) => x.table === t) };
}

test('schema as the test account: names that need quoting, mixed case, a view, a qualified name; the dropped table is missing', opts, async () => {
  await capture();
  const b = await bundle('full', { MYSQL_PWD: s.password }, '--user', s.user);
  const sm = b.man.schema;
  assert.equal(sm.collected, true, sm.reason ?? '');
  assert.equal(sm.password_from, 'MYSQL_PWD');
  assert.match(sm.server_version!, /MariaDB|^\d+\.\d+/);
  assert.deepEqual(sm.tables.missing, [`${db}.bundle_gone`]);
  assert.deepEqual(sm.tables.denied, []);
  assert.match(b.r.stderr, /schema: 1 of \d+ tables not collected: periscope_test\.bundle_gone \(missing\)/);
  for (const t of [...readable, 'bundle_secret']) {
    const x = b.byName(t);
    assert.ok(x, `${t} is in schema/tables.json`);
    assert.equal(x.status, 'collected', `${t}: ${x.reason}`);
    assert.equal(x.database, db);
  }
  assert.match(b.byName('bundle odd name')!.create!, /^CREATE TABLE `bundle odd name`/);
  assert.ok(b.byName('bundle odd name')!.indexes.some((i) => i.key_name === 'by column' && i.column_name === 'a column'));
  assert.match(b.byName('bundle`tick')!.create!, /^CREATE TABLE `bundle``tick`/);
  assert.match(b.byName('BundleMixed')!.create!, /^CREATE TABLE `BundleMixed`/, 'found from the fingerprint\'s lower-case name');
  assert.equal(b.byName('bundle_view')!.type, 'VIEW');
  assert.match(b.byName('bundle_view')!.create!, /VIEW (`periscope_test`\.)?`bundle_view` AS select/i);
  const plain = b.byName('bundle_plain')!;
  assert.equal(plain.type, 'BASE TABLE');
  assert.equal(plain.statistics!.engine, 'InnoDB');
  // (numbers, not the strings some servers send: the collector converts them)
  assert.equal(typeof plain.statistics!.data_length, 'number');
  assert.equal(typeof plain.statistics!.index_length, 'number');
  assert.ok((plain.statistics!.data_length as number) > 0, 'InnoDB gives a table at least one page');
  assert.ok(plain.indexes.some((i) => i.key_name === 'PRIMARY'));
  const gone = b.byName('bundle_gone')!;
  assert.equal(gone.status, 'missing');
  assert.match(gone.reason!, /doesn't exist/);
  const server = JSON.parse(b.m.get('schema/server.json')!.toString()) as { version: string; variables: Record<string, string> };
  assert.ok(Number(server.variables.innodb_buffer_pool_size) > 0);
  assert.ok(Number(server.variables.max_connections) > 0);
  for (const v of Object.keys(server.variables)) assert.ok(VARIABLE_ALLOW_LIST.includes(v), `${v} is allow-listed`);
  const sql = b.m.get('schema/tables.sql')!.toString();
  assert.match(sql, /USE `periscope_test`;\nCREATE TABLE `bundle``tick`/);
  const i = await periscope('inspect', b.out);
  assert.equal(i.code, 0, i.stderr);
  assert.match(i.stdout, /Schema: from 127\.0\.0\.1:3306 \(.*\): 6 tables, 1 missing, \d+ global variables/);
});

test('schema as an account without privileges on one table: that one is denied, the rest collected', opts, async () => {
  await capture();
  const b = await bundle('limited', { MYSQL_PWD: LIMITED.password }, '--user', LIMITED.user);
  const sm = b.man.schema;
  assert.equal(sm.collected, true, sm.reason ?? '');
  // The server does not tell this account whether a table it may not read exists: the dropped one is denied too.
  assert.deepEqual([...sm.tables.denied].sort(), [`${db}.bundle_gone`, `${db}.bundle_secret`]);
  assert.match(b.byName('bundle_secret')!.reason!, /denied/);
  for (const t of readable) assert.equal(b.byName(t)?.status, 'collected', t);
  assert.equal(sm.tables.collected, readable.length);
  assert.match(b.r.stderr, /periscope_test\.bundle_secret \(no privilege\)/);
});

test('the password from an option file; a wrong one leaves the schema out and says why', opts, async () => {
  await capture();
  const cnf = join(dir, 'client.cnf');
  await writeFile(cnf, `[mysqld]\npassword=wrong\n[client]\nuser = ${s.user}\npassword = "${s.password}"\n`, { mode: 0o600 });
  const b = await bundle('cnf', {}, '--defaults-file', cnf);
  assert.equal(b.man.schema.collected, true, b.man.schema.reason ?? '');
  assert.equal(b.man.schema.password_from, 'option file');
  assert.equal(b.man.schema.user, s.user);
  const w = await bundle('wrong', { MYSQL_PWD: 'not-the-password' }, '--user', s.user);
  assert.equal(w.man.schema.collected, false);
  assert.match(w.man.schema.reason!, /cannot connect to 127\.0\.0\.1:3306 as periscope: Access denied/);
  assert.match(w.r.stderr, /no schema in the bundle: cannot connect .* Access denied/);
  assert.ok(![...w.m.values()].some((b) => b.includes('not-the-password')), 'the password is nowhere in the bundle');
});

test('the password prompt on a terminal: asked only after the server refuses, typed without echo', opts, async (t) => {
  if (!(await have('script'))) {
    if (requireLive) throw new Error('script (util-linux) is needed to give the CLI a terminal');
    t.skip('script (util-linux) is not installed');
    return;
  }
  await capture();
  const out = join(dir, 'prompt.tar.gz');
  const typed = 'periscope';
  const cmd = `node ${bin} bundle ${file} -o ${out} --schema-from ${s.host}:${s.port} --user ${s.user}`;
  const p = execa('script', ['-q', '-e', '-c', cmd, '/dev/null'], { reject: false, env: { HOME: dir } });
  let seen = '';
  let answered = false;
  p.stdout!.on('data', (d: Buffer) => {
    seen += d.toString();
    if (!answered && seen.includes(`Password for ${s.user} on ${s.host}:${s.port}: `)) {
      answered = true;
      p.stdin!.write(`${typed}\r`);
    }
  });
  const timer = setTimeout(() => p.kill(), 60_000);
  const r = await p;
  clearTimeout(timer);
  assert.ok(answered, `the prompt was shown: ${seen}`);
  assert.equal(r.exitCode, 0, seen);
  const after = seen.slice(seen.indexOf('Password for'));
  assert.ok(!after.split('\n')[0]!.includes(`: ${typed}`), `no echo: ${JSON.stringify(after.slice(0, 80))}`);
  const man = manifestOf(await members(out));
  assert.equal(man.schema.collected, true, man.schema.reason ?? '');
  assert.equal(man.schema.password_from, 'prompt');
});

test('tables of a connection opened before the capture: database (unknown) in the report, looked up by name for the bundle; absent and ambiguous said', opts, async () => {
  const midFile = join(dir, 'mid-stream.pcap');
  const c = await createConnection({ ...s, multipleStatements: true });
  const [[lc]] = (await c.query('SELECT @@lower_case_table_names AS v')) as unknown as [[{ v: number }]];
  // Two tables whose names differ in case only: one fingerprint name, two tables (when the server keeps case).
  const dup = Number(lc.v) === 0;
  await c.query('DROP TABLE IF EXISTS bundle_unique_mid, bundle_dup_mid, BUNDLE_DUP_MID');
  await c.query('CREATE TABLE bundle_unique_mid (id INT PRIMARY KEY)');
  if (dup) await c.query('CREATE TABLE bundle_dup_mid (id INT); CREATE TABLE BUNDLE_DUP_MID (id INT)');
  // Logged in (with a database) before tcpdump starts: the capture sees neither.
  const w = await createConnection(s);
  try {
    await captureWhile({ file: midFile }, async () => {
      await w.query('SELECT * FROM bundle_unique_mid WHERE id = 1');
      await w.query('SELECT * FROM bundle_nowhere_mid').catch(() => undefined);
      if (dup) await w.query('SELECT * FROM bundle_dup_mid');
      // Logged in inside the capture with no database: (none), and a qualified name.
      const none = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password });
      await none.query(`SELECT * FROM ${db}.bundle_unique_mid`);
      await endAndWait(none);
    });
    const report = await periscope('analyze', midFile, '--format', 'json');
    assert.equal(report.code, 0, report.stderr);
    const r = JSON.parse(report.stdout) as { overall: { databases: Record<string, number>; users: Record<string, number> }; fingerprints: { tables: string[]; databases: Record<string, number> }[] };
    assert.ok((r.overall.databases['(unknown)'] ?? 0) >= 2, JSON.stringify(r.overall.databases));
    assert.ok((r.overall.databases['(none)'] ?? 0) >= 1, JSON.stringify(r.overall.databases));
    assert.ok((r.overall.users['(unknown)'] ?? 0) >= 2, JSON.stringify(r.overall.users));
    assert.deepEqual(r.fingerprints.find((f) => f.tables.includes('bundle_unique_mid'))!.databases, { '(unknown)': 1 });
    const text = await periscope('analyze', midFile);
    assert.match(text.stdout, /Databases +.*\(unknown\) \(\d+\)/);

    const out = join(dir, 'mid-stream.tar.gz');
    const b = await periscopeWith({ env: { HOME: dir, MYSQL_PWD: s.password } }, 'bundle', midFile, '-o', out, '--schema-from', `${s.host}:${s.port}`, '--user', s.user);
    assert.equal(b.code, 0, b.stderr);
    const m = await members(out);
    const sm = manifestOf(m).schema;
    assert.equal(sm.collected, true, sm.reason ?? '');
    const tables = JSON.parse(m.get('schema/tables.json')!.toString()) as SchemaTable[];
    const unique = tables.find((t) => t.table === 'bundle_unique_mid')!;
    assert.equal(unique.database, db, 'found by name in the one schema that has it');
    assert.equal(unique.status, 'collected');
    assert.ok(!tables.some((t) => t.database === '(unknown)' || t.database === '(none)'), 'never asked for as (unknown).t or (none).t');
    assert.deepEqual(sm.tables.unresolved, ['bundle_nowhere_mid']);
    assert.match(b.stderr, /a table of statements with no database known found in no schema: bundle_nowhere_mid/);
    if (dup) {
      assert.deepEqual(sm.tables.ambiguous, [`bundle_dup_mid: ${db}.BUNDLE_DUP_MID, ${db}.bundle_dup_mid`]);
      assert.deepEqual(tables.filter((t) => t.table.toLowerCase() === 'bundle_dup_mid').map((t) => [t.table, t.status]).sort(), [['BUNDLE_DUP_MID', 'collected'], ['bundle_dup_mid', 'collected']]);
      assert.match(b.stderr, /several places .*bundle_dup_mid: /);
    }
  } finally {
    await endAndWait(w);
    await c.query('DROP TABLE IF EXISTS bundle_unique_mid, bundle_dup_mid, BUNDLE_DUP_MID');
    await endAndWait(c);
  }
});

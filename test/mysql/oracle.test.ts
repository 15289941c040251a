/**
 * tshark as an oracle for the MySQL decoder, on real captures: the bundled sample, every link-layer
 * fixture (but the one that lost a packet) and the public MySQL traces of test/fixtures/mysql.
 * `periscope events --no-redact` must agree with Wireshark's MySQL dissector on:
 *   - the number of commands of each kind,
 *   - the SQL of every COM_QUERY and COM_STMT_PREPARE, in order,
 *   - the database of every COM_INIT_DB and the table of every COM_FIELD_LIST,
 *   - the user of every login,
 *   - every error code (logins included), in order,
 *   - the non-zero affected-row counts, in order.
 * Needs tshark: skipped without it on a laptop, required in CI (PERISCOPE_REQUIRE_LIVE=1).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { have, requireLive } from '../live/env.js';
import { periscope, repoRoot } from '../cli/run.js';
import { commandName } from '../../src/mysql/constants.js';

const tshark = await have('tshark');
if (!tshark && requireLive) throw new Error('tshark is required in CI (apt-get install tshark)');
const oracle = tshark ? {} : { skip: 'skipped: tshark not installed (apt-get install tshark)' };

const files = [
  join(repoRoot, 'samples/mariadb-basic.pcap'),
  ...readdirSync(join(repoRoot, 'test/fixtures/captures'))
    .filter((f) => f.endsWith('.pcap') && f !== 'linux-sll2-lost-packet.pcap')
    .map((f) => join(repoRoot, 'test/fixtures/captures', f)),
  ...readdirSync(join(repoRoot, 'test/fixtures/mysql'))
    .filter((f) => f.endsWith('.pcap'))
    .map((f) => join(repoRoot, 'test/fixtures/mysql', f)),
];

/** What both sides say about a capture. */
interface View {
  commands: Record<string, number>;
  sql: string[];
  initDb: string[];
  fieldList: string[];
  users: string[];
  errors: number[];
  affected: number[];
}

const SEP = '\x1e'; // between several values of one field in one frame (SQL may hold commas)

async function tsharkView(file: string): Promise<View> {
  const fields = ['mysql.command', 'mysql.query', 'mysql.schema', 'mysql.table_name', 'mysql.user', 'mysql.error_code', 'mysql.affected_rows', 'mysql.login_request'];
  const r = await execa('tshark', ['-n', '-r', file, '-Y', 'mysql', '-T', 'fields', '-E', `aggregator=${SEP}`, ...fields.flatMap((f) => ['-e', f])]);
  const v: View = { commands: {}, sql: [], initDb: [], fieldList: [], users: [], errors: [], affected: [] };
  for (const line of String(r.stdout).split('\n')) {
    if (line === '') continue;
    const [cmds, queries, schemas, tables, users, errors, affected, login] = line.split('\t').map((f) => (f === '' ? [] : f.split(SEP)));
    let q = 0;
    for (const c of cmds!) {
      const name = commandName(Number(c));
      // tshark reads some authentication data as commands (see test/fixtures/mysql/README.md).
      if (name === null) continue;
      v.commands[name] = (v.commands[name] ?? 0) + 1;
      if (name === 'query' || name === 'stmt_prepare') v.sql.push(queries![q++]!);
    }
    // mysql.schema is the init_db argument, or the database of a login request.
    if (login!.length === 0) v.initDb.push(...schemas!);
    v.fieldList.push(...tables!);
    v.users.push(...users!);
    v.errors.push(...errors!.map(Number));
    v.affected.push(...affected!.map(Number).filter((n) => n !== 0));
  }
  return v;
}

interface EventLine {
  cmd: string;
  sql: string | null;
  user: string | null;
  error_code: number | null;
  affected_rows: number | null;
  status: string;
}

async function periscopeView(file: string): Promise<{ view: View; events: EventLine[] }> {
  const r = await periscope('events', '--no-redact', file);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EventLine);
  const v: View = { commands: {}, sql: [], initDb: [], fieldList: [], users: [], errors: [], affected: [] };
  for (const e of events) {
    if (e.cmd === 'connect') {
      if (e.user !== null) v.users.push(e.user);
    } else v.commands[e.cmd] = (v.commands[e.cmd] ?? 0) + 1;
    if (e.cmd === 'query' || e.cmd === 'stmt_prepare') v.sql.push(e.sql ?? '(null)');
    if (e.cmd === 'init_db') v.initDb.push(e.sql ?? '(null)');
    if (e.cmd === 'field_list') v.fieldList.push(e.sql ?? '(null)');
    if (e.error_code !== null) v.errors.push(e.error_code);
    if (e.affected_rows !== null && e.affected_rows !== 0) v.affected.push(e.affected_rows);
  }
  return { view: v, events };
}

describe('periscope events agrees with tshark', { concurrency: 4 }, () => {
  for (const file of files) {
    test(file.slice(repoRoot.length), oracle, async () => {
      const [want, got] = await Promise.all([tsharkView(file), periscopeView(file)]);
      assert.deepEqual(got.view, want);
      // And the decoder itself had nothing to complain about.
      for (const e of got.events) if (e.cmd !== 'connect') assert.notEqual(e.status, 'incomplete', `${e.cmd} ${e.sql ?? ''} is incomplete`);
    });
  }
});

test('the oracle covers what it should', oracle, async () => {
  // Guard against a vacuous comparison: the fixtures hold every kind the test compares.
  const all = await Promise.all(files.map((f) => tsharkView(f)));
  const kinds = new Set(all.flatMap((v) => Object.keys(v.commands)));
  for (const k of ['query', 'stmt_prepare', 'stmt_execute', 'stmt_close', 'init_db', 'field_list', 'ping', 'quit']) assert.ok(kinds.has(k), k);
  assert.ok(all.some((v) => v.errors.includes(1158)), 'a login error');
  assert.ok(all.some((v) => v.errors.includes(1146) && v.errors.includes(1062)));
  assert.ok(all.some((v) => v.initDb.length > 0 && v.fieldList.length > 0));
});

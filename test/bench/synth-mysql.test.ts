/**
 * The realistic benchmark capture (bench/synth-mysql.ts) holds what its sidecar says, so the
 * benchmark can check `periscope analyze` against the truth and not only against other tools:
 *   - `periscope analyze` on a few generated megabytes reports health "good", no incomplete
 *     command, and per fingerprint exactly the generator's counts, commands, errors, rows sent and
 *     affected and full scans (bench/truth.ts);
 *   - tshark's MySQL dissector counts every kind of command as the sidecar does (skipped without
 *     tshark, required in CI like the other tshark oracles);
 *   - every execution of a template folds to its template's fingerprint (the premise of the truth);
 *   - the file is the same for the same seed, and a smaller capture is a prefix of a larger one.
 * Sizes are small so this runs in a few seconds; nothing here is timed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { synthesizeMysqlCapture, type MysqlCaptureMeta } from '../../bench/synth-mysql.js';
import { compareGroups, expectedGroups, reportedGroups, type ReportFingerprint } from '../../bench/truth.js';
import { buildServices, instanceSql, scanLiterals } from '../../bench/workload.js';
import { Prng } from '../../bench/pcap-writer.js';
import { SqlNormalizer } from '../../src/sql/index.js';
import { commandName } from '../../src/mysql/constants.js';
import { have, requireLive } from '../live/env.js';
import { periscope } from '../cli/run.js';

/** One normalizer for the whole file, its methods as functions. */
const sqlNormalizer = new SqlNormalizer();
const fingerprint = sqlNormalizer.fingerprint.bind(sqlNormalizer);

const tshark = await have('tshark');
if (!tshark && requireLive) throw new Error('tshark is required in CI (apt-get install tshark)');
const withTshark = tshark ? {} : { skip: 'skipped: tshark not installed (apt-get install tshark)' };

const SEED = 7;
let dir = '';
let file = '';
let meta: MysqlCaptureMeta;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-synth-mysql-'));
  file = join(dir, 'small.pcap');
  meta = synthesizeMysqlCapture(file, 4e6, SEED);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a generated capture', () => {
  test('holds what a realistic application sends', () => {
    assert.ok(meta.size >= 4e6);
    assert.ok(meta.commands.query! > 1000, `queries: ${meta.commands.query}`);
    for (const cmd of ['stmt_prepare', 'stmt_execute', 'stmt_close', 'ping', 'quit', 'connect']) assert.ok(meta.commands[cmd]! > 0, `${cmd}: ${meta.commands[cmd]}`);
    assert.equal(meta.commands.quit, meta.connections);
    const ran = meta.templates.filter((t) => t.count > 0);
    assert.ok(ran.length > 50, `templates run: ${ran.length}`);
    assert.ok(
      ran.some((t) => Object.keys(t.errors).length > 0),
      'some errors',
    );
    // Full scans are rare (1 statement in 3,500): a few megabytes may hold none, the workload has them.
    const templates = buildServices(new Prng(SEED)).flatMap((s) => s.templates);
    assert.ok(
      templates.some((t) => t.noIndexUsed),
      'full scans in the workload',
    );
  });

  test('periscope analyze reports health good and exactly the generated counts per fingerprint', async () => {
    const r = await periscope('analyze', file, '--format', 'json', '-q');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { health: { status: string; counters: Record<string, number> }; overall: { incomplete: number; connections: number }; fingerprints: ReportFingerprint[] };
    assert.equal(report.health.status, 'good', JSON.stringify(report.health));
    assert.equal(report.health.counters.commandsIncomplete, 0);
    assert.equal(report.health.counters.tcpConnections, meta.connections);
    assert.equal(report.overall.incomplete, 0);
    const a = compareGroups(expectedGroups(meta), reportedGroups(report.fingerprints));
    assert.deepEqual(a.differences, []);
    assert.equal(a.agreeing, a.expected);
  });

  test('the server status flags hold the transactions the generator opened: periscope analyze counts them and how they ended', async () => {
    assert.ok(meta.transactions.count > 0, 'BEGIN, START TRANSACTION and autocommit=0 open transactions');
    for (const end of ['commit', 'rollback', 'implicit', 'disconnect'] as const) assert.ok(meta.transactions.ends[end] > 0, `${end}: ${meta.transactions.ends[end]}`);
    const r = await periscope('analyze', file, '--format', 'json', '-q');
    assert.equal(r.code, 0, r.stderr);
    const tx = (JSON.parse(r.stdout) as { transactions: { count: number; ends: Record<string, number> } }).transactions;
    assert.equal(tx.count, meta.transactions.count);
    assert.deepEqual(tx.ends, Object.fromEntries(Object.entries(meta.transactions.ends).filter(([, n]) => n > 0)));
  });

  test('tshark counts every kind of command as the generator wrote them', withTshark, async () => {
    const r = await execa('tshark', ['-n', '-r', file, '-Y', 'mysql.command', '-T', 'fields', '-e', 'mysql.command', '-E', 'aggregator=,']);
    const counts: Record<string, number> = {};
    for (const line of String(r.stdout).split('\n')) {
      for (const c of line.split(',')) {
        if (c === '') continue;
        const name = commandName(Number(c)) ?? c;
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
    const { connect: _logins, ...commands } = meta.commands;
    assert.deepEqual(counts, Object.fromEntries(Object.entries(commands).filter(([, n]) => n > 0)));
  });

  test('tshark -Y mysql.query finds every COM_QUERY and COM_STMT_PREPARE', withTshark, async () => {
    const r = await execa('tshark', ['-n', '-r', file, '-Y', 'mysql.query', '-T', 'fields', '-e', 'mysql.command']);
    const lines = String(r.stdout).split('\n').filter((l) => l !== '');
    assert.equal(lines.filter((l) => l === '3').length, meta.commands.query);
    assert.equal(lines.length, meta.commands.query! + meta.commands.stmt_prepare!);
  });

  test('the same seed writes the same bytes, and a smaller target writes a prefix of a larger one', async () => {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const small = synthesizeMysqlCapture(a, 1e6, SEED);
    const again = synthesizeMysqlCapture(b, 1e6, SEED);
    assert.deepEqual(again, small);
    assert.ok((await readFile(a)).equals(await readFile(b)));
    // The 4 MB capture went on where the 1 MB one stopped starting commands (at 1e6 bytes).
    const big = await readFile(file);
    const prefix = (await readFile(a)).subarray(0, 1e6);
    assert.ok(big.subarray(0, 1e6).equals(prefix));
  });
});

describe('the workload', () => {
  test('literals are numbers and single-quoted strings; identifiers, hex, comments and placeholders are not', () => {
    const { pieces, placeholders } = scanLiterals("select t1.id, x'ff', 0x1F, `a1` /* 42 */ from t where a = -1.5e3 and b = 'it''s \\' 7' and c = ? and d in (1,2)");
    const literals = pieces.flatMap((p) => ('number' in p ? [p.number] : 'quoted' in p ? [p.quoted] : []));
    assert.deepEqual(literals, ['1.5e3', "'it''s \\' 7'", '1', '2']);
    assert.equal(placeholders, 1);
  });

  test('every execution of a template has the template’s fingerprint', () => {
    const rng = new Prng(11);
    for (const s of buildServices(new Prng(SEED))) {
      for (const t of [...s.templates, ...s.init]) {
        const fp = fingerprint(t.sql);
        for (let i = 0; i < 20; i++) {
          const sql = instanceSql(t, rng);
          assert.equal(fingerprint(sql), fp, `${t.source}: ${sql}`);
        }
      }
    }
  });
});

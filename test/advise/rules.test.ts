/**
 * Advice rules on hand-made events and schemas: the index a flagged statement wants (three-star
 * order, an existing index that covers it), redundant indexes, tables without a primary key,
 * implicit conversions from typed shapes, and what a fingerprint without a shape may not judge.
 * The live test (test/live/advise.test.ts) checks every rule on real MariaDB traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator } from '../../analyze/aggregate/aggregate.js';
import { buildReport, shapesOf, type ReportContext } from '../../analyze/report/report.js';
import { findOpportunities } from '../../analyze/advise/rules.js';
import { Schema } from '../../analyze/advise/schema.js';
import { literalShape } from '../../src/sql/shape.js';
import type { SchemaTable } from '../../analyze/schema/collect.js';
import type { CommandEvent } from '../../src/mysql/session.js';

const ctx: ReportContext = { version: 'test', files: [], filters: null, order: 'time', redacted: true, interrupted: false };

function ev(sql: string, o: Partial<CommandEvent> = {}): CommandEvent {
  return {
    conn: 1, sec: 1_795_237_684, nsec: 0, client: '10.0.0.5:5000', server: '10.0.0.1:3306', connId: 1, user: 'app', db: 'shop', cmd: 'query', sql, sqlTruncated: false, params: null, paramTypes: null,
    status: 'ok', latencyUs: 1000, responseUs: 1000, rows: 1, affectedRows: null, insertId: null, warnings: 0, errorCode: null, sqlState: null, error: null, noIndexUsed: true, noGoodIndexUsed: false,
    serverStatus: 0x22, bytesIn: 10, bytesOut: 10, resultSets: 1, tls: false, tlsVersion: null, tlsCipher: null, tlsDecrypted: null, noBackslashEscapes: false, ended: null, durationUs: null, compressed: false, ...o,
  };
}

function table(name: string, create: string, indexes: [string, number, string, boolean][]): SchemaTable {
  return {
    database: 'shop', table: name, status: 'collected', reason: null, type: 'BASE TABLE', create, statistics: { engine: 'InnoDB' } as SchemaTable['statistics'],
    indexes: indexes.map(([key_name, seq_in_index, column_name, unique]) => ({ key_name, seq_in_index, column_name, non_unique: unique ? 0 : 1, sub_part: null, index_type: 'BTREE' })),
  };
}

const schema = new Schema([
  table('orders', 'CREATE TABLE `orders` (\n  `id` int(11) NOT NULL,\n  `customer_id` int(11) NOT NULL,\n  `status` varchar(16) DEFAULT NULL,\n  `created` datetime DEFAULT NULL,\n  `code` varchar(20) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)', [['PRIMARY', 1, 'id', true], ['by_status', 1, 'status', false], ['by_status_created', 1, 'status', false], ['by_status_created', 2, 'created', false]]),
  table('log', 'CREATE TABLE `log` (\n  `msg` varchar(100) DEFAULT NULL\n)', []),
]);

function advise(sqls: string[], withSchema = true) {
  const agg = new Aggregator();
  sqls.forEach((s, i) => agg.add(ev(s, { nsec: i })));
  const st = agg.toState();
  return findOpportunities(buildReport(st, ctx), { shapes: shapesOf(st), schema: withSchema ? schema : null });
}

test('IDX.002: equality columns, then the range, as one ADD INDEX; none when an index covers them', () => {
  const f = advise(["SELECT id FROM orders WHERE created > '2025-01-01' AND customer_id = 7"]);
  assert.deepEqual(f.filter((x) => x.rule === 'IDX.002').map((x) => x.ddl), ['ALTER TABLE `shop`.`orders` ADD INDEX `idx_customer_id_created` (`customer_id`, `created`)']);
  const covered = advise(["SELECT id FROM orders WHERE status = 'new' ORDER BY created"]);
  assert.deepEqual(covered.filter((x) => x.rule === 'IDX.002'), [], 'by_status_created serves it');
  const sorted = advise(['SELECT id FROM orders WHERE customer_id = 7 ORDER BY created']);
  assert.match(sorted.find((x) => x.rule === 'IDX.002')!.ddl!, /\(`customer_id`, `created`\)$/);
  const or = advise(['SELECT id FROM orders WHERE customer_id = 7 OR code = 3']);
  assert.deepEqual(or.filter((x) => x.rule === 'IDX.002'), [], 'conditions under an OR are not an index prefix');
});

test('IDX.003 and KEY.001 from the schema; ARG.003 from a typed shape', () => {
  const f = advise(["SELECT id FROM orders WHERE code = 12345", "INSERT INTO log (msg) VALUES ('x')"]);
  assert.equal(f.find((x) => x.rule === 'IDX.003')!.ddl, 'ALTER TABLE `shop`.`orders` DROP INDEX `by_status`');
  assert.match(f.find((x) => x.rule === 'KEY.001')!.ddl!, /^ALTER TABLE `shop`\.`log` ADD COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY/);
  assert.match(f.find((x) => x.rule === 'ARG.003')!.title, /orders\.code \(varchar\(20\)\)/);
  assert.equal(advise(["SELECT id FROM orders WHERE code = '12345'"]).find((x) => x.rule === 'ARG.003'), undefined, 'a string compared with a string');
});

test('without a shape, rules that need literal kinds stay silent; without a schema, schema rules do', () => {
  const agg = new Aggregator();
  agg.add(ev("SELECT id FROM orders WHERE code = 12345 AND status LIKE '%x'"));
  const r = buildReport(agg.toState(), ctx);
  const noShape = findOpportunities(r, { schema });
  assert.deepEqual(noShape.filter((x) => x.rule === 'ARG.003' || x.rule === 'ARG.001'), []);
  const withShape = findOpportunities(r, { shapes: shapesOf(agg.toState()), schema });
  assert.deepEqual(withShape.filter((x) => x.rule === 'ARG.003' || x.rule === 'ARG.001').map((x) => x.rule).sort(), ['ARG.001', 'ARG.003']);
  assert.deepEqual(advise(['SELECT id FROM orders WHERE customer_id = 7'], false).filter((x) => ['IDX.002', 'IDX.003', 'KEY.001'].includes(x.rule)), []);
});

test('findings hold no literal: examples are redacted, shapes never shown', () => {
  const f = advise(["SELECT * FROM orders WHERE code = 98765431 AND status LIKE '%canary-4471%' ORDER BY RAND() LIMIT 123456, 10"]);
  const text = JSON.stringify(f);
  assert.ok(f.length >= 5);
  for (const v of ['98765431', 'canary-4471', '123456', '100000']) assert.ok(!text.includes(v), v);
});

test('literalShape: literal kinds and magnitudes, no value', () => {
  assert.equal(literalShape("SELECT a FROM t WHERE b LIKE '%bob%' AND c = 'x' AND d = 4711 AND e IN (1, 2) /* 99 */ LIMIT 20000, 10"), "SELECT a FROM t WHERE b LIKE '%s' AND c = 's' AND d = 1000 AND e IN (1, 1) LIMIT 10000, 10");
  assert.equal(literalShape('SELECT a FROM t WHERE b = ? AND c = ?', [3, 253]), "SELECT a FROM t WHERE b = 0 AND c = 's'");
  assert.equal(literalShape("SELECT 'unterminated"), null);
});

test('ERR.001: a statement whose every execution failed is reported as failing, not advised on as if it ran', () => {
  const agg = new Aggregator();
  const typo = 'SELECT * FROM custmers';
  for (let i = 0; i < 4; i++) agg.add(ev(typo, { nsec: i, status: 'error', errorCode: 1146, sqlState: '42S02', error: "Table 'shop.custmers' doesn't exist", rows: null, noIndexUsed: false }));
  // The same text once successful: judged as usual.
  agg.add(ev('SELECT * FROM orders', { nsec: 9 }));
  agg.add(ev('SELECT * FROM orders', { nsec: 10, status: 'error', errorCode: 1317 }));
  const st = agg.toState();
  const f = findOpportunities(buildReport(st, ctx), { shapes: shapesOf(st), schema });
  const failing = f.filter((x) => x.evidence.examples.some((e) => /custmers/.test(e)) || x.title.includes('custmers'));
  assert.deepEqual(failing.map((x) => x.rule), ['ERR.001'], JSON.stringify(failing.map((x) => x.rule)));
  assert.match(failing[0]!.title, /all 4 executions returned an error \(1146 ×4\)/);
  assert.deepEqual(failing[0]!.evidence.counts, { calls: 4, errors: 4 });
  const ran = f.filter((x) => x.evidence.examples.some((e) => /orders/.test(e))).map((x) => x.rule);
  assert.ok(ran.includes('CLA.001') && ran.includes('COL.001') && !ran.includes('ERR.001'), ran.join(','));
});

test('evidence texts print figures as the reports do: thousands separators, short fractions, singular and plural', () => {
  const agg = new Aggregator();
  agg.add(ev('SELECT * FROM log', { nsec: 1, rows: 1000 }));
  agg.add(ev('SELECT * FROM log', { nsec: 2, rows: 2395 }));
  agg.add(ev('SELECT * FROM orders', { nsec: 3, rows: 1 }));
  agg.add(ev('SELECT * FROM orders', { nsec: 4, rows: 2 }));
  agg.add(ev('SELECT * FROM orders', { nsec: 5, rows: 2 }));
  agg.add(ev('DELETE FROM log', { nsec: 6, rows: null, affectedRows: 1 }));
  const st = agg.toState();
  const f = findOpportunities(buildReport(st, ctx), { shapes: shapesOf(st), schema });
  const detail = (rule: string, table: string) => f.find((x) => x.rule === rule && x.evidence.examples.some((e) => e.includes(table)))!.evidence.detail;
  assert.equal(detail('CLA.001', 'log'), 'Reads every row of log (1,698 rows sent on average).');
  assert.equal(detail('CLA.001', 'orders'), 'Reads every row of orders (1.67 rows sent on average).');
  assert.equal(detail('CLA.008', 'log'), 'Every row of log is changed (1 row affected at most).');
  assert.match(detail('IDX.001', 'DELETE'), / of 1 execution: /);
});

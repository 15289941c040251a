/**
 * SQL redaction + fingerprint + digest throughput (src/sql), in MB/s of SQL text.
 *
 *   node build/bench/sql.js            (after `npx tsc -p .`)
 *   PERISCOPE_BENCH_SQL_MB=50 PERISCOPE_BENCH_REPS=5
 *
 * The statements are the corpus of test/sql/corpus/*.json (MySQL documentation examples and the SQL
 * of Hibernate, ActiveRecord, Django and Sequelize), repeated with fresh literal values (`vary`: the
 * digits of numbers, the letters and digits inside simple quoted strings, at random; names stay as
 * written) until they make PERISCOPE_BENCH_SQL_MB megabytes (default 50). They are laid end to end in one buffer,
 * as the MySQL decoder will find them in packets, and each run calls `normalizeBytes` (redacted
 * text, fingerprint and digest) on every statement's slice; the best of PERISCOPE_BENCH_REPS runs
 * (default 5) is reported, after a warm-up run. `normalize` (the same from JS strings) is measured
 * too, and so are `fingerprintAndDigestBytes` (grouping without the redacted text), `normalizeBytes`
 * with the template cache off (every statement lexed), the statements of the ORM corpora alone
 * (longer, like real traffic), the worst case (`varyNames`: the digits inside names changed too, so
 * that a fifth of the statements are new ones at every copy; the bench's input until session 3),
 * and a bare loop that only classifies bytes (the machine's yardstick: the least any lexer does).
 * Target: 200 MB/s for `normalizeBytes`.
 *
 * Every timed run starts with empty caches (`clearSqlCaches`): the runs go over the same input, and
 * caches kept from the run before would make every statement one seen before, which a capture's
 * statements are not the first time. So each run is a first sight of 50 MB of traffic: the
 * corpus's shapes are new the first time round and then recur with other values.
 *
 * `runSqlBench()` is exported for bench/run.ts; run on its own, this file prints the figures and
 * exits 0 (missing the target is reported, not an error).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SqlNormalizer } from '../src/sql/index.js';

/** The normalizer measured (its caches emptied before each timed run). */
const normalizer = new SqlNormalizer();

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS_DIR = join(ROOT, 'test', 'sql', 'corpus');

export const TARGET_SQL_MBPS = 200;

export interface SqlBenchResult {
  /** Statements in the corpus the bench input repeats. */
  corpusStatements: number;
  statements: number;
  bytes: number;
  averageBytes: number;
  distinctFingerprints: number;
  /** normalizeBytes: best of the runs. */
  bytesPath: { bestSeconds: number; mbPerSecond: number; statementsPerSecond: number; runs: number[] };
  /** normalize on strings: best of the runs. */
  stringPath: { bestSeconds: number; mbPerSecond: number; statementsPerSecond: number; runs: number[] };
  /** fingerprintAndDigestBytes (no redacted text): best of the runs. */
  fingerprintOnly: { bestSeconds: number; mbPerSecond: number; statementsPerSecond: number; runs: number[] };
  /** normalizeBytes with the template cache off: every statement lexed. */
  noTemplates: { bestSeconds: number; mbPerSecond: number; statementsPerSecond: number; runs: number[] };
  /** Share of the statements of a run that matched a template. */
  templateHits: number;
  /** A bare byte-classifying loop over the same input: the machine's yardstick. */
  bare: { bestSeconds: number; mbPerSecond: number; statementsPerSecond: number; runs: number[] };
  /** normalizeBytes on the statements of the ORM corpora only (longer statements, as in real traffic). */
  ormOnly: { bytes: number; averageBytes: number; mbPerSecond: number };
  /** normalizeBytes on the corpus varied by `varyNames` (digits inside names changed too): the worst case. */
  namesVaried: { mbPerSecond: number; distinctFingerprints: number };
  targetMbPerSecond: number;
  pass: boolean;
}

/** A small deterministic PRNG (xorshift32), so every run builds the same input. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export function loadCorpus(dir = CORPUS_DIR, keep: (file: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json') || !keep(f)) continue;
    const entries = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { sql: string }[];
    for (const e of entries) out.push(e.sql);
  }
  return out;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * The statement with fresh literal values, as a capture repeats a statement: the digits of every
 * number, and the digits and letters inside simple quoted strings ('…' without escapes; the
 * digits of X'…' and 0x… stay hex digits, those of B'…' and 0b… bits). Names stay as written
 * (`user0_`, `id1_0_0_`, `t1`, `@p0`, `$1`, backquoted names), and so do the version numbers of
 * executable comments (`/*!40101`): changing those makes another statement, not the same one with
 * other values. (`varyNames` changes them too: the bench's worst case.)
 */
export function vary(sql: string, rnd: () => number): string {
  return sql.replace(LITERAL_OR_NAME, (m: string) => {
    const c = m.charCodeAt(0);
    if (c === 0x27) return `'${m.slice(1, -1).replace(/[A-Za-z0-9]/g, (x) => (x >= '0' && x <= '9' ? digit(rnd) : letter(rnd)))}'`;
    if (c >= 0x30 && c <= 0x39) {
      const x = m.charCodeAt(1) | 0x20;
      if (m.length > 2 && x === 0x62) return m.slice(0, 2) + m.slice(2).replace(/[01]/g, () => bit(rnd));
      if (m.length > 2 && x === 0x78) return m.slice(0, 2) + m.slice(2).replace(/[0-9]/g, () => digit(rnd));
      return m.replace(/[0-9]/g, () => digit(rnd));
    }
    if ((c | 0x20) === 0x62 && m.charCodeAt(1) === 0x27) return m.replace(/[01]/g, () => bit(rnd)); // B'…'
    if ((c | 0x20) === 0x78 && m.charCodeAt(1) === 0x27) return m.slice(0, 2) + m.slice(2).replace(/[0-9]/g, () => digit(rnd)); // X'…'
    return m; // a name, a backquoted name, an executable comment's start
  });
}
/** X'…', B'…'; simple 'strings'; backquoted names; `/*!version`, `/*M!version`; names (with `@`, `$`); hex and bit numbers; numbers. */
const LITERAL_OR_NAME = /[xXbB]'[^'\\\n]*'|'[^'\\\n]*'|`[^`]*`|\/\*M?!?[0-9]*|[A-Za-z_$@][A-Za-z0-9_$]*|0[xX][0-9A-Fa-f]+|0[bB][01]+|[0-9]+/g;
const digit = (rnd: () => number): string => String(Math.floor(rnd() * 10));
const bit = (rnd: () => number): string => (rnd() < 0.5 ? '0' : '1');
const letter = (rnd: () => number): string => LETTERS[Math.floor(rnd() * LETTERS.length)]!;

/**
 * The bench's first `vary`, kept as its worst case: every digit anywhere (in names too, so that a
 * fifth of the corpus's statements are new ones every time: Hibernate's aliases, `t1`), letters
 * inside simple 'strings'.
 */
export function varyNames(sql: string, rnd: () => number): string {
  const digits = sql.replace(/[0-9]/g, () => digit(rnd));
  return digits.replace(/'([^'\\\n]*)'/g, (_m, body: string) => `'${body.replace(/[A-Za-z]/g, () => letter(rnd))}'`);
}

export interface BenchInput {
  buffer: Uint8Array;
  /** Statement i is buffer[offsets[i], offsets[i + 1]). */
  offsets: Int32Array;
  strings: string[];
}

export function buildInput(corpus: string[], targetBytes: number, seed = 20250101, fresh: (sql: string, rnd: () => number) => string = vary): BenchInput {
  const rnd = prng(seed);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const strings: string[] = [];
  let total = 0;
  while (total < targetBytes) {
    for (const sql of corpus) {
      const s = fresh(sql, rnd);
      const b = encoder.encode(s);
      parts.push(b);
      strings.push(s);
      total += b.length;
      if (total >= targetBytes) break;
    }
  }
  const buffer = new Uint8Array(total);
  const offsets = new Int32Array(parts.length + 1);
  let o = 0;
  parts.forEach((p, i) => {
    offsets[i] = o;
    buffer.set(p, o);
    o += p.length;
  });
  offsets[parts.length] = o;
  return { buffer, offsets, strings };
}

function timeBytes(input: BenchInput): { seconds: number; check: number } {
  const { buffer, offsets } = input;
  const n = offsets.length - 1;
  let check = 0;
  normalizer.clearCaches();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = normalizer.normalizeBytes(buffer, offsets[i], offsets[i + 1]);
    check += r.redacted.length + r.fingerprint.length + r.digest.length;
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, check };
}

function timeFingerprint(input: BenchInput): { seconds: number; check: number } {
  const { buffer, offsets } = input;
  const n = offsets.length - 1;
  let check = 0;
  normalizer.clearCaches();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = normalizer.fingerprintAndDigestBytes(buffer, offsets[i], offsets[i + 1]);
    check += r.fingerprint.length + r.digest.length;
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, check };
}

/** `timeBytes` with the template cache off. */
function timeNoTemplates(input: BenchInput): { seconds: number; check: number } {
  normalizer.setTemplates(false);
  try {
    return timeBytes(input);
  } finally {
    normalizer.setTemplates(true);
  }
}

/**
 * The machine's yardstick: the least a lexer must do, a loop that classifies every byte and cuts
 * runs of one class into tokens, nothing else.
 */
const BARE_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) BARE_CLASS[c] = c === 32 || c === 9 || c === 10 || c === 13 ? 1 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a ? 2 : c >= 0x30 && c <= 0x39 ? 3 : 0;
function timeBare(input: BenchInput): { seconds: number; check: number } {
  const { buffer, offsets } = input;
  const n = offsets.length - 1;
  let check = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const e = offsets[k + 1]!;
    let i = offsets[k]!;
    while (i < e) {
      const c = BARE_CLASS[buffer[i]!]!;
      i++;
      if (c !== 0) while (i < e && BARE_CLASS[buffer[i]!] === c) i++;
      check++;
    }
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, check };
}

function timeStrings(input: BenchInput): { seconds: number; check: number } {
  let check = 0;
  normalizer.clearCaches();
  const t0 = process.hrtime.bigint();
  for (const s of input.strings) {
    const r = normalizer.normalize(s);
    check += r.redacted.length + r.fingerprint.length + r.digest.length;
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, check };
}

export function runSqlBench(opts: { megabytes?: number; reps?: number; log?: (line: string) => void } = {}): SqlBenchResult {
  const mb = opts.megabytes ?? 50;
  const reps = Math.max(1, opts.reps ?? 5);
  const log = opts.log ?? ((): void => {});
  const corpus = loadCorpus();
  const input = buildInput(corpus, Math.round(mb * 1e6));
  const bytes = input.buffer.length;
  const statements = input.offsets.length - 1;
  const fingerprints = new Set<string>();
  for (let i = 0; i < statements; i += 97) fingerprints.add(normalizer.normalizeBytes(input.buffer, input.offsets[i], input.offsets[i + 1]).fingerprint);

  timeBytes(input); // warm-up: let the JIT settle
  timeNoTemplates(input);
  const before = normalizer.cacheStats();
  const bytesRuns: number[] = [];
  const stringRuns: number[] = [];
  const fpRuns: number[] = [];
  const coldRuns: number[] = [];
  const bareRuns: number[] = [];
  let templateHits = 0;
  for (let r = 0; r < reps; r++) {
    const b = timeBytes(input);
    bytesRuns.push(b.seconds);
    if (r === 0) {
      const after = normalizer.cacheStats();
      templateHits = (after.hits - before.hits) / statements;
    }
    const s = timeStrings(input);
    stringRuns.push(s.seconds);
    fpRuns.push(timeFingerprint(input).seconds);
    const c = timeNoTemplates(input);
    coldRuns.push(c.seconds);
    bareRuns.push(timeBare(input).seconds);
    log(`  run ${r + 1}/${reps}  normalizeBytes ${(bytes / b.seconds / 1e6).toFixed(0)} MB/s  normalize ${(bytes / s.seconds / 1e6).toFixed(0)} MB/s  no templates ${(bytes / c.seconds / 1e6).toFixed(0)} MB/s`);
  }
  const orm = buildInput(loadCorpus(CORPUS_DIR, (f) => f !== 'mysql-docs.json' && f !== 'tools-and-edges.json'), Math.round((mb * 1e6) / 5));
  timeBytes(orm);
  const ormBest = Math.min(...[0, 1, 2].map(() => timeBytes(orm).seconds));
  const names = buildInput(corpus, Math.round(mb * 1e6), 20250101, varyNames);
  timeBytes(names);
  const namesBest = Math.min(...[0, 1, 2].map(() => timeBytes(names).seconds));
  const namesFingerprints = new Set<string>();
  for (let i = 0; i < names.offsets.length - 1; i += 97) namesFingerprints.add(normalizer.normalizeBytes(names.buffer, names.offsets[i], names.offsets[i + 1]).fingerprint);
  const summarize = (runs: number[]): SqlBenchResult['bytesPath'] => {
    const best = Math.min(...runs);
    return { bestSeconds: best, mbPerSecond: bytes / best / 1e6, statementsPerSecond: statements / best, runs };
  };
  const bytesPath = summarize(bytesRuns);
  return {
    corpusStatements: corpus.length,
    statements,
    bytes,
    averageBytes: bytes / statements,
    distinctFingerprints: fingerprints.size,
    bytesPath,
    stringPath: summarize(stringRuns),
    fingerprintOnly: summarize(fpRuns),
    noTemplates: summarize(coldRuns),
    templateHits,
    bare: summarize(bareRuns),
    ormOnly: { bytes: orm.buffer.length, averageBytes: orm.buffer.length / (orm.offsets.length - 1), mbPerSecond: orm.buffer.length / ormBest / 1e6 },
    namesVaried: { mbPerSecond: names.buffer.length / namesBest / 1e6, distinctFingerprints: namesFingerprints.size },
    targetMbPerSecond: TARGET_SQL_MBPS,
    pass: bytesPath.mbPerSecond >= TARGET_SQL_MBPS,
  };
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return v;
}

/** The figures of `runSqlBench`, as lines (without the target's PASS/FAIL line). */
export function sqlBenchLines(r: SqlBenchResult): string[] {
  const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  return [
    `SQL: ${fmt(r.bytes / 1e6, 1)} MB, ${fmt(r.statements)} statements (the ${r.corpusStatements}-statement corpus repeated with fresh literals), ` +
      `average ${fmt(r.averageBytes)} B, ${fmt(r.distinctFingerprints)} fingerprints in every 97th statement`,
    `  normalizeBytes (redact + fingerprint + digest, from bytes): ${fmt(r.bytesPath.mbPerSecond)} MB/s, ${fmt(r.bytesPath.statementsPerSecond / 1e6, 2)} M statements/s (best of ${r.bytesPath.runs.length})`,
    `  normalize      (the same, from JS strings):                ${fmt(r.stringPath.mbPerSecond)} MB/s, ${fmt(r.stringPath.statementsPerSecond / 1e6, 2)} M statements/s`,
    `  fingerprintAndDigestBytes (no redacted text):               ${fmt(r.fingerprintOnly.mbPerSecond)} MB/s`,
    `  normalizeBytes, template cache off (every statement lexed): ${fmt(r.noTemplates.mbPerSecond)} MB/s`,
    `  statements that matched a template (caches emptied before each run): ${fmt(r.templateHits * 100, 1)} %`,
    `  ORM statements only (average ${fmt(r.ormOnly.averageBytes)} B), normalizeBytes:     ${fmt(r.ormOnly.mbPerSecond)} MB/s`,
    `  digits inside names varied too (worst case; ${fmt(r.namesVaried.distinctFingerprints)} fingerprints in every 97th statement): ${fmt(r.namesVaried.mbPerSecond)} MB/s`,
    `  bare byte-classifying loop (the machine's yardstick):      ${fmt(r.bare.mbPerSecond)} MB/s; normalizeBytes takes ${fmt(r.bare.mbPerSecond / r.bytesPath.mbPerSecond, 2)}× its time`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = runSqlBench({
    megabytes: envNumber('PERISCOPE_BENCH_SQL_MB', 50),
    reps: envNumber('PERISCOPE_BENCH_REPS', 5),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  for (const line of sqlBenchLines(r)) console.log(line);
  console.log(`  ${r.pass ? 'PASS' : 'FAIL'}  redaction + fingerprint ≥ ${r.targetMbPerSecond} MB/s: ${r.bytesPath.mbPerSecond.toFixed(0)} MB/s`);
}

/**
 * `periscope advise CAPTURE…|BUNDLE.tar.gz`: what to change, and why. Reads the captures as
 * `analyze` does (same filters), or a bundle's report and schema; with `--schema-from`, collects
 * the schema of the tables the queries touch (bundle's collection, analyze/schema/); then the
 * findings of analyze/advise/rules.ts, ranked by the time at stake, as text, JSON or HTML.
 */
import { writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { OUTPUT_MODE, unwritable } from '../output.js';
import { anythingRead, reportFileProblems } from '../read/problems.js';
import { buildReport, shapesOf, type Report } from '../report/report.js';
import { applyManifests } from '../run/manifests.js';
import { analyzeCaptures, watchRead } from '../run/run.js';
import { keyLogsFor } from '../read/keylog.js';
import { buildFilter, describeFilters, FilterError, type FilterOptions } from '../run/filters.js';
import { periscopeVersion } from '../../common/version.js';
import { isoTime } from '../../common/time.js';
import type { Io } from '../io.js';
import type { TcpLimits } from '../../src/pipeline/mysql.js';
import type { SchemaSummary, SchemaTable } from '../schema/collect.js';
import type { ServerSpec } from '../schema/connect.js';
import { DEFAULT_THRESHOLDS, findOpportunities, type Finding, type Thresholds } from './rules.js';
import { Schema } from './schema.js';
import { renderAdviceHtml, renderAdviceText } from './render.js';

export const ADVICE_FORMATS = ['text', 'json', 'html'] as const;
export type AdviceFormat = (typeof ADVICE_FORMATS)[number];

export interface AdviseOptions {
  inputs: string[];
  ports: number[];
  tcp?: TcpLimits;
  filters: FilterOptions;
  /** Where to collect the schema from (null: not asked). */
  schemaFrom: ServerSpec | null;
  /** A schema file: a bundle's schema/tables.json. */
  schemaFile: string | null;
  format: AdviceFormat;
  output: string | null;
  thresholds: Partial<Thresholds>;
  progress: boolean;
  /** TLS key logs (files or directories) to decrypt TLS connections with. */
  keylog?: string[];
}

/** A mistake in the options, found before reading (exit 1). */
export class AdviseUsageError extends Error {}

/** The advice as JSON (docs/advise.md). */
export interface Advice {
  periscope: { version: string };
  inputs: Report['inputs'];
  health: Report['health'];
  overall: { first: string | null; last: string | null; commands: number; query_time_us: number; fingerprints: number; transactions: number };
  schema: { source: string | null; tables: number; note: string | null };
  thresholds: Thresholds;
  findings: Finding[];
}

export async function runAdvise(opts: AdviseOptions, io: Io): Promise<number> {
  try {
    buildFilter(opts.filters);
  } catch (e) {
    if (e instanceof FilterError) throw new AdviseUsageError(e.message);
    throw e;
  }
  if (opts.output !== null) {
    const why = unwritable('--output', opts.output);
    if (why !== null) throw new AdviseUsageError(why);
  }
  if (opts.schemaFrom !== null && opts.schemaFile !== null) throw new AdviseUsageError('--schema-from and --schema: give one source of the schema');
  const bundles = opts.inputs.filter((p) => /\.tar\.gz$|\.tgz$/i.test(p));
  if (bundles.length > 0 && (bundles.length > 1 || opts.inputs.length > 1)) throw new AdviseUsageError(`${bundles[0]}: a bundle is advised on alone (one bundle, no captures beside it)`);
  const { connectionSettings, SchemaUsageError } = await import('../schema/connect.js');
  let settings = null;
  try {
    settings = opts.schemaFrom === null ? null : await connectionSettings(opts.schemaFrom);
  } catch (e) {
    if (e instanceof SchemaUsageError) throw new AdviseUsageError(e.message);
    throw e;
  }

  // A schema file is read (and judged) before the captures: a mistake in it costs no long read.
  const schemaFromFile = opts.schemaFile === null ? null : await readSchemaFile(opts.schemaFile);
  let report: Report;
  let shapes: Map<string, string | null> | undefined;
  let tables: SchemaTable[] | null = null;
  let source: string | null = null;
  let note: string | null = null;
  let code = 0;
  if (bundles.length === 1) {
    const b = await readBundleReport(bundles[0]!, io);
    if (b === null) return 2;
    if (describeFilters(opts.filters) !== null) io.warn('the filters do not apply to a bundle: its report was made when it was bundled');
    report = b.report;
    shapes = await bundleShapes(bundles[0]!, io);
    if (b.tables !== null) {
      tables = b.tables;
      source = `${bundles[0]} (schema/tables.json)`;
    } else note = 'the bundle holds no schema (made without --schema-from): no index or key advice';
  } else {
    const filter = buildFilter(opts.filters);
    const keys = await keyLogsFor(opts.inputs, opts.keylog ?? []); // KeyLogError: a usage error (cli), before any work
    for (const w of keys.warnings()) io.warn(w);
    const watch = await watchRead(opts.inputs, io, { progress: opts.progress, interrupted: 'advising on what was read so far' });
    let result;
    try {
      result = await analyzeCaptures({ files: opts.inputs, ports: opts.ports, tcp: opts.tcp, filter, raw: false, hooks: watch.hooks, keys });
    } finally {
      watch.end();
    }
    code = reportFileProblems(result.files, io);
    if (result.inputs.length === 0 || !anythingRead(result.files)) return code === 0 ? 2 : code;
    const captures = await applyManifests(result.aggregate.health, opts.inputs, io.warn);
    const state = result.aggregate.toState();
    // As analyze says it: no finding because nothing was judged, not because all is well.
    if (describeFilters(opts.filters) !== null && state.overall.events === 0 && !result.stopped) {
      io.warn(`no command passed the filters${result.misses !== undefined && result.misses.count > 0 ? `; ${result.misses.describe(isoTime)}` : ''}`);
    }
    shapes = shapesOf(state);
    report = buildReport(state, { version: periscopeVersion(), files: result.inputs, captures, filters: describeFilters(opts.filters), order: 'time', redacted: true, interrupted: result.stopped });
  }

  if (settings !== null) {
    const { collectSchema, tablesOfReport } = await import('../schema/collect.js');
    const s = await collectSchema(settings, tablesOfReport(report));
    warnSchema(s.summary, io);
    if (s.summary.collected) {
      tables = s.tables;
      source = settings.label;
    } else note = `no schema: ${s.summary.reason}`;
  } else if (schemaFromFile !== null) {
    tables = schemaFromFile;
    source = opts.schemaFile;
  } else if (bundles.length === 0) note = 'no schema given (--schema-from, --schema): no index or key advice (IDX.002, IDX.003, KEY.001, ARG.003)';

  const schema = tables === null ? null : new Schema(tables);
  const thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const findings = findOpportunities(report, { shapes, schema, thresholds });
  const advice: Advice = {
    periscope: { version: periscopeVersion() },
    inputs: report.inputs,
    health: report.health,
    overall: { first: report.overall.first, last: report.overall.last, commands: report.overall.commands, query_time_us: report.overall.query_time_us, fingerprints: report.overall.fingerprints, transactions: report.transactions.count },
    schema: { source, tables: schema?.size ?? 0, note },
    thresholds,
    findings,
  };
  const text = opts.format === 'json' ? `${JSON.stringify(advice, null, 2)}\n` : opts.format === 'html' ? renderAdviceHtml(advice) : renderAdviceText(advice);
  if (opts.output === null) io.out(text);
  else await writeFile(opts.output, text, { mode: OUTPUT_MODE });
  return code;
}

function warnSchema(s: SchemaSummary, io: Io): void {
  if (!s.collected) {
    io.warn(`no schema: ${s.reason} (advice without index and key findings)`);
    return;
  }
  const gaps = [...s.tables.missing, ...s.tables.denied, ...s.tables.failed];
  if (gaps.length) io.warn(`schema: ${gaps.length} of ${s.tables.requested} tables not read: ${gaps.slice(0, 10).join(', ')}${gaps.length > 10 ? ', …' : ''}`);
  if (s.tables.unresolved.length) io.warn(`schema: tables of statements run with no database selected, not looked up: ${s.tables.unresolved.slice(0, 10).join(', ')}`);
}

/** A schema file: the `schema/tables.json` of a bundle (an array of tables as collected). */
async function readSchemaFile(path: string): Promise<SchemaTable[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AdviseUsageError(`--schema ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AdviseUsageError(`--schema ${path}: not JSON (${(e as Error).message}); give a bundle's schema/tables.json`);
  }
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'object' && t !== null && typeof t.table === 'string' && typeof t.database === 'string' && Array.isArray(t.indexes))) throw new AdviseUsageError(`--schema ${path}: not a list of tables as a bundle's schema/tables.json holds them`);
  return v as SchemaTable[];
}

/** A bundle's report.json and schema/tables.json, checked against its manifest; null (said on stderr) when it cannot be used. */
async function readBundleReport(path: string, io: Io): Promise<{ report: Report; tables: SchemaTable[] | null } | null> {
  const { readBundle, BundleError } = await import('../bundle/read.js');
  let b;
  try {
    b = await readBundle(path, { keep: (p) => p === 'report.json' || p === 'schema/tables.json' });
  } catch (e) {
    if (e instanceof BundleError) {
      io.error(e.message);
      return null;
    }
    throw e;
  }
  if (b.problems.length > 0) {
    for (const p of b.problems) io.error(`${path}: ${p}`);
    io.error(`${path}: not advised on (periscope inspect ${path} says more)`);
    return null;
  }
  const raw = b.kept.get('report.json');
  if (raw === undefined) {
    io.error(`${path}: no report.json in the bundle`);
    return null;
  }
  const report = JSON.parse(raw.toString('utf8')) as Report;
  // Bundles made before transactions and workload patterns were reported.
  report.transactions ??= { count: 0, ends: {}, duration_us: none(), idle_us: none(), max_idle_us: none(), statements: { sum: 0, avg: null, max: 0 }, slowest: [] };
  report.workload ??= { n_plus_one: [], retries: [], dropped: 0, commands_per_connection: [] };
  const t = b.kept.get('schema/tables.json');
  return { report, tables: t === undefined ? null : (JSON.parse(t.toString('utf8')) as SchemaTable[]) };
}

/**
 * The statement shapes of a bundle's report (each fingerprint's slowest example), from its events,
 * which keep each statement's shape (docs/bundle.md): so advice on a bundle reads the literal kinds
 * advice on its capture reads (ARG.001, ARG.003, ARG.005, CLA.003's offset). Undefined (said) when
 * the events cannot be read; a bundle made before events kept shapes gives none for statements with
 * literals.
 */
async function bundleShapes(path: string, io: Io): Promise<Map<string, string | null> | undefined> {
  const [{ readBundleEvents }, { BundleError }, { Aggregator }] = await Promise.all([import('../bundle/source.js'), import('../bundle/read.js'), import('../aggregate/aggregate.js')]);
  const agg = new Aggregator();
  try {
    await readBundleEvents(path, (e) => agg.add(e));
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    io.warn(`${e.message}: advice without the statements' literal kinds (ARG.001, ARG.003, ARG.005)`);
    return undefined;
  }
  return shapesOf(agg.toState());
}

const none = () => ({ total: 0, min: null, avg: null, p50: null, p95: null, p99: null, max: null });

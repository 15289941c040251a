/**
 * One analysis: captures → pipeline → filter → aggregate, with the capture's health counters.
 * Shared by `analyze`, `merge`'s summaries and (later) bundles.
 */
import { expandInputs, kernelDrops, readCaptures, type FileReport, type ReadHooks } from '../read/captures.js';
import { Progress } from '../progress.js';
import type { Io } from '../io.js';
import { isoTime } from '../../common/time.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline, type TcpLimits } from '../../src/pipeline/mysql.js';
import { Aggregator, type Health } from '../aggregate/aggregate.js';
import type { InputFile } from '../report/report.js';
import { FilterMisses, type EventFilter } from './filters.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import type { KeyLogs } from '../read/keylog.js';
import { zstdSupport } from '../zstd.js';
import type { RoutingStats } from './route.js';

export interface AnalysisInput {
  files: string[];
  ports: number[];
  tcp?: TcpLimits;
  filter: EventFilter | null;
  /** Keep examples unredacted (--no-redact). */
  raw: boolean;
  /** Every event that passes the filter (slow log output). */
  onEvent?: (e: CommandEvent) => void;
  hooks?: ReadHooks;
  /** TLS secrets (key logs, and the capture's Decryption Secrets Blocks as they are read). */
  keys?: KeyLogs | null;
}

export interface Analysis {
  aggregate: Aggregator;
  files: FileReport[];
  inputs: InputFile[];
  packets: number;
  stopped: boolean;
  /** What the events the filter turned away had (one thread only). */
  misses?: FilterMisses;
  /** How the reader shared the packets with the workers (several threads only: route.ts). */
  routing?: RoutingStats;
}

export function inputFile(f: FileReport): InputFile {
  return {
    path: f.path,
    size: f.size,
    format: f.format,
    packets: f.packets,
    first: f.firstTs && isoTime(f.firstTs),
    last: f.lastTs && isoTime(f.lastTs),
    damaged: f.failure !== null || f.resyncs.length > 0,
  };
}

export async function analyzeCaptures(input: AnalysisInput): Promise<Analysis> {
  const agg = new Aggregator({ raw: input.raw });
  const { filter, onEvent } = input;
  const misses = new FilterMisses();
  const pipeline = new MysqlPipeline({
    ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...input.ports])],
    tcp: input.tcp,
    session: { tlsSecrets: input.keys?.lookup ?? null, zstd: zstdSupport() },
    // Only the slow log needs events in time order; the aggregate does not.
    ordered: onEvent !== undefined,
    onEvent: (e) => {
      if (filter !== null && !filter(e)) {
        misses.add(e);
        return;
      }
      agg.add(e);
      onEvent?.(e);
    },
  });
  const hooks = input.keys ? { ...input.hooks, onSecrets: input.keys.onSecrets } : input.hooks;
  const { files, packets, stopped } = await readCaptures(input.files, (rec) => pipeline.add(rec), hooks);
  pipeline.finish();
  agg.health = healthOf(pipeline, files);
  const inputs = files.filter((f) => f.ignored === null).map(inputFile);
  return { aggregate: agg, files, inputs, packets, stopped, misses };
}

/** The health counters of one analysis (documented in docs/report-json.md). */
function healthOf(p: MysqlPipeline, files: readonly FileReport[]): Health {
  return { ...fileHealth(files), ...pipelineHealth(p) };
}

/** Health counters from the files: what the reader saw. */
export function fileHealth(files: readonly FileReport[]): Health {
  const drops = kernelDrops(files);
  return {
    files: files.filter((f) => f.ignored === null).length,
    filesFailed: files.filter((f) => f.failure !== null || f.resyncs.length > 0).length,
    filesCutShort: files.filter((f) => f.truncatedTail !== null).length,
    packets: files.reduce((a, f) => a + f.packets, 0),
    packetsCutBySnaplen: files.reduce((a, f) => a + f.truncatedPackets, 0),
    kernelDrops: drops ?? 0,
    kernelDropsKnown: drops === null ? 0 : 1,
  };
}

/** Health counters from TCP reassembly and the MySQL sessions (summed over workers). */
export function pipelineHealth(p: MysqlPipeline): Health {
  const r = p.reassembler.totals;
  const t = p.totals;
  const stopped = Object.entries(t.stopped)
    .filter(([why]) => !why.startsWith('TLS') && !why.startsWith('not a MySQL'))
    .reduce((a, [, n]) => a + n, 0);
  return {
    tcpConnections: r.connections,
    midStreamConnections: r.midStream,
    retransmitted: r.retransmitted,
    outOfOrder: r.outOfOrder,
    gaps: r.gaps,
    bytesLost: r.bytesLost,
    bytesCutBySnaplen: r.bytesCutBySnaplen,
    mysqlConnections: t.sessions - t.notMysql,
    tlsConnections: t.tls,
    tlsDecrypted: t.tlsDecrypted,
    ...(t.tlsPartial > 0 ? { tlsPartial: t.tlsPartial } : {}),
    tlsNoSecret: t.tlsNoSecret,
    tlsUnsupported: t.tlsUnsupported,
    tlsFailed: t.tlsFailed,
    replicationConnections: t.replication,
    compressedConnections: t.compressed,
    undecodableConnections: stopped,
    commandsIncomplete: t.commandsIncomplete,
    commandsUnseen: t.commandsUnseen,
    resyncs: t.resyncs,
    protocolViolations: t.protocolViolations,
    unknownCommands: t.unknownCommands,
    eventsForced: p.eventsForced,
    // (Only when some: a capture without any keeps its counters as before.)
    ...(t.clientBytesUndecoded > 0 ? { clientBytesUndecoded: t.clientBytesUndecoded } : {}),
    ...(r.evicted > 0 ? { connectionsEvicted: r.evicted } : {}),
    // Ports found to carry MySQL by content (src/mysql/detect.ts): `detectedPort:PORT:connections|commands`.
    ...Object.fromEntries(Object.entries(t.detected).flatMap(([port, d]) => [[`detectedPort:${port}:connections`, d.connections], [`detectedPort:${port}:commands`, d.commands]])),
  };
}

/**
 * A long read the user watches: the inputs' total size, a progress line on stderr when asked, and
 * Ctrl-C, which stops reading (`interrupted` says what happens next; a second Ctrl-C quits).
 */
export async function watchRead(files: readonly string[], io: Io, o: { progress: boolean; interrupted: string }) {
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    io.warn(`interrupted: ${o.interrupted} (Ctrl-C again to quit at once)`);
  };
  process.on('SIGINT', onSigint);
  const total = (await expandInputs(files)).reduce((a, i) => a + (i.size ?? 0), 0);
  let progress = o.progress ? new Progress(total, process.stderr) : null;
  const readDone = () => {
    progress?.done();
    progress = null;
  };
  return {
    total,
    stopped: () => stop,
    hooks: { onRead: progress ? (n: number, packets: number) => progress?.update(n, packets) : undefined, shouldStop: () => stop } satisfies ReadHooks,
    /** Reading is over: the progress line goes. */
    readDone,
    /** Everything is over: Ctrl-C quits again. */
    end: () => {
      readDone();
      process.off('SIGINT', onSigint);
    },
  };
}

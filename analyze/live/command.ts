/**
 * `periscope live`: tcpdump's pcap output piped straight into the analyzer, with a top-N table of
 * fingerprints redrawn every few seconds (calls, QPS now and overall, p95, errors, redacted text).
 * On exit (Ctrl-C, SIGTERM, --duration) it prints the final table and can save the same report
 * `analyze` makes (-o/--format, --save-summary). Kernel drops come from tcpdump's own counters.
 */
import { writeFile } from 'node:fs/promises';
import { OUTPUT_MODE, unwritable } from '../output.js';
import { DRAIN_MS, startPcapStream, type PcapStream } from '../../capture/tcpdump.js';
import { CaptureError } from '../../capture/errors.js';
import { PcapParser } from '../../src/pcap/pcap.js';
import { Step } from '../../src/pcap/record.js';
import { DEFAULT_MYSQL_PORTS, MysqlPipeline } from '../../src/pipeline/mysql.js';
import { Aggregator, type AggregateState } from '../aggregate/aggregate.js';
import { buildReport, type Order } from '../report/report.js';
import { renderReport } from '../report/render.js';
import { writeSummary, SUMMARY_FORMAT, SUMMARY_VERSION } from '../aggregate/summary.js';
import { pipelineHealth } from '../run/run.js';
import { KeyLogError, KeyLogs } from '../read/keylog.js';
import { dur } from '../format.js';
import { periscopeVersion } from '../../common/version.js';
import type { Io } from '../io.js';
import { hostname } from 'node:os';
import type { ParquetOutput } from '../parquet/sink.js';
import { LogHistogram } from '../aggregate/histogram.js';
import type { CommandEvent } from '../../src/mysql/session.js';
import { StallWatch } from './stall.js';
import { zstdSupport } from '../zstd.js';

export interface LiveOptions {
  iface: string;
  ports: number[];
  hosts: string[];
  filter: string | null;
  bufferKiB: number | null;
  refreshSec: number;
  top: number;
  durationSec: number | null;
  redact: boolean;
  order: Order;
  format: 'text' | 'json' | 'html';
  output: string | null;
  saveSummary: string | null;
  /** Redraw the table (a terminal); otherwise one line of figures per refresh. */
  screen: boolean;
  /** TLS key logs, re-read at every refresh while the clients append to them. */
  keylog?: string[];
  /** Also write every event as Parquet (--events-parquet DIR); files are finished every minute. */
  eventsParquet?: ParquetOutput | null;
}

/** How often live finishes its Parquet files, so that what was seen is readable while it runs. */
export const LIVE_PARQUET_FINISH_MS = 60_000;

/** Calls per digest at the previous refresh, for the current rate. */
type Counts = Map<string, number>;

export async function runLive(opts: LiveOptions, io: Io): Promise<number> {
  // Where the results go is checked first: a live session is not lost at its end.
  for (const [opt, path] of [['--output', opts.output], ['--save-summary', opts.saveSummary]] as const) {
    const why = path === null ? null : unwritable(opt, path);
    if (why !== null) {
      io.error(why);
      return 1;
    }
  }
  const pq = opts.eventsParquet ? await import('../parquet/sink.js') : null;
  if (opts.eventsParquet && pq) {
    const why = pq.unwritableDir('--events-parquet', opts.eventsParquet.dir);
    if (why !== null) {
      io.error(why);
      return 1;
    }
  }
  if (!opts.redact) io.warn('--no-redact: SQL and error messages are shown as captured; they may hold customer data');
  const keylog = opts.keylog ?? [];
  // A key log the application has not created yet is read as soon as it appears.
  const keys = new KeyLogs();
  const badKeylog = await keys.addPaths(keylog, true).then(
    () => null,
    (e: unknown) => {
      if (e instanceof KeyLogError) return e;
      throw e;
    },
  );
  if (badKeylog !== null) {
    io.error(badKeylog.message);
    return 1;
  }
  const agg = new Aggregator({ raw: !opts.redact });
  // Live runs on the host it watches: like a capture's manifest, it names it (os.hostname()).
  const sink = opts.eventsParquet && pq ? new pq.EventsParquetSink({ dir: opts.eventsParquet.dir, host: opts.eventsParquet.hostLabel ?? pq.partitionLabel(hostname()), sql: opts.eventsParquet.sql, version: periscopeVersion() }) : null;
  let sinkFailure: string | null = null;
  const toSink = (fn: () => void) => {
    if (sinkFailure !== null) return;
    try {
      fn();
    } catch (e) {
      if (pq === null || !(e instanceof pq.ParquetSinkError)) throw e;
      sinkFailure = e.message;
      io.error(`${e.message}; no more Parquet is written (the files finished before are complete)`);
    }
  };
  const onEvent = sink === null ? (e: CommandEvent) => agg.add(e) : (e: CommandEvent) => (agg.add(e), toSink(() => sink.add(e)));
  const pipeline = new MysqlPipeline({ ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...opts.ports])], ordered: sink !== null, onEvent, session: { tlsSecrets: keys.lookup, zstd: zstdSupport() } });
  let stream: PcapStream;
  try {
    stream = await startPcapStream({ iface: opts.iface, ports: opts.ports.length ? opts.ports : [3306], hosts: opts.hosts, filter: opts.filter, bufferKiB: opts.bufferKiB });
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }
  io.info?.(`live: listening on ${opts.iface} (${stream.filter})${opts.durationSec !== null ? ` for ${opts.durationSec} s` : ''}; Ctrl-C stops and prints the final table`);
  const started = Date.now();
  const parser = new PcapParser();
  let packets = 0;
  let bytes = 0;
  let failure: string | null = null;
  const ended = new Promise<void>((resolve) => {
    stream.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      parser.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      for (;;) {
        const step = parser.next();
        if (step === Step.Record) {
          packets++;
          pipeline.add(parser.record);
        } else {
          if (step === Step.Error && failure === null) {
            failure = parser.error?.message ?? 'unreadable pcap stream';
            // Said at once: every packet from here on is lost to the analysis.
            io.error(`the pcap stream from tcpdump cannot be read from byte ${parser.offset} on (${failure}): no further packet is analysed`);
          }
          break;
        }
      }
    });
    stream.stdout.on('end', () => resolve());
    stream.stdout.on('error', () => resolve());
  });

  let prev: Counts = new Map();
  let prevAt = started;
  const draw = (final: boolean) => {
    const state = agg.toState();
    const now = Date.now();
    const lines = table(state, prev, (now - prevAt) / 1000, (now - started) / 1000, opts, stream, packets, bytes, final);
    prev = new Map(state.groups.map((g) => [g.digest, g.count]));
    prevAt = now;
    if (opts.screen && !final) io.out(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
    else if (final || !opts.screen) io.out(`${final ? lines.join('\n') : lines[0]}\n`);
  };
  const timer = setInterval(() => {
    stream.process.requestStats();
    // The clients keep appending to their key logs: new sessions' secrets come in here.
    if (keylog.length > 0) void keys.addPaths(keylog, true).catch(() => undefined);
    draw(false);
  }, opts.refreshSec * 1000);
  const finishing = sink === null ? null : setInterval(() => toSink(() => sink.finishFiles()), LIVE_PARQUET_FINISH_MS);
  // Packets tcpdump captured that never reach the analyzer: said loudly as it happens.
  const watch = new StallWatch(started);
  let behind = 0;
  const watchdog = setInterval(() => {
    if (!stream.process.running) return;
    const c = watch.tick(Date.now(), stream.process.counters().captured, packets, bytes);
    behind = c.behind;
    if (c.message !== null) (watch.stalls > 0 && c.message.startsWith('NO') ? io.error : io.warn)(`live: ${c.message}`);
  }, 1000);

  // Stop on Ctrl-C, SIGTERM or --duration; a second Ctrl-C quits at once.
  // The first Ctrl-C (or SIGTERM) stops after the drain, so the packets the kernel still holds
  // (up to about 2 s of them) are counted; a second one stops at once; a third quits.
  let stops = 0;
  const stop = () => {
    stops++;
    if (stops === 1) {
      io.info?.(`live: stopping (waiting ${DRAIN_MS / 1000} s for the last packets; Ctrl-C again to stop at once)`);
      void stream.stop();
    } else if (stops === 2) void stream.stop({ drainMs: 0 });
    else process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const deadline = opts.durationSec !== null ? setTimeout(() => void stream.stop(), opts.durationSec * 1000) : null;
  const exit = await stream.process.exited;
  await ended;
  clearInterval(timer);
  if (finishing) clearInterval(finishing);
  clearInterval(watchdog);
  if (deadline) clearTimeout(deadline);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  parser.end();
  while (parser.next() === Step.Record) pipeline.add(parser.record);
  pipeline.finish();
  if (sink !== null && opts.eventsParquet && pq) toSink(() => io.info?.(pq.sinkSummary(sink.close(), opts.eventsParquet!.dir)));
  // Damage in tcpdump's pcap stream (bytes lost in the pipe): every place said, and counted.
  const tail = parser.finish();
  const damage = parser.resyncs;
  if (damage.length > 0) {
    const skipped = damage.reduce((a, d) => a + d.skippedBytes, 0);
    io.error(`live: the pcap stream from tcpdump was damaged at ${damage.length} place${damage.length === 1 ? '' : 's'} (first at byte ${damage[0]!.offset}: ${damage[0]!.message}); ${skipped.toLocaleString('en-US')} bytes skipped`);
  }
  if (tail !== null && !failure) io.warn(`live: ${tail.message}`);

  const drops = exit.stats?.droppedByKernel ?? stream.process.counters().droppedByKernel;
  // tcpdump's own final count: packets it captured that the analyzer never parsed are lost too.
  const captured = exit.stats?.captured ?? stream.process.counters().captured;
  const notAnalysed = Math.max(0, captured - packets, failure ? behind : 0);
  if (notAnalysed > 0) io.error(`live: ${notAnalysed.toLocaleString('en-US')} of the ${captured.toLocaleString('en-US')} packets tcpdump captured never reached the analyzer (${watch.stalls} stall${watch.stalls === 1 ? '' : 's'} seen): the report misses their commands`);
  agg.health = { files: 0, filesFailed: 0, packets, packetsCutBySnaplen: 0, kernelDrops: drops ?? 0, kernelDropsKnown: drops === null ? 0 : 1, ...(notAnalysed > 0 ? { packetsNotAnalysed: notAnalysed } : {}), ...(damage.length > 0 ? { streamDamaged: damage.length } : {}), ...pipelineHealth(pipeline) };
  draw(true);
  if (!exit.requested && exit.code !== 0) {
    io.error(`tcpdump stopped by itself (${exit.signal ?? `exit code ${exit.code}`}): ${exit.messages.slice(-3).join(' | ') || 'no message'}`);
  }
  if (failure) io.error(`the pcap stream from tcpdump could not be read: ${failure}`);
  const state = agg.toState();
  if (opts.saveSummary) {
    await writeSummary(opts.saveSummary, { format: SUMMARY_FORMAT, version: SUMMARY_VERSION, periscope: periscopeVersion(), redacted: opts.redact, ports: opts.ports, filters: null, interrupted: false, files: [], state });
  }
  if (opts.output) {
    const report = buildReport(state, { version: periscopeVersion(), files: [], filters: null, order: opts.order, redacted: opts.redact, interrupted: false });
    await writeFile(opts.output, renderReport(report, opts.format, { limit: 20, color: false }), { mode: OUTPUT_MODE });
  }
  return failure || sinkFailure || (!exit.requested && exit.code !== 0) ? 2 : 0;
}

function table(st: AggregateState, prev: Counts, intervalSec: number, elapsedSec: number, opts: LiveOptions, stream: PcapStream, packets: number, bytes: number, final: boolean): string[] {
  const c = stream.process.counters();
  const o = st.overall;
  const drops = c.droppedByKernel === null ? '?' : String(c.droppedByKernel);
  const rateNow = (g: { digest: string; count: number }) => (intervalSec > 0 ? (g.count - (prev.get(g.digest) ?? 0)) / intervalSec : 0);
  const total = st.groups.reduce((a, g) => a + rateNow(g), 0);
  const head = `periscope live ${opts.iface} (${stream.filter}): ${dur(elapsedSec * 1e6)}, ${packets.toLocaleString('en-US')} packets, ${(bytes / 1e6).toFixed(1)} MB, ${o.commands.toLocaleString('en-US')} commands, ${final ? '' : `${total.toFixed(0)}/s now, `}errors ${o.errors}, kernel drops ${drops}${final ? ' (final)' : ''}`;
  const rows = st.groups
    .filter((g) => g.count > 0)
    .map((g) => ({ g, now: rateNow(g), h: LogHistogram.fromState(g.latency) }))
    .sort((a, b) => (opts.order === 'count' ? b.g.count - a.g.count : b.h.sum - a.h.sum) || (a.g.digest < b.g.digest ? -1 : 1))
    .slice(0, opts.top);
  const out = [head, '', `${'calls'.padStart(9)} ${'/s now'.padStart(8)} ${'/s all'.padStart(8)} ${'p95'.padStart(8)} ${'errors'.padStart(7)}  fingerprint`];
  for (const { g, now, h } of rows) {
    const errors = Object.values(g.errors).reduce((a, b) => a + b, 0);
    const fp = g.fingerprint.replace(/\s+/g, ' ');
    // The final table has no "now": its last interval is the wait for the kernel's last packets.
    const line = `${g.count.toLocaleString('en-US').padStart(9)} ${(final ? '-' : now.toFixed(0)).padStart(8)} ${(g.count / Math.max(elapsedSec, 0.001)).toFixed(0).padStart(8)} ${dur(h.quantile(0.95)).padStart(8)} ${String(errors).padStart(7)}  `;
    out.push(line + (fp.length > 100 - line.length ? `${fp.slice(0, 99 - line.length)}…` : fp));
  }
  return out;
}

/**
 * The tcpdump process: found, its filter checked with `tcpdump -d`, started, watched and stopped.
 * No packet passes through Node: tcpdump writes the files itself (or its standard output, for
 * `periscope live`); Node reads only tcpdump's few lines of standard error.
 *
 * Stopping cleanly: tcpdump is started in its own session, so a Ctrl-C in the terminal reaches
 * Periscope only. Without --immediate-mode, libpcap on Linux hands packets over in blocks that the
 * kernel closes when full or when they are about two timeouts (2 × 1 s) old; on SIGINT tcpdump
 * writes what it has been handed and discards the open block. So `stop()` waits `drainMs` (2.5 s
 * by default) before SIGINT: every packet that arrived before the stop request is then in the file.
 */
import { execa, type ResultPromise } from 'execa';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { buildFilter, DRAIN_MS, filterCheckArgs, tcpdumpArgs, type FilterSpec, type TcpdumpSpec } from './argv.js';

export { DRAIN_MS } from './argv.js';
import { CaptureError, classifyFailure, tcpdumpMissing, unknownInterface, type FailureContext } from './errors.js';
import { StderrParser, type TcpdumpStats } from './stderr.js';
import { streamUser } from './user.js';

export type { TcpdumpStats } from './stderr.js';

const START_TIMEOUT_MS = 20_000;

/**
 * The signal that makes tcpdump print its counters: SIGUSR1 on Linux, SIGINFO where it exists
 * (macOS, the BSDs). Elsewhere none: an unhandled SIGUSR1 would end tcpdump.
 */
const STATS_SIGNAL: NodeJS.Signals | null = process.platform === 'linux' ? 'SIGUSR1' : process.platform === 'darwin' || process.platform === 'freebsd' || process.platform === 'openbsd' ? ('SIGINFO' as NodeJS.Signals) : null;

export interface TcpdumpInfo {
  /** Absolute path. */
  path: string;
  /** `tcpdump version 4.99.3` */
  version: string;
  /** `libpcap version 1.10.3 (with TPACKET_V3)`, when tcpdump says. */
  libpcap: string | null;
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** tcpdump on PATH (or PERISCOPE_TCPDUMP), with its version; CaptureError 'tcpdump-missing' if absent. */
export async function findTcpdump(env: NodeJS.ProcessEnv = process.env): Promise<TcpdumpInfo> {
  const name = env.PERISCOPE_TCPDUMP || 'tcpdump';
  let path: string | null = null;
  if (name.includes('/')) path = (await executable(name)) ? name : null;
  else {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir !== '' && (await executable(join(dir, name)))) {
        path = join(dir, name);
        break;
      }
    }
  }
  if (path === null) throw tcpdumpMissing(name);
  const r = await execa(path, ['--version'], { reject: false, timeout: 10_000 });
  const lines = `${String(r.stdout)}\n${String(r.stderr)}`.split('\n');
  const version = lines.find((l) => /tcpdump version/i.test(l))?.trim();
  if (!version) throw new CaptureError('tcpdump-missing', `${path} does not answer --version like tcpdump (${r.shortMessage ?? 'no version line'}): ${'install tcpdump, or name it with PERISCOPE_TCPDUMP=/path/to/tcpdump'}`);
  return { path, version, libpcap: lines.find((l) => /libpcap version/i.test(l))?.trim() ?? null };
}

/** Interface names from `tcpdump -D` (empty when it cannot list them). */
export async function listInterfaces(t: TcpdumpInfo): Promise<string[]> {
  const r = await execa(t.path, ['-D'], { reject: false, timeout: 10_000 });
  return String(r.stdout)
    .split('\n')
    .map((l) => /^\d+\.(\S+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

async function translate(t: TcpdumpInfo, lines: readonly string[], ctx: FailureContext, phase: 'check' | 'start' | 'running'): Promise<CaptureError> {
  const e = classifyFailure(lines, ctx, phase);
  return e === 'unknown-interface' ? unknownInterface(ctx.iface, await listInterfaces(t)) : e;
}

/**
 * Compile the filter for the interface with `tcpdump -d` (nothing is captured). This also opens the
 * interface, so a missing right to capture and an unknown interface are found here, before anything
 * is written.
 */
export async function checkFilter(t: TcpdumpInfo, ctx: FailureContext): Promise<void> {
  const r = await execa(t.path, filterCheckArgs(ctx.iface, ctx.filter), { reject: false, timeout: 30_000, stdout: 'ignore' });
  if (r.exitCode === 0) return;
  throw await translate(t, String(r.stderr).split('\n').filter(Boolean), ctx, 'check');
}

/** Counters as last reported: `captured` from tcpdump's `Got N` (each second), the rest from SIGUSR1. */
export interface LiveCounters {
  captured: number;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
  /** When the kernel counters were last reported (null: not yet). */
  at: Date | null;
}

export interface TcpdumpExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
  /** The counters tcpdump printed as it exited (null: it printed none, e.g. killed). */
  stats: TcpdumpStats | null;
  /** Its stderr lines other than counters and the "listening" line (the last 50). */
  messages: string[];
  /** It exited after `stop()` asked it to. */
  requested: boolean;
}

export interface RunningTcpdump {
  readonly pid: number;
  readonly argv: readonly string[];
  /** From tcpdump's "listening on" line: `EN10MB (Ethernet)`, `LINUX_SLL2 (Linux cooked v2)`. */
  readonly linkType: string | null;
  /** The pcap stream when the output is stdout; otherwise null. */
  readonly stdout: Readable | null;
  /** Latest counters. */
  counters(): LiveCounters;
  /** Ask tcpdump for its kernel counters (SIGUSR1 on Linux, SIGINFO on macOS/BSD); they arrive on stderr shortly after. */
  requestStats(): void;
  /**
   * Stop tcpdump: wait `drainMs` (default DRAIN_MS; 0 to stop at once), then SIGINT; SIGTERM after
   * 10 s, SIGKILL after 5 more. A second call with a shorter drain cuts the wait short.
   */
  stop(opts?: { drainMs?: number }): Promise<TcpdumpExit>;
  /** Settles when tcpdump exits, for whatever reason (never rejects). */
  readonly exited: Promise<TcpdumpExit>;
  /** Whether it has exited. */
  readonly running: boolean;
}

/**
 * Start tcpdump and wait until it listens. Errors before that (permission, interface, directory,
 * -Z user) are thrown as one-line CaptureErrors.
 */
export async function startTcpdump(t: TcpdumpInfo, spec: TcpdumpSpec, ctx: FailureContext): Promise<RunningTcpdump> {
  const argv = tcpdumpArgs(spec);
  const toStdout = spec.output.kind === 'stdout';
  const proc: ResultPromise = execa(t.path, argv, {
    reject: false,
    buffer: false,
    detached: true, // own session: the terminal's Ctrl-C reaches Periscope, which stops tcpdump cleanly
    cleanup: false,
    stdin: 'ignore',
    stdout: toStdout ? 'pipe' : 'ignore',
    stderr: 'pipe',
    env: { TZ: 'UTC' }, // strftime file names (-G) in UTC
    encoding: 'buffer',
  });
  // Taken over at once, before any await: bytes that arrive before the caller reads are kept (the
  // pipe then fills and tcpdump waits), never lost to a stream already flowing.
  const stdout = toStdout ? proc.stdout!.pipe(new PassThrough({ highWaterMark: 1 << 20 })) : null;
  const parser = new StderrParser();
  const messages: string[] = [];
  const counters: LiveCounters = { captured: 0, receivedByFilter: null, droppedByKernel: null, droppedByInterface: null, at: null };
  let finalStats: TcpdumpStats | null = null;
  let linkType: string | null = null;
  let onListening: (() => void) | null = null;
  const handle = (events: ReturnType<StderrParser['push']>): void => {
    for (const e of events) {
      switch (e.kind) {
        case 'listening':
          linkType = e.linkType;
          onListening?.();
          break;
        case 'got':
          counters.captured = Math.max(counters.captured, e.captured);
          break;
        case 'stats':
          Object.assign(counters, e.stats, { at: new Date() });
          if (e.final) finalStats = e.stats;
          break;
        case 'message':
          messages.push(e.line);
          if (messages.length > 50) messages.shift();
          break;
        default:
          e satisfies never;
      }
    }
  };
  proc.stderr!.on('data', (d: Buffer) => handle(parser.push(d.toString('utf8'))));
  let requested = false;
  let running = true;
  const exited: Promise<TcpdumpExit> = proc.then(
    (r) => {
      running = false;
      handle(parser.end());
      const signal = r.signal ?? null;
      return { code: signal === null ? (r.exitCode ?? null) : null, signal, stats: finalStats, messages: [...messages], requested };
    },
    () => {
      running = false;
      return { code: null, signal: null, stats: finalStats, messages: [...messages], requested };
    },
  );
  const pid = proc.pid;
  if (pid === undefined) {
    const r = await exited;
    throw await translate(t, r.messages.length ? r.messages : ['could not be started'], ctx, 'start');
  }

  const listening = new Promise<boolean>((resolve) => {
    onListening = () => resolve(true);
    void exited.then(() => resolve(false));
    setTimeout(() => resolve(false), START_TIMEOUT_MS).unref();
  });
  if (!(await listening)) {
    if (running) proc.kill('SIGKILL');
    const r = await exited;
    throw await translate(t, r.messages.length ? r.messages : [`it did not start listening within ${START_TIMEOUT_MS / 1000} s`], ctx, 'start');
  }

  let stopping: Promise<TcpdumpExit> | null = null;
  let hurry: (() => void) | null = null;
  const signal = (s: NodeJS.Signals): void => {
    if (!running) return;
    try {
      process.kill(pid, s);
    } catch {
      // exited meanwhile
    }
  };
  const sleepOrExit = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(resolve, ms);
      hurry = () => {
        clearTimeout(timer);
        resolve();
      };
      void exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  const stop = (opts: { drainMs?: number } = {}): Promise<TcpdumpExit> => {
    const drainMs = opts.drainMs ?? DRAIN_MS;
    if (stopping) {
      if (drainMs === 0) hurry?.();
      return stopping;
    }
    requested = true;
    stopping = (async () => {
      await sleepOrExit(drainMs);
      signal('SIGINT');
      hurry = null;
      await Promise.race([exited, sleepOrExit(10_000)]);
      if (running) {
        signal('SIGTERM');
        await Promise.race([exited, sleepOrExit(5_000)]);
      }
      if (running) signal('SIGKILL');
      return exited;
    })();
    return stopping;
  };
  // If Node itself goes away (a bug, an uncaught error), do not leave tcpdump capturing unsupervised.
  const onExit = (): void => signal('SIGINT');
  process.on('exit', onExit);
  void exited.then(() => process.off('exit', onExit));

  return {
    pid,
    argv,
    get linkType() {
      return linkType;
    },
    stdout,
    counters: () => ({ ...counters }),
    requestStats: () => {
      if (STATS_SIGNAL) signal(STATS_SIGNAL);
    },
    stop,
    exited,
    get running() {
      return running;
    },
  };
}

/** What `periscope live` gives to capture as a stream. */
export interface PcapStreamOptions {
  /** Default `any`. */
  iface?: string;
  /** Default [3306]. */
  ports?: readonly number[];
  hosts?: readonly string[];
  /** Extra BPF, and-ed. */
  filter?: string | null;
  /** 0 (default): whole packets. */
  snaplen?: number;
  /** Kernel buffer in KiB (tcpdump -B); default libpcap's 2 MiB. */
  bufferKiB?: number | null;
  /** tcpdump -U (default true): each packet is written to the pipe as it arrives. */
  packetBuffered?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface PcapStream {
  /** The pcap byte stream (classic pcap, microsecond timestamps). */
  readonly stdout: Readable;
  /** Stop tcpdump (see RunningTcpdump.stop); the stream ends after the last packet. */
  stop(opts?: { drainMs?: number }): Promise<TcpdumpExit>;
  /** The process: pid, counters (kernel drops), requestStats(), exited. */
  readonly process: RunningTcpdump;
  readonly tcpdump: TcpdumpInfo;
  /** The BPF filter in use. */
  readonly filter: string;
}

/**
 * tcpdump writing pcap to its standard output (`-w -`), with the same filter builder, checks and
 * error translation as `periscope capture`. Read `stdout` (e.g. with src/pcap's PcapParser); call
 * `stop()` when done (`stop({ drainMs: 0 })` to stop at once). Throws a CaptureError (one line,
 * with `kind`) when tcpdump is missing, may not capture, the interface is unknown or the filter is
 * not valid.
 */
export async function startPcapStream(opts: PcapStreamOptions = {}): Promise<PcapStream> {
  const env = opts.env ?? process.env;
  const t = await findTcpdump(env);
  const spec: FilterSpec = { ports: opts.ports ?? [3306], hosts: opts.hosts ?? [], extra: opts.filter ?? null };
  const filter = buildFilter(spec);
  const iface = opts.iface ?? 'any';
  const user = streamUser(env, process.geteuid?.() ?? null);
  const ctx: FailureContext = { tcpdump: t.path, iface, filter, user, dir: null };
  await checkFilter(t, ctx);
  const running = await startTcpdump(
    t,
    { iface, filter, snaplen: opts.snaplen ?? 0, bufferKiB: opts.bufferKiB ?? null, maxPackets: null, user, output: { kind: 'stdout', packetBuffered: opts.packetBuffered ?? true } },
    ctx,
  );
  return { stdout: running.stdout!, stop: running.stop, process: running, tcpdump: t, filter };
}

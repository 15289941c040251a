/**
 * A scripted MySQL conversation for session tests: packets in (client or server, sequence id,
 * payload, capture time), command events and trace lines out. The session is fed directly as the
 * TCP reassembler would feed it (onData / onGap / onClose), without building TCP segments; tests
 * that need real segments use test/tcp/harness.ts.
 *
 * Time is a µs clock: every packet is 100 µs after the previous one unless `at` says otherwise, so
 * latencies in expectations are easy to compute.
 */
import { Dir, GapReason, type CloseReason, type ConnectionInfo, type HalfStats } from '../../src/tcp/stream.js';
import { MysqlSession, type CommandEvent, type SessionOptions, type TraceEntry } from '../../src/mysql/session.js';
import { concat } from '../builders/bytes.js';
import { CLIENT_BASE_CAPS, CAP, greetingPayload, handshakeResponse41, mysqlPacket, ok, type FullGreetingOptions, type HandshakeResponseOptions } from '../builders/mysql-builder.js';

const half = (): HalfStats => ({ segments: 0, bytes: 0, retransmitted: 0, overlapping: 0, outOfOrder: 0, gaps: 0, bytesLost: 0, late: 0 });

export function connInfo(o: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return { id: 1, client: '10.0.0.1:50000', server: '10.0.0.2:3306', clientPort: 50000, serverPort: 3306, synSeen: true, sidesBy: 'syn', firstSec: 0, firstNsec: 0, stats: [half(), half()], ...o };
}

export interface ConvOptions extends SessionOptions {
  synSeen?: boolean;
}

export class Conv {
  readonly events: CommandEvent[] = [];
  readonly traces: TraceEntry[] = [];
  readonly session: MysqlSession;
  /** Capture clock, µs. */
  us = 1_000_000;

  constructor(o: ConvOptions = {}) {
    const { synSeen, ...opts } = o;
    this.session = new MysqlSession(connInfo({ synSeen: synSeen ?? true }), (e) => this.events.push(e), {
      ...opts,
      trace: (t) => {
        // Copy the payload view: it is valid only during the call.
        this.traces.push({ ...t, payload: t.payload ? t.payload.slice() : null });
        opts.trace?.(t);
      },
    });
  }

  private tick(at?: number): [number, number] {
    this.us = at ?? this.us + 100;
    return [Math.floor(this.us / 1e6), (this.us % 1e6) * 1000];
  }

  /** Raw bytes in one direction (already framed), at one time. */
  raw(dir: Dir, bytes: Uint8Array, at?: number): this {
    const [sec, nsec] = this.tick(at);
    // Some bytes before the data: offsets are not 0 in the buffer, as in a capture chunk.
    const buf = new Uint8Array(bytes.length + 2);
    buf.set(bytes, 2);
    this.session.onData(dir, buf, 2, bytes.length, sec, nsec);
    buf.fill(0xee); // whatever the session kept by reference is scribbled over
    return this;
  }

  /** A client packet. */
  c(seq: number, payload: Uint8Array, at?: number): this {
    return this.raw(Dir.ClientToServer, mysqlPacket(seq, payload), at);
  }

  /** A server packet. */
  s(seq: number, payload: Uint8Array, at?: number): this {
    return this.raw(Dir.ServerToClient, mysqlPacket(seq, payload), at);
  }

  /** Several server packets in one chunk (one TCP segment), sequence ids from `seq`. */
  sMany(seq: number, payloads: Uint8Array[], at?: number): this {
    return this.raw(Dir.ServerToClient, concat(...payloads.map((p, i) => mysqlPacket((seq + i) & 0xff, p))), at);
  }

  cMany(seq: number, payloads: Uint8Array[], at?: number): this {
    return this.raw(Dir.ClientToServer, concat(...payloads.map((p, i) => mysqlPacket((seq + i) & 0xff, p))), at);
  }

  gap(dir: Dir, bytes: number, reason = GapReason.Unseen, at?: number): this {
    const [sec, nsec] = this.tick(at);
    this.session.onGap(dir, bytes, reason, sec, nsec);
    return this;
  }

  close(reason: CloseReason = 'fin', at?: number): this {
    const [sec, nsec] = this.tick(at);
    this.session.onClose(reason, sec, nsec);
    return this;
  }

  /** Greeting, handshake response and OK. */
  login(o: { greeting?: FullGreetingOptions; response?: HandshakeResponseOptions; ok?: Uint8Array } = {}): this {
    this.s(0, greetingPayload(o.greeting));
    this.c(1, handshakeResponse41(o.response));
    this.s(2, o.ok ?? ok());
    return this;
  }

  /** Events minus the login. */
  get commands(): CommandEvent[] {
    return this.events.filter((e) => e.cmd !== 'connect');
  }

  get last(): CommandEvent {
    const e = this.events[this.events.length - 1];
    if (!e) throw new Error('no event');
    return e;
  }

  traceEvents(): string[] {
    return this.traces.map((t) => t.event);
  }
}

/** Client capabilities with CLIENT_DEPRECATE_EOF (a MySQL 8 client). */
export const DEPRECATE_EOF_CAPS = CLIENT_BASE_CAPS | CAP.DEPRECATE_EOF | CAP.SESSION_TRACK;

/** Pick some fields of an event (for compact expectations). */
export function pick<K extends keyof CommandEvent>(e: CommandEvent, keys: readonly K[]): Pick<CommandEvent, K> {
  const out = {} as Pick<CommandEvent, K>;
  for (const k of keys) out[k] = e[k];
  return out;
}

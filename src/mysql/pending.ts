/**
 * The commands of a connection waiting for their response, in request order: each one's event
 * and what its response needs to know (its command byte, the time its request ended, the
 * statement it prepares or runs). Completed commands leave in request order, so a command
 * answered after a later one (never, in MySQL; but a gap can make it look so) still comes first.
 */
import { Com } from './constants.js';
import type { CommandEvent, CommandStatus, SessionCounters } from './events.js';
import type { PreparedStatements } from './statements.js';

/** A command (or the login) and what its response needs. One shape for all, made by `pending`. */
export interface Pending {
  ev: CommandEvent;
  com: number;
  /** The request's last packet time. */
  endSec: number;
  endNsec: number;
  needsResponse: boolean;
  done: boolean;
  /** Prepared statement: SQL kept for the statement id. */
  prepareSql: string | null;
  stmtId: number | null;
  cursor: boolean;
  gotResponse: boolean;
  /** `USE db`: the database to switch to when the server says OK. */
  pendingUse: string | undefined;
  /** COM_CHANGE_USER: the database of the new session (null: none). */
  newDb: string | null | undefined;
  /** An execute of an unknown statement: learn its result's columns. */
  collectColumns: boolean;
  /** Server bytes skipped while hunting (after a gap) when the command was sent. */
  skippedAtSend: number;
}

export function pending(ev: CommandEvent, com: number, endSec: number, endNsec: number, skippedAtSend = 0): Pending {
  return { ev, com, endSec, endNsec, needsResponse: true, done: false, prepareSql: null, stmtId: null, cursor: false, gotResponse: false, pendingUse: undefined, newDb: undefined, collectColumns: false, skippedAtSend };
}

/** Commands waiting for their response, at most (clients pipeline a few; more means the responses are not captured). */
const MAX_PENDING = 1024;

export class CommandQueue {
  private readonly items: Pending[] = [];
  /** The last command sent (the one a cut request belongs to). */
  lastSent: Pending | null = null;

  constructor(
    private readonly sink: (e: CommandEvent) => void,
    private readonly counters: SessionCounters,
    private readonly statements: PreparedStatements,
  ) {}

  /** Commands in the queue (answered ones wait there for the older ones' answers). */
  get length(): number {
    return this.items.length;
  }

  /** The oldest command in the queue, done or not (it holds back the later ones' events). */
  get first(): Pending | null {
    return this.items[0] ?? null;
  }

  /** The command the server is answering: the oldest not done. */
  current(): Pending | null {
    for (const p of this.items) if (!p.done) return p;
    return null;
  }

  /**
   * A command sent. True when the queue was full and gave its oldest command up as incomplete
   * (no response for this many commands: only the client side captured?), so that memory stays
   * bounded and its event goes out.
   */
  push(p: Pending): boolean {
    this.items.push(p);
    if (this.items.length <= MAX_PENDING) return false;
    const oldest = this.current();
    if (oldest === null || oldest === p) return false;
    this.complete(oldest, 'incomplete');
    return true;
  }

  complete(p: Pending, status: CommandStatus, flush = true): void {
    if (p.done) return;
    p.done = true;
    p.ev.status = status;
    if (status === 'incomplete') this.counters.commandsIncomplete++;
    if (p.com === Com.StmtPrepare && status !== 'ok' && p.stmtId !== null) this.statements.forget(p.stmtId);
    if (flush) this.flush();
  }

  /** Every command not answered yet: `status`, or for COM_QUIT (no answer expected) `none`. */
  completeAll(status: CommandStatus, quit: CommandStatus = status): void {
    for (const p of this.items) if (!p.done) this.complete(p, p.com === Com.Quit ? quit : status, false);
    this.flush();
  }

  /**
   * The commands sent before server bytes went by unrecognised (`skipped`, counted since the
   * server's stream was lost): their responses were in those bytes, so they are incomplete.
   */
  completeSkipped(skipped: number): void {
    for (const q of this.items) if (!q.done && skipped > q.skippedAtSend) this.complete(q, 'incomplete', false);
    this.flush();
  }

  /** Emit completed commands in request order. */
  flush(): void {
    while (this.items.length > 0 && this.items[0]!.done) this.sink(this.items.shift()!.ev);
  }
}

/** Microseconds from a to b (never negative: captures can hold packets slightly out of order). */
export function micros(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return Math.max(0, Math.round((bSec - aSec) * 1e6 + (bNsec - aNsec) / 1e3));
}

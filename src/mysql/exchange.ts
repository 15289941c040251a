/**
 * The command phase of a connection: the client's commands (request.ts reads each into its
 * event), queued in request order (pending.ts), and the server's responses, read by the response
 * machine (response.ts) from one expectation — what the server's next packet may be — and applied
 * to the command's event (outcome.ts). The session (session.ts) hands it the packets of the
 * command phase and tells it when a gap lost a stream's place.
 */
import { Dir } from '../tcp/stream.js';
import { Com, Header, commandName } from './constants.js';
import { expectsResponse } from './commands.js';
import type { SessionHost } from './connection.js';
import type { CommandEvent, CommandStatus, Stage } from './events.js';
import type { Packet, StartPredicate } from './framing.js';
import { applyOutcome } from './outcome.js';
import { CommandQueue, micros, pending, type Pending } from './pending.js';
import { readRequest } from './request.js';
import { Expect, Expectations, Outcome, describeServerPacket, expectationFor, learnDeprecateEof, stageOf, step, type Expectation, type ResponseContext } from './response.js';
import { packetLength, resyncExpectation, responseStart } from './resync.js';
import { PreparedStatements } from './statements.js';
import type { Wire } from './wire.js';

export class Exchange {
  /** What the server's next packet may be (response.ts). */
  private expectation: Expectation = Expectations.NONE;
  /** A gap lost the stream's place, not found again yet (the RESYNC stage). */
  resyncing = false;
  /** Client bytes were lost at some point: a response without its command is expected, not a violation. */
  sawClientGap = false;
  /** The context the response machine reads, kept up to date rather than made per packet. */
  private readonly responseContext: ResponseContext = { caps: 0, mariaCaps: 0, deprecateEof: null, cursor: false };
  /** The connection's prepared statements. */
  private readonly statements = new PreparedStatements();
  readonly queue: CommandQueue;

  constructor(
    private readonly host: SessionHost,
    private readonly wire: Wire,
    sink: (e: CommandEvent) => void,
    /** Where a command or a response can start again, when a stream's place is lost. */
    private readonly clientStart: StartPredicate,
    private readonly serverStart: StartPredicate,
  ) {
    this.queue = new CommandQueue(sink, host.counters, this.statements);
  }

  /** The trace's stage in the command phase. */
  get stage(): Stage {
    return this.resyncing ? 'RESYNC' : stageOf(this.expectation.kind);
  }

  /** A client packet: a command, LOCAL INFILE data, change_user authentication. True when the command starts replication. */
  clientPacket(p: Packet): boolean {
    const host = this.host;
    const cur = this.queue.current();
    if (cur && this.expectation.kind === Expect.FileData) {
      // LOCAL INFILE data, whatever its sequence id (it wraps through 0 after 255 packets).
      cur.ev.bytesIn += p.length + 4; // file contents: counted, never kept
      host.trace(Dir.ClientToServer, 'PACKET_SENT', p.seq, p.length, p.length === 0 ? 'end of file data' : 'file data');
      if (p.length === 0) this.expect(Expectations.RESULT);
      return false;
    }
    if (p.seq !== 0) {
      // Part of an exchange: change_user authentication.
      if (cur && cur.com === Com.ChangeUser && this.expectation.kind === Expect.Auth) {
        host.trace(Dir.ClientToServer, 'SEND_AUTH_RESPONSE', p.seq, p.length, '');
        cur.ev.bytesIn += p.length + 4;
        return false;
      }
      // The continuation of a request (a long query split by a gap's resync) or a violation.
      host.violation(Dir.ClientToServer, p, `client packet with sequence id ${p.seq} where a command was expected`);
      return false;
    }
    return this.command(p);
  }

  private command(p: Packet): boolean {
    const host = this.host;
    if (p.payload.length === 0) {
      host.violation(Dir.ClientToServer, p, 'an empty packet where a command was expected');
      return false;
    }
    const com = p.payload[0]!;
    const name = commandName(com);
    host.counters.commands++;
    const w = this.wire;
    if (name === null) {
      host.counters.unknownCommands++;
      host.violation(Dir.ClientToServer, p, `unknown command byte 0x${com.toString(16)}`);
      w.framers[0].gap(this.clientStart);
      w.framers[1].gap(this.serverStart);
      return false;
    }
    const skipped = w.serverSkipped();
    if (!w.serverSynced()) {
      // The server stream is still lost after a gap, and server bytes went by unrecognised since
      // an earlier command was sent: its response was in them. Without this, the next response
      // found would be credited to it, and every later one shifted. (Commands pipelined with no
      // server bytes in between keep waiting.)
      const before = this.queue.current();
      this.queue.completeSkipped(skipped);
      if (this.queue.current() !== before) this.expectation = Expectations.NONE;
    }
    const ev = host.newEvent(name, p.firstSec, p.firstNsec);
    ev.bytesIn = p.length + 4;
    const cmd = pending(ev, com, p.lastSec, p.lastNsec, skipped);
    this.queue.lastSent = cmd;
    cmd.needsResponse = expectsResponse(com);
    readRequest(host, this.statements, cmd, p);
    if (host.tracing) host.trace(Dir.ClientToServer, 'SEND_COMMAND', p.seq, p.length, name + (ev.sql !== null ? ` ${ev.sql.slice(0, 200)}` : ''), p.payload, ev.noBackslashEscapes);
    if (this.queue.push(cmd)) this.expectation = Expectations.NONE;
    if (!cmd.needsResponse) {
      cmd.done = true;
      ev.status = 'none';
    }
    if (host.replication) return true;
    if (this.expectation.kind === Expect.None) this.startExpect();
    this.queue.flush();
    return false;
  }

  /** After a command, or when the previous response ended: what does the next response start with? */
  private startExpect(): void {
    const cur = this.queue.current();
    this.expectation = cur === null ? Expectations.NONE : expectationFor(cur.com);
    this.resyncing = false;
  }

  /** A move of the response machine: a new kind of expectation ends a resynchronisation. */
  private expect(next: Expectation): void {
    if (next === this.expectation) return; // (a row: the same expectation, made once)
    if (next.kind !== this.expectation.kind) this.resyncing = false;
    this.expectation = next;
  }

  /** The command answered: its event goes out (in request order) and the next one's response is expected. */
  private completed(cur: Pending, status: CommandStatus): void {
    this.queue.complete(cur, status);
    this.startExpect();
  }

  /** A server packet: part of the response of the command waiting for one. */
  serverPacket(p: Packet): void {
    const host = this.host;
    const cur = this.queue.current();
    if (cur === null || this.expectation.kind === Expect.None) {
      host.counters.packetsSkipped++;
      if (p.seq === 1 && cur === null && this.sawClientGap) {
        // The first packet of a response to a command lost in a client-side gap.
        host.counters.commandsUnseen++;
        host.trace(Dir.ServerToClient, 'PACKET_RECEIVED', p.seq, p.length, 'a response whose command was not captured (skipped)');
        return;
      }
      host.violation(Dir.ServerToClient, p, 'a server packet with no command waiting for it');
      return;
    }
    const learnt = host.deprecateEof === null ? learnDeprecateEof(this.expectation, p, null) : null;
    if (learnt !== null) {
      // No EOF after a prepared statement's definitions: CLIENT_DEPRECATE_EOF (learnt mid-stream).
      host.deprecateEof = true;
      this.expect(learnt);
      if (learnt.kind === Expect.None) {
        this.completed(cur, 'ok');
        this.serverPacket(p); // the first packet of the next command's response
        return;
      }
    }
    if (!cur.gotResponse) {
      cur.gotResponse = true;
      cur.ev.latencyUs = micros(cur.endSec, cur.endNsec, p.firstSec, p.firstNsec);
    }
    cur.ev.responseUs = micros(cur.endSec, cur.endNsec, p.lastSec, p.lastNsec);
    cur.ev.bytesOut += p.length + 4;
    if (host.tracing) {
      // (A LOCAL INFILE request names a client file: its bytes are never dumped.)
      const fileRequest = this.expectation.kind === Expect.Result && p.b0 === Header.LocalInfile && p.length > 1;
      host.trace(Dir.ServerToClient, 'PACKET_RECEIVED', p.seq, p.length, describeServerPacket(p, this.expectation.kind), fileRequest ? null : p.payload);
    }
    // The server answers while the file was being sent: its end (an empty packet) was not captured.
    if (this.expectation.kind === Expect.FileData && p.b0 !== Header.Err) this.expect(Expectations.RESULT);
    const ctx = this.responseContext;
    ctx.caps = host.caps;
    ctx.mariaCaps = host.mariaCaps;
    ctx.deprecateEof = host.deprecateEof;
    ctx.cursor = cur.cursor;
    const s = step(this.expectation, p, ctx);
    applyOutcome(host, this.statements, cur, p, s);
    if (s.done === null) {
      this.expect(s.next);
      if (s.outcome === Outcome.FileRequest) host.trace(Dir.ServerToClient, 'FILE_REQUEST', p.seq, p.length, 'LOCAL INFILE request (file name and contents are never shown)');
      return;
    }
    if (s.outcome === Outcome.BadColumnCount) {
      // The stream's place is lost: look for the next response.
      this.queue.complete(cur, s.done);
      this.wire.framers[1].gap(this.serverStart);
      this.expectation = Expectations.NONE;
      this.resyncing = true;
      return;
    }
    this.completed(cur, s.done);
    if (s.outcome === Outcome.PreparedThenViolation) host.violation(Dir.ServerToClient, p, 'unexpected packet after the prepared statement definitions');
  }

  /**
   * A gap took server bytes: the response in progress is lost, its command incomplete. (Not at
   * the start of the server's stream, `bytes` < 0: a command captured before it cannot have had
   * its response begin before.)
   */
  serverLost(bytes: number): void {
    const cur = this.queue.current();
    if (cur && bytes >= 0) this.queue.complete(cur, 'incomplete');
    this.expectation = Expectations.NONE;
  }

  /** After a gap in the server's stream: a response can start here (resync.ts), and a command is waiting for it. */
  responseStarts(b: Uint8Array, off: number, len: number): boolean {
    const host = this.host;
    const cur = this.queue.current();
    const looksLikeResponse = responseStart(b, off, len);
    if (cur === null || cur.gotResponse || !looksLikeResponse) {
      // A response with no command waiting for it: its command was not captured.
      if (looksLikeResponse && cur === null) host.counters.commandsUnseen++;
      host.counters.packetsSkipped++;
      return false;
    }
    host.trace(Dir.ServerToClient, 'RESYNC', 1, packetLength(b, off), `server stream resynchronised at the response to ${cur.ev.cmd}`);
    this.expectation = resyncExpectation(cur.com);
    return true;
  }
}

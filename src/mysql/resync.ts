/**
 * Finding the protocol's place again after a gap (or in a stream whose start was not captured):
 * checks of a segment's bytes, without side effects. The session (session.ts) hands them to the
 * framers as start predicates and does the counting and tracing when one says yes.
 */
import { Com } from './constants.js';
import { Expectations, expectationFor, type Expectation } from './response.js';

/** Commands that may start a resynchronisation (plausible first commands after a gap). */
const SYNC_COMMANDS = new Set<number>([Com.Quit, Com.InitDb, Com.Query, Com.FieldList, Com.Statistics, Com.ProcessInfo, Com.ProcessKill, Com.Ping, Com.ChangeUser, Com.StmtPrepare, Com.StmtExecute, Com.StmtSendLongData, Com.StmtClose, Com.StmtReset, Com.SetOption, Com.StmtFetch, Com.ResetConnection]);

/** The payload length in the packet header at `b[off]`. */
export function packetLength(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
}

/**
 * Does a client command start at `b[off]` (a segment of `len` bytes)? Sequence id 0, a command a
 * client plausibly sends first after a gap, a plausible length, mostly printable SQL. Returns the
 * command byte, or -1.
 */
export function commandStart(b: Uint8Array, off: number, len: number): number {
  if (len < 5 || b[off + 3] !== 0) return -1;
  const plen = packetLength(b, off);
  const com = b[off + 4]!;
  if (plen < 1 || !SYNC_COMMANDS.has(com)) return -1;
  if (plen + 4 > len && com !== Com.Query && com !== Com.StmtPrepare && com !== Com.StmtExecute && com !== Com.StmtSendLongData) return -1;
  // A command that goes on past this segment has at least 16 bytes of it here (a long query
  // fills its first segment); fewer is a coincidence, e.g. the tail of a LOCAL INFILE packet.
  if (plen + 4 > len && len < 5 + 16) return -1;
  if (plen + 4 < len) {
    // Another packet follows in this segment: its header must be plausible too.
    const q = off + 4 + plen;
    if (len - (q - off) < 4) return -1;
  }
  if (com === Com.Query || com === Com.StmtPrepare) {
    // SQL text (maybe after a query-attributes block): mostly printable.
    let printable = 0;
    const n = Math.min(plen - 1, len - 5, 32);
    for (let i = 0; i < n; i++) {
      const c = b[off + 5 + i]!;
      if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d || c >= 0x80) printable++;
    }
    if (n > 0 && printable < n * 0.75 && !(b[off + 5] === 0 && b[off + 6] === 1)) return -1;
  }
  return com;
}

/**
 * Does a response start at `b[off]`? Its first packet (OK, ERR, column count, PREPARE_OK, a column
 * definition) has sequence id 1 and is short: it ends in this segment or is under 256 bytes, and a
 * packet after it in the segment has sequence id 2. (A segment that starts inside a packet would
 * otherwise pass on a payload byte of 1.)
 */
export function responseStart(b: Uint8Array, off: number, len: number): boolean {
  if (len < 5 || b[off + 3] !== 1) return false;
  const plen = packetLength(b, off);
  return !(plen < 1 || (plen + 4 > len && plen > 255) || (plen + 8 <= len && b[off + plen + 7] !== 2));
}

/**
 * Where a response found by resynchronisation is read from: its first packet, as for any command,
 * except that a fetch's rows and a change_user's exchange are read as a plain result (their
 * start cannot be told from the bytes).
 */
export function resyncExpectation(com: number): Expectation {
  return com === Com.StmtFetch || com === Com.ChangeUser ? Expectations.RESULT : expectationFor(com);
}

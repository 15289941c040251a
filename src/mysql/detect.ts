/**
 * Recognising MySQL from the bytes alone, where the handshake that would say so was not captured:
 *
 * - `sniffCompressed`: does a chunk of a stream begin with packets of the compressed protocol?
 *   The 7-byte header checks itself against the payload: a zlib or zstd payload must decompress
 *   to exactly the uncompressed length announced (zlib's Adler-32, zstd's frame structure); a
 *   payload sent as is (uncompressed length 0) must consist of whole MySQL packets.
 * - `ContentClassifier` (below): do the two directions of a connection on a port nobody named
 *   look like MySQL commands and their responses?
 */
import * as zlib from 'node:zlib';
import { isZlibHeader, isZstdFrame, type CompressionAlgorithm, type Inflate } from './compression.js';
import { Dir, GapReason, type CloseReason, type ConnectionInfo, type StreamHandler } from '../tcp/stream.js';

const u24 = (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);

/** The largest payload a compressed packet announces (the protocol's 3-byte lengths). */
const MAX_LEN = 0xffffff;

/** Bytes a partial zlib payload must inflate to, cleanly, to count as evidence. */
const MIN_PARTIAL_INFLATE = 32;

/** Do MySQL packets (int<3> length, int<1> sequence id, payload) fill `b[from, to)` exactly? */
function wholePackets(b: Uint8Array, from: number, to: number): boolean {
  let q = from;
  while (to - q >= 4) q += 4 + u24(b, q);
  return q === to;
}

/** Inflate, bounded by the length announced: the output, or null when it fails or is longer. */
function tryInflate(inflate: Inflate, payload: Uint8Array, rawLen: number): Uint8Array | null {
  try {
    const out = inflate(payload);
    return out.length === rawLen ? out : null;
  } catch {
    return null;
  }
}

const zlibBounded = (max: number): Inflate => (b) => zlib.inflateSync(b, { maxOutputLength: Math.max(1, max) });

/**
 * Does `b[off, off+len)` — a chunk that starts where a compressed packet would start (a TCP
 * segment) — hold compressed-protocol packets? Every packet in the chunk must agree:
 *
 *   int<3> compressed length (≥ 1), int<1> sequence id, int<3> uncompressed length, payload
 *
 * and at least one give proof: a zlib (or zstd, when `zstd` can decompress it) payload that
 * decompresses to exactly the uncompressed length; or, when every payload is sent as is, whole
 * MySQL packets in each and the chunk ending exactly at a packet's end. A zlib payload cut by the
 * chunk's end counts when what arrived inflates cleanly to at least 32 bytes. Returns the
 * algorithm proven ('zlib' when only uncompressed payloads were seen), or null.
 */
export function sniffCompressed(b: Uint8Array, off: number, len: number, zstd: Inflate | null): CompressionAlgorithm | null {
  const end = off + len;
  let p = off;
  let proof: CompressionAlgorithm | null = null;
  let packets = 0;
  let plainOnly = true;
  while (p < end) {
    if (end - p < 7) return null;
    const compLen = u24(b, p);
    const rawLen = u24(b, p + 4);
    if (compLen === 0) return null;
    const body = p + 7;
    const have = Math.min(compLen, end - body);
    const whole = have === compLen;
    if (rawLen === 0) {
      // Sent as is: MySQL packets inside (whole, unless a long one goes on in the next packet).
      if (!whole) {
        if (packets === 0) return null;
        plainOnly = false; // no proof from a cut payload: the chunk decides on what came before
        break;
      }
      // A long packet may go on in the next compressed packet: consistent, but no proof.
      if (!wholePackets(b, body, body + compLen)) {
        if (compLen < 16384) return null;
        plainOnly = false;
      }
    } else {
      plainOnly = false;
      if (rawLen > MAX_LEN) return null;
      const payload = b.subarray(body, body + have);
      if (isZstdFrame(b, body, have)) {
        if (!whole) {
          if (packets === 0) return null;
          break;
        }
        if (zstd === null) {
          // Cannot be checked here: the shape alone (a frame magic where a payload begins) is
          // taken as zstd, so that the user is told it cannot be decoded, rather than nothing.
          proof ??= 'zstd';
        } else if (tryInflate(zstd, payload, rawLen) !== null) proof = 'zstd';
        else return null;
      } else if (isZlibHeader(b, body, have)) {
        if (whole) {
          if (tryInflate(zlibBounded(rawLen), payload, rawLen) === null) return null;
          proof = 'zlib';
        } else {
          let out: Uint8Array;
          try {
            out = zlib.inflateSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, rawLen) });
          } catch {
            return null;
          }
          if (out.length < Math.min(MIN_PARTIAL_INFLATE, rawLen)) return null;
          proof ??= 'zlib';
          break;
        }
      } else {
        return null;
      }
    }
    packets++;
    p = body + compLen;
  }
  if (proof !== null) return proof;
  // Only payloads sent as is: whole packets at both levels, the chunk ending with the last.
  return plainOnly && packets > 0 && p === end ? 'zlib' : null;
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// MySQL on a port nobody named: commands and their responses
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Commands a pooled connection sends (what a capture begun mid-connection sees first). */
const PROBE_COMMANDS = new Set<number>([0x01, 0x02, 0x03, 0x04, 0x09, 0x0c, 0x0e, 0x11, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f]);
/** Commands that may fill their first segment and go on (long SQL, many parameters, blobs). */
const LONG_COMMANDS = new Set<number>([0x03, 0x16, 0x17, 0x18]);

/** Mostly text, starting like a statement (after a query-attributes block `00 01`, if any). */
function sqlLike(b: Uint8Array, from: number, to: number): boolean {
  if (to - from >= 2 && b[from] === 0 && b[from + 1] === 1) return true; // query attributes: not checked further
  const n = Math.min(to - from, 64);
  if (n < 1) return false;
  // Text (UTF-8 allowed), and mostly ASCII as SQL is.
  let text = 0;
  let ascii = 0;
  for (let i = from; i < from + n; i++) {
    const c = b[i]!;
    if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d) ascii++;
    else if (c >= 0x80) text++;
  }
  text += ascii;
  let i = from;
  while (i < to && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return statementStart(b, i, to) && text >= n * 0.9 && ascii >= n * 0.75;
}

const isLetter = (c: number | undefined): boolean => c !== undefined && ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/** A keyword (two letters or more, then a space, `(`, `;` or the end), `(`, or a comment (`/*`, `--`, `#`). */
function statementStart(b: Uint8Array, i: number, to: number): boolean {
  const c = b[i];
  if (c === 0x23) return true;
  if (c === 0x28) return isLetter(b[i + 1]) || b[i + 1] === 0x28 || b[i + 1] === 0x20;
  if (c === 0x2f) return b[i + 1] === 0x2a;
  if (c === 0x2d) return b[i + 1] === 0x2d;
  let j = i;
  while (j < to && isLetter(b[j])) j++;
  if (j - i < 2) return false;
  const after = b[j];
  return j === to || after === 0x20 || after === 0x28 || after === 0x3b || after === 0x0a || after === 0x0d || after === 0x09 || after === 0x5f || after === 0x2a || after === 0x60;
}

/** Printable ASCII names (a database, a table, a user), `n` bytes from `from`, then a NUL if `nul`. */
function nameLike(b: Uint8Array, from: number, to: number, nul: boolean): boolean {
  let i = from;
  while (i < to && b[i]! >= 0x20 && b[i]! < 0x7f) i++;
  return i > from && (nul ? i < to && b[i] === 0 : i === to);
}

/**
 * The argument of a command as the protocol defines it: its length (`n` bytes after the command
 * byte), and for text arguments, text. `to` bounds what the segment holds of it.
 */
function commandBody(com: number, b: Uint8Array, from: number, n: number, to: number): boolean {
  switch (com) {
    case 0x01: // quit
    case 0x09: // statistics
    case 0x0e: // ping
    case 0x1f: // reset_connection
      return n === 0;
    case 0x0c: // process_kill: int<4>
    case 0x19: // stmt_close: int<4>
    case 0x1a: // stmt_reset: int<4>
      return n === 4;
    case 0x1c: // stmt_fetch: int<4> statement, int<4> rows
      return n === 8;
    case 0x1b: // set_option: int<2> 0 or 1
      return n === 2 && b[from + 1] === 0 && b[from]! <= 1;
    case 0x17: // stmt_execute: int<4> statement, int<1> flags, int<4> iteration count (always 1)
      return n >= 9 && b[from + 5] === 1 && b[from + 6] === 0 && b[from + 7] === 0 && b[from + 8] === 0 && b[from + 4]! < 0x20;
    case 0x18: // stmt_send_long_data: int<4> statement, int<2> parameter, data (ids below 2^24, parameters below 256)
      return n >= 6 && b[from + 3] === 0 && b[from + 5] === 0;
    case 0x02: // init_db: the database name
      return n <= 256 && nameLike(b, from, to, false);
    case 0x04: // field_list: the table name, NUL
    case 0x11: // change_user: the user name, NUL
      return nameLike(b, from, to, true);
    case 0x03: // query
    case 0x16: // stmt_prepare
      return sqlLike(b, from, to);
    default:
      return false;
  }
}

/**
 * Does this client segment hold MySQL commands, from its first byte? Packets with sequence id 0,
 * a command byte a connection pool sends, the segment filled exactly by them; or one long
 * command (a query, a prepare, an execute, long data) that fills a full segment and goes on.
 */
export function commandShape(b: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  let p = off;
  let n = 0;
  while (p < end) {
    if (end - p < 5 || b[p + 3] !== 0) return false;
    const plen = u24(b, p);
    const com = b[p + 4]!;
    if (plen < 1 || !PROBE_COMMANDS.has(com)) return false;
    const bodyEnd = p + 4 + plen;
    if (!commandBody(com, b, p + 5, plen - 1, Math.min(bodyEnd, end))) return false;
    if (bodyEnd > end) return n === 0 && LONG_COMMANDS.has(com) && len >= 512;
    p = bodyEnd;
    n++;
  }
  return true;
}

/**
 * Does this server segment start a response? Packets with sequence ids 1, 2, 3… each after the
 * other, the first an OK, ERR, EOF, LOCAL INFILE request or a column count followed by a column
 * definition (`03 def`), or a column definition (COM_FIELD_LIST); the last may go on past the
 * segment.
 */
export function responseShape(b: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  if (len < 5 || b[off + 3] !== 1) return false;
  const plen = u24(b, off);
  const b0 = b[off + 4]!;
  if (plen < 1) return false;
  if (b0 === 0x00 && plen < 7) return false; // OK: at least header, two lengths, status, warnings
  if (b0 === 0xff && (plen < 3 || plen > 4096)) return false;
  if (b0 === 0xfe && plen >= 0xffffff) return false;
  if (b0 === 0x03 && plen >= 8 && b[off + 5] === 0x64 && b[off + 6] === 0x65 && b[off + 7] === 0x66) {
    // A column definition first (COM_FIELD_LIST): catalog "def".
  } else if (b0 > 0x00 && b0 < 0xfb) {
    // A column count (MariaDB may add a metadata flag byte): small, and the next packet a column definition.
    if (plen > 2 || b0 > 250) return false;
    const q = off + 4 + plen;
    if (end - q < 8) return false;
    if (b[q + 3] !== 2 || b[q + 4] !== 3 || b[q + 5] !== 0x64 || b[q + 6] !== 0x65 || b[q + 7] !== 0x66) return false;
  } else if (b0 === 0xfb) {
    if (plen < 2) return false;
  } else if (b0 !== 0x00 && b0 !== 0xff && b0 !== 0xfe) return false;
  // The chain: consecutive sequence ids, each header whole.
  let p = off;
  let seq = 1;
  while (p < end) {
    if (end - p < 4) return false;
    if (b[p + 3] !== (seq & 0xff)) return false;
    p += 4 + u24(b, p);
    seq++;
  }
  return true;
}

/** The uncompressed payload of the compressed packet at `b[off]`, when it is whole in the segment. */
function firstPayload(b: Uint8Array, off: number, len: number, zstd: Inflate | null): Uint8Array | null {
  const compLen = u24(b, off);
  const rawLen = u24(b, off + 4);
  if (7 + compLen > len) return null;
  const payload = b.subarray(off + 7, off + 7 + compLen);
  if (rawLen === 0) return payload;
  return tryInflate(isZstdFrame(payload, 0, compLen) ? (zstd ?? (() => new Uint8Array(0))) : zlibBounded(rawLen), payload, rawLen);
}

/** What the content of a connection says. */
export type Verdict = 'mysql' | 'mysql-swapped' | 'not-mysql';

/**
 * Do the two directions of a connection look like MySQL commands and their responses? Fed the
 * segments as the reassembler delivers them (causal order); keeps no bytes. Both orientations are
 * weighed (the lower port was guessed as the server: it may be the client). A pair is a segment
 * of commands followed by the first segment the other side sends, shaped like a response (or, for
 * the compressed protocol, both proven compressed packets). Two pairs decide; at the end, one pair
 * with nothing against it does.
 */
export class ContentClassifier {
  verdict: Verdict | null = null;
  /** Pairs found, per orientation (index: the direction that sends the commands). */
  readonly pairs = [0, 0];
  /** Commands answered by something that is not a response (the orientation is wrong, or it is not MySQL). */
  private readonly against = [0, 0];
  private readonly waiting = [false, false];
  private readonly inflateZstd: Inflate | null;

  constructor(zstd: Inflate | null = null) {
    this.inflateZstd = zstd;
  }

  /** One delivered segment of direction `dir` (0: the side taken as the client). */
  data(dir: 0 | 1, b: Uint8Array, off: number, len: number): Verdict | null {
    if (this.verdict !== null || len === 0) return this.verdict;
    // Compressed packets: the shapes are looked for in the first one's payload.
    const inner = sniffCompressed(b, off, len, this.inflateZstd) !== null ? firstPayload(b, off, len, this.inflateZstd) : null;
    const [v, o, l] = inner === null ? [b, off, len] : [inner, 0, inner.length];
    const command = commandShape(v, o, l);
    const response = responseShape(v, o, l);
    for (const o of [0, 1] as const) {
      if (dir === o) {
        // This side sends the commands in orientation o.
        // More of the same request, or what is not a command (authentication, LOCAL INFILE data, a
        // long query's next segments): neither for nor against.
        if (!this.waiting[o] && command) this.waiting[o] = true;
      } else if (this.waiting[o]) {
        this.waiting[o] = false;
        if (response) this.pairs[o]++;
        else this.against[o]++;
      }
    }
    for (const o of [0, 1] as const) {
      if (this.pairs[o]! >= 2 && this.pairs[o]! > this.against[o]!) return (this.verdict = o === 0 ? 'mysql' : 'mysql-swapped');
    }
    return null;
  }

  /** No more bytes will be looked at: decide on what was seen. */
  end(): Verdict {
    if (this.verdict !== null) return this.verdict;
    for (const o of [0, 1] as const) {
      if (this.pairs[o]! >= 1 && this.against[o] === 0) return (this.verdict = o === 0 ? 'mysql' : 'mysql-swapped');
    }
    return (this.verdict = 'not-mysql');
  }
}

/** Bytes of each direction a probe looks at (and keeps, to replay them to the session it makes). */
export const PROBE_BYTES = 8192;

/** What all the probes of a pipeline may hold at once (a flood of unknown connections stays bounded). */
export class ProbeBudget {
  inUse = 0;
  /** Probes that had to decide early because the budget was spent. */
  cut = 0;
  constructor(readonly max = 64 * 1024 * 1024) {}
}

type Held = { dir: Dir; gap: number; reason: GapReason; bytes: Uint8Array | null; sec: number; nsec: number };

/** The same connection with its sides the other way round (the lower port was the client). */
export function swapSides(i: ConnectionInfo): ConnectionInfo {
  return { ...i, client: i.server, server: i.client, clientPort: i.serverPort, serverPort: i.clientPort, sidesBy: 'guess', stats: [i.stats[1], i.stats[0]] };
}

/**
 * The handler of a connection nothing else classified (no SYN, no greeting, no known port): it
 * looks at the first PROBE_BYTES of each direction with a ContentClassifier, keeping copies; when
 * the content says MySQL, `decided` makes the real handler (a session), which is given everything
 * kept, then the rest as it comes; otherwise the bytes are let go and the connection ignored.
 */
export class ProbeHandler implements StreamHandler {
  private readonly classifier: ContentClassifier;
  private held: Held[] | null = [];
  private readonly seen = [0, 0];
  private target: StreamHandler | null = null;
  private swapped = false;
  private done = false;

  constructor(
    readonly info: ConnectionInfo,
    private readonly budget: ProbeBudget,
    private readonly decided: (info: ConnectionInfo) => StreamHandler,
    zstd: Inflate | null = null,
  ) {
    this.classifier = new ContentClassifier(zstd);
  }

  onData(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (this.target !== null) return this.target.onData(this.swapped ? flip(dir) : dir, buf, offset, length, sec, nsec);
    if (this.done) return;
    const take = Math.min(length, PROBE_BYTES - this.seen[dir]!, Math.max(0, this.budget.max - this.budget.inUse));
    if (take > 0) {
      this.held!.push({ dir, gap: 0, reason: GapReason.Unseen, bytes: buf.slice(offset, offset + take), sec, nsec });
      this.budget.inUse += take;
      this.seen[dir]! += take;
    }
    let v = this.classifier.data(dir, buf, offset, length);
    if (v === null && take < length) {
      // No more can be kept: decide on what was seen.
      if (this.seen[dir]! < PROBE_BYTES) this.budget.cut++;
      v = this.classifier.end();
    }
    if (v === null) return;
    const t = this.decide(v);
    // The part of this segment that was not kept goes straight on.
    if (t !== null && take < length) t.onData(this.swapped ? flip(dir) : dir, buf, offset + take, length - take, sec, nsec);
  }

  onGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void {
    if (this.target !== null) return this.target.onGap(this.swapped ? flip(dir) : dir, bytes, reason, sec, nsec);
    if (this.done) return;
    this.held!.push({ dir, gap: bytes, reason, bytes: null, sec, nsec });
  }

  onClose(reason: CloseReason, sec: number, nsec: number, by: Dir | null): void {
    if (this.target === null && !this.done) this.decide(this.classifier.end());
    if (this.target !== null) this.target.onClose(reason, sec, nsec, by === null ? null : this.swapped ? flip(by) : by);
  }

  /** The classifier's verdict, once given (null while looking). */
  get verdict(): Verdict | null {
    return this.classifier.verdict;
  }

  /** Let the kept bytes go; for MySQL, make the real handler and replay them to it. */
  private decide(v: Verdict): StreamHandler | null {
    const held = this.held!;
    this.held = null;
    this.done = true;
    for (const h of held) if (h.bytes !== null) this.budget.inUse -= h.bytes.length;
    if (v === 'not-mysql') return null;
    this.swapped = v === 'mysql-swapped';
    const t = this.decided(this.swapped ? swapSides(this.info) : this.info);
    this.target = t;
    for (const h of held) {
      const d = this.swapped ? flip(h.dir) : h.dir;
      if (h.bytes !== null) t.onData(d, h.bytes, 0, h.bytes.length, h.sec, h.nsec);
      else t.onGap(d, h.gap, h.reason, h.sec, h.nsec);
    }
    return t;
  }
}

const flip = (d: Dir): Dir => (d === Dir.ClientToServer ? Dir.ServerToClient : Dir.ClientToServer);

/**
 * SQL redaction, fingerprints and digests (see docs/fingerprints.md).
 *
 *   redact(sql)                 the statement as written, every literal `?`, comments removed
 *   fingerprint(sql)            the normal form that groups statements (literals `?` too)
 *   digest(fingerprint)         16 hex digits naming a fingerprint
 *   normalize(sql)              all three from one pass of the lexer: what the analyzer calls
 *   *Bytes(b, start, end)       the same on the bytes of a packet, in the connection's charset
 *   fingerprintAndDigestBytes   both without the redacted text: grouping every statement costs less
 *   redactErrorMessage(msg)     quoted spans of a server error message → `?`
 *
 * Statement facts (kind, tables) are in ./facts.js, which loads node-sql-parser on first use.
 *
 * Nothing here throws on any input, and nothing keeps a reference to the input: the results are
 * fresh strings. The lexer, the token list and the output buffers are reused across calls, so
 * calls are cheap; they are synchronous, hence never interleaved.
 */
import { digest, hashBytes, lastDigest, lastHash } from './digest.js';
import { FingerprintWriter } from './fingerprint.js';
import { StreamFingerprint } from './fingerprint-stream.js';
import { DEFAULT_LEX_OPTIONS, lex, multibyteTables, TokenList, type LexOptions } from './lexer.js';
import { redactedStart, writeRedacted } from './redact.js';
import { scan } from './scan.js';

export { digest } from './digest.js';
export { redactErrorMessage } from './error-message.js';

export interface SqlOptions {
  /**
   * The connection's MySQL character set (`utf8mb4`, `latin1`, `gbk`, `sjis`, …) of the bytes
   * given to the *Bytes functions: how they are decoded into the result strings, and, for GBK,
   * GB18030, Big5, SJIS and CP932, which bytes are the second half of a character. Default
   * utf8mb4. (The string functions encode their input as UTF-8 themselves and ignore it.)
   */
  charset?: string;
  /** The session has NO_BACKSLASH_ESCAPES (server status flag 0x0200): `\` is an ordinary character in strings. */
  noBackslashEscapes?: boolean;
  /** The session has ANSI_QUOTES: `"…"` is an identifier, kept, rather than a string, masked. */
  ansiQuotes?: boolean;
}

export interface NormalizedSql {
  /** The statement as written, literals `?`, comments removed, trimmed. */
  redacted: string;
  /** The grouping form (docs/fingerprints.md). */
  fingerprint: string;
  /** 16 hex digits: `digest(fingerprint)`. */
  digest: string;
}

const tokens = new TokenList();
const writer = new FingerprintWriter();
const stream = new StreamFingerprint();
/** The fingerprint of the last `lexFingerprint`: `fpBuf[0, fpLength)`. */
let fpBuf = stream.buf;
let fpLength = 0;
let redacted = new Uint8Array(1024);
let encoded = new Uint8Array(1024);
const encoder = new TextEncoder();

type Decoder = InstanceType<typeof TextDecoder>;

const UTF8: Decoder = new TextDecoder('utf-8');
const decoders = new Map<string, Decoder>();

/** WHATWG encoding labels of MySQL character sets whose bytes are not UTF-8. */
const LABELS: Record<string, string> = {
  latin1: 'windows-1252', // MySQL's latin1 is cp1252
  binary: 'windows-1252',
  ascii: 'windows-1252',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  latin2: 'iso-8859-2',
  latin5: 'windows-1254',
  latin7: 'iso-8859-13',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  cp866: 'ibm866',
  macroman: 'macintosh',
  gbk: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
  big5: 'big5',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  euckr: 'euc-kr',
};

function decoderFor(charset: string | undefined): Decoder {
  if (charset === undefined) return UTF8;
  const label = LABELS[charset.toLowerCase()];
  if (label === undefined) return UTF8;
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = UTF8; // a Node built without ICU: ASCII structure is what matters
    }
    decoders.set(label, d);
  }
  return d;
}

/** Lexer options for bytes in `opts.charset`; `fromString`: the bytes are our UTF-8 encoding of a JS string. */
function lexOptions(opts: SqlOptions | undefined, fromString = false): LexOptions {
  if (opts === undefined) return DEFAULT_LEX_OPTIONS;
  return {
    backslashEscapes: opts.noBackslashEscapes !== true,
    ansiQuotes: opts.ansiQuotes === true,
    multibyte: fromString ? null : multibyteTables(opts.charset),
  };
}

/** UTF-8 bytes of `s` in a reused buffer: `encoded[0, return)`. */
function encode(s: string): number {
  if (encoded.length < s.length * 3) encoded = new Uint8Array(Math.max(s.length * 3, encoded.length * 2));
  return encoder.encodeInto(s, encoded).written;
}

function redactLexed(b: Uint8Array, start: number, end: number, d: Decoder): string {
  if (redacted.length < end - start + 2) redacted = new Uint8Array(Math.max(end - start + 2, redacted.length * 2));
  const e = writeRedacted(b, start, end, tokens, redacted);
  return d.decode(redacted.subarray(redactedStart(redacted, e), e));
}

/**
 * Lex `b[s, e)` into `tokens` and write its fingerprint in the same pass (into `fpBuf`), or, for
 * the statements the stream leaves to it, with the token-list writer.
 */
function lexFingerprint(b: Uint8Array, s: number, e: number, o: LexOptions): void {
  scan(b, s, e, o, tokens, stream);
  if (stream.slow) {
    writer.write(b, tokens);
    fpBuf = writer.buf;
    fpLength = writer.length;
  } else {
    fpBuf = stream.buf;
    fpLength = stream.length;
  }
}

interface Known {
  high: number;
  low: number;
  fingerprint: string;
  digest: string;
}

/**
 * Fingerprints already seen, by their digest's high lane: a capture repeats few fingerprints
 * millions of times, and this spares decoding one and formatting its digest every time.
 */
const known = new Map<number, Known>();
const MAX_KNOWN = 1 << 16;

/** Fingerprint and digest of the last `lexFingerprint`. */
function fingerprintAndDigest(d: Decoder): Known {
  const buf = fpBuf;
  const len = fpLength;
  hashBytes(buf, 0, len);
  if (!lastHash.ascii) {
    // Not ASCII: the digest is of the decoded string's UTF-8, which may differ from these bytes.
    const fingerprint = d.decode(buf.subarray(0, len));
    return { high: 0, low: 0, fingerprint, digest: digest(fingerprint) };
  }
  const key = lastHash.high & 0x3fffffff; // a small integer: no boxing
  const k = known.get(key);
  if (k !== undefined && k.high === lastHash.high && k.low === lastHash.low && k.fingerprint.length === len) return k;
  const entry: Known = { high: lastHash.high, low: lastHash.low, fingerprint: UTF8.decode(buf.subarray(0, len)), digest: lastDigest() };
  if (known.size >= MAX_KNOWN) known.clear();
  known.set(key, entry);
  return entry;
}

function afterHuge(): void {
  if (tokens.capacity > 1 << 16) tokens.shrink();
  if (redacted.length > 1 << 20) redacted = new Uint8Array(1024);
  if (encoded.length > 1 << 22) encoded = new Uint8Array(1024);
  if (writer.buf.length > 1 << 20) writer.buf = new Uint8Array(1024);
  if (stream.buf.length > 1 << 20) stream.buf = new Uint8Array(1024);
}

function clamp(b: Uint8Array, start: number | undefined, end: number | undefined): [number, number] {
  const s = Math.max(0, Math.min(start ?? 0, b.length));
  const e = Math.max(s, Math.min(end ?? b.length, b.length));
  return [s, e];
}

/** `sql` with every literal replaced by `?` and comments removed. */
export function redact(sql: string, opts?: SqlOptions): string {
  const n = encode(sql);
  lex(encoded, 0, n, lexOptions(opts, true), tokens);
  return redactLexed(encoded, 0, n, UTF8);
}

/** `redact` of `b[start, end)`, bytes in the connection's character set (`opts.charset`). */
export function redactBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
  const [s, e] = clamp(b, start, end);
  lex(b, s, e, lexOptions(opts), tokens);
  return redactLexed(b, s, e, decoderFor(opts?.charset));
}

/** The fingerprint of `sql` (which may be raw or already redacted: the result is the same). */
export function fingerprint(sql: string, opts?: SqlOptions): string {
  const n = encode(sql);
  lexFingerprint(encoded, 0, n, lexOptions(opts, true));
  return UTF8.decode(fpBuf.subarray(0, fpLength));
}

/** `fingerprint` of `b[start, end)`. */
export function fingerprintBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
  const [s, e] = clamp(b, start, end);
  lexFingerprint(b, s, e, lexOptions(opts));
  return decoderFor(opts?.charset).decode(fpBuf.subarray(0, fpLength));
}

/**
 * Fingerprint and digest of `b[start, end)`, without the redacted text: what grouping needs for
 * every statement (redact only the samples a report keeps, with `redactBytes` on the same bytes).
 */
export function fingerprintAndDigestBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): { fingerprint: string; digest: string } {
  const [s, e] = clamp(b, start, end);
  lexFingerprint(b, s, e, lexOptions(opts));
  const f = fingerprintAndDigest(decoderFor(opts?.charset));
  if (e - s > 1 << 16) afterHuge();
  return { fingerprint: f.fingerprint, digest: f.digest };
}

/** Redacted text, fingerprint and digest of `sql`, lexed once. */
export function normalize(sql: string, opts?: SqlOptions): NormalizedSql {
  const n = encode(sql);
  lexFingerprint(encoded, 0, n, lexOptions(opts, true));
  const r = redactLexed(encoded, 0, n, UTF8);
  const f = fingerprintAndDigest(UTF8);
  if (n > 1 << 16) afterHuge();
  return { redacted: r, fingerprint: f.fingerprint, digest: f.digest };
}

/** `normalize` of `b[start, end)`: a COM_QUERY's statement as it came off the wire. */
export function normalizeBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): NormalizedSql {
  let s = start === undefined ? 0 : Math.max(0, Math.min(start, b.length));
  const e = end === undefined ? b.length : Math.max(s, Math.min(end, b.length));
  if (s !== s) s = 0; // NaN
  lexFingerprint(b, s, e, lexOptions(opts));
  const d = decoderFor(opts?.charset);
  const r = redactLexed(b, s, e, d);
  const f = fingerprintAndDigest(d);
  if (e - s > 1 << 16) afterHuge();
  return { redacted: r, fingerprint: f.fingerprint, digest: f.digest };
}

/**
 * SQL redaction, fingerprints and digests (see docs/fingerprints.md).
 *
 *   redact(sql)                 the statement as written, every literal `?`, comments removed
 *   fingerprint(sql)            the normal form that groups statements (literals `?` too)
 *   digest(fingerprint)         16 hex digits naming a fingerprint
 *   normalize(sql)              all three from one pass of the lexer: what the analyzer calls
 *   *Bytes(b, start, end)       the same on the bytes of a packet, in the connection's charset
 *   fingerprintAndDigest(sql)   both without the redacted text: grouping every statement costs less
 *   fingerprintAndDigestBytes
 *   redactErrorMessage(msg)     quoted spans of a server error message → `?`
 *   setSqlTemplates, clearSqlCaches, sqlCacheStats: the template cache (for measurements, tests)
 *
 * Statement facts (kind, tables) are in ./facts.js, which loads node-sql-parser on first use.
 *
 * How (docs/performance.md): a statement seen before with other literal values matches a
 * template (./templates.ts) and gets its results without being lexed; any other is lexed once,
 * by ./scan.ts, which writes the fingerprint as it goes (./fingerprint-stream.ts; the token-list
 * writer ./fingerprint.ts does the statements it leaves). The results are the same either way.
 *
 * Nothing here throws on any input. The results are fresh strings, never views of the input; the
 * one reference to an input kept after a call is a DataView over the memory of the last one (to
 * read it 4 bytes at a time), replaced when an input comes in other memory and dropped by
 * `clearSqlCaches`. The lexer, the token list and the output buffers are reused across calls, so
 * calls are cheap; they are synchronous, hence never interleaved.
 */
import { digest, hashBytes, lastDigest, lastHash } from './digest.js';
import { FingerprintWriter } from './fingerprint.js';
import { StreamFingerprint } from './fingerprint-stream.js';
import { DEFAULT_LEX_OPTIONS, lex, multibyteTables, TokenList, type LexOptions } from './lexer.js';
import { lastRedacted, redactedStart, writeRedacted } from './redact.js';
import { scan } from './scan.js';
import { forgetInput, hasNameDigits, isNameDigit, PATCH_NONE, PATCH_SAME, TemplateCache, templateHoles, templateKey, type Patch } from './templates.js';
import { Views } from './views.js';

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
  /**
   * The session has NO_BACKSLASH_ESCAPES (server status flag 0x0200): `\` is an ordinary
   * character in strings. Null: not known (a capture that began mid-connection): a statement
   * that reads differently in the two modes gets only what both readings agree on (the common
   * start of the two results, then `?`), so no literal of either reading comes out.
   */
  noBackslashEscapes?: boolean | null;
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
const redactedViews = new Views();
const streamViews = new Views();
const writerViews = new Views();
/** The views of `fpBuf`. */
let fpViews = streamViews;
let encoded = new Uint8Array(1024);
const encoder = new TextEncoder();

type Decoder = InstanceType<typeof TextDecoder>;

const UTF8: Decoder = new TextDecoder('utf-8');
const decoders = new Map<string, Decoder>();
/** A small number per decoder (UTF-8: 0), for templates' session modes. */
const decoderIds = new Map<Decoder, number>([[UTF8, 0]]);

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

let lastCharset: string | undefined;
let lastDecoder = UTF8;

function decoderFor(charset: string | undefined): Decoder {
  if (charset === undefined) return UTF8;
  if (charset === lastCharset) return lastDecoder;
  const label = LABELS[charset.toLowerCase()];
  let d = UTF8;
  if (label !== undefined) {
    let known = decoders.get(label);
    if (known === undefined) {
      try {
        known = new TextDecoder(label);
      } catch {
        known = UTF8; // a Node built without ICU: ASCII structure is what matters
      }
      decoders.set(label, known);
      if (!decoderIds.has(known)) decoderIds.set(known, decoderIds.size);
    }
    d = known;
  }
  lastCharset = charset;
  lastDecoder = d;
  return d;
}

/** Lexer options for bytes in `opts.charset`; `fromString`: the bytes are our UTF-8 encoding of a JS string. */
function lexOptions(opts: SqlOptions | undefined, fromString = false): LexOptions {
  if (opts === undefined) return DEFAULT_LEX_OPTIONS;
  const backslashEscapes = opts.noBackslashEscapes !== true;
  const ansiQuotes = opts.ansiQuotes === true;
  const multibyte = fromString ? null : multibyteTables(opts.charset);
  const last = lastLexOptions;
  if (last.backslashEscapes === backslashEscapes && last.ansiQuotes === ansiQuotes && last.multibyte === multibyte) return last;
  lastLexOptions = { backslashEscapes, ansiQuotes, multibyte };
  return lastLexOptions;
}
let lastLexOptions: LexOptions = DEFAULT_LEX_OPTIONS;

// ---------------------------------------------------------------------------------------------
// Templates (./templates.ts): statements seen before, matched on their bytes

const templates = new TemplateCache();
let templatesOn = true;
/** Longer statements get no template. */
const MAX_TEMPLATE_BYTES = 1 << 14;
/** The key of the last `findTemplate`. */
let templateKeyOf = 0;

/**
 * Turn the template cache on or off (on by default; what it holds stays). Off, every statement is
 * lexed: for measurements of that path and for tests; the results are the same either way.
 */
export function setSqlTemplates(on: boolean): void {
  templatesOn = on;
}

/** What the template cache holds and has done (since the module was loaded). */
export function sqlCacheStats(): { templates: number; lookups: number; hits: number } {
  return { templates: templates.size, lookups: templates.lookups, hits: templates.hits };
}

/**
 * Empty the caches (templates, fingerprints already seen): what follows is treated as never seen
 * before, as at the start of a capture. For measurements; the results are the same either way.
 */
export function clearSqlCaches(): void {
  templates.clear();
  forgetKnown();
  forgetInput();
}

/** The session mode templates are made and matched in: -1 when there can be none. */
function templateMode(o: LexOptions, d: Decoder): number {
  if (!templatesOn || o.multibyte !== null) return -1;
  return (o.backslashEscapes ? 1 : 0) | (o.ansiQuotes ? 2 : 0) | (d === UTF8 ? 0 : (decoderIds.get(d) ?? 0) << 2);
}

/** The id of the template `b[s, e)` matches in session mode `mode`, or -1 (and its key in `templateKeyOf`). */
function findTemplate(b: Uint8Array, s: number, e: number, o: LexOptions, mode: number): number {
  if (mode < 0 || e - s > MAX_TEMPLATE_BYTES) return -1;
  templateKeyOf = templateKey(b, s, e);
  return templates.find(b, s, e, templateKeyOf, mode, o.backslashEscapes);
}

/**
 * After `b[s, e)` was lexed (in `tokens`, its fingerprint in `fpBuf`) and its results are
 * `redacted` and `f`: keep it as a template if it is worth it, that is if its fingerprint was seen
 * before (a statement seen once, an ad-hoc query, costs no template), or if it has digits inside
 * names (`user0_`, `t1`: the template then serves the statements that differ there too).
 */
function remember(b: Uint8Array, s: number, e: number, o: LexOptions, mode: number, redacted: string | null, f: Known): void {
  if (mode < 0 || e - s > MAX_TEMPLATE_BYTES || !lastHash.ascii || !templates.wanted(templateKeyOf)) return;
  let holes = templateHoles(b, s, e, tokens, o.backslashEscapes, o.ansiQuotes, true);
  if (holes === null) return;
  let patch: Patch | null = null;
  if (hasNameDigits(holes)) {
    patch = namePatch(b, s, e, o, holes);
    if (patch === null) holes = templateHoles(b, s, e, tokens, o.backslashEscapes, o.ansiQuotes, false)!;
  }
  if (patch === null && !fingerprintSeen) return;
  templates.add(templateKeyOf, mode, b, s, e, holes, patch, redacted, f.fingerprint, f.digest);
}

let variant = new Uint8Array(1024);
let variantRedacted = new Uint8Array(1024);

/**
 * Where the digits inside names of `b[s, e)` (just lexed, in `tokens` and `fpBuf`; the name-digit
 * holes of `holes`) go in its redacted text and fingerprint: found by changing each in turn and
 * lexing again. Null when a change does more than change one byte of the redacted text and at
 * most one of the fingerprint, or the texts are not ASCII: then the digits stay as they are in the
 * template. (Clobbers `tokens` and the fingerprint buffers.)
 */
function namePatch(b: Uint8Array, s: number, e: number, o: LexOptions, holes: number[]): Patch | null {
  const fingerprint = fpBuf.slice(0, fpLength);
  if (redacted.length < e - s + 2) redacted = new Uint8Array(Math.max(e - s + 2, redacted.length * 2));
  const re = writeRedacted(b, s, e, tokens, redacted);
  const text = redacted.slice(redactedStart(redacted, re), re);
  for (const c of text) if (c >= 0x80) return null;
  const len = e - s;
  if (variant.length < len) variant = new Uint8Array(len * 2);
  if (variantRedacted.length < len + 2) variantRedacted = new Uint8Array(len * 2 + 2);
  variant.set(b.subarray(s, e));
  const inRedacted: number[] = [];
  const inFingerprint: number[] = [];
  for (let h = 0; h < holes.length; h += 3) {
    if (!isNameDigit(holes[h + 2]!)) continue;
    const at = holes[h]! - s;
    const digit = variant[at]!;
    variant[at] = digit === 0x39 ? 0x30 : digit + 1;
    lexFingerprint(variant, 0, len, o);
    const ve = writeRedacted(variant, 0, len, tokens, variantRedacted);
    variant[at] = digit;
    const r = oneChange(text, variantRedacted, redactedStart(variantRedacted, ve), ve);
    const f = oneChange(fingerprint, fpBuf, 0, fpLength);
    if (r < 0 || f < -1) return null;
    inRedacted.push(r);
    inFingerprint.push(f);
  }
  return { redacted: text, fingerprint, inRedacted, inFingerprint };
}

/** Where `b[s, e)` differs from `a`: -1 nowhere, the position if at exactly one byte, -2 otherwise. */
function oneChange(a: Uint8Array, b: Uint8Array, s: number, e: number): number {
  if (e - s !== a.length) return -2;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[s + i]) continue;
    if (at >= 0) return -2;
    at = i;
  }
  return at;
}

const patchedRedacted = new Uint8Array(1 << 16);
const patchedRedactedViews = new Views();
const patchedFingerprint = new Uint8Array(1 << 16);
const patchedViews = new Views();

/**
 * The results of the statement the last `findTemplate` matched with template `id`, which has
 * digits inside names: its fingerprint and digest (`fingerprintAndDigest`'s) and, with
 * `withRedacted`, its redacted text (in `patchedText`). Null if they do not fit the buffers.
 */
function patchedResults(id: number, withRedacted: boolean): Known | null {
  const how = templates.patched(id, patchedRedacted, patchedFingerprint, !withRedacted || templates.redacted[id] !== null);
  if (how === PATCH_NONE) return null;
  if (how === PATCH_SAME) {
    // The template's own digits: its own results.
    const own = templates.grouping(id);
    result.fingerprint = own.fingerprint;
    result.digest = own.digest;
    patchedText = withRedacted ? templates.redacted[id]! : '';
    return result;
  }
  fpBuf = patchedFingerprint;
  fpLength = templates.fingerprintLength;
  fpViews = patchedViews.over(patchedFingerprint);
  const f = lastResults(UTF8);
  patchedText = withRedacted ? patchedRedactedViews.over(patchedRedacted).node.toString('latin1', 0, templates.redactedLength) : '';
  return f;
}
let patchedText = '';

/** UTF-8 bytes of `s` in a reused buffer: `encoded[0, return)`. */
function encode(s: string): number {
  if (encoded.length < s.length * 3) encoded = new Uint8Array(Math.max(s.length * 3, encoded.length * 2));
  return encoder.encodeInto(s, encoded).written;
}

/**
 * `d.decode(bytes[s, e))`, cheaper: Buffer's decoders cost a fraction of TextDecoder's on short
 * strings. ASCII (`ascii`: known to be) is the same in every character set of LABELS; UTF-8 is
 * V8's own decoder either way, TextDecoder only drops a leading byte order mark first.
 */
function decode(bytes: Uint8Array, views: Views, s: number, e: number, ascii: boolean, d: Decoder): string {
  if (ascii) return views.over(bytes).node.toString('latin1', s, e);
  if (d !== UTF8) return d.decode(bytes.subarray(s, e));
  if (e - s >= 3 && bytes[s] === 0xef && bytes[s + 1] === 0xbb && bytes[s + 2] === 0xbf) s += 3;
  return views.over(bytes).node.toString('utf8', s, e);
}

function redactLexed(b: Uint8Array, start: number, end: number, d: Decoder): string {
  if (redacted.length < end - start + 2) redacted = new Uint8Array(Math.max(end - start + 2, redacted.length * 2));
  const e = writeRedacted(b, start, end, tokens, redacted);
  return decode(redacted, redactedViews, redactedStart(redacted, e), e, lastRedacted.ascii, d);
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
    fpViews = writerViews.over(fpBuf);
  } else {
    fpBuf = stream.buf;
    fpLength = stream.length;
    fpViews = streamViews.over(fpBuf);
  }
}

export interface Known {
  fingerprint: string;
  digest: string;
}

/**
 * Fingerprints already seen, in a direct-mapped table by their digest (a capture repeats few
 * fingerprints millions of times, and this spares decoding one and formatting its digest every
 * time): per slot the digest's two lanes, the fingerprint's length and its strings.
 */
const KNOWN_BITS = 16;
const knownHigh = new Int32Array(1 << KNOWN_BITS);
const knownLow = new Int32Array(1 << KNOWN_BITS);
const knownLength = new Int32Array(1 << KNOWN_BITS).fill(-1);
const knownFingerprint: string[] = new Array<string>(1 << KNOWN_BITS).fill('');
const knownDigest: string[] = new Array<string>(1 << KNOWN_BITS).fill('');

function forgetKnown(): void {
  knownLength.fill(-1);
  knownFingerprint.fill('');
  knownDigest.fill('');
}

/** Whether the last `lastResults` found its fingerprint already known. */
let fingerprintSeen = false;
/** The results of the last `lastResults`. */
const result: Known = { fingerprint: '', digest: '' };

/** Fingerprint and digest of the last `lexFingerprint`, in `result`. */
function lastResults(d: Decoder): Known {
  const buf = fpBuf;
  const len = fpLength;
  hashBytes(buf, 0, len, fpViews.view);
  if (!lastHash.ascii) {
    fingerprintSeen = false;
    // Not ASCII: the digest is of the decoded string's UTF-8, which may differ from these bytes.
    result.fingerprint = decode(buf, fpViews, 0, len, false, d);
    result.digest = digest(result.fingerprint);
    return result;
  }
  const high = lastHash.high | 0;
  const low = lastHash.low | 0;
  const slot = low & ((1 << KNOWN_BITS) - 1);
  fingerprintSeen = knownLength[slot] === len && knownHigh[slot] === high && knownLow[slot] === low;
  if (fingerprintSeen) {
    result.fingerprint = knownFingerprint[slot]!;
    result.digest = knownDigest[slot]!;
    return result;
  }
  result.fingerprint = fpViews.node.toString('latin1', 0, len);
  result.digest = lastDigest();
  knownHigh[slot] = high;
  knownLow[slot] = low;
  knownLength[slot] = len;
  knownFingerprint[slot] = result.fingerprint;
  knownDigest[slot] = result.digest;
  return result;
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

// ---------------------------------------------------------------------------------------------
// NO_BACKSLASH_ESCAPES not known: both readings, and what they agree on

const ESCAPES: SqlOptions = {};
const NO_ESCAPES: SqlOptions = { noBackslashEscapes: true };

const UNKNOWN_MODE: SqlOptions = { noBackslashEscapes: null };

/**
 * The options for a statement sent with NO_BACKSLASH_ESCAPES `noBackslashEscapes` (true, false,
 * null: not known; undefined: false): shared objects, nothing allocated.
 */
export function sessionMode(noBackslashEscapes: boolean | null | undefined): SqlOptions | undefined {
  return noBackslashEscapes === true ? NO_ESCAPES : noBackslashEscapes === null ? UNKNOWN_MODE : undefined;
}

function withMode(opts: SqlOptions, noBackslashEscapes: boolean): SqlOptions {
  return opts.charset === undefined && opts.ansiQuotes === undefined ? (noBackslashEscapes ? NO_ESCAPES : ESCAPES) : { ...opts, noBackslashEscapes };
}

/**
 * What two results of the same statement agree on: the result when equal, else their common start
 * and `?`. Safe whichever reading is right: that reading's result holds no literal, and the common
 * start is a start of it.
 */
function agreed(a: string, b: string): string {
  if (a === b) return a;
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // (Not inside a surrogate pair.)
  if (i > 0 && (a.charCodeAt(i - 1) & 0xfc00) === 0xd800) i--;
  return `${a.slice(0, i).trimEnd()} ?`.trimStart();
}

function agreedGrouping(a: Readonly<Known>, b: Readonly<Known>): Readonly<Known> {
  if (a.fingerprint === b.fingerprint) return a;
  const fingerprint = agreed(a.fingerprint, b.fingerprint);
  return { fingerprint, digest: digest(fingerprint) };
}

function hasBackslashBytes(b: Uint8Array, s: number, e: number): boolean {
  const i = b.indexOf(0x5c, s);
  return i >= 0 && i < e;
}

/** `sql` with every literal replaced by `?` and comments removed. */
export function redact(sql: string, opts?: SqlOptions): string {
  if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreed(redact(sql, withMode(opts!, false)), redact(sql, withMode(opts!, true)));
  const n = encode(sql);
  const o = lexOptions(opts, true);
  const id = findTemplate(encoded, 0, n, o, templateMode(o, UTF8));
  if (id >= 0) {
    if (templates.hasPatch(id)) {
      if (patchedResults(id, true) !== null) return patchedText;
    } else if (templates.redacted[id] !== null) {
      return templates.redacted[id]!;
    }
  }
  lex(encoded, 0, n, o, tokens);
  return redactLexed(encoded, 0, n, UTF8);
}

/** `redact` of `b[start, end)`, bytes in the connection's character set (`opts.charset`). */
export function redactBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
  const [s, e] = clamp(b, start, end);
  if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreed(redactBytes(b, s, e, withMode(opts!, false)), redactBytes(b, s, e, withMode(opts!, true)));
  const o = lexOptions(opts);
  const d = decoderFor(opts?.charset);
  const id = findTemplate(b, s, e, o, templateMode(o, d));
  if (id >= 0) {
    if (templates.hasPatch(id)) {
      if (patchedResults(id, true) !== null) return patchedText;
    } else if (templates.redacted[id] !== null) {
      return templates.redacted[id]!;
    }
  }
  lex(b, s, e, o, tokens);
  return redactLexed(b, s, e, d);
}

/** The fingerprint of `sql` (which may be raw or already redacted: the result is the same). */
export function fingerprint(sql: string, opts?: SqlOptions): string {
  if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreed(fingerprint(sql, withMode(opts!, false)), fingerprint(sql, withMode(opts!, true)));
  const n = encode(sql);
  lexFingerprint(encoded, 0, n, lexOptions(opts, true));
  return UTF8.decode(fpBuf.subarray(0, fpLength));
}

/** `fingerprint` of `b[start, end)`. */
export function fingerprintBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
  const [s, e] = clamp(b, start, end);
  if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreed(fingerprintBytes(b, s, e, withMode(opts!, false)), fingerprintBytes(b, s, e, withMode(opts!, true)));
  lexFingerprint(b, s, e, lexOptions(opts));
  return decoderFor(opts?.charset).decode(fpBuf.subarray(0, fpLength));
}

/**
 * Fingerprint and digest of `b[start, end)`, without the redacted text: what grouping needs for
 * every statement (redact only the samples a report keeps, with `redactBytes` on the same bytes).
 */
export function fingerprintAndDigestBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): Readonly<Known> {
  const [s, e] = clamp(b, start, end);
  if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreedGrouping({ ...fingerprintAndDigestBytes(b, s, e, withMode(opts!, false)) }, fingerprintAndDigestBytes(b, s, e, withMode(opts!, true)));
  return grouping(b, s, e, lexOptions(opts), decoderFor(opts?.charset));
}

/** `fingerprintAndDigestBytes` of a statement as a JS string (the analyzer's events carry strings). */
export function fingerprintAndDigest(sql: string, opts?: SqlOptions): Readonly<Known> {
  if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreedGrouping({ ...fingerprintAndDigest(sql, withMode(opts!, false)) }, fingerprintAndDigest(sql, withMode(opts!, true)));
  const n = encode(sql);
  return grouping(encoded, 0, n, lexOptions(opts, true), UTF8);
}

/** Fingerprint and digest of `b[s, e)`: a template's (the same object each time) or lexed. */
function grouping(b: Uint8Array, s: number, e: number, o: LexOptions, d: Decoder): Readonly<Known> {
  const mode = templateMode(o, d);
  const id = findTemplate(b, s, e, o, mode);
  if (id >= 0) {
    if (!templates.hasPatch(id)) return templates.grouping(id);
    const f = patchedResults(id, false);
    if (f !== null) return { fingerprint: f.fingerprint, digest: f.digest };
  }
  lexFingerprint(b, s, e, o);
  const f = lastResults(d);
  remember(b, s, e, o, mode, null, f);
  if (e - s > 1 << 16) afterHuge();
  return { fingerprint: f.fingerprint, digest: f.digest };
}

/** Redacted text, fingerprint and digest of `sql`, lexed once. */
export function normalize(sql: string, opts?: SqlOptions): Readonly<NormalizedSql> {
  if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreedNormalized({ ...normalize(sql, withMode(opts!, false)) }, normalize(sql, withMode(opts!, true)));
  const n = encode(sql);
  return normalizeLexed(encoded, 0, n, lexOptions(opts, true), UTF8);
}

/** `normalize` of `b[start, end)`: a COM_QUERY's statement as it came off the wire. */
export function normalizeBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): Readonly<NormalizedSql> {
  let s = start === undefined ? 0 : Math.max(0, Math.min(start, b.length));
  const e = end === undefined ? b.length : Math.max(s, Math.min(end, b.length));
  if (s !== s) s = 0; // NaN
  if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreedNormalized({ ...normalizeBytes(b, s, e, withMode(opts!, false)) }, normalizeBytes(b, s, e, withMode(opts!, true)));
  return normalizeLexed(b, s, e, lexOptions(opts), decoderFor(opts?.charset));
}

function agreedNormalized(a: Readonly<NormalizedSql>, b: Readonly<NormalizedSql>): Readonly<NormalizedSql> {
  const g = agreedGrouping(a, b);
  return { redacted: agreed(a.redacted, b.redacted), fingerprint: g.fingerprint, digest: g.digest };
}

/** `normalize` of `b[s, e)` in options `o`, decoded with `d`. */
function normalizeLexed(b: Uint8Array, s: number, e: number, o: LexOptions, d: Decoder): Readonly<NormalizedSql> {
  const mode = templateMode(o, d);
  const id = findTemplate(b, s, e, o, mode);
  if (id >= 0) {
    if (templates.hasPatch(id)) {
      const f = patchedResults(id, true);
      if (f !== null) return { redacted: patchedText, fingerprint: f.fingerprint, digest: f.digest };
    } else {
      const all = templates.normalized(id);
      if (all !== null) return all;
    }
  }
  lexFingerprint(b, s, e, o);
  const r = redactLexed(b, s, e, d);
  const f = lastResults(d);
  if (id >= 0) {
    if (!templates.hasPatch(id)) templates.redacted[id] = r; // made without it (by fingerprintAndDigestBytes); the same text
  } else {
    remember(b, s, e, o, mode, r, f);
  }
  if (e - s > 1 << 16) afterHuge();
  return { redacted: r, fingerprint: f.fingerprint, digest: f.digest };
}

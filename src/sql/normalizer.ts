/**
 * `SqlNormalizer`: a statement's redacted text, fingerprint and digest (docs/fingerprints.md), in
 * one pass over its bytes. An instance owns everything it reuses from one call to the next (the
 * token list, the output buffers, the fingerprints already seen, the template cache); there is no
 * state at module level, so two instances never see each other's statements.
 *
 * How a statement goes through it (`normalizeBytes`, the others are parts of it):
 *
 *   1. NO_BACKSLASH_ESCAPES not known and a backslash in the statement: both readings, and what
 *      they agree on (`agreed`);
 *   2. the template cache (./templates.ts): a statement seen before with other literal values (and
 *      other digits inside names: the template's patch) gets that statement's results, not lexed;
 *   3. otherwise lexed once by ./scan.ts, which writes the fingerprint as it goes
 *      (./fingerprint-stream.ts, the lexer's `TokenSink`, the one writer of the rules); the
 *      redacted text is written from the lexer's spans (./redact.ts); the digest hashes the
 *      fingerprint's bytes (./digest.ts), and a fingerprint seen before gets its strings back
 *      without decoding them;
 *   4. worth it (its fingerprint was seen before, or it has digits inside names): kept as a template.
 *
 * Nothing here throws on any input. The results are fresh strings, never views of the input; the
 * one reference to an input kept after a call is a DataView over the memory of the last one (in the
 * template cache, to read it 4 bytes at a time), replaced when an input comes in other memory and
 * dropped by `clearCaches`. Calls are synchronous, hence never interleaved on one instance.
 */
import { digest, hashBytes, hashDigest, newHash } from './digest.js';
import { StreamFingerprint } from './fingerprint-stream.js';
import { DEFAULT_LEX_OPTIONS, lex, multibyteTables, TokenList, type LexOptions } from './lexer.js';
import { RedactedText } from './redact.js';
import { scan } from './scan.js';
import { hasNameDigits, isNameDigit, PATCH_NONE, PATCH_SAME, TemplateCache, templateHoles, type Patch } from './templates.js';
import { Views } from './views.js';

export interface SqlOptions {
  /**
   * The connection's MySQL character set (`utf8mb4`, `latin1`, `gbk`, `sjis`, …) of the bytes
   * given to the *Bytes methods: how they are decoded into the result strings, and, for GBK,
   * GB18030, Big5, SJIS and CP932, which bytes are the second half of a character. Default
   * utf8mb4. (The string methods encode their input as UTF-8 themselves and ignore it.)
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

export interface Known {
  fingerprint: string;
  digest: string;
}

// ---------------------------------------------------------------------------------------------
// The session's options (shared, immutable)

const ESCAPES: SqlOptions = Object.freeze({});
const NO_ESCAPES: SqlOptions = Object.freeze({ noBackslashEscapes: true });
const UNKNOWN_MODE: SqlOptions = Object.freeze({ noBackslashEscapes: null });

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

function agreedNormalized(a: Readonly<NormalizedSql>, b: Readonly<NormalizedSql>): Readonly<NormalizedSql> {
  const g = agreedGrouping(a, b);
  return { redacted: agreed(a.redacted, b.redacted), fingerprint: g.fingerprint, digest: g.digest };
}

function hasBackslashBytes(b: Uint8Array, s: number, e: number): boolean {
  const i = b.indexOf(0x5c, s);
  return i >= 0 && i < e;
}

/** `start` within `b` (undefined: 0; NaN: 0). */
function startIn(b: Uint8Array, start: number | undefined): number {
  if (start === undefined) return 0;
  const s = Math.max(0, Math.min(start, b.length));
  return s === s ? s : 0;
}

/** `end` within `b[s, …]` (undefined, NaN: the end of `b`). (Two numbers, not an array: nothing allocated per call.) */
function endIn(b: Uint8Array, s: number, end: number | undefined): number {
  if (end === undefined) return b.length;
  const e = Math.max(s, Math.min(end, b.length));
  return e === e ? e : b.length;
}

// ---------------------------------------------------------------------------------------------
// Character sets

type Decoder = InstanceType<typeof TextDecoder>;

const UTF8: Decoder = new TextDecoder('utf-8');

/** WHATWG encoding labels of MySQL character sets whose bytes are not UTF-8. */
const LABELS: Readonly<Record<string, string>> = {
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

// ---------------------------------------------------------------------------------------------
// Sizes

/** Longer statements get no template. */
const MAX_TEMPLATE_BYTES = 1 << 14;
/** The fingerprints already seen: a direct-mapped table of 2^KNOWN_BITS slots. */
const KNOWN_BITS = 16;
/** A statement longer than this may have grown the buffers: they are made small again after it. */
const HUGE = 1 << 16;

export class SqlNormalizer {
  private readonly tokens = new TokenList();
  private readonly stream = new StreamFingerprint();
  private readonly redactedText = new RedactedText();
  private readonly hash = newHash();

  /** The fingerprint of the last `lexFingerprint`: `fpBuf[0, fpLength)`, with its views. */
  private fpBuf: Uint8Array;
  private fpLength = 0;
  private fpViews: Views;
  private readonly streamViews = new Views();
  private readonly redactedViews = new Views();

  /** A JS string's UTF-8 bytes (`encode`). */
  private encoded = new Uint8Array(1024);
  private readonly encoder = new TextEncoder();

  /** Decoders by WHATWG label, each with a small number for templates' session modes (UTF-8: 0). */
  private readonly decoders = new Map<string, Decoder>();
  private readonly decoderIds = new Map<Decoder, number>([[UTF8, 0]]);
  private lastCharset: string | undefined;
  private lastDecoder = UTF8;
  private lastLexOptions: LexOptions = DEFAULT_LEX_OPTIONS;

  // Templates (./templates.ts): statements seen before, matched on their bytes.
  private readonly templates = new TemplateCache();
  private templatesOn: boolean;
  /** The key of the last `findTemplate`. */
  private templateKey = 0;
  /** A statement with one digit inside a name changed, and its redacted text (`namePatch`). */
  private variant = new Uint8Array(1024);
  private readonly variantRedacted = new RedactedText();
  /** The results a template with a patch writes (`patchedResults`). */
  private readonly patchedRedacted = new Uint8Array(1 << 16);
  private readonly patchedRedactedViews = new Views();
  private readonly patchedFingerprint = new Uint8Array(1 << 16);
  private readonly patchedViews = new Views();
  private patchedText = '';

  /**
   * Fingerprints already seen, in a direct-mapped table by their digest (a capture repeats few
   * fingerprints millions of times, and this spares decoding one and formatting its digest every
   * time): per slot the digest's two lanes, the fingerprint's length and its strings.
   */
  private readonly knownHigh = new Int32Array(1 << KNOWN_BITS);
  private readonly knownLow = new Int32Array(1 << KNOWN_BITS);
  private readonly knownLength = new Int32Array(1 << KNOWN_BITS).fill(-1);
  private readonly knownFingerprint: string[] = new Array<string>(1 << KNOWN_BITS).fill('');
  private readonly knownDigest: string[] = new Array<string>(1 << KNOWN_BITS).fill('');
  /** Whether the last `lastResults` found its fingerprint already known. */
  private fingerprintSeen = false;
  /** The results of the last `lastResults`. */
  private readonly result: Known = { fingerprint: '', digest: '' };

  /** `templates: false`: every statement is lexed (for measurements and tests; the results are the same). */
  constructor(opts: { templates?: boolean } = {}) {
    this.templatesOn = opts.templates !== false;
    this.fpBuf = this.stream.buf;
    this.fpViews = this.streamViews;
  }

  // -------------------------------------------------------------------------------------------
  // The API

  /** Redacted text, fingerprint and digest of `b[start, end)`: a COM_QUERY's statement as it came off the wire. */
  normalizeBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): Readonly<NormalizedSql> {
    const s = startIn(b, start);
    const e = endIn(b, s, end);
    if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreedNormalized({ ...this.normalizeBytes(b, s, e, withMode(opts, false)) }, this.normalizeBytes(b, s, e, withMode(opts, true)));
    return this.normalizeLexed(b, s, e, this.lexOptions(opts), this.decoderFor(opts?.charset));
  }

  /** `normalizeBytes` of a statement as a JS string. */
  normalize(sql: string, opts?: SqlOptions): Readonly<NormalizedSql> {
    if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreedNormalized({ ...this.normalize(sql, withMode(opts, false)) }, this.normalize(sql, withMode(opts, true)));
    const n = this.encode(sql);
    return this.normalizeLexed(this.encoded, 0, n, this.lexOptions(opts, true), UTF8);
  }

  /**
   * Fingerprint and digest of `b[start, end)`, without the redacted text: what grouping needs for
   * every statement (redact only the samples a report keeps, with `redactBytes` on the same bytes).
   */
  fingerprintAndDigestBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): Readonly<Known> {
    const s = startIn(b, start);
    const e = endIn(b, s, end);
    if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreedGrouping({ ...this.fingerprintAndDigestBytes(b, s, e, withMode(opts, false)) }, this.fingerprintAndDigestBytes(b, s, e, withMode(opts, true)));
    return this.grouping(b, s, e, this.lexOptions(opts), this.decoderFor(opts?.charset));
  }

  /** `fingerprintAndDigestBytes` of a statement as a JS string (the analyzer's events carry strings). */
  fingerprintAndDigest(sql: string, opts?: SqlOptions): Readonly<Known> {
    if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreedGrouping({ ...this.fingerprintAndDigest(sql, withMode(opts, false)) }, this.fingerprintAndDigest(sql, withMode(opts, true)));
    const n = this.encode(sql);
    return this.grouping(this.encoded, 0, n, this.lexOptions(opts, true), UTF8);
  }

  /** `sql` with every literal replaced by `?` and comments removed. */
  redact(sql: string, opts?: SqlOptions): string {
    if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreed(this.redact(sql, withMode(opts, false)), this.redact(sql, withMode(opts, true)));
    const n = this.encode(sql);
    return this.redactIn(this.encoded, 0, n, this.lexOptions(opts, true), UTF8);
  }

  /** `redact` of `b[start, end)`, bytes in the connection's character set (`opts.charset`). */
  redactBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
    const s = startIn(b, start);
    const e = endIn(b, s, end);
    if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreed(this.redactBytes(b, s, e, withMode(opts, false)), this.redactBytes(b, s, e, withMode(opts, true)));
    return this.redactIn(b, s, e, this.lexOptions(opts), this.decoderFor(opts?.charset));
  }

  /** The fingerprint of `sql` (which may be raw or already redacted: the result is the same). */
  fingerprint(sql: string, opts?: SqlOptions): string {
    if (opts?.noBackslashEscapes === null && sql.includes('\\')) return agreed(this.fingerprint(sql, withMode(opts, false)), this.fingerprint(sql, withMode(opts, true)));
    const n = this.encode(sql);
    this.lexFingerprint(this.encoded, 0, n, this.lexOptions(opts, true));
    return UTF8.decode(this.fpBuf.subarray(0, this.fpLength));
  }

  /** `fingerprint` of `b[start, end)`. */
  fingerprintBytes(b: Uint8Array, start?: number, end?: number, opts?: SqlOptions): string {
    const s = startIn(b, start);
    const e = endIn(b, s, end);
    if (opts?.noBackslashEscapes === null && hasBackslashBytes(b, s, e)) return agreed(this.fingerprintBytes(b, s, e, withMode(opts, false)), this.fingerprintBytes(b, s, e, withMode(opts, true)));
    this.lexFingerprint(b, s, e, this.lexOptions(opts));
    return this.decoderFor(opts?.charset).decode(this.fpBuf.subarray(0, this.fpLength));
  }

  /**
   * Turn the template cache on or off (what it holds stays). Off, every statement is lexed: for
   * measurements of that path and for tests; the results are the same either way.
   */
  setTemplates(on: boolean): void {
    this.templatesOn = on;
  }

  /** What the template cache holds and has done (since the instance was made). */
  cacheStats(): { templates: number; lookups: number; hits: number } {
    return { templates: this.templates.size, lookups: this.templates.lookups, hits: this.templates.hits };
  }

  /**
   * Empty the caches (templates, fingerprints already seen): what follows is treated as never seen
   * before, as at the start of a capture. For measurements; the results are the same either way.
   */
  clearCaches(): void {
    this.templates.clear();
    this.templates.forgetInput();
    this.knownLength.fill(-1);
    this.knownFingerprint.fill('');
    this.knownDigest.fill('');
  }

  // -------------------------------------------------------------------------------------------
  // One statement in one session mode

  /** Redacted text, fingerprint and digest of `b[s, e)` in options `o`, decoded with `d`. */
  private normalizeLexed(b: Uint8Array, s: number, e: number, o: LexOptions, d: Decoder): Readonly<NormalizedSql> {
    const mode = this.templateMode(o, d);
    const id = this.findTemplate(b, s, e, o, mode);
    if (id >= 0) {
      if (this.templates.hasPatch(id)) {
        const f = this.patchedResults(id, true);
        if (f !== null) return { redacted: this.patchedText, fingerprint: f.fingerprint, digest: f.digest };
      } else {
        const all = this.templates.normalized(id);
        if (all !== null) return all;
      }
    }
    this.lexFingerprint(b, s, e, o);
    const r = this.redactLexed(b, s, e, d);
    const f = this.lastResults(d);
    if (id >= 0) {
      if (!this.templates.hasPatch(id)) this.templates.redacted[id] = r; // made without it (by fingerprintAndDigestBytes); the same text
    } else {
      this.remember(b, s, e, o, mode, r, f);
    }
    if (e - s > HUGE) this.afterHuge();
    return { redacted: r, fingerprint: f.fingerprint, digest: f.digest };
  }

  /** Fingerprint and digest of `b[s, e)`: a template's (the same object each time) or lexed. */
  private grouping(b: Uint8Array, s: number, e: number, o: LexOptions, d: Decoder): Readonly<Known> {
    const mode = this.templateMode(o, d);
    const id = this.findTemplate(b, s, e, o, mode);
    if (id >= 0) {
      if (!this.templates.hasPatch(id)) return this.templates.grouping(id);
      const f = this.patchedResults(id, false);
      if (f !== null) return { fingerprint: f.fingerprint, digest: f.digest };
    }
    this.lexFingerprint(b, s, e, o);
    const f = this.lastResults(d);
    this.remember(b, s, e, o, mode, null, f);
    if (e - s > HUGE) this.afterHuge();
    return { fingerprint: f.fingerprint, digest: f.digest };
  }

  /** The redacted text of `b[s, e)`: a template's or lexed. */
  private redactIn(b: Uint8Array, s: number, e: number, o: LexOptions, d: Decoder): string {
    const id = this.findTemplate(b, s, e, o, this.templateMode(o, d));
    if (id >= 0) {
      if (this.templates.hasPatch(id)) {
        if (this.patchedResults(id, true) !== null) return this.patchedText;
      } else if (this.templates.redacted[id] !== null) {
        return this.templates.redacted[id]!;
      }
    }
    lex(b, s, e, o, this.tokens);
    return this.redactLexed(b, s, e, d);
  }

  /** Lex `b[s, e)` into `tokens` and write its fingerprint in the same pass (into `fpBuf`). */
  private lexFingerprint(b: Uint8Array, s: number, e: number, o: LexOptions): void {
    const stream = this.stream;
    scan(b, s, e, o, this.tokens, stream);
    this.fpBuf = stream.buf;
    this.fpLength = stream.length;
    this.fpViews = this.streamViews.over(stream.buf);
  }

  /** The redacted text of `b[s, e)`, just lexed into `tokens`. */
  private redactLexed(b: Uint8Array, s: number, e: number, d: Decoder): string {
    const r = this.redactedText;
    r.write(b, s, e, this.tokens);
    return decode(r.buf, this.redactedViews, r.start, r.end, r.ascii, d);
  }

  /** Fingerprint and digest of the last `lexFingerprint`, in `result`. */
  private lastResults(d: Decoder): Known {
    const buf = this.fpBuf;
    const len = this.fpLength;
    const result = this.result;
    const h = this.hash;
    hashBytes(buf, 0, len, this.fpViews.view, h);
    if (!h.ascii) {
      this.fingerprintSeen = false;
      // Not ASCII: the digest is of the decoded string's UTF-8, which may differ from these bytes.
      result.fingerprint = decode(buf, this.fpViews, 0, len, false, d);
      result.digest = digest(result.fingerprint);
      return result;
    }
    const high = h.high | 0;
    const low = h.low | 0;
    const slot = low & ((1 << KNOWN_BITS) - 1);
    this.fingerprintSeen = this.knownLength[slot] === len && this.knownHigh[slot] === high && this.knownLow[slot] === low;
    if (this.fingerprintSeen) {
      result.fingerprint = this.knownFingerprint[slot]!;
      result.digest = this.knownDigest[slot]!;
      return result;
    }
    result.fingerprint = this.fpViews.node.toString('latin1', 0, len);
    result.digest = hashDigest(h);
    this.knownHigh[slot] = high;
    this.knownLow[slot] = low;
    this.knownLength[slot] = len;
    this.knownFingerprint[slot] = result.fingerprint;
    this.knownDigest[slot] = result.digest;
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Templates

  /** The session mode templates are made and matched in: -1 when there can be none. */
  private templateMode(o: LexOptions, d: Decoder): number {
    if (!this.templatesOn || o.multibyte !== null) return -1;
    return (o.backslashEscapes ? 1 : 0) | (o.ansiQuotes ? 2 : 0) | (d === UTF8 ? 0 : (this.decoderIds.get(d) ?? 0) << 2);
  }

  /** The id of the template `b[s, e)` matches in session mode `mode`, or -1 (and its key in `templateKey`). */
  private findTemplate(b: Uint8Array, s: number, e: number, o: LexOptions, mode: number): number {
    if (mode < 0 || e - s > MAX_TEMPLATE_BYTES) return -1;
    this.templateKey = this.templates.key(b, s, e);
    return this.templates.find(b, s, e, this.templateKey, mode, o.backslashEscapes);
  }

  /**
   * After `b[s, e)` was lexed (in `tokens`, its fingerprint in `fpBuf`) and its results are
   * `redacted` and `f`: keep it as a template if it is worth it, that is if its fingerprint was seen
   * before (a statement seen once, an ad-hoc query, costs no template), or if it has digits inside
   * names (`user0_`, `t1`: the template then serves the statements that differ there too).
   */
  private remember(b: Uint8Array, s: number, e: number, o: LexOptions, mode: number, redacted: string | null, f: Known): void {
    if (mode < 0 || e - s > MAX_TEMPLATE_BYTES || !this.hash.ascii || !this.templates.wanted(this.templateKey)) return;
    let holes = templateHoles(b, s, e, this.tokens, o.backslashEscapes, o.ansiQuotes, true);
    if (holes === null) return;
    let patch: Patch | null = null;
    if (hasNameDigits(holes)) {
      patch = this.namePatch(b, s, e, o, holes);
      if (patch === null) holes = templateHoles(b, s, e, this.tokens, o.backslashEscapes, o.ansiQuotes, false)!;
    }
    if (patch === null && !this.fingerprintSeen) return;
    this.templates.add(this.templateKey, mode, b, s, e, holes, patch, redacted, f.fingerprint, f.digest);
  }

  /**
   * Where the digits inside names of `b[s, e)` (just lexed, in `tokens` and `fpBuf`; the name-digit
   * holes of `holes`) go in its redacted text and fingerprint: found by changing each in turn and
   * lexing again. Null when a change does more than change one byte of the redacted text and at
   * most one of the fingerprint, or the texts are not ASCII: then the digits stay as they are in the
   * template. (Clobbers `tokens` and the fingerprint buffers.)
   */
  private namePatch(b: Uint8Array, s: number, e: number, o: LexOptions, holes: number[]): Patch | null {
    const fingerprint = this.fpBuf.slice(0, this.fpLength);
    const r = this.redactedText;
    r.write(b, s, e, this.tokens);
    const text = r.buf.slice(r.start, r.end);
    for (const c of text) if (c >= 0x80) return null;
    const len = e - s;
    if (this.variant.length < len) this.variant = new Uint8Array(len * 2);
    const variant = this.variant;
    const vr = this.variantRedacted;
    variant.set(b.subarray(s, e));
    const inRedacted: number[] = [];
    const inFingerprint: number[] = [];
    for (let h = 0; h < holes.length; h += 3) {
      if (!isNameDigit(holes[h + 2]!)) continue;
      const at = holes[h]! - s;
      const digit = variant[at]!;
      variant[at] = digit === 0x39 ? 0x30 : digit + 1;
      this.lexFingerprint(variant, 0, len, o);
      vr.write(variant, 0, len, this.tokens);
      variant[at] = digit;
      const rc = oneChange(text, vr.buf, vr.start, vr.end);
      const fc = oneChange(fingerprint, this.fpBuf, 0, this.fpLength);
      if (rc < 0 || fc < -1) return null;
      inRedacted.push(rc);
      inFingerprint.push(fc);
    }
    return { redacted: text, fingerprint, inRedacted, inFingerprint };
  }

  /**
   * The results of the statement the last `findTemplate` matched with template `id`, which has
   * digits inside names: its fingerprint and digest (`fingerprintAndDigest`'s) and, with
   * `withRedacted`, its redacted text (in `patchedText`). Null if they do not fit the buffers.
   */
  private patchedResults(id: number, withRedacted: boolean): Known | null {
    const templates = this.templates;
    const how = templates.patched(id, this.patchedRedacted, this.patchedFingerprint, !withRedacted || templates.redacted[id] !== null);
    if (how === PATCH_NONE) return null;
    if (how === PATCH_SAME) {
      // The template's own digits: its own results.
      const own = templates.grouping(id);
      this.result.fingerprint = own.fingerprint;
      this.result.digest = own.digest;
      this.patchedText = withRedacted ? templates.redacted[id]! : '';
      return this.result;
    }
    this.fpBuf = this.patchedFingerprint;
    this.fpLength = templates.fingerprintLength;
    this.fpViews = this.patchedViews.over(this.patchedFingerprint);
    const f = this.lastResults(UTF8);
    this.patchedText = withRedacted ? this.patchedRedactedViews.over(this.patchedRedacted).node.toString('latin1', 0, templates.redactedLength) : '';
    return f;
  }

  // -------------------------------------------------------------------------------------------
  // Bytes in, strings out

  /** Lexer options for bytes in `opts.charset`; `fromString`: the bytes are our UTF-8 encoding of a JS string. */
  private lexOptions(opts: SqlOptions | undefined, fromString = false): LexOptions {
    if (opts === undefined) return DEFAULT_LEX_OPTIONS;
    const backslashEscapes = opts.noBackslashEscapes !== true;
    const ansiQuotes = opts.ansiQuotes === true;
    const multibyte = fromString ? null : multibyteTables(opts.charset);
    const last = this.lastLexOptions;
    if (last.backslashEscapes === backslashEscapes && last.ansiQuotes === ansiQuotes && last.multibyte === multibyte) return last;
    this.lastLexOptions = { backslashEscapes, ansiQuotes, multibyte };
    return this.lastLexOptions;
  }

  private decoderFor(charset: string | undefined): Decoder {
    if (charset === undefined) return UTF8;
    if (charset === this.lastCharset) return this.lastDecoder;
    const label = LABELS[charset.toLowerCase()];
    let d = UTF8;
    if (label !== undefined) {
      let known = this.decoders.get(label);
      if (known === undefined) {
        try {
          known = new TextDecoder(label);
        } catch {
          known = UTF8; // a Node built without ICU: ASCII structure is what matters
        }
        this.decoders.set(label, known);
        if (!this.decoderIds.has(known)) this.decoderIds.set(known, this.decoderIds.size);
      }
      d = known;
    }
    this.lastCharset = charset;
    this.lastDecoder = d;
    return d;
  }

  /** UTF-8 bytes of `s` in a reused buffer: `encoded[0, return)`. */
  private encode(s: string): number {
    if (this.encoded.length < s.length * 3) this.encoded = new Uint8Array(Math.max(s.length * 3, this.encoded.length * 2));
    return this.encoder.encodeInto(s, this.encoded).written;
  }

  /** After a huge statement: the buffers it grew made small again. */
  private afterHuge(): void {
    if (this.tokens.capacity > 1 << 16) this.tokens.shrink();
    this.redactedText.shrink(1 << 20);
    if (this.encoded.length > 1 << 22) this.encoded = new Uint8Array(1024);
    this.stream.shrink();
  }
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

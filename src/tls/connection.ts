/**
 * One TCP connection's TLS, both directions: records framed across any segmentation, the
 * handshake read in the clear (client and server random, version, cipher suite), keys derived
 * from the key log's secrets when first needed, application data decrypted and handed to a
 * sink with the shape of the TCP layer's StreamHandler. Never throws; memory per connection is
 * bounded (one record buffer per direction). How it works: docs/tls.md, "How decryption works".
 */
import { GapReason, type Dir } from '../tcp/stream.js';
import { RecordKey } from './aead.js';
import { HandshakeReader, HsType, parseServerHello } from './handshake.js';
import { hashLength, tls12KeyBlock, tls13NextSecret, tls13TrafficKey } from './keys.js';
import { toHex, type SessionSecrets } from './keylog.js';
import { aeadSuite, suiteName, versionName, type AeadSuite } from './suites.js';

export interface PlainSink {
  onData(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void;
  onGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void;
}

export type TlsState = 'handshake' | 'decrypting' | 'no-secret' | 'unsupported-suite' | 'unsupported-version' | 'failed';

export interface TlsInfo {
  state: TlsState;
  /** 'TLS 1.2', 'TLS 1.3', … as negotiated (supported_versions honoured), null until the ServerHello. */
  version: string | null;
  cipherSuite: number | null;
  cipherName: string | null;
  /** 64 hex digits, what to look for in a key log. */
  clientRandom: string | null;
  /** Why nothing (or not everything) could be decrypted, with what to do; null when all is well. */
  reason: string | null;
}

export interface TlsCounters {
  records: number;
  recordsDecrypted: number;
  /** Application data bytes handed to the sink. */
  plaintextBytes: number;
  recordsUndecryptable: number;
  authFailures: number;
  resyncs: number;
  bytesSkipped: number;
  keyUpdates: number;
}

/** RFC 8446 §5.2: a TLSCiphertext body is at most 2^14 + 256; RFC 5246 §6.2.3 allows 2^14 + 2048. */
export const MAX_RECORD_BODY = 16384 + 2048;
const HEADER = 5;
/** Room for a whole record and the next header (resynchronisation checks a chain of two). */
const BUFFER_SIZE = 2 * (HEADER + MAX_RECORD_BODY) + HEADER;
/** At most this many sequence numbers are tried per epoch for one record after a loss. */
export const MAX_SEQ_WINDOW = 4096;
/** The smallest encrypted record on the wire (TLS 1.3: header, content type, tag). */
const MIN_RECORD = HEADER + 1 + 16;

const CT_CCS = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPDATA = 23;

const enum Switch {
  None = 0,
  Finished = 1,
  KeyUpdate = 2,
}

/** One direction's state. */
class Half {
  readonly dir: Dir;
  buf: Uint8Array = new Uint8Array(0);
  fill = 0;
  /** Looking for a record header after a gap or damage. */
  resync = false;
  /** Bytes passed over while resynchronising. */
  skipped = 0;
  /** The record version of the last record read (0x0303 in practice), -1 before any. */
  recordVersion = -1;
  readonly hs = new HandshakeReader();
  /** TLS 1.2: after this side's ChangeCipherSpec; TLS 1.3: after its first encrypted record. */
  encrypted = false;
  key: RecordKey | null = null;
  /** TLS 1.3: 0 handshake keys, 1 application traffic secret 0, n + 1 after n KeyUpdates. */
  stage = 0;
  /** TLS 1.3: the current application traffic secret (KeyUpdate derives the next). */
  secret: Uint8Array | null = null;
  /** TLS 1.3: the next epoch's key and secret, made on first need. */
  nextKey: RecordKey | null = null;
  nextSecret: Uint8Array | null = null;
  /** Sequence number of the next record under `key`. */
  seq = 0;
  /** How many records may have gone unseen since the last one decrypted (after gaps, damage, late keys). */
  uncertainty = 0;
  /** Records in a row that failed to decrypt (searches back off exponentially). */
  failStreak = 0;
  switchAfter: Switch = Switch.None;
  /** A gap not yet told to the sink (told before the next plaintext, or by end()). */
  pendingBytes = 0;
  pendingUnknown = false;
  pendingReason: GapReason = GapReason.Undecryptable;
  hasPending = false;
  /** The sink was told that nothing more can be decrypted (one gap of unknown size). */
  dark = false;
  /** close_notify received. */
  closed = false;
  constructor(dir: Dir) {
    this.dir = dir;
  }
}

export class TlsConnection {
  readonly #secrets: (clientRandom: Uint8Array) => SessionSecrets | null;
  readonly #sink: PlainSink;
  readonly #halves: [Half, Half] = [new Half(0 as Dir), new Half(1 as Dir)];
  readonly counters: TlsCounters = { records: 0, recordsDecrypted: 0, plaintextBytes: 0, recordsUndecryptable: 0, authFailures: 0, resyncs: 0, bytesSkipped: 0, keyUpdates: 0 };

  #clientRandom: Uint8Array | null = null;
  #serverRandom: Uint8Array | null = null;
  /** The negotiated version, -1 before the ServerHello. */
  #version = -1;
  #suiteCode = -1;
  #suite: AeadSuite | null = null;
  #found: SessionSecrets | null = null;
  /** Flights: a change of direction starts a new one; a failed lookup is retried in the next. */
  #flight = 0;
  #lastDir = -1;
  #lookupFailedFlight = -1;
  #lookupFailed = false;
  /** Secrets were found but do not fit the session (wrong kind or length): why. */
  #secretProblem: string | null = null;
  #fatalAlert = -1;
  /** The plaintext length of the record #open opened last (the first bytes of the buffer it returned). */
  #plainLength = 0;
  #encryptedBeforeHello = false;

  constructor(secrets: (clientRandom: Uint8Array) => SessionSecrets | null, sink: PlainSink) {
    this.#secrets = secrets;
    this.#sink = sink;
  }

  // -------------------------------------------------------------------------------------------
  // Input

  onData(dir: Dir, buf: Uint8Array, offset: number, length: number, sec: number, nsec: number): void {
    if (length <= 0) return;
    if (dir !== this.#lastDir) {
      this.#lastDir = dir;
      this.#flight++;
    }
    const h = this.#halves[dir === 0 ? 0 : 1];
    let off = offset;
    let len = length;
    while (len > 0) {
      if (h.fill === 0 && !h.resync) {
        // Records whole in the view are read in place.
        while (len >= HEADER) {
          const rlen = plausible(buf, off, null);
          if (rlen < 0) {
            this.#damage(h);
            break;
          }
          if (len < HEADER + rlen) break;
          this.#record(h, buf[off]!, (buf[off + 1]! << 8) | buf[off + 2]!, buf, off + HEADER, rlen, sec, nsec);
          off += HEADER + rlen;
          len -= HEADER + rlen;
        }
        if (len === 0) break;
        if (!h.resync && len < HEADER + MAX_RECORD_BODY) {
          this.#store(h, buf, off, len);
          break;
        }
      }
      // Buffered: a record split across calls, or resynchronisation.
      let want: number;
      if (h.resync) want = BUFFER_SIZE - h.fill;
      else if (h.fill < HEADER) want = HEADER - h.fill;
      else {
        const rlen = plausible(h.buf, 0, null);
        want = rlen < 0 ? BUFFER_SIZE - h.fill : HEADER + rlen - h.fill;
      }
      const n = Math.min(len, Math.max(want, 0));
      if (n > 0) this.#store(h, buf, off, n);
      off += n;
      len -= n;
      this.#drain(h, sec, nsec);
    }
  }

  onGap(dir: Dir, bytes: number, reason: GapReason, sec: number, nsec: number): void {
    void sec;
    void nsec;
    const h = this.#halves[dir === 0 ? 0 : 1];
    const dropped = h.fill + h.skipped;
    h.fill = 0;
    h.skipped = 0;
    h.resync = true;
    h.hs.reset();
    this.counters.bytesSkipped += dropped + Math.max(bytes, 0);
    h.uncertainty = bytes < 0 ? MAX_SEQ_WINDOW : Math.min(MAX_SEQ_WINDOW, h.uncertainty + Math.ceil((bytes + dropped) / MIN_RECORD) + 1);
    this.#lose(h, bytes < 0 ? -1 : bytes + dropped, reason, true);
  }

  /**
   * Nothing more will come (the connection closed, or the capture ended): a partial record is
   * counted as skipped and a gap not yet told to the sink is told now.
   */
  end(sec: number, nsec: number): void {
    for (const h of this.#halves) {
      const dropped = h.fill + h.skipped;
      if (dropped > 0) {
        this.counters.bytesSkipped += dropped;
        this.#lose(h, dropped, GapReason.ConnectionEnd, false);
      }
      h.fill = 0;
      h.skipped = 0;
      this.#flushGap(h, sec, nsec);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Framing

  #store(h: Half, buf: Uint8Array, off: number, n: number): void {
    if (h.buf.length < h.fill + n) {
      // Grown to what is held: one record (≤ 18 KiB) normally, two while resynchronising.
      const grown = new Uint8Array(Math.min(BUFFER_SIZE, Math.max(h.fill + n, 2 * h.buf.length, 2048)));
      grown.set(h.buf.subarray(0, h.fill));
      h.buf = grown;
    }
    h.buf.set(buf.subarray(off, off + n), h.fill);
    h.fill += n;
  }

  /** Reads the records whole in the buffer, resynchronising when asked; keeps the rest. */
  #drain(h: Half, sec: number, nsec: number): void {
    const b = h.buf;
    let p = 0;
    for (;;) {
      const avail = h.fill - p;
      if (avail < HEADER) break;
      if (h.resync) {
        const rlen = plausible(b, p, this.#strict(h));
        if (rlen < 0) {
          p++;
          h.skipped++;
          continue;
        }
        if (avail < HEADER + rlen) break;
        if (this.#probe(h, b, p, rlen, sec, nsec)) {
          p += HEADER + rlen;
          continue;
        }
        const q = p + HEADER + rlen;
        if (h.fill - q < HEADER) break; // wait for the next header
        if (plausible(b, q, this.#strict(h)) >= 0) {
          this.#resynced(h);
          this.#record(h, b[p]!, (b[p + 1]! << 8) | b[p + 2]!, b, p + HEADER, rlen, sec, nsec);
          p = q;
          continue;
        }
        p++;
        h.skipped++;
        continue;
      }
      const rlen = plausible(b, p, null);
      if (rlen < 0) {
        this.#damage(h);
        continue;
      }
      if (avail < HEADER + rlen) break;
      this.#record(h, b[p]!, (b[p + 1]! << 8) | b[p + 2]!, b, p + HEADER, rlen, sec, nsec);
      p += HEADER + rlen;
    }
    if (p > 0) {
      b.copyWithin(0, p, h.fill);
      h.fill -= p;
    }
  }

  /** What a record header must look like while resynchronising. */
  #strict(h: Half): Strict {
    const v13 = this.#version === 0x0304;
    const enc = h.encrypted || v13;
    return {
      version: h.recordVersion,
      onlyAppData: v13 && h.encrypted,
      encrypted: enc && h.encrypted,
      minBody: h.encrypted ? (h.key?.overhead ?? 16) + (v13 ? 1 : 0) : 1,
    };
  }

  /** A header that cannot be one: the stream is damaged here. */
  #damage(h: Half): void {
    h.resync = true;
    h.hs.reset();
    h.uncertainty = Math.min(MAX_SEQ_WINDOW, h.uncertainty + 1);
    if (!h.hasPending) h.pendingReason = GapReason.Undecryptable;
  }

  #resynced(h: Half, proven = false): void {
    this.counters.resyncs++;
    this.counters.bytesSkipped += h.skipped;
    if (!proven) h.uncertainty = Math.min(MAX_SEQ_WINDOW, h.uncertainty + Math.ceil(h.skipped / MIN_RECORD));
    this.#lose(h, h.skipped, GapReason.Undecryptable, false);
    h.skipped = 0;
    h.resync = false;
  }

  /** While resynchronising: a candidate record proven by its tag. Commits it when it is. */
  #probe(h: Half, b: Uint8Array, p: number, rlen: number, sec: number, nsec: number): boolean {
    const type = b[p]!;
    if (!this.#isEncrypted(h, type)) return false;
    if (!this.#keysReady()) return false;
    const version = (b[p + 1]! << 8) | b[p + 2]!;
    const saved = h.uncertainty;
    h.uncertainty = Math.min(MAX_SEQ_WINDOW, h.uncertainty + Math.ceil(h.skipped / MIN_RECORD));
    const out = this.#open(h, type, version, b, p + HEADER, rlen, true);
    if (out === null) {
      h.uncertainty = saved;
      return false;
    }
    this.#resynced(h, true);
    this.counters.records++;
    h.recordVersion = version;
    this.#commit(h, type, out, sec, nsec);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Records

  #isEncrypted(h: Half, type: number): boolean {
    if (this.#version === 0x0304) return type === CT_APPDATA;
    return h.encrypted || type === CT_APPDATA;
  }

  #record(h: Half, type: number, version: number, buf: Uint8Array, off: number, len: number, sec: number, nsec: number): void {
    this.counters.records++;
    h.recordVersion = version;
    if (this.#isEncrypted(h, type)) {
      this.#encryptedRecord(h, type, version, buf, off, len, sec, nsec);
      return;
    }
    switch (type) {
      case CT_HANDSHAKE:
        h.hs.push(buf, off, len, (t, body) => this.#clearMessage(h, t, body));
        break;
      case CT_CCS:
        if (this.#version !== 0x0304 && this.#version !== -1) {
          h.encrypted = true;
          h.seq = 0;
          h.hs.reset();
        }
        break;
      case CT_ALERT:
        if (len >= 2 && buf[off] === 2) this.#fatalAlert = buf[off + 1]!;
        break;
      default:
        break; // heartbeat, or a type of no interest
    }
  }

  #clearMessage(h: Half, type: number, body: Uint8Array): void {
    if (type === HsType.ClientHello && h.dir === 0) {
      if (this.#clientRandom === null && body.length >= 34) this.#clientRandom = body.slice(2, 34);
      return;
    }
    if (type === HsType.ServerHello && h.dir === 1) {
      const sh = parseServerHello(body);
      if (sh === null || sh.helloRetry) return; // a HelloRetryRequest: the real ServerHello follows
      this.#serverRandom = sh.random;
      this.#version = sh.version;
      this.#suiteCode = sh.cipherSuite;
      const suite = aeadSuite(sh.cipherSuite);
      if (suite !== null && suite.tls13 === (sh.version === 0x0304)) this.#suite = suite;
    }
  }

  #encryptedRecord(h: Half, type: number, version: number, buf: Uint8Array, off: number, len: number, sec: number, nsec: number): void {
    if (!h.encrypted) {
      h.encrypted = true;
      h.hs.reset();
    }
    if (this.#version === -1) this.#encryptedBeforeHello = true;
    // No keys, or none for this direction (a key log with one side's TLS 1.3 secrets only).
    if (!this.#keysReady() || (h.key === null && h.nextKey === null)) {
      this.counters.recordsUndecryptable++;
      h.seq++;
      this.#goDark(h, sec, nsec);
      return;
    }
    const out = this.#open(h, type, version, buf, off, len, false);
    if (out === null) {
      this.counters.recordsUndecryptable++;
      this.counters.authFailures++;
      // Damage used up a sequence number; a record under another key (handshake keys the key log
      // did not give, early data) did not: the next record tries both.
      h.uncertainty = Math.min(MAX_SEQ_WINDOW, h.uncertainty + 1);
      h.failStreak++;
      this.#lose(h, HEADER + len, GapReason.Undecryptable, false);
      return;
    }
    this.#commit(h, type, out, sec, nsec);
  }

  /**
   * Decrypts with the expected key and sequence number; after a loss, with the next ones of the
   * current epoch and the first ones of the next epoch (the tag proves the right one). On success
   * the half moves to what worked.
   */
  #open(h: Half, type: number, version: number, buf: Uint8Array, off: number, len: number, probing: boolean): Buffer | null {
    let window = Math.min(h.uncertainty, MAX_SEQ_WINDOW);
    // After failures in a row, search only at failure counts 1, 2, 4, 8, …: a wrong key costs little.
    const search = probing || h.failStreak === 0 || (h.failStreak & (h.failStreak - 1)) === 0;
    if (!search) window = 0;
    const key = h.key;
    if (key !== null) {
      const hint = key.explicitSeq(buf, off, len);
      if (hint >= h.seq && hint <= h.seq + window) {
        const out = key.open(hint, type, version, buf, off, len);
        if (out !== null) return this.#opened(h, hint, out, key);
      }
      for (let s = h.seq; s <= h.seq + window; s++) {
        if (s === hint) continue;
        const out = key.open(s, type, version, buf, off, len);
        if (out !== null) return this.#opened(h, s, out, key);
      }
    }
    if (!search) return null;
    const next = this.#nextKey(h);
    if (next === null) return null;
    for (let s = 0; s <= window; s++) {
      const out = next.open(s, type, version, buf, off, len);
      if (out !== null) {
        this.#advance(h);
        return this.#opened(h, s, out, next);
      }
    }
    return null;
  }

  #opened(h: Half, seq: number, out: Buffer, key: RecordKey): Buffer {
    this.#plainLength = key.plainLength;
    h.seq = seq + 1;
    h.uncertainty = 0;
    h.failStreak = 0;
    return out;
  }

  /** A decrypted record: its content goes where it belongs. */
  #commit(h: Half, outerType: number, plain: Buffer, sec: number, nsec: number): void {
    this.counters.recordsDecrypted++;
    let type = outerType;
    let end = this.#plainLength;
    if (this.#version === 0x0304) {
      // RFC 8446 §5.4: the content type is the last non-zero byte, zeros after it are padding.
      while (end > 0 && plain[end - 1] === 0) end--;
      if (end === 0) return;
      type = plain[--end]!;
    }
    switch (type) {
      case CT_APPDATA:
        if (end > 0) {
          h.dark = false;
          this.#flushGap(h, sec, nsec);
          this.counters.plaintextBytes += end;
          this.#sink.onData(h.dir, plain, 0, end, sec, nsec);
        }
        break;
      case CT_HANDSHAKE:
        h.hs.push(plain, 0, end, (t, body) => this.#encryptedMessage(h, t, body));
        break;
      case CT_ALERT:
        if (end >= 2) {
          if (plain[1] === 0) h.closed = true;
          else if (plain[0] === 2) this.#fatalAlert = plain[1]!;
        }
        break;
      default:
        break;
    }
    const sw = h.switchAfter;
    if (sw !== Switch.None) {
      h.switchAfter = Switch.None;
      if (this.#nextKey(h) !== null) {
        this.#advance(h);
        h.seq = 0;
      }
    }
  }

  #encryptedMessage(h: Half, type: number, body: Uint8Array): void {
    if (this.#version !== 0x0304) return; // TLS 1.2: the Finished; nothing changes keys after it
    if (type === HsType.Finished && h.stage === 0) h.switchAfter = Switch.Finished;
    else if (type === HsType.KeyUpdate && h.stage >= 1 && body.length >= 1) h.switchAfter = Switch.KeyUpdate;
    // NewSessionTicket and the rest of the handshake: nothing to do.
  }

  // -------------------------------------------------------------------------------------------
  // Keys

  /** Keys are derived on first need; a failed lookup is retried in a later flight. */
  #keysReady(): boolean {
    if (this.#found !== null) return this.#secretProblem === null;
    if (this.#suite === null || this.#clientRandom === null || this.#serverRandom === null) return false;
    if (this.#lookupFailedFlight === this.#flight) return false;
    let secrets: SessionSecrets | null = null;
    try {
      secrets = this.#secrets(this.#clientRandom);
    } catch {
      secrets = null;
    }
    if (secrets === null || !this.#hasSecretsFor(secrets)) {
      this.#lookupFailedFlight = this.#flight;
      this.#lookupFailed = true;
      return false;
    }
    this.#found = secrets;
    this.#lookupFailed = false;
    this.#setup(secrets);
    return this.#secretProblem === null;
  }

  #hasSecretsFor(s: SessionSecrets): boolean {
    if (this.#version === 0x0304) return s.clientTraffic0 !== undefined || s.serverTraffic0 !== undefined || s.clientHandshake !== undefined || s.serverHandshake !== undefined;
    return s.masterSecret !== undefined;
  }

  #setup(s: SessionSecrets): void {
    const suite = this.#suite!;
    if (suite.tls13) {
      const want = hashLength(suite.hash);
      const pairs: [Uint8Array | undefined, Uint8Array | undefined][] = [
        [s.clientHandshake, s.clientTraffic0],
        [s.serverHandshake, s.serverTraffic0],
      ];
      for (const [hs, app] of pairs) {
        for (const x of [hs, app]) {
          if (x !== undefined && x.length !== want) {
            this.#secretProblem = `the key log's TLS 1.3 secrets for this session are ${x.length} bytes, ${suite.name} needs ${want}: the key log line is damaged or belongs to another session`;
            return;
          }
        }
      }
      for (let i = 0; i < 2; i++) {
        const h = this.#halves[i]!;
        const [hs, app] = pairs[i]!;
        if (hs !== undefined) {
          h.key = new RecordKey(suite, tls13TrafficKey(suite, hs));
          h.stage = 0;
          if (app !== undefined) {
            h.nextKey = new RecordKey(suite, tls13TrafficKey(suite, app));
            h.nextSecret = app;
          }
        } else if (app !== undefined) {
          h.key = new RecordKey(suite, tls13TrafficKey(suite, app));
          h.secret = app;
          h.stage = 1;
        }
        // Records counted before the keys came (a key log that grew late): still under the
        // handshake key at h.seq, or under the next key at a number up to h.seq.
        h.uncertainty = Math.min(MAX_SEQ_WINDOW, Math.max(h.uncertainty, h.seq));
      }
    } else {
      const block = tls12KeyBlock(suite, s.masterSecret!, this.#clientRandom!, this.#serverRandom!);
      this.#halves[0].key = new RecordKey(suite, block.client);
      this.#halves[1].key = new RecordKey(suite, block.server);
      // TLS 1.2 has one key per direction from its ChangeCipherSpec on: records counted before the
      // keys came kept the sequence number exact.
    }
  }

  /** TLS 1.3: the key of the next epoch (application secret 0 after the handshake, then KeyUpdates). */
  #nextKey(h: Half): RecordKey | null {
    const suite = this.#suite;
    if (suite === null || !suite.tls13) return null;
    if (h.nextKey !== null) return h.nextKey;
    if (h.stage === 0 || h.secret === null) return null;
    const next = tls13NextSecret(suite.hash, h.secret);
    h.nextSecret = next;
    h.nextKey = new RecordKey(suite, tls13TrafficKey(suite, next));
    return h.nextKey;
  }

  #advance(h: Half): void {
    if (h.stage >= 1) this.counters.keyUpdates++;
    h.key = h.nextKey;
    h.secret = h.nextSecret;
    h.nextKey = null;
    h.nextSecret = null;
    h.stage++;
    h.seq = 0;
    h.hs.reset();
  }

  // -------------------------------------------------------------------------------------------
  // Gaps told to the sink

  #lose(h: Half, bytes: number, reason: GapReason, fromTcp: boolean): void {
    if (h.dark) return;
    if (bytes === 0 && !fromTcp) return;
    if (bytes < 0) h.pendingUnknown = true;
    else h.pendingBytes += bytes;
    if (fromTcp || !h.hasPending) h.pendingReason = reason;
    h.hasPending = true;
  }

  #flushGap(h: Half, sec: number, nsec: number): void {
    if (!h.hasPending) return;
    const bytes = h.pendingUnknown ? -1 : h.pendingBytes;
    h.hasPending = false;
    h.pendingBytes = 0;
    h.pendingUnknown = false;
    this.#sink.onGap(h.dir, bytes, h.pendingReason, sec, nsec);
  }

  /** Nothing of this direction can be decrypted (yet): the sink hears it once. */
  #goDark(h: Half, sec: number, nsec: number): void {
    if (h.dark) return;
    h.hasPending = false;
    h.pendingBytes = 0;
    h.pendingUnknown = false;
    h.dark = true;
    this.#sink.onGap(h.dir, -1, GapReason.Undecryptable, sec, nsec);
  }

  // -------------------------------------------------------------------------------------------
  // What we can say

  get info(): TlsInfo {
    const c = this.counters;
    const random = this.#clientRandom === null ? null : toHex(this.#clientRandom);
    const version = this.#version === -1 ? null : versionName(this.#version);
    const base = {
      version,
      cipherSuite: this.#suiteCode === -1 ? null : this.#suiteCode,
      cipherName: this.#suiteCode === -1 ? null : suiteName(this.#suiteCode),
      clientRandom: random,
    };
    const v = this.#version;
    if (v !== -1 && v !== 0x0303 && v !== 0x0304) {
      return { state: 'unsupported-version', ...base, reason: `${version} cannot be decrypted: Periscope decrypts TLS 1.2 and TLS 1.3; configure the server or client to use TLS 1.2 or newer (see docs/tls.md)` };
    }
    if (v !== -1 && this.#suite === null) {
      return {
        state: 'unsupported-suite',
        ...base,
        reason: `cipher suite ${base.cipherName} cannot be decrypted: Periscope decrypts the AES-GCM and ChaCha20-Poly1305 suites; make the server or client prefer one of them (see docs/tls.md)`,
      };
    }
    if (this.#secretProblem !== null) return { state: 'failed', ...base, reason: this.#secretProblem };
    const looking = random === null ? '' : ` (look for client random ${random}: a CLIENT_RANDOM line for TLS 1.2, CLIENT_TRAFFIC_SECRET_0 for TLS 1.3)`;
    if (c.recordsDecrypted > 0) {
      if (c.recordsUndecryptable === 0 && c.bytesSkipped === 0) return { state: 'decrypting', ...base, reason: null };
      const parts: string[] = [];
      if (c.recordsUndecryptable > 0) parts.push(`${c.recordsUndecryptable} record(s) could not be decrypted (${c.authFailures} failed authentication)`);
      if (c.bytesSkipped > 0) parts.push(`${c.bytesSkipped} byte(s) of TLS were lost or skipped after gaps (${c.resyncs} resynchronisation(s))`);
      return { state: 'decrypting', ...base, reason: `${parts.join('; ')}: the commands in them are missing` };
    }
    if (this.#lookupFailed) {
      return {
        state: 'no-secret',
        ...base,
        reason: `no secret for this TLS session in the key log${looking}: the key log written by this client is needed (--keylog FILE, see docs/tls.md)`,
      };
    }
    if (this.#found !== null && c.authFailures > 0) {
      return {
        state: 'failed',
        ...base,
        reason: `the key log's secret for this session does not decrypt it (${c.authFailures} record(s) failed authentication): the key log line belongs to another run or the capture is damaged${looking}`,
      };
    }
    if (c.recordsUndecryptable > 0 && (this.#clientRandom === null || this.#serverRandom === null || this.#encryptedBeforeHello)) {
      const missing = this.#clientRandom === null ? 'ClientHello' : 'ServerHello';
      return {
        state: 'failed',
        ...base,
        reason: `the TLS handshake's ${missing} was not captured, so the session's secrets cannot be found: capture from the start of the connection`,
      };
    }
    if (this.#fatalAlert >= 0) {
      return { state: 'failed', ...base, reason: `the TLS handshake failed (fatal alert ${this.#fatalAlert}): nothing was encrypted with application keys` };
    }
    return { state: 'handshake', ...base, reason: null };
  }
}

/** What resynchronisation accepts as a header. */
interface Strict {
  /** The record version of the stream (-1: any 3.x). */
  version: number;
  /** TLS 1.3 after encryption started: every record is application_data on the outside. */
  onlyAppData: boolean;
  encrypted: boolean;
  minBody: number;
}

/** The body length of the record header at `p` when it is plausible, else -1. */
function plausible(b: Uint8Array, p: number, strict: Strict | null): number {
  const type = b[p]!;
  if (type < CT_CCS || type > 24) return -1;
  if (b[p + 1] !== 3 || b[p + 2]! > 4) return -1;
  const rlen = (b[p + 3]! << 8) | b[p + 4]!;
  if (rlen === 0 || rlen > MAX_RECORD_BODY) return -1;
  if (strict !== null) {
    const version = (b[p + 1]! << 8) | b[p + 2]!;
    if (strict.version >= 0x0301 && version !== strict.version) return -1;
    if (strict.onlyAppData && type !== CT_APPDATA) return -1;
    if (strict.encrypted && (type < CT_ALERT || type > CT_APPDATA)) return -1;
    if (rlen < strict.minBody) return -1;
  }
  return rlen;
}

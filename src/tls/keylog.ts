/**
 * The NSS key log format (what `SSLKEYLOGFILE`, Node's `--tls-keylog` and the `keylog` event
 * write): one secret a line, `LABEL <client random, 64 hex> <secret, hex>`; `#` starts a comment.
 *
 *   CLIENT_RANDOM                     TLS 1.2 and older: the 48-byte master secret
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET   TLS 1.3 (RFC 8446 §7.1), 32 or 48 bytes (the suite's hash)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 *
 * Other labels of the format (EXPORTER_SECRET, EARLY_EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET,
 * RSA, …) are counted as ignored. Pure: the caller reads the file (or a pcapng Decryption Secrets
 * Block) and hands the text over. A reason never quotes a secret.
 */

export interface SessionSecrets {
  /** TLS 1.2 and older: CLIENT_RANDOM's 48-byte master secret. */
  masterSecret?: Uint8Array;
  /** TLS 1.3 */
  clientHandshake?: Uint8Array;
  serverHandshake?: Uint8Array;
  clientTraffic0?: Uint8Array;
  serverTraffic0?: Uint8Array;
}

export interface KeyLogParseResult {
  lines: number;
  secrets: number;
  ignored: number;
  /** Lines that are not key log lines: 1-based line number and why (never the secret itself). */
  bad: { line: number; reason: string }[];
}

/** At most this many bad lines are listed (all are counted in `lines`); memory stays bounded on a wrong file. */
const MAX_BAD_LISTED = 100;

const USED: Readonly<Record<string, keyof SessionSecrets>> = {
  CLIENT_RANDOM: 'masterSecret',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshake',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshake',
  CLIENT_TRAFFIC_SECRET_0: 'clientTraffic0',
  SERVER_TRAFFIC_SECRET_0: 'serverTraffic0',
};

const KNOWN_UNUSED = new Set(['EXPORTER_SECRET', 'EARLY_EXPORTER_SECRET', 'CLIENT_EARLY_TRAFFIC_SECRET', 'RSA', 'PMS_CLIENT_RANDOM', 'RSA_SESSION_ID']);

const HEX = /^[0-9a-fA-F]*$/;

function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export class KeyLog {
  readonly #byRandom = new Map<string, SessionSecrets>();

  /** Adds every line of a key log text (a whole file, or a chunk of whole lines). Never throws. */
  addText(text: string): KeyLogParseResult {
    const result: KeyLogParseResult = { lines: 0, secrets: 0, ignored: 0, bad: [] };
    const bad = (line: number, reason: string): void => {
      if (result.bad.length < MAX_BAD_LISTED) result.bad.push({ line, reason });
    };
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const trimmed = line.trim();
      if (trimmed === '') continue;
      result.lines++;
      if (trimmed.startsWith('#')) {
        result.ignored++;
        continue;
      }
      const parts = trimmed.split(/\s+/);
      const label = parts[0]!;
      const field = USED[label];
      if (field === undefined) {
        if (KNOWN_UNUSED.has(label)) result.ignored++;
        else bad(i + 1, /^[A-Z0-9_]+$/.test(label) ? `unknown label ${label}` : 'not a key log line (expected LABEL <client random> <secret>)');
        continue;
      }
      if (parts.length !== 3) {
        bad(i + 1, `${label}: expected 3 fields, found ${parts.length}`);
        continue;
      }
      const random = parts[1]!;
      const secret = parts[2]!;
      if (random.length !== 64 || !HEX.test(random)) {
        bad(i + 1, `${label}: the client random must be 64 hex digits`);
        continue;
      }
      if (!HEX.test(secret) || secret.length % 2 !== 0) {
        bad(i + 1, `${label}: the secret is not hex`);
        continue;
      }
      const len = secret.length / 2;
      if (field === 'masterSecret' ? len !== 48 : len !== 32 && len !== 48) {
        bad(i + 1, `${label}: a secret of ${len} bytes (expected ${field === 'masterSecret' ? '48' : '32 or 48'})`);
        continue;
      }
      const key = random.toLowerCase();
      let entry = this.#byRandom.get(key);
      if (entry === undefined) {
        entry = {};
        this.#byRandom.set(key, entry);
      }
      entry[field] = hexBytes(secret);
      result.secrets++;
    }
    return result;
  }

  /** One session's secrets, by its ClientHello random (32 bytes). */
  lookup(clientRandom: Uint8Array): SessionSecrets | null {
    if (clientRandom.length !== 32) return null;
    return this.#byRandom.get(toHex(clientRandom)) ?? null;
  }

  /** Client randoms known. */
  get size(): number {
    return this.#byRandom.size;
  }
}

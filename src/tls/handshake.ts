/**
 * Handshake messages (RFC 8446 §4, RFC 5246 §7.4) framed across records: 1-byte type, 3-byte
 * length, body. A streaming reader: bodies are not kept except the first bytes of the messages we
 * read (ClientHello, ServerHello, KeyUpdate), so a large Certificate costs nothing.
 */

export const enum HsType {
  ClientHello = 1,
  ServerHello = 2,
  NewSessionTicket = 4,
  Finished = 20,
  KeyUpdate = 24,
}

/** Bytes of a message body kept for the handler: enough for what we read of it. */
function keepFor(type: number): number {
  switch (type) {
    case HsType.ClientHello:
      return 2 + 32; // legacy_version, random
    case HsType.ServerHello:
      return 4096; // up to the extensions (supported_versions); a ServerHello is ~100 bytes
    case HsType.KeyUpdate:
      return 1;
    default:
      return 0;
  }
}

export type MessageHandler = (type: number, body: Uint8Array, fullLength: number) => void;

export class HandshakeReader {
  #header = new Uint8Array(4);
  #headerFill = 0;
  #type = 0;
  #remaining = 0;
  #body = new Uint8Array(0);
  #bodyFill = 0;
  #keep = 0;
  #length = 0;

  /** Feeds a handshake record's content. */
  push(buf: Uint8Array, offset: number, length: number, onMessage: MessageHandler): void {
    let p = offset;
    const end = offset + length;
    while (p < end) {
      if (this.#headerFill < 4) {
        this.#header[this.#headerFill++] = buf[p++]!;
        if (this.#headerFill < 4) continue;
        const h = this.#header;
        this.#type = h[0]!;
        this.#length = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
        this.#remaining = this.#length;
        this.#keep = Math.min(keepFor(this.#type), this.#length);
        if (this.#body.length < this.#keep) this.#body = new Uint8Array(this.#keep);
        this.#bodyFill = 0;
      }
      const n = Math.min(this.#remaining, end - p);
      if (this.#bodyFill < this.#keep) {
        const k = Math.min(n, this.#keep - this.#bodyFill);
        this.#body.set(buf.subarray(p, p + k), this.#bodyFill);
        this.#bodyFill += k;
      }
      p += n;
      this.#remaining -= n;
      if (this.#remaining === 0) {
        this.#headerFill = 0;
        onMessage(this.#type, this.#body.subarray(0, this.#bodyFill), this.#length);
      }
    }
  }

  /** Drops a partial message (after a gap, or at a change of keys). */
  reset(): void {
    this.#headerFill = 0;
    this.#remaining = 0;
  }

  /** A message is partly read. */
  get partial(): boolean {
    return this.#headerFill > 0;
  }
}

/** SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = Uint8Array.from(Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'));

export interface ServerHello {
  random: Uint8Array;
  /** The negotiated version: supported_versions when present, else legacy_version. */
  version: number;
  cipherSuite: number;
  helloRetry: boolean;
}

/** Reads a ServerHello body; null when it is too short to hold its fixed fields. */
export function parseServerHello(b: Uint8Array): ServerHello | null {
  if (b.length < 2 + 32 + 1) return null;
  const legacy = (b[0]! << 8) | b[1]!;
  const random = b.slice(2, 34);
  let p = 34;
  const sidLen = b[p]!;
  p += 1 + sidLen;
  if (p + 3 > b.length) return null;
  const cipherSuite = (b[p]! << 8) | b[p + 1]!;
  p += 3; // suite, compression method
  let version = legacy;
  if (p + 2 <= b.length) {
    const extEnd = Math.min(b.length, p + 2 + ((b[p]! << 8) | b[p + 1]!));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = (b[p]! << 8) | b[p + 1]!;
      const len = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
      if (type === 43 && len === 2 && p + 2 <= extEnd) version = (b[p]! << 8) | b[p + 1]!;
      p += len;
    }
  }
  let helloRetry = true;
  for (let i = 0; i < 32; i++) if (random[i] !== HRR_RANDOM[i]) helloRetry = false;
  return { random, version, cipherSuite, helloRetry };
}

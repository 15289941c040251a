/**
 * JSON lines written straight into bytes (issue 19): `periscope events` writes one line per
 * command, half a million lines per GB of capture. Building each event's object and handing it to
 * JSON.stringify, then joining the lines and encoding them, cost more than decoding the capture
 * (most of it the strings made and collected on the way). This writer puts the keys (encoded
 * once), the numbers (digits written in place) and the strings (ASCII copied byte by byte, the rest
 * by Buffer#write or JSON.stringify) into one buffer, handed on full and never reused.
 *
 * What it writes is what JSON.stringify writes, byte for byte (test/events/line.test.ts).
 */

/** A key with its comma and colon, encoded once: `,"name":`. */
export type Key = Uint8Array;

export function key(text: string): Key {
  return Buffer.from(text, 'latin1');
}

const SIZE = 256 * 1024;
/** Hand the buffer on once it holds this much. */
const FLUSH_AT = 192 * 1024;

export class JsonLineWriter {
  private buf = Buffer.allocUnsafe(SIZE);
  private pos = 0;

  /** `out` takes each full buffer: it is never written to again. */
  constructor(private readonly out: (bytes: Buffer) => void) {}

  /** Room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** The end of a line: hands the buffer on when it is full enough. */
  endLine(): void {
    this.room(1);
    this.buf[this.pos++] = 0x0a;
    if (this.pos >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    this.out(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(SIZE);
    this.pos = 0;
  }

  /** Bytes as they are (a key, a brace). */
  raw(k: Key): void {
    const n = k.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = k[i]!;
    this.pos = p;
  }

  /** `k` and a value, as JSON.stringify writes a member: left out when the value is undefined. */
  member(k: Key, x: unknown): void {
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') return;
    this.raw(k);
    this.value(x);
  }

  value(x: unknown): void {
    if (typeof x === 'string') this.string(x);
    else if (typeof x === 'number') this.number(x);
    else if (x === null) this.ascii('null');
    else if (typeof x === 'boolean') this.ascii(x ? 'true' : 'false');
    else this.utf8(JSON.stringify(x));
  }

  number(x: number): void {
    // Small integers (counts, latencies, ports) digit by digit; anything else as JavaScript prints it.
    if (x >= 0 && x <= 0x7fffffff && (x | 0) === x) {
      this.room(10);
      const b = this.buf;
      let digits = 1;
      for (let v = x; v >= 10; v = (v / 10) | 0) digits++;
      let p = this.pos + digits;
      this.pos = p;
      let v = x;
      do {
        b[--p] = 0x30 + (v % 10);
        v = (v / 10) | 0;
      } while (v > 0);
    } else this.ascii(Number.isFinite(x) ? `${x}` : 'null');
  }

  /** A string that needs no escape and holds ASCII only. */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Text as UTF-8, as it is. */
  private utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A JSON string. Printable ASCII without a quote or a backslash is copied as it goes; at the
   * first other character the copy is dropped and the string is written by Buffer#write (no
   * escape needed, no lone surrogate possible) or by JSON.stringify (escapes, surrogates).
   */
  string(s: string): void {
    const n = s.length;
    this.room(n + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.pos = start;
        this.unusual(s, i);
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** A string with a character past printable ASCII, from `i` on. */
  private unusual(s: string, i: number): void {
    for (let j = i; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
        this.utf8(JSON.stringify(s));
        return;
      }
    }
    this.room(s.length * 3 + 2);
    this.buf[this.pos++] = 0x22;
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 0x22;
  }
}

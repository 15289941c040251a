/**
 * A bounds-checked little-endian cursor over a byte range: every read past the end sets `ok` to
 * false and returns a zero value instead of throwing, so packet parsers read fields in wire order
 * and check `ok` once at the end (habits 1 and 2 of ARCHITECTURE.md).
 */
export class ByteReader {
  pos: number;
  ok = true;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): boolean {
    if (this.pos + n > this.end) {
      this.ok = false;
      this.pos = this.end;
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.need(1)) return 0;
    return this.buf[this.pos++]!;
  }

  u16(): number {
    if (!this.need(2)) return 0;
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  u24(): number {
    if (!this.need(3)) return 0;
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** 8-byte integer as a double (exact below 2^53; larger values lose low bits). */
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    return hi * 4294967296 + lo;
  }

  /**
   * Length-encoded integer (int<lenenc>): < 0xfb itself; 0xfc + 2 bytes; 0xfd + 3; 0xfe + 8.
   * 0xfb (NULL in rows) and 0xff (an ERR marker) are not integers: they return -1.
   */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) return this.u64();
    return -1;
  }

  skip(n: number): void {
    if (this.need(n)) this.pos += n;
  }

  /** n raw bytes as a view (no copy). */
  bytes(n: number): Uint8Array {
    if (!this.need(n)) return this.buf.subarray(this.end, this.end);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Bytes up to a NUL (consumed, not included); to the end when there is none (sets ok=false). */
  nulBytes(): Uint8Array {
    const b = this.buf;
    let q = this.pos;
    while (q < this.end && b[q] !== 0) q++;
    const v = b.subarray(this.pos, q);
    if (q >= this.end) {
      this.ok = false;
      this.pos = this.end;
    } else {
      this.pos = q + 1;
    }
    return v;
  }

  /** string<lenenc>: a length-encoded length, then that many bytes. */
  lenencBytes(): Uint8Array {
    const n = this.lenenc();
    if (n < 0) {
      this.ok = false;
      return this.buf.subarray(this.end, this.end);
    }
    return this.bytes(n);
  }

  /** The rest of the range. */
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Decode text from the wire: UTF-8, or latin1 when the bytes are not valid UTF-8. */
export function text(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) {
    if (b[i]! >= 0x80) {
      const s = utf8.decode(b);
      return s.includes('\uFFFD') ? latin1.decode(b) : s;
    }
  }
  return latin1.decode(b);
}

/**
 * A tiny growable byte writer for the test builders: integers in either byte order, raw bytes,
 * zero padding. Nothing clever: tests should read like the wire layout they build.
 */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  constructor(public le = true) {}

  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** Unsigned 16-bit, in the writer's byte order unless `le` says otherwise. */
  u16(v: number, le = this.le): this {
    this.room(2);
    const b = this.buf;
    const p = this.len;
    if (le) {
      b[p] = v & 0xff;
      b[p + 1] = (v >>> 8) & 0xff;
    } else {
      b[p] = (v >>> 8) & 0xff;
      b[p + 1] = v & 0xff;
    }
    this.len += 2;
    return this;
  }

  u32(v: number, le = this.le): this {
    this.room(4);
    const b = this.buf;
    const p = this.len;
    if (le) {
      b[p] = v & 0xff;
      b[p + 1] = (v >>> 8) & 0xff;
      b[p + 2] = (v >>> 16) & 0xff;
      b[p + 3] = (v >>> 24) & 0xff;
    } else {
      b[p] = (v >>> 24) & 0xff;
      b[p + 1] = (v >>> 16) & 0xff;
      b[p + 2] = (v >>> 8) & 0xff;
      b[p + 3] = v & 0xff;
    }
    this.len += 4;
    return this;
  }

  /** 64-bit value as two 32-bit halves (pcapng order: the whole value in the section's byte order). */
  u64(v: bigint, le = this.le): this {
    const x = BigInt.asUintN(64, v);
    const hi = Number(x >> 32n);
    const lo = Number(x & 0xffffffffn);
    return le ? this.u32(lo, true).u32(hi, true) : this.u32(hi, false).u32(lo, false);
  }

  bytes(b: ArrayLike<number>): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }

  /** Zero-pad to a multiple of `m`. */
  pad(m: number): this {
    return this.zeros((m - (this.len % m)) % m);
  }

  /** Overwrite a 32-bit value at `at` (for lengths known only at the end). */
  setU32(at: number, v: number, le = this.le): this {
    const save = this.len;
    this.len = at;
    this.u32(v, le);
    this.len = save;
    return this;
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const w = new ByteWriter();
  for (const p of parts) w.bytes(p);
  return w.toBytes();
}

/** `'de ad be ef'` or `'deadbeef'` → bytes (for annotated fixtures). */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length: ${clean}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

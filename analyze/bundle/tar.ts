/**
 * A tar reader: POSIX ustar headers, pax extended headers (`x`: a long or non-ASCII path, a size
 * beyond 8 GiB) and GNU long names (`L`). Enough to check a bundle member by member, streaming,
 * without unpacking it; written here rather than taken from a package because it is this small
 * and `inspect` needs to tell a cut archive from a damaged one exactly (docs/bundle.md).
 *
 * A pull parser, like the capture parsers: `push(chunk)`, then `next()` until `NeedMore`. Data
 * steps are views into the pushed chunk, valid until the next `push`. Damage is a step, not a throw.
 */

export const BLOCK = 512;

export interface TarEntry {
  path: string;
  size: number;
  /** The ustar type flag: '0' a file, '5' a directory, … */
  type: string;
  mode: number;
  mtime: number;
  /** Offset of the entry's header in the archive. */
  offset: number;
}

export type TarStep =
  | { kind: 'entry'; entry: TarEntry }
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'entry-end' }
  | { kind: 'need-more' }
  | { kind: 'end' }
  | { kind: 'error'; offset: number; message: string };

/** Meta entries (pax, GNU long name) larger than this are damage, not headers. */
const MAX_META = 1 << 20;

const decoder = new TextDecoder();

function cString(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return decoder.decode(b.subarray(start, end));
}

/** An octal field, or base-256 (high bit of the first byte set) for values beyond its digits. */
function number(b: Uint8Array, start: number, len: number): number | null {
  if (b[start]! & 0x80) {
    let v = b[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cString(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return null;
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  const stored = number(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return stored === sum;
}

/** pax records: "LEN key=value\n", LEN counting the whole record. */
export function parsePax(b: Uint8Array): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  while (i < b.length) {
    let sp = i;
    while (sp < b.length && b[sp] !== 0x20) sp++;
    const len = Number(decoder.decode(b.subarray(i, sp)));
    if (!Number.isInteger(len) || len <= 0 || i + len > b.length || b[i + len - 1] !== 0x0a) return b.subarray(i).every((x) => x === 0) ? out : null;
    const rec = decoder.decode(b.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf('=');
    if (eq < 0) return null;
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

const enum State {
  Header,
  Data,
  Padding,
  End,
  Failed,
}

export class TarReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly spill = new Uint8Array(BLOCK);
  private spilled = 0;
  /** Bytes of the archive consumed so far. */
  offset = 0;
  private state = State.Header;
  private remaining = 0;
  private padding = 0;
  private zeroBlocks = 0;
  /** The entry whose data is being read (null: a meta entry, collected into `meta`). */
  private current: TarEntry | null = null;
  private meta: { type: string; parts: Uint8Array[] } | null = null;
  private pax = new Map<string, string>();
  private longName: string | null = null;

  push(chunk: Uint8Array): void {
    if (this.pos < this.buf.length) throw new Error('TarReader.push before the previous chunk was read');
    this.buf = chunk;
    this.pos = 0;
  }

  /** The entry being read, or the last one (for messages). */
  get entry(): TarEntry | null {
    return this.current;
  }

  /** Where the archive ends, when the input ends: null if it ended properly, else what is missing. */
  finish(): string | null {
    switch (this.state) {
      case State.End:
      case State.Failed:
        return null;
      case State.Data:
      case State.Padding:
        return this.current ? `the archive ends inside ${this.current.path}` : 'the archive ends inside a header';
      case State.Header:
        return this.spilled > 0 ? 'the archive ends inside a header' : 'the archive ends without its end-of-archive marker';
    }
  }

  next(): TarStep {
    for (;;) {
      switch (this.state) {
        case State.End:
          this.pos = this.buf.length; // zero padding to the record size
          return { kind: 'end' };
        case State.Failed:
          this.pos = this.buf.length;
          return { kind: 'need-more' };
        case State.Data: {
          if (this.remaining === 0) {
            this.state = State.Padding;
            continue;
          }
          const avail = this.buf.length - this.pos;
          if (avail === 0) return { kind: 'need-more' };
          const n = Math.min(avail, this.remaining);
          const bytes = this.buf.subarray(this.pos, this.pos + n);
          this.pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.meta) {
            this.meta.parts.push(Uint8Array.prototype.slice.call(bytes));
            continue;
          }
          return { kind: 'data', bytes };
        }
        case State.Padding: {
          const n = Math.min(this.padding, this.buf.length - this.pos);
          this.pos += n;
          this.offset += n;
          this.padding -= n;
          if (this.padding > 0) return { kind: 'need-more' };
          this.state = State.Header;
          if (this.meta) {
            const failure = this.endMeta();
            if (failure) return failure;
            continue;
          }
          return { kind: 'entry-end' };
        }
        case State.Header: {
          const h = this.take();
          if (h === null) return { kind: 'need-more' };
          const at = this.offset - BLOCK;
          if (h.every((x) => x === 0)) {
            if (++this.zeroBlocks === 2) this.state = State.End;
            continue;
          }
          if (this.zeroBlocks > 0) return this.fail(at - BLOCK, 'an empty block in the middle of the archive');
          const step = this.header(h, at);
          if (step) return step;
          continue;
        }
      }
    }
  }

  private fail(offset: number, what: string): TarStep {
    this.state = State.Failed;
    return { kind: 'error', offset, message: `damaged tar header at byte ${offset} of the archive: ${what}` };
  }

  /** 512 contiguous bytes, from the spill buffer when they straddle chunks; null when not yet there. */
  private take(): Uint8Array | null {
    const avail = this.buf.length - this.pos;
    if (this.spilled === 0 && avail >= BLOCK) {
      const h = this.buf.subarray(this.pos, this.pos + BLOCK);
      this.pos += BLOCK;
      this.offset += BLOCK;
      return h;
    }
    const n = Math.min(BLOCK - this.spilled, avail);
    this.spill.set(this.buf.subarray(this.pos, this.pos + n), this.spilled);
    this.spilled += n;
    this.pos += n;
    this.offset += n;
    if (this.spilled < BLOCK) return null;
    this.spilled = 0;
    return this.spill;
  }

  private header(h: Uint8Array, at: number): TarStep | null {
    if (!checksumOk(h)) return this.fail(at, 'bad checksum (the archive is damaged, or this is not a tar archive)');
    let size = number(h, 124, 12);
    const mode = number(h, 100, 8);
    const mtime = number(h, 136, 12);
    if (size === null || mode === null || mtime === null) return this.fail(at, 'a number field is not octal');
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
    const magic = cString(h, 257, 6);
    const prefix = magic === 'ustar' ? cString(h, 345, 155) : '';
    let path = (prefix ? `${prefix}/` : '') + cString(h, 0, 100);
    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > MAX_META) return this.fail(at, `a ${type} header of ${size} bytes`);
      this.meta = { type, parts: [] };
      this.current = null;
      this.begin(size);
      return null;
    }
    if (this.longName !== null) path = this.longName;
    const paxPath = this.pax.get('path');
    if (paxPath !== undefined) path = paxPath;
    const paxSize = this.pax.get('size');
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize)) return this.fail(at, 'a pax size that is not a number');
      size = Number(paxSize);
    }
    this.pax = new Map();
    this.longName = null;
    // Links, devices, directories and FIFOs have no data, whatever the size field says.
    if ('123456'.includes(type)) size = 0;
    this.current = { path, size, type, mode, mtime, offset: at };
    this.begin(size);
    return { kind: 'entry', entry: this.current };
  }

  private begin(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = State.Data;
  }

  private endMeta(): TarStep | null {
    const m = this.meta!;
    this.meta = null;
    const data = Buffer.concat(m.parts);
    if (m.type === 'L') {
      this.longName = cString(data, 0, data.length);
      return null;
    }
    const records = parsePax(data);
    if (records === null) return this.fail(this.offset, 'a pax extended header that does not parse');
    if (m.type === 'x') this.pax = records;
    return null;
  }
}

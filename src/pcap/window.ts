/**
 * A contiguous byte window over a stream that arrives in chunks.
 *
 * Parsers ask `ensure(n)` for n contiguous bytes at `pos`. Most records lie inside one chunk and are
 * read in place (no copy). A record that straddles two chunks is assembled in a spill buffer, copying
 * only that record's bytes. When `ensure` fails, the unread tail is copied to the spill buffer, so the
 * caller may reuse its chunk buffer for the next read.
 */
export class ChunkWindow {
  /** Current buffer: a caller's chunk, or the spill buffer. */
  buf: Uint8Array = new Uint8Array(0);
  /** Read position in `buf`. */
  pos = 0;
  /** End of valid bytes in `buf`. */
  end = 0;
  /** Stream offset of `buf[pos]`. */
  offset = 0;

  private spill: Uint8Array = new Uint8Array(0);
  private inSpill = false;
  /** The chunk whose head was partly copied into the spill buffer; reading resumes there. */
  private pending: Uint8Array | null = null;
  private pendingPos = 0;

  /** Bytes available at `pos` in the current buffer. */
  get available(): number {
    return this.end - this.pos;
  }

  /** Unread bytes held (spill or chunk), e.g. the incomplete tail at end of input. */
  get buffered(): number {
    return this.end - this.pos + (this.pending ? this.pending.length - this.pendingPos : 0);
  }

  push(chunk: Uint8Array): void {
    if (this.end > this.pos) {
      // The tail of the previous chunk is already in the spill buffer (see ensure()).
      this.pending = chunk;
      this.pendingPos = 0;
    } else {
      this.buf = chunk;
      this.pos = 0;
      this.end = chunk.length;
      this.inSpill = false;
    }
  }

  /** True when n contiguous bytes are available at `pos`. False means: push more input. */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (!this.inSpill) {
      // Keep the unread tail in the spill buffer so the caller may reuse its chunk.
      const tail = this.end - this.pos;
      this.reserve(Math.max(n, 64));
      this.spill.set(this.buf.subarray(this.pos, this.end), 0);
      this.buf = this.spill;
      this.pos = 0;
      this.end = tail;
      this.inSpill = true;
    } else if (this.pos > 0 || this.spill.length < n) {
      const tail = this.end - this.pos;
      if (this.spill.length < n) {
        const grown = new Uint8Array(Math.max(n, this.spill.length * 2));
        grown.set(this.spill.subarray(this.pos, this.end), 0);
        this.spill = grown;
      } else {
        this.spill.copyWithin(0, this.pos, this.end);
      }
      this.buf = this.spill;
      this.pos = 0;
      this.end = tail;
    }
    const pending = this.pending;
    if (pending === null) return false;
    const take = Math.min(n - (this.end - this.pos), pending.length - this.pendingPos);
    this.spill.set(pending.subarray(this.pendingPos, this.pendingPos + take), this.end);
    this.end += take;
    this.pendingPos += take;
    if (this.pendingPos === pending.length) this.pending = null;
    return this.end - this.pos >= n;
  }

  /** Consume n bytes (n ≤ available). */
  advance(n: number): void {
    this.pos += n;
    this.offset += n;
    if (this.inSpill && this.pos === this.end && this.pending !== null) {
      this.buf = this.pending;
      this.pos = this.pendingPos;
      this.end = this.pending.length;
      this.pending = null;
      this.inSpill = false;
    }
  }

  /** Grow the (unused) spill buffer to at least n bytes. */
  private reserve(n: number): void {
    if (this.spill.length < n) this.spill = new Uint8Array(Math.max(n, this.spill.length * 2, 4096));
  }
}

/**
 * A progress line on stderr for long reads: bytes read of the total, packets per second and the
 * time left. On a terminal, one line redrawn at most 5 times a second and cleared when done;
 * elsewhere (forced with --progress: a log file, a CI job) a plain line every 2 seconds.
 */
export class Progress {
  private read = 0;
  private packets = 0;
  private last = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
    /** What the rate counts: packets read (a capture), or bytes (an upload). */
    private readonly rateOf: 'packets' | 'bytes' = 'packets',
  ) {}

  /** `n` bytes more were read; `packets` so far. */
  update(n: number, packets: number): void {
    this.read += n;
    this.packets = packets;
    this.draw();
  }

  private draw(): void {
    const now = Date.now();
    const tty = this.stream.isTTY === true;
    if (now - this.last < (tty ? 200 : 2000)) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const done = this.total > 0 ? Math.min(1, this.read / this.total) : 0;
    const width = Math.max(10, Math.min(30, (this.stream.columns || 80) - 70));
    const fill = Math.round(done * width);
    const rate = secs > 0 ? this.read / secs : 0;
    const eta = rate > 0 && done < 1 ? (this.total - this.read) / rate : 0;
    const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e8 ? 1 : 0)} MB`;
    const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(done * 100).toFixed(0).padStart(3)}% ${mb(this.read)} of ${mb(this.total)}, ${this.rateOf === 'bytes' ? `${mb(rate)}/s` : `${Math.round(this.packets / Math.max(secs, 0.001)).toLocaleString('en-US')} packets/s`}, ${done < 1 ? `${Math.ceil(eta)} s left` : 'finishing'}`;
    if (!tty) {
      this.stream.write(`periscope: progress: ${line.replace(/^\[[#.]*\] */, '')}\n`);
      return;
    }
    this.stream.write(`\r${line.slice(0, (this.stream.columns || 100) - 1)}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}

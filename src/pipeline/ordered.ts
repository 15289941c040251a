/**
 * Events from many connections, emitted in request-time order. A connection's command completes
 * when its response ends, so a long query's event is ready after shorter commands that started
 * later on other connections. Events wait here until no connection has an older command still in
 * flight (the watermark); beyond `maxHeld` events the oldest go out anyway (counted), so memory
 * stays bounded when a command never completes.
 */
import type { CommandEvent } from '../mysql/session.js';

export interface PendingSource {
  oldestPending(): { sec: number; nsec: number } | null;
}

export class OrderedEvents {
  private held: CommandEvent[] = [];
  private sorted = true;
  /** Events released before the watermark allowed it (the buffer was full). */
  forced = 0;
  readonly sources = new Set<PendingSource>();

  constructor(
    private readonly emit: (e: CommandEvent) => void,
    private readonly maxHeld = 20_000,
  ) {}

  push(e: CommandEvent): void {
    const last = this.held[this.held.length - 1];
    if (last && (e.sec < last.sec || (e.sec === last.sec && e.nsec < last.nsec))) this.sorted = false;
    this.held.push(e);
    if (this.held.length >= this.maxHeld) this.release(true);
  }

  /** Emit every event older than every command still in flight. */
  release(force = false): void {
    if (this.held.length === 0) return;
    if (!this.sorted) {
      this.held.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
      this.sorted = true;
    }
    let wSec = Infinity;
    let wNsec = 0;
    for (const s of this.sources) {
      const t = s.oldestPending();
      if (t && (t.sec < wSec || (t.sec === wSec && t.nsec < wNsec))) {
        wSec = t.sec;
        wNsec = t.nsec;
      }
    }
    let i = 0;
    const keep = force ? Math.floor(this.maxHeld / 2) : 0;
    while (i < this.held.length) {
      const e = this.held[i]!;
      const beforeWatermark = e.sec < wSec || (e.sec === wSec && e.nsec <= wNsec);
      if (!beforeWatermark && this.held.length - i <= keep) break;
      if (!beforeWatermark && !force) break;
      if (!beforeWatermark) this.forced++;
      this.emit(e);
      i++;
    }
    this.held = this.held.slice(i);
  }

  /** End of input: everything goes. */
  drain(): void {
    this.sources.clear();
    this.release();
  }
}

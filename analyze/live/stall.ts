/**
 * `periscope live` must never go quiet silently (issue 21): tcpdump says how many packets it
 * captured (its counters on stderr, asked for with SIGUSR1 at every refresh), Periscope counts the packets it parsed
 * from tcpdump's pipe. When tcpdump keeps capturing but nothing reaches the analyzer for a while,
 * or the pcap stream stops being readable, that is said at once, loudly, and counted in the
 * report — not found out afterwards from a report that misses most of the traffic.
 */
export interface StallCheck {
  /** A line to print (a new stall, or its end); null: nothing new. */
  message: string | null;
  /** Packets tcpdump captured that the analyzer has not (yet) parsed. */
  behind: number;
}

/** Seconds without a parsed packet, while tcpdump's count grows, that make a stall. */
export const STALL_SEC = 3;

export class StallWatch {
  private lastParsed = 0;
  private lastProgressMs: number;
  private stalled = false;
  /** Stalls seen (each reported once). */
  stalls = 0;

  constructor(startMs: number) {
    this.lastProgressMs = startMs;
  }

  /**
   * Called about once a second: `captured`, tcpdump's latest count; `parsed`, packets parsed from
   * its pipe; `bytes`, bytes read from the pipe.
   */
  tick(nowMs: number, captured: number, parsed: number, bytes: number): StallCheck {
    const behind = Math.max(0, captured - parsed);
    if (parsed > this.lastParsed) {
      this.lastParsed = parsed;
      this.lastProgressMs = nowMs;
      if (this.stalled) {
        this.stalled = false;
        return { message: `packets reach the analyzer again (${behind.toLocaleString('en-US')} captured by tcpdump not parsed yet)`, behind };
      }
      return { message: null, behind };
    }
    const quietSec = (nowMs - this.lastProgressMs) / 1000;
    if (!this.stalled && quietSec >= STALL_SEC && behind > 0) {
      this.stalled = true;
      this.stalls++;
      return {
        message: `NO PACKETS REACH THE ANALYZER: tcpdump captured ${captured.toLocaleString('en-US')} packets, ${parsed.toLocaleString('en-US')} were parsed, none in the last ${Math.round(quietSec)} s (${(bytes / 1e6).toFixed(1)} MB read from its pipe); the figures miss this traffic`,
        behind,
      };
    }
    return { message: null, behind };
  }
}

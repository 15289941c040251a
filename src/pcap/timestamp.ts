/**
 * pcapng timestamps: a 64-bit count of units since the epoch (high and low 32-bit halves), where
 * the interface's if_tsresol says how many units make a second (10^n, or 2^n with the high bit set).
 * Converted exactly to whole seconds and nanoseconds without BigInt on the common resolutions, by
 * long division in base 65536 (every intermediate stays below 2^53).
 */

/** Decode if_tsresol into units per second. Default (no option) is microseconds. */
export function unitsPerSecondFromTsresol(tsresol: number): number {
  const n = tsresol & 0x7f;
  return tsresol & 0x80 ? 2 ** n : 10 ** n;
}

/** Largest units-per-second for which the fast path stays exact. */
const FAST_LIMIT = 2 ** 53 / 65536;

export interface Timestamp {
  sec: number;
  nsec: number;
}

/** Convert (hi, lo) units at `unitsPerSec` into `out` (seconds and nanoseconds). */
export function unitsToTimestamp(hi: number, lo: number, unitsPerSec: number, out: Timestamp): void {
  if (unitsPerSec === 1e6 && hi < 0x200000) {
    // Fast path: microseconds, the default resolution. hi < 2^21 keeps hi*2^32+lo < 2^53 exact (any
    // date before year 2255); larger (damaged) values take the exact path below.
    const v = hi * 4294967296 + lo;
    const sec = Math.floor(v / 1e6);
    out.sec = sec;
    out.nsec = (v - sec * 1e6) * 1000;
    return;
  }
  if (unitsPerSec <= FAST_LIMIT) {
    const d = unitsPerSec;
    const hiQ = Math.floor(hi / d);
    const hiR = hi - hiQ * d;
    const x = hiR * 65536 + (lo >>> 16);
    const q1 = Math.floor(x / d);
    const r1 = x - q1 * d;
    const y = r1 * 65536 + (lo & 0xffff);
    const q2 = Math.floor(y / d);
    const r2 = y - q2 * d;
    out.sec = hiQ * 4294967296 + q1 * 65536 + q2;
    if (d <= 1e9 && 1e9 % d === 0) out.nsec = r2 * (1e9 / d);
    else if (r2 < 9007199) out.nsec = Math.floor((r2 * 1e9) / d); // r2 * 1e9 < 2^53: exact
    else out.nsec = Number((BigInt(r2) * 1_000_000_000n) / BigInt(d)); // e.g. 10^-10, 10^-11 resolutions
    return;
  }
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const d = BigInt(unitsPerSec);
  out.sec = Number(v / d);
  out.nsec = Number(((v % d) * 1_000_000_000n) / d);
}

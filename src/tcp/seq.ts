/**
 * TCP sequence-number arithmetic, modulo 2^32 (RFC 793 §3.3, RFC 1982): the one place that knows
 * sequence numbers wrap around. Valid while the two numbers are less than 2^31 apart.
 */

/** b − a as a signed 32-bit distance: > 0 when b is after a. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

/** a + n, wrapped to an unsigned 32-bit sequence number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/**
 * Capture times as text, one way for every output (reports, events, traces, capture manifests).
 */

/**
 * ISO 8601 UTC with 6 (or 9) fractional digits. Never throws: a timestamp outside what a date can
 * show (a damaged capture) is printed as seconds since the epoch.
 */
export function isoTime(t: { sec: number; nsec: number }, digits: 6 | 9 = 6): string {
  const frac = digits === 9 ? String(t.nsec).padStart(9, '0') : String(Math.floor(t.nsec / 1000)).padStart(6, '0');
  const ms = t.sec * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `@${t.sec}.${frac}`;
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

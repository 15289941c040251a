/**
 * Capture times as text, one way for every output (reports, events, traces, capture manifests).
 */

/**
 * ISO 8601 UTC with 6 (or 9) fractional digits. Never throws: a timestamp outside what a date can
 * show (a damaged capture) is printed as seconds since the epoch.
 */
export function isoTime(t: { sec: number; nsec: number }, digits: 6 | 9 = 6): string {
  const frac = digits === 9 ? String(t.nsec).padStart(9, '0') : String(Math.floor(t.nsec / 1000)).padStart(6, '0');
  // Events come a few thousand per second of capture: the date and time of the last second are
  // kept (a Date and toISOString per call cost more than the rest of an event's JSON line).
  if (t.sec === lastSecond) return `${lastSecondText}.${frac}Z`;
  const ms = t.sec * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `@${t.sec}.${frac}`;
  lastSecondText = new Date(ms).toISOString().slice(0, 19);
  lastSecond = t.sec;
  return `${lastSecondText}.${frac}Z`;
}
let lastSecond = NaN;
let lastSecondText = '';

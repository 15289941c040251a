/**
 * Sizes and durations as a user types them (`100MB`, `1.5GiB`, `10%`, `90s`, `1h30m`), parsed to
 * numbers, and numbers printed back for people. Pure: no I/O.
 */

/** A value the user gave that cannot be used: the CLI turns it into a usage error (exit 1). */
export class OptionError extends Error {}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Bytes from `100MB`, `1.5GiB`, `500k`, `4096`. Decimal units are powers of 1000 (as disk sizes are
 * sold and as tcpdump's -C counts), binary ones powers of 1024. Case-insensitive; a space between
 * number and unit is allowed. Whole bytes (rounded).
 */
export function parseSize(option: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new OptionError(`--${option} ${text}: expected a size such as 500MB, 2GB or 1.5GiB (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024)`);
  return Math.round(Number(m[1]) * unit);
}

/** A disk-space threshold: an absolute size, or a percentage of the file system (`10%`). */
export type SpaceThreshold = { bytes: number } | { percent: number };

export function parseSpace(option: string, text: string): SpaceThreshold {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (m) {
    const percent = Number(m[1]);
    if (percent > 100) throw new OptionError(`--${option} ${text}: a percentage of the file system, at most 100%`);
    return { percent };
  }
  return { bytes: parseSize(option, text) };
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds from `90`, `90s`, `15m`, `1h30m`, `2d`, `1.5h` (a bare number is seconds). Must be > 0.
 */
export function parseDuration(option: string, text: string): number {
  const bad = (): OptionError => new OptionError(`--${option} ${text}: expected a duration greater than 0, such as 30s, 15m, 2h or 1h30m (a bare number is seconds)`);
  const s = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const v = Number(s);
    if (v <= 0) throw bad();
    return v;
  }
  let total = 0;
  let rest = s;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/.exec(rest);
    if (!m) throw bad();
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (s.length === 0 || total <= 0) throw bad();
  return total;
}

/** A positive whole number (counts: packets, files). */
export function parseCount(option: string, text: string): number {
  const s = text.trim();
  const v = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(v) || v <= 0) throw new OptionError(`--${option} ${text}: expected a whole number greater than 0`);
  return v;
}

/** `12,345,678` */
export const count = (v: number): string => v.toLocaleString('en-US');

/** `1.2 GB` (decimal units, like `--rotate-size` and `df -H`). */
export function bytes(v: number): string {
  if (v < 1000) return `${v} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let x = v;
  let i = -1;
  do {
    x /= 1000;
    i++;
  } while (x >= 999.95 && i < units.length - 1);
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

/** `1:02:03` (h:mm:ss) or `02:03` (mm:ss) for elapsed seconds. */
export function clock(seconds: number): string {
  const t = Math.max(0, Math.floor(seconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** Short human forms of durations and sizes, shared by the text and HTML renderings. */

/** A duration in µs, short: 850us, 12.3ms, 4.56s, 3m12s. */
export function dur(us: number | null): string {
  if (us === null) return '-';
  if (us < 1000) return `${Math.round(us)}us`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)}ms`;
  if (us < 6e7) return `${(us / 1e6).toFixed(2)}s`;
  if (us < 3.6e9) return `${Math.floor(us / 6e7)}m${String(Math.round((us % 6e7) / 1e6)).padStart(2, '0')}s`;
  return `${(us / 3.6e9).toFixed(1)}h`;
}

export function size(b: number): string {
  if (b < 1024) return `${b} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = b / 1024;
  let i = 0;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(1)} ${u[i]}`;
}

/** `1 file`, `2 files`, `1,024 files`: a count and its noun, singular or plural. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}

/** A rate per second, short: 1,647 (from 100 on, whole), 45.9, 0.53. */
export function rate(r: number | null): string {
  return r === null ? '-' : r >= 100 ? Math.round(r).toLocaleString('en-US') : r.toFixed(r >= 10 ? 1 : 2);
}

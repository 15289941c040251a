/**
 * Which events a report counts: `--since/--until`, `--user`, `--db`, `--client`, `--server`,
 * `--min-latency`. Parsing the option values (with clear messages) and the predicate.
 */
import type { CommandEvent } from '../../src/mysql/session.js';
import { hostOf } from '../report/aggregate.js';

export interface FilterOptions {
  since?: string;
  until?: string;
  user?: string[];
  db?: string[];
  client?: string[];
  server?: string[];
  minLatency?: string;
}

export class FilterError extends Error {}

/** `2026-11-21T05:08:04Z`, `2026-11-21 05:08:04.5` (UTC when no zone is given), `2026-11-21`. */
export function parseTime(opt: string, v: string): { sec: number; nsec: number } {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(v.trim());
  if (!m) throw new FilterError(`--${opt} ${v}: expected a date and time like 2026-11-21T05:08:04Z or '2026-11-21 05:08' (UTC unless a zone is given)`);
  const zone = m[4] === undefined || m[4].toUpperCase() === 'Z' ? 'Z' : m[4].length === 5 ? `${m[4].slice(0, 3)}:${m[4].slice(3)}` : m[4];
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[2] && m[2].length === 5 ? ':00' : ''}${zone}`);
  if (!Number.isFinite(ms)) throw new FilterError(`--${opt} ${v}: not a valid date`);
  const frac = m[3] ? Number(m[3].slice(1).padEnd(9, '0')) : 0;
  return { sec: Math.floor(ms / 1000), nsec: frac };
}

/** `250us`, `10ms`, `1.5s`, `2m`; a bare number is milliseconds. Returns microseconds. */
export function parseDuration(opt: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?$/i.exec(v.trim());
  if (!m) throw new FilterError(`--${opt} ${v}: expected a duration like 250us, 10ms, 1.5s or 2m (a bare number is milliseconds)`);
  const x = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const mult = unit === 'us' || unit === 'µs' ? 1 : unit === 'ms' ? 1e3 : unit === 's' ? 1e6 : unit === 'm' ? 6e7 : 3.6e9;
  return x * mult;
}

/** An endpoint filter matches the host (`10.0.0.5`, `::1`) or the whole endpoint (`10.0.0.5:3306`, `[::1]:3306`). */
function endpointMatcher(values: string[]): ((endpoint: string) => boolean) | null {
  if (values.length === 0) return null;
  const set = new Set(values.map((v) => v.trim()));
  return (ep) => set.has(ep) || set.has(hostOf(ep));
}

export type EventFilter = (e: CommandEvent) => boolean;

/** null when nothing is filtered. */
export function buildFilter(o: FilterOptions): EventFilter | null {
  const tests: EventFilter[] = [];
  if (o.since) {
    const t = parseTime('since', o.since);
    tests.push((e) => e.sec > t.sec || (e.sec === t.sec && e.nsec >= t.nsec));
  }
  if (o.until) {
    const t = parseTime('until', o.until);
    tests.push((e) => e.sec < t.sec || (e.sec === t.sec && e.nsec < t.nsec));
  }
  if (o.user?.length) {
    const s = new Set(o.user);
    tests.push((e) => e.user !== null && s.has(e.user));
  }
  if (o.db?.length) {
    const s = new Set(o.db);
    tests.push((e) => e.db !== null && s.has(e.db));
  }
  const client = endpointMatcher(o.client ?? []);
  if (client) tests.push((e) => client(e.client));
  const server = endpointMatcher(o.server ?? []);
  if (server) tests.push((e) => server(e.server));
  if (o.minLatency) {
    const us = parseDuration('min-latency', o.minLatency);
    tests.push((e) => e.latencyUs !== null && e.latencyUs >= us);
  }
  if (tests.length === 0) return null;
  return (e) => tests.every((t) => t(e));
}

/** The filters as the report records them (only those given). */
export function describeFilters(o: FilterOptions): Record<string, string | string[]> | null {
  const out: Record<string, string | string[]> = {};
  if (o.since) out.since = o.since;
  if (o.until) out.until = o.until;
  if (o.user?.length) out.user = o.user;
  if (o.db?.length) out.db = o.db;
  if (o.client?.length) out.client = o.client;
  if (o.server?.length) out.server = o.server;
  if (o.minLatency) out['min-latency'] = o.minLatency;
  return Object.keys(out).length ? out : null;
}

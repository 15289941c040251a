/**
 * Which events a report counts: `--since/--until`, `--user`, `--db`, `--client`, `--server`,
 * `--min-latency`. Parsing the option values (with clear messages) and the predicate.
 */
import { isIP } from 'node:net';
import type { CommandEvent } from '../../src/mysql/session.js';
import { hostOf, latencyOf } from '../aggregate/aggregate.js';

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
  const [y, mo, d] = m[1]!.split('-').map(Number) as [number, number, number];
  if (!Number.isFinite(ms) || new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) throw new FilterError(`--${opt} ${v}: not a valid date`);
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
function endpointMatcher(opt: string, values: string[]): ((endpoint: string) => boolean) | null {
  if (values.length === 0) return null;
  const set = new Set(values.map((v) => checkEndpoint(opt, v.trim())));
  return (ep) => set.has(ep) || set.has(hostOf(ep));
}

/**
 * `v` if it can match an endpoint of a capture: an IP address, or one with a port (`10.0.0.5:3306`,
 * `[::1]:3306`). A capture holds addresses, never host names; a network is not taken either.
 */
function checkEndpoint(opt: string, v: string): string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  const host = m ? m[1]! : v;
  if (m && !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) throw new FilterError(`--${opt} ${v}: ${m[2]} is not a TCP port (1 to 65535)`);
  if (isIP(host) === 0) {
    const what = host.includes('/') ? 'a network' : 'not an IP address';
    throw new FilterError(`--${opt} ${v}: ${what}; give an IP address as the capture shows it (10.0.0.5, ::1) or one with its port (10.0.0.5:51234, [::1]:3306); 'periscope info' lists them`);
  }
  return v;
}

export type EventFilter = (e: CommandEvent) => boolean;

/** A command's user as reports print it: `(unknown)` when its login was not captured, `(none)` for the anonymous user. */
export function userName(user: string | null): string {
  return user === null ? '(unknown)' : user === '' ? '(none)' : user;
}

/** A command's database as reports print it: its name, `(none)` when none was selected, `(unknown)` when its login was not captured (no user known). */
export function dbName(user: string | null, db: string | null): string {
  return db === null ? (user === null ? '(unknown)' : '(none)') : db === '' ? '(none)' : db;
}

/** null when nothing is filtered. */
export function buildFilter(o: FilterOptions): EventFilter | null {
  const tests: EventFilter[] = [];
  if (o.since) {
    const t = parseTime('since', o.since);
    tests.push((e) => e.sec > t.sec || (e.sec === t.sec && e.nsec >= t.nsec));
  }
  if (o.until) {
    const t = parseTime('until', o.until);
    if (o.since) {
      const from = parseTime('since', o.since);
      if (!(from.sec < t.sec || (from.sec === t.sec && from.nsec < t.nsec))) throw new FilterError(`--since ${o.since} is not before --until ${o.until}: no command can be in between`);
    }
    tests.push((e) => e.sec < t.sec || (e.sec === t.sec && e.nsec < t.nsec));
  }
  if (o.user?.length) {
    const s = new Set(o.user);
    tests.push((e) => s.has(userName(e.user)));
  }
  if (o.db?.length) {
    const s = new Set(o.db);
    tests.push((e) => s.has(dbName(e.user, e.db)));
  }
  const client = endpointMatcher('client', o.client ?? []);
  if (client) tests.push((e) => client(e.client));
  const server = endpointMatcher('server', o.server ?? []);
  if (server) tests.push((e) => server(e.server));
  if (o.minLatency) {
    const us = parseDuration('min-latency', o.minLatency);
    tests.push((e) => {
      const l = latencyOf(e);
      return l !== null && l >= us;
    });
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

/**
 * What the events a filter turned away had: when nothing passes, the user learns which users,
 * databases, clients and servers the capture does have (a few of each), and its time range.
 */
export class FilterMisses {
  private static readonly MAX = 8;
  count = 0;
  readonly users = new Set<string>();
  readonly dbs = new Set<string>();
  readonly clients = new Set<string>();
  readonly servers = new Set<string>();
  first: { sec: number; nsec: number } | null = null;
  last: { sec: number; nsec: number } | null = null;

  add(e: CommandEvent): void {
    this.count++;
    const put = (set: Set<string>, v: string | null): void => {
      if (v !== null && set.size < FilterMisses.MAX) set.add(v);
    };
    put(this.users, userName(e.user));
    put(this.dbs, dbName(e.user, e.db));
    put(this.clients, hostOf(e.client));
    put(this.servers, e.server);
    if (this.first === null || e.sec < this.first.sec || (e.sec === this.first.sec && e.nsec < this.first.nsec)) this.first = { sec: e.sec, nsec: e.nsec };
    if (this.last === null || e.sec > this.last.sec || (e.sec === this.last.sec && e.nsec > this.last.nsec)) this.last = { sec: e.sec, nsec: e.nsec };
  }

  /** One line: what the capture has instead. */
  describe(iso: (t: { sec: number; nsec: number }) => string): string {
    const list = (set: Set<string>): string => (set.size === 0 ? '-' : [...set].sort().join(', ') + (set.size >= FilterMisses.MAX ? ', …' : ''));
    return `the capture's ${this.count.toLocaleString('en-US')} commands and logins have users ${list(this.users)}; databases ${list(this.dbs)}; clients ${list(this.clients)}; servers ${list(this.servers)}; times ${this.first ? iso(this.first) : '-'} to ${this.last ? iso(this.last) : '-'}`;
  }
}

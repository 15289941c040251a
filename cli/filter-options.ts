/**
 * The options that choose which commands count (analyze, events, bundle): one definition, so that
 * they read and validate the same everywhere. Parsing and the predicate: analyze/run/filters.ts.
 */
import type { FilterOptions } from '../analyze/run/filters.js';

/** Every filter but the user's (bundle's --user is the MySQL account of --schema-from). */
export const filterOptions = {
  since: { describe: 'only commands from this time on (ISO 8601; UTC unless a zone is given)', type: 'string', group: 'Filters:', requiresArg: true },
  until: { describe: 'only commands before this time', type: 'string', group: 'Filters:', requiresArg: true },
  db: { describe: "only this database (repeatable); '(none)': none selected, '(unknown)': login not captured", type: 'string', array: true, group: 'Filters:', requiresArg: true },
  client: { describe: 'only this client IP address, or address:port (repeatable)', type: 'string', array: true, group: 'Filters:', requiresArg: true },
  server: { describe: 'only this server IP address, or address:port (repeatable)', type: 'string', array: true, group: 'Filters:', requiresArg: true },
  'min-latency': { describe: 'only commands at least this slow, by full response time (250us, 10ms, 1.5s; a bare number is ms)', type: 'string', group: 'Filters:', requiresArg: true },
} as const;

export const userFilterOption = {
  user: { describe: "only this user (repeatable); '(unknown)': login not captured", type: 'string', array: true, group: 'Filters:', requiresArg: true },
} as const;

/** A repeatable option's values as strings (undefined when not given). */
export function strings(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** The filters given on the command line (`user` only where it is a filter). */
export function filterSettings(a: { since?: string; until?: string; user?: unknown; db?: unknown; client?: unknown; server?: unknown; minLatency?: string }, withUser: boolean): FilterOptions {
  return { since: a.since, until: a.until, user: withUser ? strings(a.user) : undefined, db: strings(a.db), client: strings(a.client), server: strings(a.server), minLatency: a.minLatency };
}

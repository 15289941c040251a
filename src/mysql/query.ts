/**
 * COM_QUERY (and the SQL-level facts the session follows from it): the SQL after an optional
 * query-attributes block, whether a statement may change sql_mode, and `USE db`.
 */
import { ByteReader, text } from '../bytes/reader.js';
import { binaryValue } from './packets.js';

/**
 * CLIENT_QUERY_ATTRIBUTES as known after this COM_QUERY packet (null: still unknown): when the
 * handshake did not say, an attribute block of 0 attributes, 1 set, shows it.
 */
export function queryAttributesAfter(p: Uint8Array, queryAttributes: boolean | null): boolean | null {
  return queryAttributes === null && p[1] === 0 && p[2] === 1 ? true : queryAttributes;
}

/** COM_QUERY's SQL (after the query attributes when `queryAttributes`). */
export function querySql(p: Uint8Array, queryAttributes: boolean | null): string {
  return text(p.subarray(queryAttributes === true ? skipQueryAttributes(p) : 1));
}

/** COM_QUERY with CLIENT_QUERY_ATTRIBUTES: parameter count, set count, then (if any) the attributes. */
export function skipQueryAttributes(p: Uint8Array): number {
  const r = new ByteReader(p, 1);
  const count = r.lenenc();
  r.lenenc(); // parameter set count (1)
  if (count <= 0 || !r.ok) return r.pos;
  const nullBitmap = r.bytes((count + 7) >> 3);
  if (r.u8() !== 1) return r.pos; // no types: nothing more is sent
  const types: number[] = [];
  for (let i = 0; i < count && r.ok; i++) {
    types.push(r.u16());
    r.lenencBytes(); // the attribute's name
  }
  // Values: a NULL (in the bitmap) sends no bytes; the others are binary-protocol values.
  for (let i = 0; i < types.length && r.ok; i++) {
    if (nullBitmap[i >> 3]! & (1 << (i & 7))) continue;
    if (binaryValue(r, types[i]!) === undefined) break;
  }
  return r.pos;
}

/**
 * May this SQL set sql_mode, so that NO_BACKSLASH_ESCAPES changes while it runs? A statement that
 * starts with SET (or a comment) and names sql_mode: looked for there only, not in every query. (A
 * multi-statement whose later part sets it is caught by its results' status flags: serverStatus.)
 */
export function setsSqlMode(sql: string): boolean {
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 0x20) i++;
  const c = sql.charCodeAt(i);
  const set = (c | 0x20) === 0x73 && (sql.charCodeAt(i + 1) | 0x20) === 0x65 && (sql.charCodeAt(i + 2) | 0x20) === 0x74; // SET
  return (set || c === 0x2f) && /sql_mode/i.test(sql); // or a /* comment */ first
}

/** `USE db`: the database it switches to (once the server says OK), or undefined. */
export function useDatabase(sql: string): string | undefined {
  // Most statements are not: their first ASCII letter says so without the regular expression
  // (past the ASCII white space; anything else, Unicode spaces included, goes to the expression).
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 0x20) i++;
  const c = sql.charCodeAt(i);
  if (c < 0x80 && (c | 0x20) !== 0x75) return undefined; // u
  const m = /^\s*use\s+`?([^`;\s]+)`?\s*;?\s*$/i.exec(sql);
  return m ? m[1]! : undefined;
}

/**
 * The client's command packets (COM_*), other than queries (query.ts) and prepared statements
 * (statements.ts): what each says, and whether the server answers it.
 */
import { ByteReader, text } from '../bytes/reader.js';
import { Cap, Com } from './constants.js';

/** Does the server answer this command? (Quit closes; close and long data are silent; replication streams instead.) */
export function expectsResponse(com: number): boolean {
  switch (com) {
    case Com.Quit:
    case Com.StmtClose:
    case Com.StmtSendLongData:
    case Com.BinlogDump:
    case Com.BinlogDumpGtid:
    case Com.RegisterSlave:
      return false;
    default:
      return true;
  }
}

/** Replication: the server streams binlog events from now on (not decoded). */
export function startsReplication(com: number): boolean {
  return com === Com.BinlogDump || com === Com.BinlogDumpGtid || com === Com.RegisterSlave;
}

/** COM_INIT_DB: the database. */
export function initDbName(p: Uint8Array): string {
  return text(p.subarray(1));
}

/** COM_FIELD_LIST: the table (NUL-terminated, a wildcard follows). */
export function fieldListTable(p: Uint8Array): string {
  const rest = p.subarray(1);
  const i = rest.indexOf(0);
  return text(i < 0 ? rest : rest.subarray(0, i));
}

/** COM_PROCESS_KILL: the connection id, as text (null when the packet is too short). */
export function processKillId(p: Uint8Array): string | null {
  return p.length >= 5 ? String((p[1]! | (p[2]! << 8) | (p[3]! << 16) | (p[4]! << 24)) >>> 0) : null;
}

/** COM_CHANGE_USER: user NUL, auth response (never kept), database NUL, … */
export function readChangeUser(p: Uint8Array, caps: number): { user: string; db: string | null } {
  const r = new ByteReader(p, 1);
  const user = text(r.nulBytes());
  if (caps & Cap.SecureConnection) r.skip(r.u8());
  else r.nulBytes();
  const db = r.remaining > 0 ? text(r.nulBytes()) : '';
  return { user, db: db.length > 0 ? db : null };
}

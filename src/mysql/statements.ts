/**
 * Prepared statements (COM_STMT_*): the registry of a connection's statements — their SQL from
 * COM_STMT_PREPARE and PREPARE_OK, parameter types as executes send them — and what an execute,
 * fetch, reset, close or long-data packet says. A statement prepared before the capture began is
 * described by what the wire shows (its parameters' types, its result's columns).
 */
import { Com } from './constants.js';
import type { UnknownStatement } from './events.js';
import { MAX_UNKNOWN_COLUMNS } from './events.js';
import { columnName, inferExecuteParams, parseExecute } from './packets.js';

interface Statement {
  sql: string;
  params: number;
  types: number[] | null;
}

/** A COM_STMT_PREPARE in flight or done: its SQL, and its id once the server gave one. */
export interface PrepareRef {
  stmtId: number | null;
  prepareSql: string | null;
}

/** What a statement command packet says. */
export interface StatementCommand {
  /** The statement id (0xffffffff: MariaDB's "the one prepared last"; -1: the packet is too short). */
  id: number;
  /** The statement's SQL, when its PREPARE was seen. */
  sql: string | null;
  /** stmt_execute: the parameters' values as text, and their MYSQL_TYPE_* codes. */
  params: (string | null)[] | null;
  paramTypes: number[] | null;
  /** stmt_execute opened a cursor (rows come with COM_STMT_FETCH). */
  cursor: boolean;
  /** stmt_execute of a statement prepared before the capture: what the wire shows of it. */
  unknown: UnknownStatement | null;
  /** …and its result's columns are still to learn. */
  collectColumns: boolean;
}

/** Statements prepared before the capture kept at most (then forgotten all at once). */
const MAX_UNKNOWN = 1024;

/** The statement id of a COM_STMT_* packet, or -1 when the packet is too short. */
export function statementId(p: Uint8Array): number {
  return p.length >= 5 ? (p[1]! | (p[2]! << 8) | (p[3]! << 16) | (p[4]! << 24)) >>> 0 : -1;
}

export class PreparedStatements {
  /** Made on first use: most connections never prepare. */
  private made: Map<number, Statement> | null = null;
  /** Statements executed but never seen prepared, by id: the columns learnt from their results. */
  private readonly unknown = new Map<number, UnknownStatement>();
  /** The last COM_STMT_PREPARE (MariaDB's statement id -1 names it). */
  last: PrepareRef | null = null;

  private get statements(): Map<number, Statement> {
    return (this.made ??= new Map());
  }

  /** PREPARE_OK: the statement's id for its SQL. */
  prepared(id: number, sql: string, params: number): void {
    this.statements.set(id, { sql, params, types: null });
  }

  /** A prepare that failed, or a statement closed. */
  forget(id: number): void {
    this.statements.delete(id);
  }

  /** change_user: a new session has no statements. */
  clear(): void {
    this.statements.clear();
  }

  /** A COM_STMT_* packet (execute, bulk execute, fetch, reset, close, send long data). */
  read(com: number, p: Uint8Array, queryAttributes: boolean | null): StatementCommand {
    const id = statementId(p);
    // MariaDB: id -1 is the statement prepared last, often sent with it before its PREPARE_OK.
    const last = id === 0xffffffff ? this.last : null;
    const st = this.statements.get(last?.stmtId ?? id);
    const c: StatementCommand = { id, sql: st?.sql ?? last?.prepareSql ?? null, params: null, paramTypes: null, cursor: false, unknown: null, collectColumns: false };
    if (com === Com.StmtExecute && c.sql === null && id !== 0xffffffff) this.describeUnknown(c, p, queryAttributes);
    if (com === Com.StmtExecute) {
      const x = parseExecute(p, st ? st.params : null, st?.types ?? null, queryAttributes === true);
      if (x) {
        if (st && x.types) st.types = x.types;
        // With query attributes the count covers the statement's parameters, then the attributes.
        c.params = x.values !== null && st && x.values.length > st.params ? x.values.slice(0, st.params) : x.values;
        const types = x.types ?? st?.types ?? null;
        if (c.params !== null && types !== null) c.paramTypes = types.slice(0, c.params.length).map((t) => t & 0xff);
        c.cursor = (x.flags & 0x07) !== 0;
      }
    }
    if (com === Com.StmtClose) {
      this.statements.delete(id);
      this.unknown.delete(id);
    }
    return c;
  }

  /** Prepared before the capture began: describe it by what the wire shows. */
  private describeUnknown(c: StatementCommand, p: Uint8Array, queryAttributes: boolean | null): void {
    const id = c.id;
    const known = this.unknown.get(id);
    // The count learnt from an earlier execute, checked first: inferring tries counts one by one.
    const again = known?.params != null ? parseExecute(p, known.params, null, false) : null;
    const inferred = queryAttributes === true ? null : again !== null && again.types !== null && again.end === p.length ? { count: known!.params!, types: again.types.map((t) => t & 0xff) } : inferExecuteParams(p);
    const learnt = known !== undefined && known.columns.length > 0;
    const u: UnknownStatement = { id, params: inferred?.count ?? known?.params ?? null, types: inferred?.types ?? known?.types ?? null, columns: learnt ? known.columns : [] };
    c.collectColumns = !learnt;
    if (known === undefined && this.unknown.size >= MAX_UNKNOWN) this.unknown.clear();
    this.unknown.set(id, u);
    c.unknown = u;
  }
}

/** A column definition of an unknown statement's first result (learnt once per statement id). */
export function learnColumn(u: UnknownStatement, payload: Uint8Array): void {
  if (u.columns.length < MAX_UNKNOWN_COLUMNS) u.columns.push(columnName(payload) ?? '?');
  else if (u.columns[u.columns.length - 1] !== '…') u.columns.push('…');
}

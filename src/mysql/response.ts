/**
 * The response machine: what the server's next packet may be, given the command it answers and
 * what came before (as in Zeek's mysql analyzer, the expectation drives everything). A pure
 * function `step(expectation, packet, context) → { next, outcome, done, deprecateEof }`: it reads
 * the packet's header and a few bytes, never the session; the session applies the outcome to the
 * command's event (session.ts, `applyResponse`).
 *
 *   Result ─ OK / ERR / EOF ─► done (or Result again, when SERVER_MORE_RESULTS_EXISTS)
 *          ─ column count n ─► FieldDefs(n) ─ n defs ─► [FieldDefsEof] ─► Rows ─ EOF/OK ─► done
 *          ─ 0xfb ─► FileData (the client sends the file, then the server answers: Result)
 *   stmt_prepare: PrepareOk ─► ParamDefs(p) ─► [ParamDefsEof] ─► PrepareFieldDefs(c) ─► [EOF] ─► done
 *   field_list: FieldList ─ defs … EOF ─► done        statistics: Statistics ─ one string ─► done
 *   change_user: Auth ─ auth switch, more data … OK ─► done
 *
 * Under CLIENT_DEPRECATE_EOF the bracketed EOFs are not sent; when the handshake was not captured
 * (`deprecateEof` null) the machine learns it from the first place an EOF should have been.
 */
import { Com, EOF_MAX_LENGTH, Header, Lenenc, MAX_PACKET, MariaCap, OK_MIN_LENGTH, Status } from './constants.js';
import type { Stage } from './events.js';
import type { Packet } from './framing.js';
import { isTerminator, parseEof, parseOk, parsePrepareOk, type Ok, type PrepareOk } from './packets.js';

/** More columns than a result set can have (MySQL's limit is 4096): the stream is not where we think. */
const MAX_COLUMNS = 4096;

/** What the next server packet of a command's response may be. */
export const enum Expect {
  /** Nothing pending. */
  None,
  /** The first packet of a result: OK, ERR, column count, LOCAL INFILE, EOF. */
  Result,
  FieldDefs,
  FieldDefsEof,
  Rows,
  PrepareOk,
  ParamDefs,
  ParamDefsEof,
  PrepareFieldDefs,
  PrepareFieldDefsEof,
  /** COM_FIELD_LIST: column definitions until EOF. */
  FieldList,
  /** COM_STATISTICS: one string packet. */
  Statistics,
  /** change_user: the authentication exchange. */
  Auth,
  /** LOCAL INFILE: the client is sending the file. */
  FileData,
}

/**
 * The expectation, with what it counts down: definitions left, and a prepared statement's columns
 * to come. One class, so that every expectation has the same shape (the session reads `kind` on
 * every packet: one shape keeps that a plain field load).
 */
export class Expectation {
  /** Steps without packet data that lead here, made once (see `make`). */
  steps: (ResponseStep | undefined)[] | null = null;
  constructor(
    readonly kind: Expect,
    readonly left = 0,
    readonly columns = 0,
  ) {}
}

const NONE = new Expectation(Expect.None);
const RESULT = new Expectation(Expect.Result);
const FIELD_DEFS_EOF = new Expectation(Expect.FieldDefsEof);
const ROWS = new Expectation(Expect.Rows);
const PREPARE_OK = new Expectation(Expect.PrepareOk);
const PREPARE_FIELD_DEFS_EOF = new Expectation(Expect.PrepareFieldDefsEof);
const FIELD_LIST = new Expectation(Expect.FieldList);
const STATISTICS = new Expectation(Expect.Statistics);
const AUTH = new Expectation(Expect.Auth);
const FILE_DATA = new Expectation(Expect.FileData);

export const Expectations = { NONE, RESULT, ROWS, FILE_DATA } as const;

/** What the first packet of a command's response will be (also where a resynchronised server stream starts). */
export function expectationFor(com: number): Expectation {
  switch (com) {
    case Com.StmtPrepare:
      return PREPARE_OK;
    case Com.FieldList:
      return FIELD_LIST;
    case Com.Statistics:
      return STATISTICS;
    case Com.ChangeUser:
      return AUTH;
    case Com.StmtFetch:
      return ROWS;
    default:
      return RESULT;
  }
}

/** What the machine needs of the connection and the command. */
export interface ResponseContext {
  /** Negotiated capabilities (for OK packets). */
  caps: number;
  mariaCaps: number;
  /** CLIENT_DEPRECATE_EOF, or null while not known. */
  deprecateEof: boolean | null;
  /** The command asked for a cursor (stmt_execute flags): its rows come with COM_STMT_FETCH. */
  cursor: boolean;
}

/** What the packet was, for the command's event. */
export const enum Outcome {
  /** ERR_Packet: the command failed. */
  Error,
  /** An OK_Packet that is a (long) result: affected rows, insert id, status. */
  Ok,
  /** A short OK (pre-4.1 servers). */
  ShortOk,
  /** An EOF as the whole answer (COM_SET_OPTION, COM_DEBUG). */
  EofAnswer,
  /** The server asks for a LOCAL INFILE file. */
  FileRequest,
  /** A result set's column count that cannot be one: the stream is lost. */
  BadColumnCount,
  /** A result set's column count. */
  ResultSet,
  /** A column definition of a result set. */
  Column,
  /** A definition of a prepared statement (parameter or column), or of COM_FIELD_LIST. */
  Definition,
  /** The EOF after a result set's column definitions (status, warnings). */
  DefinitionsEof,
  /** The same, but the packet is not an EOF: a violation, then the packet read as a row … */
  MissingEofRow,
  /** … or as the end of the rows (status, warnings). */
  MissingEofEnd,
  Row,
  /** The EOF or OK that ends a result's rows (status, warnings). */
  EndOfRows,
  PrepareOk,
  /** Not a COM_STMT_PREPARE_OK where one was due. */
  BadPrepareOk,
  /** The end of a prepared statement's definitions. */
  Prepared,
  /** A packet after a prepared statement's definitions where its EOF should be (read as the end, then a violation). */
  PreparedThenViolation,
  /** COM_STATISTICS' string. */
  Statistics,
  /** change_user: the server accepted the new user. */
  AuthOk,
  /** change_user: the server asks for another authentication method. */
  AuthSwitch,
  /** change_user: more authentication data. */
  AuthData,
}

/** One step of the machine. */
export interface ResponseStep {
  /** The expectation after this packet (None when the command is done: the session picks the next command's). */
  readonly next: Expectation;
  readonly outcome: Outcome;
  /** The command's response ended, and how; null: more packets follow. */
  readonly done: 'ok' | 'error' | 'incomplete' | null;
  /** CLIENT_DEPRECATE_EOF after this packet (learnt from it when it was not known). */
  readonly deprecateEof: boolean | null;
  /** EOF / end of rows: status flags and warnings; ResultSet, BadColumnCount: the column count. */
  readonly status: number;
  readonly warnings: number;
  /** Ok, ShortOk, AuthOk: the OK packet (null when malformed: a violation). */
  readonly ok: Ok | null;
  /** PrepareOk: COM_STMT_PREPARE_OK. */
  readonly prepareOk: PrepareOk | null;
}

/**
 * Expectations and steps are values, made once and shared (never changed): a counted expectation
 * is looked up by its counts, a step that carries no packet data is kept on its next expectation.
 * A response then costs no allocation per packet (a result set's column definitions, its rows).
 */
function make(next: Expectation, outcome: Outcome, done: ResponseStep['done'], deprecateEof: boolean | null, status = 0, warnings = 0, ok: Ok | null = null, prepareOk: PrepareOk | null = null): ResponseStep {
  if (status === 0 && warnings === 0 && ok === null && prepareOk === null) {
    const cache = (next.steps ??= []);
    const i = (outcome * 4 + (done === null ? 0 : done === 'ok' ? 1 : done === 'error' ? 2 : 3)) * 3 + (deprecateEof === false ? 0 : deprecateEof === true ? 1 : 2);
    return (cache[i] ??= { next, outcome, done, deprecateEof, status, warnings, ok, prepareOk });
  }
  return { next, outcome, done, deprecateEof, status, warnings, ok, prepareOk };
}

const FIELD_DEFS: Expectation[] = [];
const PREPARE_FIELD_DEFS: Expectation[] = [];
const PARAM_DEFS_EOF: Expectation[] = [];
const PARAM_DEFS = new Map<number, Expectation>();

/** Counts come from the wire (at most 4096 columns, 65535 parameters): tables stay bounded. */
function fieldDefs(left: number): Expectation {
  return (FIELD_DEFS[left] ??= new Expectation(Expect.FieldDefs, left));
}

function prepareFieldDefs(left: number): Expectation {
  return (PREPARE_FIELD_DEFS[left] ??= new Expectation(Expect.PrepareFieldDefs, left));
}

function paramDefsEof(columns: number): Expectation {
  return (PARAM_DEFS_EOF[columns] ??= new Expectation(Expect.ParamDefsEof, 0, columns));
}

function paramDefs(left: number, columns: number): Expectation {
  const key = left * 65536 + columns;
  let e = PARAM_DEFS.get(key);
  if (e === undefined) {
    e = new Expectation(Expect.ParamDefs, left, columns);
    if (PARAM_DEFS.size < 16384) PARAM_DEFS.set(key, e);
  }
  return e;
}

/** Row steps, made once (the hot path: one per row), by deprecateEof. */
const ROW_STEPS: readonly [ResponseStep, ResponseStep, ResponseStep] = [make(ROWS, Outcome.Row, null, false), make(ROWS, Outcome.Row, null, true), make(ROWS, Outcome.Row, null, null)];

function rowStep(deprecateEof: boolean | null): ResponseStep {
  return ROW_STEPS[deprecateEof === false ? 0 : deprecateEof === true ? 1 : 2];
}

/**
 * Before the packet is counted: a prepared statement's definitions not followed by an EOF where
 * CLIENT_DEPRECATE_EOF was not known show that it is on. Returns the expectation the packet
 * really meets (None: the prepare is done, and the packet starts the next command's response),
 * or null when nothing was learnt.
 */
export function learnDeprecateEof(e: Expectation, p: Packet, deprecateEof: boolean | null): Expectation | null {
  if (deprecateEof !== null || (e.kind !== Expect.ParamDefsEof && e.kind !== Expect.PrepareFieldDefsEof)) return null;
  if (isTerminator(p.payload, p.length, false)) return null;
  return e.kind === Expect.ParamDefsEof ? afterParams(e.columns) : NONE;
}

/** After a prepared statement's parameter definitions: its column definitions, or done (None). */
function afterParams(columns: number): Expectation {
  return columns > 0 ? prepareFieldDefs(columns) : NONE;
}

/** One server packet of a response (not an ERR's sequel: ERR ends any expectation). */
export function step(e: Expectation, p: Packet, ctx: ResponseContext): ResponseStep {
  const eofOff = ctx.deprecateEof;
  if (p.b0 === Header.Err) return make(NONE, Outcome.Error, 'error', eofOff);
  switch (e.kind) {
    case Expect.Result:
      return result(p, ctx);
    case Expect.FieldDefs:
      if (e.left > 1) return make(fieldDefs(e.left - 1), Outcome.Column, null, eofOff);
      return make(eofOff === true ? ROWS : FIELD_DEFS_EOF, Outcome.Column, null, eofOff);
    case Expect.ParamDefs:
      if (e.left > 1) return make(paramDefs(e.left - 1, e.columns), Outcome.Definition, null, eofOff);
      if (eofOff !== true) return make(paramDefsEof(e.columns), Outcome.Definition, null, eofOff);
      return definitionsDone(afterParams(e.columns), eofOff);
    case Expect.PrepareFieldDefs:
      if (e.left > 1) return make(prepareFieldDefs(e.left - 1), Outcome.Definition, null, eofOff);
      return eofOff === true ? make(NONE, Outcome.Prepared, 'ok', eofOff) : make(PREPARE_FIELD_DEFS_EOF, Outcome.Definition, null, eofOff);
    case Expect.FieldDefsEof:
      return definitionsEof(p, ctx);
    case Expect.Rows:
      return rows(p, ctx.caps, eofOff);
    case Expect.PrepareOk: {
      const ok = p.b0 === Header.Ok ? parsePrepareOk(p.payload) : null;
      if (ok === null) return make(NONE, Outcome.BadPrepareOk, 'incomplete', eofOff);
      const next: Expectation = ok.params > 0 ? paramDefs(ok.params, ok.columns) : ok.columns > 0 ? prepareFieldDefs(ok.columns) : NONE;
      return make(next, Outcome.PrepareOk, next === NONE ? 'ok' : null, eofOff, 0, 0, null, ok);
    }
    case Expect.ParamDefsEof: {
      if (isTerminator(p.payload, p.length, false)) return definitionsDone(afterParams(e.columns), eofOff);
      // No EOF: CLIENT_DEPRECATE_EOF. The packet is the first column definition.
      const next = afterParams(e.columns);
      if (next.kind === Expect.None) return make(NONE, Outcome.Prepared, 'ok', true);
      const left = e.columns - 1;
      return left === 0 ? make(NONE, Outcome.Prepared, 'ok', true) : make(prepareFieldDefs(left), Outcome.Definition, null, true);
    }
    case Expect.PrepareFieldDefsEof:
      if (isTerminator(p.payload, p.length, false)) return make(NONE, Outcome.Prepared, 'ok', eofOff);
      return make(NONE, Outcome.PreparedThenViolation, 'ok', true);
    case Expect.FieldList:
      return isTerminator(p.payload, p.length, eofOff) ? make(NONE, Outcome.Definition, 'ok', eofOff) : make(FIELD_LIST, Outcome.Definition, null, eofOff);
    case Expect.Statistics:
      return make(NONE, Outcome.Statistics, 'ok', eofOff);
    case Expect.Auth:
      if (p.b0 === Header.Ok) return make(NONE, Outcome.AuthOk, 'ok', eofOff, 0, 0, parseOk(p.payload, ctx.caps));
      return make(AUTH, p.b0 === Header.AuthSwitch ? Outcome.AuthSwitch : Outcome.AuthData, null, eofOff);
    case Expect.FileData:
      // The server answers: the end of the file (an empty packet) was not captured.
      return result(p, ctx);
    case Expect.None:
      // (The session never asks: no command waits.)
      return make(NONE, Outcome.AuthData, null, eofOff);
    default: {
      const never: never = e.kind;
      return never;
    }
  }
}

/** The last definition of a prepared statement's parameters: its columns follow, or it is done. */
function definitionsDone(next: Expectation, deprecateEof: boolean | null): ResponseStep {
  return next.kind === Expect.None ? make(NONE, Outcome.Prepared, 'ok', deprecateEof) : make(next, Outcome.Definition, null, deprecateEof);
}

/** The first packet of a (next) result. */
function result(p: Packet, ctx: ResponseContext): ResponseStep {
  const eofOff = ctx.deprecateEof;
  const payload = p.payload;
  const b0 = p.b0;
  if (b0 === Header.Ok && p.length >= OK_MIN_LENGTH) {
    // Another result follows when the status says so.
    const ok = parseOk(payload, ctx.caps);
    const more = ok !== null && (ok.status & Status.MoreResultsExists) !== 0;
    return make(more ? RESULT : NONE, Outcome.Ok, more ? null : 'ok', eofOff, 0, 0, ok);
  }
  if (b0 === Header.LocalInfile && p.length > 1) return make(FILE_DATA, Outcome.FileRequest, null, eofOff);
  if (b0 === Header.Eof && p.length < EOF_MAX_LENGTH) {
    const eof = parseEof(payload);
    return make(NONE, Outcome.EofAnswer, 'ok', eofOff, eof.status, eof.warnings);
  }
  if (b0 === Header.Ok) return make(NONE, Outcome.ShortOk, 'ok', eofOff, 0, 0, parseOk(payload, ctx.caps));
  // A result set: column count, then (MariaDB cached metadata) maybe no definitions.
  let n = b0 < Lenenc.Null ? b0 : b0 === Lenenc.Two ? payload[1]! | (payload[2]! << 8) : b0 === Lenenc.Three ? payload[1]! | (payload[2]! << 8) | (payload[3]! << 16) : -1;
  if (n <= 0 || n > MAX_COLUMNS) return make(NONE, Outcome.BadColumnCount, 'incomplete', eofOff, n);
  const lenencSize = b0 < Lenenc.Null ? 1 : b0 === Lenenc.Two ? 3 : 4;
  if (ctx.mariaCaps & MariaCap.CacheMetadata && payload[lenencSize] === 0) n = 0; // metadata not resent
  const next: Expectation = n > 0 ? fieldDefs(n) : eofOff === true ? ROWS : FIELD_DEFS_EOF;
  return make(next, Outcome.ResultSet, null, eofOff, n);
}

/** Where the EOF after a result set's column definitions is due. */
function definitionsEof(p: Packet, ctx: ResponseContext): ResponseStep {
  const eofOff = ctx.deprecateEof;
  if (p.b0 === Header.Eof && p.length < EOF_MAX_LENGTH) {
    // Not an EOF (5 bytes) but the OK that ends an empty result set: CLIENT_DEPRECATE_EOF.
    if (eofOff === null && p.length >= OK_MIN_LENGTH) return rows(p, ctx.caps, true);
    const learnt = eofOff === null ? (p.length === 5 ? false : null) : eofOff;
    const eof = parseEof(p.payload);
    // A cursor was opened: rows come with COM_STMT_FETCH.
    if (ctx.cursor && eof.status & Status.CursorExists) return endOfRows(eof.status, eof.warnings, learnt);
    return make(ROWS, Outcome.DefinitionsEof, null, learnt, eof.status, eof.warnings);
  }
  // No EOF after the definitions: the connection negotiated CLIENT_DEPRECATE_EOF.
  if (eofOff === null) return rows(p, ctx.caps, true);
  const r = rows(p, ctx.caps, eofOff);
  return make(r.next, r.outcome === Outcome.EndOfRows ? Outcome.MissingEofEnd : Outcome.MissingEofRow, r.done, r.deprecateEof, r.status, r.warnings);
}

/** A row, or the EOF / OK that ends the rows. */
function rows(p: Packet, caps: number, deprecateEof: boolean | null): ResponseStep {
  // Every terminator starts with 0xfe; a row that is only counted needs no view of its bytes.
  if (p.b0 !== Header.Eof) return rowStep(deprecateEof);
  const len = p.length;
  if (!(isTerminator(p.payload, len, deprecateEof) || (deprecateEof === null && len < MAX_PACKET && len >= OK_MIN_LENGTH && len < 64))) return rowStep(deprecateEof);
  if (len === 5) {
    const eof = parseEof(p.payload);
    return endOfRows(eof.status, eof.warnings, deprecateEof);
  }
  const ok = parseOk(p.payload, caps);
  return endOfRows(ok?.status ?? 0, ok?.warnings ?? 0, deprecateEof === null && ok ? true : deprecateEof);
}

function endOfRows(status: number, warnings: number, deprecateEof: boolean | null): ResponseStep {
  const more = (status & Status.MoreResultsExists) !== 0;
  return make(more ? RESULT : NONE, Outcome.EndOfRows, more ? null : 'ok', deprecateEof, status, warnings);
}

/** The trace's stage while the response is at this expectation (the MySQL client's names). */
export function stageOf(e: Expect): Stage {
  switch (e) {
    case Expect.None:
      return 'READY_FOR_COMMAND';
    case Expect.Result:
    case Expect.PrepareOk:
    case Expect.FieldList:
    case Expect.Statistics:
    case Expect.Auth:
      return 'WAIT_FOR_RESULT';
    case Expect.FieldDefs:
    case Expect.FieldDefsEof:
    case Expect.PrepareFieldDefs:
    case Expect.PrepareFieldDefsEof:
      return 'WAIT_FOR_FIELD_DEF';
    case Expect.Rows:
      return 'WAIT_FOR_ROW';
    case Expect.ParamDefs:
    case Expect.ParamDefsEof:
      return 'WAIT_FOR_PARAM_DEF';
    case Expect.FileData:
      return 'FILE_REQUEST';
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** What a server packet is, for the trace (the expectation decides what an ambiguous header means). */
export function describeServerPacket(p: Packet, e: Expect): string {
  const b0 = p.payload[0];
  if (b0 === Header.Ok && (e === Expect.Result || e === Expect.Auth)) return 'OK';
  if (b0 === Header.Err) return 'ERR';
  if (b0 === Header.Eof && p.length < EOF_MAX_LENGTH) return 'EOF';
  if (b0 === Header.Eof) return 'OK (end of rows)';
  switch (e) {
    case Expect.Result:
      return b0 === Header.LocalInfile ? 'LOCAL INFILE request' : 'column count';
    case Expect.FieldDefs:
    case Expect.PrepareFieldDefs:
    case Expect.FieldList:
      return 'column definition';
    case Expect.ParamDefs:
      return 'parameter definition';
    case Expect.Rows:
      return 'row';
    case Expect.PrepareOk:
      return 'PREPARE_OK';
    case Expect.None:
    case Expect.FieldDefsEof:
    case Expect.ParamDefsEof:
    case Expect.PrepareFieldDefsEof:
    case Expect.Statistics:
    case Expect.Auth:
    case Expect.FileData:
      return '';
    default: {
      const never: never = e;
      return never;
    }
  }
}

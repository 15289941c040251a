/**
 * What a server packet of a response means for the command's event and the connection, once the
 * response machine (response.ts) has read it: rows counted, the OK's affected rows and status
 * flags, the ERR's code and message, the statement id a PREPARE_OK gives, the database a `USE`
 * or change_user switches to, the SQL mode the status flags say. The session (session.ts) then
 * moves to the machine's next expectation or completes the command.
 */
import { Dir } from '../tcp/stream.js';
import { Com, Status } from './constants.js';
import type { SessionHost } from './connection.js';
import type { Packet } from './framing.js';
import { authPluginName } from './handshake.js';
import { parseErr, type Ok } from './packets.js';
import type { Pending } from './pending.js';
import { setsSqlMode } from './query.js';
import { Outcome, type ResponseStep } from './response.js';
import { learnColumn, type PreparedStatements } from './statements.js';

/** The step's outcome, into the command's event and the connection (`host`). */
export function applyOutcome(host: SessionHost, statements: PreparedStatements, cur: Pending, p: Packet, s: ResponseStep): void {
  const ev = cur.ev;
  host.deprecateEof = s.deprecateEof;
  switch (s.outcome) {
    case Outcome.Row:
      ev.rows = (ev.rows ?? 0) + 1;
      return;
    case Outcome.Error: {
      const e = parseErr(p.payload, host.caps);
      ev.errorCode = e?.code ?? null;
      ev.sqlState = e?.sqlState ?? null;
      ev.error = e?.message ?? null;
      host.trace(Dir.ServerToClient, 'ERROR', p.seq, p.length, e ? `${e.code} ${e.sqlState ?? ''} ${e.message}` : 'malformed ERR');
      return;
    }
    case Outcome.Ok:
      okInto(host, cur, p, s.ok);
      ev.resultSets++;
      return;
    case Outcome.ShortOk:
      okInto(host, cur, p, s.ok);
      return;
    case Outcome.EofAnswer:
      followStatus(host, s.status, cur);
      ev.warnings = s.warnings;
      ev.serverStatus = s.status;
      return;
    case Outcome.BadColumnCount:
      host.violation(Dir.ServerToClient, p, `implausible column count ${s.status}`);
      return;
    case Outcome.ResultSet:
      ev.rows ??= 0;
      return;
    case Outcome.Column:
      if (cur.collectColumns && ev.resultSets === 0) learnColumn(ev.unknownStatement!, p.payload);
      return;
    case Outcome.DefinitionsEof:
      followStatus(host, s.status, cur);
      return;
    case Outcome.MissingEofRow:
      host.violation(Dir.ServerToClient, p, 'expected EOF after the column definitions');
      ev.rows = (ev.rows ?? 0) + 1;
      return;
    case Outcome.MissingEofEnd:
      host.violation(Dir.ServerToClient, p, 'expected EOF after the column definitions');
      endResult(host, cur, s.status, s.warnings);
      return;
    case Outcome.EndOfRows:
      endResult(host, cur, s.status, s.warnings);
      return;
    case Outcome.PrepareOk: {
      const ok = s.prepareOk!;
      cur.stmtId = ok.statementId;
      ev.warnings = ok.warnings;
      if (cur.prepareSql !== null) statements.prepared(ok.statementId, cur.prepareSql, ok.params);
      return;
    }
    case Outcome.BadPrepareOk:
      host.violation(Dir.ServerToClient, p, 'expected COM_STMT_PREPARE_OK');
      return;
    case Outcome.AuthOk:
      host.trace(Dir.ServerToClient, 'AUTHENTICATED', p.seq, p.length, 'change_user');
      host.user = ev.user;
      host.db = cur.newDb ?? null; // a new session: the database it asked for, or none
      statements.clear();
      okInto(host, cur, p, s.ok);
      return;
    case Outcome.AuthSwitch:
      host.trace(Dir.ServerToClient, 'AUTH_PLUGIN', p.seq, p.length, `switch to ${authPluginName(p.payload)}`);
      return;
    case Outcome.FileRequest:
    case Outcome.Definition:
    case Outcome.Prepared:
    case Outcome.PreparedThenViolation:
    case Outcome.Statistics:
    case Outcome.AuthData:
      return;
    default: {
      const never: never = s.outcome;
      return never;
    }
  }
}

/** The end of a result's rows (or its cursor): status, warnings, index use. */
function endResult(host: SessionHost, cur: Pending, status: number, warnings: number): void {
  followStatus(host, status, cur);
  const ev = cur.ev;
  ev.resultSets++;
  ev.warnings = (ev.warnings ?? 0) + warnings;
  if (status & Status.NoIndexUsed) ev.noIndexUsed = true;
  if (status & Status.NoGoodIndexUsed) ev.noGoodIndexUsed = true;
  ev.serverStatus = status;
}

/** An OK into the event (affected rows, insert id, warnings, status flags, schema change). */
function okInto(host: SessionHost, cur: Pending, p: Packet, ok: Ok | null): void {
  if (ok === null) {
    host.violation(Dir.ServerToClient, p, 'malformed OK packet');
    return;
  }
  followStatus(host, ok.status, cur);
  const ev = cur.ev;
  ev.affectedRows = (ev.affectedRows ?? 0) + ok.affectedRows;
  ev.insertId = ok.insertId || ev.insertId;
  ev.warnings = (ev.warnings ?? 0) + ok.warnings;
  if (ok.status & Status.NoIndexUsed) ev.noIndexUsed = true;
  if (ok.status & Status.NoGoodIndexUsed) ev.noGoodIndexUsed = true;
  ev.serverStatus = ok.status;
  if (ok.schema !== null) host.db = ok.schema;
  else if (cur.com === Com.InitDb && ev.sql !== null) host.db = ev.sql;
  else if (cur.pendingUse !== undefined) host.db = cur.pendingUse;
}

/**
 * A server status (greeting, OK, EOF): follow NO_BACKSLASH_ESCAPES. `cur`, the command it
 * answers: sent before any status was seen, it takes this mode (unless it sets sql_mode
 * itself); one whose mode changed under it (a multi-statement `SET sql_mode=…; SELECT …`) is
 * marked unknown, so that its SQL is redacted safely for either mode.
 */
export function followStatus(host: SessionHost, status: number, cur: Pending | null = null): void {
  const nbe = (status & Status.NoBackslashEscapes) !== 0;
  if (cur !== null && cur.ev.noBackslashEscapes !== nbe) {
    const ev = cur.ev;
    ev.noBackslashEscapes = ev.noBackslashEscapes === null && !(ev.sql !== null && setsSqlMode(ev.sql)) ? nbe : null;
  }
  host.noBackslashEscapes = nbe;
}

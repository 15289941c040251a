/**
 * A client command packet into its event: what each command family says (commands.ts, query.ts,
 * statements.ts read the packets) put where the event and the command's response want it — the
 * SQL or argument, the statement's id and parameters, the database a `USE` switches to, the user
 * of a change_user. The session (session.ts) queues the command and waits for its response.
 */
import { text } from '../bytes/reader.js';
import { Com } from './constants.js';
import type { SessionHost } from './connection.js';
import { fieldListTable, initDbName, processKillId, readChangeUser, startsReplication } from './commands.js';
import type { Packet } from './framing.js';
import type { Pending } from './pending.js';
import { queryAttributesAfter, querySql, setsSqlMode, useDatabase } from './query.js';
import type { PreparedStatements } from './statements.js';

/** The command's argument into its event (`cur.ev`); `host.replication` when it starts a binlog stream. */
export function readRequest(host: SessionHost, statements: PreparedStatements, cur: Pending, p: Packet): void {
  const ev = cur.ev;
  const payload = p.payload;
  const com = cur.com;
  switch (com) {
    case Com.Query: {
      const qa = (host.queryAttributes = queryAttributesAfter(payload, host.queryAttributes));
      const sql = (ev.sql = querySql(payload, qa));
      ev.sqlTruncated = p.truncated;
      cur.pendingUse = useDatabase(sql);
      // A statement that sets sql_mode may change how its own later statements read.
      if (host.noBackslashEscapes !== null && setsSqlMode(ev.sql)) ev.noBackslashEscapes = null;
      return;
    }
    case Com.StmtPrepare:
      ev.sql = text(payload.subarray(1));
      ev.sqlTruncated = p.truncated;
      cur.prepareSql = ev.sql;
      statements.last = cur;
      return;
    case Com.StmtExecute:
    case Com.StmtBulkExecute:
    case Com.StmtFetch:
    case Com.StmtReset:
    case Com.StmtClose:
    case Com.StmtSendLongData: {
      const c = statements.read(com, payload, host.queryAttributes);
      cur.stmtId = c.id;
      cur.cursor = c.cursor;
      ev.sql = c.sql;
      ev.params = c.params;
      ev.paramTypes = c.paramTypes;
      if (c.unknown !== null) {
        ev.unknownStatement = c.unknown;
        cur.collectColumns = c.collectColumns;
      }
      return;
    }
    case Com.InitDb:
    case Com.FieldList:
    case Com.ProcessKill:
      // The argument: the database, the table, the connection id.
      ev.sql = com === Com.InitDb ? initDbName(payload) : com === Com.FieldList ? fieldListTable(payload) : processKillId(payload);
      return;
    case Com.ChangeUser: {
      const u = readChangeUser(payload, host.caps);
      ev.user = u.user;
      cur.newDb = u.db;
      return;
    }
    default:
      // Replication: the server streams binlog events from now on; stop decoding this connection.
      if (startsReplication(com)) host.replication = true;
      return;
  }
}

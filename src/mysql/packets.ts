/**
 * Parsers for the MySQL protocol's wire structures, named as in the MySQL documentation. Each
 * reads fields in wire order through a bounds-checked ByteReader and returns null (never throws)
 * when the bytes do not hold the structure.
 */
import { ByteReader, text } from '../bytes/reader.js';
import { Cap, ColumnType, EOF_MAX_LENGTH, Header, MAX_PACKET } from './constants.js';

/** Protocol::HandshakeV10 (the server greeting). */
export interface Greeting {
  protocol: number;
  serverVersion: string;
  connectionId: number;
  /** Lower 32 capability bits. */
  capabilities: number;
  /** MariaDB extended capabilities (bits 32..63), when the server announces them. */
  mariaCapabilities: number;
  charset: number;
  status: number;
  authPlugin: string | null;
}

export function parseGreeting(p: Uint8Array): Greeting | null {
  const r = new ByteReader(p);
  const protocol = r.u8();
  if (protocol !== 10) return null;
  const serverVersion = text(r.nulBytes());
  const connectionId = r.u32();
  r.skip(8); // auth-plugin-data part 1
  r.skip(1); // filler
  let capabilities = r.u16();
  if (!r.ok) return null;
  let charset = 0;
  let status = 0;
  let mariaCapabilities = 0;
  let authPlugin: string | null = null;
  if (r.remaining > 0) {
    charset = r.u8();
    status = r.u16();
    capabilities |= r.u16() << 16;
    capabilities >>>= 0;
    const authDataLen = r.u8();
    r.skip(6); // reserved
    // MariaDB: the last 4 reserved bytes carry its extended capabilities when CLIENT_LONG_PASSWORD is clear.
    const extended = r.u32();
    if ((capabilities & Cap.LongPassword) === 0) mariaCapabilities = extended;
    if (capabilities & Cap.SecureConnection) r.skip(Math.max(13, authDataLen - 8));
    if (capabilities & Cap.PluginAuth && r.remaining > 0) authPlugin = text(r.nulBytes());
    r.ok = true; // some servers omit the final NUL: what was read is good
  }
  return { protocol, serverVersion, connectionId, capabilities, mariaCapabilities, charset, status, authPlugin };
}

/** Protocol::HandshakeResponse41 (or 320), and Protocol::SSLRequest (the same, cut after the filler). */
export interface HandshakeResponse {
  capabilities: number;
  mariaCapabilities: number;
  maxPacket: number;
  charset: number;
  /** An SSLRequest: the client switches to TLS now. */
  sslRequest: boolean;
  user: string | null;
  database: string | null;
  authPlugin: string | null;
  attributes: Record<string, string>;
  /** CLIENT_ZSTD_COMPRESSION_ALGORITHM: the compression level the client asks for (after the attributes); else null. */
  zstdLevel: number | null;
}

export function parseHandshakeResponse(p: Uint8Array): HandshakeResponse | null {
  const r = new ByteReader(p);
  let capabilities = r.u16();
  if (!r.ok) return null;
  if ((capabilities & Cap.Protocol41) === 0) {
    // HandshakeResponse320: caps u16, max packet u24, user NUL, auth data.
    const maxPacket = r.u24();
    const user = text(r.nulBytes());
    if (!r.ok && user.length === 0) return null;
    let database: string | null = null;
    if (capabilities & Cap.ConnectWithDb && r.ok) {
      r.nulBytes(); // auth response (never kept), NUL-terminated when a database follows
      const db = r.nulBytes();
      if (r.ok || db.length > 0) database = text(db);
    }
    return { capabilities, mariaCapabilities: 0, maxPacket, charset: 0, sslRequest: false, user, database, authPlugin: null, attributes: {}, zstdLevel: null };
  }
  capabilities = (capabilities | (r.u16() << 16)) >>> 0;
  const maxPacket = r.u32();
  const charset = r.u8();
  r.skip(19); // filler
  const mariaCapabilities = (capabilities & Cap.LongPassword) === 0 ? r.u32() : (r.skip(4), 0);
  if (!r.ok) return null;
  if (r.remaining === 0) {
    return { capabilities, mariaCapabilities, maxPacket, charset, sslRequest: (capabilities & Cap.Ssl) !== 0, user: null, database: null, authPlugin: null, attributes: {}, zstdLevel: null };
  }
  const user = text(r.nulBytes());
  // Auth response: never kept (it may be a cleartext password with some plugins).
  if (capabilities & Cap.PluginAuthLenencClientData) r.lenencBytes();
  else if (capabilities & Cap.SecureConnection) r.skip(r.u8());
  else r.nulBytes();
  let database: string | null = null;
  if (capabilities & Cap.ConnectWithDb && r.remaining > 0) database = text(r.nulBytes());
  let authPlugin: string | null = null;
  if (capabilities & Cap.PluginAuth && r.remaining > 0) authPlugin = text(r.nulBytes());
  const attributes: Record<string, string> = {};
  if (capabilities & Cap.ConnectAttrs && r.remaining > 0) {
    const total = r.lenenc();
    const end = Math.min(r.end, r.pos + Math.max(0, total));
    const a = new ByteReader(p, r.pos, end);
    while (a.remaining > 0 && a.ok) {
      const k = text(a.lenencBytes());
      const v = text(a.lenencBytes());
      if (a.ok) attributes[k] = v;
    }
    r.skip(end - r.pos);
  }
  const zstdLevel = capabilities & Cap.ZstdCompression && r.ok && r.remaining > 0 ? r.u8() : null;
  return { capabilities, mariaCapabilities, maxPacket, charset, sslRequest: false, user, database, authPlugin, attributes, zstdLevel };
}

/** OK_Packet (header 0x00, or 0xfe when it replaces EOF under CLIENT_DEPRECATE_EOF). */
export interface Ok {
  affectedRows: number;
  insertId: number;
  status: number;
  warnings: number;
  info: string;
  /** Session-state changes (CLIENT_SESSION_TRACK), e.g. the new current schema. */
  schema: string | null;
}

export function parseOk(p: Uint8Array, caps: number): Ok | null {
  const r = new ByteReader(p, 1);
  const affectedRows = r.lenenc();
  const insertId = r.lenenc();
  let status = 0;
  let warnings = 0;
  if (caps & Cap.Protocol41) {
    status = r.u16();
    warnings = r.u16();
  } else if (caps & Cap.Transactions) {
    status = r.u16();
  }
  if (!r.ok || affectedRows < 0 || insertId < 0) return null;
  let info = '';
  let schema: string | null = null;
  if (r.remaining > 0) {
    if (caps & Cap.SessionTrack) {
      info = text(r.lenencBytes());
      if (status & 0x4000 && r.remaining > 0) {
        const total = r.lenenc();
        const s = new ByteReader(p, r.pos, Math.min(r.end, r.pos + Math.max(0, total)));
        while (s.remaining > 0 && s.ok) {
          const type = s.u8();
          const data = s.lenencBytes();
          if (type === 1 && s.ok) schema = text(new ByteReader(data).lenencBytes()); // SESSION_TRACK_SCHEMA
        }
      }
    } else {
      info = text(r.rest());
    }
  }
  return { affectedRows, insertId, status, warnings, info, schema };
}

/** ERR_Packet. */
export interface Err {
  code: number;
  sqlState: string | null;
  message: string;
}

export function parseErr(p: Uint8Array, caps: number): Err | null {
  const r = new ByteReader(p, 1);
  const code = r.u16();
  if (!r.ok) return null;
  let sqlState: string | null = null;
  if (caps & Cap.Protocol41 && r.remaining >= 6 && p[r.pos] === 0x23) {
    r.skip(1); // '#'
    sqlState = text(r.bytes(5));
  }
  return { code, sqlState, message: text(r.rest()) };
}

/** EOF_Packet: 0xfe, warnings, status (5 bytes with PROTOCOL_41). */
export function parseEof(p: Uint8Array): { warnings: number; status: number } {
  const r = new ByteReader(p, 1);
  const warnings = r.u16();
  const status = r.u16();
  return { warnings, status };
}

/**
 * Does this packet end a row sequence? 0xfe starts the EOF_Packet (5 bytes) or, under
 * CLIENT_DEPRECATE_EOF, the OK_Packet that replaces it (any length below 0xffffff); a row can
 * start with 0xfe only as an 8-byte length, so it is at least 9 bytes long. `deprecateEof` null:
 * not known yet (a capture that started mid-connection).
 */
export function isTerminator(p: Uint8Array, length: number, deprecateEof: boolean | null): boolean {
  if (p[0] !== Header.Eof) return false;
  return deprecateEof === true ? length < MAX_PACKET : length < EOF_MAX_LENGTH;
}

/** COM_STMT_PREPARE_OK. */
export interface PrepareOk {
  statementId: number;
  columns: number;
  params: number;
  warnings: number;
}

export function parsePrepareOk(p: Uint8Array): PrepareOk | null {
  const r = new ByteReader(p, 1);
  const statementId = r.u32();
  const columns = r.u16();
  const params = r.u16();
  r.skip(1);
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  if (!r.ok) return null;
  return { statementId, columns, params, warnings };
}

/** COM_STMT_EXECUTE, with its parameters decoded when their types are known. */
export interface Execute {
  statementId: number;
  flags: number;
  /** Parameter types (type | unsigned flag << 8) sent with this execute, or null when not sent. */
  types: number[] | null;
  /** Values as text (null for SQL NULL), or null when they could not be decoded. */
  values: (string | null)[] | null;
  /** Offset just past the last value read (the packet's end when the parameter count was right). */
  end?: number;
}

/**
 * `paramCount` comes from the prepare response; `knownTypes` from an earlier execute of the same
 * statement (types are sent only when new-params-bound-flag is set).
 */
export function parseExecute(p: Uint8Array, paramCount: number | null, knownTypes: number[] | null, queryAttributes: boolean): Execute | null {
  const r = new ByteReader(p, 1);
  const statementId = r.u32();
  const flags = r.u8();
  r.skip(4); // iteration count (always 1)
  if (!r.ok) return null;
  let count = paramCount;
  if (queryAttributes && (flags & 0x08 || (paramCount ?? 0) > 0)) {
    // PARAMETER_COUNT_AVAILABLE: the count (params + query attributes) is sent.
    const n = r.lenenc();
    if (n >= 0) count = n;
  }
  if (count === null) return { statementId, flags, types: null, values: null };
  if (count === 0) return { statementId, flags, types: null, values: [] };
  const nullBitmap = r.bytes((count + 7) >> 3);
  const newBound = r.u8();
  let types = knownTypes;
  if (newBound === 1) {
    types = [];
    for (let i = 0; i < count; i++) {
      types.push(r.u16());
      if (queryAttributes) r.lenencBytes(); // parameter name
    }
  }
  if (!r.ok || types === null || types.length !== count) return { statementId, flags, types: newBound === 1 ? types : null, values: null };
  const values: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (nullBitmap[i >> 3]! & (1 << (i & 7))) {
      values.push(null);
      continue;
    }
    if ((types[i]! & 0xff) === ColumnType.Null) {
      values.push(null); // MYSQL_TYPE_NULL: no value bytes, SQL NULL
      continue;
    }
    const v = binaryValue(r, types[i]!);
    if (!r.ok || v === undefined) return { statementId, flags, types: newBound === 1 ? types : null, values: null };
    values.push(v);
  }
  return { statementId, flags, types: newBound === 1 ? types : null, values, end: r.pos };
}

/** One binary-protocol value as text; undefined for a type this decoder does not know. */
export function binaryValue(r: ByteReader, typeAndFlags: number): string | undefined {
  const type = typeAndFlags & 0xff;
  const unsigned = (typeAndFlags & 0x8000) !== 0;
  switch (type) {
    case ColumnType.Tiny: {
      const v = r.u8();
      return String(unsigned ? v : (v << 24) >> 24);
    }
    case ColumnType.Short:
    case ColumnType.Year: {
      const v = r.u16();
      return String(unsigned ? v : (v << 16) >> 16);
    }
    case ColumnType.Long:
    case ColumnType.Int24: {
      const v = r.u32();
      return String(unsigned ? v : v | 0);
    }
    case ColumnType.LongLong: {
      const lo = BigInt(r.u32());
      const hi = BigInt(r.u32());
      const v = (hi << 32n) | lo;
      return String(unsigned ? v : BigInt.asIntN(64, v));
    }
    case ColumnType.Float: {
      const b = r.bytes(4);
      // Shortest text that reads back as the same single-precision value (0.1, not 0.10000000149011612).
      return b.length === 4 ? shortestFloat32(new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true)) : undefined;
    }
    case ColumnType.Double: {
      const b = r.bytes(8);
      return b.length === 8 ? String(new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true)) : undefined;
    }
    case ColumnType.Null:
      return 'NULL';
    case ColumnType.Date:
    case ColumnType.DateTime:
    case ColumnType.Timestamp: {
      const n = r.u8();
      const y = n >= 4 ? r.u16() : 0;
      const mo = n >= 4 ? r.u8() : 0;
      const d = n >= 4 ? r.u8() : 0;
      const h = n >= 7 ? r.u8() : 0;
      const mi = n >= 7 ? r.u8() : 0;
      const s = n >= 7 ? r.u8() : 0;
      const us = n >= 11 ? r.u32() : 0;
      const date = `${String(y).padStart(4, '0')}-${pad(mo)}-${pad(d)}`;
      if (type === ColumnType.Date) return date;
      return `${date} ${pad(h)}:${pad(mi)}:${pad(s)}${us ? `.${String(us).padStart(6, '0')}` : ''}`;
    }
    case ColumnType.Time: {
      const n = r.u8();
      const neg = n >= 8 ? r.u8() : 0;
      const days = n >= 8 ? r.u32() : 0;
      const h = n >= 8 ? r.u8() : 0;
      const mi = n >= 8 ? r.u8() : 0;
      const s = n >= 8 ? r.u8() : 0;
      const us = n >= 12 ? r.u32() : 0;
      return `${neg ? '-' : ''}${pad(days * 24 + h)}:${pad(mi)}:${pad(s)}${us ? `.${String(us).padStart(6, '0')}` : ''}`;
    }
    case ColumnType.Decimal:
    case ColumnType.NewDecimal:
    case ColumnType.Varchar:
    case ColumnType.Bit:
    case ColumnType.Json:
    case ColumnType.Enum:
    case ColumnType.Set:
    case ColumnType.TinyBlob:
    case ColumnType.MediumBlob:
    case ColumnType.LongBlob:
    case ColumnType.Blob:
    case ColumnType.VarString:
    case ColumnType.String:
    case ColumnType.Geometry:
      return text(r.lenencBytes());
    default:
      return undefined;
  }
}

const pad = (n: number): string => String(n).padStart(2, '0');

function shortestFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let digits = 1; digits <= 9; digits++) {
    const s = v.toPrecision(digits);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** MYSQL_TYPE_* names (without the prefix), as the MySQL documentation writes them. */
export const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'DECIMAL', 0x01: 'TINY', 0x02: 'SHORT', 0x03: 'LONG', 0x04: 'FLOAT', 0x05: 'DOUBLE', 0x06: 'NULL', 0x07: 'TIMESTAMP',
  0x08: 'LONGLONG', 0x09: 'INT24', 0x0a: 'DATE', 0x0b: 'TIME', 0x0c: 'DATETIME', 0x0d: 'YEAR', 0x0e: 'NEWDATE', 0x0f: 'VARCHAR',
  0x10: 'BIT', 0x11: 'TIMESTAMP2', 0x12: 'DATETIME2', 0x13: 'TIME2', 0xf5: 'JSON', 0xf6: 'NEWDECIMAL', 0xf7: 'ENUM', 0xf8: 'SET',
  0xf9: 'TINY_BLOB', 0xfa: 'MEDIUM_BLOB', 0xfb: 'LONG_BLOB', 0xfc: 'BLOB', 0xfd: 'VAR_STRING', 0xfe: 'STRING', 0xff: 'GEOMETRY',
};

/**
 * The parameters of a COM_STMT_EXECUTE whose PREPARE the capture never saw: the count is not on
 * the wire, but when the client sends the types (new-params-bound flag, which most connectors set
 * on every execute), only the right count makes null bitmap, flag, types and values end exactly at
 * the packet's end. The smallest such count; null when none fits (types not sent) or with query
 * attributes (their names make the layout another).
 */
export function inferExecuteParams(p: Uint8Array): { count: number; types: number[] } | null {
  if (p.length === 10) return { count: 0, types: [] };
  for (let n = 1; 10 + ((n + 7) >> 3) + 1 + 2 * n <= p.length && n <= 4096; n++) {
    const x = parseExecute(p, n, null, false);
    if (x === null || x.values === null || x.types === null || x.end !== p.length) continue;
    if (!x.types.every((t) => TYPE_NAMES[t & 0xff] !== undefined && (t & 0x7f00) === 0)) continue;
    return { count: n, types: x.types.map((t) => t & 0xff) };
  }
  return null;
}

/** A column definition (Protocol::ColumnDefinition41): `table.column` by their original names (the aliases when none). */
export function columnName(p: Uint8Array): string | null {
  const r = new ByteReader(p, 0);
  r.lenencBytes(); // catalog
  r.lenencBytes(); // schema
  const table = r.lenencBytes();
  const orgTable = r.lenencBytes();
  const name = r.lenencBytes();
  const orgName = r.lenencBytes();
  if (!r.ok) return null;
  const t = text(orgTable.length ? orgTable : table);
  const c = text(orgName.length ? orgName : name);
  return t ? `${t}.${c}` : c;
}

/**
 * MySQL wire packets for tests.
 *
 * Packet framing: int<3> payload length (LE) | int<1> sequence id | payload.
 *
 * Every builder below writes one payload (or one framed packet where it says so) in the wire
 * order of the MySQL documentation ("Client/Server Protocol"), annotated next to the code. Nothing
 * is validated: tests pass odd values on purpose.
 */
import { execFileSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { ByteWriter, ascii, concat } from './bytes.js';

export function mysqlPacket(seq: number, payload: Uint8Array): Uint8Array {
  return new ByteWriter(true)
    .u8(payload.length & 0xff)
    .u8((payload.length >> 8) & 0xff)
    .u8((payload.length >> 16) & 0xff)
    .u8(seq)
    .bytes(payload)
    .toBytes();
}

export interface GreetingOptions {
  protocol?: number;
  version?: string | Uint8Array;
  connectionId?: number;
  /** Filler byte after auth-plugin-data part 1 (0 in a real greeting). */
  filler?: number;
  capabilities?: number;
  charset?: number;
  status?: number;
  authPlugin?: string;
  seq?: number;
}

/**
 * Protocol::HandshakeV10:
 *   int<1> protocol version (10) | string<NUL> server version | int<4> connection id |
 *   string[8] auth-plugin-data part 1 | int<1> filler (0) | int<2> capabilities (low) |
 *   int<1> character set | int<2> status flags | int<2> capabilities (high) |
 *   int<1> auth-plugin-data length | string[10] reserved | string[13] auth-plugin-data part 2 |
 *   string<NUL> auth plugin name
 */
export function handshakeV10(o: GreetingOptions = {}): Uint8Array {
  const caps = o.capabilities ?? 0xdfffffff;
  const version = typeof o.version === 'string' || o.version === undefined ? ascii(o.version ?? '8.0.36') : o.version;
  const body = new ByteWriter(true)
    .u8(o.protocol ?? 10)
    .bytes(version)
    .u8(0)
    .u32(o.connectionId ?? 1)
    .bytes(ascii('abcdefgh'))
    .u8(o.filler ?? 0)
    .u16(caps & 0xffff)
    .u8(o.charset ?? 255)
    .u16(o.status ?? 0x0002)
    .u16(caps >>> 16)
    .u8(21)
    .zeros(10)
    .bytes(ascii('ijklmnopqrst'))
    .u8(0)
    .bytes(ascii(o.authPlugin ?? 'caching_sha2_password'))
    .u8(0)
    .toBytes();
  return mysqlPacket(o.seq ?? 0, body);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Basic types
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** int<lenenc>: < 0xfb itself; 0xfc + int<2>; 0xfd + int<3>; 0xfe + int<8>. */
export function lenenc(n: number | bigint): Uint8Array {
  const v = BigInt(n);
  const w = new ByteWriter(true);
  if (v < 0xfbn) w.u8(Number(v));
  else if (v <= 0xffffn) w.u8(0xfc).u16(Number(v));
  else if (v <= 0xffffffn) w.u8(0xfd).u8(Number(v & 0xffn)).u16(Number(v >> 8n));
  else w.u8(0xfe).u64(v);
  return w.toBytes();
}

const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? ascii(s) : s);

/** string<lenenc>. */
export function lenencStr(s: string | Uint8Array): Uint8Array {
  const b = bytesOf(s);
  return concat(lenenc(b.length), b);
}

/** string<NUL>. */
export function nulStr(s: string | Uint8Array): Uint8Array {
  return concat(bytesOf(s), [0]);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Connection phase
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Capabilities (CLIENT_*), as in src/mysql/constants.ts (const enums are not visible at run time in tests that build bytes). */
export const CAP = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  COMPRESS: 0x20,
  LOCAL_FILES: 0x80,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
  ZSTD_COMPRESSION_ALGORITHM: 0x4000000,
  QUERY_ATTRIBUTES: 0x8000000,
} as const;

/** What a MySQL 8 client (libmysqlclient) announces, without DEPRECATE_EOF/QUERY_ATTRIBUTES/SESSION_TRACK. */
export const CLIENT_BASE_CAPS =
  CAP.LONG_PASSWORD | CAP.LONG_FLAG | CAP.LOCAL_FILES | CAP.PROTOCOL_41 | CAP.TRANSACTIONS | CAP.SECURE_CONNECTION | CAP.MULTI_STATEMENTS | CAP.MULTI_RESULTS | CAP.PS_MULTI_RESULTS | CAP.PLUGIN_AUTH | CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA | CAP.CONNECT_ATTRS;

export interface FullGreetingOptions {
  protocol?: number;
  version?: string;
  connectionId?: number;
  /** All 32 capability bits. */
  capabilities?: number;
  /** MariaDB extended capabilities: written in the last 4 reserved bytes (the server must clear CLIENT_LONG_PASSWORD). */
  mariaCapabilities?: number;
  charset?: number;
  status?: number;
  /** Length of the whole auth-plugin-data (21 for 8+13). */
  authDataLength?: number;
  /** null: no plugin name at all. */
  authPlugin?: string | null;
  /** Leave out the NUL after the plugin name (some servers do). */
  pluginWithoutNul?: boolean;
  /** Stop after the lower capability flags (a pre-4.1 greeting). */
  short?: boolean;
}

/** Protocol::HandshakeV10 payload (unframed), with MariaDB's extended capabilities. */
export function greetingPayload(o: FullGreetingOptions = {}): Uint8Array {
  const caps = o.capabilities ?? 0xdfffffff;
  const w = new ByteWriter(true)
    .u8(o.protocol ?? 10)
    .bytes(nulStr(o.version ?? '8.0.36'))
    .u32(o.connectionId ?? 1)
    .bytes(ascii('abcdefgh')) // auth-plugin-data part 1
    .u8(0) // filler
    .u16(caps & 0xffff);
  if (o.short) return w.toBytes();
  const authLen = o.authDataLength ?? 21;
  w.u8(o.charset ?? 255)
    .u16(o.status ?? 0x0002)
    .u16(caps >>> 16)
    .u8(authLen)
    .zeros(6) // reserved
    .u32(o.mariaCapabilities ?? 0); // reserved, or MariaDB's extended capabilities
  if (caps & CAP.SECURE_CONNECTION) w.bytes(ascii('ijklmnopqrstuvwxyz'.slice(0, Math.max(13, authLen - 8) - 1))).u8(0);
  if (o.authPlugin !== null) {
    w.bytes(ascii(o.authPlugin ?? 'caching_sha2_password'));
    if (!o.pluginWithoutNul) w.u8(0);
  }
  return w.toBytes();
}

export interface HandshakeResponseOptions {
  capabilities?: number;
  /** MariaDB extended client capabilities (in the last 4 filler bytes; CLIENT_LONG_PASSWORD must be clear). */
  mariaCapabilities?: number;
  maxPacket?: number;
  charset?: number;
  user?: string;
  authResponse?: Uint8Array;
  database?: string;
  authPlugin?: string;
  attributes?: Record<string, string>;
  /** With CLIENT_ZSTD_COMPRESSION_ALGORITHM: the zstd compression level (default 3). */
  zstdLevel?: number;
}

/**
 * Protocol::HandshakeResponse41:
 *   int<4> client capabilities | int<4> max packet size | int<1> charset | string[19] filler |
 *   int<4> filler, or MariaDB's extended capabilities | string<NUL> user |
 *   auth response (string<lenenc> with PLUGIN_AUTH_LENENC_CLIENT_DATA, else int<1> length + bytes
 *   with SECURE_CONNECTION, else string<NUL>) | [string<NUL> database] | [string<NUL> plugin] |
 *   [int<lenenc> length of attributes, then key/value string<lenenc> pairs] |
 *   [int<1> zstd compression level, with CLIENT_ZSTD_COMPRESSION_ALGORITHM]
 */
export function handshakeResponse41(o: HandshakeResponseOptions = {}): Uint8Array {
  const caps = (o.capabilities ?? CLIENT_BASE_CAPS | (o.database !== undefined ? CAP.CONNECT_WITH_DB : 0)) >>> 0;
  const auth = o.authResponse ?? Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);
  const w = new ByteWriter(true)
    .u32(caps)
    .u32(o.maxPacket ?? 0x1000000)
    .u8(o.charset ?? 255)
    .zeros(19)
    .u32(o.mariaCapabilities ?? 0)
    .bytes(nulStr(o.user ?? 'app'));
  if (caps & CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA) w.bytes(lenencStr(auth));
  else if (caps & CAP.SECURE_CONNECTION) w.u8(auth.length).bytes(auth);
  else w.bytes(nulStr(auth));
  if (caps & CAP.CONNECT_WITH_DB) w.bytes(nulStr(o.database ?? ''));
  if (caps & CAP.PLUGIN_AUTH) w.bytes(nulStr(o.authPlugin ?? 'caching_sha2_password'));
  if (caps & CAP.CONNECT_ATTRS) {
    const attrs = concat(...Object.entries(o.attributes ?? { _client_name: 'libmysql' }).flatMap(([k, v]) => [lenencStr(k), lenencStr(v)]));
    w.bytes(lenenc(attrs.length)).bytes(attrs);
  }
  if (caps & CAP.ZSTD_COMPRESSION_ALGORITHM) w.u8(o.zstdLevel ?? 3);
  return w.toBytes();
}

/** Protocol::HandshakeResponse320: int<2> capabilities | int<3> max packet | string<NUL> user | auth (| database). */
export function handshakeResponse320(o: { capabilities?: number; maxPacket?: number; user?: string; auth?: string; database?: string } = {}): Uint8Array {
  const caps = o.capabilities ?? CAP.LONG_PASSWORD | CAP.TRANSACTIONS | (o.database !== undefined ? CAP.CONNECT_WITH_DB : 0);
  const w = new ByteWriter(true).u16(caps & 0xffff).u8((o.maxPacket ?? 0xffffff) & 0xff).u16(((o.maxPacket ?? 0xffffff) >>> 8) & 0xffff);
  w.bytes(nulStr(o.user ?? 'old'));
  if (caps & CAP.CONNECT_WITH_DB) w.bytes(nulStr(o.auth ?? 'scrambl')).bytes(nulStr(o.database ?? ''));
  else w.bytes(ascii(o.auth ?? 'scrambl'));
  return w.toBytes();
}

/** Protocol::SSLRequest: the first 32 bytes of HandshakeResponse41, with CLIENT_SSL. */
export function sslRequest(caps = CLIENT_BASE_CAPS | CAP.SSL): Uint8Array {
  return new ByteWriter(true).u32(caps).u32(0x1000000).u8(255).zeros(23).toBytes();
}

/** Protocol::AuthSwitchRequest: 0xfe | string<NUL> plugin | string<EOF> plugin data. */
export function authSwitch(plugin = 'mysql_native_password', data: Uint8Array = ascii('0123456789abcdefghij\0')): Uint8Array {
  return concat([0xfe], nulStr(plugin), data);
}

/** Protocol::AuthMoreData: 0x01 | data (caching_sha2: 0x03 fast auth ok, 0x04 full auth required). */
export function authMoreData(data: Uint8Array | number[]): Uint8Array {
  return concat([0x01], data);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Generic responses
// ──────────────────────────────────────────────────────────────────────────────────────────────

export interface OkOptions {
  /** 0x00 (OK) or 0xfe (OK that ends a result set under CLIENT_DEPRECATE_EOF). */
  header?: number;
  affectedRows?: number | bigint;
  insertId?: number | bigint;
  status?: number;
  warnings?: number;
  info?: string;
  /** Session-state changes (type, data), written after `info` with SERVER_SESSION_STATE_CHANGED. */
  sessionTrack?: { type: number; data: Uint8Array }[];
  /** Write the 4.1 layout (status + warnings), else status only (CLIENT_TRANSACTIONS, pre-4.1). */
  protocol41?: boolean;
  /** Write info as string<lenenc> (CLIENT_SESSION_TRACK) rather than string<EOF>. */
  sessionTrackCaps?: boolean;
}

/**
 * OK_Packet: header | int<lenenc> affected rows | int<lenenc> last insert id |
 *   int<2> status | int<2> warnings (4.1) | info (string<lenenc> with CLIENT_SESSION_TRACK, else
 *   string<EOF>) | [string<lenenc> session state changes, with SERVER_SESSION_STATE_CHANGED]
 */
export function ok(o: OkOptions = {}): Uint8Array {
  const track = o.sessionTrack ?? null;
  const status = (o.status ?? 0x0002) | (track ? 0x4000 : 0);
  const w = new ByteWriter(true)
    .u8(o.header ?? 0x00)
    .bytes(lenenc(o.affectedRows ?? 0))
    .bytes(lenenc(o.insertId ?? 0))
    .u16(status);
  if (o.protocol41 ?? true) w.u16(o.warnings ?? 0);
  const sessionCaps = o.sessionTrackCaps ?? track !== null;
  if (sessionCaps) {
    if (o.info !== undefined || track) w.bytes(lenencStr(o.info ?? ''));
    if (track) {
      const body = concat(...track.map((t) => concat([t.type], lenencStr(t.data))));
      w.bytes(lenencStr(body));
    }
  } else if (o.info) w.bytes(ascii(o.info));
  return w.toBytes();
}

/** SESSION_TRACK_SCHEMA (type 1): the data is the new schema as string<lenenc>. */
export function schemaChange(db: string): { type: number; data: Uint8Array } {
  return { type: 1, data: lenencStr(db) };
}

/** ERR_Packet: 0xff | int<2> error code | ['#' + string[5] SQL state] | string<EOF> message. */
export function err(code: number, message: string, sqlState: string | null = 'HY000'): Uint8Array {
  return concat([0xff, code & 0xff, code >> 8], sqlState === null ? [] : ascii(`#${sqlState}`), ascii(message));
}

/** EOF_Packet (4.1): 0xfe | int<2> warnings | int<2> status. */
export function eof(status = 0x0002, warnings = 0): Uint8Array {
  return new ByteWriter(true).u8(0xfe).u16(warnings).u16(status).toBytes();
}

/** The OK that ends a result set under CLIENT_DEPRECATE_EOF (header 0xfe). */
export function okEof(status = 0x0002, warnings = 0): Uint8Array {
  return ok({ header: 0xfe, status, warnings });
}

/** Column count of a result set (int<lenenc>; MariaDB with cached metadata adds a flag byte). */
export function columnCount(n: number): Uint8Array {
  return lenenc(n);
}

/** Protocol::ColumnDefinition41: catalog "def", schema, table, org_table, name, org_name, fixed fields. */
export function columnDef(name: string, type = 0xfd, opts: { table?: string; flags?: number } = {}): Uint8Array {
  return concat(
    lenencStr('def'),
    lenencStr('db'),
    lenencStr(opts.table ?? 't'),
    lenencStr(opts.table ?? 't'),
    lenencStr(name),
    lenencStr(name),
    new ByteWriter(true)
      .u8(0x0c)
      .u16(255) // charset
      .u32(1024) // column length
      .u8(type)
      .u16(opts.flags ?? 0)
      .u8(0) // decimals
      .u16(0) // filler
      .toBytes(),
  );
}

/** A text-protocol row: each value string<lenenc>, NULL as 0xfb. */
export function textRow(...values: (string | null)[]): Uint8Array {
  return concat(...values.map((v) => (v === null ? Uint8Array.of(0xfb) : lenencStr(v))));
}

/** A binary-protocol row of one LONG column: 0x00 | NULL bitmap (offset 2) | int<4>. */
export function binaryRowLong(v: number): Uint8Array {
  return new ByteWriter(true).u8(0x00).u8(0).u32(v).toBytes();
}

/** LOCAL INFILE request: 0xfb | string<EOF> file name. */
export function localInfileRequest(file: string): Uint8Array {
  return concat([0xfb], ascii(file));
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Commands
// ──────────────────────────────────────────────────────────────────────────────────────────────

export const COM = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  SHUTDOWN: 0x08,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  TIME: 0x0f,
  DELAYED_INSERT: 0x10,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
  TABLE_DUMP: 0x13,
  CONNECT_OUT: 0x14,
  REGISTER_SLAVE: 0x15,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  DAEMON: 0x1d,
  BINLOG_DUMP_GTID: 0x1e,
  RESET_CONNECTION: 0x1f,
  CLONE: 0x20,
} as const;

/** A command byte and its argument. */
export function com(cmd: number, arg: string | Uint8Array | number[] = new Uint8Array(0)): Uint8Array {
  return concat([cmd], typeof arg === 'string' ? ascii(arg) : arg);
}

/** COM_QUERY; with `attributes`, the CLIENT_QUERY_ATTRIBUTES prefix (parameter count, set count, params). */
export function comQuery(sql: string | Uint8Array, attributes?: BinaryParam[]): Uint8Array {
  if (attributes === undefined) return com(COM.QUERY, sql);
  const w = new ByteWriter(true).u8(COM.QUERY).bytes(lenenc(attributes.length)).bytes(lenenc(1));
  if (attributes.length > 0) w.bytes(paramBlock(attributes, true));
  return concat(w.toBytes(), bytesOf(sql));
}

/** int<4> for the statement commands. */
export function stmtCommand(cmd: number, stmtId: number, rest: Uint8Array | number[] = []): Uint8Array {
  return concat(new ByteWriter(true).u8(cmd).u32(stmtId).toBytes(), rest);
}

/** COM_STMT_PREPARE_OK: 0x00 | int<4> statement id | int<2> columns | int<2> params | 0x00 | int<2> warnings. */
export function prepareOk(stmtId: number, columns: number, params: number, warnings = 0): Uint8Array {
  return new ByteWriter(true).u8(0).u32(stmtId).u16(columns).u16(params).u8(0).u16(warnings).toBytes();
}

/** A parameter of COM_STMT_EXECUTE: its type (MYSQL_TYPE_*), unsigned flag, value bytes, and name. */
export interface BinaryParam {
  type: number;
  unsigned?: boolean;
  /** The binary value (null: SQL NULL, set in the NULL bitmap). */
  value: Uint8Array | null;
  /** Parameter name (written only with query attributes). */
  name?: string;
}

/** The NULL bitmap, new-params-bound flag, types (and names with query attributes) and values. */
export function paramBlock(params: BinaryParam[], queryAttributes: boolean, sendTypes = true): Uint8Array {
  const bitmap = new Uint8Array((params.length + 7) >> 3);
  params.forEach((p, i) => {
    if (p.value === null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const w = new ByteWriter(true).bytes(bitmap).u8(sendTypes ? 1 : 0);
  if (sendTypes) {
    for (const p of params) {
      w.u16(p.type | (p.unsigned ? 0x8000 : 0));
      if (queryAttributes) w.bytes(lenencStr(p.name ?? ''));
    }
  }
  for (const p of params) if (p.value !== null) w.bytes(p.value);
  return w.toBytes();
}

export interface ExecuteOptions {
  stmtId: number;
  /** Cursor flags (CURSOR_TYPE_READ_ONLY = 1), PARAMETER_COUNT_AVAILABLE = 8. */
  flags?: number;
  params?: BinaryParam[];
  /** new-params-bound-flag (default 1). */
  sendTypes?: boolean;
  /** CLIENT_QUERY_ATTRIBUTES: parameter_count (lenenc) before the bitmap and names after types. */
  queryAttributes?: boolean;
}

/**
 * COM_STMT_EXECUTE: 0x17 | int<4> statement id | int<1> flags | int<4> iteration count (1) |
 *   [int<lenenc> parameter count, with query attributes] | NULL bitmap | int<1> new-params-bound |
 *   types (int<2> each, + string<lenenc> name with query attributes) | values
 */
export function stmtExecute(o: ExecuteOptions): Uint8Array {
  const params = o.params ?? [];
  const qa = o.queryAttributes ?? false;
  const w = new ByteWriter(true)
    .u8(COM.STMT_EXECUTE)
    .u32(o.stmtId)
    .u8(o.flags ?? 0)
    .u32(1);
  if (qa) w.bytes(lenenc(params.length));
  if (params.length > 0) w.bytes(paramBlock(params, qa, o.sendTypes ?? true));
  return w.toBytes();
}

/** Binary protocol values (ProtocolBinary::*), for parameters and rows. */
export const bin = {
  tiny: (v: number): BinaryParam => ({ type: 0x01, value: Uint8Array.of(v & 0xff) }),
  short: (v: number): BinaryParam => ({ type: 0x02, value: new ByteWriter(true).u16(v & 0xffff).toBytes() }),
  long: (v: number): BinaryParam => ({ type: 0x03, value: new ByteWriter(true).u32(v >>> 0).toBytes() }),
  int24: (v: number): BinaryParam => ({ type: 0x09, value: new ByteWriter(true).u32(v >>> 0).toBytes() }),
  year: (v: number): BinaryParam => ({ type: 0x0d, value: new ByteWriter(true).u16(v).toBytes() }),
  longlong: (v: bigint): BinaryParam => ({ type: 0x08, value: new ByteWriter(true).u64(v).toBytes() }),
  float: (v: number): BinaryParam => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return { type: 0x04, value: b };
  },
  double: (v: number): BinaryParam => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return { type: 0x05, value: b };
  },
  null: (type = 0x06): BinaryParam => ({ type, value: null }),
  /** MYSQL_TYPE_NULL written as a type with no value and no NULL bit (some clients do this). */
  nullType: (): BinaryParam => ({ type: 0x06, value: new Uint8Array(0) }),
  string: (s: string | Uint8Array, type = 0xfd): BinaryParam => ({ type, value: lenencStr(s) }),
  /** DATE / DATETIME / TIMESTAMP: int<1> length (0, 4, 7 or 11) then the fields present. */
  datetime: (type: number, parts: number[]): BinaryParam => {
    const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, us = 0] = parts;
    const len = parts.length === 0 ? 0 : parts.length <= 3 ? 4 : parts.length <= 6 ? 7 : 11;
    const w = new ByteWriter(true).u8(len);
    if (len >= 4) w.u16(y).u8(mo).u8(d);
    if (len >= 7) w.u8(h).u8(mi).u8(s);
    if (len >= 11) w.u32(us);
    return { type, value: w.toBytes() };
  },
  /** TIME: int<1> length (0, 8 or 12) | int<1> negative | int<4> days | h | m | s | [int<4> µs]. */
  time: (neg: boolean, days: number, h: number, mi: number, s: number, us?: number): BinaryParam => {
    const zero = !neg && days === 0 && h === 0 && mi === 0 && s === 0 && !us;
    if (zero) return { type: 0x0b, value: Uint8Array.of(0) };
    const w = new ByteWriter(true).u8(us ? 12 : 8).u8(neg ? 1 : 0).u32(days).u8(h).u8(mi).u8(s);
    if (us) w.u32(us);
    return { type: 0x0b, value: w.toBytes() };
  },
  unsigned: (p: BinaryParam): BinaryParam => ({ ...p, unsigned: true }),
  named: (name: string, p: BinaryParam): BinaryParam => ({ ...p, name }),
};

/** How a compressed-protocol packet carries its payload: zlib, zstd (the `zstd` command), or as is. */
export type CompressedForm = 'zlib' | 'zstd' | 'raw';

/**
 * One packet of the compressed protocol: int<3> compressed length | int<1> compressed sequence
 * id | int<3> uncompressed length (0 when sent as is) | payload (the inner MySQL packets' bytes,
 * compressed or not). zstd uses the real `zstd` command-line encoder.
 */
export function compressedPacket(seq: number, inner: Uint8Array, form: CompressedForm): Uint8Array {
  const payload = form === 'raw' ? inner : form === 'zlib' ? new Uint8Array(deflateSync(inner)) : new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3'], { input: inner }));
  const raw = form === 'raw' ? 0 : inner.length;
  return new ByteWriter(true)
    .u8(payload.length & 0xff)
    .u8((payload.length >> 8) & 0xff)
    .u8((payload.length >> 16) & 0xff)
    .u8(seq & 0xff)
    .u8(raw & 0xff)
    .u8((raw >> 8) & 0xff)
    .u8((raw >> 16) & 0xff)
    .bytes(payload)
    .toBytes();
}

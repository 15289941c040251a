/**
 * MySQL client/server protocol constants, named once (MySQL Server developer documentation,
 * "Client/Server Protocol"; MariaDB's extensions where noted).
 */

/** Command bytes (COM_*), the first byte of a client packet with sequence id 0. */
export const enum Com {
  Sleep = 0x00,
  Quit = 0x01,
  InitDb = 0x02,
  Query = 0x03,
  FieldList = 0x04,
  CreateDb = 0x05,
  DropDb = 0x06,
  Refresh = 0x07,
  Shutdown = 0x08,
  Statistics = 0x09,
  ProcessInfo = 0x0a,
  Connect = 0x0b,
  ProcessKill = 0x0c,
  Debug = 0x0d,
  Ping = 0x0e,
  Time = 0x0f,
  DelayedInsert = 0x10,
  ChangeUser = 0x11,
  BinlogDump = 0x12,
  TableDump = 0x13,
  ConnectOut = 0x14,
  RegisterSlave = 0x15,
  StmtPrepare = 0x16,
  StmtExecute = 0x17,
  StmtSendLongData = 0x18,
  StmtClose = 0x19,
  StmtReset = 0x1a,
  SetOption = 0x1b,
  StmtFetch = 0x1c,
  Daemon = 0x1d,
  BinlogDumpGtid = 0x1e,
  ResetConnection = 0x1f,
  Clone = 0x20,
  /** MariaDB: COM_STMT_BULK_EXECUTE. */
  StmtBulkExecute = 0xfa,
}

const COMMAND_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'sleep'],
  [0x01, 'quit'],
  [0x02, 'init_db'],
  [0x03, 'query'],
  [0x04, 'field_list'],
  [0x05, 'create_db'],
  [0x06, 'drop_db'],
  [0x07, 'refresh'],
  [0x08, 'shutdown'],
  [0x09, 'statistics'],
  [0x0a, 'process_info'],
  [0x0b, 'connect_internal'], // COM_CONNECT, server-internal: not 'connect', which names a login
  [0x0c, 'process_kill'],
  [0x0d, 'debug'],
  [0x0e, 'ping'],
  [0x0f, 'time'],
  [0x10, 'delayed_insert'],
  [0x11, 'change_user'],
  [0x12, 'binlog_dump'],
  [0x13, 'table_dump'],
  [0x14, 'connect_out'],
  [0x15, 'register_slave'],
  [0x16, 'stmt_prepare'],
  [0x17, 'stmt_execute'],
  [0x18, 'stmt_send_long_data'],
  [0x19, 'stmt_close'],
  [0x1a, 'stmt_reset'],
  [0x1b, 'set_option'],
  [0x1c, 'stmt_fetch'],
  [0x1d, 'daemon'],
  [0x1e, 'binlog_dump_gtid'],
  [0x1f, 'reset_connection'],
  [0x20, 'clone'],
  [0xfa, 'stmt_bulk_execute'],
]);

/** COMMAND_NAMES by byte (one array read per command, not a Map lookup). */
const COMMAND_BY_BYTE: readonly (string | null)[] = Array.from({ length: 256 }, (_, b) => COMMAND_NAMES.get(b) ?? null);

/** The command's name in lower case without `COM_`, or null for an unknown byte. */
export function commandName(b: number): string | null {
  return COMMAND_BY_BYTE[b & 0xff]!;
}

/** Capability flags (CLIENT_*), 32 bits; MariaDB's extended flags live in the upper 32. */
export const enum Cap {
  LongPassword = 0x1,
  FoundRows = 0x2,
  LongFlag = 0x4,
  ConnectWithDb = 0x8,
  NoSchema = 0x10,
  Compress = 0x20,
  Odbc = 0x40,
  LocalFiles = 0x80,
  IgnoreSpace = 0x100,
  Protocol41 = 0x200,
  Interactive = 0x400,
  Ssl = 0x800,
  IgnoreSigpipe = 0x1000,
  Transactions = 0x2000,
  Reserved = 0x4000,
  SecureConnection = 0x8000,
  MultiStatements = 0x10000,
  MultiResults = 0x20000,
  PsMultiResults = 0x40000,
  PluginAuth = 0x80000,
  ConnectAttrs = 0x100000,
  PluginAuthLenencClientData = 0x200000,
  CanHandleExpiredPasswords = 0x400000,
  SessionTrack = 0x800000,
  DeprecateEof = 0x1000000,
  OptionalResultsetMetadata = 0x2000000,
  ZstdCompression = 0x4000000,
  QueryAttributes = 0x8000000,
  MultiFactorAuth = 0x10000000,
}

/** MariaDB extended capabilities (bits 32..63), as the high word. */
export const enum MariaCap {
  Progress = 0x1,
  ComMulti = 0x2,
  StmtBulkOperations = 0x4,
  ExtendedTypeInfo = 0x8,
  CacheMetadata = 0x10,
}

/** Server status flags (SERVER_*), in OK and EOF packets. */
export const enum Status {
  InTrans = 0x1,
  Autocommit = 0x2,
  MoreResultsExists = 0x8,
  NoGoodIndexUsed = 0x10,
  NoIndexUsed = 0x20,
  CursorExists = 0x40,
  LastRowSent = 0x80,
  DbDropped = 0x100,
  NoBackslashEscapes = 0x200,
  MetadataChanged = 0x400,
  QueryWasSlow = 0x800,
  PsOutParams = 0x1000,
  InTransReadonly = 0x2000,
  SessionStateChanged = 0x4000,
}

/** Column types (MYSQL_TYPE_*), for binary-protocol parameter and row values. */
export const enum ColumnType {
  Decimal = 0x00,
  Tiny = 0x01,
  Short = 0x02,
  Long = 0x03,
  Float = 0x04,
  Double = 0x05,
  Null = 0x06,
  Timestamp = 0x07,
  LongLong = 0x08,
  Int24 = 0x09,
  Date = 0x0a,
  Time = 0x0b,
  DateTime = 0x0c,
  Year = 0x0d,
  NewDate = 0x0e,
  Varchar = 0x0f,
  Bit = 0x10,
  Timestamp2 = 0x11,
  DateTime2 = 0x12,
  Time2 = 0x13,
  Json = 0xf5,
  NewDecimal = 0xf6,
  Enum = 0xf7,
  Set = 0xf8,
  TinyBlob = 0xf9,
  MediumBlob = 0xfa,
  LongBlob = 0xfb,
  Blob = 0xfc,
  VarString = 0xfd,
  String = 0xfe,
  Geometry = 0xff,
}

/**
 * The first byte of a server packet, where it says what the packet is ("Generic Response
 * Packets"). 0xfe is an EOF_Packet (under 9 bytes), the OK that replaces it under
 * CLIENT_DEPRECATE_EOF, or, during authentication, an AuthSwitchRequest.
 */
export const enum Header {
  Ok = 0x00,
  /** During authentication: AuthMoreData (caching_sha2_password's fast/full authentication). */
  AuthMoreData = 0x01,
  /** The answer to a LOAD DATA LOCAL INFILE: the server asks for a client file. */
  LocalInfile = 0xfb,
  Eof = 0xfe,
  AuthSwitch = 0xfe,
  Err = 0xff,
}

/** Length-encoded integers: a first byte below 0xfb is the value; these say what follows. */
export const enum Lenenc {
  /** NULL (in a text row), or a LOCAL INFILE request as a response's first byte. */
  Null = 0xfb,
  /** A 2-byte value follows. */
  Two = 0xfc,
  Three = 0xfd,
  Eight = 0xfe,
}

/** An EOF_Packet is shorter than this (5 bytes with PROTOCOL_41); a row starting with 0xfe is longer. */
export const EOF_MAX_LENGTH = 9;
/** An OK_Packet with PROTOCOL_41 is at least this long (header, two lenenc, status, warnings). */
export const OK_MIN_LENGTH = 7;

/** caching_sha2_password's AuthMoreData status byte. */
export const enum FastAuth {
  Success = 3,
  FullAuthentication = 4,
}

/** Largest payload of one protocol packet; a payload of exactly this size continues in the next. */
export const MAX_PACKET = 0xffffff;

/**
 * The MySQL words the lexer and the fingerprint need to recognise, looked up without making a
 * string: `keywordOf` probes a small open-addressing table at a slot computed from the word's
 * length and three of its bytes, then compares the bytes.
 *
 * Flags:
 *   RESERVED   a reserved word of MySQL 8.0 (or MariaDB): it cannot be an unquoted identifier, so a
 *              backquoted identifier spelling one must stay backquoted in a fingerprint, and a sign
 *              after it is unary (`THEN -1`);
 *   OPERAND    a reserved word that is itself a value (`CURRENT_DATE - 1`: the minus is binary);
 *   FUNC       a reserved word that is also a function name: no space before its `(` in a
 *              fingerprint (`in(?+)`, `values(…)`, `if(…)`).
 */

export const RESERVED = 1;
export const OPERAND = 2;
export const FUNC = 4;

const RESERVED_WORDS = `
accessible add all alter analyze and as asc asensitive before between bigint binary blob both by
call cascade case change char character check collate column condition constraint continue convert
create cross cube cume_dist current_date current_time current_timestamp current_user cursor database
databases day_hour day_microsecond day_minute day_second dec decimal declare default delayed delete
dense_rank desc describe deterministic distinct distinctrow div double drop dual each else elseif
empty enclosed escaped except exists exit explain false fetch first_value float float4 float8 for
force foreign from fulltext function generated get grant group grouping groups having high_priority
hour_microsecond hour_minute hour_second if ignore in index infile inner inout insensitive insert int
int1 int2 int3 int4 int8 integer intersect interval into io_after_gtids io_before_gtids is iterate
join json_table key keys kill lag last_value lateral lead leading leave left like limit linear lines
load localtime localtimestamp lock long longblob longtext loop low_priority master_bind
master_ssl_verify_server_cert match maxvalue mediumblob mediumint mediumtext middleint
minute_microsecond minute_second mod modifies natural not no_write_to_binlog nth_value ntile null
numeric of on optimize optimizer_costs option optionally or order out outer outfile over partition
percent_rank precision primary procedure purge range rank read reads read_write real recursive
references regexp release rename repeat replace require resignal restrict return revoke right rlike
row rows row_number schema schemas second_microsecond select sensitive separator set show signal
smallint spatial specific sql sqlexception sqlstate sqlwarning sql_big_result sql_calc_found_rows
sql_small_result ssl starting stored straight_join system table terminated then tinyblob tinyint
tinytext to trailing trigger true undo union unique unlock unsigned update usage use using utc_date
utc_time utc_timestamp values varbinary varchar varcharacter varying virtual when where while window
with write xor year_month zerofill returning
`;

/** Reserved words that are values, so that an operator after them is binary. */
const OPERAND_WORDS = `current_date current_time current_timestamp current_user localtime localtimestamp
utc_date utc_time utc_timestamp null true false dual`;

/** Reserved words that are also function names (`IF(…)`, `LEFT(…)`) or open a value list. */
const FUNC_WORDS = `char convert database default if in insert interval left match mod repeat replace right
row schema values current_date current_time current_timestamp current_user localtime localtimestamp
utc_date utc_time utc_timestamp bigint binary dec decimal double float float4 float8 int int1 int2 int3 int4
int8 integer mediumint middleint numeric real smallint tinyint varbinary varchar varcharacter cume_dist dense_rank
first_value grouping json_table lag last_value lead nth_value ntile percent_rank rank row_number`;

/** Words the code refers to that are not reserved. */
const OTHER_WORDS = `begin commit rollback savepoint work xa start transaction names charset session local
global persist persist_only offset duplicate value date time timestamp end truncate
call do handler prepare execute deallocate flush reset purge checksum repair cache install uninstall
help binlog tables events columns fields indexes status variables processlist view procedure
temporary server tablespace trigger event user role definer algorithm sql_no_cache sql_cache
low_priority quick ignore delayed high_priority ddl full straight_join dumpfile`;

interface KeywordInfo {
  word: string;
  flags: number;
}

export const KEYWORDS: KeywordInfo[] = [];
const idOf = new Map<string, number>();

function add(word: string, flags: number): void {
  const id = idOf.get(word);
  if (id !== undefined) {
    KEYWORDS[id - 1]!.flags |= flags;
    return;
  }
  KEYWORDS.push({ word, flags });
  idOf.set(word, KEYWORDS.length);
}

for (const w of RESERVED_WORDS.split(/\s+/)) if (w) add(w, RESERVED);
for (const w of OPERAND_WORDS.split(/\s+/)) if (w) add(w, OPERAND);
for (const w of FUNC_WORDS.split(/\s+/)) if (w) add(w, FUNC);
for (const w of OTHER_WORDS.split(/\s+/)) if (w) add(w, 0);

/** Keyword ids start at 1; 0 means "not a keyword". */
export function kw(word: string): number {
  const id = idOf.get(word);
  if (id === undefined) throw new Error(`not in the keyword table: ${word}`);
  return id;
}

/** Flags of keyword `id` (0 for id 0). */
export const KW_FLAGS = new Uint8Array(KEYWORDS.length + 1);
for (let i = 0; i < KEYWORDS.length; i++) KW_FLAGS[i + 1] = KEYWORDS[i]!.flags;

/** Longest keyword: longer words are not looked up. */
export const MAX_KEYWORD_LENGTH = Math.max(...KEYWORDS.map((k) => k.word.length));

/** ASCII lower case of a byte (others unchanged). */
export const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c + 32 : c;

const TABLE_BITS = 11;
const TABLE_SIZE = 1 << TABLE_BITS;

/**
 * Slot of a word in the keyword table, from its length and its first, second and last bytes (any
 * case): cheap enough to compute for every word the lexer sees; the bytes are compared after.
 */
export function wordSlot(b: Uint8Array, start: number, end: number): number {
  const len = end - start;
  const h = (LOWER[b[start]!]! << 16) ^ (LOWER[b[start + (len > 1 ? 1 : 0)]!]! << 8) ^ LOWER[b[end - 1]!]! ^ (len << 24);
  return Math.imul(h, 0x9e3779b1) >>> (32 - TABLE_BITS);
}

const table = new Uint16Array(TABLE_SIZE);
/** Keyword bytes, all in one array: keyword `id` is `FLAT[OFFSET[id], OFFSET[id] + LENGTH[id])`. */
const LENGTH = new Uint8Array(KEYWORDS.length + 1);
const OFFSET = new Int32Array(KEYWORDS.length + 1);
const FLAT = new Uint8Array(KEYWORDS.reduce((n, k) => n + k.word.length, 0));

{
  let o = 0;
  for (let id = 1; id <= KEYWORDS.length; id++) {
    const word = KEYWORDS[id - 1]!.word;
    LENGTH[id] = word.length;
    OFFSET[id] = o;
    for (let i = 0; i < word.length; i++) FLAT[o++] = word.charCodeAt(i);
    let slot = wordSlot(FLAT, OFFSET[id]!, o);
    while (table[slot] !== 0) slot = (slot + 1) & (TABLE_SIZE - 1);
    table[slot] = id;
  }
}

/** The keyword id of the word `b[start, end)` (any case), or 0. */
export function keywordOf(b: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len === 0 || len > MAX_KEYWORD_LENGTH) return 0;
  let slot = wordSlot(b, start, end);
  for (;;) {
    const id = table[slot]!;
    if (id === 0) return 0;
    if (LENGTH[id] === len) {
      const o = OFFSET[id]! - start;
      let i = start;
      while (i < end && LOWER[b[i]!] === FLAT[o + i]) i++;
      if (i === end) return id;
    }
    slot = (slot + 1) & (TABLE_SIZE - 1);
  }
}

/**
 * Keywords of up to 8 bytes by their bytes packed into two 32-bit words (little-endian, zero past
 * the end) and their length: an exact key, so a lookup is one slot and three compares, no loop.
 * The table has no collisions (the multiplier is chosen at load so that it has none).
 */
const PACKED_BITS = 12;
const PACKED_SIZE = 1 << PACKED_BITS;
const P_LO = new Int32Array(PACKED_SIZE);
const P_HI = new Int32Array(PACKED_SIZE);
const P_LEN = new Uint8Array(PACKED_SIZE);
const P_ID = new Uint16Array(PACKED_SIZE);
/** For a word of `len` ≤ 8 bytes: the bits of its bytes in the first word, and in the second. */
const MASK_LO = new Int32Array(9);
const MASK_HI = new Int32Array(9);
for (let len = 0; len <= 8; len++) {
  MASK_LO[len] = len >= 4 ? -1 : (1 << (8 * len)) - 1;
  MASK_HI[len] = len <= 4 ? 0 : len >= 8 ? -1 : (1 << (8 * (len - 4))) - 1;
}
let packedMul = 0x9e3779b1;

function packedSlot(lo: number, hi: number, len: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b) ^ len, packedMul) >>> (32 - PACKED_BITS);
}

{
  const word32 = (w: string, at: number): number => {
    let x = 0;
    for (let i = 0; i < 4 && at + i < w.length; i++) x |= w.charCodeAt(at + i) << (8 * i);
    return x;
  };
  const short = KEYWORDS.map((k, i) => ({ id: i + 1, w: k.word })).filter((k) => k.w.length <= 8);
  for (let attempt = 0; ; attempt++) {
    P_ID.fill(0);
    let ok = true;
    for (const { id, w } of short) {
      const lo = word32(w, 0);
      const hi = word32(w, 4);
      const slot = packedSlot(lo, hi, w.length);
      if (P_ID[slot] !== 0) {
        ok = false;
        break;
      }
      P_LO[slot] = lo;
      P_HI[slot] = hi;
      P_LEN[slot] = w.length;
      P_ID[slot] = id;
    }
    if (ok) break;
    packedMul = (Math.imul(packedMul, 0x2c1b3c6d) + 0x297a2d39) | 1; // deterministic next candidate
    if (attempt > 10000) throw new Error('no collision-free keyword table');
  }
}

/**
 * `keywordOf` of a word already lower-cased in `buf[w, w + len)`, `view` a DataView over `buf`
 * (offset 0 = buf[0]) with at least 8 bytes readable from `w`.
 */
export function keywordOfLower(buf: Uint8Array, view: DataView, w: number, len: number): number {
  if (len > 8) return keywordOf(buf, w, w + len);
  const lo = view.getInt32(w, true) & MASK_LO[len]!;
  const hi = view.getInt32(w + 4, true) & MASK_HI[len]!;
  const slot = packedSlot(lo, hi, len);
  return P_LO[slot] === lo && P_HI[slot] === hi && P_LEN[slot] === len ? P_ID[slot]! : 0;
}

/** Character sets a string literal may be introduced with (`_utf8mb4'…'`), without the underscore. */
export const CHARSET_INTRODUCERS = new Set(
  `armscii8 ascii big5 binary cp1250 cp1251 cp1256 cp1257 cp850 cp852 cp866 cp932 dec8 eucjpms euckr
  gb18030 gb2312 gbk geostd8 greek hebrew hp8 keybcs2 koi8r koi8u latin1 latin2 latin5 latin7 macce
  macroman sjis swe7 tis620 ucs2 ujis utf16 utf16le utf32 utf8 utf8mb3 utf8mb4 filename`.split(/\s+/).filter(Boolean),
);

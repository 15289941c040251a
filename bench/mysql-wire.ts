/**
 * MySQL protocol bytes for the realistic benchmark capture (bench/synth-mysql.ts), written fast
 * into one growable buffer: the generator writes gigabytes of result sets, so nothing here
 * allocates per packet. Layouts as in the MySQL documentation ("Client/Server Protocol"); the
 * connection phase (greeting, handshake response), written once per connection, comes from the
 * test builders (test/builders/mysql-builder.ts).
 *
 * Packet framing: int<3> payload length | int<1> sequence id | payload. `begin(seq)` reserves the
 * header, `end()` fills the length in.
 */

export class Wire {
  buf: Buffer;
  pos = 0;
  private packetStart = -1;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Empty the buffer; one that grew past `shrinkAbove` bytes is given back for a small one. */
  reset(shrinkAbove = Infinity): void {
    if (this.buf.length > shrinkAbove) this.buf = Buffer.allocUnsafe(64 * 1024);
    this.pos = 0;
    this.packetStart = -1;
  }

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Start a packet with this sequence id. */
  begin(seq: number): this {
    this.room(4);
    this.packetStart = this.pos;
    this.buf[this.pos + 3] = seq & 0xff;
    this.pos += 4;
    return this;
  }

  /** End the packet begun last: write its payload length. */
  end(): void {
    const len = this.pos - this.packetStart - 4;
    if (len >= 0xffffff) throw new Error(`packet of ${len} bytes: the generator never writes 16 MiB packets`);
    const b = this.buf;
    b[this.packetStart] = len & 0xff;
    b[this.packetStart + 1] = (len >> 8) & 0xff;
    b[this.packetStart + 2] = len >> 16;
    this.packetStart = -1;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf[this.pos] = v & 0xff;
    this.buf[this.pos + 1] = (v >>> 8) & 0xff;
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** int<8> of a non-negative safe integer. */
  u64(v: number): this {
    return this.u32(v % 0x100000000).u32(Math.floor(v / 0x100000000));
  }

  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** int<lenenc>: < 0xfb itself; 0xfc + int<2>; 0xfd + int<3>; 0xfe + int<8>. */
  lenenc(n: number): this {
    if (n < 0xfb) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfc).u16(n);
    if (n <= 0xffffff) return this.u8(0xfd).u16(n & 0xffff).u8(n >>> 16);
    return this.u8(0xfe).u64(n);
  }

  bytes(src: Uint8Array, from = 0, to = src.length): this {
    const n = to - from;
    this.room(n);
    this.buf.set(src.subarray(from, to), this.pos);
    this.pos += n;
    return this;
  }

  /** string<lenenc> of bytes [from, to) of src. */
  lenencBytes(src: Uint8Array, from: number, to: number): this {
    return this.lenenc(to - from).bytes(src, from, to);
  }

  /** Latin-1 text, as is. */
  text(s: string): this {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  lenencText(s: string): this {
    return this.lenenc(s.length).text(s);
  }

  /** The decimal digits of a non-negative integer. */
  digits(v: number): this {
    let n = Math.floor(v);
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    this.room(len);
    for (let i = this.pos + len - 1; i >= this.pos; i--) {
      this.buf[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.pos += len;
    return this;
  }

  /** string<lenenc> of the decimal digits of a non-negative integer (a text-protocol number). */
  lenencDigits(v: number): this {
    const at = this.u8(0).pos;
    this.digits(v);
    this.buf[at - 1] = this.pos - at; // < 0xfb: at most 16 digits
    return this;
  }
}

/** Server status flags this generator sets (SERVER_*). */
export const enum ServerStatus {
  InTrans = 0x1,
  Autocommit = 0x2,
  NoGoodIndexUsed = 0x10,
  NoIndexUsed = 0x20,
}

/** OK_Packet (4.1): header (0x00, or 0xfe ending a result set under DEPRECATE_EOF) | affected rows | insert id | status | warnings. */
export function writeOk(w: Wire, seq: number, affectedRows: number, insertId: number, status: number, warnings = 0, header = 0x00): void {
  w.begin(seq).u8(header).lenenc(affectedRows).lenenc(insertId).u16(status).u16(warnings).end();
}

/** EOF_Packet (4.1): 0xfe | warnings | status. */
export function writeEof(w: Wire, seq: number, status: number, warnings = 0): void {
  w.begin(seq).u8(0xfe).u16(warnings).u16(status).end();
}

/** ERR_Packet: 0xff | error code | '#' SQL state | message. */
export function writeErr(w: Wire, seq: number, code: number, sqlState: string, message: string): void {
  w.begin(seq).u8(0xff).u16(code).text('#').text(sqlState).text(message).end();
}

/** What a column definition says about a column. */
export interface ColumnMeta {
  schema: string;
  table: string;
  orgTable: string;
  name: string;
  orgName: string;
  charset: number;
  length: number;
  type: number;
  flags: number;
  decimals: number;
}

/** Protocol::ColumnDefinition41, framed. */
export function writeColumnDef(w: Wire, seq: number, c: ColumnMeta): void {
  w.begin(seq).lenencText('def').lenencText(c.schema).lenencText(c.table).lenencText(c.orgTable).lenencText(c.name).lenencText(c.orgName);
  w.u8(0x0c).u16(c.charset).u32(c.length).u8(c.type).u16(c.flags).u8(c.decimals).u16(0);
  w.end();
}

/** COM_STMT_PREPARE_OK: 0x00 | statement id | columns | params | 0x00 | warnings. */
export function writePrepareOk(w: Wire, seq: number, stmtId: number, columns: number, params: number): void {
  w.begin(seq).u8(0).u32(stmtId).u16(columns).u16(params).u8(0).u16(0).end();
}

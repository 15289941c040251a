/**
 * A large, realistic MySQL capture for the end-to-end benchmark of `periscope analyze`, with the
 * truth about what it holds: every command the generator wrote, per statement template.
 *
 *   node build/bench/synth-mysql.js OUT.pcap [MB] [SEED]     (writes OUT.pcap and OUT.pcap.meta.json)
 *
 * The traffic, as tcpdump on the database server would record it (classic pcap, microseconds,
 * Ethernet, IPv4, TCP with the timestamps option; valid IP and TCP checksums):
 *   - one MariaDB 10.11 server, 10.0.0.10:3306, and the four services of bench/workload.ts, each
 *     with its own client hosts (10.1.<service>.<host>), user, database and connection pool
 *     (224 connections open at a time); connections live for an exponential number of commands
 *     (25 for the Django-like service, which connects per request; thousands for the others), are
 *     closed with COM_QUIT and FINs, and replaced with new ones from new ports;
 *   - a connection: three-way handshake; MariaDB's greeting (protocol 10, CLIENT_PROTOCOL_41,
 *     MariaDB's extended capabilities, mysql_native_password); HandshakeResponse41 (user,
 *     database, connection attributes; CLIENT_DEPRECATE_EOF for two of the four services); OK;
 *     then the statements a connection runs when it opens, then units of work: bursts of
 *     statements (a geometric number, a few hundred µs apart) separated by idle time;
 *   - a statement: COM_QUERY with fresh literals, or, for statements with `?`, COM_STMT_PREPARE
 *     (once per connection with a statement cache, else before every execution and followed by
 *     COM_STMT_CLOSE) and COM_STMT_EXECUTE with binary parameters; answered after a log-normal
 *     latency by a text or binary result set (column definitions, rows of realistic sizes, EOF or
 *     the OK that replaces it), an OK with affected rows and insert id, or now and then an ERR;
 *     COM_PING now and then;
 *   - TCP as Linux sends it: the server writes results in 16 KiB pieces (MariaDB's
 *     net_buffer_length), one segment each; the client acknowledges every second segment of a
 *     long result, and a delayed ACK (40 ms) follows a request or a response left unanswered that
 *     long; sequence and acknowledgement numbers are exact; nothing is lost or reordered.
 * Packets of all connections are written in timestamp order (a heap of connections by the time of
 * their next segment), so the file is written as it is generated, through one 8 MiB buffer, and
 * memory holds only the commands in flight. The same seed gives the same file, byte for byte;
 * and a smaller target gives a prefix of a larger one: the generator stops starting commands when
 * the target is reached, finishes the ones in flight and closes every connection (COM_QUIT, FIN),
 * so a capture of N MB holds the first N MB of a larger one with the same seed, plus those endings.
 *
 * The sidecar (OUT.pcap.meta.json) records what was written: packets, bytes, connections, and
 * per template its example SQL and how often it ran, with errors, rows sent and affected, and the
 * prepares and closes; bench/truth.ts turns that into the per-fingerprint counts `analyze` must
 * report.
 */
import { pathToFileURL } from 'node:url';
import { CAP, CLIENT_BASE_CAPS, greetingPayload, handshakeResponse41, mysqlPacket } from '../test/builders/mysql-builder.js';
import { ServerStatus, Wire, writeOk, writePrepareOk } from './mysql-wire.js';
import { cachedCapture, generatedMeta, Prng, seqAfter, TcpFlag, writeCapture, writeFrame, type Frame, type GeneratedMeta, type PcapWriter } from './pcap-writer.js';
import { buildServices, instanceSql, outcomeOf, pickTemplate, RowWriter, textPool, writeResponse, type Service, type Template } from './workload.js';

/**
 * Bump when the traffic or the sidecar changes, so cached captures are rewritten.
 * 2: idle time between units of work ×5 (about 23 s of traffic per GB instead of 7).
 * 3: server status as a server sets it: SERVER_STATUS_IN_TRANS in a transaction, AUTOCOMMIT as SET;
 *    the sidecar counts transactions.
 */
export const MYSQL_GENERATOR_VERSION = 3;

/** Per template: what the capture holds. */
export interface TemplateTruth {
  id: number;
  service: string;
  source: string;
  /** As in the corpus. */
  sql: string;
  prepared: boolean;
  /** The SQL of its first execution (the corpus text when it never ran) (with `?` for a prepared statement). */
  example: string;
  /** Executions: COM_QUERY, or COM_STMT_EXECUTE. */
  count: number;
  prepares: number;
  closes: number;
  /** Error code → executions that got it. */
  errors: Record<string, number>;
  rowsSent: number;
  rowsAffected: number;
  noIndexUsed: number;
}

export interface MysqlCaptureMeta extends GeneratedMeta {
  /** Seconds of traffic, first to last packet. */
  durationSec: number;
  connections: number;
  /** Commands by name, as Periscope names them (query, stmt_prepare, …, ping, quit; connect = logins). */
  commands: Record<string, number>;
  /** Connections and executions per service. */
  services: { name: string; user: string; connections: number; executions: number; deprecateEof: boolean; statementCache: boolean }[];
  templates: TemplateTruth[];
  /**
   * Transactions as the server's status flags show them: one starts when a response first has
   * SERVER_STATUS_IN_TRANS (BEGIN / START TRANSACTION, or a statement on a table with autocommit
   * off), and ends by COMMIT, ROLLBACK (or a deadlock, 1213, which rolls it back), `implicit`
   * (SET autocommit=1 commits it) or `disconnect` (COM_QUIT while open).
   */
  transactions: { count: number; ends: Record<TxnEnd, number> };
}

type TxnEnd = 'commit' | 'rollback' | 'implicit' | 'disconnect';

/** What a statement does to the session's transaction state, from its text. */
type TxnEffect = 'begin' | 'commit' | 'rollback' | 'autocommit_on' | 'autocommit_off' | 'table' | null;

/** The transaction effect of a template's SQL (as MariaDB applies it; ROLLBACK TO SAVEPOINT ends nothing). */
function txnEffect(tpl: Template): TxnEffect {
  const s = tpl.sql.replace(/^\s*(?:\/\*[\s\S]*?\*\/\s*)*/, '').toLowerCase();
  if (/^(?:begin\b|start\s+transaction\b)/.test(s)) return 'begin';
  if (/^(?:commit|rollback)\b(?!\s+(?:work\s+)?to\b)/.test(s)) return s.startsWith('commit') ? 'commit' : 'rollback';
  const ac = /^set\s+(?:@@)?(?:session\s+)?autocommit\s*=\s*(0|1|on|off)\b/.exec(s);
  if (ac !== null) return ac[1] === '1' || ac[1] === 'on' ? 'autocommit_on' : 'autocommit_off';
  // A statement on a table starts a transaction when autocommit is off.
  if (tpl.shape === 'insert' || tpl.shape === 'write' || (tpl.shape === 'rows' && /\bfrom\b/.test(s) && !/information_schema/.test(s))) return 'table';
  return null;
}

/** The server status flags a response carries: AUTOCOMMIT as the session has it, IN_TRANS while a transaction is open. */
const statusOf = (c: Conn): number => (c.autocommit ? ServerStatus.Autocommit : 0) | (c.inTrans ? ServerStatus.InTrans : 0);

const SERVER_IP = 0x0a00000a; // 10.0.0.10
const SERVER_PORT = 3306;
const SERVER_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const SERVER_VERSION = '5.5.5-10.11.11-MariaDB-0+deb12u1';
/** A MariaDB 10.11 greeting's capabilities (as recorded in samples/mariadb-basic.pcap): CLIENT_LONG_PASSWORD clear, so the extended ones follow. */
const SERVER_CAPS = 0x81fff7fe;
/** MariaDB extended: PROGRESS, STMT_BULK_OPERATIONS, EXTENDED_TYPE_INFO, CACHE_METADATA. */
const SERVER_MARIA_CAPS = 0x1d;
/** MariaDB's net_buffer_length: results leave the server in writes of this size. */
const WRITE_BYTES = 16384;
/** Linux's delayed-ACK timer. */
const DELAYED_ACK_US = 40000;
/** 2025-03-03T09:00:00Z */
const START_SEC = 1740992400;

const enum Src {
  None,
  Request,
  Response,
}

/** One segment to send. */
interface Item {
  t: number;
  fromClient: boolean;
  flags: number;
  src: Src;
  off: number;
  len: number;
}

class Conn {
  /** The connection is done and its slot waits for a new one. */
  closed = true;
  hostIp = 0;
  mac = new Uint8Array(6);
  port = 0;
  clientSeq = 0;
  serverSeq = 0;
  clientIpId = 0;
  serverIpId = 0;
  clientTs = 0;
  serverTs = 0;
  /** Server bytes sent and not yet acknowledged by a client segment. */
  unacked = false;
  lastServerT = 0;
  readonly req = new Wire(4096);
  readonly resp = new Wire(64 * 1024);
  items: Item[] = [];
  head = 0;
  commandsLeft = 0;
  burstLeft = 0;
  init: Template[] = [];
  readonly stmtIds = new Map<number, number>();
  nextStmtId = 1;
  deprecateEof = false;
  /** The session's autocommit (SET autocommit) and whether a transaction is open (SERVER_STATUS_IN_TRANS). */
  autocommit = true;
  inTrans = false;

  constructor(
    readonly slot: number,
    readonly service: Service,
  ) {}

  get nextT(): number {
    return this.items[this.head]!.t;
  }
}

/** A binary heap of connections by (time of the next segment, slot). */
class Heap {
  private readonly a: Conn[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Conn, y: Conn): boolean {
    return x.nextT < y.nextT || (x.nextT === y.nextT && x.slot < y.slot);
  }
  push(c: Conn): void {
    const a = this.a;
    let i = a.push(c) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Conn {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

class MysqlTrafficGenerator {
  private readonly rng: Prng;
  private readonly rows: RowWriter;
  private readonly heap = new Heap();
  private readonly frame: Frame = { srcMac: SERVER_MAC, dstMac: SERVER_MAC, srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, ipId: 0, tsval: 0, tsecr: 0, fromClient: false };
  private readonly nextPort = new Map<number, number>();
  private nextConnId: number;
  private stopping = false;
  private firstT = -1;
  private lastT = 0;
  readonly truth: TemplateTruth[] = [];
  readonly commands: Record<string, number> = { connect: 0, query: 0, stmt_prepare: 0, stmt_execute: 0, stmt_close: 0, ping: 0, quit: 0 };
  readonly perService = new Map<string, { connections: number; executions: number }>();
  readonly transactions: MysqlCaptureMeta['transactions'] = { count: 0, ends: { commit: 0, rollback: 0, implicit: 0, disconnect: 0 } };
  readonly services: Service[];
  connections = 0;

  constructor(
    private readonly w: PcapWriter,
    private readonly targetBytes: number,
    seed: number,
  ) {
    this.rng = new Prng(seed);
    this.services = buildServices(this.rng);
    this.rows = new RowWriter(this.rng, textPool(this.rng));
    this.nextConnId = this.rng.int(1000, 50000);
    for (const s of this.services) {
      this.perService.set(s.name, { connections: 0, executions: 0 });
      for (const t of [...s.templates, ...s.init]) {
        this.truth[t.id] = { id: t.id, service: s.name, source: t.source, sql: t.sql, prepared: t.prepared, example: t.prepared ? t.sql : '', count: 0, prepares: 0, closes: 0, errors: {}, rowsSent: 0, rowsAffected: 0, noIndexUsed: 0 };
      }
    }
    let slot = 0;
    for (const s of this.services) {
      for (let i = 0; i < s.pool; i++) {
        const c = new Conn(slot++, s);
        this.connect(c, this.rng.int(0, 50000));
        this.heap.push(c);
      }
    }
  }

  get durationSec(): number {
    return (this.lastT - this.firstT) / 1e6;
  }

  /** Write packets until every connection is closed after the target size was reached. */
  run(): void {
    const heap = this.heap;
    while (heap.size > 0) {
      const c = heap.pop();
      const item = c.items[c.head++]!;
      this.emit(c, item);
      if (c.head < c.items.length) {
        heap.push(c);
        continue;
      }
      if (this.plan(c, item.t)) heap.push(c);
    }
  }

  // ---- planning ----

  /** Schedule what the connection does next, from time `now`; false when the slot retires. */
  private plan(c: Conn, now: number): boolean {
    c.items.length = 0;
    c.head = 0;
    c.req.reset();
    c.resp.reset(1024 * 1024);
    this.stopping ||= this.w.total >= this.targetBytes;
    if (c.closed) {
      if (this.stopping) return false;
      this.connect(c, now + this.rng.int(100, 20000));
      return true;
    }
    if (this.stopping || c.commandsLeft <= 0) {
      this.quit(c, now + this.rng.int(20, 2000));
      return true;
    }
    const rng = this.rng;
    const s = c.service;
    let think: number;
    if (c.burstLeft > 0) think = rng.int(s.thinkUs[0], s.thinkUs[1]);
    else {
      c.burstLeft = 1 + Math.floor(rng.exp(s.burst - 1));
      think = Math.round(rng.exp(s.idleUs));
    }
    let t = now + Math.max(10, think);
    if (c.unacked && t - c.lastServerT > DELAYED_ACK_US) this.item(c, Math.max(now, c.lastServerT + DELAYED_ACK_US), true, TcpFlag.Ack, Src.None, 0, 0);
    c.burstLeft--;
    c.commandsLeft--;
    const init = c.init.shift();
    if (init !== undefined) this.statement(c, init, t);
    else if (rng.chance(s.pingRate)) {
      this.commands.ping!++;
      t = this.request(c, t, 0x0e, null);
      writeOk(c.resp, 1, 0, 0, statusOf(c));
      this.response(c, t, rng.int(15, 80), 1000);
    } else this.statement(c, pickTemplate(s, rng), t);
    return true;
  }

  /** One statement: text, or prepared (PREPARE when needed, EXECUTE, CLOSE without a statement cache). */
  private statement(c: Conn, tpl: Template, t0: number): void {
    const rng = this.rng;
    const truth = this.truth[tpl.id]!;
    const svc = this.perService.get(c.service.name)!;
    svc.executions++;
    truth.count++;
    const o = outcomeOf(tpl, rng);
    if (o.error !== null) truth.errors[o.error.code] = (truth.errors[o.error.code] ?? 0) + 1;
    truth.rowsSent += o.rows;
    truth.rowsAffected += o.affected;
    if (o.noIndexUsed) truth.noIndexUsed++;
    this.transaction(c, tpl, o.error?.code ?? null);
    const latency = (): number => Math.max(15, Math.round(tpl.latencyUs * Math.exp(tpl.sigma * rng.normal())));
    if (!tpl.prepared) {
      const sql = instanceSql(tpl, rng);
      if (truth.example === '') truth.example = sql;
      this.commands.query!++;
      const t = this.request(c, t0, 0x03, sql);
      writeResponse(c.resp, this.rows, tpl, o, c.deprecateEof, false, statusOf(c));
      this.response(c, t, latency(), tpl.chunkUs);
      return;
    }
    let t = t0;
    let stmtId = c.stmtIds.get(tpl.id);
    if (stmtId === undefined) {
      stmtId = c.nextStmtId++;
      if (c.service.statementCache) c.stmtIds.set(tpl.id, stmtId);
      truth.prepares++;
      this.commands.stmt_prepare!++;
      t = this.request(c, t, 0x16, tpl.sql);
      writePrepareOk(c.resp, 1, stmtId, tpl.columns.length, tpl.params);
      c.resp.bytes(tpl.prepareTail[c.deprecateEof ? 1 : 0]!);
      t = this.response(c, t, rng.int(40, 400), 1000) + rng.int(10, 60);
    }
    // COM_STMT_EXECUTE: id | flags 0 | iteration count 1 | NULL bitmap | new-params-bound 1 | types | values.
    this.commands.stmt_execute!++;
    const q = c.req;
    const at = q.pos;
    q.begin(0).u8(0x17).u32(stmtId).u8(0).u32(1);
    if (tpl.params > 0) {
      q.zeros((tpl.params + 7) >> 3).u8(1);
      for (const type of tpl.paramTypes) q.u16(type);
      for (const type of tpl.paramTypes) this.rows.param(q, type);
    }
    q.end();
    this.item(c, t, true, TcpFlag.Psh | TcpFlag.Ack, Src.Request, at, q.pos - at);
    writeResponse(c.resp, this.rows, tpl, o, c.deprecateEof, true, statusOf(c));
    t = this.response(c, t, latency(), tpl.chunkUs);
    if (!c.service.statementCache) {
      truth.closes++;
      this.commands.stmt_close!++;
      const ca = q.pos;
      q.begin(0).u8(0x19).u32(stmtId).end();
      this.item(c, t + rng.int(10, 60), true, TcpFlag.Psh | TcpFlag.Ack, Src.Request, ca, q.pos - ca);
    }
  }

  /**
   * The statement's effect on the session, before its response is written (the response carries
   * the status after it), as the server applies it: an error changes nothing, except a deadlock,
   * which rolls the open transaction back.
   */
  private transaction(c: Conn, tpl: Template, error: number | null): void {
    const end = (how: TxnEnd): void => {
      if (!c.inTrans) return;
      c.inTrans = false;
      this.transactions.ends[how]++;
    };
    const start = (): void => {
      if (c.inTrans) return;
      c.inTrans = true;
      this.transactions.count++;
    };
    if (error !== null) {
      if (error === 1213) end('rollback');
      return;
    }
    switch (txnEffect(tpl)) {
      case 'begin':
        // BEGIN inside a transaction commits it and opens another: the flag stays set, so the
        // capture shows one transaction (as Periscope counts it).
        start();
        break;
      case 'commit':
        end('commit');
        break;
      case 'rollback':
        end('rollback');
        break;
      case 'autocommit_on':
        c.autocommit = true;
        end('implicit');
        break;
      case 'autocommit_off':
        c.autocommit = false;
        break;
      case 'table':
        if (!c.autocommit) start();
        break;
      case null:
        break;
    }
  }

  /** A client command packet at time t (one segment); returns t. */
  private request(c: Conn, t: number, com: number, arg: string | null): number {
    const q = c.req;
    const at = q.pos;
    q.begin(0).u8(com);
    if (arg !== null) q.text(arg);
    q.end();
    this.item(c, t, true, TcpFlag.Psh | TcpFlag.Ack, Src.Request, at, q.pos - at);
    return t;
  }

  /**
   * The response bytes written to c.resp since the last response, sent `latency` µs after the
   * request at t, in 16 KiB writes `chunkUs` apart; the client acknowledges every second one.
   * Returns the time of the last segment.
   */
  private response(c: Conn, t: number, latency: number, chunkUs: number): number {
    const r = c.resp;
    const start = this.respStart(c);
    if (latency > DELAYED_ACK_US) this.item(c, t + DELAYED_ACK_US, false, TcpFlag.Ack, Src.None, 0, 0);
    let at = t + latency;
    let n = 0;
    for (let off = start; off < r.pos; off += WRITE_BYTES) {
      if (n > 0) at += chunkUs;
      this.item(c, at, false, TcpFlag.Psh | TcpFlag.Ack, Src.Response, off, Math.min(WRITE_BYTES, r.pos - off));
      if (++n % 2 === 0) this.item(c, at + 12, true, TcpFlag.Ack, Src.None, 0, 0);
    }
    return at;
  }

  /** Where the response not yet scheduled starts in c.resp. */
  private respStart(c: Conn): number {
    for (let i = c.items.length - 1; i >= 0; i--) {
      const it = c.items[i]!;
      if (it.src === Src.Response) return it.off + it.len;
    }
    return 0;
  }

  /** Schedule a segment; never before the connection's previous one (its segments go out in order). */
  private item(c: Conn, t: number, fromClient: boolean, flags: number, src: Src, off: number, len: number): void {
    const prev = c.items.length > 0 ? c.items[c.items.length - 1]!.t : t;
    c.items.push({ t: Math.max(t, prev), fromClient, flags, src, off, len });
  }

  /** A new connection in this slot at time t: handshake, greeting, login, then the service's opening statements. */
  private connect(c: Conn, t: number): void {
    const rng = this.rng;
    const s = c.service;
    c.items.length = 0;
    c.head = 0;
    c.req.reset();
    c.resp.reset(1024 * 1024);
    const host = rng.int(1, s.hosts);
    c.hostIp = (0x0a010000 | (s.subnet << 8) | host) >>> 0;
    c.mac = Uint8Array.of(0x52, 0x54, 0x00, 0x01, s.subnet, host);
    const port = this.nextPort.get(c.hostIp) ?? 32768 + rng.int(0, 2000);
    c.port = port;
    this.nextPort.set(c.hostIp, port >= 60999 ? 32768 : port + 1);
    c.clientSeq = rng.u32();
    c.serverSeq = rng.u32();
    c.clientIpId = rng.int(0, 0xffff);
    c.serverIpId = rng.int(0, 0xffff);
    c.clientTs = rng.u32();
    c.serverTs = rng.u32();
    c.closed = false;
    c.unacked = false;
    c.stmtIds.clear();
    c.nextStmtId = 1;
    c.commandsLeft = 1 + Math.floor(rng.exp(s.lifetime));
    c.burstLeft = 0;
    c.init = [...s.init];
    c.deprecateEof = s.deprecateEof;
    c.autocommit = true;
    c.inTrans = false;
    this.connections++;
    this.perService.get(s.name)!.connections++;
    this.commands.connect!++;

    const rtt = rng.int(20, 120);
    this.item(c, t, true, TcpFlag.Syn, Src.None, 0, 0);
    this.item(c, t + rtt, false, TcpFlag.Syn | TcpFlag.Ack, Src.None, 0, 0);
    this.item(c, t + 2 * rtt, true, TcpFlag.Ack, Src.None, 0, 0);
    t += 2 * rtt + rng.int(50, 200);
    const greeting = mysqlPacket(0, greetingPayload({ version: SERVER_VERSION, connectionId: this.nextConnId++, capabilities: SERVER_CAPS, mariaCapabilities: SERVER_MARIA_CAPS, charset: 45, status: ServerStatus.Autocommit, authPlugin: 'mysql_native_password' }));
    c.resp.bytes(greeting);
    this.item(c, t, false, TcpFlag.Psh | TcpFlag.Ack, Src.Response, 0, greeting.length);
    t += rng.int(100, 400);
    const caps = CLIENT_BASE_CAPS | CAP.CONNECT_WITH_DB | (s.deprecateEof ? CAP.DEPRECATE_EOF : 0);
    const login = mysqlPacket(1, handshakeResponse41({ capabilities: caps, user: s.user, database: s.database, authPlugin: 'mysql_native_password', charset: 45, attributes: { _client_name: s.clientName, _os: 'Linux', _pid: String(rng.int(100, 99999)), program_name: s.name } }));
    c.req.bytes(login);
    this.item(c, t, true, TcpFlag.Psh | TcpFlag.Ack, Src.Request, 0, login.length);
    const okAt = c.resp.pos;
    writeOk(c.resp, 2, 0, 0, ServerStatus.Autocommit);
    this.item(c, t + rng.int(80, 600), false, TcpFlag.Psh | TcpFlag.Ack, Src.Response, okAt, c.resp.pos - okAt);
  }

  /** COM_QUIT, then the client's FIN, the server's FIN and the last ACK. */
  private quit(c: Conn, t: number): void {
    this.commands.quit!++;
    if (c.inTrans) {
      c.inTrans = false;
      this.transactions.ends.disconnect++;
    }
    this.request(c, t, 0x01, null);
    this.item(c, t + 5, true, TcpFlag.Fin | TcpFlag.Ack, Src.None, 0, 0);
    this.item(c, t + 40, false, TcpFlag.Fin | TcpFlag.Ack, Src.None, 0, 0);
    this.item(c, t + 50, true, TcpFlag.Ack, Src.None, 0, 0);
    c.closed = true;
  }

  // ---- writing ----

  private emit(c: Conn, it: Item): void {
    if (this.firstT < 0) this.firstT = it.t;
    this.lastT = it.t;
    const f = this.frame;
    const ms = it.t / 1000;
    const cl = it.fromClient;
    const syn = (it.flags & TcpFlag.Syn) !== 0;
    f.srcMac = cl ? c.mac : SERVER_MAC;
    f.dstMac = cl ? SERVER_MAC : c.mac;
    f.srcIp = cl ? c.hostIp : SERVER_IP;
    f.dstIp = cl ? SERVER_IP : c.hostIp;
    f.srcPort = cl ? c.port : SERVER_PORT;
    f.dstPort = cl ? SERVER_PORT : c.port;
    f.seq = cl ? c.clientSeq : c.serverSeq;
    f.ack = cl ? c.serverSeq : c.clientSeq;
    f.window = syn ? (cl ? 64240 : 65160) : 65535;
    f.ipId = cl ? (c.clientIpId = (c.clientIpId + 1) & 0xffff) : (c.serverIpId = (c.serverIpId + 1) & 0xffff);
    f.tsval = (cl ? c.clientTs : c.serverTs) + ms;
    f.tsecr = cl && syn ? 0 : (cl ? c.serverTs : c.clientTs) + ms;
    f.flags = it.flags;
    f.fromClient = cl;
    if (cl) c.unacked = false;
    else if (it.len > 0) {
      c.unacked = true;
      c.lastServerT = it.t;
    }
    const src = it.src === Src.Request ? c.req.buf : it.src === Src.Response ? c.resp.buf : null;
    const t = START_SEC * 1e6 + it.t;
    writeFrame(this.w, Math.floor(t / 1e6), t % 1e6, f, it.len, src, it.off, true);
    if (cl) c.clientSeq = seqAfter(c.clientSeq, it.len, it.flags);
    else c.serverSeq = seqAfter(c.serverSeq, it.len, it.flags);
  }
}

/** The sidecar of an existing capture, if the file is complete and was made with these parameters. */
export function existingMysqlCapture(path: string, targetBytes: number, seed: number): MysqlCaptureMeta | null {
  return cachedCapture<MysqlCaptureMeta>(path, MYSQL_GENERATOR_VERSION, seed, targetBytes);
}

/** Write a realistic MySQL capture of at least `targetBytes` bytes at `path`, and its sidecar. */
export function synthesizeMysqlCapture(path: string, targetBytes: number, seed: number): MysqlCaptureMeta {
  return writeCapture(
    path,
    (w): MysqlCaptureMeta => {
      const gen = new MysqlTrafficGenerator(w, targetBytes, seed);
      gen.run();
      return {
        ...generatedMeta(w, MYSQL_GENERATOR_VERSION, seed, targetBytes),
        durationSec: gen.durationSec,
        connections: gen.connections,
        commands: gen.commands,
        services: gen.services.map((s) => ({ name: s.name, user: s.user, deprecateEof: s.deprecateEof, statementCache: s.statementCache, ...gen.perService.get(s.name)! })),
        templates: gen.truth.map((t) => ({ ...t, example: t.example || t.sql })),
        transactions: gen.transactions,
      };
    },
    1,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [out, mb = '20', seed = '20250303'] = process.argv.slice(2);
  if (out === undefined) {
    process.stderr.write('usage: node build/bench/synth-mysql.js OUT.pcap [MB] [SEED]\n');
    process.exit(1);
  }
  const t0 = process.hrtime.bigint();
  const meta = synthesizeMysqlCapture(out, Math.round(Number(mb) * 1e6), Number(seed));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${out}: ${(meta.size / 1e6).toFixed(1)} MB, ${meta.packets} packets, ${meta.connections} connections, ${JSON.stringify(meta.commands)} in ${s.toFixed(1)} s\n`);
}

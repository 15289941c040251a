/**
 * Split a capture of bench/synth-mysql.ts into N captures by connection, as a multi-core analyzer
 * would shard its work (every packet of a connection goes to the same worker): record i goes to
 * shard hash(client address, client port) mod N. Used to measure what two analyses of half the
 * connections each, run in parallel, would give (bench/analyze.ts).
 *
 * Reads and writes classic little-endian pcap with Ethernet + IPv4 without options, the only
 * shape the generator writes; the server port is 3306. Each shard starts with the source's
 * 24-byte file header; records keep their order.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';

const CHUNK = 8 * 1024 * 1024;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const IP = RECORD_HEADER + 14;
const TCP = IP + 20;

export interface ShardMeta {
  source: string;
  sourceSize: number;
  shards: { path: string; size: number; packets: number }[];
}

/** The shard of a packet: by its client's address and port (the end that is not port 3306). */
function shardOf(b: Buffer, rec: number, n: number): number {
  const srcPort = b.readUInt16BE(rec + TCP);
  const client = srcPort === 3306 ? rec + IP + 16 : rec + IP + 12;
  const port = srcPort === 3306 ? b.readUInt16BE(rec + TCP + 2) : srcPort;
  let h = Math.imul(b.readUInt32BE(client) ^ 0x9e3779b9, 0x85ebca6b) ^ port;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % n;
}

/** The shards of `source` at `paths`, made once and reused while the sidecar matches. */
export function shardCapture(source: string, paths: readonly string[]): ShardMeta {
  const sidecar = `${paths[0]}.shards.json`;
  const sourceSize = statSync(source).size;
  if (existsSync(sidecar)) {
    try {
      const m = JSON.parse(readFileSync(sidecar, 'utf8')) as ShardMeta;
      if (m.source === source && m.sourceSize === sourceSize && m.shards.length === paths.length && m.shards.every((s, i) => s.path === paths[i] && existsSync(s.path) && statSync(s.path).size === s.size)) return m;
    } catch {
      // rewrite below
    }
  }
  const n = paths.length;
  const out = paths.map((p) => ({ path: p, fd: openSync(`${p}.tmp`, 'w'), buf: Buffer.allocUnsafe(CHUNK + 262144 + RECORD_HEADER), pos: 0, size: 0, packets: 0 }));
  const flush = (o: (typeof out)[number]): void => {
    let done = 0;
    while (done < o.pos) done += writeSync(o.fd, o.buf, done, o.pos - done);
    o.size += o.pos;
    o.pos = 0;
  };
  const fd = openSync(source, 'r');
  const buf = Buffer.allocUnsafe(CHUNK + 262144 + RECORD_HEADER);
  try {
    let carry = 0;
    let first = true;
    for (;;) {
      const got = readSync(fd, buf, carry, CHUNK, null);
      const end = carry + got;
      let p = 0;
      if (first) {
        for (const o of out) {
          buf.copy(o.buf, 0, 0, GLOBAL_HEADER);
          o.pos = GLOBAL_HEADER;
        }
        p = GLOBAL_HEADER;
        first = false;
      }
      while (p + RECORD_HEADER <= end) {
        const len = RECORD_HEADER + buf.readUInt32LE(p + 8);
        if (p + len > end) break;
        const o = out[shardOf(buf, p, n)]!;
        if (o.pos + len > o.buf.length) flush(o);
        buf.copy(o.buf, o.pos, p, p + len);
        o.pos += len;
        o.packets++;
        p += len;
      }
      carry = end - p;
      if (carry > 0) buf.copyWithin(0, p, end);
      if (got === 0) {
        if (carry !== 0) throw new Error(`${source}: ends inside a record`);
        break;
      }
    }
  } finally {
    closeSync(fd);
    for (const o of out) {
      flush(o);
      closeSync(o.fd);
    }
  }
  for (const o of out) renameSync(`${o.path}.tmp`, o.path);
  const meta: ShardMeta = { source, sourceSize, shards: out.map((o) => ({ path: o.path, size: o.size, packets: o.packets })) };
  writeFileSync(sidecar, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

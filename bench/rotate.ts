/**
 * Splits the benchmark capture into consecutive parts, as a capture rotated by size would be
 * (tcpdump -C, dumpcap -b filesize): each part is a classic pcap file with the big file's 24-byte
 * global header followed by a run of its records, the parts together hold every record once and in
 * order, and each part holds about the same number of record bytes.
 *
 * The parts are written into `<dir>.tmp/` (part-00.pcap, part-01.pcap, …, so their names sort in
 * time order), renamed to `<dir>` when complete, and described by a JSON sidecar `<dir>.meta.json`
 * next to the directory (not inside it, so that reading the directory sees capture files only).
 * The next run reuses the directory while the sidecar matches the source capture and every part's
 * size.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CaptureMeta } from './synth.js';

/** Bump when the way parts are cut changes, so stale directories are rewritten. */
export const SPLITTER_VERSION = 1;

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const CHUNK = 4 * 1024 * 1024;
/** Room for one record that straddles two chunks: record header + libpcap's largest snap length. */
const SPARE = RECORD_HEADER + 262144;
const OUT_BUFFER = 8 * 1024 * 1024;

export interface RotatedPart {
  name: string;
  size: number;
  packets: number;
}

export interface RotatedMeta {
  splitter: number;
  /** The capture the parts were cut from, as its sidecar described it. */
  source: { name: string; generator: number; seed: number; size: number; packets: number };
  parts: RotatedPart[];
  /** Sum of the parts' sizes (each repeats the 24-byte global header). */
  totalSize: number;
}

export function rotatedMetaPath(dir: string): string {
  return `${dir}.meta.json`;
}

/** The sidecar of an existing split, if every part is there and it was cut from this capture. */
export function existingRotated(dir: string, sourcePath: string, source: CaptureMeta, parts: number): RotatedMeta | null {
  const metaPath = rotatedMetaPath(dir);
  if (!existsSync(dir) || !existsSync(metaPath)) return null;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as RotatedMeta;
    const s = meta.source;
    if (meta.splitter !== SPLITTER_VERSION || meta.parts.length !== parts) return null;
    if (s.name !== basename(sourcePath) || s.generator !== source.generator || s.seed !== source.seed || s.size !== source.size || s.packets !== source.packets) return null;
    const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    if (names.length !== meta.parts.length) return null;
    for (const p of meta.parts) if (!names.includes(p.name) || statSync(join(dir, p.name)).size !== p.size) return null;
    return meta;
  } catch {
    return null;
  }
}

/**
 * Cut the classic pcap at `sourcePath` into `parts` files in `dir`. Record k goes to the part its
 * start offset falls in when the record bytes are divided into `parts` equal shares; a part that
 * would be empty (records larger than a share, tiny captures) takes the next record instead, so
 * every part holds at least one record when there are enough records.
 */
export function splitCapture(sourcePath: string, source: CaptureMeta, dir: string, parts: number): RotatedMeta {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });

  const inFd = openSync(sourcePath, 'r');
  const inBuf = Buffer.allocUnsafe(CHUNK + SPARE);
  const out = Buffer.allocUnsafe(OUT_BUFFER);
  let outPos = 0;
  let outFd = -1;
  const header = Buffer.alloc(GLOBAL_HEADER);
  const written: RotatedPart[] = [];
  const recordBytes = source.size - GLOBAL_HEADER;
  const share = recordBytes / parts;

  const flush = (): void => {
    let done = 0;
    while (done < outPos) done += writeSync(outFd, out, done, outPos - done);
    outPos = 0;
  };
  const startPart = (): void => {
    if (outFd >= 0) {
      flush();
      closeSync(outFd);
    }
    const name = `part-${String(written.length).padStart(String(parts - 1).length, '0')}.pcap`;
    outFd = openSync(join(tmp, name), 'w');
    written.push({ name, size: GLOBAL_HEADER, packets: 0 });
    header.copy(out, 0);
    outPos = GLOBAL_HEADER;
  };
  const append = (src: Buffer, from: number, to: number): void => {
    const n = to - from;
    if (outPos + n > out.length) flush();
    src.copy(out, outPos, from, to);
    outPos += n;
    written[written.length - 1]!.size += n;
  };

  try {
    if (readSync(inFd, header, 0, GLOBAL_HEADER, 0) !== GLOBAL_HEADER) throw new Error(`${sourcePath}: shorter than a pcap header`);
    if (header.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${sourcePath}: not a little-endian microsecond pcap`);
    let offset = 0; // of the next record, relative to the end of the global header
    let filePos = GLOBAL_HEADER;
    let carry = 0;
    for (;;) {
      const n = readSync(inFd, inBuf, carry, CHUNK, filePos);
      filePos += n;
      const end = carry + n;
      let p = 0;
      for (;;) {
        if (p + RECORD_HEADER > end) break;
        const next = p + RECORD_HEADER + inBuf.readUInt32LE(p + 8);
        if (next > end) {
          if (next - p > SPARE) throw new Error(`${sourcePath}: record at offset ${GLOBAL_HEADER + offset} claims ${next - p - RECORD_HEADER} bytes`);
          break;
        }
        const current = written.length - 1;
        if (current < 0 || (current < parts - 1 && written[current]!.packets > 0 && offset >= (current + 1) * share)) startPart();
        append(inBuf, p, next);
        written[written.length - 1]!.packets++;
        offset += next - p;
        p = next;
      }
      carry = end - p;
      if (n === 0) break;
      if (carry > 0) inBuf.copyWithin(0, p, end);
    }
    if (carry !== 0) throw new Error(`${sourcePath}: ends inside a record (${carry} bytes left)`);
    if (outFd >= 0) flush();
  } finally {
    closeSync(inFd);
    if (outFd >= 0) closeSync(outFd);
  }

  const packets = written.reduce((s, w) => s + w.packets, 0);
  if (packets !== source.packets) throw new Error(`split wrote ${packets} packets, the capture has ${source.packets}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  const meta: RotatedMeta = {
    splitter: SPLITTER_VERSION,
    source: { name: basename(sourcePath), generator: source.generator, seed: source.seed, size: source.size, packets: source.packets },
    parts: written,
    totalSize: written.reduce((s, w) => s + w.size, 0),
  };
  writeFileSync(rotatedMetaPath(dir), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

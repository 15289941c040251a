/**
 * Packets and time range of one capture file, for the manifest. Read with the project's own pcap
 * reader (src/pcap: pure, no dependencies) in 1 MiB reads into one reused buffer; only record
 * headers are looked at. A file is read once, after tcpdump has moved on to the next one.
 */
import { open, truncate } from 'node:fs/promises';
import { sniff } from '../src/pcap/detect.js';
import { Step } from '../src/pcap/record.js';
import { isoTime } from '../common/time.js';

export interface FileScan {
  packets: number;
  /** ISO 8601 UTC, microseconds; null when the file holds no packet. */
  firstPacket: string | null;
  lastPacket: string | null;
  /** The file ends inside a record. */
  truncated: boolean;
}

const CHUNK = 1 << 20;


/** A record as the scans see it: its time and where its header starts in the file. */
interface RecordAt {
  sec: number;
  nsec: number;
  fileOffset: number;
}

/**
 * Every record of a capture file, in file order, to `onRecord`. `cancelled()` is polled between
 * reads: when it returns true the reading stops and null is returned. Null too when the file is not
 * a pcap/pcapng file (it is then not one of ours). Otherwise: was the file cut inside a record?
 */
async function eachRecord(path: string, onRecord: (r: RecordAt) => void, cancelled: () => boolean): Promise<{ truncated: boolean } | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = (await fh.read(buf, 0, CHUNK, 0)).bytesRead;
    const s = sniff(buf.subarray(0, Math.min(pos, 16)));
    if (s.kind !== 'capture') return pos === 0 ? { truncated: false } : null;
    const p = s.parser;
    let ended = false;
    const at: RecordAt = { sec: 0, nsec: 0, fileOffset: 0 };
    p.push(buf.subarray(0, pos));
    for (;;) {
      const step = p.next();
      if (step === Step.Record) {
        const r = p.record;
        at.sec = r.tsSec;
        at.nsec = r.tsNsec;
        at.fileOffset = r.fileOffset;
        onRecord(at);
        continue;
      }
      if (step === Step.Error || ended) break;
      if (cancelled()) return null;
      const n = (await fh.read(buf, 0, CHUNK, pos)).bytesRead;
      if (n === 0) {
        p.end(); // records only the end of input confirms (after damage) come out now
        ended = true;
        continue;
      }
      pos += n;
      p.push(buf.subarray(0, n));
    }
    return { truncated: p.finish() !== null };
  } finally {
    await fh.close();
  }
}

/**
 * `cancelled()` is polled between reads: when it returns true the scan stops and null is returned.
 * Null too when the file is not a pcap/pcapng file (it is then not one of ours).
 */
export async function scanCaptureFile(path: string, cancelled: () => boolean = () => false): Promise<FileScan | null> {
  let packets = 0;
  let minSec = Infinity;
  let minNsec = 0;
  let maxSec = -Infinity;
  let maxNsec = 0;
  const read = await eachRecord(
    path,
    (r) => {
      packets++;
      if (r.sec < minSec || (r.sec === minSec && r.nsec < minNsec)) {
        minSec = r.sec;
        minNsec = r.nsec;
      }
      if (r.sec > maxSec || (r.sec === maxSec && r.nsec > maxNsec)) {
        maxSec = r.sec;
        maxNsec = r.nsec;
      }
    },
    cancelled,
  );
  if (read === null) return null;
  return {
    packets,
    firstPacket: packets > 0 ? isoTime({ sec: minSec, nsec: minNsec }) : null,
    lastPacket: packets > 0 ? isoTime({ sec: maxSec, nsec: maxNsec }) : null,
    truncated: read.truncated,
  };
}

/**
 * Cut a capture file before its first packet later than `limitMs` (milliseconds since 1970): what
 * tcpdump captured while a stop drained (see DRAIN_MS) after the capture's window ended. The file
 * keeps its header, even when every packet is cut. Returns the packets cut.
 */
export async function cutAfter(path: string, limitMs: number): Promise<number> {
  const limitSec = Math.floor(limitMs / 1000);
  const limitNsec = (limitMs % 1000) * 1e6;
  let cutAt: number | null = null;
  let cut = 0;
  const read = await eachRecord(
    path,
    (r) => {
      if (cutAt === null && (r.sec > limitSec || (r.sec === limitSec && r.nsec > limitNsec))) cutAt = r.fileOffset;
      if (cutAt !== null) cut++;
    },
    () => false,
  );
  if (read === null || cutAt === null) return 0;
  await truncate(path, cutAt);
  return cut;
}

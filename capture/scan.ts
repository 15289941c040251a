/**
 * Packets and time range of one capture file, for the manifest. Read with the project's own pcap
 * reader (src/pcap: pure, no dependencies) in 1 MiB reads into one reused buffer; only record
 * headers are looked at. A file is read once, after tcpdump has moved on to the next one.
 */
import { open } from 'node:fs/promises';
import { sniff } from '../src/pcap/detect.js';
import { Step } from '../src/pcap/record.js';

export interface FileScan {
  packets: number;
  /** ISO 8601 UTC, microseconds; null when the file holds no packet. */
  firstPacket: string | null;
  lastPacket: string | null;
  /** The file ends inside a record. */
  truncated: boolean;
}

const CHUNK = 1 << 20;

/** `2026-01-02T03:04:05.123456Z` */
export function isoMicros(sec: number, nsec: number): string {
  const us = Math.floor(nsec / 1000);
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`;
}

/**
 * `cancelled()` is polled between reads: when it returns true the scan stops and null is returned.
 * Null too when the file is not a pcap/pcapng file (it is then not one of ours).
 */
export async function scanCaptureFile(path: string, cancelled: () => boolean = () => false): Promise<FileScan | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = (await fh.read(buf, 0, CHUNK, 0)).bytesRead;
    const s = sniff(buf.subarray(0, Math.min(pos, 16)));
    if (s.kind !== 'capture') return pos === 0 ? { packets: 0, firstPacket: null, lastPacket: null, truncated: false } : null;
    const p = s.parser;
    let packets = 0;
    let ended = false;
    let minSec = Infinity;
    let minNsec = 0;
    let maxSec = -Infinity;
    let maxNsec = 0;
    p.push(buf.subarray(0, pos));
    for (;;) {
      const step = p.next();
      if (step === Step.Record) {
        const r = p.record;
        packets++;
        if (r.tsSec < minSec || (r.tsSec === minSec && r.tsNsec < minNsec)) {
          minSec = r.tsSec;
          minNsec = r.tsNsec;
        }
        if (r.tsSec > maxSec || (r.tsSec === maxSec && r.tsNsec > maxNsec)) {
          maxSec = r.tsSec;
          maxNsec = r.tsNsec;
        }
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
    const tail = p.finish();
    return {
      packets,
      firstPacket: packets > 0 ? isoMicros(minSec, minNsec) : null,
      lastPacket: packets > 0 ? isoMicros(maxSec, maxNsec) : null,
      truncated: tail !== null,
    };
  } finally {
    await fh.close();
  }
}

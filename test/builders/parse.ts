/**
 * Drive a capture parser over bytes cut into chunks, the way a file source would, and collect
 * copies of every record. With `reuse`, every chunk is copied into one buffer that is scribbled
 * over before each refill: a parser that keeps a view into an old chunk after `NeedMore` returns
 * wrong bytes.
 */
import { Step, type CaptureParser, type CaptureProblem } from '../../src/pcap/record.js';

export interface Rec {
  tsSec: number;
  tsNsec: number;
  caplen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
  fileOffset: number;
  bytes: Uint8Array;
}

export interface Parsed {
  records: Rec[];
  /** parser.error after Step.Error, else null. */
  error: CaptureProblem | null;
  /** finish() at the end of the input (null when the input ended on a boundary, or after an error). */
  tail: CaptureProblem | null;
  /** Number of push() calls. */
  pushes: number;
}

export interface ParseOptions {
  /** Chunk boundaries: offsets at which the input is cut (sorted, within the input). */
  cuts?: readonly number[];
  /** Or: a fixed chunk size. */
  chunkSize?: number;
  /** Copy every chunk into one reused buffer (overwritten with 0xee before each refill). */
  reuse?: boolean;
  /** Stop with an assertion error after this many next() calls (guards against a stuck parser). */
  maxSteps?: number;
  /** Call end() and drain next() before finish(), as the file reader does (default true). */
  end?: boolean;
}

function chunkRanges(len: number, o: ParseOptions): [number, number][] {
  const out: [number, number][] = [];
  if (o.cuts) {
    let at = 0;
    for (const c of o.cuts) {
      if (c > at && c < len) {
        out.push([at, c]);
        at = c;
      }
    }
    if (at < len) out.push([at, len]);
    return out;
  }
  const size = o.chunkSize ?? (len || 1);
  for (let at = 0; at < len; at += size) out.push([at, Math.min(len, at + size)]);
  return out;
}

export function parseBytes(parser: CaptureParser, input: Uint8Array, o: ParseOptions = {}): Parsed {
  const ranges = chunkRanges(input.length, o);
  const maxChunk = ranges.reduce((m, [a, b]) => Math.max(m, b - a), 0);
  const shared = o.reuse ? new Uint8Array(maxChunk) : null;
  const maxSteps = o.maxSteps ?? 10_000_000;
  const records: Rec[] = [];
  let next = 0;
  let pushes = 0;
  let ended = o.end === false;
  for (let steps = 0; ; steps++) {
    if (steps > maxSteps) throw new Error(`parser did not finish within ${maxSteps} steps`);
    const step = parser.next();
    if (step === Step.Record) {
      const r = parser.record;
      records.push({
        tsSec: r.tsSec,
        tsNsec: r.tsNsec,
        caplen: r.caplen,
        origLen: r.origLen,
        linkType: r.linkType,
        interfaceId: r.interfaceId,
        fileOffset: r.fileOffset,
        bytes: r.data.slice(r.offset, r.offset + r.caplen),
      });
      continue;
    }
    if (step === Step.Error) return { records, error: parser.error, tail: null, pushes };
    if (next >= ranges.length) {
      if (!ended) {
        ended = true;
        parser.end();
        continue;
      }
      return { records, error: null, tail: parser.finish(), pushes };
    }
    const [a, b] = ranges[next++]!;
    let chunk = input.subarray(a, b);
    if (shared) {
      shared.fill(0xee);
      shared.set(chunk);
      chunk = shared.subarray(0, b - a);
    }
    parser.push(chunk);
    pushes++;
  }
}

/** Deterministic pseudo-random chunk cuts (xorshift), sizes 1..maxSize. */
export function randomCuts(len: number, seed: number, maxSize: number): number[] {
  let s = seed >>> 0 || 1;
  const cuts: number[] = [];
  for (let at = 0; at < len; ) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    at += 1 + (s % maxSize);
    if (at < len) cuts.push(at);
  }
  return cuts;
}

/**
 * What every capture parser yields: one captured packet, as a view into the parser's buffer.
 *
 * The object is reused: its fields (and the bytes `data[offset .. offset+caplen)`) are valid only
 * until the parser's next `next()` or `push()`. Consumers that need bytes later must copy them.
 */
export interface PacketRecord {
  /** Buffer holding the packet bytes (a chunk of the file or the parser's spill buffer). */
  data: Uint8Array;
  /** Start of the packet in `data`. */
  offset: number;
  /** Bytes captured (present in `data`). */
  caplen: number;
  /** Bytes the packet had on the wire; more than `caplen` when the snap length cut it. */
  origLen: number;
  /** Timestamp: whole seconds since the Unix epoch (UTC). */
  tsSec: number;
  /** Timestamp: nanoseconds within the second, 0 ≤ tsNsec < 1e9. */
  tsNsec: number;
  /** LINKTYPE_* value of the interface the packet was captured on. */
  linkType: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
  /** Byte offset of the record's header in the (decompressed) file. */
  fileOffset: number;
}

export function newPacketRecord(): PacketRecord {
  return { data: new Uint8Array(0), offset: 0, caplen: 0, origLen: 0, tsSec: 0, tsNsec: 0, linkType: 0, interfaceId: 0, fileOffset: 0 };
}

/** Result of one `CaptureParser.next()` call. */
export const enum Step {
  /** `parser.record` holds the next packet. */
  Record = 0,
  /** The parser needs the next chunk of input (`push`); at end of input, `end()` then `finish()`. */
  NeedMore = 1,
  /** A non-recoverable error; `parser.error` describes it. No further records. */
  Error = 2,
}

/** Why a capture could not be read (further), with the byte offset where it happened. */
export interface CaptureProblem {
  /** Byte offset in the (decompressed) file. */
  offset: number;
  /** One line: what was found and what was expected. */
  message: string;
}

/** Interface description, as pcapng declares it (classic pcap: one implicit interface). */
export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  name: string | null;
  description: string | null;
  /** Timestamp units per second (1e6 for microsecond pcap, 1e9 for nanosecond). */
  unitsPerSecond: number;
  /** pcapng if_tsoffset: seconds added to every timestamp. */
  tsOffsetSec: number;
  /** Kernel drop counters from pcapng interface statistics blocks, when present. */
  stats: InterfaceStats | null;
}

export interface InterfaceStats {
  received: number | null;
  droppedByInterface: number | null;
  droppedByOs: number | null;
  deliveredToUser: number | null;
}

/** Damage found and skipped while reading; reading went on after it. */
export interface ResyncNotice {
  offset: number;
  skippedBytes: number;
  message: string;
}

export type CaptureFormat = 'pcap' | 'pcap-nsec' | 'pcap-modified' | 'pcapng';

/** Common contract of the classic pcap and pcapng parsers (pull-based, fed with chunks). */
export interface CaptureParser {
  readonly format: CaptureFormat;
  /** The current packet after `next()` returned `Step.Record`. */
  readonly record: PacketRecord;
  /** Set when `next()` returned `Step.Error`. */
  readonly error: CaptureProblem | null;
  /** Supply the next chunk of input; only after `next()` returned `Step.NeedMore`. */
  push(chunk: Uint8Array): void;
  next(): Step;
  /**
   * No more input will be pushed. Optional before `finish()`: call `next()` until it returns
   * `NeedMore` again to get the records that only the end of input can confirm (after damage, the
   * parser resynchronises on a record whose successor is the end of the file).
   */
  end(): void;
  /**
   * End of input. Returns the incomplete tail (a record cut by the end of the file), or null when
   * the file ended on a record boundary.
   */
  finish(): CaptureProblem | null;
  /** Interfaces declared so far (all sections). */
  readonly interfaces: readonly CaptureInterface[];
  /** Bytes skipped because of damage, with where and why (the parser resynchronised after them). */
  readonly resyncs: readonly ResyncNotice[];
  /** pcapng blocks that carry no packets and were skipped, by block type name. */
  readonly skippedBlocks: ReadonlyMap<string, number>;
  /** Bytes consumed so far (file offset of the next record). */
  readonly offset: number;
}

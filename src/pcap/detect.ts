/** Pick the parser from a file's first bytes (the magic number), never from its name. */
import { PcapParser, pcapMagicInfo } from './pcap.js';
import { PcapngParser, isPcapngMagic } from './pcapng.js';
import type { CaptureParser } from './record.js';

export type Sniffed =
  | { kind: 'capture'; parser: CaptureParser }
  | { kind: 'gzip' }
  | { kind: 'unknown'; message: string };

const KNOWN_OTHER: readonly [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (unzip it first)'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd-compressed file (decompress it with `zstd -d` first)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'an xz-compressed file (decompress it with `xz -d` first)'],
  [[0x42, 0x5a, 0x68], 'a bzip2-compressed file (decompress it with `bunzip2` first)'],
  [[0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00, 0x00, 0x00], 'a snoop capture (convert it with `editcap -F pcap FILE OUT.pcap`)'],
  [[0x58, 0x43, 0x50, 0x00], 'a NetXRay/Sniffer capture (convert it with `editcap -F pcap FILE OUT.pcap`)'],
  [[0x7b, 0x22], "JSON: a Periscope summary is read by 'periscope merge SUMMARY…' (events by jq)"],
];

/** Needs at least 4 bytes (fewer: 'unknown'). */
export function sniff(head: Uint8Array): Sniffed {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { kind: 'gzip' };
  if (pcapMagicInfo(head) !== null) return { kind: 'capture', parser: new PcapParser() };
  if (isPcapngMagic(head)) return { kind: 'capture', parser: new PcapngParser() };
  for (const [magic, what] of KNOWN_OTHER) {
    if (magic.every((v, i) => head[i] === v)) return { kind: 'unknown', message: `not a capture file: this is ${what}` };
  }
  // A tar archive ("ustar" at byte 257; seen whole once a .tar.gz is gunzipped): a bundle, most likely.
  if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') {
    return { kind: 'unknown', message: "not a capture file: this is a tar archive (a Periscope bundle is looked into by 'periscope inspect BUNDLE', and read by analyze, advise, diff and merge)" };
  }
  if (head.length < 4) return { kind: 'unknown', message: `not a capture file: only ${head.length} bytes long` };
  const hex = Array.from(head.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return { kind: 'unknown', message: `not a capture file: starts with ${hex}, expected a pcap (a1 b2 c3 d4, a1 b2 3c 4d, either byte order), pcapng (0a 0d 0d 0a) or gzip (1f 8b) magic` };
}

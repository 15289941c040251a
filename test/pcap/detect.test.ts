import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { sniff } from '../../src/pcap/detect.js';
import { PcapParser } from '../../src/pcap/pcap.js';
import { PcapngParser } from '../../src/pcap/pcapng.js';
import { PcapWriter, PcapngWriter, ascii } from '../builders/capture-builder.js';

test('sniff: captures by magic, in every byte order and variant', () => {
  const table: [string, Uint8Array, typeof PcapParser | typeof PcapngParser][] = [
    ['pcap µs LE', new PcapWriter().build(), PcapParser],
    ['pcap µs BE', new PcapWriter({ le: false }).build(), PcapParser],
    ['pcap ns LE', new PcapWriter({ nsec: true }).build(), PcapParser],
    ['pcap ns BE', new PcapWriter({ nsec: true, le: false }).build(), PcapParser],
    ['pcap modified', new PcapWriter({ modified: true }).build(), PcapParser],
    ['pcapng LE', new PcapngWriter().shb().build(), PcapngParser],
    ['pcapng BE', new PcapngWriter().shb({ le: false }).build(), PcapngParser],
  ];
  for (const [name, bytes, cls] of table) {
    const s = sniff(bytes.subarray(0, 16));
    assert.equal(s.kind, 'capture', name);
    assert.ok(s.kind === 'capture' && s.parser instanceof cls, name);
  }
});

test('sniff: gzip, other known formats and unknown bytes', () => {
  assert.deepEqual(sniff(gzipSync(new PcapWriter().build()).subarray(0, 16)), { kind: 'gzip' });
  const table: [number[], RegExp][] = [
    [[0x50, 0x4b, 0x03, 0x04, 0], /this is a zip archive/],
    [[0x28, 0xb5, 0x2f, 0xfd, 0], /zstd-compressed.*zstd -d/],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0], /xz-compressed/],
    [[0x42, 0x5a, 0x68, 0x39], /bzip2-compressed/],
    [[0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00, 0x00, 0x00], /snoop capture/],
    [[0x58, 0x43, 0x50, 0x00], /NetXRay/],
    [Array.from(ascii('{"format":"periscope-summary"')), /this is JSON: a Periscope summary is read by 'periscope merge SUMMARY…'/],
    [[...ascii('report.json'), ...new Array<number>(246).fill(0), ...ascii('ustar'), 0, 0x30, 0x30], /this is a tar archive \(a Periscope bundle is looked into by 'periscope inspect BUNDLE'/],
    [[1, 2, 3], /only 3 bytes long/],
    [[], /only 0 bytes long/],
    [Array.from(ascii('hello world')), /starts with 68 65 6c 6c, expected a pcap/],
  ];
  for (const [bytes, message] of table) {
    const s = sniff(Uint8Array.from(bytes));
    assert.equal(s.kind, 'unknown');
    assert.ok(s.kind === 'unknown');
    assert.match(s.message, message);
    assert.match(s.message, /^not a capture file: /);
  }
});

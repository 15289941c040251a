/**
 * The checked-in captures of every link layer (test/fixtures/captures): Periscope's view must
 * agree with capinfos (packet counts) and tshark (per-packet TCP fields), and with the workload
 * that produced them. The tshark comparison needs Wireshark's tools: skipped without them on a
 * laptop, required in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { have, requireLive } from './env.js';
import { capinfosPackets, tsharkTcp, periscopeTcp } from './oracle.js';
import { infoJson, repoRoot } from '../cli/run.js';

const dir = join(repoRoot, 'test/fixtures/captures');

interface Expect {
  file: string;
  linkType: string;
  packets: number;
  connections: number;
  server: string;
  vlan?: number;
  /** Payload bytes the capture missed (the server's 30-byte OK after login, for the lossy one). */
  bytesLost?: number;
}

const sampleShape = { packets: 84, connections: 2, server: '127.0.0.1:3306' };
const cases: Expect[] = [
  { file: 'vlan-qinq.pcap', linkType: 'EN10MB (Ethernet)', ...sampleShape, vlan: 84 },
  { file: 'raw-101.pcap', linkType: 'RAW (raw IP)', ...sampleShape },
  { file: 'raw-12-big-endian.pcap', linkType: 'RAW (raw IP, DLT 12)', ...sampleShape },
  { file: 'null-0.pcap', linkType: 'NULL (BSD loopback)', ...sampleShape },
  { file: 'loop-108.pcap', linkType: 'LOOP (OpenBSD loopback)', ...sampleShape },
  { file: 'ipv4-228.pcap', linkType: 'IPV4', ...sampleShape },
  { file: 'linux-sll-v1.pcap', linkType: 'LINUX_SLL (Linux cooked v1)', packets: 45, connections: 1, server: '127.0.0.1:3306' },
  { file: 'linux-sll2-any.pcap', linkType: 'LINUX_SLL2 (Linux cooked v2)', packets: 45, connections: 1, server: '127.0.0.1:3306' },
  { file: 'linux-sll2-lost-packet.pcap', linkType: 'LINUX_SLL2 (Linux cooked v2)', packets: 44, connections: 1, server: '127.0.0.1:3306', bytesLost: 30 },
  { file: 'ipv6-loopback.pcap', linkType: 'EN10MB (Ethernet)', packets: 45, connections: 1, server: '[::1]:3306' },
];

const wireshark = (await have('tshark')) && (await have('capinfos'));
if (!wireshark && requireLive) throw new Error('tshark and capinfos are required in CI (apt-get install tshark)');
const oracle = wireshark ? {} : { skip: 'skipped: tshark/capinfos not installed (apt-get install tshark)' };

for (const c of cases) {
  test(`${c.file}: ${c.linkType}, ${c.packets} packets, ${c.connections} connection(s) to ${c.server}`, async () => {
    const { code, report } = await infoJson(join(dir, c.file));
    assert.equal(code, 0);
    assert.deepEqual(report.files[0]!.link_types, { [c.linkType]: c.packets });
    assert.equal(report.totals.packets, c.packets);
    assert.equal(report.tcp.packets, c.packets, 'every packet is TCP');
    assert.equal(report.skipped.total, 0);
    assert.equal(report.tcp.connections, c.connections);
    assert.equal(report.tcp.vlan_tagged_packets, c.vlan ?? 0);
    assert.equal(report.tcp.bytes_lost, c.bytesLost ?? 0);
    assert.equal(report.tcp.gaps, c.bytesLost ? 1 : 0);
    assert.equal(report.tcp.connections_complete, c.connections);
    assert.equal(report.tcp.payload_bytes_delivered, report.tcp.payload_bytes, 'every captured payload byte delivered once (lost bytes were never captured)');
    assert.deepEqual(
      report.mysql_servers.map((s) => [s.endpoint, s.detected_by, s.connections]),
      [[c.server, 'greeting', c.connections]],
    );
  });
  test(`${c.file}: agrees with capinfos and tshark`, oracle, async () => {
    const file = join(dir, c.file);
    assert.equal(await capinfosPackets(file), c.packets);
    assert.deepEqual(await periscopeTcp([file]), await tsharkTcp(file));
  });
}

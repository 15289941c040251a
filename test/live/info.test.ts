/**
 * Real tcpdump, real MariaDB: capture the workload on loopback in every way a user might, and
 * check `periscope info` against capinfos and tshark (packet counts, per-packet TCP fields),
 * and against what the workload did (connections, server).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, copyFile, readFile, writeFile, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { liveTestOptions, mysqlSettings } from './env.js';
import { captureWhile } from './tcpdump.js';
import { runWorkload, type WorkloadResult } from './workload.js';
import { capinfosPackets, tsharkTcp, periscopeTcp } from './oracle.js';
import { infoJson, periscope } from '../cli/run.js';

const opts = await liveTestOptions();
let dir = '';
let loFile = '';
let loRun: WorkloadResult;

before(async () => {
  if (opts.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'periscope-live-'));
  loFile = join(dir, 'lo.pcap');
  loRun = await captureWhile({ file: loFile }, () => runWorkload(mysqlSettings(), { connections: 3 }));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function assertAgreesWithWireshark(file: string, expectPackets?: number): Promise<void> {
  const { code, report } = await infoJson(file);
  assert.equal(code, 0);
  const n = await capinfosPackets(file);
  assert.ok(n > 0, 'the capture holds packets');
  assert.equal(report.totals.packets, n, 'packet count agrees with capinfos');
  if (expectPackets !== undefined) assert.equal(n, expectPackets);
  assert.deepEqual(await periscopeTcp([file]), await tsharkTcp(file), 'per-packet ports, TCP length, flags and sequence agree with tshark');
}

test('tcpdump -i lo (Ethernet): counts, connections and server agree with capinfos, tshark and the workload', opts, async () => {
  await assertAgreesWithWireshark(loFile);
  const { report } = await infoJson(loFile);
  assert.equal(report.files[0]!.format, 'pcap');
  assert.deepEqual(Object.keys(report.files[0]!.link_types), ['EN10MB (Ethernet)']);
  assert.equal(report.tcp.connections, loRun.connections);
  assert.equal(report.tcp.connections_complete, loRun.connections);
  assert.equal(report.tcp.closed_by_fin, loRun.connections);
  assert.equal(report.tcp.connections_mid_stream, 0);
  assert.equal(report.tcp.gaps, 0, 'nothing lost on loopback');
  assert.equal(report.tcp.payload_bytes_delivered, report.tcp.payload_bytes, 'every payload byte delivered once');
  assert.equal(report.skipped.total, 0);
  const [server] = report.mysql_servers;
  assert.equal(report.mysql_servers.length, 1);
  assert.equal(server!.endpoint, '127.0.0.1:3306');
  assert.equal(server!.detected_by, 'greeting');
  assert.match(server!.version!, /MariaDB/);
  assert.equal(server!.connections, loRun.connections);
});

test('the same capture as pcapng, nanosecond pcap, modified pcap and gzip reads identically', opts, async () => {
  const { report: base } = await infoJson(loFile);
  const ng = join(dir, 'lo.pcapng');
  const ns = join(dir, 'lo-ns.pcap');
  await execa('editcap', ['-F', 'pcapng', loFile, ng]);
  await execa('editcap', ['-F', 'nsecpcap', loFile, ns]);
  const mod = join(dir, 'lo-modified.pcap');
  await execa('editcap', ['-F', 'modpcap', loFile, mod]);
  const gz = join(dir, 'lo.pcapng.gz');
  await execa('sh', ['-c', `gzip -c '${ng}' > '${gz}'`]);
  for (const [file, format] of [
    [ng, 'pcapng'],
    [ns, 'pcap-nsec'],
    [mod, 'pcap-modified'],
    [gz, 'pcapng'],
  ] as const) {
    await assertAgreesWithWireshark(file, base.totals.packets);
    const { report } = await infoJson(file);
    assert.equal(report.files[0]!.format, format, file);
    assert.equal(report.files[0]!.gzip, file.endsWith('.gz'));
    // (A nanosecond file prints 9 digits; the microseconds are the same.)
    assert.equal(report.totals.first!.slice(0, 26), base.totals.first!.slice(0, 26), `${file}: same first timestamp`);
    assert.equal(report.totals.last!.slice(0, 26), base.totals.last!.slice(0, 26), `${file}: same last timestamp`);
    assert.deepEqual(report.tcp, base.tcp, `${file}: same TCP view`);
  }
});

test('tcpdump -i any (Linux cooked v2) agrees with capinfos and tshark', opts, async () => {
  const file = join(dir, 'any.pcap');
  const run = await captureWhile({ file, iface: 'any' }, () => runWorkload(mysqlSettings(), { connections: 1 }));
  await assertAgreesWithWireshark(file);
  const { report } = await infoJson(file);
  assert.deepEqual(Object.keys(report.files[0]!.link_types), ['LINUX_SLL2 (Linux cooked v2)']);
  assert.equal(report.tcp.connections, run.connections);
  assert.equal(report.mysql_servers[0]!.endpoint, '127.0.0.1:3306');
});

test('IPv6 over ::1 agrees with capinfos and tshark', opts, async () => {
  const file = join(dir, 'v6.pcap');
  const run = await captureWhile({ file, filter: 'ip6 and tcp port 3306' }, () => runWorkload(mysqlSettings('::1'), { connections: 1 }));
  await assertAgreesWithWireshark(file);
  const { report } = await infoJson(file);
  assert.equal(report.tcp.connections, run.connections);
  assert.equal(report.mysql_servers[0]!.endpoint, '[::1]:3306');
  assert.equal(report.mysql_servers[0]!.detected_by, 'greeting');
});

test('a capture split into rotated files reads as one: same packets, connections continue across files', opts, async () => {
  const rotated = join(dir, 'rotated');
  await mkdir(rotated);
  await execa('editcap', ['-c', '25', loFile, join(rotated, 'part.pcap')]);
  await writeFile(join(rotated, 'capture.json'), '{"not":"a capture"}\n');
  const { report: whole } = await infoJson(loFile);
  const { code, report } = await infoJson(rotated);
  assert.equal(code, 0);
  assert.ok(report.totals.files > 2, 'several parts');
  assert.equal(report.files.filter((f) => f.status.startsWith('ignored')).length, 1, 'the manifest is ignored, not an error');
  assert.equal(report.totals.packets, whole.totals.packets);
  assert.deepEqual(report.tcp, whole.tcp, 'connections are not split by file boundaries');
  assert.deepEqual(await periscopeTcp([rotated]), await tsharkTcp(loFile), 'packets come in the original order');
});

test('a capture cut mid-record (tcpdump killed while writing): all before is read, warning names file and offset, exit 0', opts, async () => {
  const cut = join(dir, 'cut.pcap');
  await copyFile(loFile, cut);
  const size = (await stat(cut)).size;
  await truncate(cut, size - 10);
  const r = await periscope('info', '--json', cut);
  assert.equal(r.code, 0);
  const report = JSON.parse(r.stdout) as { totals: { packets: number } };
  const whole = await capinfosPackets(loFile);
  assert.equal(report.totals.packets, whole - 1);
  assert.match(r.stderr, new RegExp(`${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte \\d+: last record is incomplete`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  // And the same for a gzip file whose compressed stream is cut.
  const gz = join(dir, 'cut.pcap.gz');
  await execa('sh', ['-c', `gzip -c '${loFile}' > '${gz}'`]);
  const bytes = await readFile(gz);
  await writeFile(gz, bytes.subarray(0, bytes.length - 40));
  const g = await periscope('info', gz);
  assert.equal(g.code, 0);
  assert.match(g.stderr, /cut\.pcap\.gz: byte \d+ \(decompressed\): .*(incomplete|ends early)/);
});

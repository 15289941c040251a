/** The BPF filter and tcpdump argv builder, and the capture options (pure: no tcpdump needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFilter, captureFiles, CAPTURE_FILE_NAME, DEFAULT_BUFFER_SIZE, filterCheckArgs, hostTerm, rotateMillions, tcpdumpArgs, utcStamp, type TcpdumpSpec } from '../../capture/argv.js';
import { captureOptions, defaultMinFree, minFreeBytes } from '../../capture/options.js';
import { OptionError } from '../../capture/units.js';

test('filter: one port, several ports, hosts, networks and an extra expression, each part parenthesised', () => {
  assert.equal(buildFilter({ ports: [3306], hosts: [], extra: null }), 'tcp port 3306');
  assert.equal(buildFilter({ ports: [3306, 3307, 3306], hosts: [], extra: null }), 'tcp and (port 3306 or port 3307)');
  assert.equal(buildFilter({ ports: [3306], hosts: ['10.0.0.5'], extra: null }), 'tcp port 3306 and host 10.0.0.5');
  assert.equal(buildFilter({ ports: [3306], hosts: ['10.0.0.5', '::1', '10.1.0.0/16', 'db-1.example.com'], extra: null }), 'tcp port 3306 and (host 10.0.0.5 or host ::1 or net 10.1.0.0/16 or host db-1.example.com)');
  // An `or` in the extra filter cannot widen the capture beyond the port.
  assert.equal(buildFilter({ ports: [3306], hosts: [], extra: ' not port 22 or host 1.2.3.4 ' }), 'tcp port 3306 and (not port 22 or host 1.2.3.4)');
  assert.equal(buildFilter({ ports: [3306], hosts: [], extra: '   ' }), 'tcp port 3306');
});

test('filter: hosts that would change the expression, and bad ports, are refused', () => {
  for (const bad of ['10.0.0.1 or port 22', '(host', 'a b', '', '10.0.0.0/33', '::1/129', '-x', 'host..example']) {
    assert.throws(() => hostTerm(bad), OptionError, bad);
  }
  assert.equal(hostTerm('fe80::1'), 'host fe80::1');
  assert.equal(hostTerm('2001:db8::/32'), 'net 2001:db8::/32');
  for (const p of [0, 65536, 1.5, NaN]) assert.throws(() => buildFilter({ ports: [p], hosts: [], extra: null }), OptionError);
  assert.throws(() => buildFilter({ ports: [], hosts: [], extra: null }), OptionError);
});

const base: TcpdumpSpec = {
  iface: 'any',
  filter: 'tcp port 3306',
  snaplen: 0,
  bufferKiB: null,
  maxPackets: null,
  user: null,
  output: { kind: 'files', files: { template: '/cap/periscope-20260102-030405.pcap', first: 'periscope-20260102-030405.pcap' }, rotateMillions: null, rotateSeconds: null },
};

test('argv: whole packets, -v for the once-a-second counter, the filter last after --', () => {
  assert.deepEqual(tcpdumpArgs(base), ['-i', 'any', '-s', '0', '-v', '-w', '/cap/periscope-20260102-030405.pcap', '--', 'tcp port 3306']);
  assert.ok(!tcpdumpArgs(base).includes('--immediate-mode'), 'no immediate mode (see docs/capture.md)');
  assert.ok(!tcpdumpArgs(base).includes('-U'), 'files are written through the stdio buffer');
});

test('argv: buffer, packet limit, -Z user, size and time rotation', () => {
  const a = tcpdumpArgs({ ...base, snaplen: 512, bufferKiB: 32768, maxPackets: 1000, user: 'alice', output: { kind: 'files', files: { template: '/cap/periscope-%Y%m%d-%H%M%S.pcap', first: null }, rotateMillions: 100, rotateSeconds: 300 } });
  assert.deepEqual(a, ['-i', 'any', '-s', '512', '-v', '-B', '32768', '-c', '1000', '-Z', 'alice', '-w', '/cap/periscope-%Y%m%d-%H%M%S.pcap', '-G', '300', '-C', '100', '-W', '1000000', '--', 'tcp port 3306']);
});

test('argv: pcap on stdout for periscope live, packet-buffered or not', () => {
  assert.deepEqual(tcpdumpArgs({ ...base, iface: 'lo', output: { kind: 'stdout', packetBuffered: true } }), ['-i', 'lo', '-s', '0', '-w', '-', '-U', '--', 'tcp port 3306'], 'no -v: its SIGALRM would interrupt writes to a full pipe (issue 21)');
  assert.deepEqual(tcpdumpArgs({ ...base, output: { kind: 'stdout', packetBuffered: false } }).slice(4, 6), ['-w', '-']);
  assert.deepEqual(filterCheckArgs('lo', 'tcp port 3306'), ['-i', 'lo', '-d', '--', 'tcp port 3306']);
});

test('file names: fixed start time, tcpdump numbers with -C, strftime with -G (a % in the directory is escaped)', () => {
  const t = new Date('2026-01-02T03:04:05.678Z');
  assert.equal(utcStamp(t), '20260102-030405');
  assert.deepEqual(captureFiles('/cap', t, null, null), { template: '/cap/periscope-20260102-030405.pcap', first: 'periscope-20260102-030405.pcap' });
  assert.deepEqual(captureFiles('/cap/', t, null, 5), { template: '/cap/periscope-20260102-030405.pcap', first: 'periscope-20260102-030405.pcap000000' });
  assert.deepEqual(captureFiles('/cap/100%', t, 60, null), { template: '/cap/100%%/periscope-%Y%m%d-%H%M%S.pcap', first: null });
  assert.deepEqual(captureFiles('/cap/100%', t, null, null).template, '/cap/100%/periscope-20260102-030405.pcap');
  for (const ok of ['periscope-20260102-030405.pcap', 'periscope-20260102-030405.pcap000000', 'periscope-20260102-030405.pcap999999']) assert.match(ok, CAPTURE_FILE_NAME);
  for (const no of ['capture.json', 'capture.pid', '.capture.json.tmp', 'periscope-20260102-030405.pcap1', 'x-periscope-20260102-030405.pcap']) assert.doesNotMatch(no, CAPTURE_FILE_NAME);
});

test('rotation size: tcpdump counts whole millions of bytes', () => {
  assert.equal(rotateMillions(100e6), 100);
  assert.equal(rotateMillions(100 * 1024 * 1024), 105);
  assert.equal(rotateMillions(1), 1);
});

test('options: defaults, units applied, paths made absolute', () => {
  const o = captureOptions({ out: 'cap', ports: [] }, '/var/tmp');
  assert.equal(o.out, '/var/tmp/cap');
  assert.equal(o.iface, 'any');
  assert.deepEqual(o.ports, [3306]);
  assert.equal(o.bpf, 'tcp port 3306');
  assert.equal(o.snaplen, 0);
  assert.equal(o.minFreeDisk, null);
  const p = captureOptions({ out: '/c', ports: [3307], host: ['10.0.0.1,10.0.0.2'], filter: 'not host 10.0.0.9', interface: 'eth0', rotateSize: '100MiB', rotateSeconds: '15m', maxFiles: '10', maxTotal: '2GB', minFreeDisk: '10%', duration: '1h30m', maxPackets: 5000, bufferSize: '32MiB', snaplen: 1500 });
  assert.equal(p.bpf, 'tcp port 3307 and (host 10.0.0.1 or host 10.0.0.2) and (not host 10.0.0.9)');
  assert.equal(p.rotateSize, 105e6);
  assert.equal(p.rotateSeconds, 900);
  assert.equal(p.maxFiles, 10);
  assert.equal(p.maxTotal, 2e9);
  assert.deepEqual(p.minFreeDisk, { percent: 10 });
  assert.equal(p.duration, 5400);
  assert.equal(p.maxPackets, 5000);
  assert.equal(p.bufferSize, 32 * 1024 * 1024);
  assert.equal(p.snaplen, 1500);
});

test('options: mistakes are usage errors naming the option', () => {
  const bad: [Parameters<typeof captureOptions>[0], RegExp][] = [
    [{ out: '', ports: [] }, /--out/],
    [{ out: '/c', ports: [], maxFiles: '3' }, /--max-files .*--rotate-size or --rotate-seconds/],
    [{ out: '/c', ports: [], rotateSize: '100KB' }, /--rotate-size 100KB: .*millions/],
    [{ out: '/c', ports: [], rotateSize: 'big' }, /--rotate-size big: expected a size/],
    [{ out: '/c', ports: [], rotateSeconds: '1.5' }, /--rotate-seconds 1\.5: .*whole seconds/],
    [{ out: '/c', ports: [], duration: '0' }, /--duration 0/],
    [{ out: '/c', ports: [], duration: '10 minutes' }, /--duration 10 minutes/],
    [{ out: '/c', ports: [], maxPackets: '-1' }, /--max-packets -1/],
    [{ out: '/c', ports: [], maxFiles: '0', rotateSize: '1MB' }, /--max-files 0/],
    [{ out: '/c', ports: [], minFreeDisk: '120%' }, /--min-free-disk 120%/],
    [{ out: '/c', ports: [], maxTotal: '0' }, /--max-total 0/],
    [{ out: '/c', ports: [], snaplen: 300000 }, /--snaplen 300000/],
    [{ out: '/c', ports: [], snaplen: NaN }, /--snaplen/],
    [{ out: '/c', ports: [], host: ['1.2.3.4 or port 22'] }, /--host 1\.2\.3\.4 or port 22/],
    [{ out: '/c', ports: [], interface: ' ' }, /--interface/],
    [{ out: '/c', ports: [], bufferSize: '10' }, /--buffer-size 10/],
  ];
  for (const [args, re] of bad) assert.throws(() => captureOptions(args, '/'), (e: Error) => e instanceof OptionError && re.test(e.message), JSON.stringify(args));
});

test('free-space margin: 15% of the disk, at most 4 GB, unless given', () => {
  assert.equal(defaultMinFree(10e9), 1.5e9);
  assert.equal(defaultMinFree(1e12), 4e9);
  assert.equal(minFreeBytes(null, 10e9), 1.5e9);
  assert.equal(minFreeBytes({ bytes: 0 }, 10e9), 0);
  assert.equal(minFreeBytes({ percent: 1 }, 10e9), 1e8);
});

test("the kernel buffer is 64 MiB unless --buffer-size says otherwise (libpcap's 2 MiB dropped packets at 10,000 queries/s)", () => {
  const p = captureOptions({ out: '/c', ports: [] });
  assert.equal(p.bufferSize, 64 * 1024 * 1024);
  assert.equal(DEFAULT_BUFFER_SIZE, 64 * 1024 * 1024);
  assert.equal(captureOptions({ out: '/c', ports: [], bufferSize: '2MiB' }).bufferSize, 2 * 1024 * 1024);
});

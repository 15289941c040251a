/** The manifest contract: what is written is read back; a bad file is a clear error. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile, readdir, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, parseManifest, readManifest, writeManifest, type CaptureManifest } from '../../capture/manifest.js';
import { renderStatus, statusLine, summary } from '../../capture/status.js';

const SAMPLE: CaptureManifest = {
  format: 'periscope-capture',
  version: 1,
  periscope: '0.1.0',
  host: 'db1',
  interface: 'any',
  linkType: 'LINUX_SLL2 (Linux cooked v2)',
  filter: 'tcp port 3306',
  snaplen: 262144,
  tcpdump: 'tcpdump version 4.99.3',
  libpcap: 'libpcap version 1.10.3 (with TPACKET_V3)',
  tcpdumpArgs: ['-i', 'any', '-s', '0', '-v', '-w', '/cap/periscope-20260102-030405.pcap', '--', 'tcp port 3306'],
  user: 'alice',
  startedAt: '2026-01-02T03:04:05.000Z',
  endedAt: '2026-01-02T03:09:05.000Z',
  updatedAt: '2026-01-02T03:09:06.000Z',
  ended: { reason: 'signal', detail: 'SIGINT' },
  files: [{ name: 'periscope-20260102-030405.pcap000001', bytes: 1000874, firstPacket: '2026-01-02T03:04:06.000001Z', lastPacket: '2026-01-02T03:09:04.999999Z', packets: 925, truncated: false }],
  deleted: [{ name: 'periscope-20260102-030405.pcap000000', bytes: 1000218, firstPacket: null, lastPacket: null, packets: null, truncated: false, deletedAt: '2026-01-02T03:05:00.000Z' }],
  packets: { captured: 1854, receivedByFilter: 3708, droppedByKernel: 0, droppedByInterface: null, final: true, at: '2026-01-02T03:09:05.000Z' },
  options: { ports: [3306], hosts: [], filter: null, snaplen: 0, bufferSize: null, duration: null, maxPackets: null, rotateSize: 1e6, rotateSeconds: null, maxFiles: 1, maxTotal: null, minFreeDisk: 4e9 },
};

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'periscope-manifest-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('written atomically, 0600, and read back equal (from the file or its directory)', async () => {
  const path = join(dir, 'capture.json');
  writeManifest(path, SAMPLE);
  writeManifest(path, { ...SAMPLE, host: 'db2' });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(readManifest(path), { ...SAMPLE, host: 'db2' });
  assert.deepEqual(readManifest(dir), { ...SAMPLE, host: 'db2' });
  assert.deepEqual(await readdir(dir), ['capture.json'], 'no temporary file left');
});

test('bad manifests: the message names the file and the problem', async () => {
  const path = join(dir, 'bad.json');
  const cases: [unknown, RegExp][] = [
    ['{', /bad\.json: not valid JSON/],
    [[], /not a Periscope capture manifest \(expected a JSON object\)/],
    [{ ...SAMPLE, format: 'other' }, /format is "other", expected "periscope-capture"/],
    [{ ...SAMPLE, version: 2 }, /manifest version 2 is not supported/],
    [{ ...SAMPLE, host: undefined }, /field host is missing/],
    [{ ...SAMPLE, snaplen: '0' }, /field snaplen has the wrong type/],
    [{ ...SAMPLE, ended: { reason: 'exploded' } }, /ended\.reason "exploded" is not one of running, signal/],
    [{ ...SAMPLE, files: [{ ...SAMPLE.files[0], bytes: null }] }, /files\[0\]: field bytes has the wrong type/],
    [{ ...SAMPLE, deleted: [{ ...SAMPLE.files[0] }] }, /deleted\[0\]: field deletedAt is missing/],
    [{ ...SAMPLE, packets: { ...SAMPLE.packets, final: 'yes' } }, /packets: field final/],
    [{ ...SAMPLE, options: { ...SAMPLE.options, minFreeDisk: null } }, /options: field minFreeDisk/],
  ];
  for (const [v, re] of cases) {
    await writeFile(path, typeof v === 'string' ? v : JSON.stringify(v));
    assert.throws(() => readManifest(path), (e: Error) => e instanceof ManifestError && re.test(e.message) && e.message.includes(path), String(re));
  }
  assert.throws(() => readManifest(join(dir, 'missing.json')), /missing\.json: no such file/);
  const empty = join(dir, 'empty');
  await mkdir(empty);
  assert.throws(() => readManifest(empty), /empty\/capture\.json: no such file/);
  assert.throws(() => parseManifest('null', 'x'), ManifestError);
});

test('summary and --status text', () => {
  assert.equal(
    summary(SAMPLE, '/cap'),
    'capture ended after 05:00: stopped by a signal (SIGINT); 1 file (1.00 MB), 1 older deleted by --max-files in /cap; packets: 1,854 captured, 0 dropped by the kernel',
  );
  const text = renderStatus({ dir: '/cap', state: 'running', pid: 10, tcpdumpPid: 11, manifest: { ...SAMPLE, endedAt: null, ended: { reason: 'running' }, packets: { ...SAMPLE.packets, final: false } }, files: [{ name: 'a', bytes: 2000 }, { name: 'b', bytes: 3000 }], free: 5e9 }, new Date('2026-01-02T03:05:05Z'));
  assert.match(text, /^capture    running for 01:00 \(periscope pid 10, tcpdump pid 11\); stop it with: periscope capture --stop \/cap$/m);
  assert.match(text, /^files      2 \(5.00 kB\), 1 deleted by --max-files: a … b$/m);
  assert.match(text, /^packets    1,854 captured, 0 dropped by the kernel \(as of 2026-01-02T03:09:05.000Z; tcpdump's counters, taken every 10 s\)$/m);
  assert.match(text, /^free disk  5.00 GB$/m);
  const stale = renderStatus({ dir: '/cap', state: 'stale', pid: 10, tcpdumpPid: 11, manifest: SAMPLE, files: [], free: null });
  assert.match(stale, /not running: the periscope process \(pid 10\) is gone and left a stale pid file/);
});

test('status line: everything when it fits, the least useful parts dropped when narrow', () => {
  const s = { stopping: false, elapsedSec: 83, packets: 123456, bytes: 45.6e6, files: 3, deleted: 0, packetsPerSec: 1234, bytesPerSec: 2.1e6, droppedByKernel: 0, free: 70.1e9 };
  assert.equal(statusLine(s, 200), 'capturing 01:23 · 123,456 pkts · 45.6 MB in 3 files · 1,234 pkt/s 2.10 MB/s · kernel drops 0 · free 70.1 GB');
  for (const w of [100, 80, 60, 40, 20]) {
    const l = statusLine(s, w);
    assert.ok(l.length < Math.max(w, 21), `${w}: ${l}`);
    assert.match(l, /^capturing 01:23/);
  }
  assert.match(statusLine(s, 60), /kernel drops 0/);
  assert.match(statusLine({ ...s, stopping: true }, 200), /^stopping 01:23 · /);
});

/** tcpdump's stderr as it arrives, and the translation of its failures into one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StderrParser, type StderrEvent } from '../../capture/stderr.js';
import { classifyFailure, CaptureError, unknownInterface, type FailureContext } from '../../capture/errors.js';

// Recorded from tcpdump 4.99.3 / libpcap 1.10.3 on Linux: `-v -w`, one SIGUSR1, then SIGINT.
const RECORDED =
  'tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n' +
  'Got 0\rGot 208\r' +
  'tcpdump: 388 packets captured, 816 packets received by filter, 40 packets dropped by kernel\n' +
  'Got 596\r' +
  '596 packets captured\n1232 packets received by filter\n40 packets dropped by kernel\n';

test('a recorded stderr: listening, the once-a-second count, SIGUSR1 counters, the exit counters', () => {
  const events = new StderrParser().push(RECORDED);
  assert.deepEqual(events, [
    { kind: 'listening', iface: 'lo', linkType: 'EN10MB (Ethernet)', snaplen: 262144 },
    { kind: 'got', captured: 0 },
    { kind: 'got', captured: 208 },
    { kind: 'stats', stats: { captured: 388, receivedByFilter: 816, droppedByKernel: 40, droppedByInterface: null }, final: false },
    { kind: 'got', captured: 596 },
    { kind: 'stats', stats: { captured: 596, receivedByFilter: 1232, droppedByKernel: 40, droppedByInterface: null }, final: true },
  ]);
});

test('the same text split at every offset gives the same events', () => {
  const whole = new StderrParser().push(RECORDED);
  for (let cut = 1; cut < RECORDED.length; cut++) {
    const p = new StderrParser();
    const got: StderrEvent[] = [...p.push(RECORDED.slice(0, cut)), ...p.push(RECORDED.slice(cut)), ...p.end()];
    assert.deepEqual(got, whole, `cut at ${cut}`);
  }
});

test('singular words, interface drops (one line and at exit), other lines kept as messages', () => {
  const p = new StderrParser();
  assert.deepEqual(p.push('tcpdump: 1 packet captured, 1 packet received by filter, 0 packets dropped by kernel, 3 packets dropped by interface\n'), [
    { kind: 'stats', stats: { captured: 1, receivedByFilter: 1, droppedByKernel: 0, droppedByInterface: 3 }, final: false },
  ]);
  const exit = p.push('5 packets captured\n7 packets received by filter\n1 packet dropped by kernel\n2 packets dropped by interface\n');
  assert.deepEqual(exit.at(-1), { kind: 'stats', stats: { captured: 5, receivedByFilter: 7, droppedByKernel: 1, droppedByInterface: 2 }, final: true });
  assert.deepEqual(p.push('tcpdump: pcap_loop: The interface disappeared\n'), [{ kind: 'message', line: 'tcpdump: pcap_loop: The interface disappeared' }]);
  assert.deepEqual(p.push('partial'), []);
  assert.deepEqual(p.end(), [{ kind: 'message', line: 'partial' }]);
  // A counter line out of its block is just a message-free no-op, never a half-filled report.
  assert.deepEqual(new StderrParser().push('12 packets dropped by kernel\n'), []);
});

const ctx: FailureContext = { tcpdump: '/usr/bin/tcpdump', iface: 'lo', filter: 'tcp port 3306', user: 'alice', dir: '/var/tmp/cap' };
const kind = (lines: string[], phase: 'check' | 'start' | 'running' = 'start'): string => {
  const e = classifyFailure(lines, ctx, phase);
  return e === 'unknown-interface' ? e : e.kind;
};

test('failures: tcpdump 4.99 messages recognised', () => {
  assert.equal(kind(["tcpdump: lo: You don't have permission to perform this capture on that device", '(socket: Operation not permitted)'], 'check'), 'not-permitted');
  assert.equal(kind(['tcpdump: nosuch0: No such device exists', '(No such device exists)'], 'check'), 'unknown-interface');
  assert.equal(kind(['tcpdump: SIOCGIFHWADDR: No such device'], 'check'), 'unknown-interface');
  assert.equal(kind(["tcpdump: can't parse filter expression: syntax error"], 'check'), 'bad-filter');
  assert.equal(kind(['tcpdump: illegal port number 99999 > 65535'], 'check'), 'bad-filter');
  assert.equal(kind(['tcpdump: data link type LINUX_SLL2', "tcpdump: unknown host 'no.such.invalid'"], 'check'), 'bad-filter');
  assert.equal(kind(['tcpdump: something new and strange'], 'check'), 'bad-filter');
  assert.equal(kind(["tcpdump: Couldn't find user 'nosuchuser'"]), 'unknown-user');
  assert.equal(kind(['tcpdump: /var/tmp/cap/periscope-20260102-030405.pcap: Permission denied']), 'dir-not-writable');
  assert.equal(kind(['tcpdump: /var/tmp/cap/periscope-20260102-030405.pcap: Read-only file system']), 'dir-not-writable');
  assert.equal(kind(['tcpdump: /var/tmp/cap/periscope-20260102-030405.pcap000003: No space left on device'], 'running'), 'disk-full');
  assert.equal(kind(['tcpdump: something new and strange']), 'tcpdump-died');
});

test('failure messages: one line, what happened and what to do', () => {
  const perm = classifyFailure(["tcpdump: lo: You don't have permission to perform this capture on that device", '(socket: Operation not permitted)'], ctx, 'check') as CaptureError;
  assert.match(perm.message, /^not permitted to capture on lo .*sudo periscope capture.*setcap cap_net_raw,cap_net_admin=eip \/usr\/bin\/tcpdump$/);
  const dir = classifyFailure(['tcpdump: /var/tmp/cap/periscope-20260102-030405.pcap: Permission denied'], ctx, 'start') as CaptureError;
  assert.match(dir.message, /^tcpdump cannot write in \/var\/tmp\/cap \(tcpdump writes as user 'alice'\): Permission denied: choose a directory/);
  const filter = classifyFailure(["tcpdump: can't parse filter expression: syntax error"], ctx, 'check') as CaptureError;
  assert.match(filter.message, /not valid BPF \(tcpdump: can't parse filter expression: syntax error\); the filter was: tcp port 3306/);
  const iface = unknownInterface('nosuch0', ['eth0', 'any', 'lo']);
  assert.equal(iface.message, "there is no network interface 'nosuch0': give one with --interface (interfaces here: eth0, any, lo; 'any' captures on all of them)");
  for (const e of [perm, dir, filter, iface]) assert.doesNotMatch(e.message, /\n/);
});

/**
 * The errors a user meets with `periscope capture`, through the real CLI: each is one line saying
 * what to do, exits 2 (1 for usage mistakes), and leaves nothing behind when nothing was captured.
 *
 * Run under the shared lock: flock /scr.path()/periscope-live.lock npm test
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireLive } from '../live/env.js';
import { bin } from '../cli/run.js';
import { captureTestOptions, run, scratch, type Run, TEST_TIMEOUT_MS } from './helpers.js';

const { live: opts, root: rootOpts } = await captureTestOptions();
const scr = scratch('periscope-capture-errors-');

const exists = (p: string): Promise<boolean> => stat(p).then(
  () => true,
  () => false,
);

/** One line on stderr, `periscope: error: …`, no stack, nothing on stdout. */
function oneLineError(r: Run, code: number, re: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, code === 1 ? 2 : 1, r.stderr); // usage errors add "Run 'periscope --help'"
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
}

test('usage mistakes: exit 1 before anything runs', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = join(scr.path(), 'usage');
  oneLineError(await run(['capture']), 1, /^periscope: error: give one of --out DIR \(start a capture\), --status DIR or --stop DIR$/);
  oneLineError(await run(['capture', '--out', dir, '--status', dir]), 1, /give one of/);
  oneLineError(await run(['capture', '--out', dir, '--max-files', '3']), 1, /--max-files keeps the newest N files of a rotating capture: give --rotate-size or --rotate-seconds too/);
  oneLineError(await run(['capture', '--out', dir, '--rotate-size', '10 parsecs']), 1, /--rotate-size 10 parsecs: expected a size such as 500MB/);
  oneLineError(await run(['capture', '--out', dir, '--port', '70000']), 1, /--port 70000: expected a TCP port number/);
  oneLineError(await run(['capture', '--out', dir, '--host', '10.0.0.1 or port 22']), 1, /--host 10\.0\.0\.1 or port 22: expected an IP address/);
  oneLineError(await run(['capture', '--out', dir, '--json']), 1, /--json goes with --status DIR/);
  oneLineError(await run(['capture', '--out', dir, '--duration', '0']), 1, /--duration 0: expected a duration greater than 0/);
  oneLineError(await run(['capture', '--out', dir, '--rotate-size', '-5MB']), 1, /a value that starts with '-' is read as options/);
  assert.equal(await exists(dir), false);
});

test('tcpdump missing: how to install it', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = join(scr.path(), 'missing');
  oneLineError(await run(['capture', '--out', dir], { PATH: '/nonexistent' }), 2, /^periscope: error: tcpdump is needed to capture and 'tcpdump' was not found on PATH: install it \(Debian\/Ubuntu: sudo apt-get install tcpdump; RHEL\/Fedora: sudo dnf install tcpdump; .*PERISCOPE_TCPDUMP=/);
  oneLineError(await run(['capture', '--out', dir], { PERISCOPE_TCPDUMP: '/nonexistent/tcpdump' }), 2, /'\/nonexistent\/tcpdump' was not found/);
  assert.equal(await exists(dir), false, 'nothing created');
});

test('an unknown interface: the interfaces there are', opts, async () => {
  const dir = join(scr.path(), 'iface');
  oneLineError(await run(['capture', '--out', dir, '-i', 'nosuch0']), 2, /^periscope: error: there is no network interface 'nosuch0': give one with --interface \(interfaces here: .*\blo\b.*; 'any' captures on all of them\)$/);
  assert.equal(await exists(dir), false, 'nothing created');
});

test('a bad filter: tcpdump -d says why, before anything is created', opts, async () => {
  const dir = join(scr.path(), 'filter');
  oneLineError(await run(['capture', '--out', dir, '-i', 'lo', '--filter', 'port and']), 2, /^periscope: error: the capture filter is not valid BPF \(tcpdump: .*syntax error.*\); the filter was: tcp port 3306 and \(port and\) — check --filter and --host/);
  oneLineError(await run(['capture', '--out', dir, '-i', 'lo', '--host', 'no-such-host.invalid']), 2, /not valid BPF \(tcpdump: unknown host 'no-such-host\.invalid'\)/);
  assert.equal(await exists(dir), false, 'nothing created');
});

test('a directory that cannot be written, or holds other files', rootOpts, async () => {
  const ro = await scr.tmpfs('ro', '1m', 'ro');
  oneLineError(await run(['capture', '--out', join(ro, 'cap'), '-i', 'lo']), 2, /^periscope: error: cannot write the capture into .*\/ro\/cap: read-only file system: choose a directory you can write with --out/);

  const busy = join(scr.path(), 'busy');
  await mkdir(busy);
  await writeFile(join(busy, 'notes.txt'), 'mine\n');
  oneLineError(await run(['capture', '--out', busy, '-i', 'lo']), 2, /^periscope: error: .*\/busy is not empty \(1 entry\): give a new or empty directory/);

  const file = join(scr.path(), 'a-file');
  await writeFile(file, '');
  oneLineError(await run(['capture', '--out', file, '-i', 'lo']), 2, /cannot write the capture into .*a-file: it exists and is not a directory/);

  // Too little room: the message names what does not fit.
  const small = await scr.tmpfs('small', '1m', 'rw');
  oneLineError(await run(['capture', '--out', join(small, 'a'), '-i', 'lo', '--min-free-disk', '0', '--rotate-size', '5MB']), 2, /free on the disk holding .*, and the capture must leave 0 B free beyond one file of --rotate-size 5\.00 MB .*choose a smaller --rotate-size/);
  oneLineError(await run(['capture', '--out', join(small, 'b'), '-i', 'lo', '--min-free-disk', '3MB']), 2, /must leave 3\.00 MB free \(--min-free-disk\).*choose a lower --min-free-disk$/);

  // Under /proc a recursive mkdir never returns (Node 20): refused at once.
  oneLineError(await run(['capture', '--out', '/proc/periscope-no/cap', '-i', 'lo']), 2, /^periscope: error: cannot write the capture into \/proc\/periscope-no\/cap: cannot create a directory there: choose a directory/);
  // Missing parents are made.
  const deep = join(scr.path(), 'a', 'b', 'cap');
  const d = await run(['capture', '--out', deep, '-i', 'lo', '--duration', '1s']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal((await stat(deep)).mode & 0o777, 0o700);

  // tcpdump writes as the sudo user, who cannot reach the directory (with rotation tcpdump opens
  // every file as that user; without, only later time-rotated ones): refused before it starts.
  const closed = join(scr.path(), 'closed');
  await mkdir(closed, { mode: 0o700 });
  const dir = join(closed, 'cap');
  for (const rotation of [['--rotate-size', '1MB'], ['--rotate-seconds', '60'], []]) {
    oneLineError(await run(['capture', '--out', dir, '-i', 'lo', ...rotation], { SUDO_USER: 'nobody', SUDO_UID: '65534', SUDO_GID: '65534' }), 2, /^periscope: error: tcpdump cannot write in .*\/closed\/cap \(tcpdump writes as user 'nobody'\): permission denied: choose a directory that user can reach and write/i);
    assert.equal(await exists(dir), false, 'the directory it created is removed again');
  }

  oneLineError(await run(['capture', '--out', join(scr.path(), 'nouser'), '-i', 'lo'], { SUDO_USER: 'no-such-user-x', SUDO_UID: '54321', SUDO_GID: '54321' }), 2, /^periscope: error: tcpdump could not switch to user 'no-such-user-x'/);
});

test('not permitted to capture: sudo, or setcap on tcpdump', rootOpts, async (t) => {
  if (!(await execa('sh', ['-c', 'command -v setpriv'], { reject: false })).stdout) {
    if (requireLive) throw new Error('setpriv (util-linux) is needed to run the capture as an unprivileged user');
    t.skip('setpriv is not installed: cannot run as an unprivileged user');
    return;
  }
  const dir = join(scr.path(), 'nobody');
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, bin, 'capture', '--out', dir, '-i', 'lo'], { reject: false, env: { PERISCOPE_DEBUG: '' } });
  oneLineError({ code: r.exitCode ?? -1, signal: null, stdout: String(r.stdout), stderr: String(r.stderr) }, 2, /^periscope: error: not permitted to capture on lo \(tcpdump: .*permission.*\): run it as root \(sudo periscope capture …\), or let tcpdump capture without root: sudo setcap cap_net_raw,cap_net_admin=eip \/.*tcpdump$/);
  assert.equal(await exists(dir), false);

  // Another user's capture (root's, 0700): --status and --stop say so instead of failing.
  const mine = join(scr.path(), 'roots-capture');
  await mkdir(mine, { mode: 0o700 });
  await writeFile(join(mine, 'capture.pid'), '{"pid":1}', { mode: 0o600 });
  await writeFile(join(mine, 'capture.json'), '{}', { mode: 0o600 });
  for (const what of ['--status', '--stop']) {
    const s = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'capture', what, mine], { reject: false, env: { PERISCOPE_DEBUG: '' } });
    oneLineError({ code: s.exitCode ?? -1, signal: null, stdout: String(s.stdout), stderr: String(s.stderr) }, 2, /permission denied \(a capture is private to the user who made it: use sudo, or that user\)/);
  }
});

test('--status and --stop on a directory that is not a capture', { timeout: TEST_TIMEOUT_MS }, async () => {
  const empty = join(scr.path(), 'not-a-capture');
  await mkdir(empty);
  oneLineError(await run(['capture', '--status', empty]), 2, /^periscope: error: .*not-a-capture\/capture\.json: no such file \(a directory written by periscope capture holds capture\.json\)$/);
  oneLineError(await run(['capture', '--stop', empty]), 2, /capture\.json: no such file/);
  await writeFile(join(empty, 'capture.json'), '{"format":"something-else"}');
  oneLineError(await run(['capture', '--status', empty]), 2, /not a Periscope capture manifest \(format is "something-else"/);
});

/**
 * `periscope advise` as a user runs it on the bundled sample: text and JSON, mistakes in the
 * options as one-line usage errors before any work (exit 1), a schema file that is not one.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { periscope, sample } from './run.js';

const dir = await mkdtemp(join(tmpdir(), 'periscope-advise-cli-'));
after(() => rm(dir, { recursive: true, force: true }));

test('advise on the sample: findings ranked by time at stake, as text and as JSON (0600 with -o)', async () => {
  const t = await periscope('advise', sample);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^# Periscope advice: .*mariadb-basic\.pcap/);
  assert.match(t.stdout, /IDX\.001 \(medium\) No index used/);
  assert.match(t.stdout, /ARG\.001 \(medium\) LIKE with a leading wildcard on email/);
  const out = join(dir, 'advice.json');
  const j = await periscope('advise', sample, '-o', out);
  assert.equal(j.code, 0, j.stderr);
  assert.equal((await stat(out)).mode & 0o777, 0o600);
});

test('advise: usage errors before any work', async () => {
  const cases: [string[], RegExp][] = [
    [['--password', 'x'], /never taken on the command line/],
    [['--schema-user', 'u'], /--schema-user and --defaults-file are for --schema-from/],
    [['--unindexed-share', '2'], /--unindexed-share 2: expected a share/],
    [['--idle-in-transaction', 'soon'], /--idle-in-transaction soon: expected a duration/],
    [['--schema', join(dir, 'nope.json')], /--schema .*nope\.json: cannot be read \(ENOENT\)/],
  ];
  for (const [args, why] of cases) {
    const r = await periscope('advise', sample, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.equal(r.stdout, '');
  }
  const bad = join(dir, 'bad.json');
  await writeFile(bad, '{"not": "a list"}');
  const r = await periscope('advise', sample, '--schema', bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a list of tables as a bundle's schema\/tables\.json/);
});

test('advise BUNDLE: the findings of advise on its capture, those on literal kinds (ARG.001) included', async () => {
  const b = join(dir, 'b.tar.gz');
  assert.equal((await periscope('bundle', sample, '-o', b)).code, 0);
  const findings = async (input: string) => {
    const r = await periscope('advise', input, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { findings: unknown[] }).findings;
  };
  const fromBundle = await findings(b);
  assert.deepEqual(fromBundle, await findings(sample));
  assert.ok((fromBundle as { rule: string }[]).some((f) => f.rule === 'ARG.001'));
});

test('advise: filters that keep no command are said (stderr), and "no finding" is not "all is well"', async () => {
  for (const args of [['--since', '2030-01-01'], ['--user', 'nobody']]) {
    const r = await periscope('advise', sample, ...args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no command passed the filters; the capture's 35 commands and logins have users periscope/, args.join(' '));
    assert.match(r.stdout, /# No finding: no command to judge/);
    assert.doesNotMatch(r.stdout, /crossed a threshold/);
  }
});

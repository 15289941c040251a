/**
 * Golden files: what the CLI prints for every recorded capture of the repository (the sample, the
 * public captures of other projects, the link-layer fixtures), compared byte for byte. They pin the
 * behaviour of the whole pipeline, so that a refactoring that should change nothing changes
 * nothing, and a change that should change something shows exactly what in review.
 *
 * Rewritten only on purpose: `npm run test:update` (PERISCOPE_UPDATE_GOLDEN=1). A golden file that
 * is missing is a failure, not a silent pass. Timestamps come from the captures, paths are given
 * relative to the repository, so nothing depends on the machine or the clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { periscopeWith, repoRoot } from '../cli/run.js';

const update = process.env.PERISCOPE_UPDATE_GOLDEN === '1';
const goldenDir = join(repoRoot, 'test/golden');

/** Captures, relative to the repository root. */
function captures(): string[] {
  const dirs = ['samples', 'test/fixtures/mysql', 'test/fixtures/captures'];
  return dirs.flatMap((d) =>
    readdirSync(join(repoRoot, d))
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()
      .map((f) => `${d}/${f}`),
  );
}

/** Each view: the golden file's name and the CLI arguments before the capture. */
const views: [string, string[]][] = [
  ['info.json', ['info', '--json']],
  ['events.jsonl', ['events']],
  ['events-raw.jsonl', ['events', '--no-redact']],
  ['trace.txt', ['trace']],
  ['report.txt', ['analyze']],
  ['report.json', ['analyze', '--format', 'json']],
];

for (const capture of captures()) {
  const name = basename(capture).replace(/\.pcap(ng)?$/, '');
  test(`golden: ${capture}`, async () => {
    const dir = join(goldenDir, name);
    const stderr: string[] = [];
    const mismatches: string[] = [];
    // A TLS sample's key log (same name, .keys) is given to every command that decrypts.
    const keys = capture.replace(/\.pcap(ng)?$/, '.keys');
    const keylog = existsSync(join(repoRoot, keys)) ? ['--keylog', keys] : [];
    for (const [file, view] of views) {
      const args = view[0] === 'info' ? view : [...view, ...keylog];
      const r = await periscopeWith({ cwd: repoRoot, env: { NO_COLOR: '1' } }, ...args, capture);
      stderr.push(`$ periscope ${args.join(' ')} ${capture}\nexit ${r.code}\n${r.stderr}${r.stderr.endsWith('\n') || r.stderr === '' ? '' : '\n'}`);
      compare(join(dir, file), r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`, mismatches);
    }
    compare(join(dir, 'stderr.txt'), stderr.join('\n'), mismatches);
    assert.deepEqual(mismatches, [], `output differs from the golden files (run 'npm run test:update' if the change is meant, then read the diff):\n${mismatches.join('\n')}`);
  });
}

function compare(path: string, actual: string, mismatches: string[]): void {
  if (update) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    mismatches.push(`${path}: missing`);
    return;
  }
  const expected = readFileSync(path, 'utf8');
  if (expected === actual) return;
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  mismatches.push(`${path}: first difference at line ${i + 1}\n  golden: ${(a[i] ?? '(end)').slice(0, 300)}\n  now:    ${(b[i] ?? '(end)').slice(0, 300)}`);
}

test('golden: every golden directory belongs to a capture (none left behind by a rename)', () => {
  const names = new Set(captures().map((c) => basename(c).replace(/\.pcap(ng)?$/, '')));
  const dirs = existsSync(goldenDir) ? readdirSync(goldenDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  assert.deepEqual(dirs.filter((d) => !names.has(d)), []);
  assert.ok(names.size >= 15, `expected the repository's captures, found ${names.size}`);
});

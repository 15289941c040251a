// Writes build/build-info.json: Periscope's version (package.json) and the git commit the build was
// made from, the one source of both for the compiled tree (common/version.ts); the bundles get the
// same object baked in (buildInfo() here). Commit: "-dirty" when the work tree had uncommitted
// changes; "unknown" outside a git checkout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** { version, commit } of the checkout in the current directory. */
export function buildInfo() {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  return { version: pkg.version, commit: gitCommit() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync('build', { recursive: true });
  writeFileSync('build/build-info.json', `${JSON.stringify(buildInfo())}\n`);
}

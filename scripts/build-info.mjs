// Writes build/build-info.json: the git commit the build was made from (`periscope --version`).
// "-dirty" when the work tree had uncommitted changes; "unknown" outside a git checkout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

export function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync('build', { recursive: true });
  writeFileSync('build/build-info.json', `${JSON.stringify({ commit: gitCommit() })}\n`);
}

/** The `zstd` command line tool: the real encoder of the tests' zstd streams, and a real decoder on any Node. */
import { execFileSync } from 'node:child_process';
import type { ZstdSupport } from '../../src/mysql/compression.js';

export const hasZstdCli = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A real zstd decoder for Node versions without one: the `zstd` command (slow, tests only). */
export const ZSTD_CLI: ZstdSupport = { inflate: (b) => new Uint8Array(execFileSync('zstd', ['-q', '-d', '-c'], { input: b })), source: 'zstd command', unavailable: 'no zstd' };

/**
 * Files the commands write their results to (-o, --save-summary): checked before the work, so a
 * long run is not lost at the end to a missing directory; written 0600, redacted or not, because a
 * report names users, hosts and tables, and redaction is a safeguard, not a reason to share.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The mode of every report, slow log and summary written. */
export const OUTPUT_MODE = 0o600;

/** Why `path` (named by option `opt`) cannot be written, or null when it can. */
export function unwritable(opt: string, path: string): string | null {
  let exists: boolean;
  try {
    if (statSync(path).isDirectory()) return `${opt} ${path}: is a directory; name a file`;
    exists = true;
  } catch {
    exists = false; // not there yet: its directory must be writable
  }
  const dir = dirname(resolve(path));
  try {
    accessSync(exists ? path : dir, constants.W_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${opt} ${path}: the directory ${dir} does not exist`;
    return `${opt} ${path}: ${exists ? 'the file' : `the directory ${dir}`} cannot be written (${code})`;
  }
}

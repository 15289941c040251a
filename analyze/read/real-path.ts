import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/** A file's real path (links resolved), or its absolute path when it cannot be resolved (said when it is read). */
export function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

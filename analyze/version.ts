/** Periscope's version, from package.json (found above the compiled file, wherever it runs from). */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function periscopeVersion(): string {
  if (cached !== null) return cached;
  cached = 'unknown';
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'periscope' && pkg.version) {
        cached = pkg.version;
        break;
      }
    } catch {
      // not there: look further up
    }
  }
  return cached;
}

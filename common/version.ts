/**
 * Periscope's version and the git commit it was built from, one source for every build and every
 * command (capture's manifest, analyze's report, upload, `--version`):
 * - dist/periscope.mjs and the single executable: baked in by the bundler (`__PERISCOPE_BUILD__`,
 *   scripts/dist.mjs and scripts/sea.mjs), so nothing is read at run time;
 * - the compiled tree: build/build-info.json, written by `npm run build` from package.json and git.
 * Nothing resolves package.json at run time: from a bundle, `../../package.json` is whatever file
 * happens to sit there (issue 14 §3).
 */
import { readFileSync } from 'node:fs';
import { isSea } from 'node:sea';

declare const __PERISCOPE_BUILD__: BuildInfo | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
}

let cached: BuildInfo | null = null;

export function buildInfo(): BuildInfo {
  if (cached !== null) return cached;
  if (typeof __PERISCOPE_BUILD__ !== 'undefined') return (cached = __PERISCOPE_BUILD__);
  cached = { version: 'unknown', commit: 'unknown' };
  try {
    // build/common/version.js → build/build-info.json
    const info = JSON.parse(readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    if (typeof info.version === 'string') cached.version = info.version;
    if (typeof info.commit === 'string') cached.commit = info.commit;
  } catch {
    // Not built by `npm run build`: "unknown", said as such.
  }
  return cached;
}

export function periscopeVersion(): string {
  return buildInfo().version;
}

/** What `periscope --version` prints; the single executable says so, with the Node.js inside it. */
export function versionLine(): string {
  const b = buildInfo();
  return `periscope ${b.version} (commit ${b.commit}, ${isSea() ? 'single executable, ' : ''}Node.js ${process.version})`;
}

/**
 * Periscope's version and the git commit it was built from: baked in by the bundler for
 * dist/periscope.mjs (`__PERISCOPE_BUILD__`), else read from build/build-info.json (written by
 * `npm run build`) and package.json, found above the compiled file.
 */
import { readFileSync } from 'node:fs';

declare const __PERISCOPE_BUILD__: { version: string; commit: string } | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
}

let cached: BuildInfo | null = null;

function readJson(rel: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function buildInfo(): BuildInfo {
  if (cached !== null) return cached;
  if (typeof __PERISCOPE_BUILD__ !== 'undefined') return (cached = __PERISCOPE_BUILD__);
  cached = { version: 'unknown', commit: 'unknown' };
  for (const up of ['../', '../../', '../../../']) {
    const pkg = readJson(`${up}package.json`);
    if (pkg?.name === 'periscope' && typeof pkg.version === 'string') {
      cached.version = pkg.version;
      break;
    }
  }
  const info = readJson('../build-info.json');
  if (typeof info?.commit === 'string') cached.commit = info.commit;
  return cached;
}

export function periscopeVersion(): string {
  return buildInfo().version;
}

/** What `periscope --version` prints. */
export function versionLine(): string {
  const b = buildInfo();
  return `periscope ${b.version} (commit ${b.commit}, Node.js ${process.version})`;
}

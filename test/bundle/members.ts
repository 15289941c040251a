/** A bundle's members as GNU tar unpacks them: an oracle independent of Periscope's own reader. */
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BundleManifest } from '../../analyze/bundle/manifest.js';

export async function members(bundle: string): Promise<Map<string, Buffer>> {
  const dir = await mkdtemp(join(tmpdir(), 'periscope-untar-'));
  try {
    await execa('tar', ['-xzf', bundle, '-C', dir]);
    const out = new Map<string, Buffer>();
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else out.set(relative(dir, p), await readFile(p));
      }
    };
    await walk(dir);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function manifestOf(m: Map<string, Buffer>): BundleManifest {
  return JSON.parse(m.get('manifest.json')!.toString('utf8')) as BundleManifest;
}

/** Every member's bytes, gzip members decompressed too: what a search for leaked values must cover. */
export function allBytes(m: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, b] of m) {
    parts.push(b);
    if (path.endsWith('.gz')) parts.push(gunzipSync(b));
  }
  return Buffer.concat(parts);
}

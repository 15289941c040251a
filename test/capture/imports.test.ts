/**
 * capture/ runs on production hosts and must start fast: it imports nothing heavy. Follow the
 * static imports of every compiled capture module and check where they lead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const build = fileURLToPath(new URL('../../', import.meta.url));
const STATIC = /^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC)].map((m) => m[1] ?? m[2]!).filter(Boolean);
}

test('capture/ reaches only itself, common/, src/pcap, src/bytes, Node built-ins and execa (lazily)', () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const todo = readdirSync(join(build, 'capture')).filter((n) => n.endsWith('.js')).map((n) => join(build, 'capture', n));
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const spec of staticImports(f)) {
      if (spec.startsWith('.')) todo.push(resolve(dirname(f), spec));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  }
  const places = [...seen].map((f) => relative(build, f)).sort();
  for (const p of places) assert.match(p, /^(capture|common|src\/pcap|src\/bytes)\//, p);
  assert.deepEqual([...packages], ['execa'], 'the only package: execa, to run tcpdump');
  // execa (~80 ms to load) only where tcpdump is run: --status and --stop do without it.
  const withExeca = places.filter((p) => staticImports(join(build, p)).includes('execa'));
  assert.deepEqual(withExeca, ['capture/tcpdump.js']);
  const command = readFileSync(join(build, 'capture/command.js'), 'utf8');
  assert.doesNotMatch(command, /^import .*tcpdump\.js/m, 'command.js loads tcpdump.js on demand');
});

test('the CLI loads the capture command on demand', () => {
  const main = readFileSync(join(build, 'cli/main.js'), 'utf8');
  assert.doesNotMatch(main, /^import .*capture\//m);
  assert.match(main, /await import\('\.\.\/capture\/command\.js'\)/);
});

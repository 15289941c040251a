/**
 * No import cycle in src/: a module never depends, directly or through others, on a module that
 * depends on it. Read from the TypeScript sources, type-only imports included (a cycle of types is
 * still two modules that cannot be read one before the other; the compiled JavaScript drops them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STATIC = /^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.c?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The source files `file` imports (relative imports only; `./x.js` is `./x.ts`). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC)]
    .map((m) => m[1] ?? m[2]!)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts'));
}

/** Every cycle found by a depth-first walk, as the list of modules around it. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: done
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      const s = state.get(g);
      if (s === 1) found.push(path.slice(path.indexOf(g)).concat(g));
      else if (s === undefined) visit(g);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

test('the cycle finder finds a cycle of two and of three, and none in a tree', () => {
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['a']]])), [['a', 'b', 'a']]);
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(cycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), []);
});

test('no import cycle in src/ (type-only imports included)', () => {
  const src = join(root, 'src');
  const files = sources(src);
  assert.ok(files.length > 30, `found the sources (${files.length} files in ${src})`);
  const graph = new Map(files.map((f) => [f, imports(f)]));
  const found = cycles(graph).map((c) => c.map((f) => relative(root, f)).join(' → '));
  assert.deepEqual(found, []);
});

/** Who imports `target` (a path under root), directly or through others, among `files`. */
export function importersOf(files: string[], target: string): string[] {
  const graph = new Map(files.map((f) => [f, imports(f)]));
  const reaches = new Map<string, boolean>();
  const visit = (f: string, path: Set<string>): boolean => {
    const known = reaches.get(f);
    if (known !== undefined) return known;
    if (path.has(f)) return false;
    path.add(f);
    const r = (graph.get(f) ?? (f.startsWith(root) && /\.c?ts$/.test(f) ? imports(f) : [])).some((g) => g === target || visit(g, path));
    path.delete(f);
    reaches.set(f, r);
    return r;
  };
  return files.filter((f) => visit(f, new Set())).map((f) => relative(root, f));
}

test('no production code loads the tests\' fingerprint oracle (test/sql/oracle/), directly or through others', () => {
  const oracle = join(root, 'test/sql/oracle/fingerprint-writer.ts');
  assert.ok(readFileSync(oracle, 'utf8').includes('export class FingerprintWriter'), 'the oracle is where this test looks');
  const production = ['src', 'analyze', 'capture', 'cli', 'common'].flatMap((d) => sources(join(root, d)));
  assert.ok(production.length > 60, `found the sources (${production.length} files)`);
  assert.deepEqual(importersOf(production, oracle), []);
  // And nothing in production reaches into test/ at all.
  const intoTests = production.flatMap((f) => imports(f).filter((g) => g.startsWith(join(root, 'test') + '/')).map((g) => `${relative(root, f)} → ${relative(root, g)}`));
  assert.deepEqual(intoTests, []);
});

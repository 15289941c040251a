// npm run dist: the whole CLI as one ES module, dist/periscope.mjs, needing only Node.js ≥ 20.
// Bundled by esbuild from the TypeScript sources; version and git commit baked in; size printed
// against the budget (docs/distribution.md).
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { buildInfo } from './build-info.mjs';

const BUDGET = 4 * 1024 * 1024;
const info = buildInfo();
const out = 'dist/periscope.mjs';

const result = await build({
  entryPoints: ['cli/main.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  metafile: true,
  define: { __PERISCOPE_BUILD__: JSON.stringify(info) },
  // Bundled CommonJS modules (yargs, node-sql-parser) call require() for Node's own modules and
  // read __dirname (yargs' messages: absent locale files fall back to English).
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __periscopeRequire } from 'node:module';",
      "import { fileURLToPath as __periscopePath } from 'node:url';",
      'const require = __periscopeRequire(import.meta.url);',
      'const __filename = __periscopePath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  logLevel: 'warning',
});
chmodSync(out, 0o755);
const size = statSync(out).size;
const mb = (b) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
const inputs = Object.entries(result.metafile.outputs[out].inputs)
  .map(([path, v]) => [path.replace(/^node_modules\/([^/]+(\/[^/]+)?)\/.*$/, (m, p1) => (p1.startsWith('@') ? p1 : p1.split('/')[0])), v.bytesInOutput])
  .reduce((m, [k, v]) => m.set(k.startsWith('node_modules') || !k.includes('/') ? k : k.split('/')[0] + '/', (m.get(k) ?? 0) + v), new Map());
console.log(`${out}: ${mb(size)} (budget ${mb(BUDGET)}), periscope ${info.version}, commit ${info.commit}`);
for (const [k, v] of [...inputs].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${k.padEnd(24)} ${mb(v)}`);
if (size > BUDGET) {
  console.error(`dist: ${out} is over its size budget (${mb(size)} > ${mb(BUDGET)})`);
  process.exit(1);
}

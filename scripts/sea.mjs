// npm run sea: the whole CLI as one Linux executable that needs no Node.js on the host
// (docs/distribution.md). A Node.js single executable application: the official Node.js binary of a
// pinned LTS release, fetched from the npm registry (package node-linux-<arch>) and checked against
// the integrity pinned here, with a blob injected (postject) that holds an esbuild CommonJS bundle of
// cli/main.ts and, as an asset, one of the analysis worker (analyze --threads). Version and commit
// are baked in, as in dist/periscope.mjs.
//
//   npm run sea                        dist/periscope-linux-<this machine's arch> and its .tar.xz + .sha256
//   npm run sea -- --arch arm64        cross-build for the other architecture (not run here)
//   npm run sea -- --no-archive        the executable only (the test's build)
//
// The Node.js tarball is cached in $PERISCOPE_CACHE (default ~/.cache/periscope); it is verified
// against the pinned sha512 every time it is used, so a cached or mirrored copy cannot differ.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import postject from 'postject';
import { buildInfo } from './build-info.mjs';

/** The Node.js inside: an LTS release (24 "Krypton", supported until April 2028); bump with the integrity of both packages. */
export const NODE_VERSION = '24.22.3';
const INTEGRITY = {
  x64: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  arm64: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
};
/** The fuse Node.js looks for to know a blob was injected (Node's own sentinel string). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const WORKER_ASSET = 'worker.cjs'; // analyze/run/parallel.ts reads it by this name

const args = process.argv.slice(2);
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';
const arch = args.includes('--arch') ? args[args.indexOf('--arch') + 1] : hostArch;
if (arch !== 'x64' && arch !== 'arm64') fail(`--arch ${arch}: expected x64 or arm64`);
const archive = !args.includes('--no-archive');
const unknown = args.filter((a, i) => a !== '--no-archive' && a !== '--arch' && args[i - 1] !== '--arch');
if (unknown.length > 0) fail(`unknown argument ${unknown[0]}: npm run sea [-- --arch x64|arm64] [--no-archive]`);
if (process.platform !== 'linux') fail(`builds Linux executables from a Linux machine (this is ${process.platform})`);
const cache = process.env.PERISCOPE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'periscope');
const work = `dist/sea/${arch}`; // one per architecture: a cross-build leaves the native one's files alone
const out = `dist/periscope-linux-${arch}`;
const info = buildInfo();
const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

function fail(message) {
  console.error(`sea: ${message}`);
  process.exit(1);
}

/** node-linux-<arch>@NODE_VERSION from the npm registry (cached), checked, and its bin/node extracted. */
function nodeBinary(a) {
  mkdirSync(cache, { recursive: true });
  const tgz = join(cache, `node-linux-${a}-${NODE_VERSION}.tgz`);
  const check = () => `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}` === INTEGRITY[a];
  if (!existsSync(tgz) || !check()) {
    console.log(`sea: fetching node-linux-${a}@${NODE_VERSION} from the npm registry (~50 MiB, cached in ${cache})`);
    try {
      execFileSync('npm', ['pack', '--silent', `node-linux-${a}@${NODE_VERSION}`, '--pack-destination', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      fail(`could not fetch node-linux-${a}@${NODE_VERSION} with 'npm pack' (is the npm registry reachable? npm's proxy and registry settings apply)`);
    }
    if (!check()) {
      rmSync(tgz, { force: true });
      fail(`node-linux-${a}@${NODE_VERSION} does not match the integrity pinned in scripts/sea.mjs: not used`);
    }
  }
  // Extracted from the checked tarball at every build (about a second), never kept beside it.
  const bin = join(work, `node-${NODE_VERSION}-linux-${a}`);
  writeFileSync(bin, execFileSync('tar', ['-xzOf', tgz, 'package/bin/node'], { maxBuffer: 512 * 1024 * 1024 }));
  chmodSync(bin, 0o755);
  return bin;
}

/** ELF64 sections by name with their sizes, and the size of a symbol (from .symtab, before stripping). */
function elf(path) {
  const b = readFileSync(path);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const shstrndx = b.readUInt16LE(0x3e);
  const sh = (i) => {
    const o = shoff + i * shentsize;
    return { name: b.readUInt32LE(o), type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)), link: b.readUInt32LE(o + 0x28) };
  };
  const strs = sh(shstrndx);
  const str = (table, i) => b.toString('latin1', table.offset + i, b.indexOf(0, table.offset + i));
  const sections = [];
  let icu = 0;
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    sections.push({ name: str(strs, s.name), type: s.type, size: s.size });
    if (s.type === 2 /* SHT_SYMTAB */) {
      const names = sh(s.link);
      for (let o = s.offset; o < s.offset + s.size; o += 24) {
        const n = str(names, b.readUInt32LE(o));
        if (/^icudt\d+_dat$/.test(n)) icu = Number(b.readBigUInt64LE(o + 16));
      }
    }
  }
  return { sections, icu, size: b.length };
}

// 1. The CommonJS bundles: the CLI (the executable's main script) and the analysis worker.
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  legalComments: 'linked',
  metafile: true,
  define: { __PERISCOPE_BUILD__: JSON.stringify(info) },
  // import.meta is empty in CommonJS: its two readers (common/version.ts, the worker's file in
  // analyze/run/parallel.ts) are not reached in the executable (version baked in; isSea()).
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
};
const main = await build({ ...common, entryPoints: ['cli/main.ts'], outfile: `${work}/periscope.cjs` });
await build({ ...common, entryPoints: ['analyze/run/worker.ts'], outfile: `${work}/${WORKER_ASSET}` });
// The executable's require() knows Node's built-in modules only: every other one must be inside.
for (const f of ['periscope.cjs', WORKER_ASSET]) {
  const text = readFileSync(`${work}/${f}`, 'utf8');
  const outside = [...text.matchAll(/\brequire\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]).filter((m) => !m.startsWith('node:') && !/^[a-z_]+(\/[a-z_]+)?$/.test(m));
  if (outside.length > 0) fail(`${f} requires modules from outside the bundle: ${[...new Set(outside)].join(', ')}`);
}

// 2. The blob, made by the Node.js that will run it (the same version is required).
const target = nodeBinary(arch);
const maker = arch === hostArch ? target : nodeBinary(hostArch);
const config = {
  main: `${work}/periscope.cjs`,
  output: `${work}/sea-prep.blob`,
  disableExperimentalSEAWarning: true,
  useSnapshot: false,
  // V8's code cache is specific to the architecture of the Node.js that makes it.
  useCodeCache: arch === hostArch,
  assets: { [WORKER_ASSET]: `${work}/${WORKER_ASSET}` },
};
writeFileSync(`${work}/sea-config.json`, `${JSON.stringify(config, null, 2)}\n`);
try {
  execFileSync(maker, ['--experimental-sea-config', `${work}/sea-config.json`], { stdio: 'pipe' });
} catch (e) {
  fail(`the blob was not made: ${String(e.stderr ?? e.message).trim()}`);
}

// 3. A copy of that Node.js, without its debugging symbols (strip, if binutils has it), with the blob.
const runtime = elf(target);
rmSync(out, { force: true });
copyFileSync(target, `${out}.tmp`);
let stripped = false;
try {
  execFileSync(arch === hostArch ? 'strip' : 'aarch64-linux-gnu-strip', [`${out}.tmp`], { stdio: 'ignore' });
  stripped = true;
} catch {
  console.log(`sea: ${arch === hostArch ? 'strip' : 'aarch64-linux-gnu-strip'} (binutils) not found: the executable keeps Node's debugging symbols (~18 MiB more)`);
}
const blob = readFileSync(config.output);
// LIEF (inside postject) warns once per note section of Node's binary that it has no name in the
// section string table ("Can't find string offset for section name '.note…'"): the notes are read
// through the program headers, which is how Node finds its blob. Only those lines are dropped.
const warn = console.warn;
console.warn = (...a) => {
  if (!/^warning: Can't find string offset for section name '\.note/.test(String(a[0]))) warn(...a);
};
try {
  await postject.inject(`${out}.tmp`, 'NODE_SEA_BLOB', blob, { sentinelFuse: FUSE });
} finally {
  console.warn = warn;
}
chmodSync(`${out}.tmp`, 0o755);
renameSync(`${out}.tmp`, out);

// 4. What takes the room.
const size = statSync(out).size;
const bytesIn = (p) => statSync(p).size;
const exe = elf(out);
const section = (n) => exe.sections.find((s) => s.name === n)?.size ?? 0;
console.log(`${out}: ${mib(size)}, periscope ${info.version}, commit ${info.commit}, Node.js v${NODE_VERSION} (linux-${arch})${stripped ? ', stripped' : ''}`);
console.log(`  Node.js v${NODE_VERSION}           ${mib(size - blob.length)}  (official binary ${mib(runtime.size)}${stripped ? `; ${mib(runtime.size - size + blob.length)} of debugging symbols stripped` : ', not stripped'})`);
console.log(`    code (.text)              ${mib(section('.text'))}  V8, libuv, OpenSSL, ICU, Node's C++`);
console.log(`    read-only data (.rodata)  ${mib(section('.rodata'))}  of which ICU's full locale data ${mib(runtime.icu)}, and Node's own JavaScript`);
console.log(`  Periscope (the SEA blob)    ${mib(blob.length)}  CLI bundle ${mib(bytesIn(config.main))}, worker asset ${mib(bytesIn(config.assets[WORKER_ASSET]))}${config.useCodeCache ? ', V8 code cache' : ''}`);
const inputs = Object.entries(main.metafile.outputs[config.main].inputs)
  .map(([path, v]) => [path.startsWith('node_modules/') ? path.split('/')[1] : path.split('/')[0] + '/', v.bytesInOutput])
  .reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map());
console.log(`    in the CLI bundle: ${[...inputs].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}`);

// 5. The release artifact: the executable as `periscope`, with the licences it must travel with
// (Node.js's, which covers what Node bundles, and those of the packages in Periscope's bundles),
// in a .tar.xz, with its SHA-256.
if (archive) {
  const tarball = `${out}.tar.xz`;
  const started = Date.now();
  const release = join(work, 'release');
  mkdirSync(release);
  copyFileSync(out, join(release, 'periscope'));
  chmodSync(join(release, 'periscope'), 0o755);
  writeFileSync(join(release, 'LICENSE.node'), execFileSync('tar', ['-xzOf', join(cache, `node-linux-${arch}-${NODE_VERSION}.tgz`), 'package/LICENSE'], { maxBuffer: 64 * 1024 * 1024 }));
  copyFileSync(`${config.main}.LEGAL.txt`, join(release, 'LICENSES.bundled.txt'));
  execFileSync('sh', ['-c', `tar --owner=0 --group=0 --numeric-owner -C '${release}' -cf - periscope LICENSE.node LICENSES.bundled.txt | xz -T0 -6 > '${tarball}.tmp'`], { stdio: 'inherit' });
  rmSync(release, { recursive: true });
  renameSync(`${tarball}.tmp`, tarball);
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sha}  ${tarball.slice(5)}\n`);
  console.log(`${tarball}: ${mib(statSync(tarball).size)} (xz, ${((Date.now() - started) / 1000).toFixed(0)} s), sha256 ${sha} (also in ${tarball}.sha256)`);
}

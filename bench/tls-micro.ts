/**
 * Per-record cost of src/tls's AEAD paths against an OpenSSL context per record, by record length:
 * what sets GCM_WASM_MAX / GCM_JS_MAX and CHACHA_WASM_MAX / CHACHA_JS_MAX.
 *
 *   node build/bench/tls-micro.js [wasm|js] [64,200,512,...]
 *   node build/bench/tls-micro.js count aes|chacha SIZE N seal|open [wasm|js]
 *
 * Records of one length are sealed by node:crypto (TLS 1.3 nonces and additional data), then opened
 * in a row by GcmKey.open (one key, numbered records: key stream made ahead as in a session) or
 * ChaChaKey.open, and by createDecipheriv; CPU µs per record (user + system), best of 3. `js` turns
 * the WebAssembly module off (src/tls/wasm). Every plaintext is checked.
 *
 * `count` is for instruction counts (valgrind --tool=callgrind): it seals N records and, with
 * `open`, opens each once; the difference between the two runs' counts is the cost of opening
 * (JIT compilation included), e.g.
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --predictable \
 *     --no-concurrent-recompilation build/bench/tls-micro.js count aes 200 40000 open
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { GcmKey } from '../src/tls/gcm.js';
import { ChaChaKey } from '../src/tls/chacha.js';
import { aeadWasmStatus, setAeadWasm } from '../src/tls/wasm/aead.js';

export interface MicroLine {
  alg: string;
  bytes: number;
  ours: number;
  openssl: number;
  ok: boolean;
}

const nonceOf = (iv: Buffer, n: number): Buffer => {
  const o = Buffer.from(iv);
  o.writeUInt32BE((o.readUInt32BE(8) ^ n) >>> 0, 8);
  return o;
};
const bswap = (x: number): number => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

function cpu(fn: () => void, n: number): number {
  const t0 = process.cpuUsage();
  fn();
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / n;
}

export function microLine(alg: 'aes-128-gcm' | 'chacha20-poly1305', size: number): MicroLine {
  const key = randomBytes(alg === 'aes-128-gcm' ? 16 : 32);
  const iv = randomBytes(12);
  const n = Math.max(200, Math.min(20000, Math.floor(4e6 / size)));
  const aad = Buffer.from([23, 3, 3, (size + 16) >> 8, (size + 16) & 255]);
  const records: Buffer[] = [];
  const plains: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = randomBytes(size);
    const c = createCipheriv(alg as 'aes-128-gcm', key, nonceOf(iv, i), { authTagLength: 16 }) as CipherGCM;
    c.setAAD(aad);
    plains.push(p);
    records.push(Buffer.concat([c.update(p), c.final(), c.getAuthTag()]));
  }
  let ok = true;
  let ours = Infinity;
  let openssl = Infinity;
  const [w0, w1, w2] = [iv.readUInt32LE(0), iv.readUInt32LE(4), iv.readUInt32LE(8)];
  for (let rep = 0; rep < 3; rep++) {
    ours = Math.min(
      ours,
      cpu(() => {
        const g = alg === 'aes-128-gcm' ? new GcmKey(key, iv) : null;
        const c = alg === 'aes-128-gcm' ? null : new ChaChaKey(key);
        for (let i = 0; i < n; i++) {
          const r = records[i]!;
          const out = g !== null ? g.open(i, aad, r, 0, size, size) : c!.open(w0, w1, (w2 ^ bswap(i)) >>> 0, aad, r, 0, size, size);
          if (out === null || (i % 97 === 0 && !out.subarray(0, size).equals(plains[i]!))) ok = false;
        }
      }, n),
    );
    openssl = Math.min(
      openssl,
      cpu(() => {
        for (let i = 0; i < n; i++) {
          const r = records[i]!;
          const d = createDecipheriv(alg as 'aes-128-gcm', key, nonceOf(iv, i), { authTagLength: 16 }) as DecipherGCM;
          d.setAAD(aad);
          d.setAuthTag(r.subarray(size));
          d.update(r.subarray(0, size));
          d.final();
        }
      }, n),
    );
  }
  return { alg, bytes: size, ours, openssl, ok };
}

/** Seals n records of `size` bytes; with `open`, opens each once (GcmKey.open / ChaChaKey.open). */
function count(alg: 'aes-128-gcm' | 'chacha20-poly1305', size: number, n: number, open: boolean): void {
  const key = randomBytes(alg === 'aes-128-gcm' ? 16 : 32);
  const iv = randomBytes(12);
  const aad = Buffer.from([23, 3, 3, (size + 16) >> 8, (size + 16) & 255]);
  const records: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const c = createCipheriv(alg as 'aes-128-gcm', key, nonceOf(iv, i), { authTagLength: 16 }) as CipherGCM;
    c.setAAD(aad);
    records.push(Buffer.concat([c.update(Buffer.alloc(size, i)), c.final(), c.getAuthTag()]));
  }
  if (!open) return;
  const [w0, w1, w2] = [iv.readUInt32LE(0), iv.readUInt32LE(4), iv.readUInt32LE(8)];
  const g = alg === 'aes-128-gcm' ? new GcmKey(key, iv) : null;
  const c = alg === 'aes-128-gcm' ? null : new ChaChaKey(key);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const out = g !== null ? g.open(i, aad, r, 0, size, size) : c!.open(w0, w1, (w2 ^ bswap(i)) >>> 0, aad, r, 0, size, size);
    if (out === null) throw new Error(`record ${i} did not open`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === 'count') {
  const [, , , alg, size, n, what, engine] = process.argv;
  if (engine === 'js') setAeadWasm(false);
  count(alg === 'aes' ? 'aes-128-gcm' : 'chacha20-poly1305', Number(size), Number(n), what === 'open');
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = process.argv[2] ?? 'wasm';
  if (mode === 'js') setAeadWasm(false);
  const sizes = (process.argv[3] ?? '64,200,256,512,1024,1400,2048,4096,8192,16384').split(',').map(Number);
  console.log(`src/tls per record, CPU µs (WebAssembly: ${aeadWasmStatus()})`);
  for (const alg of ['aes-128-gcm', 'chacha20-poly1305'] as const) {
    for (const size of sizes) {
      const l = microLine(alg, size);
      console.log(`${alg.padEnd(17)} ${String(size).padStart(6)} B   src/tls ${l.ours.toFixed(2).padStart(6)}   OpenSSL context per record ${l.openssl.toFixed(2).padStart(6)}   ${l.ok ? 'ok' : 'WRONG PLAINTEXT'}`);
      if (!l.ok) process.exitCode = 1;
    }
  }
}

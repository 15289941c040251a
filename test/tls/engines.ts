/**
 * Both ways src/tls opens records: WebAssembly (src/tls/wasm, the default where it loads) and the
 * JavaScript paths kept for runtimes without it. engineTest runs a test once per engine; the
 * WebAssembly run fails if the module did not load (so it cannot pass on the JavaScript path
 * unnoticed). PERISCOPE_TLS_WASM=0 runs only the JavaScript one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aeadWasmStatus, setAeadWasm } from '../../src/tls/wasm/aead.js';

export const ENGINES: { name: string; wasm: boolean }[] = [
  ...(process.env.PERISCOPE_TLS_WASM === '0' ? [] : [{ name: 'WebAssembly', wasm: true }]),
  { name: 'JavaScript', wasm: false },
];

export function engineTest(name: string, fn: (wasm: boolean) => void | Promise<void>): void {
  for (const e of ENGINES) {
    test(`${name} [${e.name}]`, async () => {
      setAeadWasm(e.wasm);
      try {
        if (e.wasm) assert.equal(aeadWasmStatus(), 'on', 'the WebAssembly module loads on Node >= 20');
        await fn(e.wasm);
      } finally {
        setAeadWasm(true);
      }
    });
  }
}

/**
 * The WebAssembly half of record decryption (aead.wat, assembled into aead-bytes.ts): AES-GCM's
 * GHASH over positional tables with 128-bit loads and XORs, ChaCha20 four blocks at once in SIMD
 * lanes, Poly1305 with 64-bit multiplies. gcm.ts and chacha.ts use it when it loads, and keep
 * their JavaScript paths for when it does not (no WebAssembly or no SIMD in this runtime, a
 * big-endian machine, or `setAeadWasm(false)`).
 *
 * One instance for the process, made synchronously from the bytes the first time a key asks (the
 * module is 4.5 KB: compiling it takes well under a millisecond). Its memory holds the scratch of
 * one record (copied in, opened, the plaintext read back before the next record) and a slot per
 * AES-GCM key that has positional GHASH tables: the tables (64 KiB, as in JavaScript) and the key
 * stream made ahead for its next records (17 KiB, a copy of the batch made by OpenSSL). A slot is
 * given back when its key is garbage-collected; at most MAX_SLOTS at once (81 MiB), past which a
 * key keeps the JavaScript tables.
 */
import { AEAD_WASM_BASE64 } from './aead-bytes.js';

/** Addresses in the module's memory (see aead.wat). */
export const AAD = 0;
export const AAD_MAX = 208;
export const KS = 0x100;
export const IN = 0x4500;
export const OUT = 0x8900;
export const CHACHA_KEY = 0xcd00;
export const CHACHA_NONCE = 0xcd20;
const SLOTS = 0x10000;
/** A slot: GHASH tables, then the key stream made ahead (KS_AHEAD bytes: 64 records of 17 blocks). */
export const TABLE_BYTES = 0x10000;
export const KS_AHEAD = 64 * 17 * 16;
const SLOT_BYTES = TABLE_BYTES + KS_AHEAD;
/** The longest ciphertext the module opens: 2^14 + 256 (TLS's largest record body). */
export const WASM_MAX = 16640;
export const MAX_SLOTS = 1024;

interface Exports {
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  gcm_open(tab: number, ks: number, aadLength: number, length: number): number;
  chacha_open(aadLength: number, length: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Exports };
}

export class AeadWasm {
  readonly gcmOpen: (tab: number, ks: number, aadLength: number, length: number) => number;
  readonly chachaOpen: (aadLength: number, length: number) => number;
  readonly #mem: Exports['mem'];
  /** Views of the memory: remade when it grows (growing detaches the old ones). */
  u8!: Uint8Array;
  i32!: Int32Array;
  /** The plaintext of the last record opened (its first bytes), valid until the next. */
  out!: Buffer;
  #slots = 0;
  readonly #free: number[] = [];
  readonly #registry = new FinalizationRegistry<number>((slot) => this.#free.push(slot));

  constructor(exports: Exports) {
    this.#mem = exports.mem;
    this.gcmOpen = exports.gcm_open;
    this.chachaOpen = exports.chacha_open;
    this.#views();
  }

  #views(): void {
    const b = this.#mem.buffer;
    this.u8 = new Uint8Array(b);
    this.i32 = new Int32Array(b);
    this.out = Buffer.from(b, OUT, WASM_MAX);
  }

  /**
   * The address of a slot for `owner` (given back when it is collected): its tables there, its key
   * stream made ahead at + TABLE_BYTES. -1 past MAX_SLOTS.
   */
  slot(owner: object): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#slots >= MAX_SLOTS) return -1;
      slot = SLOTS + SLOT_BYTES * this.#slots++;
      const pages = Math.ceil((slot + SLOT_BYTES) / 0x10000) - this.#mem.buffer.byteLength / 0x10000;
      if (pages > 0) {
        this.#mem.grow(pages);
        this.#views();
      }
    }
    this.#registry.register(owner, slot);
    return slot;
  }

  /** Slots in use (allocated and not given back). */
  get slotsInUse(): number {
    return this.#slots - this.#free.length;
  }
}

let enabled = true;
let instance: AeadWasm | null | undefined;
/** Why the module did not load (null when it did, or before the first try). */
let failure: string | null = null;

/** The shared instance, or null when WebAssembly cannot be used here or is turned off. */
export function aeadWasm(): AeadWasm | null {
  if (!enabled) return null;
  if (instance === undefined) instance = load();
  return instance;
}

/** Turns the WebAssembly paths on or off for keys made from now on (tests and benchmarks compare both). */
export function setAeadWasm(on: boolean): void {
  enabled = on;
}

/** 'on', 'off' (turned off) or why it is unavailable: for the benchmark's and tests' labels. */
export function aeadWasmStatus(): string {
  if (!enabled) return 'off';
  return aeadWasm() !== null ? 'on' : `unavailable (${failure})`;
}

function load(): AeadWasm | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) {
    failure = 'no WebAssembly in this runtime';
    return null;
  }
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    failure = 'big-endian machine';
    return null;
  }
  try {
    const module = new api.Module(Buffer.from(AEAD_WASM_BASE64, 'base64'));
    return new AeadWasm(new api.Instance(module, {}).exports);
  } catch (e) {
    // A runtime without WebAssembly SIMD refuses the module when compiling it.
    failure = e instanceof Error ? e.message : String(e);
    return null;
  }
}

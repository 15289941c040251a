/**
 * Byte sources for capture files: plain files read in large chunks with one read always in flight
 * (double buffering), and gzip files decompressed as a stream. Memory per open file is two chunks,
 * whatever the file's size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

export const CHUNK_SIZE = 4 * 1024 * 1024;
/** Chunk size for reading just the start of a file (its first timestamp). */
export const PROBE_CHUNK_SIZE = 64 * 1024;

/**
 * Freed full-size chunk buffers, reused by the next file: a directory of rotated files then costs
 * the memory of the files open at once, and fresh buffers need not be faulted in again.
 */
const pool: Buffer[] = [];
const POOL_MAX = 4;

function takeBuffer(size: number): Buffer {
  return (size === CHUNK_SIZE ? pool.pop() : undefined) ?? Buffer.allocUnsafe(size);
}

function giveBack(buf: Buffer): void {
  if (buf.length === CHUNK_SIZE && pool.length < POOL_MAX) pool.push(buf);
}

export interface ChunkSource {
  /** The next chunk, or null at end of input. A chunk may be reused after the next call. */
  read(): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

export class SourceError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

class PlainFileSource implements ChunkSource {
  private readonly bufs: Buffer[];
  private which = 0;
  private inFlight: Promise<number> | null = null;
  private eof = false;

  constructor(
    private readonly fh: FileHandle,
    chunkSize: number,
  ) {
    this.bufs = [takeBuffer(chunkSize), takeBuffer(chunkSize)];
  }

  private start(): void {
    const buf = this.bufs[this.which]!;
    this.inFlight = this.fh.read(buf, 0, buf.length, null).then((r) => r.bytesRead);
  }

  async read(): Promise<Uint8Array | null> {
    if (this.eof) return null;
    if (this.inFlight === null) this.start();
    const n = await this.inFlight!;
    const buf = this.bufs[this.which]!;
    if (n === 0) {
      this.eof = true;
      this.inFlight = null;
      return null;
    }
    this.which ^= 1;
    this.start(); // prefetch into the other buffer while the caller parses this one
    return plain(buf, n);
  }

  async close(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => 0);
    this.inFlight = null;
    this.eof = true;
    await this.fh.close();
    for (const b of this.bufs.splice(0)) giveBack(b);
  }
}

class GzipSource implements ChunkSource {
  private readonly it: AsyncIterator<Buffer>;
  private readonly raw;
  private readonly gunzip;

  constructor(path: string, chunkSize: number) {
    this.raw = createReadStream(path, { highWaterMark: Math.min(chunkSize, 1 << 20) });
    this.gunzip = createGunzip({ chunkSize: Math.min(chunkSize, 1 << 20) });
    this.raw.on('error', (e) => this.gunzip.destroy(e));
    this.it = this.raw.pipe(this.gunzip)[Symbol.asyncIterator]();
  }

  async read(): Promise<Uint8Array | null> {
    try {
      const r = await this.it.next();
      return r.done ? null : plain(r.value, r.value.length);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'Z_BUF_ERROR') throw new SourceError('the gzip stream ends early (file cut short)', 'truncated');
      throw new SourceError(`gzip data is damaged: ${err.message}`, 'corrupt');
    }
  }

  async close(): Promise<void> {
    this.raw.destroy();
    this.gunzip.destroy();
  }
}

/**
 * A chunk as a plain Uint8Array view, not a Buffer: every packet and MySQL payload downstream is a
 * `subarray` of it, and a Buffer's subarray builds a Buffer (several times slower, a measurable
 * share of the whole analysis). src/ uses no Buffer method.
 */
function plain(buf: Buffer, n: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, n);
}

/** Open a file; `gzip` is decided by the caller from the file's first bytes. */
export async function openSource(path: string, gzip: boolean, chunkSize = CHUNK_SIZE): Promise<ChunkSource> {
  if (gzip) return new GzipSource(path, chunkSize);
  return new PlainFileSource(await open(path, 'r'), chunkSize);
}

/** The first bytes of a file (for sniffing the magic number). */
export async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

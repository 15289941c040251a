/**
 * How this process decompresses zstd (the compressed protocol's CLIENT_ZSTD_COMPRESSION_ALGORITHM,
 * MySQL 8.0.18+): Node's own zlib.zstdDecompressSync (Node 22.15+, 23.8+); otherwise the pure
 * JavaScript `fzstd` package when it is installed; otherwise none, and a connection that uses it
 * is reported as not decodable, with this Node's version, and counted.
 */
import { createRequire } from 'node:module';
import { nodeZstd, type Inflate, type ZstdSupport } from '../src/mysql/compression.js';

let support: ZstdSupport | null = null;

export function zstdSupport(): ZstdSupport {
  return (support ??= load());
}

function load(): ZstdSupport {
  const unavailable = `zstd compression: not decodable on this Node.js (${process.version}; zlib.zstdDecompressSync needs Node 22.15+, or the fzstd package)`;
  const own = nodeZstd();
  if (own !== null) return { inflate: own, source: 'node:zlib', unavailable };
  try {
    const lib = createRequire(import.meta.url)('fzstd') as { decompress?: (b: Uint8Array) => Uint8Array };
    if (typeof lib.decompress === 'function') {
      const decompress = lib.decompress;
      const inflate: Inflate = (b) => decompress(b);
      return { inflate, source: 'fzstd', unavailable };
    }
  } catch {
    // Not installed: no zstd here.
  }
  return { inflate: null, source: null, unavailable };
}

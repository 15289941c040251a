/**
 * How this process decompresses zstd (the compressed protocol's CLIENT_ZSTD_COMPRESSION_ALGORITHM,
 * MySQL 8.0.18+): Node's own zlib.zstdDecompressSync (Node 22.15+, 23.8+); otherwise the pure
 * JavaScript `fzstd` package (a dependency: Node 20 has no zstd; imported statically so that the
 * one-file build bundles it). `unavailable` is the message should neither decode.
 */
import { decompress } from 'fzstd';
import { nodeZstd, type Inflate, type ZstdSupport } from '../src/mysql/compression.js';

let support: ZstdSupport | null = null;

export function zstdSupport(): ZstdSupport {
  return (support ??= load());
}

function load(): ZstdSupport {
  const unavailable = `zstd compression: not decodable on this Node.js (${process.version}; zlib.zstdDecompressSync needs Node 22.15+, or the fzstd package)`;
  const own = nodeZstd();
  if (own !== null) return { inflate: own, source: 'node:zlib', unavailable };
  const inflate: Inflate = (b) => decompress(b);
  return { inflate, source: 'fzstd', unavailable };
}

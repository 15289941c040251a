/**
 * A Node Buffer and a DataView over the memory of one of our reused output arrays, made again only
 * when the array is: the Buffer decodes ASCII output with \`latin1\` (a fraction of TextDecoder's cost
 * on short strings), the DataView reads 4 bytes at a time.
 */
export class Views {
  private of: Uint8Array | null = null;
  node: Buffer = Buffer.alloc(0);
  view: DataView = new DataView(new ArrayBuffer(0));

  /** The views of `bytes` (made when `bytes` is not the array of the last call). */
  over(bytes: Uint8Array): this {
    if (bytes !== this.of) {
      this.of = bytes;
      this.node = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this;
  }
}

/** Fixed-size integer reads at an offset, in either byte order (callers check bounds first). */
export const u16le = (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8);
export const u16be = (b: Uint8Array, p: number): number => (b[p]! << 8) | b[p + 1]!;
export const u32le = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
export const u32be = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

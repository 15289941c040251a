import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { unitsPerSecondFromTsresol, unitsToTimestamp, type Timestamp } from '../../src/pcap/timestamp.js';

/** Exact reference: floor division in BigInt; seconds rounded to the nearest double like Number(). */
function reference(v: bigint, unitsPerSec: bigint): { sec: number; nsec: number } {
  return { sec: Number(v / unitsPerSec), nsec: Number(((v % unitsPerSec) * 1_000_000_000n) / unitsPerSec) };
}

function convert(v: bigint, unitsPerSec: number): Timestamp {
  const out: Timestamp = { sec: -1, nsec: -1 };
  unitsToTimestamp(Number(v >> 32n), Number(v & 0xffffffffn), unitsPerSec, out);
  return out;
}

/** Resolutions if_tsresol can express exactly as a double: 10^0..10^22 and 2^0..2^127. */
const RESOLUTIONS: { tsresol: number; units: bigint }[] = [
  ...Array.from({ length: 23 }, (_, n) => ({ tsresol: n, units: 10n ** BigInt(n) })),
  ...Array.from({ length: 128 }, (_, n) => ({ tsresol: 0x80 | n, units: 2n ** BigInt(n) })),
];

describe('unitsPerSecondFromTsresol', () => {
  test('decimal and binary powers', () => {
    const table: [number, number][] = [
      [0, 1],
      [3, 1e3],
      [6, 1e6],
      [9, 1e9],
      [12, 1e12],
      [0x80, 1],
      [0x80 | 10, 1024],
      [0x80 | 20, 1_048_576],
      [0x80 | 32, 4_294_967_296],
      [0x80 | 64, 2 ** 64],
    ];
    for (const [tsresol, want] of table) assert.equal(unitsPerSecondFromTsresol(tsresol), want, `tsresol ${tsresol}`);
  });
});

describe('unitsToTimestamp', () => {
  test('table of exact conversions', () => {
    const table: [bigint, number, number, number][] = [
      // units, units per second, sec, nsec
      [0n, 1e6, 0, 0],
      [1_700_000_000_123_456n, 1e6, 1_700_000_000, 123_456_000],
      [1_700_000_000_123_456_789n, 1e9, 1_700_000_000, 123_456_789],
      [(1n << 64n) - 1n, 1e9, 18_446_744_073, 709_551_615],
      [(1n << 64n) - 1n, 1e6, 18_446_744_073_709, 551_615_000],
      [(1n << 64n) - 1n, 2 ** 32, 4_294_967_295, 999_999_999],
      [(1n << 64n) - 1n, 2 ** 64, 0, 999_999_999],
      [1n, 2 ** 64, 0, 0],
      [(1n << 63n) + 1n, 2 ** 64, 0, 500_000_000],
      [17_000_000_009_999_999_990n, 1e10, 1_700_000_000, 999_999_999],
      [12_345_678_901_234_567n, 1e12, 12_345, 678_901_234],
      [999n, 1e3, 0, 999_000_000],
      [(1_700_000_000n << 20n) + 1n, 2 ** 20, 1_700_000_000, 953],
    ];
    for (const [v, d, sec, nsec] of table) assert.deepEqual(convert(v, d), { sec, nsec }, `${v} at ${d}/s`);
  });

  test('every resolution at its boundaries matches the BigInt reference', () => {
    for (const { units } of RESOLUTIONS) {
      const d = Number(units);
      const edges = [0n, 1n, units - 1n, units, units + 1n, 2n * units - 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n, (1n << 64n) - units];
      for (const v of edges) {
        if (v < 0n || v >= 1n << 64n) continue;
        const got = convert(v, d);
        const want = reference(v, units);
        assert.equal(got.nsec, want.nsec, `nsec of ${v} at ${units}/s`);
        if (want.sec <= Number.MAX_SAFE_INTEGER) assert.equal(got.sec, want.sec, `sec of ${v} at ${units}/s`);
      }
    }
  });

  test('property: random 64-bit values and resolutions match the BigInt reference', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(...RESOLUTIONS), (v, { units }) => {
        const got = convert(v, Number(units));
        const want = reference(v, units);
        assert.equal(got.nsec, want.nsec);
        assert.ok(got.nsec >= 0 && got.nsec < 1e9 && Number.isInteger(got.nsec));
        // Whole seconds above 2^53 cannot all be represented; below, they must be exact.
        if (want.sec <= Number.MAX_SAFE_INTEGER) assert.equal(got.sec, want.sec);
        else assert.ok(Math.abs(got.sec - want.sec) <= want.sec * 2 ** -51);
      }),
      { numRuns: 20_000 },
    );
  });

  test('property: realistic timestamps (years 1970–2200) at common resolutions are exact', () => {
    const common = [1e3, 1e6, 1e9, 1e10, 1e12, 2 ** 20, 2 ** 24, 2 ** 30, 2 ** 32];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7_258_118_400 }), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(...common), (sec, frac, d) => {
        const units = BigInt(d);
        // Timestamp at unit granularity: sec + frac/1e9 rounded down to a unit.
        const v = BigInt(sec) * units + (BigInt(frac) * units) / 1_000_000_000n;
        if (v >= 1n << 64n) return;
        assert.deepEqual(convert(v, d), reference(v, units));
      }),
      { numRuns: 20_000 },
    );
  });
});

/**
 * ByteReader: the one bounds-checked cursor every packet parser reads through. Every integer
 * width and every length-encoding boundary round-trips; any read past the end sets ok=false,
 * returns a zero value and never throws.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteReader, text } from '../../src/bytes/reader.js';
import { ByteWriter, concat, hex, ascii } from '../builders/bytes.js';
import { lenenc, lenencStr } from '../builders/mysql-builder.js';

describe('ByteReader: fixed-width integers (little-endian)', () => {
  const b = hex('01 | 02 03 | 04 05 06 | 07 08 09 0a | 0b 0c 0d 0e 0f 10 11 12'.replace(/\|/g, ''));
  test('u8, u16, u24, u32, u64 in order', () => {
    const r = new ByteReader(b);
    assert.equal(r.u8(), 0x01);
    assert.equal(r.u16(), 0x0302);
    assert.equal(r.u24(), 0x060504);
    assert.equal(r.u32(), 0x0a090807);
    assert.equal(r.u64(), 0x1211100f * 2 ** 32 + 0x0e0d0c0b, 'a double: exact only below 2^53');
    assert.equal(r.ok, true);
    assert.equal(r.remaining, 0);
  });
  test('u32 of 0xffffffff is unsigned', () => {
    assert.equal(new ByteReader(hex('ff ff ff ff')).u32(), 0xffffffff);
  });
  test('u64 below 2^53 is exact; 2^53-1', () => {
    const r = new ByteReader(new ByteWriter().u64(2n ** 53n - 1n).toBytes());
    assert.equal(r.u64(), Number.MAX_SAFE_INTEGER);
  });
  test('a range inside a larger buffer: start and end are honoured', () => {
    const r = new ByteReader(hex('aa bb cc dd ee'), 1, 3);
    assert.equal(r.remaining, 2);
    assert.equal(r.u16(), 0xccbb);
    assert.equal(r.u8(), 0);
    assert.equal(r.ok, false);
  });
});

describe('ByteReader: int<lenenc> round-trips at every boundary', () => {
  const values: [number, number][] = [
    // value, encoded size
    [0, 1],
    [1, 1],
    [250, 1],
    [251, 3],
    [252, 3],
    [0xffff, 3],
    [0x10000, 4],
    [0xffffff, 4],
    [0x1000000, 9],
    [0xffffffff, 9],
    [0x100000000, 9],
    [Number.MAX_SAFE_INTEGER, 9],
  ];
  for (const [v, size] of values) {
    test(`${v} (${size} bytes)`, () => {
      const b = lenenc(v);
      assert.equal(b.length, size);
      const r = new ByteReader(concat(b, [0x5a]));
      assert.equal(r.lenenc(), v);
      assert.equal(r.pos, size);
      assert.equal(r.u8(), 0x5a, 'the next field starts right after');
      assert.equal(r.ok, true);
    });
  }
  test('the markers: 0xfb (NULL) and 0xff (ERR) are not integers: -1', () => {
    assert.equal(new ByteReader(hex('fb')).lenenc(), -1);
    assert.equal(new ByteReader(hex('ff')).lenenc(), -1);
  });
  test('annotated encodings', () => {
    assert.equal(new ByteReader(hex('fc fb 00')).lenenc(), 251);
    assert.equal(new ByteReader(hex('fd 00 00 01')).lenenc(), 0x10000);
    assert.equal(new ByteReader(hex('fe 00 00 00 01 00 00 00 00')).lenenc(), 0x1000000);
  });
  test('property: every integer up to 2^53-1 round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 0x1000100 }), fc.maxSafeNat()), (v) => {
        const r = new ByteReader(lenenc(v));
        return r.lenenc() === v && r.ok && r.remaining === 0;
      }),
    );
  });
  test('string<lenenc> at the boundaries: 250, 251, 0xffff and 0x10000 bytes', () => {
    for (const n of [0, 250, 251, 0xffff, 0x10000]) {
      const s = new Uint8Array(n).fill(0x61);
      const r = new ByteReader(concat(lenencStr(s), [0x7a]));
      assert.equal(r.lenencBytes().length, n);
      assert.equal(r.u8(), 0x7a);
      assert.equal(r.ok, true);
    }
  });
});

describe('ByteReader: reads past the end set ok=false and never throw', () => {
  const cases: { name: string; bytes: string; read: (r: ByteReader) => unknown; value: unknown }[] = [
    { name: 'u8 of nothing', bytes: '', read: (r) => r.u8(), value: 0 },
    { name: 'u16 of 1 byte', bytes: '01', read: (r) => r.u16(), value: 0 },
    { name: 'u24 of 2 bytes', bytes: '01 02', read: (r) => r.u24(), value: 0 },
    { name: 'u32 of 3 bytes', bytes: '01 02 03', read: (r) => r.u32(), value: 0 },
    { name: 'u64 of 7 bytes', bytes: '01 02 03 04 05 06 07', read: (r) => r.u64(), value: 0x04030201 },
    { name: 'lenenc 0xfc with 1 byte', bytes: 'fc 01', read: (r) => r.lenenc(), value: 0 },
    { name: 'lenenc 0xfd with 2 bytes', bytes: 'fd 01 02', read: (r) => r.lenenc(), value: 0 },
    { name: 'lenenc 0xfe with 7 bytes', bytes: 'fe 01 02 03 04 05 06 07', read: (r) => r.lenenc(), value: 0x04030201 },
    { name: 'lenenc of nothing', bytes: '', read: (r) => r.lenenc(), value: 0 },
    { name: 'bytes(5) of 4', bytes: '01 02 03 04', read: (r) => r.bytes(5).length, value: 0 },
    { name: 'string<lenenc> longer than the rest', bytes: '05 61 62', read: (r) => r.lenencBytes().length, value: 0 },
    { name: 'string<lenenc> with a NULL marker', bytes: 'fb 61', read: (r) => r.lenencBytes().length, value: 0 },
    { name: 'string<NUL> without its NUL', bytes: '61 62 63', read: (r) => text(r.nulBytes()), value: 'abc' },
    { name: 'skip past the end', bytes: '01', read: (r) => (r.skip(2), r.pos), value: 1 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = new ByteReader(hex(c.bytes));
      assert.deepEqual(c.read(r), c.value);
      assert.equal(r.ok, false);
      assert.ok(r.pos <= r.end, 'the cursor never moves past the end');
      // Every further read is a zero value too.
      assert.equal(r.u32(), 0);
      assert.equal(r.lenenc(), 0);
      assert.equal(r.bytes(1).length, 0);
      assert.equal(r.ok, false);
    });
  }
  test('u64 partially readable: low half kept, ok=false (documented as a zero value per read)', () => {
    // u64 = two u32 reads: the first succeeds, the second fails. Callers must check ok.
    const r = new ByteReader(hex('01 00 00 00 02'));
    r.u64();
    assert.equal(r.ok, false);
  });
  test('property: any sequence of reads over any bytes never throws, never moves past the end', () => {
    const op = fc.constantFrom<(r: ByteReader) => unknown>(
      (r) => r.u8(),
      (r) => r.u16(),
      (r) => r.u24(),
      (r) => r.u32(),
      (r) => r.u64(),
      (r) => r.lenenc(),
      (r) => r.lenencBytes(),
      (r) => r.nulBytes(),
      (r) => r.bytes(3),
      (r) => r.skip(2),
      (r) => r.rest(),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 5 }), fc.array(op, { maxLength: 20 }), (b, start, ops) => {
        const r = new ByteReader(b, Math.min(start, b.length));
        for (const o of ops) {
          o(r);
          if (r.pos > r.end || r.pos < 0) return false;
        }
        return true;
      }),
    );
  });
});

describe('text(): wire strings', () => {
  test('ASCII, UTF-8, and latin1 when the bytes are not valid UTF-8', () => {
    assert.equal(text(ascii('SELECT 1')), 'SELECT 1');
    assert.equal(text(new TextEncoder().encode("SELECT 'Zoë ✓'")), "SELECT 'Zoë ✓'");
    assert.equal(text(Uint8Array.of(0x5a, 0x6f, 0xeb)), 'Zoë', 'latin1 ë alone is not UTF-8');
  });
});

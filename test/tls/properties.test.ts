/**
 * Property tests over real sessions (TLS 1.3 AES-GCM, TLS 1.2 AES-GCM, TLS 1.2 ChaCha20):
 *   - any segmentation of both directions gives the same plaintext;
 *   - damage (a span lost with the TCP layer's gap, bytes flipped, the stream cut) never throws,
 *     never delivers a byte that was not sent (each delivery is found in what the side wrote, in
 *     order), and what is missing is told to the sink as a gap and counted;
 *   - a wrong key delivers nothing and counts authentication failures.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TlsConnection } from '../../src/tls/connection.js';
import { GapReason, type Dir } from '../../src/tcp/stream.js';
import { KeyLog } from '../../src/tls/keylog.js';
import { RecordingSink, decrypt, feed, makeSession, type Session } from './session.js';
import { engineTest } from './engines.js';

const sessions: Session[] = [];
before(async () => {
  const ex: [number, number][] = [[50, 300], [2000, 40_000], [10, 20], [600, 5000]];
  sessions.push(await makeSession({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256', exchanges: ex }));
  sessions.push(await makeSession({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', exchanges: ex }));
  sessions.push(await makeSession({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', exchanges: ex }));
});

engineTest('any segmentation of both directions gives the same plaintext', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 }), fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 50 }), (which, sizes) => {
      const s = sessions[which]!;
      const { conn, sink } = decrypt(s);
      let i = 0;
      feed(conn, s.chunks, () => sizes[i++ % sizes.length]!);
      assert.ok(sink.text(0).equals(s.plain[0]));
      assert.ok(sink.text(1).equals(s.plain[1]));
      assert.deepEqual(sink.gaps, []);
    }),
    { numRuns: 60 },
  );
});

/** One mutation of the byte stream of a direction, at a position in that direction's stream. */
type Mutation = { kind: 'drop'; dir: 0 | 1; at: number; length: number } | { kind: 'flip'; dir: 0 | 1; at: number; mask: number } | { kind: 'cut'; dir: 0 | 1; at: number };

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), dir: fc.constantFrom(0 as const, 1 as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ kind: fc.constant('flip' as const), dir: fc.constantFrom(0 as const, 1 as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), dir: fc.constantFrom(0 as const, 1 as const), at: fc.nat() }),
);

/** Feeds a session with mutations applied (positions taken modulo the direction's length). */
function feedMutated(conn: TlsConnection, s: Session, muts: Mutation[]): { dropped: [number, number]; cut: [boolean, boolean] } {
  const total: [number, number] = [0, 0];
  for (const c of s.chunks) total[c.dir] += c.bytes.length;
  const drops = muts.filter((m) => m.kind === 'drop').map((m) => ({ ...m, at: m.at % total[m.dir] }));
  const flips = muts.filter((m) => m.kind === 'flip').map((m) => ({ ...m, at: m.at % total[m.dir] }));
  const cuts = muts.filter((m) => m.kind === 'cut').map((m) => ({ ...m, at: m.at % total[m.dir] }));
  const pos: [number, number] = [0, 0];
  const dropped: [number, number] = [0, 0];
  const cutAt: [number, number] = [Infinity, Infinity];
  for (const c of cuts) cutAt[c.dir] = Math.min(cutAt[c.dir], c.at);
  for (const c of s.chunks) {
    const d = c.dir;
    const bytes = Buffer.from(c.bytes);
    for (const f of flips) if (f.dir === d && f.at >= pos[d] && f.at < pos[d] + bytes.length) bytes[f.at - pos[d]]! ^= f.mask;
    // Deliver byte runs, replacing dropped spans by a gap, and nothing after the cut.
    let p = 0;
    while (p < bytes.length) {
      const abs = pos[d] + p;
      if (abs >= cutAt[d]) break;
      const drop = drops.find((x) => x.dir === d && abs >= x.at && abs < x.at + x.length);
      if (drop) {
        const n = Math.min(bytes.length - p, drop.at + drop.length - abs);
        conn.onGap(d as Dir, n, GapReason.Unseen, 1, 0);
        dropped[d] += n;
        p += n;
        continue;
      }
      let n = Math.min(bytes.length - p, cutAt[d] - abs);
      for (const x of drops) if (x.dir === d && x.at > abs) n = Math.min(n, x.at - abs);
      conn.onData(d as Dir, bytes, p, n, 1, 0);
      bytes.fill(0xee, p, p + n);
      p += n;
    }
    pos[d] += c.bytes.length;
  }
  conn.end(2, 0);
  return { dropped, cut: [cutAt[0] !== Infinity, cutAt[1] !== Infinity] };
}

engineTest('damage (loss with gaps, flipped bytes, a cut stream) never throws, never delivers what was not sent, and tells the sink', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, muts) => {
      const s = sessions[which]!;
      const { conn, sink } = decrypt(s);
      const { dropped, cut } = feedMutated(conn, s, muts);
      for (const d of [0, 1] as const) {
        // Every delivery is a piece of what this side wrote, in order.
        let from = 0;
        for (const piece of sink.data[d]) {
          const at = s.plain[d].indexOf(piece, from);
          assert.ok(at >= 0, `direction ${d}: ${piece.length} bytes delivered that were never sent`);
          from = at + piece.length;
        }
        const got = sink.text(d);
        const whole = got.equals(s.plain[d]);
        const prefix = s.plain[d].subarray(0, got.length).equals(got);
        // Something missing before the end must have been told as a gap (a cut stream may just stop).
        if (!whole && !(cut[d] && prefix)) assert.ok(sink.gaps.some((g) => g.dir === d), `direction ${d}: bytes missing without a gap`);
        if (dropped[d] > 0) assert.ok(conn.counters.bytesSkipped >= dropped[d]);
      }
      // A session decrypted with bytes lost says so in its reason (the health report shows it).
      const info = conn.info;
      if (info.state === 'decrypting' && dropped[0] + dropped[1] > 0) assert.match(info.reason ?? '', /lost or skipped/);
    }),
    { numRuns: 150 },
  );
});

test('a wrong key: nothing is delivered, authentication failures are counted, the state says why', () => {
  for (const s of sessions) {
    // The same lines with every secret's last hex digit changed.
    const wrong = s.keylog.replace(/([0-9a-f])(\r?\n)/g, (_m, d: string, nl: string) => `${d === '0' ? '1' : '0'}${nl}`);
    const keylog = new KeyLog();
    assert.ok(keylog.addText(wrong).secrets > 0);
    const sink = new RecordingSink();
    const conn = new TlsConnection((r) => keylog.lookup(r), sink);
    feed(conn, s.chunks);
    conn.end(2, 0);
    assert.deepEqual(sink.data, [[], []]);
    assert.ok(conn.counters.authFailures > 0);
    assert.equal(conn.counters.recordsDecrypted, 0);
    assert.equal(conn.info.state, 'failed');
    assert.match(conn.info.reason!, /does not decrypt/);
    assert.ok(sink.gaps.length > 0);
  }
});

test('loss inside a long reply: decoding resumes at the next record (resync proven by the tag) and the loss is counted', () => {
  for (const s of sessions) {
    // Drop 3000 bytes at 60 % of the server's stream: inside the 40 kB reply.
    const serverBytes = s.chunks.filter((c) => c.dir === 1).reduce((n, c) => n + c.bytes.length, 0);
    const at = Math.floor(serverBytes * 0.6);
    assert.ok(at > 0);
    const { conn, sink } = decrypt(s);
    feedMutated(conn, s, [{ kind: 'drop', dir: 1, at, length: 3000 }]);
    assert.equal(conn.counters.resyncs, 1);
    assert.ok(conn.counters.bytesSkipped >= 3000);
    assert.ok(conn.counters.bytesSkipped < 3000 + 2 * 16_500);
    // The replies after the loss arrive whole.
    assert.ok(sink.text(1).subarray(-5000).equals(s.plain[1].subarray(-5000)));
    assert.ok(sink.text(0).equals(s.plain[0]));
    const g = sink.gaps.filter((x) => x.dir === 1);
    assert.equal(g.length, 1);
    assert.equal(g[0]!.reason, GapReason.Unseen);
    assert.ok(g[0]!.bytes >= s.plain[1].length - sink.text(1).length, 'the gap is an upper bound of the plaintext lost');
    assert.equal(conn.info.state, 'decrypting');
    assert.match(conn.info.reason!, /lost or skipped/);
  }
});

test('random bytes and random gaps in both directions never throw, deliver nothing, and keep memory bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.uint8Array({ maxLength: 3000 }) }), fc.record({ dir: fc.constantFrom(0 as const, 1 as const), gap: fc.integer({ min: -1, max: 5000 }) })), { maxLength: 40 }),
      (steps) => {
        const sink = new RecordingSink();
        const conn = new TlsConnection(() => ({ masterSecret: new Uint8Array(48), clientTraffic0: new Uint8Array(32), serverTraffic0: new Uint8Array(32) }), sink);
        for (const st of steps) {
          if ('bytes' in st) conn.onData(st.dir as Dir, st.bytes, 0, st.bytes.length, 1, 0);
          else conn.onGap(st.dir as Dir, st.gap, GapReason.Unseen, 1, 0);
        }
        conn.end(2, 0);
        assert.deepEqual(sink.data, [[], []]);
        void conn.info;
      },
    ),
    { numRuns: 300 },
  );
});

test('a session captured from the middle (no ClientHello): failed, saying the start was not captured', () => {
  const s = sessions[0]!;
  const { conn, sink } = decrypt(s);
  conn.onGap(0 as Dir, -1, GapReason.MidStreamStart, 1, 0);
  conn.onGap(1 as Dir, -1, GapReason.MidStreamStart, 1, 0);
  // Everything after the first 8 chunks (the handshake).
  feed(conn, s.chunks.slice(8));
  assert.equal(conn.info.state, 'failed');
  assert.match(conn.info.reason!, /ClientHello was not captured/);
  assert.deepEqual(sink.data, [[], []]);
});

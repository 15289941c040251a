/**
 * A TCP conversation model for the property tests: what a real stack sends for a request/response
 * exchange (correct sequence and acknowledgement numbers), the damage a capture does to it
 * (retransmissions, re-segmented overlaps, reordering, drops), and its replay through the
 * reassembler with the recording harness.
 */
import { prng } from '../builders/prng.js';

import type { ReassemblyOptions } from '../../src/tcp/reassembler.js';
import { Dir } from '../../src/tcp/stream.js';
import { setup, Tuple, type RecordedConn, type Seg } from './harness.js';

// ──────────────────────────────────────────────────────────────────────────────────────────────
// The model: what the endpoints sent
// ──────────────────────────────────────────────────────────────────────────────────────────────

type Kind = 'syn' | 'synack' | 'data' | 'ack' | 'fin';

export interface Pkt {
  kind: Kind;
  dir: Dir;
  /** Offset in the sender's stream (data, ack, fin). */
  rel: number;
  len: number;
  /** Offset in the peer's stream acknowledged (FIN counts one). */
  ack: number;
  /** A copy sent again (a retransmission); not counted as an original segment. */
  copy?: boolean;
}

export interface Conversation {
  cisn: number;
  sisn: number;
  greeting: Uint8Array | null;
  rounds: { req: Uint8Array; resp: Uint8Array }[];
  /** Segment sizes, used in turn. */
  sizes: number[];
  /** Pure ACKs after each burst. */
  acks: boolean;
}

export interface Sent {
  streams: [Uint8Array, Uint8Array];
  pkts: Pkt[];
  /** Per direction and byte: the peer offset its (first) segment acknowledged. */
  ackOf: [number[], number[]];
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** What a TCP stack sends for the conversation, in order. */
export function send(cv: Conversation): Sent {
  const pkts: Pkt[] = [
    { kind: 'syn', dir: Dir.ClientToServer, rel: -1, len: 0, ack: 0 },
    { kind: 'synack', dir: Dir.ServerToClient, rel: -1, len: 0, ack: 0 },
    { kind: 'ack', dir: Dir.ClientToServer, rel: 0, len: 0, ack: 0 },
  ];
  const pos: [number, number] = [0, 0];
  const ackOf: [number[], number[]] = [[], []];
  let size = 0;
  const burst = (dir: Dir, bytes: number): void => {
    const peer = 1 - dir;
    const ack = pos[peer]!;
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, cv.sizes[size++ % cv.sizes.length]!);
      pkts.push({ kind: 'data', dir, rel: pos[dir]!, len: n, ack });
      for (let i = 0; i < n; i++) ackOf[dir].push(ack);
      pos[dir] += n;
      left -= n;
    }
    if (cv.acks && bytes > 0) pkts.push({ kind: 'ack', dir: peer, rel: pos[peer]!, len: 0, ack: pos[dir]! });
  };
  if (cv.greeting !== null) burst(Dir.ServerToClient, cv.greeting.length);
  for (const r of cv.rounds) {
    burst(Dir.ClientToServer, r.req.length);
    burst(Dir.ServerToClient, r.resp.length);
  }
  const [c, s] = pos;
  pkts.push({ kind: 'fin', dir: Dir.ClientToServer, rel: c, len: 0, ack: s });
  pkts.push({ kind: 'fin', dir: Dir.ServerToClient, rel: s, len: 0, ack: c + 1 });
  pkts.push({ kind: 'ack', dir: Dir.ClientToServer, rel: c + 1, len: 0, ack: s + 1 });
  const client = concat(cv.rounds.map((r) => r.req));
  const server = concat([...(cv.greeting ? [cv.greeting] : []), ...cv.rounds.map((r) => r.resp)]);
  return { streams: [client, server], pkts, ackOf };
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// The capture: damage
// ──────────────────────────────────────────────────────────────────────────────────────────────


export interface Damage {
  seed: number;
  /** Chance that a data segment is sent again: as is, or re-segmented over the burst's bytes. */
  retransmit: number;
  /** Packets move by less than this many places (1: no reordering). */
  window: number;
  /** Chance that a data segment or pure ACK is not captured (SYN, SYN-ACK and FINs always are). */
  drop: number;
}

export function damage(sent: Sent, d: Damage): Pkt[] {
  const rnd = prng(d.seed);
  // Retransmissions of data segments, with the same acknowledgement (sent before anything new
  // arrived from the peer). A burst is a direction's data sent with one acknowledgement.
  //   - a segment that also re-sends the end of the bytes before it (a partial overlap);
  //   - an exact copy, or a re-segmented range of the burst's bytes sent by then, right after the
  //     segment it repeats or up to 10 packets later (reordering may move it more).
  const pkts = sent.pkts;
  const burstOf = (p: Pkt): string => `${p.dir}:${p.ack}`;
  const burstStart = new Map<string, number>();
  for (const p of pkts) if (p.kind === 'data' && !burstStart.has(burstOf(p))) burstStart.set(burstOf(p), p.rel);
  const keyed: { p: Pkt; key: number }[] = [];
  pkts.forEach((orig, i) => {
    let p = orig;
    const start = p.kind === 'data' ? burstStart.get(burstOf(p))! : 0;
    if (p.kind === 'data' && p.rel > start && rnd() < d.retransmit) {
      const back = 1 + Math.floor(rnd() * (p.rel - start));
      p = { ...p, rel: p.rel - back, len: p.len + back };
    }
    keyed.push({ p, key: i });
    if (p.kind !== 'data' || !(rnd() < d.retransmit)) return;
    const delay = rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 10);
    let copy: Pkt;
    if (rnd() < 0.3) copy = { ...p, copy: true };
    else {
      let sentEnd = p.rel + p.len;
      for (let k = i + 1; k <= i + delay && k < pkts.length; k++) {
        const q = pkts[k]!;
        if (q.kind === 'data' && burstOf(q) === burstOf(p)) sentEnd = q.rel + q.len;
      }
      const from = start + Math.floor(rnd() * (sentEnd - start));
      const to = from + 1 + Math.floor(rnd() * (sentEnd - from));
      copy = { ...p, rel: from, len: to - from, copy: true };
    }
    keyed.push({ p: copy, key: i + 0.5 + delay });
  });
  keyed.sort((x, y) => x.key - y.key);
  const withCopies = keyed.map((x) => x.p);
  const kept = withCopies.filter((p, i) => !(i >= 3 && (p.kind === 'data' || p.kind === 'ack') && rnd() < d.drop));
  // Reorder after the handshake: each packet moves by less than `window` places.
  const head = kept.slice(0, 3);
  const tail = kept.slice(3).map((p, i) => ({ p, key: i + rnd() * d.window }));
  tail.sort((a, b) => a.key - b.key);
  return [...head, ...tail.map((x) => x.p)];
}

export function segments(t: Tuple, sent: Sent, pkts: Pkt[]): Seg[] {
  return pkts.map((p) => {
    const client = p.dir === Dir.ClientToServer;
    switch (p.kind) {
      case 'syn':
        return t.syn();
      case 'synack':
        return t.synAck();
      case 'fin':
        return client ? t.c(p.rel, '', 'FA', p.ack) : t.s(p.rel, '', 'FA', p.ack);
      case 'ack':
        return client ? t.c(p.rel, '', 'A', p.ack) : t.s(p.rel, '', 'A', p.ack);
      case 'data': {
        const payload = sent.streams[p.dir].subarray(p.rel, p.rel + p.len);
        return client ? t.c(p.rel, payload, 'PA', p.ack) : t.s(p.rel, payload, 'PA', p.ack);
      }
    }
  });
}

export const describeCase = (cv: Conversation, pkts: Pkt[]): string =>
  `isn ${cv.cisn.toString(16)}/${cv.sisn.toString(16)}; capture: ` +
  pkts.map((p) => `${p.dir === Dir.ClientToServer ? 'C' : 'S'}${p.kind === 'data' ? `[${p.rel},${p.rel + p.len})` : p.kind}${p.kind === 'data' || p.kind === 'fin' ? `a${p.ack}` : ''}${p.copy ? '*' : ''}`).join(' ');

export function replay(cv: Conversation, d: Damage, opts: ReassemblyOptions = {}, wire: { shared?: boolean } = {}) {
  const sent = send(cv);
  const pkts = damage(sent, d);
  const t = new Tuple('10.1.0.1', '10.1.0.2', 40000 + (cv.cisn & 0xfff), 3306, cv.cisn, cv.sisn);
  const ctx = setup(opts, wire);
  // Causal order, checked as bytes are delivered: a segment's bytes come after the peer's bytes it acknowledges.
  const causal: string[] = [];
  ctx.rec.onData = (c: RecordedConn, dir, offset, length) => {
    const peer = c.dirs[1 - dir]!;
    const peerLen = sent.streams[1 - dir]!.length;
    for (let k = offset; k < offset + length; k++) {
      const need = Math.min(sent.ackOf[dir][k]!, peerLen);
      if (peer.pos < need && causal.length < 3) causal.push(`${dir === Dir.ClientToServer ? 'client' : 'server'} byte ${k} delivered when the peer's stream was at ${peer.pos}, it acknowledges ${need}`);
    }
  };
  ctx.wire.feed(...segments(t, sent, pkts));
  ctx.wire.finish();
  return { sent, pkts, ...ctx, causal };
}


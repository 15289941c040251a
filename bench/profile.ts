/**
 * Where `periscope analyze` spends its time, from a V8 CPU profile, by layer of the code.
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof bin/periscope.js analyze CAPTURE --format json -q -o /dev/null
 *   node build/bench/profile.js /tmp/prof/CPU.*.cpuprofile [more profiles…]
 *
 * Every sample is charged to the innermost frame of Periscope's own code on its stack, so time in
 * Node's built-ins (a TextDecoder, a Map lookup, a Buffer copy) counts for the layer that called
 * them; the byte helpers (src/bytes) count for their caller too. Layers:
 *   reading      analyze/read (file sources, merge), src/pcap (pcap/pcapng parsing)
 *   decode       src/net (link, IP, TCP headers)
 *   reassembly   src/tcp
 *   mysql        src/mysql (framing, packets, the session state machine), src/pipeline (the
 *                wiring, ordering events across connections), analyze/events
 *   sql          src/sql (lexer, fingerprint, digest, redaction)
 *   aggregate    analyze/aggregate (aggregate.ts, histogram, timeline, sessions, summary); analyze/run (filters)
 *   report       building and writing the report (report.ts, json)
 *   gc, idle, startup (module loading and compiling before the first packet), other.
 * Prints milliseconds and shares per layer (several profiles are added up), per file, and the
 * functions with the most self time.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const LAYERS = ['reading', 'decode', 'reassembly', 'mysql', 'sql', 'aggregate', 'report', 'gc', 'idle', 'startup', 'other'] as const;
export type Layer = (typeof LAYERS)[number];

/** The layer of a frame of Periscope's code, null for anything else (Node, V8, dependencies) and for the transparent byte helpers. */
function layerOfUrl(url: string): Layer | null {
  const m = /\/build\/(src|analyze|cli|capture)\/(.*)$/.exec(url);
  if (m === null) return null;
  const [, top, rest] = m as unknown as [string, string, string];
  if (top === 'src') {
    const dir = rest.split('/')[0];
    switch (dir) {
      case 'pcap':
        return 'reading';
      case 'net':
        return 'decode';
      case 'tcp':
        return 'reassembly';
      case 'mysql':
      case 'pipeline':
        return 'mysql';
      case 'sql':
        return 'sql';
      case 'bytes':
        return null;
      default:
        return 'other';
    }
  }
  if (top === 'analyze') {
    if (rest.startsWith('read/')) return 'reading';
    if (rest.startsWith('events/')) return 'mysql';
    if (rest.startsWith('aggregate/') || rest.startsWith('run/')) return 'aggregate';
    if (rest.startsWith('report/')) return 'report';
  }
  return 'other';
}

export interface LayerTimes {
  totalMs: number;
  byLayer: Record<Layer, number>;
  /** Self time per function ("name file:line"), ms. */
  byFunction: Map<string, number>;
  /** Time per file of Periscope's code, charged as the layers are, ms. */
  byFile: Map<string, number>;
}

/** Add a profile's samples to `into`. */
export function attribute(p: CpuProfile, into: LayerTimes): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The layer and file charged for each node: its own, or its nearest ancestor's in Periscope's code.
  const charged = new Map<number, { layer: Layer; file: string }>();
  const chargedTo = (id: number): { layer: Layer; file: string } => {
    const known = charged.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    const special: Layer | null = name === '(garbage collector)' ? 'gc' : name === '(idle)' ? 'idle' : name === '(program)' || name === '(root)' ? 'other' : null;
    const own = special ?? layerOfUrl(n.callFrame.url);
    let c: { layer: Layer; file: string };
    if (own !== null) c = { layer: own, file: special !== null ? name : n.callFrame.url.replace(/^.*\/build\//, '') };
    else {
      const up = parent.get(id);
      c = up === undefined ? { layer: 'other', file: '(other)' } : chargedTo(up);
    }
    charged.set(id, c);
    return c;
  };
  // Samples before the first one in the reading layer are start-up (module loading, compiling).
  let started = false;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const c = chargedTo(id);
    let l = c.layer;
    if (l === 'reading') started = true;
    if (!started && l !== 'idle') l = 'startup';
    into.byLayer[l] += ms;
    into.totalMs += ms;
    const file = l === 'startup' ? '(startup)' : c.file;
    into.byFile.set(file, (into.byFile.get(file) ?? 0) + ms);
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/build\//, '')}:${f.lineNumber + 1}`;
    into.byFunction.set(key, (into.byFunction.get(key) ?? 0) + ms);
  }
}

export function emptyTimes(): LayerTimes {
  return { totalMs: 0, byLayer: Object.fromEntries(LAYERS.map((l) => [l, 0])) as Record<Layer, number>, byFunction: new Map(), byFile: new Map() };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node build/bench/profile.js PROFILE.cpuprofile…\n');
    process.exit(1);
  }
  const t = emptyTimes();
  for (const f of files) attribute(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, t);
  const busy = t.totalMs - t.byLayer.idle;
  const pct = (ms: number, of: number): string => `${((100 * ms) / of).toFixed(1)} %`;
  console.log(`${files.length} profile(s), ${(t.totalMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`);
  console.log('layer        ms/profile  of all   of busy');
  for (const l of LAYERS) console.log(`${l.padEnd(12)} ${(t.byLayer[l] / files.length).toFixed(0).padStart(10)}  ${pct(t.byLayer[l], t.totalMs).padStart(7)}  ${l === 'idle' ? '' : pct(t.byLayer[l], busy).padStart(7)}`);
  console.log('\nfiles (their own time and the built-ins they call; ms per profile):');
  for (const [k, ms] of [...t.byFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${(ms / files.length).toFixed(0).padStart(8)}  ${pct(ms, busy).padStart(6)}  ${k}`);
  console.log('\nfunctions by self time (ms per profile):');
  for (const [k, ms] of [...t.byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(ms / files.length).toFixed(0).padStart(8)}  ${pct(ms, busy).padStart(6)}  ${k}`);
}

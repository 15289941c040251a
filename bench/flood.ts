/**
 * A SYN flood as a capture: `n` connections to port 3306 from distinct client ports and
 * addresses, each only a SYN (a port scan, a SYN flood, connections the capture saw open and
 * nothing else). What Periscope must survive with bounded memory: each one is tracked until it
 * times out or the capture ends, and none carries a MySQL byte.
 *
 * `node build/bench/flood.js N FILE` writes one; bench/run.ts (`--only flood`) measures the peak
 * RSS of `periscope analyze` and `info --json` on 10k, 100k and 500k of them.
 */
import { PcapWriter, TcpFlag, writeFrame, type Frame } from './pcap-writer.js';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MAC_A = new Uint8Array([2, 0, 0, 0, 0, 1]);
const MAC_B = new Uint8Array([2, 0, 0, 0, 0, 2]);

/** Write `n` SYN-only connections, 10,000 a second of capture time, to `path`. */
export function writeFlood(path: string, n: number): { packets: number; size: number } {
  const fd = openSync(path, 'w');
  const w = new PcapWriter(fd);
  w.fileHeader();
  const f: Frame = { srcMac: MAC_A, dstMac: MAC_B, srcIp: 0, dstIp: 0x0a000001, srcPort: 0, dstPort: 3306, seq: 0, ack: 0, flags: TcpFlag.Syn, window: 64240, ipId: 0, tsval: 0, tsecr: 0, fromClient: true };
  const t0 = 1_800_000_000;
  for (let i = 0; i < n; i++) {
    f.srcIp = (0x0b000000 + Math.floor(i / 50_000)) >>> 0; // 10.x: 50,000 ports per address
    f.srcPort = 10_000 + (i % 50_000);
    f.seq = (i * 2_654_435_761) >>> 0;
    f.ipId = i & 0xffff;
    f.tsval = i;
    writeFrame(w, t0 + Math.floor(i / 10_000), (i % 10_000) * 100, f, 0);
  }
  w.flush();
  closeSync(fd);
  return { packets: w.packets, size: w.total };
}

if (process.argv[1]?.endsWith('flood.js') && process.argv.length === 4) {
  const r = writeFlood(process.argv[3]!, Number(process.argv[2]));
  console.log(JSON.stringify(r));
}

/** One build of Periscope to measure: its name and the directory holding bin/periscope.js. */
export interface FloodBuild {
  name: string;
  root: string;
  /** Floods larger than this are not run on this build (a build that needs GBs for them). */
  upTo?: number;
}

export interface FloodRow {
  connections: number;
  build: string;
  command: string;
  rssMiB: number;
  seconds: number;
  outputBytes: number | null;
}

/**
 * Peak RSS and time of `analyze` and `info --json` on floods of `counts` SYN-only connections,
 * for each build (side by side in one run: the same files, the same machine load). The captures
 * are written once to `dataDir`.
 */
export function runFloodBench(o: { dataDir: string; counts: readonly number[]; builds: readonly FloodBuild[]; rssScript: string; log: (l: string) => void }): FloodRow[] {
  const rows: FloodRow[] = [];
  mkdirSync(o.dataDir, { recursive: true });
  for (const n of o.counts) {
    const file = join(o.dataDir, `flood-${n}.pcap`);
    if (!existsSync(file)) writeFlood(file, n);
    for (const [command, args] of [
      ['analyze', ['analyze', file]],
      ['info --json', ['info', '--json', file]],
    ] as const) {
      for (const b of o.builds) {
        if (b.upTo !== undefined && n > b.upTo) continue;
        const bin = join(b.root, 'bin', 'periscope.js');
        const r = spawnSync(process.execPath, [o.rssScript, bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
        const last = r.stderr.trim().split('\n').pop() ?? '';
        let m: { rssMiB: number; seconds: number; code: number };
        try {
          m = JSON.parse(last) as typeof m;
        } catch {
          throw new Error(`${b.name} ${command} on ${n} connections: no measurement (${r.stderr.slice(-300)})`);
        }
        // The output size of info --json, from a second run that keeps it (not measured).
        let outputBytes: number | null = null;
        if (command === 'info --json') outputBytes = spawnSync(process.execPath, [bin, ...args], { maxBuffer: 1 << 30 }).stdout.length;
        rows.push({ connections: n, build: b.name, command, rssMiB: Math.round(m.rssMiB), seconds: Math.round(m.seconds * 100) / 100, outputBytes });
        o.log(`  ${n.toLocaleString('en-US').padStart(7)} connections  ${b.name.padEnd(9)} ${command.padEnd(12)} ${String(Math.round(m.rssMiB)).padStart(6)} MiB peak RSS  ${m.seconds.toFixed(2).padStart(6)} s${outputBytes !== null ? `  ${(outputBytes / 1e6).toFixed(1)} MB out` : ''}`);
      }
    }
  }
  return rows;
}

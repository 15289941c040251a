/** Run the real CLI (bin/periscope.js) as a user would, capturing exit code, stdout and stderr. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { TcpSection } from '../../analyze/info/info.js';
import type { CaptureManifest } from '../../capture/manifest.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const bin = `${repoRoot}bin/periscope.js`;
export const sample = `${repoRoot}samples/mariadb-basic.pcap`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function periscope(...args: string[]): Promise<CliResult> {
  return periscopeWith({}, ...args);
}

/** The CLI with more environment (MYSQL_PWD, HOME) or a working directory. */
export async function periscopeWith(opts: { env?: Record<string, string>; cwd?: string }, ...args: string[]): Promise<CliResult> {
  const r = await execa('node', [bin, ...args], { reject: false, env: { PERISCOPE_DEBUG: '', ...opts.env }, cwd: opts.cwd });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `periscope info --json`, parsed. */
export async function infoJson(...args: string[]): Promise<{ code: number; stderr: string; report: InfoJson }> {
  const r = await periscope('info', '--json', ...args);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as InfoJson };
}

/** The parts of the info report the tests look at. */
export interface InfoJson {
  files: { path: string; status: string; format: string | null; gzip: boolean; packets: number; link_types: Record<string, number>; first: string | null; last: string | null; truncated_tail: { offset: number } | null; error: { offset: number; message: string } | null; damage: { offset: number; skipped_bytes: number }[] }[];
  totals: { files: number; files_failed: number; packets: number; first: string | null; last: string | null; captured_bytes: number };
  skipped: { total: number; by_kind: Record<string, number> };
  tcp: TcpSection;
  connections: { id: number; client: string; server: string; sides_by: string; syn_seen: boolean; closed_by: string | null; client_to_server: HalfJson; server_to_client: HalfJson }[];
  mysql_servers: { endpoint: string; detected_by: string; version: string | null; connections: number; bytes_from_clients: number; bytes_from_server: number }[];
}

export interface HalfJson {
  segments: number;
  bytes: number;
  retransmitted: number;
  overlapping: number;
  out_of_order: number;
  gaps: number;
  bytes_lost: number;
  late: number;
}

/** The sample as a file of a capture's manifest. */
export const SAMPLE_FILE = { name: 'periscope-20261121-050804.pcap', bytes: 12624, firstPacket: '2026-11-21T05:08:04.896382Z', lastPacket: '2026-11-21T05:08:04.916420Z', packets: 84, truncated: false };

/** A directory as `periscope capture` leaves it: the sample and a manifest (`over` replaces its fields). */
export async function sampleCaptureDir(path: string, over: Partial<CaptureManifest> = {}): Promise<string> {
  const { writeManifest } = await import('../../capture/manifest.js');
  const { copyFile, mkdir } = await import('node:fs/promises');
  await mkdir(path);
  await copyFile(sample, `${path}/${SAMPLE_FILE.name}`);
  writeManifest(`${path}/capture.json`, {
    format: 'periscope-capture',
    version: 1,
    periscope: '0.1.0',
    host: 'db1',
    interface: 'any',
    linkType: 'EN10MB (Ethernet)',
    filter: 'tcp port 3306',
    snaplen: 262144,
    tcpdump: 'tcpdump version 4.99.3',
    libpcap: null,
    tcpdumpArgs: [],
    user: null,
    startedAt: '2026-11-21T05:08:00.000000Z',
    endedAt: '2026-11-21T05:08:05.000000Z',
    updatedAt: '2026-11-21T05:08:05.000000Z',
    ended: { reason: 'signal' },
    files: [SAMPLE_FILE],
    deleted: [],
    packets: { captured: 84, receivedByFilter: 84, droppedByKernel: 0, droppedByInterface: null, final: true, at: '2026-11-21T05:08:05.000000Z' },
    options: { ports: [3306], hosts: [], filter: null, snaplen: 0, bufferSize: null, duration: null, maxPackets: null, rotateSize: null, rotateSeconds: null, maxFiles: null, maxTotal: null, minFreeDisk: 0 },
    ...over,
  });
  return path;
}

/** Run the real CLI (bin/periscope.js) as a user would, capturing exit code, stdout and stderr. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { TcpSection } from '../../analyze/info/info.js';

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

/**
 * Capture manifests (`capture.json`, written by `periscope capture`) found in the input
 * directories: what the capture knew that the files cannot say — the kernel's drop counters, how
 * the capture ended, files the ring buffer deleted — for the report's health section.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_NAME, ManifestError, readManifest, type CaptureManifest } from '../../capture/manifest.js';
import type { Health } from '../aggregate/aggregate.js';
import type { CaptureInfo } from '../report/report.js';

export interface FoundManifest {
  dir: string;
  manifest: CaptureManifest;
}

/** Manifests of the input directories; a damaged one is a warning (the files are still read). */
export async function findManifests(paths: readonly string[], warn: (line: string) => void): Promise<FoundManifest[]> {
  const out: FoundManifest[] = [];
  for (const p of paths) {
    const isDir = await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) continue;
    const file = join(p, MANIFEST_NAME);
    if (!(await stat(file).then(() => true, () => false))) continue;
    try {
      out.push({ dir: p, manifest: readManifest(file) });
    } catch (e) {
      if (e instanceof ManifestError) warn(`${e.message}; the capture files are read without it`);
      else throw e;
    }
  }
  return out;
}

/** Ended by a limit or a failure rather than by the user or the planned duration. */
const EARLY = new Set(['max-total', 'min-free-disk', 'disk-full', 'tcpdump-exit']);

/**
 * Health counters from the manifests. The kernel's drop counters replace those of the files
 * (classic pcap files carry none; tcpdump prints them when it stops).
 */
export function manifestHealth(found: readonly FoundManifest[]): Health {
  const h: Health = { captureManifests: found.length, captureFilesDeleted: 0, captureEndedEarly: 0, captureStillRunning: 0 };
  let drops = 0;
  let known = 0;
  for (const { manifest: m } of found) {
    h.captureFilesDeleted! += m.deleted.length;
    if (EARLY.has(m.ended.reason)) h.captureEndedEarly!++;
    if (m.ended.reason === 'running') h.captureStillRunning!++;
    if (m.packets.droppedByKernel !== null || m.packets.droppedByInterface !== null) {
      known++;
      drops += (m.packets.droppedByKernel ?? 0) + (m.packets.droppedByInterface ?? 0);
    }
  }
  if (known > 0) {
    h.kernelDrops = drops;
    h.kernelDropsKnown = known;
  }
  return h;
}

/** What the report says of each capture. */
export function captureInfo(found: readonly FoundManifest[]): CaptureInfo[] {
  return found.map(({ dir, manifest: m }) => ({
    dir,
    host: m.host,
    interface: m.interface,
    filter: m.filter,
    started: m.startedAt,
    ended: m.endedAt,
    ended_because: m.ended.detail ? `${m.ended.reason}: ${m.ended.detail}` : m.ended.reason,
    packets_dropped_by_kernel: m.packets.droppedByKernel,
    files_deleted: m.deleted.length,
  }));
}

/**
 * Read the manifests of the input directories into an analysis: their counters join its health,
 * and the captures they describe are returned for the report.
 */
export async function applyManifests(health: Health, paths: readonly string[], warn: (line: string) => void): Promise<CaptureInfo[]> {
  const found = await findManifests(paths, warn);
  Object.assign(health, manifestHealth(found));
  return captureInfo(found);
}

/**
 * A bundle's manifest.json: what the archive holds and how it was made (docs/bundle.md, field by
 * field). The last member of the archive: it holds the size and SHA-256 of every member before it.
 */
import type { InputFile } from '../report/report.js';
import type { SchemaSummary } from '../schema/collect.js';
import type { TlsManifest } from '../read/keylog.js';

export const BUNDLE_FORMAT = 'periscope-bundle';
export const BUNDLE_VERSION = 1;
export const MANIFEST = 'manifest.json';

/** The members every bundle has (schema/ and pcap/ only when collected or asked for). */
export const MEMBERS = { reportJson: 'report.json', reportText: 'report.txt', reportHtml: 'report.html', events: 'events.jsonl.gz' } as const;

/** What a bundle never holds and what it redacts: written into every manifest, as shown to the user. */
export const REDACTION_POLICY = {
  sql: 'every literal in SQL text (strings, numbers, hex and bit values, dates, booleans) is replaced by ?; comments are dropped',
  errors: 'every quoted part of a server error message is replaced by ?; a SIGNAL message (the client text) by ? whole',
  parameters: 'prepared-statement parameter values are never included (their type codes are)',
  shapes: "each event's statement shape, for advice, replaces every literal by its kind: 's' a string, '%s' one starting with a LIKE wildcard, a number its order of magnitude; never a value",
  rows: 'result rows are counted, never kept',
  load_data: 'LOAD DATA LOCAL INFILE file contents are never kept',
  authentication: 'login authentication data is never kept',
  schema: 'table definitions, indexes and table statistics, the server version and an allow-list of global variables (docs/bundle.md); never table contents',
} as const;

export interface MemberRecord {
  path: string;
  size: number;
  sha256: string;
}

/** A capture's own manifest (capture.json beside the capture files), kept as written. */
export interface CaptureManifest {
  directory: string;
  /** The parsed JSON, or the text when it is not JSON. */
  manifest: unknown;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  periscope: { version: string; commit: string; node: string };
  created: { at: string; host: string; platform: string };
  inputs: InputFile[];
  capture_manifests: CaptureManifest[];
  options: {
    ports: number[];
    tcp: Record<string, number | undefined> | null;
    order: string;
    limit: number;
    include_pcap: boolean;
    schema_from: string | null;
    /** The filters given (--since, --until, --db, --client, --server, --min-latency), null for none. */
    filters?: Record<string, string | number | string[] | number[]> | null;
  };
  redacted: true;
  redaction: typeof REDACTION_POLICY;
  /** Raw packet captures in the bundle (pcap/…): they hold every value sent. Empty unless --include-pcap. */
  pcap_included: string[];
  schema: SchemaSummary;
  /**
   * TLS: connections, how many were decrypted, and the kinds of key log the secrets came from
   * (counts only: never a secret, a client random or a key log's path). Absent in bundles made before.
   */
  tls?: TlsManifest;
  files: MemberRecord[];
}

/** Throws a one-line reason when `v` is not a bundle manifest this Periscope reads. */
export function checkManifest(v: unknown): BundleManifest {
  const m = v as Partial<BundleManifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== BUNDLE_FORMAT) throw new Error('manifest.json is not a Periscope bundle manifest');
  if (m.version !== BUNDLE_VERSION) throw new Error(`bundle version ${String(m.version)} is not supported by this Periscope (it reads version ${BUNDLE_VERSION})`);
  if (!Array.isArray(m.files) || !m.files.every((f) => f && typeof f.path === 'string' && typeof f.size === 'number' && typeof f.sha256 === 'string')) {
    throw new Error('manifest.json has no valid list of files');
  }
  return m as BundleManifest;
}

/**
 * The workload over TLS, as a separate process so that Node's `--tls-keylog` records its secrets:
 *   node --tls-keylog=KEYS build/test/live/tls-client.js '{"port":3307,"ssl":{…},"compress":true}'
 * Prints the WorkloadResult as JSON. Used by the TLS live tests and `samples/record-tls.sh`.
 */
import { mysqlSettings } from './env.js';
import { runWorkload, type WorkloadOptions } from './workload.js';

// `"ssl": null`: the same workload in plaintext (the comparison run).
const cfg = JSON.parse(process.argv[2] ?? '{}') as Omit<WorkloadOptions, 'ssl'> & { port?: number; ssl?: Record<string, unknown> | null };
const s = { ...mysqlSettings(), ...(cfg.port ? { port: cfg.port } : {}) };
const ssl = cfg.ssl === null ? undefined : (cfg.ssl ?? { rejectUnauthorized: false });
const r = await runWorkload(s, { connections: cfg.connections ?? 1, ssl, compress: cfg.compress ?? false, bigReply: cfg.bigReply ?? true });
process.stdout.write(`${JSON.stringify(r)}\n`);

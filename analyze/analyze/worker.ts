/**
 * One analysis worker (see parallel.ts): batches of packets of its share of the connections in,
 * the pipeline and the aggregate of run.ts over them, the aggregate's state out at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newPacketRecord } from '../../src/pcap/record.js';
import { Aggregator } from '../report/aggregate.js';
import { MysqlPipeline } from '../pipeline.js';
import { DEFAULT_MYSQL_PORTS } from '../info/info.js';
import { buildFilter } from './filters.js';
import { pipelineHealth } from './run.js';
import { PACKET_HEADER, type WorkerResult, type WorkerSetup } from './parallel.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const filter = buildFilter(setup.filters);
const agg = new Aggregator({ raw: setup.raw });
const pipeline = new MysqlPipeline({
  ports: [...new Set([...DEFAULT_MYSQL_PORTS, ...setup.ports])],
  tcp: setup.tcp,
  ordered: false,
  onEvent: (e) => {
    if (filter === null || filter(e)) agg.add(e);
  },
});
const rec = newPacketRecord();

port.on('message', (m: { batch: ArrayBuffer; used: number } | { end: true }) => {
  if ('end' in m) {
    pipeline.finish();
    const result: WorkerResult = { state: agg.toState(), health: pipelineHealth(pipeline) };
    port.postMessage({ result });
    return;
  }
  const v = new DataView(m.batch);
  const bytes = new Uint8Array(m.batch);
  rec.data = bytes;
  for (let at = 0; at < m.used; ) {
    const caplen = v.getUint32(at, true);
    rec.caplen = caplen;
    rec.origLen = v.getUint32(at + 4, true);
    rec.tsSec = v.getUint32(at + 8, true);
    rec.tsNsec = v.getUint32(at + 12, true);
    rec.linkType = v.getUint16(at + 16, true);
    rec.offset = at + PACKET_HEADER;
    pipeline.add(rec);
    at += PACKET_HEADER + ((caplen + 3) & ~3);
  }
  // The batch goes back to be refilled.
  port.postMessage({ ack: m.batch }, [m.batch]);
});

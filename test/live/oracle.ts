/** tshark and capinfos as test oracles: what Wireshark reads in a capture, packet by packet. */
import { execa } from 'execa';
import { readCaptures } from '../../analyze/read/captures.js';
import { PacketDecoder } from '../../src/net/decode.js';

export async function capinfosPackets(file: string): Promise<number> {
  const r = await execa('capinfos', ['-M', '-c', file]);
  const m = /Number of packets:\s+(\d+)/.exec(String(r.stdout));
  if (!m) throw new Error(`capinfos gave no packet count for ${file}: ${r.stdout}`);
  return Number(m[1]);
}

/** One line per packet: "srcport dstport tcplen", or "-" for a packet that is not TCP. */
export async function tsharkTcp(file: string): Promise<string[]> {
  const r = await execa('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.len', '-e', 'tcp.flags', '-e', 'tcp.seq_raw']);
  return String(r.stdout)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => (l.trim() === '' ? '-' : l.split('\t').map((f, i) => (i === 3 ? String(Number(f)) : f)).join(' ')));
}

/** The same lines from Periscope's reader and decoder. */
export async function periscopeTcp(files: string[]): Promise<string[]> {
  const d = new PacketDecoder();
  const out: string[] = [];
  await readCaptures(files, (rec) => {
    out.push(d.decode(rec) ? `${d.srcPort} ${d.dstPort} ${d.payloadLength + d.payloadMissing} ${d.flags} ${d.seq}` : '-');
  });
  return out;
}

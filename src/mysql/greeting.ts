/**
 * Recognise a MySQL/MariaDB server greeting (Protocol::HandshakeV10) at the start of a TCP payload,
 * without a connection state machine: used to find MySQL servers on any port.
 *
 *   int<3> payload length, int<1> sequence id (0)
 *   int<1> protocol version (10)
 *   string<NUL> server version
 *   int<4> thread (connection) id
 *   string[8] auth-plugin-data part 1
 *   int<1> filler (0)
 *   int<2> capability flags (lower), …
 */
export interface GreetingFacts {
  serverVersion: string;
  connectionId: number;
}

const decoder = new TextDecoder('latin1');

export function sniffGreeting(b: Uint8Array, p: number, len: number): GreetingFacts | null {
  if (len < 4 + 1 + 2 + 4 + 8 + 1 + 2) return null;
  if (b[p + 3] !== 0 || b[p + 4] !== 10) return null;
  const plen = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  if (plen + 4 > len || plen < 1 + 2 + 4 + 8 + 1 + 2) return null;
  const end = p + 4 + plen;
  let q = p + 5;
  const vStart = q;
  while (q < end && b[q] !== 0) {
    const c = b[q]!;
    if (c < 0x20 || c > 0x7e) return null; // versions are printable ASCII
    q++;
  }
  if (q === vStart || q >= end || q - vStart > 100) return null;
  const vEnd = q;
  q++; // NUL
  if (q + 4 + 8 + 1 > end) return null;
  const connectionId = (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0;
  if (b[q + 12] !== 0) return null; // filler
  return { serverVersion: decoder.decode(b.subarray(vStart, vEnd)), connectionId };
}

/**
 * The version a DBA would name. MariaDB 10.x/11.x servers prefix their version with "5.5.5-" in
 * the greeting so that old MySQL clients accept them; the real version follows.
 */
export function displayServerVersion(raw: string): string {
  return raw.startsWith('5.5.5-') && /mariadb/i.test(raw) ? raw.slice(6) : raw;
}

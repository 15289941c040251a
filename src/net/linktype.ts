/** Names of the LINKTYPE_* values (tcpdump.org/linktypes.html) that Periscope decodes (src/net/decode.ts). */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL (BSD loopback)'],
  [1, 'EN10MB (Ethernet)'],
  [12, 'RAW (raw IP, DLT 12)'],
  [14, 'RAW (raw IP, DLT 14)'],
  [101, 'RAW (raw IP)'],
  [108, 'LOOP (OpenBSD loopback)'],
  [113, 'LINUX_SLL (Linux cooked v1)'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2 (Linux cooked v2)'],
]);

export function linkTypeName(t: number): string {
  return NAMES.get(t) ?? `linktype ${t} (not decoded)`;
}

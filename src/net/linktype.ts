/** LINKTYPE_* values (tcpdump.org/linktypes.html) that Periscope decodes. */
export const enum LinkType {
  Null = 0,
  Ethernet = 1,
  /** DLT_RAW as most platforms define it. */
  RawBsd12 = 12,
  /** DLT_RAW on OpenBSD. */
  RawBsd14 = 14,
  Raw = 101,
  Loop = 108,
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
}

const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL (BSD loopback)'],
  [1, 'EN10MB (Ethernet)'],
  [12, 'RAW (raw IP, DLT 12)'],
  [14, 'RAW (raw IP, DLT 14)'],
  [101, 'RAW (raw IP)'],
  [108, 'LOOP (OpenBSD loopback)'],
  [113, 'LINUX_SLL (Linux cooked v1)'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2 (Linux cooked v2)'],
]);

export function linkTypeName(t: number): string {
  return NAMES.get(t) ?? `linktype ${t} (not decoded)`;
}

export function isSupportedLinkType(t: number): boolean {
  return t === 0 || t === 1 || t === 12 || t === 14 || t === 101 || t === 108 || t === 113 || t === 228 || t === 229 || t === 276;
}

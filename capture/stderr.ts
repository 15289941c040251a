/**
 * tcpdump's standard error, read as it arrives: the "listening on" line, the `Got N` counter that
 * `-v -w` prints once a second, the counters it prints on SIGUSR1 (one line) and at exit (one line
 * per counter), and everything else (warnings, errors), kept for reports. Pure: fed text, no I/O.
 */

/** tcpdump's counters (libpcap's pcap_stat). */
export interface TcpdumpStats {
  /** Packets tcpdump wrote. */
  captured: number;
  /** Packets the kernel passed through the filter (on Linux loopback and `any`, each packet is counted twice: once leaving, once arriving). */
  receivedByFilter: number;
  /** Packets the kernel dropped because tcpdump's buffer was full. */
  droppedByKernel: number;
  /** Packets the interface (driver) dropped; tcpdump prints it only when not zero. */
  droppedByInterface: number | null;
}

export type StderrEvent =
  | { kind: 'listening'; iface: string; linkType: string; snaplen: number | null }
  | { kind: 'got'; captured: number }
  /** `final`: the multi-line block tcpdump prints when it exits; otherwise the SIGUSR1 line. */
  | { kind: 'stats'; stats: TcpdumpStats; final: boolean }
  | { kind: 'message'; line: string };

const COUNTER = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)$/;

/** Splits on `\n` and `\r` (the `Got N` counter ends in `\r`), keeps an unfinished line for later. */
export class StderrParser {
  private rest = '';
  private block: Partial<TcpdumpStats> | null = null;

  /** Feed text; returns the events of every complete line in it. */
  push(text: string): StderrEvent[] {
    const parts = (this.rest + text).split(/\r|\n/);
    this.rest = parts.pop()!;
    const out: StderrEvent[] = [];
    for (const line of parts) this.line(line, out);
    return out;
  }

  /** End of stream: the unfinished line, if any. */
  end(): StderrEvent[] {
    const out: StderrEvent[] = [];
    if (this.rest !== '') this.line(this.rest, out);
    this.rest = '';
    return out;
  }

  private line(raw: string, out: StderrEvent[]): void {
    const line = raw.trimEnd();
    if (line === '') return;
    let m = /^Got (\d+)$/.exec(line);
    if (m) {
      out.push({ kind: 'got', captured: Number(m[1]) });
      return;
    }
    m = /^(?:[\w./-]*tcpdump: )?listening on (\S+), link-type (.+?)(?:, (?:snapshot length|capture size) (\d+) bytes)?$/.exec(line);
    if (m) {
      out.push({ kind: 'listening', iface: m[1]!, linkType: m[2]!, snaplen: m[3] === undefined ? null : Number(m[3]) });
      return;
    }
    // SIGUSR1: "tcpdump: 388 packets captured, 816 packets received by filter, 40 packets dropped by kernel[, 2 packets dropped by interface]"
    const single = /^(?:[\w./-]*tcpdump: )?(\d+ packets? captured, .*)$/.exec(line);
    if (single) {
      const s = parseCounters(single[1]!.split(', '));
      if (s) {
        out.push({ kind: 'stats', stats: s, final: false });
        return;
      }
    }
    // At exit, one counter per line; "dropped by interface" follows only when not zero.
    m = COUNTER.exec(line);
    if (m) {
      const v = Number(m[1]);
      switch (m[2]) {
        case 'captured':
          this.block = { captured: v };
          return;
        case 'received by filter':
          if (this.block) this.block.receivedByFilter = v;
          return;
        case 'dropped by kernel':
          if (this.block?.receivedByFilter !== undefined) {
            const stats: TcpdumpStats = { captured: this.block.captured!, receivedByFilter: this.block.receivedByFilter, droppedByKernel: v, droppedByInterface: null };
            this.block = stats;
            out.push({ kind: 'stats', stats, final: true });
          }
          return;
        case 'dropped by interface':
          // Completes the block just reported: reported again, whole (the latest report wins).
          if (this.block?.droppedByKernel !== undefined) out.push({ kind: 'stats', stats: { ...(this.block as TcpdumpStats), droppedByInterface: v }, final: true });
          this.block = null;
          return;
      }
    }
    out.push({ kind: 'message', line });
  }
}

function parseCounters(parts: string[]): TcpdumpStats | null {
  const s: Partial<TcpdumpStats> = {};
  for (const p of parts) {
    const m = COUNTER.exec(p.trim());
    if (!m) return null;
    const v = Number(m[1]);
    if (m[2] === 'captured') s.captured = v;
    else if (m[2] === 'received by filter') s.receivedByFilter = v;
    else if (m[2] === 'dropped by kernel') s.droppedByKernel = v;
    else s.droppedByInterface = v;
  }
  if (s.captured === undefined || s.receivedByFilter === undefined || s.droppedByKernel === undefined) return null;
  return { captured: s.captured, receivedByFilter: s.receivedByFilter, droppedByKernel: s.droppedByKernel, droppedByInterface: s.droppedByInterface ?? null };
}

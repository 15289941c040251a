/**
 * The errors a user meets when capturing, each one line: what happened, then what to do. tcpdump's
 * own messages are recognised here (pure: fed its stderr lines) so that the same translation serves
 * the file capture and the pcap stream of `periscope live`.
 */

export type CaptureErrorKind =
  | 'tcpdump-missing'
  | 'not-permitted'
  | 'unknown-interface'
  | 'unknown-user'
  | 'bad-filter'
  | 'dir-not-writable'
  | 'dir-not-empty'
  | 'already-running'
  | 'low-disk'
  | 'disk-full'
  | 'tcpdump-died'
  | 'not-a-capture';

/** An expected failure (exit 2): the message is the whole story, no stack. */
export class CaptureError extends Error {
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What the translation needs to know to say something useful. */
export interface FailureContext {
  /** tcpdump's absolute path (for the setcap advice). */
  tcpdump: string;
  iface: string;
  filter: string;
  /** The -Z user, when tcpdump switches to one. */
  user: string | null;
  /** The output directory (file captures). */
  dir: string | null;
}

export const INSTALL_HINT = 'install it (Debian/Ubuntu: sudo apt-get install tcpdump; RHEL/Fedora: sudo dnf install tcpdump; Alpine: apk add tcpdump; macOS has it), or name it with PERISCOPE_TCPDUMP=/path/to/tcpdump';

export function tcpdumpMissing(name: string): CaptureError {
  return new CaptureError('tcpdump-missing', `tcpdump is needed to capture and '${name}' was not found on PATH: ${INSTALL_HINT}`);
}

export function notPermitted(ctx: FailureContext, said: string): CaptureError {
  return new CaptureError(
    'not-permitted',
    `not permitted to capture on ${ctx.iface} (tcpdump: ${said}): run it as root (sudo periscope capture …), or let tcpdump capture without root: sudo setcap cap_net_raw,cap_net_admin=eip ${ctx.tcpdump}`,
  );
}

export function unknownInterface(iface: string, known: readonly string[]): CaptureError {
  const list = known.length > 0 ? `interfaces here: ${known.join(', ')}` : 'tcpdump -D lists the interfaces';
  return new CaptureError('unknown-interface', `there is no network interface '${iface}': give one with --interface (${list}; 'any' captures on all of them)`);
}

/** Strip tcpdump's `tcpdump: ` prefix (and the program path some builds print). */
const said = (line: string): string => line.replace(/^[\w./-]*tcpdump: /, '');

/**
 * Classify what tcpdump printed before it failed. `phase`: 'check' for `tcpdump -d` (only the
 * filter, the interface and the right to capture can fail there), 'start'/'running' otherwise.
 * Returns null for 'unknown interface' (the caller lists the interfaces, which needs tcpdump -D).
 */
export function classifyFailure(lines: readonly string[], ctx: FailureContext, phase: 'check' | 'start' | 'running'): CaptureError | 'unknown-interface' {
  const text = lines.map(said).filter((l) => !/^listening on /.test(l) && !/^data link type /.test(l));
  const all = text.join('; ');
  const find = (re: RegExp): string | undefined => text.find((l) => re.test(l));

  const user = find(/couldn't find user|couldn't change id|couldn't set user|initgroups|setgid|setuid/i);
  if (user) return new CaptureError('unknown-user', `tcpdump could not switch to user '${ctx.user ?? '?'}' after opening the interface (-Z; tcpdump: ${user}): run periscope capture through sudo from a real account, or as root directly`);

  // File errors name the file: "tcpdump: /dir/periscope-….pcap: Permission denied".
  if (ctx.dir !== null) {
    const file = find(/^\/.*: (permission denied|read-only file system|no space left on device|disk quota exceeded|no such file or directory|operation not permitted|is a directory)/i);
    if (file) {
      if (/no space left|quota/i.test(file)) return diskFull(ctx.dir, null, phase === 'running', file);
      const as = ctx.user !== null ? ` (tcpdump writes as user '${ctx.user}')` : '';
      return new CaptureError('dir-not-writable', `tcpdump cannot write in ${ctx.dir}${as}: ${file.replace(/^.*: /, '')}: choose a directory it can write (--out), e.g. one under /var/tmp`);
    }
  }
  const perm = find(/permission|not permitted|must be root|cap_net_raw|operation not permitted/i);
  if (perm) return notPermitted(ctx, text.filter((l) => /permission|not permitted|root/i.test(l)).join(' '));
  if (find(/no such device|doesn't exist|no such interface|not found|SIOCGIF/i)) return 'unknown-interface';
  if (phase === 'check' || find(/syntax error|can't parse filter|parse error|illegal|unknown host|unknown (port|protocol|network|ether host)|expression rejects all packets|not supported|invalid|bad (port|net)/i)) {
    return new CaptureError('bad-filter', `the capture filter is not valid BPF (tcpdump: ${all || 'no reason given'}); the filter was: ${ctx.filter} — check --filter and --host (man 7 pcap-filter)`);
  }
  return new CaptureError('tcpdump-died', `tcpdump failed${phase === 'start' ? ' to start' : ''}: ${all || 'it printed nothing'}`);
}

export function diskFull(dir: string, free: number | null, running: boolean, detail?: string): CaptureError {
  const left = free === null ? '' : ` (${free} bytes free)`;
  const what = detail ? ` (tcpdump: ${detail})` : '';
  return new CaptureError('disk-full', `the disk holding ${dir} is full${left}${what}: ${running ? 'the capture stopped and the files written so far are kept; ' : ''}free some space, or capture to another disk (--out) with limits (--max-total, --max-files, --min-free-disk)`);
}

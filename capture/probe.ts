/**
 * The check that tcpdump, once it has become the sudo user, can write the capture directory
 * (capture/command.ts): run in a short-lived child that becomes that user the way tcpdump does
 * (initgroups, setgid, setuid) and exits 3 with the reason when it cannot. The child is this
 * program's own executable: Node.js given the code with `-e`; in the single executable, where
 * process.execPath is Periscope and takes no Node options, Periscope's hidden PROBE_COMMAND, which
 * runs the same code (cli/main.ts).
 */
import { createRequire } from 'node:module';
import { isSea } from 'node:sea';

export interface ProbeArgs {
  user: string | null;
  gid: number;
  uid: number;
  dir: string;
}

/** The probe, as the source of a function of `require` and its arguments: the same text for both children. */
const PROBE = `(require, a) => {
  try { process.initgroups(a.user, a.gid); } catch { process.exit(0); }
  process.setgid(a.gid);
  process.setuid(a.uid);
  const fs = require('node:fs');
  try { fs.accessSync(a.dir, fs.constants.W_OK | fs.constants.X_OK); }
  catch (e) { process.stderr.write(e.code === 'EACCES' ? 'permission denied' : String(e.code)); process.exit(3); }
}`;

/** The single executable's hidden first argument that runs the probe (never shown in --help). */
export const PROBE_COMMAND = '__periscope-probe-writable';

/** The arguments for process.execPath that run the probe as `a.user`. */
export function probeArgv(a: ProbeArgs): string[] {
  return isSea() ? [PROBE_COMMAND, JSON.stringify(a)] : ['-e', `(${PROBE})(require, ${JSON.stringify(a)})`];
}

/** The single executable's side: run the probe with the arguments probeArgv gave. */
export function runProbe(json: string): void {
  const run = new Function(`return ${PROBE}`)() as (req: NodeJS.Require, a: ProbeArgs) => void;
  run(createRequire(process.execPath), JSON.parse(json) as ProbeArgs);
}

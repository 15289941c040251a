/** Run real tcpdump around a piece of work, and wait until every packet is written. */
import { execa, type ResultPromise } from 'execa';

export interface CaptureOptions {
  file: string;
  iface?: string;
  filter?: string;
  extra?: string[];
}

export async function captureWhile<T>(opts: CaptureOptions, work: () => Promise<T>): Promise<T> {
  // A 64 MiB kernel buffer unless told otherwise: in immediate mode the kernel hands over a block
  // per wake-up, and the default 2 MiB ring is soon full of them when a loaded machine does not
  // run tcpdump for a while (the diff test lost a statement to kernel drops under load).
  const buffer = opts.extra?.includes('-B') ? [] : ['-B', '65536'];
  const args = ['-i', opts.iface ?? 'lo', '--immediate-mode', '-U', '-s', '0', ...buffer, '-w', opts.file, ...(opts.extra ?? []), opts.filter ?? 'tcp port 3306'];
  const proc: ResultPromise = execa('tcpdump', args, { reject: false, buffer: { stdout: false, stderr: true } });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${seen}`)), 10_000);
    proc.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.then((r) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited early: ${String(r.stderr)}`));
    }, reject);
  });
  let done = false;
  try {
    const result = await work();
    done = true;
    return result;
  } finally {
    // Let the last packets (FIN/ACK) arrive, then stop tcpdump once it has written every packet
    // the kernel gave it. Packets still in the kernel's ring when tcpdump is stopped are counted
    // as 'received by filter' but never written: on a loaded machine tcpdump may not have run
    // for a while, and a fixed wait cut the workload's last commands off the capture (the last
    // COMMIT missing: the advise test's transaction counts were one short, 2 runs in 8).
    await new Promise((r) => setTimeout(r, 300));
    await drained(proc);
    proc.kill('SIGINT');
    const r = await proc;
    // A capture that lost packets is not what the test thinks it holds: said as such, not as a
    // count that came out one short.
    const dropped = [...String(r.stderr).matchAll(/(\d+) packets? dropped by kernel/g)].pop();
    if (done && dropped && Number(dropped[1]) > 0) throw new Error(`tcpdump: ${dropped[1]} packets dropped by the kernel in ${opts.file} (the machine did not run tcpdump often enough): the capture is incomplete`);
  }
}

/**
 * Wait until tcpdump has written every packet its filter received: asked with SIGUSR1 ("N packets
 * captured, M packets received by filter, …") every 100 ms, until two fresh answers in a row give
 * the same figures (tcpdump ran, and found nothing more in the kernel's ring); at most 15 s.
 * (Not "captured = received": on lo the kernel counts each packet twice, leaving and arriving,
 * and libpcap keeps one copy.)
 */
export async function drained(proc: ResultPromise): Promise<void> {
  let seen = '';
  const onData = (d: Buffer) => {
    seen += d.toString();
  };
  proc.stderr!.on('data', onData);
  const answers = () => [...seen.matchAll(/(\d+) packets? captured, (\d+) packets? received by filter/g)].map((m) => `${m[1]}/${m[2]}`);
  try {
    let first: string | null = null;
    for (let i = 0; i < 150; i++) {
      const before = answers().length;
      proc.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 100));
      const all = answers();
      if (all.length === before) continue; // tcpdump has not answered yet: it has not run
      const now = all[all.length - 1]!;
      first ??= now;
      if (all.length >= 2 && all[all.length - 2] === now && before > 0) {
        if (now !== first) process.stderr.write(`captureWhile: tcpdump was still writing packets when the work ended (${first} captured/received then, ${now} at the end)\n`);
        return;
      }
    }
  } finally {
    proc.stderr!.off('data', onData);
  }
}

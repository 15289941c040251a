/** Run real tcpdump around a piece of work, and wait until every packet is written. */
import { execa, type ResultPromise } from 'execa';

export interface CaptureOptions {
  file: string;
  iface?: string;
  filter?: string;
  extra?: string[];
}

export async function captureWhile<T>(opts: CaptureOptions, work: () => Promise<T>): Promise<T> {
  const args = ['-i', opts.iface ?? 'lo', '--immediate-mode', '-U', '-s', '0', '-w', opts.file, ...(opts.extra ?? []), opts.filter ?? 'tcp port 3306'];
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
  try {
    return await work();
  } finally {
    // Let the last packets (FIN/ACK) arrive, then stop tcpdump cleanly so the file is complete.
    // (--immediate-mode above: without it, packets still in the kernel's ring-buffer block when
    // tcpdump is stopped are counted as 'received by filter' but never written.)
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGINT');
    await proc;
  }
}

/** Output for commands: data on stdout, diagnostics on stderr. Injectable for tests. */
import { once } from 'node:events';

export interface Io {
  out(text: string): void;
  /** Bytes (UTF-8 text) on stdout: the buffer is the callee's, never written to again. Without it, `out` of the decoded text. */
  outBytes?(bytes: Uint8Array): void;
  warn(line: string): void;
  error(line: string): void;
  /** A note on stderr that is neither a warning nor an error (`periscope live`: listening on …). */
  info?(line: string): void;
  /**
   * Resolves when the data written so far has been taken (stdout to a slow pipe): commands that
   * stream much output wait on it between chunks of input, so memory stays bounded.
   */
  drain?(): Promise<void>;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  outBytes: (bytes) => void process.stdout.write(bytes),
  warn: (line) => void process.stderr.write(`periscope: warning: ${line}\n`),
  error: (line) => void process.stderr.write(`periscope: error: ${line}\n`),
  info: (line) => void process.stderr.write(`periscope: ${line}\n`),
  drain: async () => {
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  },
};

/** Output for commands: data on stdout, diagnostics on stderr. Injectable for tests. */
export interface Io {
  out(text: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  warn: (line) => void process.stderr.write(`periscope: warning: ${line}\n`),
  error: (line) => void process.stderr.write(`periscope: error: ${line}\n`),
};

/** `--keylog`, for every command that decodes (info, events, trace, analyze, live, bundle): one definition. */
import { strings } from './filter-options.js';

export const keylogOption = {
  keylog: {
    describe: "TLS key log (SSLKEYLOGFILE / NSS format) to decrypt TLS connections with: a file, or a directory of them (repeatable). A capture directory's own key log (capture --keylog) and a pcapng's decryption secrets are used without it. docs/tls.md",
    type: 'string',
    requiresArg: true,
    group: 'TLS:',
  },
} as const;

export function keylogSetting(a: { keylog?: unknown }): string[] {
  return strings(a.keylog) ?? [];
}

/**
 * What the TLS layer's state (src/tls) means for a MySQL session: whether plaintext may still
 * come, and why a connection was not read, in the few words the health report counts by.
 */
import type { TlsInfo } from '../tls/connection.js';

/** Is the TLS layer still able to hand over plaintext (or about to)? */
export function tlsReadable(i: TlsInfo): boolean {
  return i.state === 'decrypting' || i.state === 'handshake';
}

/** The reason a TLS connection was not read, as one of a few categories (health counts them). */
export function tlsCategory(i: TlsInfo): string {
  switch (i.state) {
    case 'no-secret':
      return 'no secret for the session in the key log';
    case 'unsupported-suite':
      return `unsupported cipher suite ${i.cipherName ?? '?'}`;
    case 'unsupported-version':
      return `unsupported version ${i.version ?? '?'}`;
    case 'failed':
      return 'decryption failed (wrong secret, or damaged records)';
    case 'handshake':
      return 'the TLS handshake was not captured whole';
    case 'decrypting':
      return 'decrypted';
    default: {
      const never: never = i.state;
      return String(never);
    }
  }
}

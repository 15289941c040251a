/**
 * What the TLS layer's state (src/tls) means for a MySQL session: whether plaintext may still
 * come, and why a connection was not read, in the few words the health report counts by.
 */
import type { TlsConnection, TlsInfo } from '../tls/connection.js';
import type { CommandEvent } from './events.js';

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

/**
 * What an event says of the connection's TLS: version, suite, read by decryption or not.
 * `decrypting`: the layer's info from the first decrypted bytes on (the version and suite are
 * then those of the whole session: read once, since the layer's info is a fresh object at every
 * read); null before.
 */
export function stampTls(ev: CommandEvent, tls: boolean, layer: TlsConnection | null, decrypting: TlsInfo | null): void {
  ev.tls = tls;
  if (layer === null) return;
  const i = decrypting ?? layer.info;
  ev.tlsVersion = i.version;
  ev.tlsCipher = i.cipherName;
  ev.tlsDecrypted = i.state === 'decrypting';
}

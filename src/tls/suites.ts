/**
 * Cipher suites: the IANA registry's names of the common suites, and for the ones we decrypt,
 * the parameters of their AEAD (RFC 5288 AES-GCM, RFC 7905 ChaCha20-Poly1305, RFC 8446 §B.4).
 */

export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HashName = 'sha256' | 'sha384';

export interface AeadSuite {
  code: number;
  name: string;
  /** true: a TLS 1.3 suite; false: a TLS 1.2 suite. */
  tls13: boolean;
  aead: AeadName;
  keyLength: number;
  /** TLS 1.2: the fixed IV from the key block (4 for GCM, 12 for ChaCha20); TLS 1.3: 12. */
  fixedIvLength: number;
  /** TLS 1.2 GCM: 8 bytes of explicit nonce before the ciphertext (RFC 5288 §3); else 0. */
  explicitNonceLength: number;
  hash: HashName;
}

function aead(code: number, name: string, tls13: boolean, a: AeadName, hash: HashName): AeadSuite {
  const gcm12 = !tls13 && a !== 'chacha20-poly1305';
  return {
    code,
    name,
    tls13,
    aead: a,
    keyLength: a === 'aes-128-gcm' ? 16 : 32,
    fixedIvLength: gcm12 ? 4 : 12,
    explicitNonceLength: gcm12 ? 8 : 0,
    hash,
  };
}

const SUPPORTED: readonly AeadSuite[] = [
  aead(0x1301, 'TLS_AES_128_GCM_SHA256', true, 'aes-128-gcm', 'sha256'),
  aead(0x1302, 'TLS_AES_256_GCM_SHA384', true, 'aes-256-gcm', 'sha384'),
  aead(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', true, 'chacha20-poly1305', 'sha256'),
  aead(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', false, 'aes-128-gcm', 'sha256'),
  aead(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', false, 'aes-256-gcm', 'sha384'),
  aead(0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', false, 'aes-128-gcm', 'sha256'),
  aead(0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', false, 'aes-256-gcm', 'sha384'),
  aead(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', false, 'aes-128-gcm', 'sha256'),
  aead(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', false, 'aes-256-gcm', 'sha384'),
  aead(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', false, 'aes-128-gcm', 'sha256'),
  aead(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', false, 'aes-256-gcm', 'sha384'),
  aead(0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', false, 'chacha20-poly1305', 'sha256'),
  aead(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', false, 'chacha20-poly1305', 'sha256'),
  aead(0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', false, 'chacha20-poly1305', 'sha256'),
];

/** Names of common suites we do not decrypt (CBC, CCM, RC4, 3DES): named in what we report. */
const OTHER_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x1304, 'TLS_AES_128_CCM_SHA256'],
  [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5'],
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x0016, 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
  [0xc09c, 'TLS_RSA_WITH_AES_128_CCM'],
  [0xc09d, 'TLS_RSA_WITH_AES_256_CCM'],
  [0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM'],
  [0xc0ad, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM'],
  [0xc0ae, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
  [0xc0af, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8'],
];

const BY_CODE = new Map<number, AeadSuite>(SUPPORTED.map((s) => [s.code, s]));
const NAMES = new Map<number, string>([...SUPPORTED.map((s) => [s.code, s.name] as const), ...OTHER_NAMES]);

/** The suite's parameters when we decrypt it, else null. */
export function aeadSuite(code: number): AeadSuite | null {
  return BY_CODE.get(code) ?? null;
}

/** The IANA name of a suite, `0x….` when not in our table. */
export function suiteName(code: number): string {
  return NAMES.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** Protocol version in words: 'TLS 1.2', 'SSL 3.0', 'TLS 1.3 (draft 28)', '0x….'. */
export function versionName(v: number): string {
  switch (v) {
    case 0x0304:
      return 'TLS 1.3';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0300:
      return 'SSL 3.0';
    case 0x0002:
      return 'SSL 2.0';
  }
  if (v >> 8 === 0x7f) return `TLS 1.3 (draft ${v & 0xff})`;
  return `0x${v.toString(16).padStart(4, '0')}`;
}

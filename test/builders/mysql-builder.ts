/**
 * MySQL wire packets for tests.
 *
 * Packet framing: int<3> payload length (LE) | int<1> sequence id | payload.
 */
import { ByteWriter, ascii } from './bytes.js';

export function mysqlPacket(seq: number, payload: Uint8Array): Uint8Array {
  return new ByteWriter(true)
    .u8(payload.length & 0xff)
    .u8((payload.length >> 8) & 0xff)
    .u8((payload.length >> 16) & 0xff)
    .u8(seq)
    .bytes(payload)
    .toBytes();
}

export interface GreetingOptions {
  protocol?: number;
  version?: string | Uint8Array;
  connectionId?: number;
  /** Filler byte after auth-plugin-data part 1 (0 in a real greeting). */
  filler?: number;
  capabilities?: number;
  charset?: number;
  status?: number;
  authPlugin?: string;
  seq?: number;
}

/**
 * Protocol::HandshakeV10:
 *   int<1> protocol version (10) | string<NUL> server version | int<4> connection id |
 *   string[8] auth-plugin-data part 1 | int<1> filler (0) | int<2> capabilities (low) |
 *   int<1> character set | int<2> status flags | int<2> capabilities (high) |
 *   int<1> auth-plugin-data length | string[10] reserved | string[13] auth-plugin-data part 2 |
 *   string<NUL> auth plugin name
 */
export function handshakeV10(o: GreetingOptions = {}): Uint8Array {
  const caps = o.capabilities ?? 0xdfffffff;
  const version = typeof o.version === 'string' || o.version === undefined ? ascii(o.version ?? '8.0.36') : o.version;
  const body = new ByteWriter(true)
    .u8(o.protocol ?? 10)
    .bytes(version)
    .u8(0)
    .u32(o.connectionId ?? 1)
    .bytes(ascii('abcdefgh'))
    .u8(o.filler ?? 0)
    .u16(caps & 0xffff)
    .u8(o.charset ?? 255)
    .u16(o.status ?? 0x0002)
    .u16(caps >>> 16)
    .u8(21)
    .zeros(10)
    .bytes(ascii('ijklmnopqrst'))
    .u8(0)
    .bytes(ascii(o.authPlugin ?? 'caching_sha2_password'))
    .u8(0)
    .toBytes();
  return mysqlPacket(o.seq ?? 0, body);
}

import { loadEd2curve, loadNacl } from './loadNacl.js';
import * as builtins from '../../channel/builtins.js';

/**
 * The primitives Secret Handshake v1 and box-stream are written in, named as the protocol guide names them. libsodium's
 * `crypto_auth` is HMAC-SHA-512-256: HMAC-SHA-512 cut to its first 32 bytes (not SHA-512/256, whose initial values
 * differ), so node:crypto gives it exactly.
 */

/** The 24 zero bytes msg3 and msg4 use as their secretbox nonce (each of their keys is used for one box only). */
export const ZERO_NONCE = new Uint8Array(24);

/** HMAC-SHA-512-256 of `data` under `key` (libsodium `crypto_auth`). */
export function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(builtins.crypto().createHmac('sha512', key).update(data).digest().subarray(0, 32));
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = builtins.crypto().createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** The concatenation of `parts` as a new plain Uint8Array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy that owns its bytes, as a plain Uint8Array (not a Buffer, so results compare equal to tweetnacl's). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * X25519 of `secret` and `publicKey`, or null when the result is all zeros. A peer that sends a low-order point
 * (e.g. zero) would make the shared secret a constant known to everyone, so such a result is refused, never used.
 */
export function sharedSecret(secret: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  const s = loadNacl().scalarMult(secret, publicKey);
  let acc = 0;
  for (const b of s) acc |= b;
  return acc === 0 ? null : s;
}

/** The X25519 public key of an Ed25519 public key, or null when it is not a valid Ed25519 point. */
export function curvePublicKey(edPublicKey: Uint8Array): Uint8Array | null {
  return loadEd2curve().convertPublicKey(edPublicKey);
}

/** The X25519 secret key of an Ed25519 secret key (tweetnacl's 64-byte sign layout). */
export function curveSecretKey(edSecretKey: Uint8Array): Uint8Array {
  return loadEd2curve().convertSecretKey(edSecretKey);
}

/** Adds one to a 24-byte big-endian counter, in place (box-stream nonces; wraps around at 2^192). */
export function incrementNonce(nonce: Uint8Array): void {
  for (let i = nonce.length - 1; i >= 0; i--) {
    nonce[i] = (nonce[i]! + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}

/** Throws a TypeError naming `name` unless `value` is a Uint8Array of `length` bytes. */
export function checkKey(name: string, value: unknown, length: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array of ${length} bytes, got ${describeValue(value)}`);
  }
  if (value.length !== length) {
    throw new TypeError(`${name} must be ${length} bytes long, got ${value.length}`);
  }
  return value;
}

/**
 * Checks an Ed25519 key pair in tweetnacl's sign layout and returns a private copy of it: a TypeError names the
 * field that is wrong, including a `publicKey` that is not the one the `secretKey` holds in its last 32 bytes (a
 * mix-up that would otherwise show only as a failed handshake on the other end).
 */
export function checkKeyPair(name: string, value: unknown): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (!value || typeof value !== 'object') {
    throw new TypeError(
      `${name} must be { publicKey, secretKey } (as generateKeys() makes), got ${describeValue(value)}`,
    );
  }
  const v = value as { publicKey?: unknown; secretKey?: unknown };
  const publicKey = checkKey(`${name}.publicKey`, v.publicKey, 32);
  const secretKey = checkKey(`${name}.secretKey`, v.secretKey, 64);
  if (!loadNacl().verify(publicKey, secretKey.subarray(32))) {
    throw new TypeError(`${name}.publicKey does not belong to ${name}.secretKey`);
  }
  return { publicKey: copyBytes(publicKey), secretKey: copyBytes(secretKey) };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** Box-stream: bytes of an encrypted header (16-byte MAC + 2-byte body length + 16-byte body MAC). */
export const BOX_HEADER_SIZE = 34;
/** Box-stream: the largest body of one frame. */
export const BOX_MAX_BODY = 4096;

/**
 * tweetnacl's NaCl-style secretbox, which works in caller-owned buffers: the box-stream reuses two scratch buffers
 * per direction instead of allocating four arrays per 4 KiB frame as `nacl.secretbox` does (about 25% faster).
 * `crypto_secretbox(c, m, d, n, k)` needs `m[0..32]` zero and leaves the MAC in `c[16..32]`, the ciphertext in
 * `c[32..d]`; `crypto_secretbox_open(m, c, d, n, k)` checks the MAC in constant time and returns -1 when it fails.
 */
export interface NaclLowLevel {
  crypto_secretbox(c: Uint8Array, m: Uint8Array, d: number, n: Uint8Array, k: Uint8Array): number;
  crypto_secretbox_open(m: Uint8Array, c: Uint8Array, d: number, n: Uint8Array, k: Uint8Array): number;
}
export function naclLowLevel(): NaclLowLevel {
  return (loadNacl() as unknown as { lowlevel: NaclLowLevel }).lowlevel;
}

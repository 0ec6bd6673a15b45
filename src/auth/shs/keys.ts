import { loadNacl } from './loadNacl.js';

/**
 * A long-term Ed25519 identity in tweetnacl's sign layout: `publicKey` is 32 bytes; `secretKey` is 64 bytes, the
 * 32-byte seed followed by the public key. On disk and on the command line both are base64 (DESIGN §6).
 */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A new random Ed25519 key pair for the secure channel (tweetnacl's `sign.keyPair()`, from the system's CSPRNG). */
export function generateKeys(): KeyPair {
  const { publicKey, secretKey } = loadNacl().sign.keyPair();
  return { publicKey, secretKey };
}

/**
 * A new random 32-byte network key. Every client and server of one deployment share it; a client without it gets no
 * answer at all. It is a capability, not a password: keep it out of logs, and make a fresh one per deployment.
 */
export function randomNetworkKey(): Uint8Array {
  return loadNacl().randomBytes(32);
}

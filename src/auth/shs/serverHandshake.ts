import type { Duplex } from 'node:stream';
import { AuthenticationError } from '../../protocol/errors.js';
import type { HandshakeResult } from './HandshakeResult.js';
import type { KeyPair } from './keys.js';
import { loadNacl } from './loadNacl.js';
import { checkTimeout, lowOrderKey, runHandshake } from './runHandshake.js';
import {
  checkKey,
  checkKeyPair,
  concat,
  copyBytes,
  curvePublicKey,
  curveSecretKey,
  hmac,
  sha256,
  sharedSecret,
  ZERO_NONCE,
} from './shsCrypto.js';

/**
 * Decides whether a client that proved it holds `clientPublicKey` (32 bytes) may connect. Return (or resolve to)
 * `true` to admit it; anything else refuses it (false, undefined from a forgotten return), and so does a throw or
 * rejection. Runs after the client's identity is proven
 * and before the server's last message, so a refused client learns nothing of the session.
 */
export type Authorize = (clientPublicKey: Uint8Array) => boolean | Promise<boolean>;

/** What the server side of Secret Handshake v1 needs. */
export interface ServerHandshakeOptions {
  /** The 32-byte network key shared by the deployment; a client without it gets no answer at all. */
  networkKey: Uint8Array;
  /** The server's long-term Ed25519 keys (`generateKeys()`); clients must know `keys.publicKey` in advance. */
  keys: KeyPair;
  /** Who may connect; without it, any client holding the network key is admitted. */
  authorize?: Authorize;
  /** Milliseconds the whole handshake may take (default 10000); then it rejects with TimeoutError. */
  timeout?: number;
}

/**
 * Runs the server side of Secret Handshake v1 (as Secure Scuttlebutt speaks it, byte for byte) on `stream`: reads
 * msg1 (64 bytes), writes msg2 (64), reads msg3 (112), writes msg4 (80), and reads not one byte more, so what the
 * client sends next stays in the stream for `boxStream`.
 *
 * Resolves with the session keys and nonces, `remotePublicKey` being the client's long-term public key. Rejects,
 * and destroys the stream, with AuthenticationError naming what failed, or with TimeoutError after `timeout` ms.
 * A msg1 not authenticated with our network key is answered with nothing at all: the stream is destroyed without
 * a byte written, so a stranger cannot even tell a secret-handshake server is there. A msg3 that does not open or
 * carries no valid signature, an all-zero Diffie-Hellman result, or `authorize` refusing (false, or a throw) end it
 * before msg4. Bad options reject with a TypeError naming the option; the stream is then left as it was.
 */
export async function serverHandshake(stream: Duplex, options: ServerHandshakeOptions): Promise<HandshakeResult> {
  if (!options || typeof options !== 'object') throw new TypeError('serverHandshake needs options');
  const networkKey = copyBytes(checkKey('networkKey', options.networkKey, 32));
  const keys = checkKeyPair('keys', options.keys);
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new TypeError('authorize must be a function (clientPublicKey) => boolean | Promise<boolean>');
  }
  const timeout = checkTimeout(options.timeout);
  const nacl = loadNacl();

  return runHandshake(stream, 'server', timeout, async (io) => {
    const msg1 = await io.read(64, 'msg1');
    const clientEphemeralKey = msg1.subarray(32, 64);
    const clientHmac = hmac(networkKey, clientEphemeralKey);
    if (!nacl.verify(msg1.subarray(0, 32), clientHmac)) {
      throw new AuthenticationError(
        'secret handshake (server): msg1 is not authenticated with our network key; closed without answering',
      );
    }

    const ephemeral = nacl.box.keyPair();
    const ab = sharedSecret(ephemeral.secretKey, clientEphemeralKey);
    const aB = sharedSecret(curveSecretKey(keys.secretKey), clientEphemeralKey);
    if (!ab || !aB) throw lowOrderKey('client'); // before answering: such a client gets nothing either
    const serverHmac = hmac(networkKey, ephemeral.publicKey);
    io.write(concat(serverHmac, ephemeral.publicKey));
    const abHash = sha256(ab);
    const msg3Key = sha256(networkKey, ab, aB);

    const msg3 = await io.read(112, 'msg3');
    const msg3Plain = nacl.secretbox.open(msg3, ZERO_NONCE, msg3Key);
    if (!msg3Plain) {
      throw new AuthenticationError(
        "secret handshake (server): msg3 could not be opened: the client does not know this server's public key",
      );
    }
    const signatureA = msg3Plain.subarray(0, 64);
    const clientKey = copyBytes(msg3Plain.subarray(64, 96));
    if (!nacl.sign.detached.verify(concat(networkKey, keys.publicKey, abHash), signatureA, clientKey)) {
      throw new AuthenticationError(
        'secret handshake (server): msg3 carries no valid signature: the client does not hold the key it claims',
      );
    }
    const clientCurveKey = curvePublicKey(clientKey);
    if (!clientCurveKey) {
      throw new AuthenticationError("secret handshake (server): the client's public key is not a valid Ed25519 key");
    }
    const Ab = sharedSecret(ephemeral.secretKey, clientCurveKey);
    if (!Ab) throw lowOrderKey('client');

    if (authorize) {
      io.stage = 'authorize()';
      let admitted: boolean;
      try {
        admitted = (await authorize(copyBytes(clientKey))) === true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new AuthenticationError(`secret handshake (server): authorize() threw: ${message}`, { cause: error });
      }
      if (!admitted) {
        throw new AuthenticationError(
          `secret handshake (server): client key ${Buffer.from(clientKey).toString('base64')} is not authorized`,
        );
      }
    }

    const msg4Key = sha256(networkKey, ab, aB, Ab);
    const signatureB = nacl.sign.detached(concat(networkKey, msg3Plain, abHash), keys.secretKey);
    io.write(nacl.secretbox(signatureB, ZERO_NONCE, msg4Key));
    ephemeral.secretKey.fill(0); // forward secrecy: the session keys below are all that is kept

    const keyHash = sha256(msg4Key);
    return {
      remotePublicKey: clientKey,
      encryptKey: sha256(keyHash, clientKey),
      encryptNonce: clientHmac.slice(0, 24),
      decryptKey: sha256(keyHash, keys.publicKey),
      decryptNonce: serverHmac.slice(0, 24),
    };
  });
}

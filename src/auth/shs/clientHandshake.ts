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

/** What the client side of Secret Handshake v1 needs. */
export interface ClientHandshakeOptions {
  /** The 32-byte network key shared by the deployment; the server answers nothing to a client without it. */
  networkKey: Uint8Array;
  /** This client's long-term Ed25519 keys (`generateKeys()`); the server learns `keys.publicKey`. */
  keys: KeyPair;
  /** The server's long-term Ed25519 public key (32 bytes), known in advance: a server without it fails at msg4. */
  serverKey: Uint8Array;
  /** Milliseconds the whole handshake may take (default 10000); then it rejects with TimeoutError. */
  timeout?: number;
}

/**
 * Runs the client side of Secret Handshake v1 (as Secure Scuttlebutt speaks it, byte for byte) on `stream`:
 * writes msg1 (64 bytes), reads msg2 (64), writes msg3 (112), reads msg4 (80), and reads not one byte more, so
 * what the server sends next stays in the stream for `boxStream`.
 *
 * Resolves with the session keys and nonces (`remotePublicKey` is `serverKey`). Rejects, and destroys the stream,
 * with AuthenticationError naming what failed — the server closed without answering (it does not know our network
 * key), msg2 is not authenticated with our network key, the server closed instead of sending msg4 (it refused us,
 * or `serverKey` is not its key), msg4 does not prove the server holds `serverKey` — or with TimeoutError after
 * `timeout` ms. Bad options reject with a TypeError naming the option before anything is written; the stream is
 * then left as it was.
 */
export async function clientHandshake(stream: Duplex, options: ClientHandshakeOptions): Promise<HandshakeResult> {
  if (!options || typeof options !== 'object') throw new TypeError('clientHandshake needs options');
  const client = prepareClient(options);
  return runClientHandshake(stream, client, checkTimeout(options.timeout));
}

/** Client options checked and copied, with the server's X25519 key worked out (12 ms in tweetnacl: done once). */
export interface PreparedClient {
  networkKey: Uint8Array;
  keys: KeyPair;
  serverKey: Uint8Array;
  serverCurveKey: Uint8Array;
}

/** Checks the options (a TypeError names the bad one) and prepares them for any number of handshakes. */
export function prepareClient(options: Omit<ClientHandshakeOptions, 'timeout'>): PreparedClient {
  const networkKey = copyBytes(checkKey('networkKey', options.networkKey, 32));
  const keys = checkKeyPair('keys', options.keys);
  const serverKey = copyBytes(checkKey('serverKey', options.serverKey, 32));
  const serverCurveKey = curvePublicKey(serverKey);
  if (!serverCurveKey) throw new TypeError('serverKey is not a valid Ed25519 public key');
  return { networkKey, keys, serverKey, serverCurveKey };
}

/** `clientHandshake` on prepared options; the same contract. */
export function runClientHandshake(stream: Duplex, client: PreparedClient, timeout: number): Promise<HandshakeResult> {
  const { networkKey, keys, serverKey, serverCurveKey } = client;
  const nacl = loadNacl();
  return runHandshake(stream, 'client', timeout, async (io) => {
    const ephemeral = nacl.box.keyPair();
    const clientHmac = hmac(networkKey, ephemeral.publicKey);
    io.write(concat(clientHmac, ephemeral.publicKey));

    const msg2 = await io.read(64, 'msg2', 'it does not use our network key, or is not a secret-handshake server');
    const serverEphemeralKey = msg2.subarray(32, 64);
    const serverHmac = hmac(networkKey, serverEphemeralKey);
    if (!nacl.verify(msg2.subarray(0, 32), serverHmac)) {
      throw new AuthenticationError(
        'secret handshake (client): msg2 is not authenticated with our network key (a different network, or garbage)',
      );
    }

    const ab = sharedSecret(ephemeral.secretKey, serverEphemeralKey);
    const aB = sharedSecret(ephemeral.secretKey, serverCurveKey);
    if (!ab || !aB) throw lowOrderKey('server');
    const abHash = sha256(ab);
    const signatureA = nacl.sign.detached(concat(networkKey, serverKey, abHash), keys.secretKey);
    const msg3Plain = concat(signatureA, keys.publicKey);
    io.write(nacl.secretbox(msg3Plain, ZERO_NONCE, sha256(networkKey, ab, aB)));

    const msg4 = await io.read(
      80,
      'msg4',
      'it refused this client, or serverKey is not the key of the server we reached',
    );
    const Ab = sharedSecret(curveSecretKey(keys.secretKey), serverEphemeralKey);
    if (!Ab) throw lowOrderKey('server');
    const msg4Key = sha256(networkKey, ab, aB, Ab);
    const signatureB = nacl.secretbox.open(msg4, ZERO_NONCE, msg4Key);
    if (!signatureB) {
      throw new AuthenticationError(
        'secret handshake (client): msg4 could not be opened: the server does not hold the secret key of serverKey',
      );
    }
    if (!nacl.sign.detached.verify(concat(networkKey, msg3Plain, abHash), signatureB, serverKey)) {
      throw new AuthenticationError('secret handshake (client): msg4 carries no valid signature by serverKey');
    }
    ephemeral.secretKey.fill(0); // forward secrecy: the session keys below are all that is kept

    const keyHash = sha256(msg4Key);
    return {
      remotePublicKey: copyBytes(serverKey),
      encryptKey: sha256(keyHash, serverKey),
      encryptNonce: serverHmac.slice(0, 24),
      decryptKey: sha256(keyHash, keys.publicKey),
      decryptNonce: clientHmac.slice(0, 24),
    };
  });
}

import type { Authenticator } from './Authenticator.js';
import { boxStream } from './shs/boxStream.js';
import type { KeyPair } from './shs/keys.js';
import { serverHandshake, type Authorize } from './shs/serverHandshake.js';
import { checkKey, checkKeyPair, copyBytes } from './shs/shsCrypto.js';

/** Options of `shsServer`. */
export interface ShsServerOptions {
  /** The deployment's 32-byte network key (`randomNetworkKey()`); a client without it gets no answer at all. */
  networkKey: Uint8Array;
  /** The server's long-term Ed25519 keys (`generateKeys()`); clients pin `keys.publicKey` as their `serverKey`. */
  keys: KeyPair;
  /**
   * Who may connect, by long-term public key (32 bytes); may be async. Anything but `true` refuses, and so does a
   * throw. Without it, any client holding the network key is admitted.
   */
  authorize?: Authorize;
}

/** What `shsServer` and `shsClient` put in `conn.peer.credentials`: the peer's long-term public key. */
export interface ShsCredentials {
  publicKey: Uint8Array;
}

/**
 * The server side of the secure channel (DESIGN §6) as a server's `authenticator`: Secret Handshake v1 on the raw
 * socket within `protocolConfig.handshakeTimeout`, then box-stream encryption for every netref byte. The client's
 * long-term public key becomes `conn.peer.credentials.publicKey`.
 *
 * A refused client — no network key (it gets no answer at all), a bad msg3, `authorize` saying no or throwing, the
 * deadline passing — never reaches the service: the socket is destroyed and the server's `error` event gets the
 * AuthenticationError or TimeoutError. Throws a TypeError at once, naming the option, when an option is missing or
 * malformed.
 */
export function shsServer(options: ShsServerOptions): Authenticator {
  if (!options || typeof options !== 'object') throw new TypeError('shsServer needs { networkKey, keys }');
  const networkKey = copyBytes(checkKey('networkKey', options.networkKey, 32));
  const keys = checkKeyPair('keys', options.keys);
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new TypeError('authorize must be a function (clientPublicKey) => boolean | Promise<boolean>');
  }
  const authenticator: Authenticator = async (stream, info) => {
    const result = await serverHandshake(stream, { networkKey, keys, authorize, timeout: info.timeout });
    const credentials: ShsCredentials = { publicKey: result.remotePublicKey };
    return { stream: boxStream(stream, result), credentials };
  };
  // What it is, for the server (silent refusals) and for discovery (auth=shs, pk=...).
  return Object.assign(authenticator, { kind: 'shs' as const, publicKey: copyBytes(keys.publicKey) });
}

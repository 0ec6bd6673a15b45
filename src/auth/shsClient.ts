import type { Authenticator } from './Authenticator.js';
import { boxStream } from './shs/boxStream.js';
import { prepareClient, runClientHandshake } from './shs/clientHandshake.js';
import { generateKeys, type KeyPair } from './shs/keys.js';
import { checkTimeout } from './shs/runHandshake.js';
import type { ShsCredentials } from './shsServer.js';

/** Options of `shsClient`. */
export interface ShsClientOptions {
  /** The deployment's 32-byte network key; the same one the server has. */
  networkKey: Uint8Array;
  /** The server's long-term public key (32 bytes), learnt out of band: connecting fails unless the server holds it. */
  serverKey: Uint8Array;
  /**
   * This client's long-term Ed25519 keys, which the server's `authorize` sees. Optional: without them a key pair is
   * made once, when `shsClient` is called, and used for every connection made with this authenticator — enough for
   * a server that admits anyone with the network key, useless for one that checks who you are.
   */
  keys?: KeyPair;
}

/**
 * The client side of the secure channel (DESIGN §6), for `connect(..., { auth: shsClient({...}) })`: Secret
 * Handshake v1 on the raw socket within `protocolConfig.handshakeTimeout`, then box-stream encryption for every
 * netref byte. `conn.peer.credentials.publicKey` is the server's key.
 *
 * The connect rejects with AuthenticationError naming the step when the server does not answer (it does not share
 * our network key), closes instead of accepting (it refused us, or `serverKey` is not its key), or fails to prove
 * it holds `serverKey`; with TimeoutError past the deadline. Throws a TypeError at once, naming the option, when an
 * option is missing or malformed.
 */
export function shsClient(options: ShsClientOptions): Authenticator {
  if (!options || typeof options !== 'object') throw new TypeError('shsClient needs { networkKey, serverKey }');
  const { networkKey, serverKey } = options;
  const client = prepareClient({ networkKey, serverKey, keys: options.keys ?? generateKeys() });
  return async (stream, info) => {
    const result = await runClientHandshake(stream, client, checkTimeout(info.timeout));
    const credentials: ShsCredentials = { publicKey: result.remotePublicKey };
    return { stream: boxStream(stream, result), credentials };
  };
}

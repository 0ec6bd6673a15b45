import { parseKey, readKeyFile, shsClient, type Authenticator } from '../auth/index.js';
import { UsageError } from './UsageError.js';

/** The secure-channel options of a client command, as given (DESIGN §3 "The command line"). */
export interface ClientKeyFlags {
  /** `--key FILE`: this client's keys, as `netref keygen --out` writes them. */
  key?: string | undefined;
  /** `--network-key B64`: the deployment's network key (32 bytes). */
  networkKey?: string | undefined;
  /** `--server-key B64`: the server's public key (32 bytes), learnt out of band. */
  serverKey?: string | undefined;
}

/**
 * The `auth` option a client command passes to `connect` for `--key`, `--network-key` and `--server-key`:
 * `shsClient({ networkKey, keys, serverKey })`, or undefined when none of them is given (a plain connection).
 * `--network-key` and `--server-key` go together; `--key` is optional — without it a fresh key pair is made for
 * this run, which a server admitting anyone with the network key accepts and one with an authorized-keys file
 * refuses. Throws UsageError naming the flag or the file for a missing companion flag, bad base64, a key of the
 * wrong length, or a key file that cannot be read.
 */
export function clientAuthFromFlags(flags: ClientKeyFlags): Authenticator | undefined {
  const { key, networkKey, serverKey } = flags;
  if (key === undefined && networkKey === undefined && serverKey === undefined) return undefined;
  if (networkKey === undefined) {
    throw new UsageError('the secure channel needs --network-key B64 (the network key the server uses)');
  }
  if (serverKey === undefined) {
    throw new UsageError("the secure channel needs --server-key B64 (the server's public key, as it prints it)");
  }
  try {
    return shsClient({
      networkKey: parseKey(networkKey, '--network-key', 32),
      serverKey: parseKey(serverKey, '--server-key', 32),
      ...(key !== undefined ? { keys: readKeyFile(key) } : {}),
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

import { parseKey, readAuthorizedKeys, readKeyFile, shsServer, type Authenticator } from '../auth/index.js';
import { UsageError } from './UsageError.js';

/** The secure-channel options of a serving command, as given (DESIGN §3 "The command line"). */
export interface ServerKeyFlags {
  /** `--key FILE`: the server's keys, as `netref keygen --out` writes them. */
  key?: string | undefined;
  /** `--network-key B64`: the deployment's network key (32 bytes); required with `--key`, there is no default. */
  networkKey?: string | undefined;
  /** `--authorized-keys FILE`: the only client keys admitted; without it, anyone holding the network key is. */
  authorizedKeys?: string | undefined;
}

/** A server's secure channel, made from its flags. */
export interface ServerAuth {
  authenticator: Authenticator;
  /** The server's public key, base64: what clients pass as `--server-key`. */
  publicKey: string;
  /** How many client keys the authorized-keys file lists, or undefined without one (any network-key holder). */
  authorizedCount: number | undefined;
}

/**
 * `shsServer({ networkKey, keys, authorize })` for `--key`, `--network-key` and `--authorized-keys`, or undefined
 * when none is given. The authorized-keys file is read once, here, at start: a changed file takes effect when the
 * server restarts. Throws UsageError naming the flag, the file or the line: `--key` without `--network-key` (or
 * the other way round), `--authorized-keys` without `--key`, bad base64, a key of the wrong length, a key file or
 * authorized-keys file that cannot be read or parsed.
 */
export function serverAuthFromFlags(flags: ServerKeyFlags): ServerAuth | undefined {
  const { key, networkKey, authorizedKeys } = flags;
  if (key === undefined && networkKey === undefined && authorizedKeys === undefined) return undefined;
  if (key === undefined) {
    const given = networkKey !== undefined ? '--network-key' : '--authorized-keys';
    throw new UsageError(`${given} needs --key FILE (the server's own keys; make them with netref keygen --out FILE)`);
  }
  if (networkKey === undefined) {
    throw new UsageError('--key needs --network-key B64 (there is no default network key)');
  }
  try {
    const network = parseKey(networkKey, '--network-key', 32);
    const keys = readKeyFile(key);
    let authorize: ((publicKey: Uint8Array) => boolean) | undefined;
    let authorizedCount: number | undefined;
    if (authorizedKeys !== undefined) {
      const admitted = new Set(readAuthorizedKeys(authorizedKeys).map((k) => Buffer.from(k).toString('base64')));
      authorizedCount = admitted.size;
      authorize = (publicKey) => admitted.has(Buffer.from(publicKey).toString('base64'));
    }
    return {
      authenticator: shsServer({ networkKey: network, keys, ...(authorize ? { authorize } : {}) }),
      publicKey: Buffer.from(keys.publicKey).toString('base64'),
      authorizedCount,
    };
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

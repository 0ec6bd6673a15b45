import type { Announcement } from './Announcement.js';
import { announce } from './announce.js';
import type { AuthKind } from './txtRecord.js';

/** What a server knows when it announces itself (ServerBase's `autoRegister` and `registry` options). */
export interface ServerAnnouncement {
  /** Discovery names of the service served (`serviceNames(service)`). */
  names: readonly string[];
  /** The bound TCP port. */
  port: number;
  /**
   * The server's authenticator, if any. Its kind and public key are read from its `kind` and `publicKey`
   * properties when it has them (`shs` with a key, `tls`); one without says `auth=custom`; none says `auth=none`.
   */
  authenticator?: unknown;
  /** Announce on mDNS. */
  mdns: boolean;
  /** Also register with the RegistryServer at `host:port`. */
  registry?: string;
  /** The IPv4 address of the interface to announce on. */
  interface?: string;
}

/** The `auth` TXT entry (and `pk`) a server with this authenticator announces. */
export function announcedAuth(authenticator: unknown): { auth: AuthKind; publicKey?: Uint8Array | string } {
  if (authenticator === undefined || authenticator === null) return { auth: 'none' };
  const tagged = authenticator as { kind?: unknown; publicKey?: unknown };
  const auth = typeof tagged.kind === 'string' ? tagged.kind : 'custom';
  const pk = tagged.publicKey;
  return pk instanceof Uint8Array || typeof pk === 'string' ? { auth, publicKey: pk } : { auth };
}

/**
 * Announces a listening server (DESIGN §7 `autoRegister`): its names, bound port and auth kind, on mDNS and/or with
 * a registry; `close()` on the result withdraws it (ServerBase.close should do so before it stops listening).
 * Rejects as `announce` does (bad arguments; DiscoveryError when the mDNS socket cannot be opened).
 */
export function announceServer(server: ServerAnnouncement): Promise<Announcement> {
  return announce(
    { names: server.names, port: server.port, ...announcedAuth(server.authenticator) },
    {
      mdns: server.mdns,
      ...(server.registry !== undefined ? { registry: server.registry } : {}),
      ...(server.interface !== undefined ? { interface: server.interface } : {}),
    },
  );
}

import os from 'node:os';
import { isIP } from 'node:net';
import { Service, serviceNames, type ServiceLike } from '../core/index.js';
import { Announcement } from './Announcement.js';
import type { MdnsOptions } from './MdnsLink.js';
import { localHostName } from './mdnsNames.js';
import { buildTxt, type AuthKind } from './txtRecord.js';

/** What to announce when there is no Service to take the names from. */
export interface AnnounceTarget {
  /** Discovery names: the derived name first, then aliases (see `serviceNames`). */
  names: readonly string[];
  /** The TCP port the server listens on. */
  port: number;
  /** Host name for the SRV record; `.local` is added. Default: this machine's name. IP addresses are ignored. */
  host?: string;
  /** How clients must authenticate (`none`, `shs`, `tls`). Default `none`. */
  auth?: AuthKind;
  /** With `auth: 'shs'`: the server's public key (32 bytes, or base64), sent as a hint in `pk`. */
  publicKey?: Uint8Array | string;
}

/** Options of `announce`. */
export interface AnnounceOptions extends MdnsOptions, Partial<Omit<AnnounceTarget, 'names'>> {
  /** The instance name (unique on the link; a suffix ` (2)`… is added on conflict). Default `NAME on HOSTNAME`. */
  name?: string;
  /** Also register with the RegistryServer at `host:port` (renewed until `close()`). */
  registry?: string;
  /** Announce on mDNS. Default true; `false` with `registry` registers only. */
  mdns?: boolean;
  /** Renew the registry entry every this many ms. Default: a third of the registry's `pruneAfter`. */
  refresh?: number;
  /** Withdraw on SIGINT/SIGTERM (see `withdrawOnExit`). Default true. */
  withdrawOnExit?: boolean;
}

function isTarget(what: unknown): what is AnnounceTarget {
  return (
    !!what && typeof what === 'object' && !(what instanceof Service) && Array.isArray((what as AnnounceTarget).names)
  );
}

/**
 * Announces a netref server on the LAN (DESIGN §7): `_netref._tcp` with TXT `names=A,B`, `v=<protocol major>`,
 * `auth=…` and `pk=…` (with `auth=shs`), host name with `.local`. Give a Service (class or instance: its names are
 * derived as `serviceNames` does) with `{ port }` in the options, or `{ names, port, host?, auth?, publicKey? }`.
 *
 * Resolves to an Announcement once its name was probed (a taken name gets ` (2)`…) and the first announcement went
 * out; `close()` withdraws it with goodbye packets, and so do SIGINT and SIGTERM. Throws a TypeError/RangeError for
 * bad arguments, and DiscoveryError when the mDNS socket cannot be opened. Sends that fail later (no multicast
 * route) are reported as the Announcement's `error` event, never thrown. Like a server, a live announcement keeps
 * the process running (its socket is open) until `close()`.
 */
export async function announce(
  what: ServiceLike | AnnounceTarget,
  options: AnnounceOptions = {},
): Promise<Announcement> {
  const target: AnnounceTarget = isTarget(what)
    ? { ...what, ...stripUndefined({ host: options.host, auth: options.auth, publicKey: options.publicKey }) }
    : { ...options, names: serviceNames(what), port: options.port as number };
  const port = target.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`announce: port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`);
  }
  const txt = buildTxt(target);
  const names = txt.names!.split(',');
  const host = localHostName(target.host && isIP(target.host) === 0 ? target.host : undefined);
  const baseName = options.name ?? `${names[0]} on ${os.hostname().split('.')[0]}`;
  if (options.mdns === false && options.registry === undefined) {
    throw new TypeError('announce: with mdns: false, give a registry to announce to');
  }
  return Announcement.start(
    { baseName, names, host, port, txt },
    {
      mdns: options.mdns !== false,
      withdrawOnExit: options.withdrawOnExit !== false,
      ...stripUndefined({
        interface: options.interface,
        socket: options.socket,
        registry: options.registry,
        refresh: options.refresh,
      }),
    },
  );
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { DiscoveryError, type Connection } from '../core/index.js';
import { discover, type DiscoveredService, type DiscoverOptions } from '../registry/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { connect } from './connect.js';
import { abortReason } from './connectChannel.js';

/** Options of `connectByService`: how to discover, then how to connect. */
export interface ConnectByServiceOptions
  extends ConnectOptions, Pick<DiscoverOptions, 'timeout' | 'all' | 'registry' | 'interface'> {}

/** Why one answer could not be used, for the error that lists them. */
function why(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

/**
 * Discovers `name` (DESIGN §3 `connect_by_service`) and connects to the first answer that takes the connection:
 * answers are tried in the order they arrive, each of their addresses in turn (the one their announcement came from
 * first), while discovery goes on; the browse stops as soon as one connects. An answer whose `auth` needs what the
 * options do not carry (`auth=shs` without `auth`, `auth=tls` without `tls`) is skipped.
 *
 * Rejects with DiscoveryError naming the service and what was tried: nothing answered within `timeout` (default
 * 2000 ms) — over mDNS or from the registry — or every answer failed (each failure listed), or discovery could not
 * run at all (no multicast route, registry unreachable). Rejects with the signal's reason when `signal` aborts.
 */
export async function connectByService(name: string, options: ConnectByServiceOptions = {}): Promise<Connection> {
  if (typeof name !== 'string' || name === '') throw new TypeError('connectByService needs a service name');
  const { timeout, all, registry, interface: iface, ...connectOptions } = options;
  const browse = new AbortController();
  const stopBrowse = () => browse.abort();
  options.signal?.addEventListener('abort', stopBrowse, { once: true });
  const queue: DiscoveredService[] = [];
  const failures: string[] = [];
  let wake: (() => void) | undefined;
  let discoveryOver = false;
  let discoveryError: unknown;

  const discovering = discover(name, {
    ...(timeout !== undefined ? { timeout } : {}),
    ...(all !== undefined ? { all } : {}),
    ...(registry !== undefined ? { registry } : {}),
    ...(iface !== undefined ? { interface: iface } : {}),
    signal: browse.signal,
    onAnswer: (s) => {
      queue.push(s);
      wake?.();
    },
  }).then(
    () => {},
    (error) => {
      discoveryError = error;
    },
  );
  void discovering.finally(() => {
    discoveryOver = true;
    wake?.();
  });

  const tryOne = async (s: DiscoveredService): Promise<Connection | undefined> => {
    const label = `'${s.name}' (${s.host}:${s.port})`;
    const kind = s.txt.auth ?? 'none';
    if (kind === 'shs' && !connectOptions.auth) {
      failures.push(`${label}: needs the secure channel (auth=shs); pass auth: shsClient({ ... })`);
      return undefined;
    }
    if (kind === 'tls' && !connectOptions.tls && !connectOptions.auth) {
      failures.push(`${label}: needs TLS (auth=tls); pass tls: { ... }`);
      return undefined;
    }
    const targets = s.addresses.length ? s.addresses : [s.host];
    for (const host of targets) {
      if (options.signal?.aborted) return undefined;
      try {
        return await connect(host, s.port, connectOptions);
      } catch (error) {
        failures.push(`'${s.name}' at ${host.includes(':') ? `[${host}]` : host}:${s.port}: ${why(error)}`);
      }
    }
    return undefined;
  };

  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        const conn = await tryOne(next);
        if (conn) return conn;
        continue;
      }
      if (options.signal?.aborted) throw abortReason(options.signal);
      if (discoveryOver) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    browse.abort();
    options.signal?.removeEventListener('abort', stopBrowse);
    await discovering;
  }

  const where = registry !== undefined ? `the registry at ${registry}` : 'mDNS';
  if (discoveryError) {
    throw new DiscoveryError(`cannot find service '${name}': ${why(discoveryError)}`, { cause: discoveryError });
  }
  if (failures.length === 0) {
    const waited = timeout ?? 2000;
    throw new DiscoveryError(`no service named '${name}' answered on ${where} within ${waited} ms`);
  }
  throw new DiscoveryError(
    `service '${name}' was found on ${where}, but no answer could be connected to:\n  ${failures.join('\n  ')}`,
  );
}

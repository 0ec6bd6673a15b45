import { DiscoveryError } from '../core/index.js';
import type { DiscoveredService } from './DiscoveredService.js';
import { matchService } from './matchService.js';
import { MdnsLink, type MdnsOptions } from './MdnsLink.js';
import { queryRegistry } from './queryRegistry.js';
import { ServiceBrowser } from './ServiceBrowser.js';

/** Options of `discover` (and of `connectByService`'s discovery). */
export interface DiscoverOptions extends MdnsOptions {
  /** How long to browse, in ms (with `registry`: how long the registry may take). Default 2000. */
  timeout?: number;
  /** Return services of every protocol version, not only this one's major. */
  all?: boolean;
  /** Ask the RegistryServer at `host:port` instead of multicasting. */
  registry?: string;
  /** Ends the browse early: `discover` then resolves with what answered so far. */
  signal?: AbortSignal;
  /** Called with each matching answer as it arrives (before `discover` resolves), e.g. to connect at once. */
  onAnswer?: (service: DiscoveredService) => void;
}

export const DEFAULT_DISCOVER_TIMEOUT = 2000;

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Finds netref services (DESIGN §3, §7): browses `_netref._tcp` on mDNS for `timeout` ms and returns the answers
 * whose `names` include `name` (case-insensitive; all of them without a name) and that speak this protocol major
 * (unless `all`). With `registry: 'host:port'`, asks that RegistryServer instead.
 *
 * Resolves to `[]` when nothing answers. Rejects with DiscoveryError when it could not ask at all: the mDNS socket
 * cannot be opened, the query cannot be sent (no multicast route: the error says so), or the registry cannot be
 * reached. Services that said goodbye, or whose records expired, during the browse are left out.
 */
export async function discover(name?: string, options?: DiscoverOptions): Promise<DiscoveredService[]>;
export async function discover(options?: DiscoverOptions): Promise<DiscoveredService[]>;
export async function discover(a?: string | DiscoverOptions, b: DiscoverOptions = {}): Promise<DiscoveredService[]> {
  const name = typeof a === 'string' ? a : undefined;
  const options = (typeof a === 'object' && a !== null ? a : b) ?? {};
  const timeout = options.timeout ?? DEFAULT_DISCOVER_TIMEOUT;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw new TypeError(`discover: timeout is a number of ms, got ${JSON.stringify(options.timeout)}`);
  }
  const matches = (s: DiscoveredService) => matchService(s, name, options.all === true);

  if (options.registry !== undefined) {
    const found = await queryRegistry(options.registry, name, { all: options.all === true, timeout });
    const wanted = found.filter(matches);
    for (const s of wanted) options.onAnswer?.(s);
    return wanted;
  }

  if (options.signal?.aborted) return [];
  const link = await MdnsLink.open(options);
  const browser = new ServiceBrowser(link);
  browser.on('found', (s: DiscoveredService) => {
    if (matches(s)) options.onAnswer?.(s);
  });
  try {
    try {
      await browser.start();
    } catch (error) {
      throw error instanceof DiscoveryError
        ? new DiscoveryError(`cannot look for ${name ? `'${name}'` : 'netref services'}: ${error.message}`, {
            cause: error,
          })
        : error;
    }
    await wait(timeout, options.signal);
    return browser.services().filter(matches);
  } finally {
    browser.stop();
    await link.close();
  }
}

import { DiscoveryError } from '../core/index.js';
import type { DiscoveredService } from './DiscoveredService.js';
import { openRegistryConnection } from './openRegistryConnection.js';

function isService(v: unknown): v is DiscoveredService {
  const s = v as DiscoveredService;
  return (
    !!s &&
    typeof s.name === 'string' &&
    typeof s.host === 'string' &&
    Number.isInteger(s.port) &&
    Array.isArray(s.names) &&
    Array.isArray(s.addresses) &&
    !!s.txt &&
    typeof s.txt === 'object'
  );
}

/**
 * Asks the RegistryServer at `address` (`host:port`) what `discover(name, { all })` would find. Rejects with
 * DiscoveryError when the registry cannot be reached or does not answer within `timeout` ms. Answers that are not
 * well-formed are left out.
 */
export async function queryRegistry(
  address: string,
  name: string | undefined,
  options: { all?: boolean; timeout: number },
): Promise<DiscoveredService[]> {
  const conn = await openRegistryConnection(address, options.timeout);
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer: unknown = await Promise.race([
      conn.root.query(name ?? null, options.all === true),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new DiscoveryError(`the registry at ${address} did not answer within ${options.timeout} ms`)),
          options.timeout,
        );
      }),
    ]);
    return Array.isArray(answer) ? answer.filter(isService) : [];
  } finally {
    clearTimeout(timer);
    await conn.close();
  }
}

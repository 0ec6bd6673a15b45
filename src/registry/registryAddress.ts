/** The TCP port a RegistryServer listens on unless told otherwise (RPyC's registry port). */
export const REGISTRY_PORT = 18811;

/**
 * Parses `registry: 'host:port'` (`[::1]:18811` for IPv6; the port may be left out for 18811). Throws a TypeError
 * naming what is wrong.
 */
export function registryAddress(address: string): { host: string; port: number } {
  if (typeof address !== 'string' || address === '') {
    throw new TypeError(`registry: expected 'host:port', got ${JSON.stringify(address)}`);
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(address.replace(/^tcp:\/\//, ''));
  const port = m?.[3] === undefined ? REGISTRY_PORT : Number(m[3]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`registry: expected 'host:port' with a port from 1 to 65535, got ${JSON.stringify(address)}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

import os from 'node:os';

/** The DNS-SD service type netref announces under (DESIGN §7): `_netref._tcp`. bonjour-service adds `_` and `._tcp`. */
export const SERVICE_TYPE = 'netref';

/** The name browsers ask for: its PTR records list every netref instance on the link. */
export const SERVICE_DOMAIN = '_netref._tcp.local';

/** DNS names compare case-insensitively and may come with a trailing dot: one spelling for map keys. */
export function dnsKey(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** The instance part of `Instance Name._netref._tcp.local`, or undefined when the name is not a netref instance. */
export function instanceOf(fqdn: string): string | undefined {
  const name = fqdn.replace(/\.$/, '');
  const suffix = `.${SERVICE_DOMAIN}`;
  if (name.length <= suffix.length || name.slice(-suffix.length).toLowerCase() !== suffix) return undefined;
  return name.slice(0, -suffix.length);
}

/** `host` (default: this machine's host name) as an mDNS host name, with `.local` (RFC 6762 §3). */
export function localHostName(host: string = os.hostname()): string {
  const bare = host.replace(/\.$/, '');
  return /\.local$/i.test(bare) ? bare : `${bare.split('.')[0]}.local`;
}

/** The longest instance name DNS allows (one label, RFC 6763 §4.1.1), in UTF-8 bytes. */
export const MAX_INSTANCE_BYTES = 63;

/**
 * `base`, or `base (n)` for n ≥ 2: the names tried one after the other when an instance name is taken (as macOS does),
 * cut so that the suffix always fits in one DNS label. Dots become `-`, as bonjour-service would make them anyway.
 */
export function instanceCandidate(base: string, n: number): string {
  const suffix = n > 1 ? ` (${n})` : '';
  let stem = base.replace(/\./g, '-');
  while (Buffer.byteLength(stem + suffix) > MAX_INSTANCE_BYTES) stem = stem.slice(0, -1);
  return stem + suffix;
}

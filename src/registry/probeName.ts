import { DiscoveryError } from '../core/index.js';
import type { MdnsLink, MdnsPacket } from './MdnsLink.js';
import { dnsKey, instanceCandidate, SERVICE_DOMAIN } from './mdnsNames.js';

/** RFC 6762 §8.1: three probes, 250 ms apart. */
const PROBES = 3;
const PROBE_GAP = 250;
/** Names tried before giving up: `NAME`, `NAME (2)` … `NAME (20)`. */
const MAX_CANDIDATES = 20;

/** Whether anyone on the link answers for `fqdn` while it is probed. */
function taken(link: MdnsLink, fqdn: string): Promise<boolean> {
  const key = dnsKey(fqdn);
  return new Promise((resolve) => {
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: boolean) => {
      clearTimeout(timer);
      link.off('response', onResponse);
      resolve(result);
    };
    const onResponse = (packet: MdnsPacket) => {
      const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
      if (records.some((rr) => typeof rr?.name === 'string' && dnsKey(rr.name) === key && (rr.ttl ?? 1) > 0)) {
        finish(true);
      }
    };
    const probe = () => {
      if (sent++ >= PROBES) return finish(false);
      // A failed send is reported on the link; the announcement that follows meets the same failure and reports it.
      link.query([{ name: fqdn, type: 'ANY' }]).catch(() => {});
      timer = setTimeout(probe, PROBE_GAP);
    };
    link.on('response', onResponse);
    probe();
  });
}

/**
 * Picks an instance name nobody on the link uses: `base` if free, else `base (2)`, `base (3)`… (bonjour-service
 * only logs a conflict and leaves the service unpublished). Takes about 750 ms per name tried.
 * Rejects with DiscoveryError when the first twenty are all taken.
 */
export async function probeName(link: MdnsLink, base: string, skip: ReadonlySet<string> = new Set()): Promise<string> {
  for (let n = 1; n <= MAX_CANDIDATES; n++) {
    const candidate = instanceCandidate(base, n);
    if (skip.has(dnsKey(candidate))) continue;
    if (!(await taken(link, `${candidate}.${SERVICE_DOMAIN}`))) return candidate;
  }
  throw new DiscoveryError(
    `the instance names '${base}' to '${instanceCandidate(base, MAX_CANDIDATES)}' are all taken`,
  );
}

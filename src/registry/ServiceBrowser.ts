import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { DiscoveredService } from './DiscoveredService.js';
import type { MdnsLink, MdnsPacket, MdnsSource } from './MdnsLink.js';
import { dnsKey, instanceOf, SERVICE_DOMAIN } from './mdnsNames.js';
import { RecordCache, type CachedRecord } from './RecordCache.js';
import { parseTxt, txtNames } from './txtRecord.js';

/** How long to wait for the rest of a split answer before asking for the missing records ourselves. */
const RESOLVE_DELAY = 150;
/** Times a missing record is asked for, and the least time between two asks. */
const RESOLVE_TRIES = 3;
const RESOLVE_GAP = 400;

/** Link-local IPv6 without a zone cannot be connected to: such addresses go last. */
function rank(address: string, source: string): number {
  if (address === source) return 0;
  if (isIPv4(address)) return 1;
  return /^fe80:/i.test(address) && !address.includes('%') ? 3 : 2;
}

/**
 * Browses `_netref._tcp` on one MdnsLink, resolving what bonjour-service's own browser gets wrong:
 * - a PTR that comes without its SRV/TXT (split over packets, or a responder that sends only answers): the missing
 *   records are asked for by name, a few times;
 * - an SRV whose host's A/AAAA records are missing: they are asked for, and until they come the address the answer
 *   came from stands in, so `addresses` is never empty;
 * - two hosts answering for the same host name (containers and network namespaces share one): each instance takes
 *   the addresses its own responder sent;
 * - goodbyes and TTLs: a record with TTL 0 removes its match, expired records are dropped (RecordCache).
 *
 * Events: `found` (DiscoveredService), the first time an instance is complete (SRV and TXT known).
 */
export class ServiceBrowser extends EventEmitter {
  readonly #link: MdnsLink;
  readonly #cache: RecordCache;
  readonly #found = new Set<string>();
  readonly #asked = new Map<string, { tries: number; at: number }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #requeryDelay = 1000;
  #onResponse = (packet: MdnsPacket, source: MdnsSource) => this.#take(packet, source);
  #stopped = false;

  constructor(link: MdnsLink) {
    super();
    this.#link = link;
    this.#cache = new RecordCache();
  }

  /** Starts listening and sends the first query. Rejects with DiscoveryError when the query cannot be sent. */
  async start(): Promise<void> {
    this.#link.on('response', this.#onResponse);
    await this.#link.query([{ name: SERVICE_DOMAIN, type: 'PTR' }]);
    this.#scheduleRequery();
  }

  /** Stops listening and asking; the socket is the caller's to close. */
  stop(): void {
    this.#stopped = true;
    this.#link.off('response', this.#onResponse);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** The complete, live instances heard so far (those that said goodbye or expired are left out). */
  services(): DiscoveredService[] {
    const out: DiscoveredService[] = [];
    for (const ptr of this.#cache.get(SERVICE_DOMAIN, 'PTR')) {
      const service = this.#build(String(ptr.data));
      if (service && !out.some((s) => dnsKey(s.name) === dnsKey(service.name))) out.push(service);
    }
    return out;
  }

  #later(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopped) fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Asks again after 1 s, 2 s, 4 s… (RFC 6762 §5.2): a lost packet or a late responder still gets heard. */
  #scheduleRequery(): void {
    this.#later(this.#requeryDelay, () => {
      this.#requeryDelay *= 2;
      this.#ask([{ name: SERVICE_DOMAIN, type: 'PTR' }]);
      this.#scheduleRequery();
    });
  }

  /** Sends a query whose failure is reported on the link (as a `problem`), not thrown. */
  #ask(questions: { name: string; type: string }[]): void {
    this.#link.query(questions).catch(() => {});
  }

  #take(packet: MdnsPacket, source: MdnsSource): void {
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].filter(
      (rr) => rr && typeof rr.name === 'string',
    );
    const from = source.address;
    let changed = false;
    for (const rr of records) {
      if (rr.type === 'PTR' && dnsKey(rr.name) === SERVICE_DOMAIN && typeof rr.data === 'string') {
        changed = this.#cache.add(rr, from) || changed;
      } else if ((rr.type === 'SRV' || rr.type === 'TXT') && instanceOf(rr.name)) {
        changed = this.#cache.add(rr, from) || changed;
      }
    }
    const addresses = records.filter((rr) => rr.type === 'A' || rr.type === 'AAAA');
    if (addresses.length) {
      const targets = new Set<string>();
      for (const ptr of this.#cache.get(SERVICE_DOMAIN, 'PTR')) {
        for (const srv of this.#cache.get(String(ptr.data), 'SRV')) targets.add(dnsKey(String(srv.data?.target)));
      }
      for (const rr of addresses) if (targets.has(dnsKey(rr.name))) changed = this.#cache.add(rr, from) || changed;
    }
    // A packet that only repeats what is known (a responder's periodic announcement) completes nothing new.
    if (changed) this.#check();
  }

  /** Emits what became complete; asks for what is still missing once the rest of a split answer had its chance. */
  #check(): void {
    for (const ptr of this.#cache.get(SERVICE_DOMAIN, 'PTR')) {
      const fqdn = String(ptr.data);
      const service = this.#build(fqdn);
      if (!service) {
        this.#resolveLater(fqdn, () => {
          const missing = ['SRV', 'TXT'].filter((type) => this.#cache.get(fqdn, type).length === 0);
          return missing.map((type) => ({ name: fqdn, type }));
        });
        continue;
      }
      const target = service.host;
      this.#resolveLater(target, () => {
        const a = this.#cache.get(target, 'A').length + this.#cache.get(target, 'AAAA').length;
        return a
          ? []
          : [
              { name: target, type: 'A' },
              { name: target, type: 'AAAA' },
            ];
      });
      const key = dnsKey(fqdn);
      if (!this.#found.has(key)) {
        this.#found.add(key);
        this.emit('found', service);
      }
    }
  }

  #resolveLater(name: string, missing: () => { name: string; type: string }[]): void {
    const key = dnsKey(name);
    const asked = this.#asked.get(key) ?? { tries: 0, at: -Infinity };
    if (asked.tries >= RESOLVE_TRIES || missing().length === 0) return;
    const wait = Math.max(RESOLVE_DELAY, asked.at + RESOLVE_GAP - Date.now());
    asked.tries++;
    asked.at = Date.now() + wait;
    this.#asked.set(key, asked);
    this.#later(wait, () => {
      const questions = missing();
      if (questions.length) this.#ask(questions);
      // The answer may never come: look again after the gap, while tries remain.
      this.#later(RESOLVE_GAP, () => this.#check());
    });
  }

  /** The instance as far as the cache knows it, or undefined while its SRV or TXT is missing. */
  #build(fqdn: string): DiscoveredService | undefined {
    const name = instanceOf(fqdn);
    const srv = this.#cache.get(fqdn, 'SRV')[0];
    const txtRecord = this.#cache.get(fqdn, 'TXT')[0];
    if (!name || !srv || !txtRecord) return undefined;
    const host = String(srv.data?.target ?? '').replace(/\.$/, '');
    const port = Number(srv.data?.port);
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    const all: CachedRecord[] = [...this.#cache.get(host, 'A'), ...this.#cache.get(host, 'AAAA')];
    const own = all.filter((r) => r.source === srv.source);
    // The answer's source address is always on this link, so it is always included, and first.
    const addresses = [...new Set([...(own.length ? own : all).map((r) => String(r.data)), srv.source])];
    addresses.sort((a, b) => rank(a, srv.source) - rank(b, srv.source));
    const txt = parseTxt(txtRecord.data);
    return { name, names: txtNames(txt), host, port, addresses, txt };
  }
}

import { isIP } from 'node:net';
import { currentCall, Service } from '../core/index.js';
import type { DiscoveredService } from './DiscoveredService.js';
import { matchService } from './matchService.js';
import { txtNames } from './txtRecord.js';

/** What a server registers: its announcement, as `discover` would have found it over mDNS. */
export interface RegistryEntry {
  /** Instance name, e.g. `CALCULATOR on box`. */
  name: string;
  host: string;
  port: number;
  /** Addresses the server knows for itself; the registry puts the one it was reached from first. */
  addresses?: string[];
  /** The TXT record (`names`, `v`, `auth`, `pk`). */
  txt: Record<string, string>;
}

/** Options of a RegistryService (and of RegistryServer). */
export interface RegistryServiceOptions {
  /** A registration not renewed within this many ms is dropped. Default 30000. */
  pruneAfter?: number;
  /** Registrations held at once; more are refused. Default 4096. */
  maxEntries?: number;
}

interface Held extends DiscoveredService {
  owner: string;
  expiresAt: number;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function check(ok: boolean, what: string): void {
  if (!ok) throw new TypeError(`register: ${what}`);
}

function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.)/, '');
}

/**
 * The unicast registry (DESIGN §7), for networks that block multicast: servers `register` what they would have
 * announced and renew it every so often; clients `query` it. A registration that is not renewed within `pruneAfter`
 * ms is dropped (its server died or lost the network); `unregister` drops one at once, from the host that made it.
 *
 * Served by RegistryServer, or by any netref server (`new Server(new RegistryService())`) for auth or TLS.
 * Every argument is checked (a bad one throws a TypeError back to the caller); answers are plain data.
 */
export class RegistryService extends Service {
  static override serviceName = 'REGISTRY';
  readonly pruneAfter: number;
  readonly maxEntries: number;
  #entries = new Map<string, Held>();

  constructor(options: RegistryServiceOptions = {}) {
    super();
    this.pruneAfter = options.pruneAfter ?? 30_000;
    this.maxEntries = options.maxEntries ?? 4096;
    if (!(this.pruneAfter > 0)) throw new RangeError('pruneAfter must be a positive number of ms');
  }

  /**
   * Adds or renews a registration. Returns its id (for `unregister`) and how often to renew it (`pruneAfter`).
   * The address the caller reached the registry from is listed first among the addresses.
   */
  register(entry: RegistryEntry): { id: string; pruneAfter: number } {
    check(!!entry && typeof entry === 'object', 'expected { name, host, port, txt, addresses? }');
    const { name, host, port, txt } = entry;
    check(typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= 63, 'name: 1 to 63 bytes');
    check(typeof host === 'string' && host.length > 0 && host.length <= 255, 'host: a host name');
    check(Number.isInteger(port) && port >= 1 && port <= 65535, 'port: 1 to 65535');
    check(!!txt && typeof txt === 'object' && !Array.isArray(txt), 'txt: an object of strings');
    const txtEntries = Object.entries(txt);
    check(txtEntries.length <= 32, 'txt: at most 32 entries');
    for (const [k, v] of txtEntries) {
      check(typeof v === 'string' && Buffer.byteLength(`${k}=${v}`) <= 255, `txt.${k}: a string, at most 255 bytes`);
    }
    const claimed = entry.addresses ?? [];
    check(Array.isArray(claimed) && claimed.length <= 16, 'addresses: at most 16');
    for (const a of claimed)
      check(typeof a === 'string' && isIP(a) !== 0, `addresses: ${JSON.stringify(a)} is not an IP`);

    const owner = plainAddress(currentCall().connection.peer.address);
    this.#prune();
    const id = `${owner}|${port}|${name.toLowerCase()}`;
    if (!this.#entries.has(id) && this.#entries.size >= this.maxEntries) {
      throw new RangeError(`the registry is full (${this.maxEntries} registrations)`);
    }
    const addresses = [...new Set([owner, ...claimed].filter(Boolean))];
    const cleanTxt = Object.fromEntries(txtEntries.map(([k, v]) => [k.toLowerCase(), v]));
    this.#entries.set(id, {
      name,
      names: txtNames(cleanTxt),
      host,
      port,
      addresses,
      txt: cleanTxt,
      owner,
      expiresAt: Date.now() + this.pruneAfter,
    });
    return { id, pruneAfter: this.pruneAfter };
  }

  /** Drops a registration made from the caller's host. Returns whether there was one. */
  unregister(id: string): boolean {
    const held = typeof id === 'string' ? this.#entries.get(id) : undefined;
    if (!held || held.owner !== plainAddress(currentCall().connection.peer.address)) return false;
    return this.#entries.delete(id);
  }

  /** Every live registration, whatever its name or protocol version. */
  list(): DiscoveredService[] {
    return this.query(undefined, true);
  }

  /**
   * The live registrations `discover(name, { all })` would return: matching `name` (any, if left out) and speaking
   * this protocol major unless `all`. A caller on another host is not given loopback addresses, which would lead
   * it to itself.
   */
  query(name?: string | null, all?: boolean): DiscoveredService[] {
    this.#prune();
    let remote = true;
    try {
      remote = !LOOPBACK.test(plainAddress(currentCall().connection.peer.address));
    } catch {
      // called locally (not over netref): every address is useful
      remote = false;
    }
    const out: DiscoveredService[] = [];
    for (const e of this.#entries.values()) {
      if (!matchService(e, name ?? undefined, all === true)) continue;
      const addresses = remote ? e.addresses.filter((a) => !LOOPBACK.test(a)) : e.addresses;
      out.push({ name: e.name, names: [...e.names], host: e.host, port: e.port, addresses, txt: { ...e.txt } });
    }
    return out;
  }

  #prune(): void {
    const now = Date.now();
    for (const [id, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(id);
  }
}

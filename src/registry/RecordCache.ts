import { dnsKey } from './mdnsNames.js';
import type { MdnsRecord } from './MdnsLink.js';

/** A record held in the cache, with where and when it was heard. */
export interface CachedRecord {
  name: string;
  type: string;
  data: any;
  /** The address of the host whose packet carried it. */
  source: string;
  receivedAt: number;
  expiresAt: number;
}

/** A bound on what one browse keeps, so that a flood of answers cannot grow it without end. */
const MAX_RECORDS = 4096;

function dataKey(data: unknown): string {
  if (Array.isArray(data)) return data.map((d) => Buffer.from(d as Uint8Array).toString('base64')).join(',');
  if (data && typeof data === 'object') {
    const srv = data as { target?: string; port?: number };
    return `${dnsKey(String(srv.target ?? ''))}:${srv.port ?? ''}`;
  }
  return typeof data === 'string' ? dnsKey(data) : String(data);
}

/**
 * The records one browse has heard, as RFC 6762 §10 says to keep them: each lives for its TTL; a record with TTL 0
 * is a goodbye and removes its match at once (so a service that said goodbye is never returned); a record with the
 * cache-flush bit replaces the older records of its name and type (those heard more than a second before).
 *
 * Kept by name and type, so that what a packet costs depends on the names it carries, not on everything heard so
 * far: a browser looks records up several times per instance for every packet.
 */
export class RecordCache {
  /** `${type} ${name}` → the records of that name and type, by their data. */
  #groups = new Map<string, Map<string, CachedRecord>>();
  #count = 0;
  #lastSweep = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one record from a packet sent by `source`. Returns true when it changed what the cache holds. */
  add(rr: MdnsRecord, source: string): boolean {
    const name = dnsKey(rr.name);
    const groupKey = `${rr.type} ${name}`;
    const key = dataKey(rr.data);
    const now = this.now();
    const ttl = rr.ttl ?? 0;
    let group = this.#groups.get(groupKey);
    if (ttl <= 0) return group ? this.#delete(groupKey, group, key) : false;
    let changed = false;
    if (group && rr.flush) {
      for (const [k, r] of group) {
        if (r.receivedAt < now - 1000) changed = this.#delete(groupKey, group, k) || changed;
      }
    }
    const known = group?.has(key) ?? false;
    if (!known && this.#count >= MAX_RECORDS && !this.#sweep(now)) return changed;
    if (!group || !this.#groups.has(groupKey)) this.#groups.set(groupKey, (group = new Map()));
    group.set(key, { name, type: rr.type, data: rr.data, source, receivedAt: now, expiresAt: now + ttl * 1000 });
    if (!known) this.#count++;
    return changed || !known;
  }

  /** The live records of a name and type, most recently heard first. Expired ones are dropped on the way. */
  get(name: string, type: string): CachedRecord[] {
    const groupKey = `${type} ${dnsKey(name)}`;
    const group = this.#groups.get(groupKey);
    if (!group) return [];
    const now = this.now();
    const out: CachedRecord[] = [];
    for (const [k, r] of group) {
      if (r.expiresAt <= now) this.#delete(groupKey, group, k);
      else out.push(r);
    }
    return out.sort((a, b) => b.receivedAt - a.receivedAt);
  }

  #delete(groupKey: string, group: Map<string, CachedRecord>, key: string): boolean {
    if (!group.delete(key)) return false;
    this.#count--;
    if (group.size === 0) this.#groups.delete(groupKey);
    return true;
  }

  /**
   * Drops every expired record, at most once a second: a full cache still takes new records once old ones expire,
   * and a flood that keeps it full costs one pass a second, not one per record. True if room was made.
   */
  #sweep(now: number): boolean {
    if (now - this.#lastSweep < 1000) return false;
    this.#lastSweep = now;
    for (const [groupKey, group] of this.#groups) {
      for (const [k, r] of group) if (r.expiresAt <= now) this.#delete(groupKey, group, k);
    }
    return this.#count < MAX_RECORDS;
  }
}

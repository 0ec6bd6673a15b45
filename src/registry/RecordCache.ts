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
 */
export class RecordCache {
  #records = new Map<string, CachedRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one record from a packet sent by `source`. Returns true when it changed what the cache holds. */
  add(rr: MdnsRecord, source: string): boolean {
    const name = dnsKey(rr.name);
    const key = `${rr.type} ${name} ${dataKey(rr.data)}`;
    const now = this.now();
    const ttl = rr.ttl ?? 0;
    if (ttl <= 0) return this.#records.delete(key);
    if (rr.flush) {
      for (const [k, r] of this.#records) {
        if (r.type === rr.type && r.name === name && r.receivedAt < now - 1000) this.#records.delete(k);
      }
    }
    const known = this.#records.has(key);
    if (!known && this.#records.size >= MAX_RECORDS) return false;
    this.#records.set(key, {
      name,
      type: rr.type,
      data: rr.data,
      source,
      receivedAt: now,
      expiresAt: now + ttl * 1000,
    });
    return !known;
  }

  /** The live records of a name and type, most recently heard first. Expired ones are dropped on the way. */
  get(name: string, type: string): CachedRecord[] {
    const key = dnsKey(name);
    const now = this.now();
    const out: CachedRecord[] = [];
    for (const [k, r] of this.#records) {
      if (r.expiresAt <= now) this.#records.delete(k);
      else if (r.type === type && r.name === key) out.push(r);
    }
    return out.sort((a, b) => b.receivedAt - a.receivedAt);
  }

  get size(): number {
    return this.#records.size;
  }
}

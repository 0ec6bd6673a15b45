// The mDNS record cache a browse keeps (src/registry/RecordCache.ts), on a fake clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordCache } from '../src/registry/RecordCache.js';

const ptr = (data: string, ttl = 120, flush = false) => ({ name: '_netref._tcp.local', type: 'PTR', ttl, data, flush });

describe('RecordCache', () => {
  it('keeps records per name and type for their TTL, newest first; a goodbye removes its match', () => {
    let now = 0;
    const cache = new RecordCache(() => now);
    assert.equal(cache.add(ptr('a._netref._tcp.local'), '10.0.0.1'), true);
    now = 10;
    assert.equal(cache.add(ptr('b._netref._tcp.local'), '10.0.0.2'), true);
    assert.equal(cache.add(ptr('b._netref._tcp.local'), '10.0.0.2'), false, 'a refresh changes nothing');
    assert.deepEqual(
      cache.get('_NETREF._tcp.local.', 'PTR').map((r) => r.data),
      ['b._netref._tcp.local', 'a._netref._tcp.local'],
    );
    assert.deepEqual(cache.get('_netref._tcp.local', 'SRV'), []);
    assert.equal(cache.add(ptr('a._netref._tcp.local', 0), '10.0.0.1'), true);
    assert.deepEqual(
      cache.get('_netref._tcp.local', 'PTR').map((r) => r.data),
      ['b._netref._tcp.local'],
    );
    now = 10 + 121_000;
    assert.deepEqual(cache.get('_netref._tcp.local', 'PTR'), [], 'expired');
  });

  it('a record with the cache-flush bit replaces the older records of its name and type', () => {
    let now = 0;
    const cache = new RecordCache(() => now);
    cache.add(ptr('a._netref._tcp.local'), 'x');
    now = 2000;
    assert.equal(cache.add(ptr('b._netref._tcp.local', 120, true), 'x'), true);
    assert.deepEqual(
      cache.get('_netref._tcp.local', 'PTR').map((r) => r.data),
      ['b._netref._tcp.local'],
    );
  });

  it('holds at most 4096 records, and takes new ones again once old ones expired', () => {
    let now = 0;
    const cache = new RecordCache(() => now);
    for (let i = 0; i < 4096; i++) assert.equal(cache.add(ptr(`s${i}._netref._tcp.local`, 10), 'x'), true);
    assert.equal(cache.add(ptr('one-more._netref._tcp.local'), 'x'), false, 'full');
    assert.equal(cache.get('_netref._tcp.local', 'PTR').length, 4096);
    now = 11_000; // all of them expired, none looked up since
    assert.equal(cache.add(ptr('one-more._netref._tcp.local'), 'x'), true);
    assert.deepEqual(
      cache.get('_netref._tcp.local', 'PTR').map((r) => r.data),
      ['one-more._netref._tcp.local'],
    );
  });
});

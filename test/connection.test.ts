import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConnectionClosedError,
  Service,
  VoidService,
  serviceNames,
  type Connection,
  type Remote,
} from '../src/index.js';
import { pair, within } from './support/pair.js';

class Ping extends Service {
  depth = 0;
  /** A calls B calls A ... n levels deep. */
  async bounce(peer: Remote<Ping>, n: number): Promise<number> {
    if (n === 0) return 0;
    return 1 + (await peer.bounce(peer, n - 1));
  }
  hang(): Promise<never> {
    return new Promise(() => {});
  }
  value() {
    return 'v';
  }
}

describe('connections', () => {
  it('is symmetric: both ends expose a root and call each other at the same time', async () => {
    const p = await pair({ service: Ping }, { service: Ping });
    const [x, y] = await Promise.all([(p.a.root as Remote<Ping>).value(), (p.b.root as Remote<Ping>).value()]);
    assert.deepEqual([x, y], ['v', 'v']);
    await p.close();
  });

  it('nests calls both ways to any depth without deadlock', async () => {
    const p = await pair({ service: Ping }, { service: Ping });
    // b asks a to bounce back to b (via the netref of b's root that a holds), 50 levels deep
    const aRoot = p.b.root as Remote<Ping>;
    const bRootSeenByA = p.a.root as Remote<Ping>;
    assert.equal(await aRoot.bounce(bRootSeenByA as any, 50), 50);
    await p.close();
  });

  it('publish and lookup, pipelined', async () => {
    const p = await pair({ service: VoidService });
    p.a.publish('db', { query: (n: number) => n * 10, name: 'main' });
    assert.equal(await p.b.lookup('db').query(4), 40);
    assert.equal(await p.b.lookup('db').name, 'main');
    await assert.rejects(Promise.resolve(p.b.lookup('nope')), {
      name: 'AttributeError',
      message: /nothing is published under the name 'nope'/,
    });
    await p.close();
  });

  it('ping and measureClockDiff', async () => {
    const p = await pair();
    const rtt = await p.b.ping();
    assert.ok(rtt >= 0 && rtt < 1000);
    const diff = await p.b.measureClockDiff();
    assert.ok(Math.abs(diff) < 50, `same machine, clock diff ${diff}`);
    await p.close();
  });

  it('close rejects every pending call on both ends and resolves closed with the reasons', async () => {
    const p = await pair({ service: Ping }, { service: Ping });
    const fromB = Promise.resolve((p.b.root as Remote<Ping>).hang());
    const fromA = Promise.resolve((p.a.root as Remote<Ping>).hang());
    await new Promise((r) => setImmediate(r));
    const events: unknown[] = [];
    p.a.on('close', (r) => events.push(r));
    await p.b.close();
    await assert.rejects(fromB, ConnectionClosedError);
    await assert.rejects(fromA, ConnectionClosedError);
    assert.equal(await p.b.closed, undefined);
    const reason = await within(p.a.closed, 2000, 'a closed');
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /peer closed/);
    assert.equal(events.length, 1);
    assert.equal(p.a.isClosed, true);
  });

  it('netrefs of a closed connection fail at once with ConnectionClosedError', async () => {
    const p = await pair({ service: Ping });
    const root = p.b.root as Remote<Ping>;
    await p.close();
    const started = Date.now();
    await assert.rejects(Promise.resolve(root.value()), ConnectionClosedError);
    await assert.rejects(Promise.resolve(p.b.ping()), ConnectionClosedError);
    assert.ok(Date.now() - started < 500);
  });

  it('close is idempotent and Symbol.asyncDispose closes', async () => {
    const p = await pair();
    let conn: Connection;
    {
      await using c = p.b;
      conn = c;
    }
    assert.equal(conn.isClosed, true);
    await p.b.close();
    await p.a.close();
  });

  it('calls onConnect and onDisconnect of the service, never reachable remotely', async () => {
    const seen: string[] = [];
    class Hooked extends Service {
      override onConnect(conn: Connection) {
        seen.push(`connect ${typeof conn.id}`);
      }
      override onDisconnect() {
        seen.push('disconnect');
      }
    }
    const p = await pair({ service: Hooked });
    await p.b.ping();
    assert.deepEqual(seen, ['connect string']);
    await assert.rejects(Promise.resolve((p.b.root as any).onConnect(null)), { name: 'AttributeError' });
    await p.close();
    assert.deepEqual(seen, ['connect string', 'disconnect']);
  });

  it('a service class gives one instance per connection; an instance is shared', async () => {
    class Counter extends Service {
      n = 0;
      inc() {
        return ++this.n;
      }
    }
    const p1 = await pair({ service: Counter });
    const p2 = await pair({ service: Counter });
    await (p1.b.root as Remote<Counter>).inc();
    assert.equal(await (p2.b.root as Remote<Counter>).inc(), 1);
    const shared = new Counter();
    const p3 = await pair({ service: shared });
    const p4 = await pair({ service: shared });
    await (p3.b.root as Remote<Counter>).inc();
    assert.equal(await (p4.b.root as Remote<Counter>).inc(), 2);
    await Promise.all([p1.close(), p2.close(), p3.close(), p4.close()]);
  });

  it('derives service names from the class, with aliases and an override', () => {
    class CalculatorService extends Service {
      static override aliases = ['calc'];
    }
    class Other extends Service {
      static override serviceName = 'NAMED';
    }
    assert.deepEqual(serviceNames(CalculatorService), ['CALCULATOR', 'CALC']);
    assert.deepEqual(serviceNames(new CalculatorService()), ['CALCULATOR', 'CALC']);
    assert.deepEqual(serviceNames(Other), ['NAMED']);
  });

  it('rejects an unknown protocolConfig key, naming it', async () => {
    await assert.rejects(pair({ protocolConfig: { maxDeph: 3 } as any }), /no key 'maxDeph'/);
  });

  it('exposes the peer info and config', async () => {
    const p = await pair();
    assert.equal(p.a.peer.transport, 'memory');
    assert.equal(p.a.config.maxDepth, 128);
    assert.equal(p.a.config.syncRequestTimeout, 30000);
    await p.close();
  });
});

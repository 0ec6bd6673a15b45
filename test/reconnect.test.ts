// connect(..., { reconnect }): a client that dials again after a break (issue 7, reliability).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { backoffDelay } from '../src/connect/index.js';
import {
  connect,
  ConnectionClosedError,
  Server,
  Service,
  type ReconnectingConnection,
  type ReconnectOptions,
} from '../src/index.js';
import { within } from './support/pair.js';
import { startPeer } from './support/peerProcess.js';

interface Peer {
  add(a: number, b: number): Promise<number>;
  hang(): Promise<never>;
  hangCalls(): Promise<number>;
  make(n: number): Promise<{ get(): Promise<number> }>;
}

class Calc extends Service {
  add(a: number, b: number) {
    return a + b;
  }
}

/** A port nothing listens on (for now). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Records every state-change event of `rc`, in order. */
function record(rc: ReconnectingConnection): unknown[][] {
  const events: unknown[][] = [];
  rc.on('disconnected', (reason: Error) => events.push(['disconnected', reason]));
  rc.on('reconnecting', (attempt: number, delay: number) => events.push(['reconnecting', attempt, delay]));
  rc.on('reconnected', () => events.push(['reconnected']));
  rc.on('close', (reason: Error | undefined) => events.push(['close', reason]));
  return events;
}

/** An in-process server of Calc on 127.0.0.1, and a reconnecting client of it. */
async function calcAndClient(reconnect: ReconnectOptions) {
  const server = new Server(Calc, { host: '127.0.0.1', port: 0, heartbeat: false });
  await server.start();
  const rc = await connect('127.0.0.1', server.port!, { reconnect });
  return { server, rc, events: record(rc) };
}

describe('reconnect', () => {
  it('the server process restarts on the same port: root works again, nothing is resent, old netrefs stay dead', async (t) => {
    const first = await startPeer();
    t.after(() => first.kill());
    const port = first.port;
    const rc = await connect('127.0.0.1', port, { reconnect: { initialDelay: 20, maxDelay: 200 } });
    t.after(() => rc.close());
    const events = record(rc);
    const oldRoot = rc.root as Peer;
    const item = await oldRoot.make(7);
    assert.equal(await item.get(), 7);
    const inflight = oldRoot.hang();
    assert.equal(await oldRoot.add(1, 2), 3); // the hang() request has reached the peer
    assert.equal(await oldRoot.hangCalls(), 1);

    const disconnected = once(rc, 'disconnected');
    await first.kill();
    await within(
      assert.rejects(Promise.resolve(inflight), ConnectionClosedError),
      1000,
      'the call in flight to reject',
    );
    await within(disconnected, 2000, 'disconnected');
    assert.equal(rc.state, 'reconnecting');
    assert.equal(rc.isClosed, false);
    // While reconnecting, calls fail at once instead of waiting.
    await assert.rejects(Promise.resolve((rc.root as Peer).add(1, 1)), ConnectionClosedError);

    const reconnected = once(rc, 'reconnected');
    const second = await startPeer(port);
    t.after(() => second.kill());
    await within(reconnected, 10_000, 'reconnected');
    assert.equal(rc.state, 'connected');
    const root = rc.root as Peer;
    assert.notEqual(root, oldRoot);
    assert.equal(await root.add(2, 3), 5);
    assert.equal(await root.hangCalls(), 0, 'the call cut off by the break was resent');
    await assert.rejects(Promise.resolve(oldRoot.add(1, 1)), ConnectionClosedError);
    await assert.rejects(Promise.resolve(item.get()), ConnectionClosedError);

    const kinds = events.map((e) => e[0]);
    assert.equal(kinds[0], 'disconnected');
    assert.ok(events[0]![1] instanceof Error);
    assert.equal(kinds.at(-1), 'reconnected');
    const attempts = events.filter((e) => e[0] === 'reconnecting').map((e) => e[1]);
    assert.deepEqual(
      attempts,
      attempts.map((_, i) => i + 1),
    );
    assert.ok(attempts.length >= 1);

    const closed = once(rc, 'close');
    await rc.close();
    assert.deepEqual(await closed, [undefined]);
    assert.equal(await rc.closed, undefined);
    assert.equal(rc.isClosed, true);
  });

  it('backoff grows by factor, is jittered within bounds and capped by maxDelay', () => {
    const o = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.25, maxAttempts: Infinity };
    assert.equal(
      backoffDelay(o, 1, () => 0.5),
      100,
    );
    assert.equal(
      backoffDelay(o, 3, () => 0.5),
      400,
    );
    assert.equal(
      backoffDelay(o, 1, () => 0),
      75,
    );
    assert.equal(
      backoffDelay(o, 1, () => 1),
      125,
    );
    assert.equal(
      backoffDelay(o, 10, () => 1),
      1000,
    );
    for (let attempt = 1; attempt <= 8; attempt++) {
      const base = Math.min(100 * 2 ** (attempt - 1), 1000);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(o, attempt);
        assert.ok(d >= Math.min(base * 0.75, 1000) && d <= Math.min(base * 1.25, 1000), `attempt ${attempt}: ${d}`);
      }
    }
  });

  it('gives up after maxAttempts with a close event, and the waits follow the jittered backoff', async () => {
    const reconnect = { initialDelay: 10, factor: 2, jitter: 0.5, maxDelay: 50, maxAttempts: 4 };
    const { server, rc, events } = await calcAndClient(reconnect);
    assert.equal(await (rc.root as Peer).add(1, 1), 2);
    const closed = once(rc, 'close');
    await server.close();
    const [reason] = (await within(closed, 5000, 'the close event')) as [Error];
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /gave up reconnecting after 4 attempts/);
    assert.ok(reason.cause instanceof Error, 'the cause is the last dial error');
    assert.equal(await rc.closed, reason);
    assert.equal(rc.state, 'closed');
    const waits = events.filter((e) => e[0] === 'reconnecting');
    assert.deepEqual(
      waits.map((e) => e[1]),
      [1, 2, 3, 4],
    );
    waits.forEach(([, attempt, delay]) => {
      const base = 10 * 2 ** ((attempt as number) - 1);
      assert.ok((delay as number) >= Math.min(base * 0.5, 50) && (delay as number) <= Math.min(base * 1.5, 50));
    });
    assert.deepEqual(
      events.map((e) => e[0]),
      ['disconnected', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'close'],
    );
  });

  it('close() while waiting to reconnect leaves no timer and no dial', async () => {
    const { server, rc, events } = await calcAndClient({ initialDelay: 60_000 });
    const waiting = once(rc, 'reconnecting');
    await server.close();
    await within(waiting, 5000, 'the reconnecting event');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await rc.close();
    assert.equal(timers(), before - 1, 'the reconnect timer is still there');
    assert.equal(rc.state, 'closed');
    assert.deepEqual(
      events.map((e) => e[0]),
      ['disconnected', 'reconnecting', 'close'],
    );
    assert.equal(await rc.closed, undefined);
  });

  it('the first dial is not retried: it rejects as a plain connect does', async () => {
    const port = await freePort();
    await assert.rejects(connect('127.0.0.1', port, { reconnect: { initialDelay: 10 } }), /ECONNREFUSED/);
  });

  it('rejects bad options before dialling', async () => {
    await assert.rejects(connect('127.0.0.1', 1, { reconnect: { factor: 0.5 } }), RangeError);
    await assert.rejects(connect('127.0.0.1', 1, { reconnect: { maxAttempts: 0 } }), RangeError);
  });
});

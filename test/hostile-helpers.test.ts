// Hostile peers against the requests behind the helpers: DESCRIBE, ITERATE and GET with COPY.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelPair, connectChannel, describe as describeRemote, NetrefError, obtain, Service } from '../src/index.js';
import { decode, encode, Flags, IterateAction, MessageKind as K, Tag, Tagged } from '../src/protocol/index.js';
import { ForwardingChannel } from './support/ForwardingChannel.js';
import {
  assertAttributeError,
  assertServerHealthy,
  errorName,
  expectClosed,
  fixture,
} from './support/hostileFixture.js';

describe('hostile peers: DESCRIBE', () => {
  it('lists only the reachable names of the root: no private, built-in, hook or never-reachable name', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.request(K.DESCRIBE, 1, 0, [], null);
    const [kind, , value] = await peer.reply(1);
    assert.equal(kind, K.RESULT);
    const names = (value as { name: string }[]).map((m) => m.name);
    assert.deepEqual(names, ['add', 'echo', 'fn', 'hang', 'inspect', 'make', 'mirror']);
    peer.request(K.DESCRIBE, 2, 0, ['_private'], null);
    assertAttributeError(await peer.reply(2), 'DESCRIBE _private');
    peer.request(K.DESCRIBE, 3, 0, ['constructor'], null);
    assertAttributeError(await peer.reply(3), 'DESCRIBE constructor');
    await assertServerHealthy(fx);
  });

  it('a DESCRIBE with a payload closes the connection', async (t) => {
    const fx = await fixture(t);
    await expectClosed(fx, 'DESCRIBE with payload', (p) => p.request(K.DESCRIBE, 1, 0, [], [1]), /no payload/);
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: ITERATE', () => {
  it('refused names and values that are not iterable get error replies; nothing runs', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.request(K.ITERATE, 1, 0, ['_private'], [IterateAction.OPEN, 10]);
    assertAttributeError(await peer.reply(1), 'ITERATE _private');
    peer.request(K.ITERATE, 2, 0, [], [IterateAction.OPEN, 10]);
    assert.equal(errorName(await peer.reply(2)), 'TypeError', 'the root is not iterable');
    peer.request(K.ITERATE, 3, 0, [], [IterateAction.NEXT, 10]);
    assert.equal(errorName(await peer.reply(3)), 'AttributeError', 'the root has no next method');
    peer.request(K.ITERATE, 4, 0, ['toString'], [IterateAction.OPEN, 1]);
    assertAttributeError(await peer.reply(4), 'ITERATE toString');
    await assertServerHealthy(fx);
  });

  it('a malformed iterate payload closes the connection', async (t) => {
    const fx = await fixture(t);
    for (const payload of [null, [], [0], [0, 1, 2], [3, 1], [-1, 1], [0, -1], [0, 65537], ['0', 1], [0, 1.5]]) {
      await expectClosed(
        fx,
        `ITERATE ${JSON.stringify(payload)}`,
        (p) => p.request(K.ITERATE, 1, 0, [], payload),
        /iterate request carries/,
      );
    }
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: GET with COPY', () => {
  it('copies only what a GET could read; refused names stay refused', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.request(K.GET, 1, 0, [], null, Flags.COPY);
    assert.deepEqual(await peer.reply(1), [K.RESULT, 1, {}], 'the service instance has no data fields to copy');
    peer.request(K.GET, 2, 0, ['_private'], null, Flags.COPY);
    assertAttributeError(await peer.reply(2), 'COPY _private');
    peer.request(K.GET, 3, 0, ['fn'], null, Flags.COPY);
    const [kind, , value] = await peer.reply(3);
    assert.equal(kind, K.RESULT);
    assert.ok(value instanceof Tagged && value.tag === Tag.REMOTE, 'a function is not copied: it stays a reference');
    await assertServerHealthy(fx);
  });

  it('COPY on any request but GET closes the connection', async (t) => {
    const fx = await fixture(t);
    const requests: [number, string[], unknown][] = [
      [K.CALL, ['add'], [1, 2]],
      [K.SET, ['x'], 1],
      [K.DEL, ['x'], null],
      [K.LOOKUP, ['x'], null],
      [K.DESCRIBE, [], null],
      [K.ITERATE, [], [0, 1]],
    ];
    for (const [kind, path, payload] of requests) {
      await expectClosed(
        fx,
        `kind ${kind} with COPY`,
        (p) => p.request(kind, 1, 0, path, payload, Flags.COPY),
        /flags/,
      );
    }
    await expectClosed(fx, 'flags 16', (p) => p.request(K.GET, 1, 0, [], null, 16), /flags/);
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: a request refused at receipt', () => {
  it('leaves no unhandled rejection behind for the kept answers and promise arguments it named', async (t) => {
    const fx = await fixture(t);
    // A promise argument on a missing kept answer, in a request whose target is not exported.
    const missing = new Tagged(Tag.PROMISE, [true, 5, []]);
    await expectClosed(
      fx,
      'promise argument',
      (p) => p.request(K.CALL, 1, 999, ['add'], [missing, 1]),
      /does not hold/,
    );
    // A request on a missing kept answer that reuses the seq of a request still running.
    await expectClosed(
      fx,
      'duplicate seq',
      (p) => {
        p.request(K.CALL, 1, 0, ['hang'], []);
        p.request(K.CALL, 1, 7, ['add'], [1, 2], Flags.ON_ANSWER);
      },
      /duplicate request number/,
    );
    // node:test fails this test if either left a rejection unhandled; Node reports those once the microtasks of a
    // turn have run, so one macrotask later they have surfaced.
    await new Promise((resolve) => setImmediate(resolve));
    await assertServerHealthy(fx);
  });
});

/** The client end of a pair whose peer's hello is rewritten to list no features: a peer of an older netref. */
class FeaturelessPeer extends ForwardingChannel {
  readonly sentKinds: unknown[] = [];
  #first = true;
  protected override onReceive(frame: Uint8Array): Uint8Array {
    if (!this.#first) return frame;
    this.#first = false;
    return encode({ ...(decode(frame) as object), features: [] });
  }
  protected override onSend(frame: Uint8Array): Uint8Array {
    const msg = decode(frame);
    if (Array.isArray(msg)) this.sentKinds.push(msg[0]);
    return frame;
  }
}

describe('a peer that does not speak the helpers requests', () => {
  it('describe, for await and obtain fail locally with a clear error, and nothing is sent', async () => {
    class Items extends Service {
      *items() {
        yield 1;
      }
    }
    const [ca, cb] = channelPair();
    const client = new FeaturelessPeer(cb);
    const [server, conn] = await Promise.all([connectChannel(ca, { service: Items }), connectChannel(client)]);
    await assert.rejects(
      describeRemote(conn.root),
      (e: Error) => e instanceof NetrefError && /does not support describe\(\)/.test(e.message),
    );
    await assert.rejects(obtain(conn.root), (e: Error) => e instanceof NetrefError && /'copy'/.test(e.message));
    await assert.rejects(async () => {
      for await (const _ of conn.root.items()) void _;
    }, /does not support remote iteration/);
    assert.equal(await conn.root.items().next().value, 1, 'ordinary requests still work');
    assert.deepEqual(
      client.sentKinds.filter((k) => k === K.DESCRIBE || k === K.ITERATE),
      [],
      'no request the peer does not know was sent',
    );
    await Promise.all([conn.close(), server.close()]);
  });
});

// A burst of calls leaves in pieces (issue 7, W2): the peer starts on the first piece while this end makes the rest.
// Pipelining inside a burst is unaffected: a request marks the one it builds on KEEP before anything can send it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelPair, connectChannel, Service, type Remote } from '../src/index.js';
import { TapChannel } from './support/pair.js';

class Api extends Service {
  add(a: number, b: number): number {
    return a + b;
  }
  getUser(id: number) {
    return { id, profile: { name: `user${id}` } };
  }
}

/** Counts the frames of each batch the outbox hands over (a batch ends with `flush`). */
class BatchTap extends TapChannel {
  readonly batches: number[] = [];
  #current = 0;
  protected override onSend(frame: Uint8Array): Uint8Array {
    this.#current++;
    return super.onSend(frame);
  }
  override flush(): void {
    if (this.#current) this.batches.push(this.#current);
    this.#current = 0;
    super.flush();
  }
}

async function setup() {
  const [a, b] = channelPair();
  const tap = new BatchTap(b);
  const [server, client] = await Promise.all([connectChannel(a, { service: Api }), connectChannel(tap)]);
  tap.batches.length = 0;
  tap.log.length = 0;
  return {
    tap,
    root: client.root as Remote<Api>,
    close: () => Promise.all([client.close(), server.close()]),
  };
}

describe('a burst of calls', () => {
  it('leaves in pieces, each at most half the calls outstanding (at least 4)', async () => {
    const { tap, root, close } = await setup();
    try {
      const sums = await Promise.all(Array.from({ length: 64 }, (_, i) => root.add(i, 1)));
      assert.deepEqual(
        sums,
        Array.from({ length: 64 }, (_, i) => i + 1),
      );
      assert.equal(
        tap.batches.reduce((n, b) => n + b, 0),
        64,
      );
      // 64 made at once: the first piece leaves at 4, later ones grow with the calls outstanding
      assert.equal(tap.batches[0], 4);
      assert.ok(tap.batches.length > 2 && Math.max(...tap.batches) <= 32, `batches ${tap.batches.join(', ')}`);
    } finally {
      await close();
    }
  });

  it('keeps pipelined requests pipelined: all go out before the first answer comes back', async () => {
    const { tap, root, close } = await setup();
    try {
      const names = await Promise.all(Array.from({ length: 32 }, (_, i) => root.getUser(i).profile.name));
      assert.deepEqual(
        names,
        Array.from({ length: 32 }, (_, i) => `user${i}`),
      );
      assert.ok(tap.batches.length > 1, `one batch of ${tap.batches[0]}: the burst was not split`);
      // Had a split sent getUser(i) before profile.name marked it KEEP, that request would wait for an answer.
      assert.deepEqual(tap.log.slice(0, 64), Array(64).fill('send'));
    } finally {
      await close();
    }
  });

  it('sends calls made one after another on their own', async () => {
    const { tap, root, close } = await setup();
    try {
      for (let i = 0; i < 10; i++) assert.equal(await root.add(i, i), 2 * i);
      assert.deepEqual(tap.batches, Array(10).fill(1));
    } finally {
      await close();
    }
  });
});

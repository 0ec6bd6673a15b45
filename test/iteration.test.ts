import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AttributeError,
  buffiter,
  ConnectionClosedError,
  isNetref,
  Service,
  timed,
  TimeoutError,
  type Remote,
} from '../src/index.js';
import { decode, Flags, IterateAction, MessageKind } from '../src/protocol/index.js';
import { collect } from './support/gc.js';
import { pair, TapChannel, until, within } from './support/pair.js';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm() {
    return Math.hypot(this.x, this.y);
  }
}

/** Iterable by its Symbol.iterator method only. */
class Bag {
  constructor(private readonly items: string[]) {}
  *[Symbol.iterator]() {
    yield* this.items;
  }
}

/** An iterator with `next` and `return` but no Symbol.iterator. */
class Cursor {
  at = 0;
  closed = false;
  constructor(readonly end: number) {}
  next() {
    return this.at < this.end ? { value: this.at++, done: false } : { value: undefined, done: true };
  }
  return() {
    this.closed = true;
    return { value: undefined, done: true };
  }
}

class Feed extends Service {
  finallyRan = 0;
  generators: WeakRef<object>[] = [];
  cursors: Cursor[] = [];
  /** What `live` waits on between items: the consumer acknowledges each item with `ack`. */
  #acked = -1;
  #wake: (() => void) | undefined;
  /** Opened when the test ends, so nothing stays pending. */
  #gate: Promise<void>;
  openGate!: () => void;
  items = [10, 20, 30];

  constructor() {
    super();
    this.#gate = new Promise((resolve) => (this.openGate = resolve));
  }

  *count(n: number) {
    try {
      for (let i = 0; i < n; i++) yield i;
    } finally {
      this.finallyRan++;
    }
  }
  async *countAsync(n: number) {
    for (let i = 0; i < n; i++) {
      await null;
      yield i;
    }
  }
  endless() {
    const g = this.#endless();
    this.generators.push(new WeakRef(g));
    return g;
  }
  *#endless() {
    let i = 0;
    try {
      for (;;) yield i++;
    } finally {
      this.finallyRan++;
    }
  }
  bag() {
    return new Bag(['a', 'b', 'c']);
  }
  cursor(end: number) {
    const c = new Cursor(end);
    this.cursors.push(c);
    return c;
  }
  pairs() {
    return new Map([
      ['a', 1],
      ['b', 2],
    ]);
  }
  *points() {
    yield new Point(3, 4);
    yield new Point(6, 8);
  }
  *failing(after: number) {
    for (let i = 0; i < after; i++) yield i;
    throw new RangeError(`ran out after ${after}`);
  }
  plain() {
    return new Point(0, 0);
  }
  size() {
    return 3;
  }
  /** Yields 0, 1, … each only once the one before was acknowledged: a live stream. */
  async *live(n: number) {
    for (let i = 0; i < n; i++) {
      while (this.#acked < i - 1) await new Promise<void>((resolve) => (this.#wake = resolve));
      yield i;
    }
  }
  ack(i: number) {
    this.#acked = i;
    this.#wake?.();
  }
  /** Yields one item, then waits until the test ends. */
  async *stall() {
    try {
      yield 'first';
      await this.#gate;
    } finally {
      this.finallyRan++;
    }
  }
  _secret() {
    return [1, 2, 3];
  }
}

/** The ITERATE requests `tap` sent since frame `from`: [action, count] each. */
function iterateRequests(tap: TapChannel, from = 0): [number, number][] {
  return tap.sent
    .slice(from)
    .map((f) => decode(f) as unknown[])
    .filter((m) => m[0] === MessageKind.ITERATE)
    .map((m) => m[5] as [number, number]);
}

async function feedPair() {
  const feed = new Feed();
  const p = await pair({}, { service: feed });
  const root = p.a.root as Remote<Feed>;
  return {
    feed,
    root,
    p,
    async close() {
      feed.openGate();
      await p.close();
    },
  };
}

async function collectAll<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('remote iteration', () => {
  it('for await over a remote generator yields its items in order, sync or async', async () => {
    const { root, close } = await feedPair();
    assert.deepEqual(await collectAll(root.count(5)), [0, 1, 2, 3, 4]);
    assert.deepEqual(await collectAll(root.countAsync(5)), [0, 1, 2, 3, 4]);
    assert.deepEqual(await collectAll(root.count(0)), []);
    await close();
  });

  it('iterates a remote iterable object, a bare iterator, a Map result and an array property', async () => {
    const { root, feed, close } = await feedPair();
    assert.deepEqual(await collectAll(root.bag()), ['a', 'b', 'c']);
    assert.deepEqual(await collectAll(root.cursor(3)), [0, 1, 2]);
    assert.equal(feed.cursors[0]!.closed, false, 'an exhausted iterator is not closed again');
    assert.deepEqual(await collectAll(root.pairs()), [
      ['a', 1],
      ['b', 2],
    ]);
    assert.deepEqual(await collectAll(root.items), [10, 20, 30]);
    await close();
  });

  it('items that are objects with methods arrive as netrefs', async () => {
    const { root, close } = await feedPair();
    const norms: number[] = [];
    for await (const point of root.points()) {
      assert.ok(isNetref(point));
      norms.push(await point.norm());
    }
    assert.deepEqual(norms, [5, 10]);
    await close();
  });

  it('10,000 items take about twenty round trips, not 10,000', async () => {
    const { root, p, close } = await feedPair();
    const from = p.tapA.sent.length;
    let n = 0;
    for await (const x of root.countAsync(10_000)) assert.equal(x, n++);
    assert.equal(n, 10_000);
    const asks = iterateRequests(p.tapA, from);
    assert.deepEqual(
      asks.slice(0, 11).map(([, count]) => count),
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      'chunks grow from 1 by a factor of 2 up to 1000',
    );
    assert.ok(asks.length <= 20, `${asks.length} iterate requests`);
    assert.ok(p.tapA.sent.length - from < 30, `${p.tapA.sent.length - from} frames sent in all`);
    await close();
  });

  it('the first chunk is asked for in the same round trip as the call that makes the iterator', async () => {
    const { root, p, close } = await feedPair();
    const from = p.tapA.sent.length;
    const it = root.count(3)[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { value: 0, done: false });
    const frames = p.tapA.sent.slice(from).map((f) => decode(f) as unknown[]);
    assert.deepEqual(
      frames.map((m) => m[0]),
      [MessageKind.CALL, MessageKind.ITERATE],
      'the call and the first iterate left together, before any reply',
    );
    assert.ok((frames[1]![1] as number) & Flags.ON_ANSWER, 'the iterate targets the pending answer');
    await it.return!();
    await close();
  });

  it('buffiter sets the chunk sizes: chunk, factor and maxChunk', async () => {
    const { root, p, close } = await feedPair();
    let from = p.tapA.sent.length;
    assert.equal((await collectAll(buffiter(root.count(100), { chunk: 10, factor: 1 }))).length, 100);
    assert.deepEqual(
      iterateRequests(p.tapA, from),
      [[IterateAction.OPEN, 10], ...Array.from({ length: 10 }, () => [IterateAction.NEXT, 10])],
      'ten chunks of 10, then one that finds the end',
    );
    from = p.tapA.sent.length;
    assert.equal((await collectAll(buffiter(root.count(60), { chunk: 3, factor: 3, maxChunk: 20 }))).length, 60);
    assert.deepEqual(
      iterateRequests(p.tapA, from).map(([, count]) => count),
      [3, 9, 20, 20, 20],
    );
    // A local iterable is iterated as it is.
    assert.deepEqual(await collectAll(buffiter([1, 2])), [1, 2]);
    await close();
  });

  it('buffiter refuses bad options and values that are not iterable', async () => {
    const { root, close } = await feedPair();
    assert.throws(() => buffiter(root.count(1), { chunk: 0 }), RangeError);
    assert.throws(() => buffiter(root.count(1), { maxChunk: 1e9 }), RangeError);
    assert.throws(() => buffiter(root.count(1), { factor: 0.5 }), RangeError);
    assert.throws(() => buffiter(42 as unknown as Iterable<number>), TypeError);
    await close();
  });

  it('breaking out of the loop calls the remote return() and releases the iterator', async () => {
    const { root, feed, p, close } = await feedPair();
    const seen: number[] = [];
    for await (const x of root.endless()) {
      seen.push(x);
      if (x === 5) break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.equal(feed.finallyRan, 1, "the generator's finally ran before the loop went on");
    await p.a.ping(); // the release goes out with the next batch
    await collect();
    assert.equal(feed.generators[0]!.deref(), undefined, 'the remote generator was let go');
    await close();
  });

  it('a loop body that throws closes the remote iterator too, and its error wins', async () => {
    const { root, feed, close } = await feedPair();
    await assert.rejects(async () => {
      for await (const x of root.count(100)) if (x === 2) throw new Error('body failed');
    }, /body failed/);
    assert.equal(feed.finallyRan, 1);
    await close();
  });

  it('an iterator that throws midway: the items before it arrive, then the error of the same class', async () => {
    const { root, close } = await feedPair();
    const seen: number[] = [];
    await assert.rejects(
      async () => {
        for await (const x of root.failing(5)) seen.push(x);
      },
      (error: Error) => error instanceof RangeError && /ran out after 5/.test(error.message),
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    await assert.rejects(collectAll(root.failing(0)), RangeError, 'a throw before any item rejects the first step');
    await close();
  });

  it('a value that is not iterable rejects with TypeError; a refused one with AttributeError', async () => {
    const { root, close } = await feedPair();
    await assert.rejects(
      collectAll(root.plain() as never),
      (e: Error) => e instanceof TypeError && /not iterable/.test(e.message),
    );
    await assert.rejects(collectAll(root.size() as never), /3 is not iterable/);
    await assert.rejects(collectAll((root as any)._secret()), AttributeError);
    await close();
  });

  it('a live async stream delivers each item at once instead of waiting for a full chunk', async () => {
    const { root, close } = await feedPair();
    const seen: number[] = [];
    // Each item is produced only after the one before was acknowledged: a chunk that waited to be full would hang.
    await within(
      (async () => {
        for await (const x of root.live(12)) {
          seen.push(x);
          await root.ack(x);
        }
      })(),
      5000,
      'the live stream',
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    await close();
  });

  it('iterating a netref you hold leaves it yours: it is not released', async () => {
    const { root, close } = await feedPair();
    const gen = await root.count(2);
    assert.deepEqual(await collectAll(gen), [0, 1]);
    assert.deepEqual(await gen.next(), { value: undefined, done: true });
    await close();
  });

  it('per-call options carry over to every chunk: timed() times out a stalled stream', async () => {
    const { root, feed, close } = await feedPair();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const x of timed(root, 200).stall()) seen.push(x);
    }, TimeoutError);
    assert.deepEqual(seen, ['first']);
    await close();
    await until(() => feed.finallyRan === 1, 5000, "the stalled generator's finally");
  });

  it('closing the connection mid-iteration rejects the loop and closes the remote generator', async () => {
    const { root, feed, p, close } = await feedPair();
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of root.endless()) {
        seen.push(x);
        if (x === 2) await p.b.close();
      }
    }, ConnectionClosedError);
    assert.ok(seen.length >= 3, `${seen.length} items before the close`);
    await until(() => feed.finallyRan === 1, 5000, "the remote generator's finally");
    await collect();
    assert.equal(feed.generators[0]!.deref(), undefined, 'nothing of the iteration is left on the closed connection');
    await close();
  });

  it('a pending chunk rejects with ConnectionClosedError when the connection closes', async () => {
    const { root, p, close } = await feedPair();
    const it = root.stall()[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { value: 'first', done: false });
    const pending = it.next();
    await p.a.ping();
    await p.a.close();
    await assert.rejects(pending, ConnectionClosedError);
    assert.deepEqual(await it.return!(), { value: undefined, done: true }, 'return() on a closed connection resolves');
    await close();
  });
});

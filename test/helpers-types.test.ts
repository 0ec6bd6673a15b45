// Type-level tests for remote iteration and the helpers' signatures: checked by `tsc --noEmit` (npm test).
// The runtime test only makes sure the file is loaded by the runner.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  buffiter,
  describe,
  obtain,
  Service,
  teleport,
  type Connection,
  type MemberDescription,
  type Remote,
} from '../src/index.js';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

class Point {
  constructor(public x: number) {}
  norm(): number {
    return this.x;
  }
}

class Feed extends Service {
  *numbers(): Generator<number> {
    yield 1;
  }
  async *events(): AsyncGenerator<{ id: number }> {
    yield { id: 1 };
  }
  points(): Iterable<Point> {
    return [new Point(1)];
  }
  cursor(): Iterator<string> {
    return ['a'][Symbol.iterator]();
  }
  list(): number[] {
    return [1];
  }
  name(): string {
    return 'feed';
  }
  count = 3;
}

declare const feed: Remote<Feed>;
declare const conn: Connection;

type ItemOf<I> = I extends AsyncIterable<infer X> ? X : never;

// A method returning an iterable, iterator or async iterable gives something `for await` takes, typed by its items.
expectType<Equal<ItemOf<ReturnType<typeof feed.numbers>>, number>>();
expectType<Equal<ItemOf<ReturnType<typeof feed.events>>, { id: number }>>();
expectType<Equal<ItemOf<ReturnType<typeof feed.cursor>>, string>>();
expectType<Equal<ItemOf<ReturnType<typeof feed.list>>, number>>();
// Items with methods arrive as netrefs.
expectType<Equal<ItemOf<ReturnType<typeof feed.points>>, Remote<Point>>>();
// The awaited netref of a generator is iterable too.
expectType<Equal<ItemOf<Awaited<ReturnType<typeof feed.numbers>>>, number>>();
// Non-iterables are not: a string result and a number property are no AsyncIterable.
expectType<Equal<ReturnType<typeof feed.name> extends AsyncIterable<unknown> ? true : false, false>>();
expectType<Equal<typeof feed.count extends AsyncIterable<unknown> ? true : false, false>>();

async function usage(): Promise<void> {
  for await (const n of feed.numbers()) {
    const x: number = n;
    void x;
  }
  for await (const e of feed.events()) void e.id;
  for await (const p of feed.points()) await p.norm();
  for await (const n of buffiter(feed.numbers(), { chunk: 10, maxChunk: 100, factor: 3 })) {
    const x: number = n;
    void x;
  }
  const members: MemberDescription[] = await describe(feed);
  void members;
  const copy = await obtain<{ x: number }>(feed.points());
  void copy.x;
  const add = await teleport(conn, (a: number, b: number) => a + b);
  const sum: number = await add(1, 2);
  void sum;
}
void usage;

async function refusals(): Promise<void> {
  // @ts-expect-error a string result is not iterated remotely
  for await (const c of feed.name()) void c;
  // @ts-expect-error teleport takes a function
  void teleport(conn, 42);
  const one = await teleport(conn, (a: number) => a);
  // @ts-expect-error the teleported function keeps its parameter types
  void one('x');
}
void refusals;

it('remote iteration and helper type tests compile (see tsc)', () => {
  assert.equal(expectType<true>(), undefined);
});

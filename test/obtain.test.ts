import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttributeError, byRef, deliver, isNetref, obtain, Service, type Remote } from '../src/index.js';
import { decode, Flags, MessageKind } from '../src/protocol/index.js';
import { classicPair, pair } from './support/pair.js';

class Point {
  label = 'p';
  _secret = 'hidden';
  #hash = 42;
  constructor(
    public x: number,
    public y: number,
  ) {}
  get norm() {
    return Math.hypot(this.x, this.y) + this.#hash * 0;
  }
  move(dx: number) {
    this.x += dx;
  }
}

const shared = () => 'a function';

class Store extends Service {
  point() {
    return new Point(3, 4);
  }
  tree() {
    return {
      list: [new Point(1, 2)],
      map: new Map<string, unknown>([['p', new Point(5, 6)]]),
      set: new Set([1, 'two']),
      when: new Date(86_400_000),
      pattern: /a+b/g,
      bytes: new Uint8Array([1, 2, 3]),
      error: new RangeError('kept'),
      fn: shared,
    };
  }
  cyclic() {
    const a: Record<string, unknown> = { n: 1 };
    a.self = a;
    return byRef(a);
  }
  _private() {
    return new Point(0, 0);
  }
}

async function storePair() {
  const p = await pair({}, { service: Store });
  return { root: p.a.root as Remote<Store>, p, close: () => p.close() };
}

describe('obtain', () => {
  it('copies a remote class instance as plain data of its reachable own fields', async () => {
    const { root, close } = await storePair();
    const copy = await obtain(root.point());
    assert.deepEqual(copy, { label: 'p', x: 3, y: 4 }, 'no _secret field, no getter, no method, no #private');
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    await close();
  });

  it('obtains a pending result in the same round trip as the call', async () => {
    const { root, p, close } = await storePair();
    const from = p.tapA.sent.length;
    await obtain(root.point());
    const requests = p.tapA.sent
      .slice(from)
      .map((f) => decode(f) as unknown[])
      .filter((m) => m[0] === MessageKind.CALL || m[0] === MessageKind.GET);
    assert.equal(requests.length, 2);
    const [, flags] = requests[1]!;
    assert.equal(flags as number, Flags.ON_ANSWER | Flags.COPY, 'a GET with COPY on the pending answer');
    await close();
  });

  it('copies a whole tree: arrays, Maps, Sets, Dates, RegExps, typed arrays, Errors; functions stay netrefs', async () => {
    const { root, close } = await storePair();
    const copy = await obtain<Record<string, any>>(root.tree());
    assert.deepEqual(copy.list, [{ label: 'p', x: 1, y: 2 }]);
    assert.ok(copy.map instanceof Map);
    assert.deepEqual(copy.map.get('p'), { label: 'p', x: 5, y: 6 });
    assert.deepEqual(copy.set, new Set([1, 'two']));
    assert.deepEqual(copy.when, new Date(86_400_000));
    assert.deepEqual(copy.pattern, /a+b/g);
    assert.deepEqual(copy.bytes, new Uint8Array([1, 2, 3]));
    assert.ok(copy.error instanceof RangeError && copy.error.message === 'kept');
    assert.ok(isNetref(copy.fn), 'a function cannot be copied: it stays a netref');
    assert.equal(await copy.fn(), 'a function');
    await close();
  });

  it('copies netrefs held in local data, and a result that had already arrived', async () => {
    const { root, close } = await storePair();
    const point = await root.point();
    assert.ok(isNetref(point));
    const local = { point, n: 1, list: [point] };
    assert.deepEqual(await obtain(local), {
      point: { label: 'p', x: 3, y: 4 },
      n: 1,
      list: [{ label: 'p', x: 3, y: 4 }],
    });
    assert.ok(isNetref(local.point), 'the local value itself is left as it was');
    // The answer settled before obtain asked: the copy is then made from the netref it resolved to.
    const settled = root.tree();
    await settled;
    const copy = await obtain<Record<string, any>>(settled);
    assert.deepEqual(copy.list, [{ label: 'p', x: 1, y: 2 }]);
    await close();
  });

  it('a cyclic value rejects with a TypeError; a refused path with AttributeError', async () => {
    const { root, close } = await storePair();
    await assert.rejects(obtain(root.cyclic()), (e: Error) => e instanceof TypeError && /cyclic/.test(e.message));
    await assert.rejects(obtain((root as any)._private()), AttributeError);
    await close();
  });

  it('on a classic peer, private fields are copied too (allowAllAttrs)', async () => {
    const { c, close } = await classicPair();
    const copy = await obtain(c.eval('new (class P { a = 1; _b = 2; m() {} })()'));
    assert.deepEqual(copy, { a: 1, _b: 2 });
    await close();
  });
});

describe('deliver', () => {
  it('leaves a copy on a classic peer and gives a netref to it', async () => {
    const { c, close } = await classicPair();
    const value = { name: 'config', list: [1, 2], nested: { deep: true }, map: new Map([['k', 'v']]) };
    const remote = await deliver(c, value);
    assert.ok(isNetref(remote));
    assert.equal(await remote.name, 'config');
    assert.equal(await remote.list.length, 2);
    assert.equal(await remote.map.get('k'), 'v');
    value.name = 'changed here';
    assert.equal(await remote.name, 'config', 'the remote copy is its own');
    assert.deepEqual(await obtain(remote), {
      name: 'config',
      list: [1, 2],
      nested: { deep: true },
      map: new Map([['k', 'v']]),
    });
    // Remote code sees it as a plain object of its own.
    const isPlain = await c.eval('(v) => Object.getPrototypeOf(v) === Object.prototype');
    assert.equal(await isPlain(remote), true);
    await close();
  });

  it('copies a class instance as data; a primitive is itself', async () => {
    const { c, close } = await classicPair();
    const remote = await deliver(c, new Point(1, 1));
    assert.deepEqual(await obtain(remote), { label: 'p', _secret: 'hidden', x: 1, y: 1 });
    assert.equal(await remote.move, undefined, 'methods stay behind');
    assert.equal(await deliver(c, 42), 42);
    await close();
  });

  it('refuses a function, and a peer that is not classic, with clear errors', async () => {
    const { c, close } = await classicPair();
    await assert.rejects(
      deliver(c, () => 1),
      (e: Error) => e instanceof TypeError && /teleport/.test(e.message),
    );
    await close();
    const s = await storePair();
    await assert.rejects(
      deliver(s.p.a, { a: 1 }),
      (e: Error) => e instanceof AttributeError && /needs a peer serving ClassicService/.test(e.message),
    );
    await s.close();
  });
});

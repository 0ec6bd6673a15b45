import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { byRef, byValue, isNetref, RemoteError, Service, type Remote } from '../src/index.js';
import { pair } from './support/pair.js';

class Thing {
  constructor(public label = 'thing') {}
  hello(): string {
    return `hello from ${this.label}`;
  }
}

class Api extends Service {
  data = { a: 1 };
  #things = new Map<string, Thing>();
  echo<T>(x: T): T {
    return x;
  }
  add(a: number, b: number): number {
    return a + b;
  }
  getUser(id: number) {
    return { id, profile: { name: `user${id}` } };
  }
  thing(name: string): Thing {
    let t = this.#things.get(name);
    if (!t) this.#things.set(name, (t = new Thing(name)));
    return t;
  }
  isThing(x: unknown, name: string): boolean {
    return x === this.#things.get(name);
  }
  kindOf(x: unknown): string {
    return isNetref(x) ? 'netref' : x instanceof Thing ? 'Thing' : typeof x;
  }
  makeAdder(n: number) {
    return (x: number) => x + n;
  }
  holder() {
    return byRef({ value: 42, get: () => 'got' });
  }
  snapshot() {
    return byValue(new Thing('copied'));
  }
  async slowSquare(x: number) {
    await new Promise((r) => setTimeout(r, 5));
    return x * x;
  }
  typeError(): never {
    throw new TypeError('wrong type here');
  }
  custom(): never {
    class ValidationError extends Error {
      override name = 'ValidationError';
      field = 'email';
    }
    throw new ValidationError('bad email', { cause: new RangeError('too long') });
  }
  coded(): never {
    throw Object.assign(new Error('not found'), { code: 'ENOENT' });
  }
}

describe('netrefs', () => {
  it('calls a method and gets the result', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    assert.equal(await root.add(2, 3), 5);
    assert.equal(await root.slowSquare(7), 49);
    await p.close();
  });

  it('reads attributes lazily: nothing is sent until awaited', async () => {
    const p = await pair({ service: Api });
    const before = p.tapB.sent.length;
    const path = (p.b.root as any).data.a;
    await new Promise((r) => setImmediate(r));
    assert.equal(p.tapB.sent.length, before, 'a lazy path sent a frame');
    assert.equal(await path, 1);
    assert.equal(p.tapB.sent.length, before + 1);
    await p.close();
  });

  it('pipelines: await root.getUser(1).profile.name sends both requests before any reply', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    p.tapB.log.length = 0;
    assert.equal(await root.getUser(1).profile.name, 'user1');
    // both requests leave before the first reply arrives: one round trip
    assert.deepEqual(p.tapB.log.slice(0, 2), ['send', 'send']);
    assert.equal(p.tapB.log.filter((e) => e === 'send').length, 2);
    await p.close();
  });

  it('pipelines a call on a returned object and passes a pending result as an argument', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    p.tapB.log.length = 0;
    assert.equal(await root.thing('x').hello(), 'hello from x');
    assert.deepEqual(p.tapB.log.slice(0, 2), ['send', 'send']);
    assert.equal(await root.add(root.add(1, 2), root.add(3, 4)), 10);
    assert.equal(await root.isThing(root.thing('x'), 'x'), true);
    await p.close();
  });

  it('still works when the result was awaited before further use', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    const user = root.getUser(2);
    await user;
    await new Promise((r) => setImmediate(r));
    assert.equal(await user.profile.name, 'user2');
    const t = root.thing('late');
    await t; // settled before it is used: the call below is sent after the result, not pipelined
    assert.equal(await t.hello(), 'hello from late');
    await p.close();
  });

  it('a resolved netref is not thenable, so it can be returned from async functions', async () => {
    const p = await pair({ service: Api });
    const t = await (p.b.root as Remote<Api>).thing('a');
    assert.equal((t as any).then, undefined);
    const viaAsync = await (async () => t)();
    assert.equal(viaAsync, t);
    await p.close();
  });

  it('the same remote object arrives as the same netref', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    const t1 = await root.thing('same');
    const t2 = await root.thing('same');
    assert.equal(t1, t2);
    assert.notEqual(t1, await root.thing('other'));
    await p.close();
  });

  it('a netref sent home arrives as the original object', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    const t = await root.thing('home');
    assert.equal(await root.isThing(t, 'home'), true);
    assert.equal(await root.kindOf(t), 'Thing');
    await p.close();
  });

  it('a netref forwarded to a third connection still reaches its owner', async () => {
    const owner = await pair({ service: Api });
    const relayApi = new (class extends Service {
      async ask(t: Remote<Thing>) {
        return await t.hello();
      }
    })();
    const relay = await pair({ service: relayApi });
    const t = await (owner.b.root as Remote<Api>).thing('far');
    assert.equal(await (relay.b.root as any).ask(t), 'hello from far');
    await owner.close();
    await relay.close();
  });

  it('passes callbacks both ways, nested', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    const add5 = await root.makeAdder(5);
    assert.equal(await add5(1), 6);
    const svc = new (class extends Service {
      async twice(fn: (x: number) => Promise<number>, x: number) {
        return (await fn(x)) * 2;
      }
    })();
    const q = await pair({ service: svc });
    assert.equal(await (q.b.root as any).twice(async (x: number) => x + 1, 10), 22);
    await p.close();
    await q.close();
  });

  it('copies the value table exactly', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    const values: unknown[] = [
      undefined,
      null,
      true,
      0,
      -1.5,
      2 ** 53 - 1,
      NaN,
      123n,
      -(2n ** 100n),
      'text ✓',
      [1, [2, [3]]],
      { a: { b: [1, { c: 'd' }] } },
      new Map<unknown, unknown>([
        [1, 'one'],
        ['k', new Map([[2, 2]])],
      ]),
      new Set([1, 'a', 3]),
      new Date('2024-05-06T07:08:09.123Z'),
      /ab+c/gi,
      new Uint8Array([1, 2, 3]),
      new Float64Array([1.5, -2]),
      new Int32Array([-7]),
      Buffer.from('buf'),
      new Uint8Array([9, 8]).buffer,
    ];
    for (const v of values) {
      const back = await root.echo(v);
      assert.deepEqual(back, v, `round trip of ${inspect(v)}`);
    }
    const d = (await root.echo({ when: new Date(0), tags: new Set(['x']) })) as any;
    assert.ok(d.when instanceof Date);
    assert.ok(d.tags instanceof Set);
    await p.close();
  });

  it('sends functions and class instances by reference; byRef and byValue override', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    assert.ok(isNetref(await root.thing('r')));
    assert.ok(isNetref(await root.makeAdder(1)));
    assert.ok(!isNetref(await root.getUser(1)));
    const h = (await root.holder()) as any;
    assert.ok(isNetref(h));
    assert.equal(await h.value, 42);
    assert.equal(await h.get(), 'got');
    const snap = (await root.snapshot()) as any;
    assert.ok(!isNetref(snap));
    assert.deepEqual(snap, { label: 'copied' });
    assert.equal(await root.kindOf(new Thing()), 'netref');
    await p.close();
  });

  it('a netref prints without a round trip', async () => {
    const p = await pair({ service: Api });
    const t = await (p.b.root as Remote<Api>).thing('p');
    const sent = p.tapB.sent.length;
    assert.match(String(t), /^\[netref #\d+\]$/);
    assert.match(inspect(t), /^\[netref #\d+\]$/);
    assert.match(`${t}`, /netref/);
    assert.equal(p.tapB.sent.length, sent);
    await p.close();
  });

  it('errors arrive by class, with the remote stack, code and cause', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as Remote<Api>;
    await assert.rejects(Promise.resolve(root.typeError()), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.equal(e.message, 'wrong type here');
      assert.match(e.stack!, /--- remote stack ---/);
      assert.match(e.stack!, /typeError/);
      return true;
    });
    await assert.rejects(Promise.resolve(root.custom()), (e: any) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteName, 'ValidationError');
      assert.equal(e.message, 'bad email');
      assert.equal((e as any).field, 'email');
      assert.ok(e.cause instanceof RangeError);
      assert.equal(e.cause.message, 'too long');
      return true;
    });
    await assert.rejects(Promise.resolve(root.coded()), { code: 'ENOENT', message: 'not found' });
    await p.close();
  });

  it('includeStack: false hides the remote stack', async () => {
    const p = await pair({ service: Api, protocolConfig: { includeStack: false } });
    await assert.rejects(
      Promise.resolve((p.b.root as Remote<Api>).typeError()),
      (e: Error) => !/remote stack/.test(e.stack!),
    );
    await p.close();
  });

  it('refuses to send what cannot cross, with a clear error', async () => {
    const p = await pair({ service: Api });
    const root = p.b.root as any;
    await assert.rejects(Promise.resolve(root.echo(Symbol('s'))), /symbols do not cross/);
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    await assert.rejects(Promise.resolve(root.echo(cyclic)), /maxDepth/);
    assert.equal(await root.add(1, 1), 2, 'the connection is still usable');
    await p.close();
  });

  it('plain assignment on a netref throws a TypeError pointing to setAttr', async () => {
    const p = await pair({ service: Api });
    assert.throws(() => {
      (p.b.root as any).x = 1;
    }, /setAttr/);
    assert.throws(() => {
      delete (p.b.root as any).x;
    }, /delAttr/);
    await p.close();
  });
});

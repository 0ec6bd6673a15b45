// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection, Server } from '../src/index.js';
import { encode, Flags, IterateAction, MessageKind as K, Tag, Tagged } from '../src/protocol/index.js';
import { RawPeer, within } from './support/rawPeer.js';
import {
  fixture,
  assertServerHealthy,
  assertRefused,
  rawRequest,
  rawMap,
  assertAttributeError,
  exportFn,
} from './support/hostileFixture.js';

describe('hostile peers: names', () => {
  const NAMES = [
    'constructor',
    '__proto__',
    'prototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    '__defineGetter__',
    '_private',
    'onConnect',
    'onDisconnect',
    'call',
    'apply',
    'bind',
  ];
  const HOOKS = new Set(['onConnect', 'onDisconnect']);

  it('answers AttributeError to forbidden names in CALL/GET/SET/DEL, and never runs them', async (t) => {
    // Writes and deletes allowed: only the name rules stand between the peer and the object.
    const fx = await fixture(t, { allowSetAttr: true, allowDelAttr: true });
    const service = fx.service as unknown as Record<string, unknown>;
    const proto = Object.getPrototypeOf(service);
    const ownBefore = Object.getOwnPropertyNames(service).sort();
    const protoBefore = Object.getOwnPropertyNames(proto).map((n) => [n, proto[n]]);
    const peer = await fx.peer();
    const fnId = await exportFn(peer, 1);
    let seq = 10;
    const asked: [number, string][] = [];
    const ask = (kind: number, target: number, path: string[], payload: unknown, what: string) => {
      peer.request(kind, ++seq, target, path, payload);
      asked.push([seq, what]);
    };
    for (const [target, on] of [
      [0, 'the service'],
      [fnId, 'a function export'],
    ] as const) {
      for (const name of NAMES) {
        ask(K.CALL, target, [name], ['x'], `CALL ${name} on ${on}`);
        ask(K.GET, target, [name], null, `GET ${name} on ${on}`);
        // The lifecycle hooks are special on a Service only: on a function they are ordinary (absent) names,
        // which allowSetAttr/allowDelAttr let the peer write.
        if (target !== 0 && HOOKS.has(name)) continue;
        ask(K.SET, target, [name], 'pwned', `SET ${name} on ${on}`);
        ask(K.DEL, target, [name], null, `DEL ${name} on ${on}`);
      }
    }
    for (const name of NAMES) {
      ask(K.CALL, 0, ['add', name], ['x'], `CALL add.${name}`);
      ask(K.GET, 0, ['echo', name], null, `GET echo.${name}`);
      if (!HOOKS.has(name)) ask(K.SET, 0, ['echo', name], 'pwned', `SET echo.${name}`);
    }
    for (const [s, what] of asked) assertAttributeError(await peer.reply(s), what);
    assert.deepEqual(fx.probe.ran, []);
    assert.deepEqual(Object.getOwnPropertyNames(service).sort(), ownBefore, 'no own property was added or removed');
    assert.equal(Object.getPrototypeOf(service), proto, 'the prototype is the same');
    assert.deepEqual(
      Object.getOwnPropertyNames(proto).map((n) => [n, proto[n]]),
      protoBefore,
      'the prototype is unchanged',
    );
    assert.equal(typeof service.add, 'function');
    assert.equal((service.echo as (x: unknown) => unknown).call(service, 5), 5);
    // Refusals are replies: the connection is still fine.
    assert.equal(peer.isClosed, false);
    peer.request(K.CALL, 1000, 0, ['add'], [2, 2]);
    assert.deepEqual(await peer.reply(1000), [K.RESULT, 1000, 4]);
    await assertServerHealthy(fx);
  });

  it('never runs code through constructor.constructor, directly, pipelined or as a promise argument', async (t) => {
    const fx = await fixture(t, { allowSetAttr: true, allowDelAttr: true });
    const g = globalThis as { __netrefPwned?: unknown };
    delete g.__netrefPwned;
    const code = 'globalThis.__netrefPwned = true; return process';
    const peer = await fx.peer();
    const fnId = await exportFn(peer, 1);
    peer.request(K.CALL, 2, 0, ['constructor', 'constructor'], ['return process']);
    assertAttributeError(await peer.reply(2), 'constructor.constructor("return process")');
    peer.request(K.CALL, 3, 0, ['constructor', 'constructor'], [code], Flags.KEEP);
    peer.request(K.CALL, 4, 3, [], [], Flags.ON_ANSWER);
    assertAttributeError(await peer.reply(3), 'constructor.constructor(code), kept');
    assert.equal((await peer.reply(4))[0], K.ERROR, 'calling the kept answer fails');
    peer.request(K.CALL, 5, fnId, ['constructor'], [code]);
    assertAttributeError(await peer.reply(5), 'fn.constructor(code)');
    peer.request(K.GET, 6, 0, ['__proto__', 'constructor'], null);
    assertAttributeError(await peer.reply(6), '__proto__.constructor');
    peer.request(K.GET, 7, 0, ['add', 'constructor'], null);
    assertAttributeError(await peer.reply(7), 'add.constructor');
    peer.send([K.CALL, 0, 8, 0, ['echo'], [new Tagged(Tag.PROMISE, [false, 0, ['constructor', 'constructor']])]]);
    const r8 = await Promise.race([peer.reply(8), peer.closed.then(() => undefined)]);
    if (r8) assertAttributeError(r8, 'a PROMISE argument on constructor.constructor');
    peer.send([K.CALL, 0, 9, 0, ['echo'], [new Tagged(Tag.PROMISE, [false, fnId, ['constructor']])]]);
    const r9 = await Promise.race([peer.reply(9), peer.closed.then(() => undefined)]);
    if (r9) assertAttributeError(r9, 'a PROMISE argument on fn.constructor');
    assert.equal(g.__netrefPwned, undefined, 'no code sent by the peer ran');
    await assertServerHealthy(fx);
  });

  it('LOOKUP finds only what was published, never names of Object.prototype', async (t) => {
    const fx = await fixture(t);
    fx.server.publish('answer', 42);
    const peer = await fx.peer();
    let seq = 0;
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      peer.request(K.LOOKUP, ++seq, 0, [name], null);
      assertAttributeError(await peer.reply(seq), `LOOKUP ${name}`);
    }
    peer.request(K.LOOKUP, ++seq, 0, ['answer'], null);
    assert.deepEqual(await peer.reply(seq), [K.RESULT, seq, 42]);
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: lifecycle hooks of a service that does not extend Service', () => {
  it('onConnect/onDisconnect, when netref calls them as hooks, are not reachable on any root service', async (t) => {
    // Servers take any object as the service (ServiceLike). If Connection calls its onConnect/onDisconnect as
    // lifecycle hooks whatever its class, a peer must not be able to call them with arguments of its choosing.
    const forged: unknown[] = [];
    let hookCalled = false;
    class PlainApi {
      add(a: number, b: number) {
        return a + b;
      }
      onConnect(conn: unknown) {
        if (conn instanceof Connection) hookCalled = true;
        else forged.push(['onConnect', conn]);
      }
      onDisconnect(conn: unknown) {
        if (!(conn instanceof Connection)) forged.push(['onDisconnect', conn]);
      }
    }
    const server = new Server(new PlainApi(), { host: '127.0.0.1', port: 0 });
    await server.start();
    const peer = await RawPeer.open(server.port!);
    t.after(async () => {
      peer.destroy();
      await within(server.close(), 5000, 'the server to close');
    });
    peer.request(K.CALL, 1, 0, ['onConnect'], ['forged']);
    peer.request(K.CALL, 2, 0, ['onDisconnect'], ['forged']);
    const r1 = await peer.reply(1);
    const r2 = await peer.reply(2);
    peer.request(K.CALL, 3, 0, ['add'], [1, 2]);
    assert.deepEqual(await peer.reply(3), [K.RESULT, 3, 3]);
    // (Had netref not treated them as hooks on this class, they would be ordinary methods: nothing to check.)
    if (hookCalled) {
      assert.deepEqual(forged, [], "a hook ran on the peer's request, with arguments the peer chose");
      assertAttributeError(r1, 'CALL onConnect on a plain-class service');
      assertAttributeError(r2, 'CALL onDisconnect on a plain-class service');
    }
  });
});

describe('hostile peers: values smuggled past the value rules', () => {
  /** A CALL of `mirror` whose one argument is msgpackr's own Error extension (ext 0x65) holding `data`. */
  const errorExt = (seq: number, data: unknown[]) =>
    rawRequest(K.CALL, seq, 0, ['mirror'], Buffer.concat([Buffer.from([0x91, 0xd4, 0x65, 0x00]), encode(data)]));

  /** Every value reachable from `v` (own properties, Error causes, Map and Set entries). */
  const reachable = (v: unknown, out: unknown[] = [], seen = new Set<unknown>()): unknown[] => {
    out.push(v);
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return out;
    seen.add(v);
    if (typeof v === 'function') return out;
    if (v instanceof Map) for (const [k, x] of v) reachable(x, reachable(k, out, seen), seen);
    if (v instanceof Set) for (const x of v) reachable(x, out, seen);
    if (v instanceof Error && 'cause' in v) reachable(v.cause, out, seen);
    if (v instanceof Tagged) reachable(v.value, out, seen);
    for (const k of Object.keys(v)) reachable((v as Record<string, unknown>)[k], out, seen);
    return out;
  };

  it("msgpackr's Error extension (0x65) cannot hand the service, or the peer, the server's own functions", async (t) => {
    // errors[name] in msgpackr's decoder is a lookup on a plain object: the name 'valueOf' yields its table of
    // the process's Error constructors. Functions never cross by value (DESIGN §4).
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.sendBody(errorExt(1, ['valueOf', 'm', null]));
    const outcome = await Promise.race([peer.reply(1), peer.closed.then(() => 'closed' as const)]);
    if (outcome === 'closed') {
      await assertRefused(fx, peer, /./);
    } else {
      const fns = fx.probe.seen.flatMap((a) => reachable(a)).filter((v) => typeof v === 'function');
      assert.deepEqual(
        fns.map((f) => (f as Function).name),
        [],
        'the service received live functions of the server process as plain data',
      );
      const refs = reachable(outcome[2]).filter((v) => v instanceof Tagged && v.tag === Tag.REMOTE);
      assert.equal(refs.length, 0, "the reply handed the peer references to the server's Error constructors");
    }
    await assertServerHealthy(fx);
  });

  it("an Error built by msgpackr's extension (0x65) gets no cause past the value rules", async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    // The cause holds a protocol-tagged Map: decoded through the value rules it becomes a Map, never a raw Tagged.
    peer.sendBody(errorExt(1, ['TypeError', 'm', new Tagged(Tag.MAP, ['k', 1])]));
    const outcome = await Promise.race([peer.reply(1), peer.closed.then(() => 'closed' as const)]);
    if (outcome === 'closed') {
      await assertRefused(fx, peer, /./);
    } else {
      const raw = fx.probe.seen.flatMap((a) => reachable(a)).filter((v) => v instanceof Tagged);
      assert.equal(raw.length, 0, 'the service received a raw protocol Tagged inside an Error cause');
    }
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: prototype pollution', () => {
  it('__proto__ and constructor keys inside arguments change no prototype', async (t) => {
    const fx = await fixture(t);
    const protoOfService = Object.getPrototypeOf(fx.service);
    const polluted = rawMap([['polluted', encode(true)]]);
    const proto = rawMap([['__proto__', polluted]]);
    const ctor = rawMap([['constructor', rawMap([['prototype', polluted]])]]);
    const deep = rawMap([['a', rawMap([['b', proto]])]]);
    const both = rawMap([
      ['__proto__', polluted],
      ['constructor', rawMap([['prototype', polluted]])],
      ['x', encode(1)],
    ]);
    // The same objects as msgpackr records (ext 0x72), six of them so its compiled fast path is used too.
    const { Packr } = await import('msgpackr');
    const recordPackr = new Packr({ useRecords: true, structuredClone: false });
    const withProtoKey: Record<string, unknown> = {};
    Object.defineProperty(withProtoKey, '__proto__', {
      value: { polluted: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const records = recordPackr.pack(Array.from({ length: 6 }, () => withProtoKey));
    const peer = await fx.peer();
    let seq = 0;
    for (const [what, arg] of [
      ['__proto__ key', proto],
      ['constructor.prototype keys', ctor],
      ['a nested __proto__ key', deep],
      ['both keys', both],
      ['records', Buffer.from(records)],
    ] as const) {
      fx.probe.seen.length = 0;
      peer.sendBody(rawRequest(K.CALL, ++seq, 0, ['inspect'], Buffer.concat([Buffer.from([0x91]), arg])));
      const reply = await peer.reply(seq);
      assert.equal(reply[0], K.RESULT, `${what}: ${JSON.stringify(reply)}`);
      assert.equal(({} as Record<string, unknown>).polluted, undefined, `${what}: Object.prototype is clean`);
      assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false, what);
      const walk = (v: unknown): void => {
        if (v === null || typeof v !== 'object') return;
        assert.ok(
          Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === Array.prototype,
          `${what}: a decoded object has a prototype the peer chose`,
        );
        assert.ok(!('polluted' in v) || Object.hasOwn(v, 'polluted'), `${what}: no inherited 'polluted'`);
        for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k]);
      };
      assert.equal(fx.probe.seen.length, 1, what);
      walk(fx.probe.seen[0]);
    }
    // A Map key and Error props named __proto__ are just data.
    peer.send([K.CALL, 0, ++seq, 0, ['echo'], [new Tagged(Tag.MAP, ['__proto__', { polluted: true }])]]);
    assert.equal((await peer.reply(seq))[0], K.RESULT);
    const errorProps: Record<string, unknown> = {};
    Object.defineProperty(errorProps, '__proto__', { value: { polluted: true }, enumerable: true });
    peer.send([
      K.CALL,
      0,
      ++seq,
      0,
      ['echo'],
      [new Tagged(Tag.ERROR, { name: '__proto__', message: 'm', props: errorProps, cause: { polluted: true } })],
    ]);
    assert.equal((await peer.reply(seq))[0], K.RESULT);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(fx.service), protoOfService, 'the service sees no prototype change');
    assert.equal((fx.service as unknown as { polluted?: unknown }).polluted, undefined);
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: every built-in name in every operation that takes a name (audit)', () => {
  const BUILTINS = [
    ...new Set([...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Function.prototype)]),
  ].filter((n) => n !== 'name' && n !== 'length'); // data names a class may use itself (exposure.test.ts)
  const NEVER = [
    'constructor',
    'prototype',
    '__proto__',
    '__defineGetter__',
    '__defineSetter__',
    '__lookupGetter__',
    '__lookupSetter__',
  ];
  const snapshot = (o: object) =>
    Object.getOwnPropertyNames(o).map((n) => [n, Object.getOwnPropertyDescriptor(o, n)?.value]);

  /** Asks for `names` in every operation on the root, a function export and a kept plain-object answer. */
  async function askEverywhere(fx: Awaited<ReturnType<typeof fixture>>, names: string[], lookup: boolean) {
    const peer = await fx.peer();
    const fnId = await exportFn(peer, 1);
    peer.request(K.CALL, 2, 0, ['echo'], [{ a: 1 }], Flags.KEEP); // kept: never FINISHed by this peer
    assert.deepEqual(await peer.reply(2), [K.RESULT, 2, { a: 1 }]);
    let seq = 100;
    const asked: [number, string][] = [];
    const ask = (kind: number, target: number, path: string[], payload: unknown, what: string, flags = 0) => {
      peer.request(kind, ++seq, target, path, payload, flags);
      asked.push([seq, what]);
    };
    const promise = (onAnswer: boolean, target: number, path: string[]) =>
      new Tagged(Tag.PROMISE, [onAnswer, target, path]);
    for (const name of names) {
      for (const [target, on, flags] of [
        [0, 'the service', 0],
        [fnId, 'a function export', 0],
        [2, 'a kept answer', Flags.ON_ANSWER],
      ] as const) {
        ask(K.CALL, target, [name], [], `CALL ${name} on ${on}`, flags);
        ask(K.GET, target, [name], null, `GET ${name} on ${on}`, flags);
        ask(K.SET, target, [name], 'pwned', `SET ${name} on ${on}`, flags);
        ask(K.DEL, target, [name], null, `DEL ${name} on ${on}`, flags);
        ask(K.GET, target, [name, 'x'], null, `GET ${name}.x on ${on}`, flags);
        ask(K.GET, target, [name], null, `GET (COPY) ${name} on ${on}`, flags | Flags.COPY);
        ask(K.DESCRIBE, target, [name], null, `DESCRIBE ${name} on ${on}`, flags);
        ask(K.ITERATE, target, [name], [IterateAction.OPEN, 1], `ITERATE ${name} on ${on}`, flags);
      }
      ask(K.CALL, 0, ['echo', name], [], `CALL echo.${name}`);
      ask(K.SET, 0, ['echo', name], 'pwned', `SET echo.${name}`);
      if (lookup) ask(K.LOOKUP, 0, [name], null, `LOOKUP ${name}`);
      for (const [p, what] of [
        [promise(false, 0, [name]), 'the service'],
        [promise(false, fnId, [name]), 'a function export'],
        [promise(true, 2, [name]), 'a kept answer'],
        [promise(false, 0, ['echo', name]), 'a method'],
      ] as const) {
        peer.send([K.CALL, 0, ++seq, 0, ['mirror'], [p]]);
        asked.push([seq, `a PROMISE argument reading ${name} on ${what}`]);
      }
    }
    for (const [s, what] of asked) assertAttributeError(await peer.reply(s), what);
    assert.equal(peer.isClosed, false, 'refusals are replies, the connection is still open');
    assert.deepEqual(fx.probe.seen, [], 'no PROMISE argument reached the service');
  }

  it('refuses every name of Object.prototype and Function.prototype in every request kind and in PROMISE', async (t) => {
    // Writes and deletes allowed: only the name rules stand between the peer and the object.
    const fx = await fixture(t, { allowSetAttr: true, allowDelAttr: true });
    fx.server.publish('answer', 42);
    const before = [
      snapshot(Object.prototype),
      snapshot(Function.prototype),
      snapshot(Object.getPrototypeOf(fx.service)),
    ];
    const ownBefore = Object.getOwnPropertyNames(fx.service).sort();
    await askEverywhere(fx, BUILTINS, true);
    assert.deepEqual(
      [snapshot(Object.prototype), snapshot(Function.prototype), snapshot(Object.getPrototypeOf(fx.service))],
      before,
      'Object.prototype, Function.prototype and the service class are unchanged',
    );
    assert.deepEqual(Object.getOwnPropertyNames(fx.service).sort(), ownBefore);
    await assertServerHealthy(fx);
  });

  it('with allowAllAttrs (classic mode) the never-reachable names stay refused in every operation', async (t) => {
    const fx = await fixture(t, { allowAllAttrs: true, allowSetAttr: true, allowDelAttr: true });
    const before = [snapshot(Object.prototype), snapshot(Function.prototype)];
    await askEverywhere(fx, NEVER, false);
    assert.deepEqual([snapshot(Object.prototype), snapshot(Function.prototype)], before);
    await assertServerHealthy(fx);
  });

  it('__proto__ and constructor keys in the hello and in a SET value change no prototype', async (t) => {
    const fx = await fixture(t, { allowSetAttr: true });
    const polluted = rawMap([['polluted', encode(true)]]);
    const hello = rawMap([
      ['magic', encode('netref')],
      ['version', encode([1, 0])],
      ['features', encode([])],
      ['__proto__', polluted],
      ['constructor', rawMap([['prototype', polluted]])],
    ]);
    const peer = await fx.peer(false);
    peer.sendBody(hello);
    const value = rawMap([
      ['__proto__', polluted],
      ['constructor', rawMap([['prototype', polluted]])],
    ]);
    peer.sendBody(rawRequest(K.SET, 1, 0, ['data'], value));
    assert.deepEqual(await peer.reply(1), [K.RESULT, 1, undefined]);
    const data = (fx.service as unknown as { data: object }).data;
    assert.equal(Object.getPrototypeOf(data), Object.prototype, 'the stored value has a plain prototype');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is clean');
    assert.equal((data as Record<string, unknown>).polluted, undefined);
    await assertServerHealthy(fx);
  });
});

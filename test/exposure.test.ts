import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttributeError, delAttr, Service, setAttr } from '../src/index.js';
import { pair } from './support/pair.js';

const ran: string[] = [];

class Guarded extends Service {
  publicField = 'pub';
  name = 'own name';
  length = 3;
  _hiddenField = 'secret';
  #priv = 'private';
  get computed() {
    return 'getter';
  }
  method() {
    return 'm';
  }
  _private() {
    ran.push('_private');
  }
  override toString() {
    ran.push('toString');
    return 'Guarded';
  }
  override onConnect() {}
  leak() {
    return this.#priv.length;
  }
}

async function refused(p: unknown, name: RegExp | string): Promise<void> {
  await assert.rejects(Promise.resolve(p), (e: Error) => {
    assert.ok(e instanceof AttributeError, `expected AttributeError, got ${e.name}: ${e.message}`);
    assert.match(e.message, typeof name === 'string' ? new RegExp(`'${name.replace(/[$_]/g, '\\$&')}'`) : name);
    return true;
  });
}

describe('exposure', () => {
  it('reaches methods, getters and own enumerable data', async () => {
    const p = await pair({ service: Guarded });
    const r = p.b.root as any;
    assert.equal(await r.method(), 'm');
    assert.equal(await r.computed, 'getter');
    assert.equal(await r.publicField, 'pub');
    assert.equal(await r.name, 'own name', 'an own property may be called name');
    assert.equal(await r.length, 3);
    assert.equal(await r.leak(), 7);
    await p.close();
  });

  it('refuses private, prototype, constructor and built-in names; the code behind them never runs', async () => {
    const p = await pair({ service: Guarded });
    const r = p.b.root as any;
    ran.length = 0;
    await refused(r._private(), '_private');
    await refused(r._hiddenField, '_hiddenField');
    await refused(r.constructor, 'constructor');
    await refused(r.constructor.constructor('return process')(), 'constructor');
    await refused(r.__proto__, '__proto__');
    await refused(r.prototype, 'prototype');
    await refused(
      r.__defineGetter__('x', () => 1),
      '__defineGetter__',
    );
    // eslint-disable-next-line no-prototype-builtins -- the point: a netref must refuse it
    await refused(r.hasOwnProperty('x'), 'hasOwnProperty');
    await refused(r.valueOf(), 'valueOf');
    await refused(r.method.call(null), 'call');
    await refused(r.method.bind(null), 'bind');
    await refused(r.onConnect(), 'onConnect');
    await refused(r.onDisconnect(), 'onDisconnect');
    await refused(r.nothingHere, /has no attribute 'nothingHere'/);
    assert.deepEqual(ran, []);
    // `toString` on a netref is answered locally; the remote one is never reached that way
    assert.match(r.toString(), /netref/);
    assert.deepEqual(ran, []);
    await p.close();
  });

  it('refuses on functions: name, length, call, apply are not reachable', async () => {
    const p = await pair({
      service: new (class extends Service {
        fn() {
          return function named(a: number) {
            return a;
          };
        }
      })(),
    });
    const fn = await (p.b.root as any).fn();
    assert.equal(await fn(4), 4);
    await refused(fn.name, 'name');
    await refused(fn.length, 'length');
    await refused(fn.apply(null, [1]), 'apply');
    await p.close();
  });

  it('allowPublicAttrs: false hides data attributes but not methods', async () => {
    const p = await pair({ service: Guarded, protocolConfig: { allowPublicAttrs: false } });
    const r = p.b.root as any;
    await refused(r.publicField, /allowPublicAttrs is off/);
    assert.equal(await r.method(), 'm');
    await p.close();
  });

  it('setAttr and delAttr need allowSetAttr / allowDelAttr', async () => {
    const svc = new Guarded();
    const p = await pair({ service: svc });
    await refused(setAttr(p.b.root, 'publicField', 'x'), /allowSetAttr is off/);
    await refused(delAttr(p.b.root, 'publicField'), /allowDelAttr is off/);
    assert.equal(svc.publicField, 'pub');
    await p.close();

    const q = await pair({ service: svc, protocolConfig: { allowSetAttr: true, allowDelAttr: true } });
    await setAttr(q.b.root, 'publicField', 'changed');
    assert.equal(svc.publicField, 'changed');
    await setAttr(q.b.root, 'fresh', { n: 1 });
    assert.deepEqual((svc as any).fresh, { n: 1 });
    await delAttr(q.b.root, 'fresh');
    assert.equal('fresh' in svc, false);
    await refused(setAttr(q.b.root, '__proto__', { polluted: true }), '__proto__');
    await refused(setAttr(q.b.root, '_hiddenField', 'x'), '_hiddenField');
    await refused(setAttr(q.b.root, 'constructor', 'x'), 'constructor');
    assert.equal(({} as any).polluted, undefined);
    await q.close();
  });

  it('allowAllAttrs opens everything but the never-reachable names', async () => {
    const p = await pair({ service: Guarded, protocolConfig: { allowAllAttrs: true } });
    const r = p.b.root as any;
    ran.length = 0;
    await r._private();
    assert.equal(await r._hiddenField, 'secret');
    assert.ok(ran.includes('_private'));
    await refused(r.constructor.constructor('return process')(), 'constructor');
    await refused(r.__proto__, '__proto__');
    await p.close();
  });
});

describe('exposure of names a class defines itself', () => {
  it('a method called name or length is reachable; a function own name/length is not', async () => {
    const p = await pair({
      service: new (class extends Service {
        name() {
          return 'svc';
        }
        length() {
          return 3;
        }
      })(),
    });
    const r = p.b.root as any;
    assert.equal(await r.name(), 'svc');
    assert.equal(await r.length(), 3);
    await refused(r.name.name, 'name');
    await p.close();
  });
});

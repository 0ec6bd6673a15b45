import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AttributeError,
  describe as describeRemote,
  Service,
  type MemberDescription,
  type Remote,
} from '../src/index.js';
import { decode, MessageKind } from '../src/protocol/index.js';
import { classicPair, pair } from './support/pair.js';

class Base extends Service {
  static override docs: Record<string, string> = { add: 'Adds two numbers (base)', ping: 'Answers pong' };
  ping() {
    return 'pong';
  }
}

class Calculator extends Base {
  static override docs = { add: 'Adds two numbers', total: 'The running total' };
  total = 0;
  _hidden = 'x';
  reads = 0;
  add(a: number, b: number) {
    return a + b;
  }
  scale(x: number, by = 2) {
    return x * by;
  }
  get doubled() {
    this.reads++;
    return this.total * 2;
  }
  _private() {}
  override toString() {
    return 'Calculator';
  }
  override onConnect() {}
  history() {
    return new History();
  }
}

class History {
  entries = [1, 2];
  last() {
    return this.entries.at(-1);
  }
}

const byName = (members: MemberDescription[]) => new Map(members.map((m) => [m.name, m]));

describe('describe', () => {
  it("lists a service's reachable names with their kind, arity and doc string, sorted", async () => {
    const calc = new Calculator();
    const p = await pair({}, { service: calc });
    const members = await describeRemote(p.a.root);
    assert.deepEqual(
      members.map((m) => m.name),
      ['add', 'doubled', 'history', 'ping', 'reads', 'scale', 'total'],
    );
    const m = byName(members);
    assert.deepEqual(m.get('add'), { name: 'add', kind: 'method', arity: 2, doc: 'Adds two numbers' });
    assert.deepEqual(m.get('scale'), { name: 'scale', kind: 'method', arity: 1 }, 'arity is the function length');
    assert.deepEqual(
      m.get('ping'),
      { name: 'ping', kind: 'method', arity: 0, doc: 'Answers pong' },
      'a base class doc',
    );
    assert.deepEqual(m.get('total'), { name: 'total', kind: 'property', doc: 'The running total' });
    assert.deepEqual(m.get('doubled'), { name: 'doubled', kind: 'getter' });
    assert.equal(calc.reads, 0, 'describing a getter does not run it');
    await p.close();
  });

  it('lists only what the peer may reach: data properties go with allowPublicAttrs off', async () => {
    const p = await pair({}, { service: Calculator, protocolConfig: { allowPublicAttrs: false } });
    const names = (await describeRemote(p.a.root)).map((m) => m.name);
    assert.deepEqual(names, ['add', 'doubled', 'history', 'ping', 'scale']);
    await p.close();
  });

  it('describes a pending result or a path in one round trip', async () => {
    const p = await pair({}, { service: Calculator });
    const root = p.a.root as Remote<Calculator>;
    const from = p.tapA.sent.length;
    const members = await describeRemote(root.history());
    assert.deepEqual(
      members.map((m) => [m.name, m.kind]),
      [
        ['entries', 'property'],
        ['last', 'method'],
      ],
    );
    const kinds = p.tapA.sent.slice(from).map((f) => (decode(f) as unknown[])[0]);
    assert.deepEqual(
      kinds.filter((k) => k !== MessageKind.FINISH),
      [MessageKind.CALL, MessageKind.DESCRIBE],
    );
    // The array the remote end holds: its methods are reachable, its indices and `length` are not listed.
    const entries = byName(await describeRemote(root.history().entries));
    assert.equal(entries.get('map')?.kind, 'method');
    assert.equal(entries.has('0') || entries.has('length'), false);
    await p.close();
  });

  it('rejects with AttributeError on a refused object, and TypeError without a netref', async () => {
    const p = await pair({}, { service: Calculator });
    await assert.rejects(describeRemote(p.a.root._hidden), AttributeError);
    await assert.rejects(describeRemote(p.a.root.constructor), AttributeError);
    await assert.rejects(describeRemote({}), TypeError);
    await p.close();
  });

  describe('on a classic end (what the shell completes on)', () => {
    it('lists globals, module members and inherited names, but never the unreachable ones', async () => {
      const { c, close } = await classicPair();
      const globals = byName(await describeRemote(c.globals));
      for (const name of ['process', 'Array', 'setTimeout', 'globalThis']) assert.ok(globals.has(name), name);
      assert.equal(globals.get('setTimeout')!.kind, 'method');
      const os = byName(await describeRemote(c.modules.os));
      assert.equal(os.get('hostname')?.kind, 'method');
      const map = byName(await describeRemote(c.eval('new Map([[1, 2]])')));
      assert.equal(map.get('get')?.kind, 'method');
      assert.equal(map.get('size')?.kind, 'getter');
      assert.ok(map.has('hasOwnProperty'), 'Object.prototype names are reachable on a classic end');
      for (const never of ['constructor', '__proto__', '__defineGetter__', '__lookupSetter__']) {
        assert.equal(map.has(never), false, never);
      }
      await close();
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionClosedError, release, Service, type Remote } from '../src/index.js';
import { collect } from './support/gc.js';
import { pair } from './support/pair.js';

class Item {
  constructor(readonly n: number) {}
  get() {
    return this.n;
  }
}

/** Tracks which of its items are still alive, through WeakRefs only. */
class Factory extends Service {
  refs: WeakRef<Item>[] = [];
  kept = new Item(-1);
  make(n: number) {
    const item = new Item(n);
    this.refs.push(new WeakRef(item));
    return item;
  }
  same() {
    return this.kept;
  }
  alive() {
    return this.refs.filter((r) => r.deref() !== undefined).length;
  }
}

describe('references', () => {
  it('explicit release lets the owner free the object; the netref is dead afterwards', async () => {
    const svc = new Factory();
    const p = await pair({ service: svc });
    const root = p.b.root as Remote<Factory>;
    let item: any = await root.make(1);
    assert.equal(await item.get(), 1);
    release(item);
    release(item); // twice is harmless
    await assert.rejects(Promise.resolve(item.get()), /released/);
    item = undefined;
    await collect();
    assert.equal(svc.alive(), 0);
    await p.close();
  });

  it('Symbol.dispose releases (using)', async () => {
    const svc = new Factory();
    const p = await pair({ service: svc });
    {
      using item = (await (p.b.root as Remote<Factory>).make(2)) as any;
      assert.equal(await item.get(), 2);
    }
    await collect();
    assert.equal(svc.alive(), 0);
    await p.close();
  });

  it('garbage-collected netrefs are released, in batches, and memory stays flat', async () => {
    const svc = new Factory();
    const p = await pair({ service: svc });
    const root = p.b.root as Remote<Factory>;
    // In its own function, so no frame of ours keeps the last batch alive.
    const churn = async () => {
      for (let round = 0; round < 5; round++) {
        const items = await Promise.all(Array.from({ length: 400 }, (_, i) => root.make(i)));
        assert.equal(await items[399]!.get(), 399);
      }
    };
    await churn();
    const framesBefore = p.tapB.sent.length;
    for (let i = 0; i < 20 && svc.alive() > 0; i++) await collect(2);
    assert.equal(svc.alive(), 0, 'the owner freed every released item');
    // 2000 releases travelled in a handful of batched frames, not one per netref
    assert.ok(p.tapB.sent.length - framesBefore < 50, `releases took ${p.tapB.sent.length - framesBefore} frames`);
    await p.close();
  });

  it('a reference sent again while its release is in flight survives', async () => {
    const svc = new Factory();
    const p = await pair({ service: svc });
    const root = p.b.root as Remote<Factory>;
    const first: any = await root.same();
    // The release of `first` and the next send of the same object cross on the wire.
    const again = root.same();
    release(first);
    const second: any = await again;
    assert.notEqual(second, first);
    assert.equal(await second.get(), -1);
    await collect();
    assert.equal(await second.get(), -1, 'still reachable after the release was processed');
    await p.close();
  });

  it('a closed connection drops its exports and kills its netrefs', async () => {
    const svc = new Factory();
    const p = await pair({ service: svc });
    const item: any = await (p.b.root as Remote<Factory>).make(3);
    await p.close();
    await assert.rejects(Promise.resolve(item.get()), ConnectionClosedError);
    await collect();
    assert.equal(svc.alive(), 0);
  });
});

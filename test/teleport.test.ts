import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttributeError, classic, isNetref, Service, teleport } from '../src/index.js';
import { classicPair, pair, within } from './support/pair.js';

describe('teleport', () => {
  it('sends a function to a classic end and gives a netref that calls it there', async () => {
    const { c, close } = await classicPair();
    const add = await teleport(c, (a: number, b: number) => a + b);
    assert.ok(isNetref(add));
    assert.equal(await add(2, 3), 5);
    const fetchLater = await teleport(c, async function later(ms: number) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'done';
    });
    assert.equal(await fetchLater(1), 'done');
    // Arguments cross as usual: a local callback is called back from there.
    const each = await teleport(c, (n: number, fn: (i: number) => void) => {
      for (let i = 0; i < n; i++) fn(i);
    });
    const seen: number[] = [];
    await each(3, (i: number) => void seen.push(i));
    assert.deepEqual(seen, [0, 1, 2]);
    await close();
  });

  it('runs in the remote process', async () => {
    const c = await classic.connectSubproc({ stderr: 'pipe' });
    try {
      const pid = await teleport(c, () => process.pid);
      const remotePid = await within(Promise.resolve(pid()), 10_000, 'the teleported function');
      assert.equal(typeof remotePid, 'number');
      assert.notEqual(remotePid, process.pid);
    } finally {
      await c.close();
    }
  });

  it('does not take closures along: a captured variable does not exist there', async () => {
    const { c, close } = await classicPair();
    const secret = 41;
    const leak = await teleport(c, () => secret + 1);
    await assert.rejects(
      Promise.resolve(leak()),
      (e: Error) => e instanceof ReferenceError && /secret/.test(e.message),
    );
    await close();
  });

  it('refuses bound, native and method-shorthand functions, netrefs and non-functions, with clear errors', async () => {
    const { c, close } = await classicPair();
    function named(this: unknown) {
      return this;
    }
    await assert.rejects(
      teleport(c, named.bind(null)),
      (e: Error) => e instanceof TypeError && /bound/.test(e.message),
    );
    await assert.rejects(teleport(c, Math.max), (e: Error) => e instanceof TypeError && /native/.test(e.message));
    const shorthand = {
      method() {
        return 1;
      },
    };
    await assert.rejects(
      teleport(c, shorthand.method),
      (e: Error) => e instanceof SyntaxError && /not a function expression/.test(e.message),
    );
    await assert.rejects(teleport(c, c.root.eval), (e: Error) => e instanceof TypeError && /netref/.test(e.message));
    await assert.rejects(teleport(c, 'x => x' as never), TypeError);
    await close();
  });

  it('refuses a peer that is not classic with a clear error', async () => {
    const p = await pair({}, { service: class Plain extends Service {} });
    await assert.rejects(
      teleport(p.a, () => 1),
      (e: Error) => e instanceof AttributeError && /needs a peer serving ClassicService/.test(e.message),
    );
    await p.close();
  });
});

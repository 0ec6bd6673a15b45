import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentCall, oneway, Service, TimeoutError, timed, withSignal, type Remote } from '../src/index.js';
import { pair, within } from './support/pair.js';

class Slow extends Service {
  running = 0;
  maxRunning = 0;
  aborted: unknown[] = [];
  logged: number[] = [];
  hang(): Promise<void> {
    const { signal } = currentCall();
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        this.aborted.push(signal.reason);
        reject(signal.reason);
      });
    });
  }
  async held(release: Promise<void>) {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await release;
    this.running--;
  }
  async gate(ms: number) {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((r) => setTimeout(r, ms));
    this.running--;
    return true;
  }
  log(n: number) {
    this.logged.push(n);
  }
  fail() {
    throw new Error('oneway failure');
  }
  who() {
    return currentCall().connection.id;
  }
}

describe('calls', () => {
  it('syncRequestTimeout rejects a call with TimeoutError and tells the callee', async () => {
    const svc = new Slow();
    const p = await pair({ service: svc }, { protocolConfig: { syncRequestTimeout: 100 } });
    const started = Date.now();
    await assert.rejects(Promise.resolve((p.b.root as Remote<Slow>).hang()), TimeoutError);
    assert.ok(Date.now() - started >= 90);
    await within(
      (async () => {
        while (svc.aborted.length === 0) await new Promise((r) => setImmediate(r));
      })(),
      2000,
      'the callee to see the abort',
    );
    await p.close();
  });

  it('timed() sets a per-call timeout', async () => {
    const p = await pair({ service: Slow });
    const root = timed(p.b.root as Remote<Slow>, 50);
    await assert.rejects(
      Promise.resolve(root.hang()),
      (e: Error) => e instanceof TimeoutError && /50 ms/.test(e.message),
    );
    assert.equal(typeof (await root.who()), 'string');
    await p.close();
  });

  it('withSignal() aborts the wait and the handler sees currentCall().signal abort', async () => {
    const svc = new Slow();
    const p = await pair({ service: svc });
    const ac = new AbortController();
    const call = Promise.resolve(withSignal(p.b.root as Remote<Slow>, ac.signal).hang());
    await p.b.ping(); // replies keep order: once the ping is back, the call is running on the callee
    ac.abort(new Error('user gave up'));
    await assert.rejects(call, /user gave up/);
    await within(
      (async () => {
        while (svc.aborted.length === 0) await new Promise((r) => setImmediate(r));
      })(),
      2000,
      'the callee to see the abort',
    );
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(Promise.resolve(withSignal(p.b.root as Remote<Slow>, pre.signal).who()));
    await p.close();
  });

  it('oneway() sends without a reply; its failure is logged on the callee', async () => {
    const svc = new Slow();
    const p = await pair({ service: svc });
    const ow = oneway(p.b.root as Remote<Slow>);
    assert.equal(await ow.log(1), undefined);
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      await ow.fail();
      await (p.b.root as Remote<Slow>).log(2); // ordered after the oneway calls
    } finally {
      console.error = orig;
    }
    assert.deepEqual(svc.logged, [1, 2]);
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as unknown[])[1]), /oneway failure/);
    await p.close();
  });

  it('currentCall() names the connection and fails outside a handler', async () => {
    const p = await pair({ service: Slow });
    assert.equal(await (p.b.root as Remote<Slow>).who(), p.a.id);
    assert.throws(() => currentCall(), /outside a netref call handler/);
    await p.close();
  });

  it('maxPendingRequests bounds the handlers running at once; the rest wait, none is lost', async () => {
    const svc = new Slow();
    const p = await pair({ service: svc, protocolConfig: { maxPendingRequests: 4 } });
    const root = p.b.root as Remote<Slow>;
    const results = await Promise.all(Array.from({ length: 40 }, () => root.gate(2)));
    assert.equal(results.length, 40);
    assert.ok(results.every((r) => r === true));
    assert.equal(svc.maxRunning, 4);
    await p.close();
  });
});

// mDNS across real network namespaces (DESIGN §7): each test makes two namespaces joined by a veth pair, runs each
// side as its own process inside one (`ip netns exec`), and removes them afterwards. Nothing is multicast in the
// root namespace. Needs root and iproute2: without them every test fails, saying what is missing.
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { NetnsPair, netnsMissing, type NsChild } from './support/netns.js';

const ANNOUNCER = 'test/fixtures/discovery-announcer.ts';
const SEEKER = 'test/fixtures/discovery-seeker.ts';
const missing = netnsMissing();
const pairs: NetnsPair[] = [];
after(async () => {
  await Promise.all(pairs.map((p) => p.close()));
});

function lan(options?: { multicastRoute?: boolean; carrier?: boolean }): NetnsPair {
  assert.equal(missing, undefined, `these tests need network namespaces: ${missing}`);
  const pair = new NetnsPair(options);
  pairs.push(pair);
  return pair;
}

/** The parsed JSON of the next stdout line holding `key`. */
async function json(child: NsChild, key: string, ms?: number): Promise<any> {
  return JSON.parse(await child.line(new RegExp(`^\\{"${key}"`), ms));
}

/** Waits (bounded) until `check` holds; the failure shows `context()`. */
async function until(check: () => boolean, context: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not met within ${ms} ms: ${check}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function closePair(pair: NetnsPair): Promise<void> {
  pairs.splice(pairs.indexOf(pair), 1);
  await pair.close();
}

// The tests run side by side (each has its own namespaces): most of their time is spent waiting on processes.
describe('discovery across network namespaces', { concurrency: 3 }, () => {
  it('a service announced in one namespace is found and called from another', async (t: TestContext) => {
    const pair = lan();
    try {
      const announcer = pair.run(pair.a, ANNOUNCER);
      const up = await json(announcer, 'announced');
      assert.match(up.announced, /^ECHO on /);
      assert.match(up.host, /\.local$/);

      const seeker = pair.run(pair.b, SEEKER, ['discover', 'parrot', '600', '5', 'connect']);
      const latencies: number[] = [];
      for (let run = 0; run < 5; run++) {
        const { first, found } = await json(seeker, 'first');
        assert.equal(found.length, 1, JSON.stringify(found));
        const s = found[0];
        assert.equal(s.name, up.announced);
        assert.deepEqual(s.names, ['ECHO', 'PARROT']);
        assert.equal(s.host, up.host);
        assert.equal(s.port, up.port);
        assert.equal(s.addresses[0], pair.a.address, 'the address the answer came from comes first');
        assert.equal(s.txt.auth, 'none');
        assert.equal(typeof first, 'number');
        latencies.push(first);
      }
      t.diagnostic(`discover() to first answer, 5 runs: ${latencies.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);

      const { connected } = await json(seeker, 'connected');
      assert.equal(connected.pid, up.pid);
    } finally {
      await closePair(pair);
    }
  });

  it('SIGTERM withdraws the announcement with goodbyes, and the process still ends as it would have', async () => {
    const pair = lan();
    try {
      // One with no SIGTERM handler of its own (it must still die by the signal), one with its own handler.
      const plain = pair.run(pair.a, ANNOUNCER, ['--name', 'plain']);
      const handled = pair.run(pair.a, ANNOUNCER, ['--name', 'handled', '--own-handler']);
      const ups = await Promise.all([json(plain, 'announced'), json(handled, 'announced')]);
      assert.equal(ups[0].pid, plain.child.pid, '`ip netns exec` runs node itself');
      const watcher = pair.run(pair.b, SEEKER, ['watch', 'echo', '3000']);
      const heard = [(await json(watcher, 'answer')).answer, (await json(watcher, 'answer')).answer];
      assert.deepEqual(heard.sort(), ['handled', 'plain']);
      process.kill(plain.child.pid!, 'SIGTERM');
      process.kill(handled.child.pid!, 'SIGTERM');
      assert.deepEqual(await plain.exited(), { code: null, signal: 'SIGTERM' }, plain.stderr());
      assert.deepEqual(await json(handled, 'handled'), { handled: 'SIGTERM' });
      assert.deepEqual(await handled.exited(), { code: 0, signal: null }, handled.stderr());
      const { found } = await json(watcher, 'found');
      assert.deepEqual(found, [], 'the goodbyes removed both from the browse that had found them');
    } finally {
      await closePair(pair);
    }
  });

  it('a publisher killed without goodbye: connectByService moves past what does not answer', async () => {
    const pair = lan();
    try {
      // An announcement whose server is gone (nothing listens on its port) beside a live one, under one name.
      const dead = pair.run(pair.a, ANNOUNCER, ['--dead', '--names', 'ECHO', '--name', 'ghost']);
      const live = pair.run(pair.b, ANNOUNCER);
      const [, up] = await Promise.all([json(dead, 'announced'), json(live, 'announced')]);
      const client = pair.run(pair.b, SEEKER, ['connect', 'echo', '3000', '3']);
      for (let i = 0; i < 3; i++) assert.equal((await json(client, 'connected')).connected.pid, up.pid);
      // A browse that heard a publisher before it was SIGKILLed keeps it until its TTL runs out: stale.
      const watcher = pair.run(pair.a, SEEKER, ['watch', 'echo', '2500']);
      await json(watcher, 'answer');
      await json(watcher, 'answer');
      process.kill(live.child.pid!, 'SIGKILL');
      const { found } = await json(watcher, 'found');
      assert.equal(found.length, 2, 'no goodbye came, so the browse still lists it');
    } finally {
      await closePair(pair);
    }
  });

  it('no multicast route: discover fails with DiscoveryError saying so, announce reports an error', async () => {
    const pair = lan({ multicastRoute: false });
    try {
      const seeker = pair.run(pair.b, SEEKER, ['discover', 'echo', '500']);
      const { error, name } = await json(seeker, 'error');
      assert.equal(name, 'DiscoveryError');
      assert.match(error, /cannot look for 'echo'.*ENETUNREACH.*no route for multicast/);
      const announcer = pair.run(pair.a, ANNOUNCER);
      await json(announcer, 'announced');
      await until(() => /announcement error: .*ENETUNREACH/.test(announcer.stderr()), announcer.stderr);
    } finally {
      await closePair(pair);
    }
  });

  it('no multicast route and the only link not running yet: still DiscoveryError, never a silent loopback send', async () => {
    // Node does not list an interface without carrier; multicast-dns then sent over 127.0.0.1, which needs no
    // route: discover resolved [] with nothing said. Sends follow the routing table whatever is running.
    const pair = lan({ multicastRoute: false, carrier: false });
    try {
      const seeker = pair.run(pair.b, SEEKER, ['discover', 'echo', '500']);
      const { error, name } = await json(seeker, 'error');
      assert.equal(name, 'DiscoveryError');
      assert.match(error, /cannot look for 'echo'.*ENETUNREACH.*no route for multicast/);
    } finally {
      await closePair(pair);
    }
  });

  it('the same instance name in two namespaces: the later one takes " (2)", and both are found', async () => {
    const pair = lan();
    try {
      const first = pair.run(pair.a, ANNOUNCER, ['--name', 'twin']);
      assert.equal((await json(first, 'announced')).announced, 'twin');
      const second = pair.run(pair.b, ANNOUNCER, ['--name', 'twin']);
      assert.equal((await json(second, 'announced')).announced, 'twin (2)');
      const seeker = pair.run(pair.b, SEEKER, ['discover', 'echo', '600']);
      const { found } = await json(seeker, 'first');
      const seen = found.map((s: { name: string; addresses: string[] }) => [s.name, s.addresses[0]]);
      seen.sort((x: string[], y: string[]) => x[0]!.localeCompare(y[0]!));
      assert.deepEqual(seen, [
        ['twin', pair.a.address],
        ['twin (2)', pair.b.address],
      ]);
    } finally {
      await closePair(pair);
    }
  });
});

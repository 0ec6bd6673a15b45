// Mutation fuzzing of the server's side of the protocol. Real sessions (calls, callbacks, errors, netrefs,
// pipelined calls, releases, attributes, lookups, oneway and cancelled calls) are recorded as the frames a client
// sends; each fuzz case replays one of them, mutated, on a raw socket to a server. Whatever the bytes, the server
// must not throw, the mutated connection must either keep working or close with a NetrefError, a control client
// must keep working, no prototype may change, and memory must stay bounded.
//
// NETREF_FUZZ_MS (default 12000) bounds the time spent on cases; NETREF_FUZZ_SEED (printed) replays a run, and
// NETREF_FUZZ_SEED with NETREF_FUZZ_PATH (both printed with a failure) replays the failing case.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buffiter,
  connect,
  connectChannel,
  delAttr,
  describe as describeNetref,
  obtain,
  NetrefError,
  oneway,
  release,
  Server,
  Service,
  setAttr,
  StreamChannel,
  withSignal,
  type Connection,
} from '../src/index.js';
import { encode, MessageKind as K } from '../src/protocol/index.js';
import { collect } from './support/gc.js';
import { cutFrames, framed, mutateFrames, mutateStream, mutationArb, type Mutation } from './support/fuzzMutations.js';
import { TapChannel } from './support/pair.js';
import { RawPeer, until, within } from './support/rawPeer.js';

const FUZZ_MS = Number(process.env.NETREF_FUZZ_MS ?? 12_000);
const SEED = Number(process.env.NETREF_FUZZ_SEED ?? 0x6e6574);
/** fast-check's path of a failing case (printed with the failure, with its seed): replays that case first. */
const PATH = process.env.NETREF_FUZZ_PATH;
/** Small, so that most mutated length prefixes are over it and refused at once. */
const MAX_FRAME = 1024 * 1024;
const PING_SEQ = 987_654_321;

class Counter {
  n = 0;
  inc() {
    return ++this.n;
  }
  child() {
    return new Counter();
  }
}

/** One instance per connection: a mutated SET or DEL changes only that connection's own service. */
class FuzzService extends Service {
  label = 'fuzz';
  add(a: number, b: number) {
    return a + b;
  }
  echo(x: unknown) {
    return x;
  }
  fail(message: string) {
    throw new TypeError(message);
  }
  async later(x: unknown) {
    await new Promise((resolve) => setImmediate(resolve));
    return x;
  }
  counter() {
    return new Counter();
  }
  same(a: unknown, b: unknown) {
    return a === b;
  }
  async callBack(fn: (x: unknown) => Promise<unknown>, x: unknown) {
    return await fn(x);
  }
  *items(n: number) {
    for (let i = 0; i < n; i++) yield { i };
  }
  async *ticks(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }
  _private() {
    return 'secret';
  }
}

type Root = any;

/** What each recorded session does through the public API. */
const SCENARIOS: Record<string, (conn: Connection, r: Root) => Promise<void>> = {
  calls: async (_c, r) => {
    await r.add(1, 2);
    await r.echo({ a: [1, 'x', null, true, undefined], n: -1.5, big: 2n ** 70n, small: 5n });
    await r.echo([
      new Map<unknown, unknown>([
        [1, 'one'],
        ['k', { v: 2 }],
      ]),
      new Set([1, 'a']),
      new Date(0),
      /x+/gi,
    ]);
    await r.echo([new Uint8Array([1, 2, 3]), Buffer.from('hi'), new Float64Array([0.5]), new ArrayBuffer(4)]);
    await r.label;
  },
  errors: async (_c, r) => {
    const failed = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        () => undefined,
      );
    await failed(r.fail('boom'));
    await failed(r.nope());
    await failed(r._private());
    await failed(r.constructor.constructor('return process')());
    await r.echo(new RangeError('as a value', { cause: new Error('inner') }));
  },
  callbacks: async (_c, r) => {
    await r.callBack((x: number) => x * 2, 21);
    await r
      .callBack(() => {
        throw new RangeError('no');
      }, 0)
      .catch(() => undefined);
    await r.callBack(async (x: unknown) => [x, x], { deep: [1] });
  },
  netrefs: async (c, r) => {
    const k = await r.counter();
    await k.inc();
    await r.same(k, k);
    await r.echo([k, { k }]);
    release(k);
    await c.ping();
  },
  pipelined: async (_c, r) => {
    await r.counter().child().inc();
    await r.add(r.counter().inc(), r.add(1, 1));
    await r.echo(r.counter().n);
  },
  attributes: async (c, r) => {
    await setAttr(r, 'extra', { x: 1 });
    await r.extra.x;
    await delAttr(r, 'extra');
    await c.lookup('answer');
    oneway(r).add(1, 2);
    const ac = new AbortController();
    const p = Promise.resolve(withSignal(r, ac.signal).later(1));
    ac.abort();
    await p.catch(() => undefined);
    await r.add(2, 2);
  },
  iteration: async (_c, r) => {
    for await (const x of r.items(5)) void x;
    for await (const x of buffiter(r.ticks(40), { chunk: 2, maxChunk: 8 })) if (x === 3) break;
    await describeNetref(r);
    await obtain(r.counter());
  },
};

/** Runs each scenario against `port` and records the frames the client sent (its hello first; no GOODBYE). */
async function record(port: number): Promise<Uint8Array[][]> {
  const sessions: Uint8Array[][] = [];
  const all: Uint8Array[] = [];
  for (const [name, play] of Object.entries(SCENARIOS)) {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const tap = new TapChannel(new StreamChannel(socket));
    const conn = await connectChannel(tap, { heartbeat: false });
    await within(play(conn, conn.root), 5000, `the ${name} scenario`);
    await conn.ping(); // lets the last releases and FINISHes out
    const frames = tap.sent.map((f) => Uint8Array.from(f));
    await conn.close();
    sessions.push(frames);
    all.push(...(all.length ? frames.slice(1) : frames));
  }
  sessions.push(all);
  return sessions;
}

describe('fuzz: mutated recorded sessions against a running server', () => {
  it(`never throws, only closes the mutated connection with a NetrefError, leaks nothing (seed ${SEED})`, async (t) => {
    t.diagnostic(`seed ${SEED} (NETREF_FUZZ_SEED), ${FUZZ_MS} ms of cases (NETREF_FUZZ_MS)`);
    // Mutated flags make many failing requests ONEWAY, and the server logs each failure: counted, not printed.
    const consoleError = console.error;
    let onewayLogs = 0;
    console.error = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('netref: a oneway call failed')) onewayLogs++;
      else consoleError(...args);
    };
    const problems: unknown[] = [];
    const onProblem = (e: unknown) => problems.push(e);
    process.on('uncaughtExceptionMonitor', onProblem);
    process.on('unhandledRejection', onProblem);
    const config = { allowSetAttr: true, allowDelAttr: true, maxFrameSize: MAX_FRAME };

    const recorder = new Server(FuzzService, { host: '127.0.0.1', port: 0, protocolConfig: config });
    recorder.publish('answer', 42);
    await recorder.start();
    const sessions = await record(recorder.port!).finally(() => recorder.close());
    assert.equal(problems.length, 0, 'the recording itself ran cleanly');

    const server = new Server(FuzzService, { host: '127.0.0.1', port: 0, protocolConfig: config });
    server.publish('answer', 42);
    const reasons = new Map<number | undefined, Error | undefined>();
    const serverErrors: unknown[] = [];
    server.on('disconnect', (conn: Connection, reason: Error | undefined) => reasons.set(conn.peer.port, reason));
    // Handshake failures are reported here: each must be a NetrefError (kept only if not, to hold no memory).
    server.on('error', (e: unknown) => {
      if (!(e instanceof NetrefError)) serverErrors.push(e);
    });
    await server.start();
    const port = server.port!;
    const control = await connect('127.0.0.1', port);
    const controlRoot = control.root as Root;
    const snapshot = () =>
      [Object.prototype, Function.prototype, Array.prototype].map((p) =>
        Object.getOwnPropertyNames(p)
          .map((n) => `${n}:${typeof Object.getOwnPropertyDescriptor(p, n)?.value}`)
          .join(),
      );
    const clean = snapshot();
    // Memory is compared with what the server uses once warm (after WARM_CASES cases: compiled code, caches).
    const WARM_CASES = 200;
    await collect(5);
    let memBefore = process.memoryUsage();
    const stats = { cases: 0, working: 0, closed: new Map<string, number>() };

    try {
      await assertProperty(
        fc.asyncProperty(
          fc.nat({ max: sessions.length - 1 }),
          fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
          async (which, mutations) => {
            stats.cases++;
            if (stats.cases === WARM_CASES) {
              await collect(5);
              memBefore = process.memoryUsage();
            }
            const outcome = await replay(port, sessions[which]!, mutations, reasons);
            if (outcome.working) stats.working++;
            const name = outcome.reason?.name ?? 'undefined';
            stats.closed.set(name, (stats.closed.get(name) ?? 0) + 1);
            assert.ok(
              outcome.reason instanceof NetrefError,
              `the connection ended with ${outcome.reason?.name}: ${outcome.reason?.message}`,
            );
            assert.deepEqual(problems, [], 'nothing was thrown or rejected unhandled');
            assert.deepEqual(snapshot(), clean, 'no prototype changed');
            assert.equal(({} as Record<string, unknown>).polluted, undefined);
            assert.equal(
              await within(Promise.resolve(controlRoot.add(1, 2)), 3000, 'a call of the control client'),
              3,
              'the control client still works',
            );
          },
        ),
        {
          seed: SEED,
          ...(PATH ? { path: PATH } : {}),
          numRuns: 1_000_000,
          interruptAfterTimeLimit: FUZZ_MS,
          markInterruptAsFailure: false,
        },
      );
      assert.deepEqual(serverErrors.map(String), [], 'the server reported only NetrefErrors');
      await until(() => server.clientCount === 1, 5000, 'every fuzzed connection to be gone');
      await collect(5);
      const memAfter = process.memoryUsage();
      const grown = (memAfter.heapUsed + memAfter.arrayBuffers - memBefore.heapUsed - memBefore.arrayBuffers) / 2 ** 20;
      t.diagnostic(
        `${stats.cases} cases: ${stats.working} still working at the end; ended with ` +
          [...stats.closed].map(([k, v]) => `${k} ${v}`).join(', ') +
          `; memory ${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MiB; ${onewayLogs} failed oneway calls logged`,
      );
      assert.ok(stats.cases > 20, `only ${stats.cases} cases ran in ${FUZZ_MS} ms`);
      assert.ok(grown < 32, `memory grew by ${grown.toFixed(1)} MiB over ${stats.cases} cases`);
    } finally {
      console.error = consoleError;
      process.off('uncaughtExceptionMonitor', onProblem);
      process.off('unhandledRejection', onProblem);
      await control.close();
      await within(server.close(), 5000, 'the server to close');
    }
  });
});

/** Replays `frames` with `mutations` on a new socket, then a PING; returns how the connection fared. */
async function replay(
  port: number,
  frames: Uint8Array[],
  mutations: Mutation[],
  reasons: Map<number | undefined, Error | undefined>,
): Promise<{ working: boolean; reason: Error | undefined }> {
  let mutated = frames;
  for (const m of mutations) mutated = mutateFrames(mutated, m);
  const sent = mutateStream(framed(mutated), mutations);
  // The PING is a frame of its own only if the mutated stream ends on a frame boundary.
  const pingArrives = cutFrames(sent, MAX_FRAME).end === 'clean';
  const stream = Buffer.concat([sent, framed([encode([K.PING, PING_SEQ])])]);
  const peer = await RawPeer.open(port, false);
  try {
    peer.writeRaw(stream);
    let working = false;
    if (pingArrives) {
      const pong = (f: unknown) => Array.isArray(f) && f[0] === K.PONG && f[1] === PING_SEQ;
      await Promise.race([peer.waitFor(pong, 5000, 'the PONG').catch(() => undefined), peer.closed]);
      working = peer.frames.some(pong);
      if (!working && !peer.isClosed) throw new Error('the server neither answered the PING nor closed');
    }
    // Ends our side: the server reads everything sent, then closes (mid-frame or not).
    peer.socket.end();
    await peer.waitClosed(5000);
    await until(() => reasons.has(peer.localPort), 5000, 'the server to report the connection closed');
    const reason = reasons.get(peer.localPort);
    reasons.delete(peer.localPort);
    return { working, reason };
  } finally {
    peer.destroy();
  }
}

/** fc.assert, with the failing check's own message in the error (fast-check keeps it only as the cause). */
async function assertProperty(...args: Parameters<typeof fc.assert>): Promise<void> {
  try {
    await fc.assert(...args);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) (error as Error).message += `\nThe failing check: ${cause.message}`;
    throw error;
  }
}

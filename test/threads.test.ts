import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { threadId as mainThreadId, Worker } from 'node:worker_threads';
import {
  connect,
  ConnectionClosedError,
  connectParent,
  connectThread,
  connectWorker,
  NetrefError,
  ThreadedServer,
  type Authenticator,
  type Connection,
  type Remote,
  type ThreadConnection,
  type ThreadedConnectionInfo,
  type ThreadedServerOptions,
} from '../src/index.js';
import type ThreadCalc from './fixtures/thread-service.js';
import { until, within } from './support/pair.js';

// Workers cannot load TypeScript on their own on Node 20: every worker here first imports this preload.
const preload = [new URL('./support/tsxWorker.mjs', import.meta.url)];
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const SERVICE = fixture('thread-service.ts');

/**
 * Threads of this process, from the kernel: each worker is one, joined when it exits. What "nothing left running"
 * means here. Undefined where /proc is not there (the checks are then skipped).
 */
function liveThreads(): number | undefined {
  try {
    return readdirSync('/proc/self/task').length;
  } catch {
    return undefined;
  }
}

let baseline: number | undefined;

/** Waits until the process is back to its threads before the test: every worker it started has exited. */
async function noWorkerLeft(): Promise<void> {
  if (baseline === undefined) return;
  await until(() => liveThreads()! <= baseline!, 5000, `the worker threads to exit (${liveThreads()} > ${baseline})`);
}

before(async () => {
  // libuv starts its thread pool on first use; use it now so it is part of the baseline.
  await readFile(fileURLToPath(import.meta.url));
  baseline = liveThreads();
});

after(async () => {
  await noWorkerLeft();
});

function closedWithin(conn: Connection, what = 'the connection to close'): Promise<Error | undefined> {
  return within(conn.closed, 5000, what);
}

describe('connectThread', () => {
  it('serves a service module in a worker; close() resolves once the worker has exited', async () => {
    // A relative path resolves against process.cwd().
    const path = `./${relative(process.cwd(), fileURLToPath(SERVICE))}`;
    const conn = await connectThread(path, { preload });
    const calc = conn.root as Remote<ThreadCalc>;
    assert.equal(await calc.add(2, 3), 5);
    const tid = await calc.threadId();
    assert.notEqual(tid, mainThreadId);
    assert.equal(tid, conn.worker.threadId);
    assert.equal(conn.peer.transport, 'thread');
    assert.equal(await calc.callBack(async (x) => x * 2, 20), 41, 'calls flow both ways');
    const big = new Uint8Array(1 << 20).fill(7);
    const back = (await calc.echo(big)) as Uint8Array;
    assert.equal(back.byteLength, big.byteLength);
    assert.equal(back[12345], 7);
    assert.equal(big.byteLength, 1 << 20, "the caller's buffer is not detached");
    await conn.close();
    assert.equal(conn.worker.threadId, -1, 'the worker has exited when close() resolves');
    assert.equal(await conn.closed, undefined);
    await noWorkerLeft();
  });

  it('takes { module, export } and URLs; an exported instance is shared', async () => {
    const conn = await connectThread({ module: SERVICE, export: 'counter' }, { preload });
    const counter = conn.root as Remote<{ next(): number }>;
    assert.equal(await counter.next(), 1);
    assert.equal(await counter.next(), 2);
    await conn.close();
    await noWorkerLeft();
  });

  const failures: [string, Parameters<typeof connectThread>[0], RegExp][] = [
    ['a module that does not exist', fixture('no-such-module.ts'), /no-such-module\.ts: it does not exist/],
    [
      'a module that throws while loading',
      fixture('thread-throws.ts'),
      /thread-throws\.ts: it threw while loading: this module refuses to load/,
    ],
    [
      'a missing export',
      { module: SERVICE, export: 'Nope' },
      /has no export 'Nope' \(it exports: answer, counter, default\)/,
    ],
    [
      'an export that is neither a class nor an object',
      { module: SERVICE, export: 'answer' },
      /the export 'answer' of .*thread-service\.ts is a number, not a Service class or instance/,
    ],
    [
      'a worker that crashes while starting',
      fixture('thread-startup-crash.ts'),
      /the worker thread crashed: crashed while starting .*before the connection was made/,
    ],
  ];
  for (const [what, spec, message] of failures) {
    it(`rejects clearly, leaving no worker, for ${what}`, async () => {
      await assert.rejects(connectThread(spec, { preload }), (e: Error) => {
        assert.ok(e instanceof NetrefError, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
      await noWorkerLeft();
    });
  }

  it('rejects clearly for a preload that does not load', async () => {
    await assert.rejects(
      connectThread(SERVICE, { preload: [fixture('no-such-preload.mjs')] }),
      /the worker thread crashed: .*no-such-preload\.mjs/,
    );
    await noWorkerLeft();
  });

  it('the worker crashing closes the connection, naming the error', async () => {
    const conn = await connectThread(SERVICE, { preload });
    await (conn.root as Remote<ThreadCalc>).crash('boom');
    const reason = await closedWithin(conn);
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /the worker thread crashed: boom/);
    assert.equal(conn.worker.threadId, -1);
    await noWorkerLeft();
  });

  it('the worker exiting closes the connection, naming the exit code; pending calls reject', async () => {
    const conn = await connectThread(SERVICE, { preload });
    const calc = conn.root as Remote<ThreadCalc>;
    const pending = calc.hang();
    await assert.rejects(
      Promise.resolve(calc.exit(3)),
      (e: Error) => e instanceof ConnectionClosedError && /code 3/.test(e.message),
    );
    await assert.rejects(Promise.resolve(pending), ConnectionClosedError);
    assert.match((await closedWithin(conn))!.message, /the worker thread exited with code 3/);
    await noWorkerLeft();
  });

  it('an aborted signal rejects the connect and ends the worker', async () => {
    const controller = new AbortController();
    const connecting = connectThread(SERVICE, { preload, signal: controller.signal });
    controller.abort();
    await assert.rejects(connecting, { name: 'AbortError' });
    await noWorkerLeft();
  });
});

/** A worker the test makes itself, running test/fixtures/thread-parent.ts (which calls connectParent). */
function parentWorker(connections = 1): { worker: Worker; messages: unknown[]; next(): Promise<unknown> } {
  const hrefs = [preload[0]!.href, fixture('thread-parent.ts').href];
  const worker = new Worker(`(async () => { for (const h of ${JSON.stringify(hrefs)}) await import(h); })()`, {
    eval: true,
    workerData: { connections },
  });
  const messages: unknown[] = [];
  let seen = 0;
  worker.on('message', (m) => messages.push(m));
  return {
    worker,
    messages,
    async next() {
      await until(() => messages.length > seen, 5000, 'a message from the worker');
      return messages[seen++];
    },
  };
}

describe('connectWorker and connectParent', () => {
  it("connects to a caller's worker; its parentPort stays usable; closing leaves it running", async () => {
    const { worker, messages, next } = parentWorker(2);
    worker.postMessage('before');
    const conn: ThreadConnection = await connectWorker(worker);
    assert.equal(conn.worker, worker);
    assert.equal(await (conn.root as Remote<ThreadCalc>).add(1, 2), 3);
    assert.equal(await (conn.root as Remote<ThreadCalc>).threadId(), worker.threadId);
    assert.deepEqual(await next(), { echo: 'before' });
    worker.postMessage({ type: 'mine', n: 1 });
    assert.deepEqual(await next(), { echo: { type: 'mine', n: 1 } });

    await conn.close();
    assert.deepEqual(await next(), { closed: 'c1' }, "the worker's end saw the close");
    worker.postMessage('still there?');
    assert.deepEqual(await next(), { echo: 'still there?' }, 'closing did not end the worker');
    assert.ok(worker.threadId > 0);

    // A second connection to the same worker; then the worker's exit closes it, naming the code.
    const second = await connectWorker(worker);
    assert.equal(await (second.root as Remote<ThreadCalc>).add(2, 2), 4);
    worker.postMessage('exit');
    const reason = await closedWithin(second);
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /the worker thread exited with code 5/);
    assert.ok(
      messages.every((m) => !JSON.stringify(m).includes('netref:')),
      'netref messages never reached the user',
    );
    await noWorkerLeft();
  });

  it('rejects when the worker exits before the handshake, or has exited', async () => {
    const worker = new Worker('setTimeout(() => process.exit(4), 20)', { eval: true });
    await assert.rejects(connectWorker(worker), /the worker thread exited with code 4 before the connection was made/);
    await assert.rejects(connectWorker(worker), /it has exited/);
    await noWorkerLeft();
  });

  it('rejects on a handshake timeout when the worker never calls connectParent, leaving the worker as it is', async () => {
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await assert.rejects(connectWorker(worker, { protocolConfig: { handshakeTimeout: 200 } }), /handshake/);
    assert.ok(worker.threadId > 0);
    await worker.terminate();
    await noWorkerLeft();
  });

  it('connectParent outside a worker throws', async () => {
    await assert.rejects(connectParent(), /inside a worker thread/);
  });
});

async function startedServer(options: Omit<ThreadedServerOptions, 'port' | 'preload'> = {}) {
  const server = new ThreadedServer(SERVICE, { port: 0, workers: 2, preload, ...options });
  await server.start();
  return server;
}

describe('ThreadedServer', () => {
  it('serves each connection in a worker; events carry { id, peer, threadId }; close ends every worker', async () => {
    const server = await startedServer();
    assert.equal(server.threads.length, 2);
    const workers = [...server.threads];
    const events: ThreadedConnectionInfo[] = [];
    server.on('connection', (info: ThreadedConnectionInfo) => events.push(info));
    const disconnected = new Promise<[ThreadedConnectionInfo, Error | undefined]>((r) =>
      server.once('disconnect', (info, reason) => r([info, reason])),
    );
    const a = await connect('127.0.0.1', server.port!);
    const b = await connect('127.0.0.1', server.port!);
    const [ta, tb] = await Promise.all([
      (a.root as Remote<ThreadCalc>).threadId(),
      (b.root as Remote<ThreadCalc>).threadId(),
    ]);
    assert.notEqual(ta, tb, 'the two connections went to different workers (least loaded)');
    assert.deepEqual([ta, tb].sort(), workers.map((w) => w.threadId).sort());
    await until(() => events.length === 2, 5000, 'two connection events');
    assert.deepEqual(events.map((e) => e.threadId).sort(), [ta, tb].sort());
    assert.equal(events[0]!.peer.address, '127.0.0.1');
    assert.notEqual(events[0]!.id, events[1]!.id);
    assert.equal(server.clientCount, 2);
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => (b.root as Remote<ThreadCalc>).add(i, 1)));
    assert.deepEqual(
      many,
      Array.from({ length: 100 }, (_, i) => i + 1),
      'many calls in flight, in batches',
    );
    const big = new Uint8Array(1 << 20).fill(9);
    assert.equal(((await (a.root as Remote<ThreadCalc>).echo(big)) as Uint8Array)[99_999], 9);
    // The worker's Connection sees the client as its peer.
    const peer = JSON.parse(await (a.root as Remote<ThreadCalc>).peer());
    assert.equal(peer.transport, 'tcp');
    assert.equal(peer.address, '127.0.0.1');
    assert.equal(typeof peer.port, 'number');

    await a.close();
    const [info, reason] = await within(disconnected, 5000, 'the disconnect event');
    assert.equal(info.threadId, ta);
    assert.ok(reason instanceof ConnectionClosedError);
    await until(() => server.clientCount === 1, 5000, 'the server to drop the closed connection');

    await server.close();
    await closedWithin(b);
    assert.equal(server.clientCount, 0);
    assert.deepEqual(server.threads, []);
    assert.ok(
      workers.every((w) => w.threadId === -1),
      'every worker has exited when close() resolves',
    );
    await noWorkerLeft();
  });

  it('a CPU-heavy call blocks neither the acceptor nor connections on other workers', async () => {
    const server = await startedServer();
    const a = await connect('127.0.0.1', server.port!);
    const b = await connect('127.0.0.1', server.port!);
    const [ta, tb] = [await (a.root as Remote<ThreadCalc>).threadId(), await (b.root as Remote<ThreadCalc>).threadId()];
    assert.notEqual(ta, tb);
    let busyDone = false;
    const busy = (a.root as Remote<ThreadCalc>).busy(1000).then(() => (busyDone = true));
    await b.ping(); // the busy call is surely running now
    const started = performance.now();
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) rtts.push(await b.ping());
    assert.equal(busyDone, false, 'the pings were answered while the busy call ran');
    assert.ok(performance.now() - started < 500, `five pings took ${rtts.join(', ')} ms`);
    await busy;
    await a.close();
    await b.close();
    await server.close();
    await noWorkerLeft();
  });

  it('a crashed worker closes only its connections, is reported, and is replaced', async () => {
    const server = await startedServer();
    const errors: Error[] = [];
    server.on('error', (e: Error) => errors.push(e));
    const a = await connect('127.0.0.1', server.port!);
    const b = await connect('127.0.0.1', server.port!);
    const [ta, tb] = [await (a.root as Remote<ThreadCalc>).threadId(), await (b.root as Remote<ThreadCalc>).threadId()];
    const pending = (a.root as Remote<ThreadCalc>).hang();
    await (a.root as Remote<ThreadCalc>).crash('boom');
    await assert.rejects(Promise.resolve(pending), ConnectionClosedError);
    const reason = await closedWithin(a);
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /worker thread serving this connection: the worker thread crashed: boom/);
    assert.equal(await (b.root as Remote<ThreadCalc>).add(2, 2), 4, 'the other worker carries on');
    await until(() => errors.length > 0, 5000, 'the error event');
    assert.match(errors[0]!.message, new RegExp(`worker thread ${ta} .*crashed: boom.*1 connection`));
    await until(() => server.threads.length === 2, 10_000, 'a replacement worker');
    const ids = server.threads.map((w) => w.threadId);
    assert.ok(ids.includes(tb) && !ids.includes(ta));
    const c = await connect('127.0.0.1', server.port!);
    assert.equal(await (c.root as Remote<ThreadCalc>).add(1, 1), 2);
    await Promise.all([b.close(), c.close()]);
    await server.close();
    await noWorkerLeft();
  });

  it("close() rejects clients' pending calls with ConnectionClosedError and leaves nothing running", async () => {
    const server = await startedServer();
    const workers = [...server.threads];
    const clients = await Promise.all([connect('127.0.0.1', server.port!), connect('127.0.0.1', server.port!)]);
    const pending = clients.map((c) => (c.root as Remote<ThreadCalc>).hang());
    await Promise.all(clients.map((c) => (c.root as Remote<ThreadCalc>).add(0, 0))); // both are being served
    await server.close();
    for (const p of pending) await assert.rejects(Promise.resolve(p), ConnectionClosedError);
    assert.equal(server.clientCount, 0);
    assert.ok(workers.every((w) => w.threadId === -1));
    await noWorkerLeft();
  });

  const loadFailures: [string, ConstructorParameters<typeof ThreadedServer>[0], RegExp][] = [
    ['a module that does not exist', fixture('no-such-module.ts'), /no-such-module\.ts: it does not exist/],
    ['a module that throws while loading', fixture('thread-throws.ts'), /it threw while loading: this module refuses/],
    ['a missing export', { module: SERVICE, export: 'Nope' }, /has no export 'Nope' \(it exports: answer, counter/],
    ['a worker that crashes while starting', fixture('thread-startup-crash.ts'), /crashed: crashed while starting/],
  ];
  for (const [what, spec, message] of loadFailures) {
    it(`start() fails clearly, leaving no worker, for ${what}`, async () => {
      const server = new ThreadedServer(spec, { port: 0, workers: 2, preload });
      await assert.rejects(server.start(), (e: Error) => {
        assert.ok(e instanceof NetrefError, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
      assert.deepEqual(server.threads, []);
      assert.equal(server.port, undefined, 'nothing listens');
      await noWorkerLeft();
    });
  }

  it('refuses connections past maxConnections with a reason the client sees', async () => {
    const server = await startedServer({ maxConnections: 1 });
    const first = await connect('127.0.0.1', server.port!);
    await assert.rejects(
      connect('127.0.0.1', server.port!),
      (e: Error) => e instanceof ConnectionClosedError && /maxConnections 1/.test(e.message),
    );
    assert.equal(await (first.root as Remote<ThreadCalc>).add(1, 1), 2);
    await first.close();
    await server.close();
    await noWorkerLeft();
  });

  it('fails to start on a port in use with EADDRINUSE, leaving no worker', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    const server = new ThreadedServer(SERVICE, { port, workers: 2, preload });
    await assert.rejects(server.start(), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EADDRINUSE');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
      return true;
    });
    assert.deepEqual(server.threads, []);
    await new Promise<void>((r) => taken.close(() => r()));
    await noWorkerLeft();
  });

  it('publishes structured-clone data to every worker and refuses functions', async () => {
    const server = new ThreadedServer(SERVICE, { port: 0, workers: 2, preload });
    server.publish('config', { level: 3, tags: ['a', 'b'] });
    assert.throws(
      () => server.publish('fn', () => 1),
      (e: Error) => e instanceof TypeError && /structured clone/.test(e.message),
    );
    assert.throws(() => server.publish('obj', { run() {} }), TypeError);
    await server.start();
    server.publish('later', 7);
    const clients = await Promise.all([connect('127.0.0.1', server.port!), connect('127.0.0.1', server.port!)]);
    for (const c of clients) {
      assert.equal(await c.lookup('config').level, 3);
      assert.equal(await c.lookup('config').tags[1], 'b');
      assert.equal(await c.lookup('later'), 7);
    }
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    await noWorkerLeft();
  });

  it("hands the authenticator's credentials to the worker's connection", async () => {
    const auth: Authenticator = async (stream) => ({ stream, credentials: { user: 'ann' } });
    const server = await startedServer({ authenticator: auth, workers: 1 });
    const conn = await connect('127.0.0.1', server.port!);
    const peer = JSON.parse(await (conn.root as Remote<ThreadCalc>).peer());
    assert.deepEqual(peer.credentials, { user: 'ann' });
    await conn.close();
    await server.close();
    await noWorkerLeft();
  });
});

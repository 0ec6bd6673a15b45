// connect(..., { earlyCalls: true }): connect resolves once the socket is open, and the first calls go out right
// behind the hello instead of a round trip later (issue 7, W6).
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe as suite, it, type TestContext } from 'node:test';
import { ConnectionClosedError, connect, describe, Server, Service } from '../src/index.js';
import { decode, encode, MessageKind } from '../src/protocol/index.js';
import { frame, HELLO, until, within } from './support/rawPeer.js';

class Calc extends Service {
  add(a: number, b: number): number {
    return a + b;
  }
}

/**
 * A hand-driven server that says nothing until the test tells it to, so the test sees what the client sent before
 * it could have heard anything. Frames from the client are decoded into `received`.
 */
async function silentServer(t: TestContext) {
  const received: unknown[][] = [];
  let socket: net.Socket | undefined;
  const server = net.createServer((s) => {
    socket = s;
    let buffered = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
        const n = buffered.readUInt32BE(0);
        received.push(decode(buffered.subarray(4, 4 + n)) as unknown[]);
        buffered = buffered.subarray(4 + n);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    socket?.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    send: (msg: unknown) => socket!.write(frame(encode(msg))),
  };
}

suite('connect with earlyCalls', () => {
  it('sends the first call right behind the hello, before the peer has answered anything', async (t) => {
    const peer = await silentServer(t);
    const conn = await within(connect('127.0.0.1', peer.port, { earlyCalls: true }), 5000, 'connect');
    t.after(() => conn.close());
    const sum = conn.root.add(2, 3);
    await until(() => peer.received.length >= 2, 5000, 'the hello and the call');
    const [hello, call] = peer.received;
    assert.equal((hello as unknown as { magic: string }).magic, 'netref');
    assert.equal(call![0], MessageKind.CALL);
    assert.deepEqual(call!.slice(4), [['add'], [2, 3]]);
    // Only now does the server speak: its hello, then the answer.
    peer.send(HELLO);
    peer.send([MessageKind.RESULT, call![2], 5]);
    assert.equal(await within(Promise.resolve(sum), 5000, 'the reply'), 5);
  });

  it('holds back a request the peer may not speak until its hello lists the feature', async (t) => {
    const peer = await silentServer(t);
    const conn = await within(connect('127.0.0.1', peer.port, { earlyCalls: true }), 5000, 'connect');
    t.after(() => conn.close());
    const described = describe(conn.root);
    described.catch(() => {});
    const sum = conn.root.add(1, 1);
    await until(() => peer.received.length >= 2, 5000, 'the hello and the call');
    // The DESCRIBE waited; the plain call did not.
    assert.deepEqual(
      peer.received.map((m) => (Array.isArray(m) ? m[0] : 'hello')),
      ['hello', MessageKind.CALL],
    );
    // A peer without 'describe' in its hello gets no DESCRIBE at all: the call fails here, naming the feature.
    peer.send({ ...HELLO, features: [] });
    peer.send([MessageKind.RESULT, peer.received[1]![2], 2]);
    assert.equal(await within(Promise.resolve(sum), 5000, 'the reply'), 2);
    await assert.rejects(within(described, 5000, 'describe'), /does not support describe\(\)/);
    assert.ok(!peer.received.some((m) => Array.isArray(m) && m[0] === MessageKind.DESCRIBE));
  });

  it('works against a real server and answers the first call like a plain connect', async (t) => {
    const server = new Server(Calc, { host: '127.0.0.1', port: 0 });
    await server.start();
    t.after(() => server.close());
    const conn = await connect('127.0.0.1', server.port!, { earlyCalls: true });
    t.after(() => conn.close());
    assert.equal(await conn.root.add(20, 22), 42);
    // a request that waits for the peer's features (DESCRIBE) is sent once they are known
    assert.ok(
      (await describe(conn.root)).some((m) => m.name === 'add'),
      'describe lists add',
    );
  });

  it('a server that refuses the connection: connect resolves, the early call rejects naming the refusal', async (t) => {
    const server = new Server(Calc, { host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    t.after(() => server.close());
    const first = await connect('127.0.0.1', server.port!);
    t.after(() => first.close());
    const conn = await within(connect('127.0.0.1', server.port!, { earlyCalls: true }), 5000, 'connect');
    const call = conn.root.add(1, 2);
    await assert.rejects(
      within(Promise.resolve(call), 5000, 'the refused call'),
      (e: Error) => e instanceof ConnectionClosedError && /full \(maxConnections 1\)/.test(e.message),
    );
    const reason = await within(conn.closed, 5000, 'the close');
    assert.match(String(reason), /full/);
    // Without earlyCalls the same refusal rejects connect itself.
    await assert.rejects(connect('127.0.0.1', server.port!), /full/);
  });
});

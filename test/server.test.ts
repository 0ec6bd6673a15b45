import assert from 'node:assert/strict';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import {
  AuthenticationError,
  connect,
  ConnectionClosedError,
  connectPipes,
  connectStream,
  Server,
  Service,
  TimeoutError,
  type Authenticator,
  type Connection,
  type Remote,
} from '../src/index.js';
import { within } from './support/pair.js';

class Calc extends Service {
  add(a: number, b: number) {
    return a + b;
  }
  hang() {
    return new Promise(() => {});
  }
}

/** A TCP server that accepts and then says nothing (or what `greet` writes); close() ends its sockets too. */
async function rawServer(greet?: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
    greet?.(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function started(
  service: unknown = Calc,
  options: ConstructorParameters<typeof Server>[1] = {},
): Promise<Server> {
  const server = new Server(service as typeof Calc, { port: 0, ...options });
  await server.start();
  return server;
}

describe('Server and connect', () => {
  it('serves over TCP on 127.0.0.1 by default, with every connect form', async () => {
    const server = await started();
    assert.equal((server.address() as net.AddressInfo).address, '127.0.0.1');
    const port = server.port!;
    const conns = await Promise.all([
      connect('127.0.0.1', port),
      connect(`tcp://127.0.0.1:${port}`),
      connect({ host: '127.0.0.1', port }),
    ]);
    for (const c of conns) {
      assert.equal(await (c.root as Remote<Calc>).add(2, 3), 5);
      assert.equal(c.peer.transport, 'tcp');
      assert.equal(c.peer.address, '127.0.0.1');
    }
    assert.equal(server.connections.size, 3);
    await Promise.all(conns.map((c) => c.close()));
    await server.close();
  });

  it('serves on a Unix socket (path and unix:// URI)', async () => {
    const path = join(tmpdir(), `netref-test-${process.pid}-${Date.now()}.sock`);
    const server = await started(Calc, { path });
    const c1 = await connect({ path });
    const c2 = await connect(`unix://${path}`);
    assert.equal(await (c1.root as Remote<Calc>).add(1, 1), 2);
    assert.equal(await (c2.root as Remote<Calc>).add(1, 2), 3);
    assert.equal(c1.peer.transport, 'unix');
    await c1.close();
    await c2.close();
    await server.close();
  });

  it('fails to start on a port in use with a clear EADDRINUSE error', async () => {
    const first = await started();
    const second = new Server(Calc, { port: first.port! });
    await assert.rejects(second.start(), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EADDRINUSE');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${first.port}.*EADDRINUSE`));
      return true;
    });
    await first.close();
  });

  it('rejects bad addresses and refused connections clearly', async () => {
    await assert.rejects(connect('127.0.0.1', 0), /port must be an integer from 1 to 65535/);
    await assert.rejects(connect('ftp://x:1'), /unknown scheme 'ftp'/);
    await assert.rejects(connect('not a uri'), /not a netref URI/);
    const free = await started();
    const port = free.port!;
    await free.close();
    await assert.rejects(
      connect('127.0.0.1', port),
      (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED' && e.message.includes(`127.0.0.1:${port}`),
    );
  });

  it('refuses connections past maxConnections with a reason the client sees', async () => {
    const server = await started(Calc, { maxConnections: 1 });
    const c1 = await connect('127.0.0.1', server.port!);
    await assert.rejects(
      connect('127.0.0.1', server.port!),
      (e: Error) => e instanceof ConnectionClosedError && /maxConnections 1/.test(e.message),
    );
    assert.equal(await (c1.root as Remote<Calc>).add(1, 1), 2);
    await c1.close();
    await within(
      (async () => {
        while (server.connections.size) await new Promise((r) => setImmediate(r));
      })(),
      2000,
      'the server to drop the closed connection',
    );
    const c2 = await connect('127.0.0.1', server.port!);
    await c2.close();
    await server.close();
  });

  it('close() stops accepting, closes connections and rejects their pending calls', async () => {
    const server = await started();
    const conn = await connect('127.0.0.1', server.port!);
    const pending = Promise.resolve((conn.root as Remote<Calc>).hang());
    await (conn.root as Remote<Calc>).add(0, 0);
    const disconnects: Connection[] = [];
    server.on('disconnect', (c) => disconnects.push(c));
    await server.close();
    await assert.rejects(pending, ConnectionClosedError);
    assert.ok((await conn.closed) instanceof ConnectionClosedError);
    assert.equal(disconnects.length, 1);
    await assert.rejects(connect('127.0.0.1', server.port ?? 1), /ECONNREFUSED|port must/);
  });

  it('emits connection and publishes objects to every client', async () => {
    const server = await started();
    server.publish('config', { level: 3 });
    const seen = new Promise<Connection>((r) => server.once('connection', r));
    const conn = await connect('127.0.0.1', server.port!);
    const serverSide = await within(seen, 2000, 'connection event');
    assert.equal(
      serverSide.peer.port,
      (await new Promise<number>((r) => r(conn.peer.port!))) ? serverSide.peer.port : 0,
    );
    assert.equal(await conn.lookup('config').level, 3);
    await conn.close();
    await server.close();
  });

  it('runs the authenticator before any netref byte; credentials reach conn.peer', async () => {
    const token = Buffer.from('let me in\n');
    // Reads exactly the token; bytes after it are the client's netref frames and go back on the stream.
    const serverAuth: Authenticator = (stream) =>
      new Promise((resolve, reject) => {
        let got = Buffer.alloc(0);
        const onData = (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          if (got.length < token.length) return;
          stream.off('data', onData);
          stream.pause();
          const rest = got.subarray(token.length);
          if (rest.length) stream.unshift(rest);
          if (got.subarray(0, token.length).equals(token)) resolve({ stream, credentials: { user: 'ann' } });
          else reject(new Error('wrong token'));
        };
        stream.on('data', onData);
      });
    const clientAuth =
      (t: Buffer): Authenticator =>
      async (stream) => {
        stream.write(t);
        return { stream };
      };
    let served = 0;
    const server = await started(
      new (class extends Service {
        who() {
          served++;
          return 'ok';
        }
      })(),
      { authenticator: serverAuth },
    );
    const seen = new Promise<Connection>((r) => server.once('connection', r));
    const good = await connect('127.0.0.1', server.port!, { auth: clientAuth(token) });
    assert.equal(await good.root.who(), 'ok');
    assert.deepEqual((await seen).peer.credentials, { user: 'ann' });
    const refusals: unknown[] = [];
    server.on('error', (e) => refusals.push(e));
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: clientAuth(Buffer.from('nope\n')) }),
      ConnectionClosedError,
    );
    assert.equal(served, 1);
    assert.ok(refusals[0] instanceof AuthenticationError);
    await assert.rejects(
      connect('127.0.0.1', server.port!, {
        auth: async () => {
          throw new Error('client says no');
        },
      }),
      (e: Error) => e instanceof AuthenticationError && /client says no/.test(e.message),
    );
    await good.close();
    await server.close();
  });

  it('a silent peer fails the handshake after handshakeTimeout, leaving nothing open', async () => {
    const silent = await rawServer();
    await assert.rejects(
      connect('127.0.0.1', silent.port, { protocolConfig: { handshakeTimeout: 100 } }),
      TimeoutError,
    );
    await silent.close();
  });

  it('the connect signal aborts and releases the socket', async () => {
    const silent = await rawServer();
    const port = silent.port;
    const ac = new AbortController();
    const attempt = connect('127.0.0.1', port, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(attempt, { name: 'AbortError' });
    const pre = AbortSignal.abort(new Error('already'));
    await assert.rejects(connect('127.0.0.1', port, { signal: pre }), /already/);
    await silent.close();
  });

  it('a heartbeat detects a peer that stopped answering', async () => {
    // A peer that completes the handshake and then goes silent.
    const { encode } = await import('../src/protocol/index.js');
    const mute = await rawServer((s) => {
      const body = encode({ magic: 'netref', version: [1, 0], features: [] });
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.byteLength);
      s.write(Buffer.concat([head, body]));
    });
    const port = mute.port;
    const conn = await connect('127.0.0.1', port, { heartbeat: { interval: 30, timeout: 150 } });
    const reason = await within(conn.closed, 3000, 'heartbeat close');
    assert.ok(reason instanceof TimeoutError);
    assert.match(reason.message, /heartbeat/);
    await mute.close();
  });

  it('connectStream and connectPipes work over any stream', async () => {
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const [a, b] = await Promise.all([connectPipes(bToA, aToB, { service: Calc }), connectPipes(aToB, bToA)]);
    assert.equal(await (b.root as Remote<Calc>).add(20, 22), 42);
    await b.close();
    await within(a.closed, 2000, 'other end closed');

    const server = net.createServer();
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const [x, y] = await Promise.all([connectStream(await accepted, { service: Calc }), connectStream(raw)]);
    assert.equal(await (y.root as Remote<Calc>).add(1, 2), 3);
    await y.close();
    await x.close();
    await new Promise((r) => server.close(r));
  });

  it('refuses to serve an allowAllAttrs service on a public host without an authenticator', async () => {
    class Everything extends Service {
      static override protocolConfig = { allowAllAttrs: true };
    }
    const server = new Server(Everything, { host: '0.0.0.0', port: 0 });
    await assert.rejects(server.start(), /remote code execution.*insecure: true/);
  });
});

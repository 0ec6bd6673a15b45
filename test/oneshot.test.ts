import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  connect,
  ConnectionClosedError,
  connectStream,
  OneShotServer,
  Service,
  type Authenticator,
  type Connection,
  type Remote,
  type ServerOptions,
} from '../src/index.js';
import { until, within } from './support/pair.js';

class Calc extends Service {
  add(a: number, b: number) {
    return a + b;
  }
  hang() {
    return new Promise(() => {});
  }
}

const servers: OneShotServer[] = [];
const conns: Connection[] = [];

async function started(options: ServerOptions = {}): Promise<OneShotServer> {
  const server = new OneShotServer(Calc, { port: 0, ...options });
  servers.push(server);
  await server.start();
  return server;
}

async function client(port: number, options: Parameters<typeof connect>[2] = {}): Promise<Connection> {
  const conn = await connect('127.0.0.1', port, options);
  conns.push(conn);
  return conn;
}

/** Nothing of a TCP server or socket is left in this process (each test ends with everything closed). */
function nothingOpen(): boolean {
  const open = process.getActiveResourcesInfo();
  return !open.includes('TCPServerWrap') && !open.includes('TCPSocketWrap');
}

afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await until(nothingOpen, 5000, 'every socket and listener to close');
});

describe('OneShotServer', () => {
  it('serves one connection, refuses the next, and closes when that connection ends', async () => {
    const server = await started();
    const port = server.port!;
    let closed = false;
    server.once('close', () => (closed = true));
    const conn = await client(port);
    assert.equal(await (conn.root as Remote<Calc>).add(2, 3), 5);
    await assert.rejects(connect('127.0.0.1', port), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    assert.equal(await (conn.root as Remote<Calc>).add(1, 1), 2, 'the one connection is still served');
    assert.equal(closed, false);

    await conn.close();
    const reason = await within(server.done, 5000, 'the server to be done');
    assert.ok(reason instanceof ConnectionClosedError, 'done carries why the connection ended');
    assert.equal(closed, true, 'close was emitted before done resolved');
    await server.close(); // already closed: resolves at once
    assert.equal(server.address(), null);
    await until(nothingOpen, 2000, 'no listener or socket to be left'); // libuv lets a handle go a turn later
  });

  it('closing it ends its connection and rejects the pending calls', async () => {
    const server = await started();
    const conn = await client(server.port!);
    const pending = assert.rejects(Promise.resolve((conn.root as Remote<Calc>).hang()), ConnectionClosedError);
    await (conn.root as Remote<Calc>).add(0, 0);
    await server.close();
    await pending;
    assert.ok((await conn.closed) instanceof ConnectionClosedError);
    assert.equal(await within(server.done, 1000, 'done'), undefined, 'this end closed it');
  });

  it('the connection breaking (not a clean close) also closes the server', async () => {
    const server = await started();
    const socket = net.connect(server.port!, '127.0.0.1');
    await once(socket, 'connect');
    const conn = await connectStream(socket);
    conns.push(conn);
    assert.equal(await (conn.root as Remote<Calc>).add(1, 2), 3);
    socket.resetAndDestroy();
    const reason = await within(server.done, 5000, 'done');
    assert.ok(reason instanceof ConnectionClosedError);
    assert.match(reason.message, /lost|closed/);
  });

  it('closed before any client came: done resolves and nothing is left', async () => {
    const server = await started();
    await server.close();
    assert.equal(await within(server.done, 1000, 'done'), undefined);
    await until(nothingOpen, 2000, 'the listener to be gone');
  });

  it('a client that arrives while the first one authenticates is refused with a reason it sees', async () => {
    const token = Buffer.from('let me in\n');
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
          if (got.subarray(0, token.length).equals(token)) resolve({ stream });
          else reject(new Error('wrong token'));
        };
        stream.on('data', onData);
      });
    const server = await started({ authenticator: serverAuth });
    let letFirstIn!: () => void;
    const gate = new Promise<void>((r) => (letFirstIn = r));
    const first = connect('127.0.0.1', server.port!, {
      auth: async (stream) => {
        await gate;
        stream.write(token);
        return { stream };
      },
    });
    // The first client is accepted (it is authenticating) before the second one knocks.
    await until(() => server.clientCount === 0 && activeSockets() >= 2, 5000, 'the first client to be accepted');
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: async (s) => (s.write(token), { stream: s }) }),
      (e: Error) => e instanceof ConnectionClosedError && /maxConnections 1/.test(e.message),
    );
    letFirstIn();
    const conn = await first;
    conns.push(conn);
    assert.equal(await (conn.root as Remote<Calc>).add(20, 22), 42);
    await conn.close();
    await within(server.done, 5000, 'done');
  });

  it('fails to start on a port in use with a clear EADDRINUSE error', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    const server = new OneShotServer(Calc, { port });
    await assert.rejects(server.start(), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    await new Promise((r) => taken.close(r));
  });
});

function activeSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

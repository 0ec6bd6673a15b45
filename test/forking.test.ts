import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import {
  connect,
  ConnectionClosedError,
  ForkingServer,
  NetrefError,
  Service,
  type Authenticator,
  type Connection,
  type ForkedConnection,
  type ForkingServerOptions,
  type Remote,
} from '../src/index.js';
import type { ForkingService } from './fixtures/forking-service.js';
import { until, within } from './support/pair.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const SERVICE = { module: fixture('forking-service.ts'), export: 'ForkingService' };
type Svc = Remote<ForkingService>;

// What a test made, so that afterEach can close it and check that no child outlives it.
const servers: ForkingServer[] = [];
const conns: Connection[] = [];
const pids = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** This process's children that run forkEntry (probes included), read from /proc where there is one. */
function forkChildren(): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('forkEntry')) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function started(spec: unknown = SERVICE, options: ForkingServerOptions = {}): Promise<ForkingServer> {
  const server = new ForkingServer(spec as typeof SERVICE, { port: 0, ...options });
  servers.push(server);
  const track = (c: ForkedConnection) => pids.add(c.pid);
  server.on('connection', track);
  server.on('disconnect', track);
  await server.start();
  return server;
}

async function client(server: ForkingServer, options: Parameters<typeof connect>[2] = {}): Promise<Connection> {
  const conn = await connect('127.0.0.1', server.port!, options);
  conns.push(conn);
  return conn;
}

afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await until(() => ![...pids].some(alive) && forkChildren().length === 0, 10_000, 'every child process to exit');
  pids.clear();
});

describe('ForkingServer', () => {
  it('serves each connection in a child process of its own', async () => {
    const server = await started();
    const seen: ForkedConnection[] = [];
    server.on('connection', (c) => seen.push(c));
    const a = await client(server);
    const b = await client(server);
    const [pa, pb] = await Promise.all([(a.root as Svc).pid(), (b.root as Svc).pid()]);
    pids.add(pa).add(pb);
    assert.notEqual(pa, pb);
    assert.notEqual(pa, process.pid);
    assert.notEqual(pb, process.pid);
    assert.equal(await (a.root as Svc).add(2, 3), 5);
    await until(() => seen.length === 2, 5000, 'two connection events');
    assert.deepEqual(new Set(seen.map((c) => c.pid)), new Set([pa, pb]));
    for (const c of seen) {
      assert.match(c.id, /^f\d+$/);
      assert.equal(c.peer.transport, 'tcp');
      assert.equal(c.peer.address, '127.0.0.1');
    }
    assert.equal(server.connections.size, 2);

    const gone = new Promise<[ForkedConnection, Error | undefined]>((r) =>
      server.once('disconnect', (c, reason) => r([c, reason])),
    );
    await a.close();
    const [who, reason] = await within(gone, 5000, 'the disconnect event');
    assert.equal(who.pid, pa);
    assert.ok(reason instanceof ConnectionClosedError, 'the client closed it');
    await until(() => !alive(pa), 5000, 'the first child to exit');
    assert.equal(await (b.root as Svc).add(1, 1), 2, 'the other client is still served');
  });

  it('carries calls both ways through the child: callbacks and the client root', async () => {
    const server = await started();
    class ClientSide extends Service {
      hello(from: number) {
        return `hello ${from} from ${process.pid}`;
      }
    }
    const conn = await client(server, { service: ClientSide });
    const svc = conn.root as Svc;
    const pid = await svc.pid();
    pids.add(pid);
    assert.equal(await svc.twice(async (x: number) => x + 1, 20), 42);
    assert.equal(await svc.greetClient(), `hello ${pid} from ${process.pid}`);
  });

  it('serves on a Unix socket', async () => {
    const path = join(tmpdir(), `netref-forking-${process.pid}-${Date.now()}.sock`);
    const server = new ForkingServer(SERVICE, { path });
    servers.push(server);
    await server.start();
    const conn = await connect({ path });
    conns.push(conn);
    pids.add(await (conn.root as Svc).pid());
    assert.equal(await (conn.root as Svc).peerTransport(), 'unix');
  });

  it('publishes data to every child, before and after it started; functions are refused', async () => {
    const server = await started();
    server.publish('config', { level: 3, tags: ['a'] });
    const a = await client(server);
    pids.add(await (a.root as Svc).pid());
    server.publish('later', new Map([['k', 1]]));
    assert.equal(await a.lookup('config').level, 3);
    assert.equal(await a.lookup('later').get('k'), 1);
    const b = await client(server);
    pids.add(await (b.root as Svc).pid());
    assert.deepEqual(await b.lookup('config').tags, ['a']);
    assert.throws(
      () => server.publish('fn', () => 1),
      (e: Error) => e instanceof TypeError && /a function/.test(e.message),
    );
    assert.throws(
      () => server.publish('obj', { run() {} }),
      (e: Error) => e instanceof TypeError && /cannot be copied/.test(e.message),
    );
  });

  it('a child that crashes mid-call affects only its client', async () => {
    const server = await started();
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const victim = await client(server);
    const bystander = await client(server);
    const victimPid = await (victim.root as Svc).pid();
    pids.add(victimPid).add(await (bystander.root as Svc).pid());

    await assert.rejects(within((victim.root as Svc).crash(3), 5000, 'the crash'), ConnectionClosedError);
    await until(() => errors.length === 1, 5000, 'the error event');
    assert.match(errors[0]!.message, new RegExp(`child process ${victimPid} .*exited with code 3`));

    const killed = await client(server);
    const killedPid = await (killed.root as Svc).pid();
    pids.add(killedPid);
    await assert.rejects(within((killed.root as Svc).kill(), 5000, 'the kill'), ConnectionClosedError);
    await until(() => errors.length === 2, 5000, 'the second error event');
    assert.match(errors[1]!.message, new RegExp(`child process ${killedPid} .*was killed by SIGKILL`));

    assert.equal(await (bystander.root as Svc).add(1, 2), 3);
    const next = await client(server);
    pids.add(await (next.root as Svc).pid());
    assert.equal(await (next.root as Svc).add(2, 2), 4);
  });

  it('start() fails clearly when the service module does not load, leaving nothing running', async () => {
    const cases: [unknown, RegExp][] = [
      [
        fixture('forking-does-not-exist.ts'),
        /cannot load the service module .*forking-does-not-exist\.ts: it does not exist/,
      ],
      [fixture('forking-throws.ts'), /forking-throws\.ts: it threw while loading: boom while loading/],
      [
        { module: fixture('forking-service.ts'), export: 'Nope' },
        /has no export 'Nope' \(it exports: .*ForkingService/,
      ],
      [
        fixture('forking-exits.ts'),
        /loading the service module .*forking-exits\.ts exited with code 7 before it loaded/,
      ],
    ];
    for (const [spec, message] of cases) {
      const server = new ForkingServer(spec as string, { port: 0 });
      await assert.rejects(server.start(), (e: Error) => e instanceof NetrefError && message.test(e.message));
      assert.equal(server.address(), null, 'it never listened');
      assert.deepEqual(forkChildren(), [], 'the child that tried is gone');
    }
    assert.throws(() => new ForkingServer({ module: 42 } as never), TypeError);
  });

  it('refuses to put a service that exposes everything on the network unprotected', async () => {
    const server = new ForkingServer(
      { module: fixture('forking-service.ts'), export: 'ForkingEverything' },
      { host: '0.0.0.0', port: 0 },
    );
    await assert.rejects(server.start(), /remote code execution.*insecure: true/);
    assert.deepEqual(forkChildren(), []);
  });

  it('fails to start on a port in use with a clear EADDRINUSE error', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    const server = new ForkingServer(SERVICE, { port });
    await assert.rejects(server.start(), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EADDRINUSE');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
      return true;
    });
    assert.deepEqual(forkChildren(), []);
    await new Promise((r) => taken.close(r));
  });

  it('refuses connections past maxConnections with a reason the client sees', async () => {
    const server = await started(SERVICE, { maxConnections: 1 });
    const first = await client(server);
    pids.add(await (first.root as Svc).pid());
    await assert.rejects(
      connect('127.0.0.1', server.port!),
      (e: Error) => e instanceof ConnectionClosedError && /maxConnections 1/.test(e.message),
    );
    await first.close();
    await until(() => server.clientCount === 0, 5000, 'the first child to exit');
    const second = await client(server);
    pids.add(await (second.root as Svc).pid());
    assert.equal(await (second.root as Svc).add(1, 1), 2);
  });

  it('close() closes every connection, rejects pending calls and leaves no child', async () => {
    const server = await started();
    const a = await client(server);
    const b = await client(server);
    const childPids = [await (a.root as Svc).pid(), await (b.root as Svc).pid()];
    for (const p of childPids) pids.add(p);
    // Handlers are attached now: the calls reject while close() is still waiting for the children.
    const pending = [a, b].map((c) => assert.rejects(Promise.resolve((c.root as Svc).hang()), ConnectionClosedError));
    const disconnects: [ForkedConnection, Error | undefined][] = [];
    server.on('disconnect', (c, reason) => disconnects.push([c, reason]));
    await server.close();
    await Promise.all(pending);
    for (const c of [a, b])
      assert.ok((await within(c.closed, 5000, 'the client close')) instanceof ConnectionClosedError);
    assert.equal(disconnects.length, 2);
    for (const [, reason] of disconnects) assert.equal(reason, undefined, 'the server closed them');
    for (const p of childPids) assert.equal(alive(p), false, `child ${p} has exited when close() resolves`);
    await assert.rejects(connect('127.0.0.1', server.port ?? 1), /ECONNREFUSED|port must/);
  });

  it('close() kills a child that does not exit within exitTimeout', async () => {
    const server = await started(SERVICE, { exitTimeout: 300 });
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const conn = await client(server);
    const pid = await (conn.root as Svc).pid();
    pids.add(pid);
    // The child creates the marker file and then blocks its event loop: from then on it cannot hear `close`.
    const marker = join(tmpdir(), `netref-forking-spin-${process.pid}-${Date.now()}`);
    const stuck = assert.rejects(Promise.resolve((conn.root as Svc).spin(marker)), ConnectionClosedError);
    await until(() => existsSync(marker), 5000, 'the child to start spinning');
    rmSync(marker);
    const t = Date.now();
    await server.close();
    assert.ok(Date.now() - t < 5000, 'close() was bounded by exitTimeout');
    assert.equal(alive(pid), false);
    await within(stuck, 5000, 'the stuck call to reject');
    assert.match(errors[0]?.message ?? '', /did not exit within 300 ms/);
  });

  it('relays an authenticated stream to the child, with the credentials', async () => {
    // A toy authenticator that changes the bytes, so the stream it returns cannot be handed to a child.
    const server = await started(SERVICE, {
      authenticator: async (stream) => ({ stream: xorStream(stream, 0x5a), credentials: { user: 'ann' } }),
    });
    const seen = new Promise<ForkedConnection>((r) => server.once('connection', r));
    const auth: Authenticator = async (stream) => ({ stream: xorStream(stream, 0x5a) });
    const conn = await client(server, { auth });
    const svc = conn.root as Svc;
    const pid = await svc.pid();
    pids.add(pid);
    assert.notEqual(pid, process.pid);
    assert.equal(await svc.add(20, 22), 42);
    assert.equal(await svc.twice(async (x: number) => x * 10, 2), 40);
    assert.deepEqual(await svc.credentials(), { user: 'ann' });
    assert.equal(await svc.peerTransport(), 'tcp');
    assert.deepEqual((await within(seen, 5000, 'the connection event')).peer.credentials, { user: 'ann' });
    // A big argument crosses the relay intact.
    const big = 'x'.repeat(3_000_000);
    assert.equal(await svc.echo(big), big);

    const pending = assert.rejects(Promise.resolve(svc.hang()), ConnectionClosedError);
    await server.close();
    await pending;
  });
});

/** Wraps a stream so that every byte is XORed with `key` both ways (a stand-in for an encrypting authenticator). */
function xorStream(inner: Duplex, key: number): Duplex {
  const flip = (b: Buffer) => {
    const out = Buffer.from(b);
    for (let i = 0; i < out.length; i++) out[i]! ^= key;
    return out;
  };
  let ended = false;
  const outer = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      inner.write(flip(chunk), callback);
    },
    final(callback) {
      inner.end();
      callback();
    },
    destroy(error, callback) {
      inner.destroy();
      callback(error);
    },
  });
  inner.on('data', (d: Buffer) => {
    if (!outer.push(flip(d))) inner.pause();
  });
  inner.on('end', () => {
    ended = true;
    outer.push(null);
  });
  inner.on('error', (e) => outer.destroy(e));
  inner.on('close', () => {
    if (!ended) outer.destroy();
  });
  return outer;
}

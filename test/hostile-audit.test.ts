// Attacks that need a service of their own, or the other direction: a peer that floods requests whose replies are
// large, a peer that answers the server's own calls (callbacks) with rule-breaking replies, a malicious server
// seen from a client, and strangers knocking on a full secure-channel server. As in the other hostile-* files, each must end in a clear error for that one connection, with
// the server (or the client program) alive, other connections unaffected, no prototype polluted, memory bounded.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
  connect,
  ConnectionClosedError,
  generateKeys,
  randomNetworkKey,
  shsClient,
  shsServer,
  NetrefError,
  ProtocolError,
  RemoteError,
  Server,
  Service,
  type Connection,
  type ProtocolConfig,
} from '../src/index.js';
import { decode, encode, Flags, MessageKind as K, Tag, Tagged } from '../src/protocol/index.js';
import { frame, HELLO, RawPeer, until, within } from './support/rawPeer.js';
import { nested, rawMap } from './support/hostileFixture.js';

/** A server for `service` on 127.0.0.1, a bystander client, and what the server said about each connection. */
async function serveHostile(t: TestContext, service: object, protocolConfig: Partial<ProtocolConfig> = {}) {
  const server = new Server(service, { host: '127.0.0.1', port: 0, protocolConfig });
  const reasons = new Map<number | undefined, Error | undefined>();
  server.on('disconnect', (conn: Connection, reason: Error | undefined) => reasons.set(conn.peer.port, reason));
  server.on('error', () => {});
  await server.start();
  const port = server.port!;
  const peers: RawPeer[] = [];
  const bystander = await within(connect('127.0.0.1', port), 3000, 'the bystander to connect');
  t.after(async () => {
    for (const p of peers) p.destroy();
    await bystander.close();
    await within(server.close(), 5000, 'the server to close');
  });
  return {
    server,
    async peer(): Promise<RawPeer> {
      const p = await RawPeer.open(port, HELLO);
      peers.push(p);
      return p;
    },
    /** The reason the server gave when it dropped `peer`. */
    async reasonFor(peer: RawPeer): Promise<Error | undefined> {
      await until(() => reasons.has(peer.localPort), 3000, `the server to drop port ${peer.localPort}`);
      return reasons.get(peer.localPort);
    },
    /** The bystander and a new client can still call `add`. */
    async assertHealthy(): Promise<void> {
      const root = bystander.root as { add(a: number, b: number): Promise<number> };
      assert.equal(await within(Promise.resolve(root.add(1, 2)), 3000, 'a call of the bystander'), 3);
      const fresh = await within(connect('127.0.0.1', port), 3000, 'a new client to connect');
      try {
        const r = fresh.root as { add(a: number, b: number): Promise<number> };
        assert.equal(await within(Promise.resolve(r.add(2, 3)), 3000, 'a call of a new client'), 5);
      } finally {
        await fresh.close();
      }
    },
  };
}

describe('hostile peers: flooding without reading the replies (audit)', () => {
  it('requests with large replies stop being read once the replies back up', async (t) => {
    // 1000 requests of 17 bytes each fit in one TCP read; each reply is 64 KiB. If the server handled a whole read
    // before writing anything, one read would hold 64 MiB of replies (and 17 KB more, a GiB): the reads must stop
    // as soon as the replies cannot be written.
    const blob = new Uint8Array(64 * 1024);
    let calls = 0;
    class Blobs extends Service {
      add(a: number, b: number) {
        return a + b;
      }
      blob() {
        calls++;
        return blob;
      }
    }
    const fx = await serveHostile(t, new Blobs());
    const peer = await fx.peer();
    peer.pauseReading();
    const N = 1000;
    const before = process.memoryUsage().arrayBuffers;
    const frames: Buffer[] = [];
    for (let seq = 1; seq <= N; seq++) frames.push(frame(encode([K.CALL, 0, seq, 0, ['blob'], []])));
    peer.writeRaw(Buffer.concat(frames));
    await until(() => calls > 0, 3000, 'the first request to reach the service');
    // Give the server every chance to take more: round trips through the same event loop.
    for (let i = 0; i < 5; i++) await fx.assertHealthy();
    const grown = (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
    assert.ok(calls <= 256, `${calls} of ${N} requests were handled while their replies could not be written`);
    assert.ok(grown < 32, `buffers grew by ${grown.toFixed(1)} MiB while the peer read nothing`);
    // Once the peer reads, everything is answered.
    peer.resumeReading();
    const answered = () => peer.frames.filter((f) => Array.isArray(f) && f[0] === K.RESULT).length;
    await until(() => answered() === N, 20_000, `${N} replies`);
    await fx.assertHealthy();
  });

  for (const flood of ['requests', 'PINGs'] as const) {
    it(`a peer writing ${flood} as fast as it can, never reading, is stopped by its own backpressure`, async (t) => {
      class Echo extends Service {
        add(a: number, b: number) {
          return a + b;
        }
        echo(x: unknown) {
          return x;
        }
      }
      const fx = await serveHostile(t, new Echo());
      const peer = await fx.peer();
      peer.pauseReading();
      const payload = 'x'.repeat(16 * 1024);
      const message = (seq: number) => (flood === 'PINGs' ? [K.PING, seq] : [K.CALL, 0, seq, 0, ['echo'], [payload]]);
      let seq = 0;
      let sent = 0;
      const LIMIT = 256 * 1024 * 1024;
      // Writes until the socket stays full for a second: the server stopped reading.
      while (sent < LIMIT) {
        const chunk = Buffer.concat(
          Array.from({ length: flood === 'PINGs' ? 4096 : 16 }, () => frame(encode(message(++seq)))),
        );
        sent += chunk.length;
        if (!peer.socket.write(chunk)) {
          const drained = await Promise.race([
            new Promise<boolean>((resolve) => peer.socket.once('drain', () => resolve(true))),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
          ]);
          if (!drained) break;
        }
      }
      assert.ok(sent < 64 * 1024 * 1024, `the server kept reading: ${sent >> 20} MiB of ${flood} were taken in`);
      await fx.assertHealthy();
      peer.resumeReading();
      const answer = flood === 'PINGs' ? K.PONG : K.RESULT;
      const answered = () => peer.frames.filter((f) => Array.isArray(f) && f[0] === answer).length;
      await until(() => answered() === seq, 20_000, `${seq} answers`);
    });
  }
});

describe('hostile peers: answering the server’s own calls (audit)', () => {
  /** A service that calls back the function the peer passes, and records how each call-back ended. */
  class CallsBack extends Service {
    outcomes: [string, unknown][] = [];
    add(a: number, b: number) {
      return a + b;
    }
    async callMe(cb: () => Promise<unknown>) {
      try {
        const v = await cb();
        this.outcomes.push(['ok', v]);
        return v;
      } catch (error) {
        this.outcomes.push(['error', error]);
        throw error;
      }
    }
  }

  /** Passes a function of the peer's to `callMe` and returns the seq of the server's call to it. */
  async function callback(peer: RawPeer): Promise<number> {
    peer.send([K.CALL, 0, 1, 0, ['callMe'], [new Tagged(Tag.REMOTE, [1, true])]]);
    const call = (await peer.waitFor(
      (f) => Array.isArray(f) && f[0] === K.CALL,
      3000,
      'the server to call the function back',
    )) as unknown[];
    assert.equal(call[3], 1, 'the server calls export 1 of the peer');
    return call[2] as number;
  }

  it('rule-breaking replies close that connection; the waiting handler gets ConnectionClosedError', async (t) => {
    const service = new CallsBack();
    const fx = await serveHostile(t, service);
    const cases: [string, (seq: number) => Uint8Array, RegExp][] = [
      ['an ERROR reply without an Error', (s) => encode([K.ERROR, s, 'not an Error']), /does not carry an Error/],
      [
        'a PROMISE in a reply',
        (s) => encode([K.RESULT, s, new Tagged(Tag.PROMISE, [false, 0, ['add']])]),
        /not allowed here/,
      ],
      ['a HOME id never sent', (s) => encode([K.RESULT, s, new Tagged(Tag.HOME, 999)]), /reference 999/],
      ['an unknown tag', (s) => encode([K.RESULT, s, new Tagged(99, 1)]), /unknown value tag/],
      [
        'nesting past maxDepth',
        (s) => Buffer.concat([Buffer.from([0x93, K.RESULT]), encode(s), nested(200, [0x91])]),
        /maxDepth/,
      ],
      [
        'nesting that overflows the decoder',
        (s) => Buffer.concat([Buffer.from([0x93, K.RESULT]), encode(s), nested(100_000, [0x91])]),
        /undecodable|maxDepth/,
      ],
    ];
    for (const [what, reply, match] of cases) {
      const peer = await fx.peer();
      const seq = await callback(peer);
      peer.sendBody(reply(seq));
      await peer.waitClosed(3000);
      const reason = await fx.reasonFor(peer);
      assert.ok(reason instanceof ProtocolError, `${what}: closed with ${reason?.name}: ${reason?.message}`);
      assert.match(reason.message, match, what);
      await until(() => service.outcomes.length > 0, 3000, `${what}: the handler to see the close`);
      const [kind, error] = service.outcomes.pop()!;
      assert.equal(kind, 'error', what);
      assert.ok(error instanceof ConnectionClosedError, `${what}: the handler got ${String(error)}`);
    }
    await fx.assertHealthy();
  });

  it('an error reply with a hostile name and props is only data; a second reply is ignored', async (t) => {
    const service = new CallsBack();
    const fx = await serveHostile(t, service);
    const peer = await fx.peer();
    let seq = await callback(peer);
    const props = rawMap([
      ['__proto__', rawMap([['polluted', encode(true)]])],
      ['constructor', encode('x')],
    ]);
    const wireError = rawMap([
      ['name', encode('hasOwnProperty')],
      ['message', encode('m')],
      ['props', props],
    ]);
    peer.sendBody(
      Buffer.concat([
        Buffer.from([0x93, K.ERROR]),
        encode(seq),
        Buffer.from([0xd4, 0x4e, 0x00, 0x92, Tag.ERROR]),
        wireError,
      ]),
    );
    const first = await peer.reply(1);
    assert.equal(first[0], K.ERROR);
    const [kind, error] = service.outcomes.pop()!;
    assert.equal(kind, 'error');
    assert.ok(error instanceof RemoteError && error.remoteName === 'hasOwnProperty', String(error));
    assert.equal(Object.getPrototypeOf(error), RemoteError.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // Answered twice: the second answer finds nothing waiting and is dropped.
    peer.frames.length = 0;
    peer.send([K.CALL, 0, 2, 0, ['callMe'], [new Tagged(Tag.REMOTE, [1, true])]]);
    const call = (await peer.waitFor(
      (f) => Array.isArray(f) && f[0] === K.CALL,
      3000,
      'a second call back',
    )) as unknown[];
    seq = call[2] as number;
    peer.send([K.RESULT, seq, 'first']);
    peer.send([K.RESULT, seq, 'second']);
    assert.deepEqual(await peer.reply(2), [K.RESULT, 2, 'first']);
    peer.send([K.CALL, 0, 3, 0, ['add'], [1, 2]]);
    assert.deepEqual(await peer.reply(3), [K.RESULT, 3, 3]);
    await fx.assertHealthy();
  });
});

describe('a malicious server, seen from a client (audit)', () => {
  /**
   * A fake server that sends its hello, then answers the client's first request with `reply(seq)`. Returns the
   * client's connection and the outcome of its call `root.add(1, 2)`.
   */
  async function against(
    t: TestContext,
    reply: (seq: number) => Uint8Array,
    protocolConfig: Partial<ProtocolConfig> = {},
    what = '',
  ): Promise<{ conn: Connection; outcome: PromiseSettledResult<unknown> }> {
    const sockets = new Set<net.Socket>();
    const fake = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write(frame(encode(HELLO)));
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const body = buf.subarray(4, 4 + buf.readUInt32BE(0));
          buf = buf.subarray(4 + body.length);
          const msg = decode(Uint8Array.prototype.slice.call(body));
          if (Array.isArray(msg) && msg[0] === K.CALL) socket.write(frame(reply(msg[2] as number)));
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    });
    const port = (fake.address() as net.AddressInfo).port;
    const conn = await within(connect('127.0.0.1', port, { heartbeat: false, protocolConfig }), 3000, 'connect');
    t.after(() => conn.close());
    const root = conn.root as { add(a: number, b: number): Promise<unknown> };
    const [outcome] = await within(
      Promise.allSettled([Promise.resolve(root.add(1, 2))]),
      5000,
      `${what}: the call to settle`,
    );
    return { conn, outcome: outcome! };
  }

  it('a reply that breaks the rules fails the call and closes the connection with a ProtocolError', async (t) => {
    const cases: [string, (seq: number) => Uint8Array, Partial<ProtocolConfig>?][] = [
      ['an undecodable reply', () => Buffer.from([0xc1])],
      ['an unknown message kind', () => encode([99, 1, 2])],
      ['a PROMISE in a reply', (s) => encode([K.RESULT, s, new Tagged(Tag.PROMISE, [false, 0, []])])],
      ['a HOME id the client never sent', (s) => encode([K.RESULT, s, new Tagged(Tag.HOME, 999)])],
      ['an unknown tag', (s) => encode([K.RESULT, s, new Tagged(99, 1)])],
      ['an ERROR reply without an Error', (s) => encode([K.ERROR, s, 42])],
      ['nesting past maxDepth', (s) => Buffer.concat([Buffer.from([0x93, K.RESULT]), encode(s), nested(200, [0x91])])],
      [
        'nesting that overflows the decoder',
        (s) => Buffer.concat([Buffer.from([0x93, K.RESULT]), encode(s), nested(100_000, [0x91])]),
      ],
      ['a malformed RELEASE', () => encode([K.RELEASE, [999, 1]])],
      ['a frame over maxFrameSize', () => Buffer.alloc(2048), { maxFrameSize: 1024 }],
    ];
    for (const [what, reply, config] of cases) {
      const { conn, outcome } = await against(t, reply, config, what);
      assert.equal(outcome.status, 'rejected', what);
      const error = (outcome as PromiseRejectedResult).reason;
      assert.ok(error instanceof NetrefError, `${what}: the call failed with ${String(error)}`);
      const reason = await within(conn.closed, 3000, `${what}: the connection to close`);
      assert.ok(reason instanceof ProtocolError, `${what}: closed with ${reason?.name}: ${reason?.message}`);
    }
  });

  it('a reply with __proto__ keys, or smuggling functions, neither pollutes nor hands the client live functions', async (t) => {
    const polluting = (s: number) =>
      Buffer.concat([
        Buffer.from([0x93, K.RESULT]),
        encode(s),
        rawMap([
          ['__proto__', rawMap([['polluted', encode(true)]])],
          ['constructor', rawMap([['prototype', rawMap([['polluted', encode(true)]])]])],
        ]),
      ]);
    const { conn, outcome } = await against(t, polluting);
    assert.equal(outcome.status, 'fulfilled');
    const value = (outcome as PromiseFulfilledResult<object>).value;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(conn.isClosed, false);
    // msgpackr's Error extension named 'valueOf' decodes to its table of Error constructors.
    const smuggling = (s: number) =>
      Buffer.concat([
        Buffer.from([0x93, K.RESULT]),
        encode(s),
        Buffer.from([0xd4, 0x65, 0x00]),
        encode(['valueOf', 'm', null]),
      ]);
    const second = await against(t, smuggling);
    if (second.outcome.status === 'fulfilled') {
      const seen: unknown[] = [];
      const walk = (v: unknown): void => {
        seen.push(v);
        if (v !== null && typeof v === 'object')
          for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k]);
      };
      walk(second.outcome.value);
      assert.deepEqual(
        seen.filter((v) => typeof v === 'function'),
        [],
        'the client received live functions',
      );
    } else {
      assert.ok((second.outcome.reason as Error) instanceof NetrefError, String(second.outcome.reason));
    }
  });

  it("a server's requests for built-in names on the client's root are refused, and the client carries on", async (t) => {
    const sockets = new Set<net.Socket>();
    const replies: unknown[] = [];
    const fake = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write(frame(encode(HELLO)));
      let seq = 0;
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '__defineGetter__', 'onConnect']) {
        socket.write(frame(encode([K.CALL, 0, ++seq, 0, [name], []])));
        socket.write(frame(encode([K.GET, 0, ++seq, 0, ['constructor', 'constructor'], null])));
        socket.write(frame(encode([K.GET, Flags.KEEP, ++seq, 0, [name], null])));
      }
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const body = buf.subarray(4, 4 + buf.readUInt32BE(0));
          buf = buf.subarray(4 + body.length);
          const msg = decode(Uint8Array.prototype.slice.call(body));
          if (Array.isArray(msg) && (msg[0] === K.RESULT || msg[0] === K.ERROR)) replies.push(msg);
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    });
    class ClientSide extends Service {
      hello() {
        return 'hi';
      }
    }
    const port = (fake.address() as net.AddressInfo).port;
    const conn = await connect('127.0.0.1', port, { heartbeat: false, service: new ClientSide() });
    t.after(() => conn.close());
    await until(() => replies.length === 18, 3000, '18 replies from the client');
    for (const r of replies as [number, number, unknown][]) {
      assert.equal(r[0], K.ERROR, JSON.stringify(r));
      const v = r[2] as Tagged;
      assert.equal((v.value as { name: string }).name, 'AttributeError');
    }
    assert.equal(conn.isClosed, false);
  });
});

describe('a secure-channel server refusing strangers (audit)', () => {
  // DESIGN §6: a client without the network key gets no answer at all. A refusal written as a plain netref
  // GOODBYE ("the server is full") tells a scanner that a netref server is there, and how it is configured.
  const networkKey = randomNetworkKey();
  const keys = generateKeys();
  class Calc extends Service {
    add(a: number, b: number) {
      return a + b;
    }
  }

  /** Bytes a stranger without the network key receives before the server drops it. */
  async function strangerHears(port: number): Promise<Buffer> {
    const stranger = net.connect({ host: '127.0.0.1', port });
    stranger.on('error', () => {});
    const received: Buffer[] = [];
    stranger.on('data', (chunk: Buffer) => received.push(chunk));
    stranger.write(Buffer.alloc(64, 7)); // a msg1 made without the network key
    await within(new Promise((resolve) => stranger.once('close', resolve)), 5000, 'the server to drop the stranger');
    return Buffer.concat(received);
  }

  it('a full server sends a stranger not one byte', async (t) => {
    const server = new Server(Calc, {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 1,
      authenticator: shsServer({ networkKey, keys }),
    });
    server.on('error', () => {});
    await server.start();
    const conn = await connect('127.0.0.1', server.port!, {
      auth: shsClient({ networkKey, serverKey: keys.publicKey }),
    });
    t.after(async () => {
      await conn.close();
      await within(server.close(), 5000, 'the server to close');
    });
    assert.equal(await (conn.root as { add(a: number, b: number): Promise<number> }).add(1, 2), 3);
    const bytes = await strangerHears(server.port!);
    assert.equal(bytes.length, 0, `the stranger received ${JSON.stringify(bytes.toString('latin1'))}`);
  });

  it('a server with every handshake slot taken sends a stranger not one byte', async (t) => {
    const server = new Server(Calc, {
      host: '127.0.0.1',
      port: 0,
      maxHandshakes: 1,
      authenticator: shsServer({ networkKey, keys }),
    });
    server.on('error', () => {});
    await server.start();
    const silent = net.connect({ host: '127.0.0.1', port: server.port! }); // takes the one slot, says nothing
    silent.on('error', () => {});
    t.after(async () => {
      silent.destroy();
      await within(server.close(), 5000, 'the server to close');
    });
    await new Promise((resolve) => silent.once('connect', resolve));
    const bytes = await strangerHears(server.port!);
    assert.equal(bytes.length, 0, `the stranger received ${JSON.stringify(bytes.toString('latin1'))}`);
  });
});

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import nacl from 'tweetnacl';
import {
  AuthenticationError,
  connect,
  ConnectionClosedError,
  generateKeys,
  randomNetworkKey,
  Server,
  Service,
  shsClient,
  shsServer,
  TimeoutError,
  type Connection,
  type KeyPair,
  type Remote,
  type ShsCredentials,
} from '../src/index.js';
import { boxStream, clientHandshake, serverHandshake, type HandshakeResult } from '../src/secret-handshake.js';
import { until, within } from './support/pair.js';

class Echo extends Service {
  echo<T>(x: T): T {
    return x;
  }
  async callMe(fn: (n: number) => Promise<number>): Promise<number> {
    return (await fn(20)) + 1;
  }
}

class ClientSide extends Service {
  hello() {
    return 'hello from the client';
  }
}

const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');

/** msg1 (or msg2) as an end holding `networkKey` would send it: HMAC-SHA-512-256 of an ephemeral key, then the key. */
function msg1For(networkKey: Uint8Array, ephemeral = nacl.box.keyPair().publicKey): Buffer {
  const mac = createHmac('sha512', networkKey).update(ephemeral).digest().subarray(0, 32);
  return Buffer.concat([mac, ephemeral]);
}

/** Opens a raw TCP socket, writes `bytes`, and resolves with everything it received once the server closed it. */
async function rawExchange(port: number, bytes: Uint8Array): Promise<{ received: number }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let received = 0;
  socket.on('data', (d: Buffer) => (received += d.length));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  if (bytes.length) socket.write(bytes);
  await within(new Promise((r) => socket.once('close', r)), 5000, 'the server to close the raw socket');
  return { received };
}

describe('the secure channel between a netref Server and connect()', () => {
  const networkKey = randomNetworkKey();
  const serverKeys = generateKeys();
  const clientKeys = generateKeys();
  const strangerKeys = generateKeys();
  const bombKeys = generateKeys();
  let server: Server;
  const errors: unknown[] = [];
  const serverConns: Connection[] = [];
  let steady: Connection;
  const client = (o: { networkKey?: Uint8Array; serverKey?: Uint8Array; keys?: KeyPair | undefined } = {}) =>
    shsClient({
      networkKey: o.networkKey ?? networkKey,
      serverKey: o.serverKey ?? serverKeys.publicKey,
      ...('keys' in o ? (o.keys ? { keys: o.keys } : {}) : { keys: clientKeys }),
    });

  /** Waits for the server to report the failure it should; then shows it and the steady client still work. */
  async function serverReports(before: number, pattern: RegExp): Promise<void> {
    await until(() => errors.length > before, 5000, 'the server to report the refusal');
    assert.match(String((errors[before] as Error).message), pattern);
    assert.equal(await (steady.root as Remote<Echo>).echo('still here'), 'still here');
  }

  before(async () => {
    server = new Server(Echo, {
      port: 0,
      authenticator: shsServer({
        networkKey,
        keys: serverKeys,
        authorize: async (publicKey) => {
          if (b64(publicKey) === b64(bombKeys.publicKey)) throw new Error('boom');
          return b64(publicKey) === b64(clientKeys.publicKey);
        },
      }),
    });
    server.on('error', (e) => errors.push(e));
    server.on('connection', (c: Connection) => serverConns.push(c));
    await server.start();
    steady = await connect('127.0.0.1', server.port!, { auth: client() });
  });
  after(async () => {
    await steady?.close();
    await server?.close();
  });

  it('calls flow both ways, and each end knows the other by its public key', async () => {
    const seen = serverConns.length;
    const conn = await connect('127.0.0.1', server.port!, { auth: client(), service: new ClientSide() });
    const root = conn.root as Remote<Echo>;
    assert.equal(await root.echo('hi'), 'hi');
    assert.equal(await root.callMe(async (n: number) => n * 2), 41);
    await until(() => serverConns.length > seen, 5000, 'the server-side connection');
    const serverSide = serverConns[serverConns.length - 1]!;
    assert.equal(await (serverSide.root as Remote<ClientSide>).hello(), 'hello from the client');
    assert.deepEqual((serverSide.peer.credentials as ShsCredentials).publicKey, clientKeys.publicKey);
    assert.deepEqual((conn.peer.credentials as ShsCredentials).publicKey, serverKeys.publicKey);
    // Closing goes through the box-stream in order: the server sees the client leave, not a broken stream.
    await conn.close();
    const reason = await within(serverSide.closed, 5000, 'the server side to close');
    assert.ok(reason instanceof ConnectionClosedError, String(reason));
    assert.doesNotMatch(reason.message, /secure channel|goodbye/);
  });

  it('carries a 3 MiB argument and result intact', async () => {
    const conn = await connect('127.0.0.1', server.port!, { auth: client() });
    const big = randomBytes(3 * 1024 * 1024);
    const back = (await (conn.root as Remote<Echo>).echo(big)) as Uint8Array;
    assert.ok(Buffer.from(back).equals(big));
    await conn.close();
  });

  it('a client without the network key gets no answer at all: not one byte', async () => {
    const before = errors.length;
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: client({ networkKey: randomNetworkKey() }) }),
      (e: Error) => e instanceof AuthenticationError && /msg2/.test(e.message),
    );
    await serverReports(before, /msg1 is not authenticated with our network key/);
    // The same from a raw socket that can see every byte: a well-formed msg1 under another key, and garbage.
    assert.deepEqual(await rawExchange(server.port!, msg1For(randomNetworkKey())), { received: 0 });
    assert.deepEqual(await rawExchange(server.port!, randomBytes(64)), { received: 0 });
  });

  it('an ephemeral key that makes the shared secret all zeros gets no answer either', async () => {
    const before = errors.length;
    assert.deepEqual(await rawExchange(server.port!, msg1For(networkKey, new Uint8Array(32))), { received: 0 });
    await serverReports(before, /all-zero shared secret/);
  });

  it('a client with the wrong server key fails at msg4, the server having refused msg3', async () => {
    const before = errors.length;
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: client({ serverKey: generateKeys().publicKey }) }),
      (e: Error) => e instanceof AuthenticationError && /before sending msg4/.test(e.message),
    );
    await serverReports(before, /msg3 could not be opened/);
  });

  it('authorize returning false refuses the client before msg4', async () => {
    const before = errors.length;
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: client({ keys: strangerKeys }) }),
      (e: Error) => e instanceof AuthenticationError && /msg4/.test(e.message),
    );
    await serverReports(before, new RegExp(`${b64(strangerKeys.publicKey).replace(/[+/]/g, '.')} is not authorized`));
    // A client with keys made for it alone is a stranger too.
    await assert.rejects(
      connect('127.0.0.1', server.port!, { auth: client({ keys: undefined }) }),
      AuthenticationError,
    );
  });

  it('authorize throwing refuses the client, and the server says why', async () => {
    const before = errors.length;
    await assert.rejects(connect('127.0.0.1', server.port!, { auth: client({ keys: bombKeys }) }), AuthenticationError);
    await serverReports(before, /authorize\(\) threw: boom/);
  });

  it('a client that says nothing is dropped at the handshake deadline', async () => {
    const quick = new Server(Echo, {
      port: 0,
      protocolConfig: { handshakeTimeout: 500 },
      authenticator: shsServer({ networkKey, keys: serverKeys }),
    });
    const refusals: unknown[] = [];
    quick.on('error', (e) => refusals.push(e));
    await quick.start();
    const started = Date.now();
    assert.deepEqual(await rawExchange(quick.port!, new Uint8Array(0)), { received: 0 });
    assert.ok(Date.now() - started >= 450, 'dropped before the 500 ms deadline');
    await until(() => refusals.length > 0, 5000, 'the server to report the timeout');
    assert.ok(refusals[0] instanceof TimeoutError, String(refusals[0]));
    await quick.close();
    assert.equal(await (steady.root as Remote<Echo>).echo(1), 1);
  });

  it('a connect to a server that never answers fails with TimeoutError', async () => {
    const silent = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    await assert.rejects(
      connect('127.0.0.1', (silent.address() as net.AddressInfo).port, {
        auth: client(),
        protocolConfig: { handshakeTimeout: 300 },
      }),
      TimeoutError,
    );
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a frame altered on the wire closes the connection with the reason, and the server carries on', async () => {
    // A relay that flips one bit of the first box-stream frame from the server (after msg2 and msg4: 144 bytes).
    const relay = net.createServer((inbound) => {
      const outbound = net.connect({ host: '127.0.0.1', port: server.port! });
      let fromServer = 0;
      inbound.on('error', () => {});
      outbound.on('error', () => {});
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => {
        const copy = Buffer.from(chunk);
        const at = 144 - fromServer;
        if (at >= 0 && at < copy.length) copy[at]! ^= 1;
        fromServer += chunk.length;
        inbound.write(copy);
      });
      outbound.on('close', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    await assert.rejects(
      connect('127.0.0.1', (relay.address() as net.AddressInfo).port, { auth: client() }),
      /header of frame 1 failed authentication/,
    );
    await new Promise((r) => relay.close(r));
    const conn = await connect('127.0.0.1', server.port!, { auth: client() });
    assert.equal(await (conn.root as Remote<Echo>).echo('fine'), 'fine');
    await conn.close();
    assert.equal(await (steady.root as Remote<Echo>).echo('steady'), 'steady');
  });
});

describe('shsServer without authorize', () => {
  it('admits any client holding the network key, even one with keys of its own making', async () => {
    const networkKey = randomNetworkKey();
    const keys = generateKeys();
    const server = new Server(Echo, { port: 0, authenticator: shsServer({ networkKey, keys }) });
    const seen = new Promise<Connection>((r) => server.once('connection', r));
    await server.start();
    const conn = await connect('127.0.0.1', server.port!, {
      auth: shsClient({ networkKey, serverKey: keys.publicKey }),
    });
    assert.equal(await (conn.root as Remote<Echo>).echo(7), 7);
    const serverSide = await seen;
    assert.equal((serverSide.peer.credentials as ShsCredentials).publicKey.length, 32);
    // The server closing is as orderly as the client closing.
    await serverSide.close();
    const reason = await within(conn.closed, 5000, 'the client side to close');
    assert.ok(reason instanceof ConnectionClosedError, String(reason));
    assert.doesNotMatch(reason.message, /secure channel|goodbye/);
    await server.close();
  });
});

describe('options are checked at once', () => {
  const networkKey = randomNetworkKey();
  const keys = generateKeys();
  it('generateKeys and randomNetworkKey make keys of the documented sizes', () => {
    assert.equal(keys.publicKey.length, 32);
    assert.equal(keys.secretKey.length, 64);
    assert.deepEqual(keys.secretKey.subarray(32), keys.publicKey);
    assert.equal(networkKey.length, 32);
    assert.notDeepEqual(randomNetworkKey(), networkKey);
  });
  it('a missing or malformed key is a TypeError naming it', async () => {
    assert.throws(() => shsServer({ keys } as never), /networkKey must be a Uint8Array of 32 bytes/);
    assert.throws(
      () => shsServer({ networkKey: new Uint8Array(31), keys }),
      /networkKey must be 32 bytes long, got 31/,
    );
    assert.throws(() => shsServer({ networkKey } as never), /keys must be \{ publicKey, secretKey \}/);
    assert.throws(
      () => shsServer({ networkKey, keys: { publicKey: keys.publicKey, secretKey: new Uint8Array(32) } }),
      /keys\.secretKey must be 64 bytes long/,
    );
    assert.throws(
      () => shsServer({ networkKey, keys: { publicKey: generateKeys().publicKey, secretKey: keys.secretKey } }),
      /keys\.publicKey does not belong to keys\.secretKey/,
    );
    assert.throws(() => shsServer({ networkKey, keys, authorize: true as never }), /authorize must be a function/);
    assert.throws(() => shsClient({ networkKey } as never), /serverKey must be a Uint8Array of 32 bytes/);
    assert.throws(() => shsClient({ networkKey: 'abc', serverKey: keys.publicKey } as never), /networkKey/);
    const stream = new PassThrough();
    await assert.rejects(clientHandshake(stream, { networkKey, keys, serverKey: new Uint8Array(3) }), /serverKey/);
    await assert.rejects(serverHandshake(stream, { networkKey, keys, timeout: -1 }), /timeout must be a positive/);
    assert.equal(stream.destroyed, false, 'bad options leave the stream alone');
    assert.throws(() => boxStream(stream, { encryptKey: new Uint8Array(32) } as never), /encryptNonce/);
  });
});

type Delivery = 'whole' | 'bytes' | number[];

/**
 * Moves what is written to `from` into `to`: as it comes (`whole`), one byte per turn of the event loop (`bytes`),
 * or in chunks of exactly the given sizes, holding bytes back until each is complete (then as it comes).
 */
function relay(from: PassThrough, to: PassThrough, delivery: Delivery): void {
  if (delivery === 'whole') {
    from.pipe(to);
    return;
  }
  const plan = delivery === 'bytes' ? undefined : [...delivery];
  let pending = Buffer.alloc(0);
  let ended = false;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    if (to.destroyed) return;
    if (!plan) {
      if (pending.length > 0) {
        to.write(pending.subarray(0, 1));
        pending = pending.subarray(1);
        scheduled = true;
        setImmediate(pump);
        return;
      }
    } else {
      while (plan.length > 0 && pending.length >= plan[0]!) {
        const n = plan.shift()!;
        to.write(pending.subarray(0, n));
        pending = pending.subarray(n);
      }
      if (plan.length === 0 && pending.length > 0) {
        to.write(pending);
        pending = Buffer.alloc(0);
      }
    }
    if (ended && pending.length === 0) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (!scheduled) pump();
  });
  from.on('end', () => {
    ended = true;
    if (!scheduled) pump();
  });
}

/** Two in-memory Duplex ends joined to each other; each direction delivered as told. */
function link(aToB: Delivery = 'whole', bToA: Delivery = 'whole'): { a: Duplex; b: Duplex; close(): void } {
  const [aOut, bIn, bOut, aIn] = [new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough()];
  // Destroying a Duplex.from() end destroys these with an AbortError; a closed link has nobody to tell.
  for (const p of [aOut, bIn, bOut, aIn]) p.on('error', () => {});
  relay(aOut, bIn, aToB);
  relay(bOut, aIn, bToA);
  const a = Duplex.from({ readable: aIn, writable: aOut });
  const b = Duplex.from({ readable: bIn, writable: bOut });
  return {
    a,
    b,
    close() {
      for (const s of [a, b]) s.on('error', () => {}); // a Duplex.from() end destroyed reports an AbortError
      for (const s of [a, b, aOut, bIn, bOut, aIn]) s.destroy();
    },
  };
}

/** Runs both handshakes over `l`; resolves with both results. */
async function handshakeOver(l: { a: Duplex; b: Duplex }): Promise<[HandshakeResult, HandshakeResult]> {
  const networkKey = randomNetworkKey();
  const server = generateKeys();
  const client = generateKeys();
  return Promise.all([
    clientHandshake(l.a, { networkKey, keys: client, serverKey: server.publicKey }),
    serverHandshake(l.b, { networkKey, keys: server }),
  ]);
}

/** Resolves with everything `stream` yields until it ends; rejects with its error. */
async function drain(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('handshakes on streams that deliver bytes their own way', () => {
  it('one byte at a time both ways: same keys on both ends, and the box-streams work', async () => {
    const l = link('bytes', 'bytes');
    const [c, s] = await within(handshakeOver(l), 10000, 'a byte-by-byte handshake');
    assert.deepEqual(c.encryptKey, s.decryptKey);
    assert.deepEqual(c.encryptNonce, s.decryptNonce);
    assert.deepEqual(c.decryptKey, s.encryptKey);
    assert.deepEqual(c.decryptNonce, s.encryptNonce);
    const [cb, sb] = [boxStream(l.a, c), boxStream(l.b, s)];
    cb.end('from the client');
    sb.end('from the server');
    assert.equal((await within(drain(sb), 10000, 'the client data')).toString(), 'from the client');
    assert.equal((await within(drain(cb), 10000, 'the server data')).toString(), 'from the server');
    l.close();
  });

  it('msg4 and the first frames in one chunk: the handshake leaves the frames for the box-stream', async () => {
    // The server's msg2 alone, then msg4 (80 bytes) with a 5-byte frame (34 + 5) and the goodbye (34) at once.
    const l = link('whole', [64, 80 + 39 + 34]);
    const networkKey = randomNetworkKey();
    const server = generateKeys();
    const serverSide = serverHandshake(l.b, { networkKey, keys: server }).then((s) => boxStream(l.b, s).end('hello'));
    const c = await clientHandshake(l.a, { networkKey, keys: generateKeys(), serverKey: server.publicKey });
    const sb = await serverSide;
    const cb = boxStream(l.a, c);
    assert.equal((await within(drain(cb), 5000, 'the frame')).toString(), 'hello');
    // The box-streams own their streams: destroying them is the whole teardown, and it is quiet.
    cb.destroy();
    sb.destroy();
    l.close();
  });

  it('a client refuses a server whose ephemeral key makes the shared secret all zeros', async () => {
    const l = link();
    const networkKey = randomNetworkKey();
    const keys = generateKeys();
    l.b.once('readable', () => l.b.write(msg1For(networkKey, new Uint8Array(32))));
    await assert.rejects(
      clientHandshake(l.a, { networkKey, keys, serverKey: generateKeys().publicKey }),
      /all-zero shared secret/,
    );
    l.close();
  });

  it('a handshake the peer never answers rejects with TimeoutError and destroys the stream', async () => {
    const l = link();
    const keys = generateKeys();
    await assert.rejects(
      clientHandshake(l.a, { networkKey: randomNetworkKey(), keys, serverKey: keys.publicKey, timeout: 200 }),
      (e: Error) => e instanceof TimeoutError && /within 200 ms \(waiting for msg2\)/.test(e.message),
    );
    assert.equal(l.a.destroyed, true);
    l.close();
  });
});

/** Matching session keys for the two ends of a box-stream, without a handshake. */
function sessionKeys(): [HandshakeResult, HandshakeResult] {
  const [k1, n1, k2, n2] = [nacl.randomBytes(32), nacl.randomBytes(24), nacl.randomBytes(32), nacl.randomBytes(24)];
  const remotePublicKey = new Uint8Array(32);
  return [
    { remotePublicKey, encryptKey: k1, encryptNonce: n1, decryptKey: k2, decryptNonce: n2 },
    { remotePublicKey, encryptKey: k2, encryptNonce: n2, decryptKey: k1, decryptNonce: n1 },
  ];
}

/** A raw stream under test control: `push` feeds its readable side; what is written to it is collected. */
function rawStream(): Duplex & { written: Buffer[] } {
  const written: Buffer[] = [];
  const raw = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return Object.assign(raw, { written });
}

/** The wire bytes of `messages` (each at most 4096 bytes: one frame each) and of the goodbye, frame by frame. */
async function sealed(keys: HandshakeResult, messages: string[]): Promise<{ frames: Buffer[]; goodbye: Buffer }> {
  const raw = rawStream();
  const box = boxStream(raw, keys);
  for (const m of messages) box.write(m);
  box.end();
  await within(new Promise((r) => box.once('finish', r)), 5000, 'the goodbye to be written');
  assert.equal(raw.writableEnded, true, 'ending the box-stream ends the stream under it');
  box.destroy();
  const bytes = Buffer.concat(raw.written);
  const frames: Buffer[] = [];
  let at = 0;
  for (const m of messages) {
    frames.push(bytes.subarray(at, at + 34 + Buffer.byteLength(m)));
    at += 34 + Buffer.byteLength(m);
  }
  assert.equal(bytes.length - at, 34);
  return { frames, goodbye: bytes.subarray(at) };
}

/** Feeds `wire` to a receiving box-stream, then ends or destroys the stream under it (or neither). */
async function receive(
  keys: HandshakeResult,
  wire: Buffer[],
  end: 'end' | 'destroy' | 'none' = 'end',
): Promise<{ data: string; error?: Error }> {
  const raw = rawStream();
  const box = boxStream(raw, keys);
  const got: Buffer[] = [];
  box.on('data', (d: Buffer) => got.push(d));
  const outcome = new Promise<Error | undefined>((resolve) => {
    box.once('error', resolve);
    box.once('end', () => resolve(undefined));
  });
  for (const chunk of wire) raw.push(chunk);
  if (end === 'end') raw.push(null);
  if (end === 'destroy') raw.destroy();
  const error = await within(outcome, 5000, 'the box-stream to end or fail');
  box.destroy();
  assert.equal(raw.destroyed, true, 'the box-stream owns the stream under it');
  return { data: Buffer.concat(got).toString(), ...(error ? { error } : {}) };
}

describe('box-stream frames', () => {
  const [alice, bob] = sessionKeys();
  const messages = ['one', 'two', 'three'];

  it('the goodbye ends the reader after every frame, in order', async () => {
    const { frames, goodbye } = await sealed(alice, messages);
    assert.deepEqual(await receive(bob, [...frames, goodbye], 'none'), { data: 'onetwothree' });
    // Several frames in one chunk, or one byte at a time, make no difference.
    assert.deepEqual(await receive(bob, [Buffer.concat([...frames, goodbye])], 'none'), { data: 'onetwothree' });
    const bytes = [...Buffer.concat([...frames, goodbye])].map((b) => Buffer.from([b]));
    assert.deepEqual(await receive(bob, bytes, 'none'), { data: 'onetwothree' });
  });

  it('an altered body, an altered header, a replay and a reordering each fail at that frame', async () => {
    const { frames, goodbye } = await sealed(alice, messages);
    const flip = (b: Buffer, at: number) => {
      const c = Buffer.from(b);
      c[at]! ^= 0x80;
      return c;
    };
    const cases: [Buffer[], string, RegExp][] = [
      [[frames[0]!, flip(frames[1]!, 36), frames[2]!, goodbye], 'one', /body of frame 2 failed authentication/],
      [[frames[0]!, flip(frames[1]!, 3), frames[2]!, goodbye], 'one', /header of frame 2 failed authentication/],
      [[frames[0]!, frames[0]!, frames[1]!, goodbye], 'one', /header of frame 2 failed authentication/],
      [[frames[1]!, frames[0]!, frames[2]!, goodbye], '', /header of frame 1 failed authentication/],
      [[frames[0]!, frames[2]!, goodbye], 'one', /header of frame 2 failed authentication/],
      [[frames[0]!, frames[1]!, flip(goodbye, 20)], 'onetwo', /header of frame 3 failed authentication/],
    ];
    for (const [wire, data, pattern] of cases) {
      const r = await receive(bob, wire, 'none');
      assert.equal(r.data, data);
      assert.match(String(r.error?.message), pattern);
    }
    // Frames sealed for the other direction do not open either.
    assert.match(String((await receive(alice, frames, 'none')).error?.message), /header of frame 1 failed/);
  });

  it('the end of the stream without the goodbye is an error, wherever it falls', async () => {
    const { frames } = await sealed(alice, messages);
    const all = Buffer.concat(frames);
    const cases: [Buffer[], RegExp][] = [
      [frames, /ended without the goodbye frame after 3 frames/],
      [[], /ended without the goodbye frame after 0 frames/],
      [[all.subarray(0, 10)], /middle of the header of frame 1/],
      [[all.subarray(0, 36)], /middle of the body of frame 1/],
    ];
    for (const [wire, pattern] of cases) assert.match(String((await receive(bob, wire)).error?.message), pattern);
    const closed = await receive(bob, frames, 'destroy');
    assert.match(String(closed.error?.message), /closed without the goodbye frame/);
  });

  it('a header claiming more than 4096 bytes is refused before its body is read', async () => {
    const header = new Uint8Array(18);
    header[0] = 0x13; // 0x1388 = 5000
    header[1] = 0x88;
    const forged = nacl.secretbox(header, alice.encryptNonce, alice.encryptKey);
    assert.match(String((await receive(bob, [Buffer.from(forged)], 'none')).error?.message), /claims 5000 bytes/);
  });

  it('backpressure: a reader that stops reading stops the writer, then everything arrives', async () => {
    const l = link();
    const [writer, reader] = [boxStream(l.a, alice), boxStream(l.b, bob)];
    const chunk = randomBytes(64 * 1024);
    let written = 0;
    let received = 0;
    const fill = () => {
      // Bounded, should write() never say stop.
      while (written < 64 * 1024 * 1024) {
        written += chunk.length;
        if (!writer.write(chunk)) return;
      }
    };
    writer.on('drain', fill);
    // The reader takes the first 256 KiB, then stops reading until told.
    let stopping = true;
    reader.on('data', (d: Buffer) => {
      received += d.length;
      if (stopping && received >= 256 * 1024) reader.pause();
    });
    const ended = new Promise((r) => reader.once('end', r));
    fill();
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    await until(() => received >= 256 * 1024, 5000, 'the first 256 KiB');
    // The writer is let go only as far as the buffers on the way hold, then stops for good.
    await turns(200);
    const stalled = written;
    assert.ok(stalled - received < 1024 * 1024, `${stalled - received} bytes in flight when the writer stopped`);
    await turns(200);
    assert.equal(written, stalled);
    writer.off('drain', fill);
    writer.end();
    stopping = false;
    reader.resume();
    await within(ended, 10000, 'all the data');
    assert.equal(received, written);
    writer.destroy();
    reader.destroy();
    l.close();
  });
});

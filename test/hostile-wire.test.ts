// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { connect, TimeoutError } from '../src/index.js';
import { encode, Flags, MessageKind as K, Tagged } from '../src/protocol/index.js';
import { frame, header, HELLO, until, within } from './support/rawPeer.js';
import { fixture, assertServerHealthy, assertRefused, expectClosed, rawRequest } from './support/hostileFixture.js';

describe('hostile peers: the handshake', () => {
  it('refuses garbage instead of a hello, each connection alone', async (t) => {
    const fx = await fixture(t, { handshakeTimeout: 1000 });
    const noHello = { hello: false as const };
    const junk = (seed: number, n: number) => {
      const out = Buffer.alloc(n);
      for (let i = 0, x = seed; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      return out;
    };
    await expectClosed(
      fx,
      'an HTTP request',
      (p) => p.writeRaw(Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')),
      /maxFrameSize/,
      noHello,
    );
    await expectClosed(
      fx,
      'a TLS ClientHello',
      (p) => p.writeRaw(Buffer.concat([Buffer.from('16030100a5010000a10303', 'hex'), junk(1, 160)])),
      /maxFrameSize/,
      noHello,
    );
    await expectClosed(fx, 'an SSH banner', (p) => p.writeRaw(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')), /maxFrameSize/, {
      hello: false,
    });
    await expectClosed(fx, 'a 0xC1 body', (p) => p.sendBody(Buffer.from([0xc1])), /handshake/, noHello);
    for (const seed of [7, 8, 9]) {
      await expectClosed(
        fx,
        `random body ${seed}`,
        (p) => p.sendBody(junk(seed, 64)),
        /undecodable|handshake|version/,
        noHello,
      );
    }
    await expectClosed(
      fx,
      'a request before the hello',
      (p) => p.send([K.CALL, 0, 1, 0, ['add'], [1, 2]]),
      /handshake/,
      noHello,
    );
    await expectClosed(
      fx,
      'another magic',
      (p) => p.send({ magic: 'rpyc', version: [1, 0], features: [] }),
      /handshake/,
      noHello,
    );
    await expectClosed(
      fx,
      'a malformed version',
      (p) => p.send({ magic: 'netref', version: '1.0', features: [] }),
      /malformed protocol version/,
      noHello,
    );
    // Less than a frame header, then silence: the handshake timeout ends it.
    await expectClosed(fx, 'three bytes then silence', (p) => p.writeRaw(Buffer.from('hi\n')), /handshake/, {
      hello: false,
      cls: TimeoutError,
    });
    await assertServerHealthy(fx);
  });

  it('closes a peer that speaks another major version, naming both versions', async (t) => {
    const fx = await fixture(t);
    for (const version of [
      [2, 0],
      [0, 9],
    ]) {
      const peer = await fx.peer({ magic: 'netref', version, features: [] });
      const reason = await assertRefused(fx, peer, /version/);
      assert.ok(reason.message.includes('1.0'), reason.message);
      assert.ok(reason.message.includes(`${version[0]}.${version[1]}`), reason.message);
    }
    // Another minor version talks.
    const peer = await fx.peer({ magic: 'netref', version: [1, 7], features: ['from-the-future'] });
    peer.request(K.CALL, 1, 0, ['add'], [20, 22]);
    assert.deepEqual(await peer.reply(1), [K.RESULT, 1, 42]);
    await assertServerHealthy(fx);
  });

  it('a client refuses a server that speaks version 2.0, naming 1.0 and 2.0', async () => {
    const sockets = new Set<net.Socket>();
    const closedByClient: Promise<void>[] = [];
    const fake = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.resume();
      closedByClient.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.write(frame(encode({ magic: 'netref', version: [2, 0], features: [] })));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as net.AddressInfo).port;
      await assert.rejects(within(connect('127.0.0.1', port), 3000, 'connect to reject'), (error: Error) => {
        assert.ok(error.message.includes('1.0'), error.message);
        assert.ok(error.message.includes('2.0'), error.message);
        return true;
      });
      assert.equal(closedByClient.length, 1);
      await within(closedByClient[0]!, 3000, 'the client to close its socket');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});

describe('hostile peers: frames', () => {
  it('closes on a length prefix over maxFrameSize without waiting for the body', async (t) => {
    const fx = await fixture(t, { maxFrameSize: 1024 });
    // Only the header is ever sent: a server that waited for the body would keep these open (its handshake
    // timeout is 10 s, the wait here 3 s).
    await expectClosed(fx, '1025 after the hello', (p) => p.writeRaw(header(1025)), /maxFrameSize/);
    await expectClosed(fx, '0xFFFFFFFF after the hello', (p) => p.writeRaw(header(0xffffffff)), /maxFrameSize/);
    await expectClosed(fx, '0xFFFFFFFF as the first frame', (p) => p.writeRaw(header(0xffffffff)), /maxFrameSize/, {
      hello: false,
    });
    await expectClosed(fx, '1 MiB as the first frame', (p) => p.writeRaw(header(1 << 20)), /maxFrameSize/, {
      hello: false,
    });
    // A frame of exactly maxFrameSize is fine.
    let body: Uint8Array | undefined;
    let text = '';
    for (let n = 900; n < 1100 && !body; n++) {
      text = 'x'.repeat(n);
      const b = encode([K.CALL, 0, 1, 0, ['echo'], [text]]);
      if (b.byteLength === 1024) body = b;
    }
    assert.ok(body, 'found a request of exactly 1024 bytes');
    const peer = await fx.peer();
    peer.sendBody(body);
    assert.deepEqual(await peer.reply(1), [K.RESULT, 1, text]);
    await assertServerHealthy(fx);
  });

  it('closes on an undecodable body', async (t) => {
    const fx = await fixture(t);
    const bad = /undecodable|not an array|unexpected type|unknown value tag|malformed/;
    const cases: [string, Uint8Array][] = [
      ['an empty body', Buffer.alloc(0)],
      ['a truncated array', Buffer.from([0x92, 0x01])],
      ['trailing bytes', Buffer.from([0x01, 0x02])],
      ['the never-used byte 0xC1', Buffer.from([0xc1])],
      ['a structured-clone pointer (ext 0x70)', Buffer.from([0xd4, 0x70, 0x00])],
      ['a structured-clone id (ext 0x69)', Buffer.from([0xd6, 0x69, 0, 0, 0, 0, 0x90])],
      ['an unknown extension type', Buffer.from([0xd4, 0x01, 0x00])],
      ['a malformed tagged value', Buffer.from([0xd4, 0x4e, 0x00, 0x91, 0x01])],
      ['0xC1 inside the arguments', rawRequest(K.CALL, 1, 0, ['echo'], Buffer.from([0x91, 0xc1]))],
      ['an unknown value tag in the arguments', encode([K.CALL, 0, 1, 0, ['echo'], [new Tagged(99, 1)]])],
      [
        'a structured-clone pointer in the arguments',
        rawRequest(K.CALL, 1, 0, ['echo'], Buffer.from([0x91, 0xd4, 0x70, 0x00])),
      ],
    ];
    for (const [what, body] of cases) await expectClosed(fx, what, (p) => p.sendBody(body), bad);
    await assertServerHealthy(fx);
  });

  it('closes on a frame that is not an array', async (t) => {
    const fx = await fixture(t);
    for (const value of [HELLO, { kind: 1 }, 42, 'CALL', null, true, [], ['1', 0, 1, 0, [], []]]) {
      await expectClosed(fx, JSON.stringify(value), (p) => p.send(value), /not an array/);
    }
    await assertServerHealthy(fx);
  });

  it('closes on an unknown message kind', async (t) => {
    const fx = await fixture(t);
    for (const msg of [
      [99, 0, 1, 0, [], null],
      [K.DESCRIBE, 0, 1, 0, [], null],
      [0],
      [7, 1],
      [-1],
      [1.5, 0, 1, 0, [], []],
      [255],
    ]) {
      await expectClosed(fx, JSON.stringify(msg), (p) => p.send(msg), /unknown message kind/);
    }
    await assertServerHealthy(fx);
  });

  it('closes on requests and control messages of the wrong shape', async (t) => {
    const fx = await fixture(t);
    const cases: [unknown[], RegExp][] = [
      [[K.CALL, 0, 1, 0, ['add']], /5 fields, expected 6/],
      [[K.CALL, 0, 1, 0, ['add'], [1, 2], null], /7 fields, expected 6/],
      [[K.GET], /1 fields, expected 6/],
      [[K.LOOKUP, 0, 1], /3 fields, expected 6/],
      [[K.CALL, 8, 1, 0, ['add'], [1, 2]], /flags/],
      [[K.CALL, -1, 1, 0, ['add'], [1, 2]], /flags/],
      [[K.CALL, 'x', 1, 0, ['add'], [1, 2]], /flags/],
      [[K.CALL, 0, 1, 0, 'add', [1, 2]], /path/],
      [[K.CALL, 0, 1, 0, [1], [1, 2]], /path/],
      [[K.CALL, 0, 1, 0, new Array(65).fill('add'), [1, 2]], /path/],
      [[K.CALL, 0, 1, 0, ['add'], { 0: 1, 1: 2 }], /array of arguments/],
      [[K.GET, 0, 1, 0, ['add'], [1]], /no payload/],
      [[K.RELEASE], /malformed release/],
      [[K.RELEASE, [1]], /malformed release/],
      [[K.FINISH, 'x'], /malformed finish/],
      [[K.PING, 'x'], /malformed ping/],
      [[K.CANCEL, 'x'], /malformed cancel/],
      [[K.PONG, 'x', 1], /malformed pong/],
      [[K.RESULT, 'x', 1], /malformed reply/],
    ];
    for (const [msg, match] of cases) await expectClosed(fx, JSON.stringify(msg), (p) => p.send(msg), match);
    await assertServerHealthy(fx);
  });

  it('closes on a negative, non-integer or huge sequence number', async (t) => {
    const fx = await fixture(t);
    for (const seq of [-1, 1.5, 2 ** 53, 2n ** 64n - 1n, -(2n ** 63n), 'x', null, NaN, Infinity]) {
      await expectClosed(
        fx,
        `seq ${String(seq)}`,
        (p) => p.request(K.CALL, seq, 0, ['add'], [1, 2]),
        /invalid sequence number/,
      );
    }
    // The largest safe integer is a valid sequence number and comes back exactly.
    const peer = await fx.peer();
    peer.request(K.CALL, Number.MAX_SAFE_INTEGER, 0, ['add'], [1, 2]);
    assert.deepEqual(await peer.reply(Number.MAX_SAFE_INTEGER), [K.RESULT, Number.MAX_SAFE_INTEGER, 3]);
    peer.request(K.CALL, 0, 0, ['add'], [1, 2]);
    assert.deepEqual(await peer.reply(0), [K.RESULT, 0, 3]);
    await assertServerHealthy(fx);
  });

  it('closes on a duplicate sequence number while the first request is pending', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.request(K.CALL, 7, 0, ['hang'], []);
    await until(() => fx.probe.hangCalls === 1, 3000, 'the first request to reach the service');
    peer.request(K.CALL, 7, 0, ['add'], [1, 2]);
    await assertRefused(fx, peer, /duplicate request number 7/);
    // The pending handler of the closed connection is told.
    await until(() => fx.probe.signals.every((s) => s.aborted), 3000, 'the pending handler to be aborted');
    // A kept answer (pipelining) holds its sequence number too.
    const keeper = await fx.peer();
    keeper.request(K.CALL, 3, 0, ['add'], [1, 2], Flags.KEEP);
    assert.deepEqual(await keeper.reply(3), [K.RESULT, 3, 3]);
    keeper.request(K.CALL, 3, 0, ['add'], [1, 2]);
    await assertRefused(fx, keeper, /duplicate request number 3/);
    await assertServerHealthy(fx);
  });
});

// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ConnectionClosedError, connect, TimeoutError } from '../src/index.js';
import {
  encode,
  Flags,
  IterateAction,
  MAX_ITERATE_COUNT,
  MessageKind as K,
  Tag,
  Tagged,
} from '../src/protocol/index.js';
import { frame, header, HELLO, RawPeer, until, within } from './support/rawPeer.js';
import {
  fixture,
  assertServerHealthy,
  assertRefused,
  errorName,
  expectClosed,
  exportFn,
  rawRequest,
} from './support/hostileFixture.js';

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
      [10, 0, 1, 0, [], null],
      [0],
      [15, 1],
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

describe('hostile peers: every message kind (audit)', () => {
  it('a length prefix with the top bit set (negative as an int32) closes at once under the default limit', async (t) => {
    const fx = await fixture(t); // maxFrameSize 64 MiB
    for (const length of [0x80000000, 0xfffffffe, 64 * 1024 * 1024 + 1]) {
      await expectClosed(fx, `length ${length}`, (p) => p.writeRaw(header(length)), /maxFrameSize/);
    }
    // The same prefix dribbled in one byte per write is refused as soon as the fourth byte is in.
    const peer = await fx.peer();
    for (const byte of header(0x80000000)) {
      peer.writeRaw(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await assertRefused(fx, peer, /maxFrameSize/);
    await assertServerHealthy(fx);
  });

  it('every kind with a field missing or one too many closes with a ProtocolError', async (t) => {
    const fx = await fixture(t);
    const cases: [unknown[], RegExp][] = [];
    const payloads: Record<number, unknown> = { [K.CALL]: [1, 2], [K.ITERATE]: [IterateAction.OPEN, 1] };
    for (const kind of [K.CALL, K.GET, K.SET, K.DEL, K.LOOKUP, K.DESCRIBE, K.ITERATE]) {
      const full = [kind, 0, 1, 0, kind === K.LOOKUP ? ['x'] : ['add'], payloads[kind] ?? null];
      cases.push([full.slice(0, 5), /5 fields, expected 6/], [[...full, null], /7 fields, expected 6/]);
    }
    cases.push(
      [[K.RESULT, 1], /malformed reply/],
      [[K.RESULT, 1, 2, 3], /malformed reply/],
      [[K.ERROR, 1], /malformed reply/],
      [[K.ERROR, 1, 2, 3], /malformed reply/],
      [[K.RELEASE, [], []], /malformed release/],
      [[K.FINISH], /malformed finish/],
      [[K.FINISH, [], []], /malformed finish/],
      [[K.CANCEL], /malformed cancel/],
      [[K.CANCEL, 1, 2], /malformed cancel/],
      [[K.PING], /malformed ping/],
      [[K.PING, 1, 2], /malformed ping/],
      [[K.PONG, 1], /malformed pong/],
      [[K.PONG, 1, 2, 3], /malformed pong/],
    );
    for (const [msg, match] of cases) await expectClosed(fx, JSON.stringify(msg), (p) => p.send(msg), match);
    await assertServerHealthy(fx);
  });

  it('every control field of the wrong type closes with a ProtocolError', async (t) => {
    const fx = await fixture(t);
    const cases: [unknown[], RegExp][] = [
      [[K.RELEASE, 'x'], /malformed release/],
      [[K.RELEASE, { 0: 1, 1: 1 }], /malformed release/],
      [[K.RELEASE, null], /malformed release/],
      [[K.FINISH, 5], /malformed finish/],
      [[K.FINISH, { 0: 1 }], /malformed finish/],
      [[K.CANCEL, null], /malformed cancel/],
      [[K.CANCEL, [1]], /malformed cancel/],
      [[K.PING, null], /malformed ping/],
      [[K.PING, 1n], /malformed ping/],
      [[K.PONG, null, 1], /malformed pong/],
      [[K.RESULT, null, 1], /malformed reply/],
      [[K.ERROR, [1], 1], /malformed reply/],
      [[K.RESULT, 1n, 1], /malformed reply/],
    ];
    for (const [msg, match] of cases) {
      await expectClosed(
        fx,
        JSON.stringify(msg, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        (p) => p.send(msg),
        match,
      );
    }
    await assertServerHealthy(fx);
  });

  it('ITERATE, DESCRIBE and the COPY flag with a malformed payload or on the wrong kind close the connection', async (t) => {
    const fx = await fixture(t);
    const iterate = (payload: unknown) => [K.ITERATE, 0, 1, 0, ['echo'], payload];
    const cases: [unknown[], RegExp][] = [
      [iterate(null), /iterate request carries/],
      [iterate([]), /iterate request carries/],
      [iterate([IterateAction.OPEN]), /iterate request carries/],
      [iterate([IterateAction.OPEN, 1, 2]), /iterate request carries/],
      [iterate([3, 1]), /iterate request carries/],
      [iterate(['0', 1]), /iterate request carries/],
      [iterate([IterateAction.OPEN, -1]), /iterate request carries/],
      [iterate([IterateAction.OPEN, 1.5]), /iterate request carries/],
      [iterate([IterateAction.OPEN, MAX_ITERATE_COUNT + 1]), /iterate request carries/],
      [iterate([IterateAction.OPEN, 2 ** 53]), /iterate request carries/],
      [iterate([IterateAction.OPEN, 2n ** 70n]), /iterate request carries/],
      [iterate({ 0: 0, 1: 1 }), /iterate request carries/],
      [[K.DESCRIBE, 0, 1, 0, [], [1]], /no payload/],
      [[K.CALL, Flags.COPY, 1, 0, ['add'], [1, 2]], /invalid flags/],
      [[K.SET, Flags.COPY, 1, 0, ['x'], 1], /invalid flags/],
      [[K.ITERATE, Flags.COPY, 1, 0, [], [IterateAction.OPEN, 1]], /invalid flags/],
      [[K.GET, 16, 1, 0, ['add'], null], /invalid flags/],
    ];
    for (const [msg, match] of cases) {
      const what = JSON.stringify(msg, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
      await expectClosed(fx, what, (p) => p.send(msg), match);
    }
    await assertServerHealthy(fx);
  });

  it('ITERATE NEXT and CLOSE on what is not an iterator, and DESCRIBE on anything, answer without harm', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    const fnId = await exportFn(peer, 1);
    let seq = 10;
    for (const target of [0, fnId]) {
      for (const action of [IterateAction.NEXT, IterateAction.CLOSE, IterateAction.OPEN]) {
        peer.request(K.ITERATE, ++seq, target, [], [action, MAX_ITERATE_COUNT]);
        const reply = await peer.reply(seq);
        // CLOSE on what is not an iterator is a no-op; NEXT finds no `next` on the root, and a function's is no method
        const expected =
          action === IterateAction.CLOSE
            ? 'a result'
            : target === 0 && action === IterateAction.NEXT
              ? 'AttributeError'
              : 'TypeError';
        assert.equal(reply[0] === K.RESULT ? 'a result' : errorName(reply), expected, JSON.stringify(reply));
      }
      peer.request(K.DESCRIBE, ++seq, target, [], null);
      assert.equal((await peer.reply(seq))[0], K.RESULT);
    }
    assert.equal(peer.isClosed, false);
    assert.deepEqual(fx.probe.ran, []);
    await assertServerHealthy(fx);
  });

  it('replies, PONGs, FINISHes and CANCELs naming sequence numbers it never used are ignored', async (t) => {
    // These race with the peer's own timeouts (a reply to a call the server stopped waiting for, a CANCEL that
    // crosses the reply), so they are not violations: the connection carries on.
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.send([K.RESULT, 77, 'stray']);
    peer.send([K.ERROR, 78, new Tagged(Tag.ERROR, { name: 'Error', message: 'too late' })]);
    peer.send([K.RESULT, -1, null]);
    peer.send([K.PONG, 79, 'not a time']);
    peer.send([K.FINISH, [80, -1, 'x', null, 1.5]]);
    peer.send([K.CANCEL, 81]);
    peer.send([K.CANCEL, -1]);
    peer.send([K.RELEASE, []]);
    peer.send([K.FINISH, []]);
    peer.request(K.CALL, 1, 0, ['add'], [1, 2]);
    assert.deepEqual(await peer.reply(1), [K.RESULT, 1, 3]);
    assert.equal(peer.isClosed, false);
    await assertServerHealthy(fx);
  });

  it('LOOKUP with no name, two names, or a target the peer does not hold ends in a ProtocolError', async (t) => {
    const fx = await fixture(t);
    fx.server.publish('answer', 42);
    const cases: [string, (p: RawPeer) => void, RegExp][] = [
      ['no name', (p) => p.request(K.LOOKUP, 1, 0, [], null), /exactly one/],
      ['two names', (p) => p.request(K.LOOKUP, 1, 0, ['answer', 'x'], null), /exactly one/],
      ['a payload', (p) => p.request(K.LOOKUP, 1, 0, ['answer'], ['x']), /no payload/],
      ['target 99', (p) => p.request(K.LOOKUP, 1, 99, ['answer'], null), /reference 99/],
    ];
    for (const [what, attack, match] of cases) {
      const peer = await fx.peer();
      attack(peer);
      // docs/PROTOCOL.md §4.2 promises an ERROR reply for a path of other than one name; closing is as safe.
      const outcome = await Promise.race([peer.reply(1), peer.closed.then(() => 'closed' as const)]);
      if (outcome === 'closed') await assertRefused(fx, peer, match);
      else assert.equal(errorName(outcome), 'ProtocolError', what);
    }
    await assertServerHealthy(fx);
  });

  it('a GOODBYE in any shape closes only that connection, as the peer asked', async (t) => {
    const fx = await fixture(t);
    for (const msg of [
      [K.GOODBYE],
      [K.GOODBYE, ''],
      [K.GOODBYE, 42],
      [K.GOODBYE, 'bye', 'extra'],
      [K.GOODBYE, { a: 1 }],
    ]) {
      await expectClosed(fx, JSON.stringify(msg), (p) => p.send(msg), /the peer closed the connection/, {
        cls: ConnectionClosedError,
      });
    }
    // As the first frame it is a refusal, not a hello.
    await expectClosed(fx, 'GOODBYE for a hello', (p) => p.send([K.GOODBYE, 'no']), /refused the connection: no/, {
      hello: false,
      cls: ConnectionClosedError,
    });
    await assertServerHealthy(fx);
  });

  it('a request pipelined on itself, or on a later request, fails with an error reply instead of waiting', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    const promiseOn = (seq: number) => new Tagged(Tag.PROMISE, [true, seq, []]);
    peer.send([K.CALL, Flags.KEEP, 1, 0, ['echo'], [promiseOn(1)]]);
    peer.request(K.GET, 2, 2, [], null, Flags.KEEP | Flags.ON_ANSWER);
    // 3 waits on 4, which is read after it: answers are looked up when a request is read, so 3 fails at once.
    peer.send([K.CALL, Flags.KEEP, 3, 0, ['echo'], [promiseOn(4)]]);
    peer.send([K.CALL, Flags.KEEP, 4, 0, ['echo'], [promiseOn(3)]]);
    for (const seq of [1, 2, 3]) {
      const reply = await peer.reply(seq);
      assert.equal(errorName(reply), 'ProtocolError', `request ${seq}: ${JSON.stringify(reply)}`);
    }
    // 4 waited on 3, which failed: it fails too, and nothing is left waiting.
    assert.equal((await peer.reply(4))[0], K.ERROR);
    await assertServerHealthy(fx);
  });

  it('CANCEL of a running request aborts its handler; the reply still comes, once', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    peer.request(K.CALL, 5, 0, ['hang'], []);
    await until(() => fx.probe.hangCalls === 1, 3000, 'the request to reach the service');
    peer.send([K.CANCEL, 5]);
    peer.send([K.CANCEL, 5]);
    await until(() => fx.probe.signals[0]!.aborted, 3000, 'the handler to see the cancel');
    fx.probe.open();
    assert.deepEqual(await peer.reply(5), [K.RESULT, 5, 'released']);
    peer.request(K.CALL, 6, 0, ['add'], [1, 2]);
    assert.deepEqual(await peer.reply(6), [K.RESULT, 6, 3]);
    assert.equal(peer.frames.filter((f) => Array.isArray(f) && f[1] === 5).length, 1, 'one reply for request 5');
    await assertServerHealthy(fx);
  });
});

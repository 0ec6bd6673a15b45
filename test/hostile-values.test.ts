// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, Flags, IterateAction, MessageKind as K, Tag, Tagged } from '../src/protocol/index.js';
import { frame, HELLO, RawPeer, until } from './support/rawPeer.js';
import {
  fixture,
  assertServerHealthy,
  assertRefused,
  expectClosed,
  rawRequest,
  nested,
  errorName,
  exportFn,
} from './support/hostileFixture.js';

describe('hostile peers: nesting and sizes', () => {
  it('closes on arguments nested deeper than maxDepth (200 levels)', async (t) => {
    const fx = await fixture(t);
    const depth = /maxDepth/;
    await expectClosed(
      fx,
      'arrays',
      (p) => p.sendBody(rawRequest(K.CALL, 1, 0, ['echo'], Buffer.concat([Buffer.from([0x91]), nested(200, [0x91])]))),
      depth,
    );
    await expectClosed(
      fx,
      'maps',
      (p) =>
        p.sendBody(
          rawRequest(K.CALL, 1, 0, ['echo'], Buffer.concat([Buffer.from([0x91]), nested(200, [0x81, 0xa1, 0x61])])),
        ),
      depth,
    );
    let map: unknown = null;
    for (let i = 0; i < 200; i++) map = new Tagged(Tag.MAP, ['k', map]);
    await expectClosed(fx, 'tagged Maps', (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [map]]), depth);
    let error: unknown = null;
    for (let i = 0; i < 200; i++) error = new Tagged(Tag.ERROR, { name: 'Error', message: 'm', cause: error });
    await expectClosed(fx, 'Error causes', (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [error]]), depth);
    let set: unknown = null;
    for (let i = 0; i < 200; i++) set = new Set([set]);
    await expectClosed(fx, 'Sets', (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [set]]), depth);
    // 100 levels are fine, and come back as sent.
    const peer = await fx.peer();
    peer.sendBody(
      rawRequest(K.CALL, 1, 0, ['echo'], Buffer.concat([Buffer.from([0x91]), nested(100, [0x91], [0x2a])])),
    );
    const reply = await peer.reply(1);
    assert.equal(reply[0], K.RESULT);
    let v = reply[2];
    for (let i = 0; i < 100; i++) v = (v as unknown[])[0];
    assert.equal(v, 42);
    await assertServerHealthy(fx);
  });

  it('survives 100000 levels of nesting (no crash, that connection closed)', async (t) => {
    const fx = await fixture(t);
    const N = 100_000;
    const cases: [string, Buffer, unknown | false][] = [
      ['0x91 x 100000 as a whole frame', nested(N, [0x91]), HELLO],
      ['0x91 x 100000 as the hello', nested(N, [0x91]), false],
      ['0x91 x 100000 as the arguments', rawRequest(K.CALL, 1, 0, ['echo'], nested(N, [0x91])), HELLO],
      ['{a: {a: ...}} x 100000', rawRequest(K.CALL, 1, 0, ['echo'], nested(N, [0x81, 0xa1, 0x61])), HELLO],
      // ext 0x4E [1, ...] nested: the codec's own extension, decoded recursively
      ['tagged x 100000', rawRequest(K.CALL, 1, 0, ['echo'], nested(N, [0xd4, 0x4e, 0x00, 0x92, 0x04])), HELLO],
    ];
    for (const [what, body, hello] of cases) {
      await expectClosed(fx, what, (p) => p.sendBody(body), /undecodable|maxDepth/, { hello });
    }
    // The shared decoder still decodes correctly for everyone else.
    await assertServerHealthy(fx);
  });

  it('closes on a container header claiming more elements than the frame holds', async (t) => {
    const fx = await fixture(t);
    const ff = [0xff, 0xff, 0xff, 0xff];
    const cases: [string, number[]][] = [
      ['array32 0xffffffff', [0xdd, ...ff, 0x01]],
      ['map32 0xffffffff', [0xdf, ...ff, 0xa1, 0x61, 0x01]],
      ['str32 0xffffffff', [0xdb, ...ff, 0x61]],
      ['bin32 0xffffffff', [0xc6, ...ff, 0x61]],
      ['ext32 0xffffffff', [0xc9, ...ff, 0x4e, 0x61]],
      ['array16 0xffff, empty', [0xdc, 0xff, 0xff]],
    ];
    for (const [what, bytes] of cases) {
      const started = Date.now();
      await expectClosed(
        fx,
        `${what} (whole frame)`,
        (p) => p.sendBody(Buffer.from(bytes)),
        /undecodable|not an array/,
      );
      await expectClosed(
        fx,
        `${what} (arguments)`,
        (p) => p.sendBody(rawRequest(K.CALL, 1, 0, ['echo'], Buffer.from(bytes))),
        /undecodable/,
      );
      assert.ok(Date.now() - started < 3000, `${what} was refused at once, not after a long loop`);
    }
    await assertServerHealthy(fx);
  });

  it('answers a call with 300000 arguments without falling over', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    const args = Buffer.concat([Buffer.from([0xdd, 0x00, 0x04, 0x93, 0xe0]), Buffer.alloc(300_000, 0x01)]);
    peer.sendBody(rawRequest(K.CALL, 1, 0, ['add'], args));
    const outcome = await Promise.race([peer.reply(1, 5000), peer.closed.then(() => 'closed' as const)]);
    if (outcome === 'closed') await assertRefused(fx, peer, /./);
    else assert.ok(outcome[0] === K.RESULT || outcome[0] === K.ERROR);
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: reference ids', () => {
  it('closes on a request targeting an export the peer does not hold', async (t) => {
    const fx = await fixture(t);
    await expectClosed(fx, 'CALL on 999', (p) => p.request(K.CALL, 1, 999, ['add'], [1, 2]), /reference 999/);
    await expectClosed(fx, 'GET on 999', (p) => p.request(K.GET, 1, 999, ['x'], null), /reference 999/);
    await expectClosed(fx, 'CALL on 999, no path', (p) => p.request(K.CALL, 1, 999, [], []), /reference 999/);
    for (const target of [-1, 1.5, '0', null, 2 ** 53, 2n ** 64n - 1n]) {
      await expectClosed(
        fx,
        `target ${String(target)}`,
        (p) => p.request(K.CALL, 1, target, ['add'], [1, 2]),
        /invalid target/,
      );
    }
    await expectClosed(
      fx,
      'a HOME reference to 999 in the arguments',
      (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.HOME, 999)]]),
      /reference 999/,
    );
    await expectClosed(
      fx,
      'a HOME reference to -1',
      (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.HOME, -1)]]),
      /malformed home/,
    );
    await expectClosed(
      fx,
      'a malformed REMOTE reference',
      (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.REMOTE, [-1, true])]]),
      /malformed remote/,
    );
    // A used-up export is gone too.
    const peer = await fx.peer();
    const id = await exportFn(peer, 1);
    peer.send([K.RELEASE, [id, 1]]);
    peer.request(K.CALL, 2, id, [], ['x']);
    await assertRefused(fx, peer, new RegExp(`reference ${id}\\b`));
    await assertServerHealthy(fx);
  });

  it('refuses a promise reference or a pipelined target the peer does not hold', async (t) => {
    const fx = await fixture(t);
    // These arrive while the request waits for its arguments: an ERROR reply naming the violation, or a close.
    const cases: [string, (p: RawPeer) => void][] = [
      [
        'PROMISE on export 999',
        (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.PROMISE, [false, 999, []])]]),
      ],
      ['PROMISE on answer 999', (p) => p.send([K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.PROMISE, [true, 999, []])]])],
      ['ON_ANSWER on request 12345', (p) => p.request(K.CALL, 1, 12345, ['add'], [1, 2], Flags.ON_ANSWER)],
    ];
    for (const [what, attack] of cases) {
      const peer = await fx.peer();
      attack(peer);
      const outcome = await Promise.race([peer.reply(1), peer.closed.then(() => 'closed' as const)]);
      if (outcome === 'closed') await assertRefused(fx, peer, /999|12345/);
      else {
        assert.equal(outcome[0], K.ERROR, what);
        assert.equal(errorName(outcome), 'ProtocolError', what);
      }
    }
    await assertServerHealthy(fx);
  });

  it('closes on a RELEASE of an unknown id or with a count it never received', async (t) => {
    const fx = await fixture(t);
    await expectClosed(fx, 'unknown id', (p) => p.send([K.RELEASE, [999, 1]]), /reference 999/);
    await expectClosed(fx, 'the root', (p) => p.send([K.RELEASE, [0, 1]]), /invalid reference 0/);
    await expectClosed(fx, 'id -1', (p) => p.send([K.RELEASE, [-1, 1]]), /reference -1/);
    await expectClosed(fx, 'id "1"', (p) => p.send([K.RELEASE, ['1', 1]]), /invalid reference/);
    for (const count of [2, 0, -1, 1.5, '1', null]) {
      const peer = await fx.peer();
      const id = await exportFn(peer, 1);
      peer.send([K.RELEASE, [id, count]]);
      await assertRefused(fx, peer, /count/);
    }
    // Releasing twice: the second release is of an id the peer no longer holds.
    const peer = await fx.peer();
    const id = await exportFn(peer, 1);
    peer.send([K.RELEASE, [id, 1, id, 1]]);
    await assertRefused(fx, peer, new RegExp(`reference ${id}\\b`));
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: reference ids in every place an id goes (audit)', () => {
  const BAD_IDS: unknown[] = [-1, 1.5, NaN, Infinity, 2 ** 53, '1', null, true, [1], { id: 1 }, 2n ** 64n - 1n];
  const show = (v: unknown) => (typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v)));

  it('closes on a malformed id as a target, HOME, REMOTE, PROMISE or RELEASE id', async (t) => {
    const fx = await fixture(t);
    const places: [string, (id: unknown) => unknown[], RegExp][] = [
      ['target', (id) => [K.CALL, 0, 1, id, ['add'], [1, 2]], /invalid target/],
      ['HOME', (id) => [K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.HOME, id)]], /malformed home/],
      ['REMOTE', (id) => [K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.REMOTE, [id, true])]], /malformed remote/],
      ['PROMISE', (id) => [K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.PROMISE, [false, id, []])]], /malformed promise/],
      ['RELEASE', (id) => [K.RELEASE, [id, 1]], /release of (invalid )?reference/],
    ];
    for (const [where, msg, match] of places) {
      for (const id of BAD_IDS) {
        // NaN and Infinity are numbers: a RELEASE of them is refused as an id the peer does not hold.
        await expectClosed(fx, `${where} ${show(id)}`, (p) => p.send(msg(id)), match);
      }
    }
    await assertServerHealthy(fx);
  });

  it("never lets one connection reach another connection's exports by their ids", async (t) => {
    const fx = await fixture(t);
    const owner = await fx.peer();
    const id = await exportFn(owner, 1);
    const uses: [string, unknown[]][] = [
      ['a target', [K.CALL, 0, 1, id, [], ['x']]],
      ['a HOME reference', [K.CALL, 0, 1, 0, ['echo'], [new Tagged(Tag.HOME, id)]]],
      ['a RELEASE', [K.RELEASE, [id, 1]]],
    ];
    for (const [what, msg] of uses) {
      await expectClosed(
        fx,
        `another connection's id as ${what}`,
        (p) => p.send(msg),
        new RegExp(`reference ${id}\\b`),
      );
    }
    // A PROMISE on it fails the request (or the connection); either way the object is not reached.
    const thief = await fx.peer();
    thief.send([K.CALL, 0, 1, 0, ['mirror'], [new Tagged(Tag.PROMISE, [false, id, []])]]);
    const outcome = await Promise.race([thief.reply(1), thief.closed.then(() => 'closed' as const)]);
    if (outcome === 'closed') await assertRefused(fx, thief, new RegExp(`reference ${id}\\b`));
    else assert.equal(outcome[0], K.ERROR);
    assert.deepEqual(fx.probe.seen, [], 'the service never received the other connection’s object');
    // The owner's reference is untouched by all of it: its count was not lowered by the others' RELEASE.
    owner.request(K.CALL, 2, id, [], ['still mine']);
    assert.deepEqual(await owner.reply(2), [K.RESULT, 2, 'still mine']);
    owner.send([K.RELEASE, [id, 1]]);
    owner.request(K.CALL, 3, 0, ['add'], [1, 2]);
    assert.deepEqual(await owner.reply(3), [K.RESULT, 3, 3]);
    await assertServerHealthy(fx);
  });

  it('a released id used again as a HOME or PROMISE reference closes the connection', async (t) => {
    const fx = await fixture(t);
    for (const [what, use] of [
      ['HOME', (id: number) => [K.CALL, 0, 2, 0, ['echo'], [new Tagged(Tag.HOME, id)]]],
      ['PROMISE', (id: number) => [K.CALL, 0, 2, 0, ['echo'], [new Tagged(Tag.PROMISE, [false, id, []])]]],
    ] as const) {
      const peer = await fx.peer();
      const id = await exportFn(peer, 1);
      peer.send([K.RELEASE, [id, 1]]);
      peer.send(use(id));
      const outcome = await Promise.race([peer.reply(2), peer.closed.then(() => 'closed' as const)]);
      if (outcome === 'closed') await assertRefused(fx, peer, new RegExp(`reference ${id}\\b`));
      else assert.equal(errorName(outcome), 'ProtocolError', what);
    }
    await assertServerHealthy(fx);
  });

  it('release counts that add up to more than was sent, over several messages, close the connection', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    const id = await exportFn(peer, 1);
    assert.equal(await exportFn(peer, 2), id, 'the same function is sent twice under one id (count 2)');
    peer.send([K.RELEASE, [id, 1]]);
    peer.send([K.RELEASE, [id, 2]]);
    await assertRefused(fx, peer, new RegExp(`reference ${id} with count 2; it holds 1`));
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: values that are cheap to send and costly to print (audit)', () => {
  /** A BigInt of `bytes` bytes, as msgpackr's ext 0x42: decoding it is fast, printing it in decimal is not. */
  const hugeBigInt = (bytes: number) => {
    const out = Buffer.alloc(6 + bytes, 0x7f);
    out[0] = 0xc9;
    out.writeUInt32BE(bytes, 1);
    out[5] = 0x42;
    return out;
  };
  const BIG = hugeBigInt(3 * 1024 * 1024); // about 7.5 million decimal digits: seconds of CPU to print

  it('a huge BigInt in a field that must be a number is refused without being printed', async (t) => {
    // Error messages naming a bad value must not turn it into a decimal string: a few MiB take seconds, and the
    // default maxFrameSize allows 64 MiB, freezing the whole server (every client) for minutes.
    const fx = await fixture(t);
    const at = (before: number[], after: number[]) => Buffer.concat([Buffer.from(before), BIG, Buffer.from(after)]);
    const add = [0x91, 0xa3, 0x61, 0x64, 0x64, 0x92, 0x01, 0x02]; // ['add'], [1, 2]
    const cases: [string, Buffer][] = [
      ['flags', at([0x96, K.CALL], [0x01, 0x00, ...add])],
      ['seq', at([0x96, K.CALL, 0x00], [0x00, ...add])],
      ['target', at([0x96, K.CALL, 0x00, 0x01], add)],
      ['a RELEASE id', at([0x92, K.RELEASE, 0x92], [0x01])],
      ['a RELEASE count', at([0x92, K.RELEASE, 0x92, 0x01], [])],
    ];
    for (const [what, body] of cases) {
      const peer = await fx.peer();
      const started = Date.now();
      peer.sendBody(body);
      await peer.waitClosed(60_000);
      const ms = Date.now() - started;
      await assertRefused(fx, peer, /invalid|malformed|release/);
      assert.ok(ms < 1500, `a huge BigInt as ${what} took ${ms} ms to refuse: it was printed`);
    }
    await assertServerHealthy(fx);
  });

  it('a huge BigInt as the target of a pipelined path is refused without being printed', async (t) => {
    const fx = await fixture(t);
    const peer = await fx.peer();
    // Kept answer 1 is the BigInt; 2 reads an attribute of it and 3 calls it, each refused naming the target.
    peer.sendBody(rawRequest(K.CALL, 1, 0, ['echo'], Buffer.concat([Buffer.from([0x91]), BIG]), Flags.KEEP));
    assert.equal((await peer.reply(1, 10_000))[0], K.RESULT);
    for (const [seq, kind, path, payload] of [
      [2, K.GET, ['x'], null],
      [3, K.CALL, [], []],
      [4, K.CALL, ['toFixed'], []],
      [5, K.ITERATE, [], [IterateAction.OPEN, 1]],
    ] as const) {
      const started = Date.now();
      peer.request(kind, seq, 1, path, payload, Flags.ON_ANSWER);
      const reply = await peer.reply(seq, 10_000);
      const ms = Date.now() - started;
      assert.equal(reply[0], K.ERROR);
      assert.ok(ms < 1500, `refusing request ${seq} on a huge BigInt took ${ms} ms: it was printed`);
    }
    await assertServerHealthy(fx);
  });
});

describe('hostile peers: requests dropped before they run (audit)', () => {
  // A request's PROMISE arguments and pipelined target are looked up when it is read; if the request is then
  // refused (a target it does not hold, a duplicate seq), or dropped with its connection while it waits for its
  // turn, nobody awaits them. A rejection left unhandled there ends the whole server process (Node's default).
  it('a refused or dropped request leaves no unhandled rejection behind (the server process lives)', async (t) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    t.after(() => process.off('unhandledRejection', onUnhandled));
    const fx = await fixture(t, { maxPendingRequests: 1 });
    const onAnswer = (seq: number, path: string[] = []) => new Tagged(Tag.PROMISE, [true, seq, path]);
    const onExport = (id: number, path: string[]) => new Tagged(Tag.PROMISE, [false, id, path]);
    const cases: [string, (p: RawPeer) => Promise<void> | void][] = [
      [
        'a PROMISE on an answer never kept, in a request on a target not held',
        (p) => p.send([K.CALL, 0, 1, 999, ['x'], [onAnswer(5)]]),
      ],
      [
        'a PROMISE reading a refused name, in a request on a target not held',
        (p) => p.send([K.CALL, 0, 1, 999, ['x'], [onExport(0, ['_private'])]]),
      ],
      [
        'a pipelined request on an answer never kept, reusing the seq of a request in flight',
        async (p) => {
          p.request(K.CALL, 7, 0, ['hang'], []);
          await until(() => fx.probe.hangCalls > 0, 3000, 'the first request to run');
          p.request(K.CALL, 7, 5, [], [], Flags.ON_ANSWER);
        },
      ],
      [
        'a pipelined request on an answer never kept, with a PROMISE argument that fails first',
        (p) => p.send([K.CALL, Flags.ON_ANSWER, 1, 5, [], [onExport(0, ['_private'])]]),
      ],
      [
        'a pipelined request on an answer never kept, waiting its turn when the connection drops',
        async (p) => {
          const before = fx.probe.hangCalls;
          // One write, so both are read together: the first runs (maxPendingRequests 1), the second waits its turn.
          p.writeRaw(
            Buffer.concat([
              frame(encode([K.CALL, 0, 1, 0, ['hang'], []])),
              frame(encode([K.CALL, Flags.ON_ANSWER, 2, 5, [], [onAnswer(6)]])),
            ]),
          );
          await until(() => fx.probe.hangCalls > before, 3000, 'the first request to run');
          p.destroy();
          await fx.reasonFor(p);
        },
      ],
    ];
    for (const [what, attack] of cases) {
      const peer = await fx.peer();
      await attack(peer);
      // Refused with an error reply, or with the connection.
      const isError = (f: unknown) => Array.isArray(f) && f[0] === K.ERROR;
      await until(() => peer.isClosed || peer.frames.some(isError), 5000, `${what}: an error reply or the close`);
      await assertServerHealthy(fx); // a few round trips: time for a rejection to be reported
      assert.deepEqual(
        unhandled.map((e) => String(e)),
        [],
        `${what}: an unhandled rejection (it would end the server process)`,
      );
    }
  });
});

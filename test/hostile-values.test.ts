// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flags, MessageKind as K, Tag, Tagged } from '../src/protocol/index.js';
import { HELLO, RawPeer } from './support/rawPeer.js';
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

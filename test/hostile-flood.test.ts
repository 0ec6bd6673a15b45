// A running Server attacked the way an attacker would: raw bytes on a TCP socket to 127.0.0.1, no netref client
// code on the attacking end. Every attack must end in a clear error for that one connection (a ProtocolError close,
// or an error reply), while the server, a connection that was open before the attack and a new client carry on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, Flags, MessageKind as K } from '../src/protocol/index.js';
import { collect } from './support/gc.js';
import { frame, until } from './support/rawPeer.js';
import { fixture, assertServerHealthy, assertRefused } from './support/hostileFixture.js';

describe('hostile peers: flooding', () => {
  it('a flood of 5000 requests that never resolve stays within maxPendingRequests', async (t) => {
    const fx = await fixture(t, { maxPendingRequests: 16 });
    const N = 5000;
    const peer = await fx.peer();
    peer.pauseReading(); // never reads its replies while flooding
    const frames: Buffer[] = [];
    for (let seq = 1; seq <= N; seq++) frames.push(frame(encode([K.CALL, 0, seq, 0, ['hang'], []])));
    peer.writeRaw(Buffer.concat(frames));
    await until(() => fx.probe.hangCalls >= 16, 3000, '16 requests to reach the service');
    // Give the server every chance to take more: round trips through the same event loop, and a new client.
    for (let i = 0; i < 5; i++) assert.equal(await fx.bystander.root.add(i, 1), i + 1);
    await assertServerHealthy(fx);
    assert.equal(fx.probe.hangCalls, 16, 'no more than maxPendingRequests handlers were started');
    assert.equal(fx.probe.maxConcurrent, 16, 'no more than maxPendingRequests handlers ran at once');
    assert.equal(peer.isClosed, false, 'the flooding peer is slowed, not dropped');
    // Once handlers finish, the rest is served, still at most 16 at a time.
    peer.resumeReading();
    fx.probe.open();
    await until(() => fx.probe.hangCalls === N, 15_000, `all ${N} requests to be handled`);
    const answered = () => peer.frames.filter((f) => Array.isArray(f) && f[0] === K.RESULT).length;
    await until(() => answered() === N, 15_000, `${N} replies`);
    assert.ok(fx.probe.maxConcurrent <= 16, `at most 16 at once, saw ${fx.probe.maxConcurrent}`);
    await assertServerHealthy(fx);
  });

  it('answers kept for pipelining (KEEP) that the peer never FINISHes stay bounded', async (t) => {
    // A peer sets KEEP on every request and never sends FINISH: unless kept answers are capped, each result is
    // held until the connection ends, whatever maxPendingRequests says.
    const fx = await fixture(t, { maxPendingRequests: 16 });
    const N = 5000;
    const peer = await fx.peer();
    const frames: Buffer[] = [];
    for (let seq = 1; seq <= N; seq++) frames.push(frame(encode([K.CALL, Flags.KEEP, seq, 0, ['make'], []])));
    peer.writeRaw(Buffer.concat(frames));
    const settled = () => peer.frames.filter((f) => Array.isArray(f) && f[0] !== K.PING).length;
    await until(() => settled() >= N || peer.isClosed, 15_000, `${N} replies, or the connection closed`);
    if (peer.isClosed) await assertRefused(fx, peer, /./);
    await collect(3);
    const alive = fx.probe.made.filter((r) => r.deref() !== undefined).length;
    assert.ok(
      alive <= N / 2,
      `the server still holds ${alive} of ${fx.probe.made.length} results the peer asked it to keep and never released`,
    );
    await assertServerHealthy(fx);
  });
});

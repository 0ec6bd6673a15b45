// Faults of a real peer process over TCP (issue 7, reliability): killed with calls in flight, frozen, too slow to
// read, and a soak whose heaps must come back to baseline. The full soak is `npm run soak` (bench/soak.ts).
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { connect, ConnectionClosedError, TimeoutError, type Connection } from '../src/index.js';
import { encode, MessageKind as K } from '../src/protocol/index.js';
import { until, within } from './support/pair.js';
import { startPeer, type PeerProcess } from './support/peerProcess.js';
import { frame, RawPeer } from './support/rawPeer.js';
import { soak } from './support/soak.js';

interface Peer {
  add(a: number, b: number): Promise<number>;
  hang(): Promise<never>;
  memory(): Promise<{ arrayBuffers: number; rss: number; blobCalls: number }>;
}

/** A peer process and a client connected to it, both ended when the test ends. */
async function peerAndClient(t: TestContext, options: Parameters<typeof connect>[2] = {}) {
  const peer: PeerProcess = await startPeer();
  t.after(() => peer.kill());
  const conn: Connection = await connect('127.0.0.1', peer.port, options);
  t.after(() => conn.close());
  return { peer, conn, root: conn.root as Peer };
}

/** Collects unhandled rejections while the test runs. */
function watchUnhandled(t: TestContext): unknown[] {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  return seen;
}

describe('faults of a peer process', () => {
  it('killed with 100 calls in flight: every call rejects with ConnectionClosedError within 1 s', async (t) => {
    const unhandled = watchUnhandled(t);
    const { peer, conn, root } = await peerAndClient(t);
    const calls = Array.from({ length: 100 }, () => root.hang());
    // Requests are sent in order: once this answer is back, the peer has read all 100.
    assert.equal(await root.add(1, 2), 3);
    const t0 = performance.now();
    peer.child.kill('SIGKILL');
    const outcomes = await within(Promise.allSettled(calls), 1000, 'the 100 calls to reject');
    const ms = performance.now() - t0;
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      assert.ok(
        (o as PromiseRejectedResult).reason instanceof ConnectionClosedError,
        String((o as PromiseRejectedResult).reason),
      );
    }
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    await within(conn.closed, 1000, 'the connection to close');
    await assert.rejects(Promise.resolve(root.add(1, 1)), ConnectionClosedError);
    // Let any stray rejection surface (they are reported after a macrotask).
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(unhandled, []);
  });

  it('frozen (SIGSTOP): the heartbeat closes the connection with a TimeoutError in time', async (t) => {
    const unhandled = watchUnhandled(t);
    const heartbeat = { interval: 100, timeout: 600 };
    const { peer, conn, root } = await peerAndClient(t, { heartbeat });
    assert.equal(await root.add(2, 2), 4);
    const pending = root.hang();
    pending.catch(() => {});
    peer.child.kill('SIGSTOP');
    t.after(() => peer.child.kill('SIGCONT'));
    const t0 = performance.now();
    const reason = await within(conn.closed, 3000, 'the heartbeat to close the connection');
    const ms = performance.now() - t0;
    const timeout = reason instanceof TimeoutError || (reason as { cause?: unknown })?.cause instanceof TimeoutError;
    assert.ok(timeout, `close reason: ${String(reason)}`);
    // The timeout counts from the last frame heard; the check runs every min(interval, timeout/2).
    assert.ok(ms <= heartbeat.timeout + heartbeat.interval + 250, `detected after ${ms.toFixed(0)} ms`);
    await assert.rejects(Promise.resolve(pending), ConnectionClosedError);
    assert.deepEqual(unhandled, []);
  });

  it('a slow consumer: the writer stops reading requests, its memory stays bounded, then catches up', async (t) => {
    const { peer, root } = await peerAndClient(t);
    const before = await root.memory();
    // A client that asks for 1000 replies of 64 KiB (62.5 MiB) in one write and reads none of them.
    const slow = await RawPeer.open(peer.port);
    t.after(() => slow.socket.destroy());
    slow.socket.pause();
    const N = 1000;
    const frames: Buffer[] = [];
    for (let seq = 1; seq <= N; seq++) frames.push(frame(encode([K.CALL, 0, seq, 0, ['blob'], []])));
    slow.writeRaw(Buffer.concat(frames));
    await until(() => slow.socket.bytesWritten >= frames.length * frames[0]!.length, 5000, 'the requests to be sent');
    const started = Date.now();
    while ((await root.memory()).blobCalls === before.blobCalls) {
      assert.ok(Date.now() - started < 5000, 'the writer took no request within 5 s');
    }
    // Round trips on another connection give the writer every chance to take more requests.
    for (let i = 0; i < 20; i++) assert.equal(await root.add(i, 1), i + 1);
    const during = await root.memory();
    const handled = during.blobCalls - before.blobCalls;
    const grown = (during.arrayBuffers - before.arrayBuffers) / 2 ** 20;
    assert.ok(handled <= 256, `${handled} of ${N} requests handled while their replies could not be written`);
    assert.ok(grown < 32, `the writer's buffers grew by ${grown.toFixed(1)} MiB while the reader read nothing`);
    slow.socket.resume();
    const answered = () => slow.frames.filter((f) => Array.isArray(f) && f[0] === K.RESULT).length;
    await until(() => answered() === N, 20_000, `${N} replies`);
  });

  it('a short soak (50,000 calls making and releasing references): both heaps return near baseline', async () => {
    const r = await soak(50_000);
    const MiB = 2 ** 20;
    assert.equal(r.serverAlive, 0, 'the server still holds items the client released');
    const client = (r.clientHeapAfter - r.clientHeapBefore) / MiB;
    const server = (r.serverHeapAfter - r.serverHeapBefore) / MiB;
    assert.ok(client < 8, `client heap grew by ${client.toFixed(1)} MiB`);
    assert.ok(server < 8, `server heap grew by ${server.toFixed(1)} MiB`);
  });
});

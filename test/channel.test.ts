import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { channelPair, connectChannel, PortChannel, Service, StreamChannel, type Remote } from '../src/index.js';
import { within } from './support/pair.js';

class Echo extends Service {
  echo<T>(x: T): T {
    return x;
  }
}

function receiver() {
  const frames: Uint8Array[] = [];
  let closedWith: Error | undefined | null = null;
  let onClose: () => void = () => {};
  const closed = new Promise<void>((r) => (onClose = r));
  return {
    frames,
    closed,
    get error() {
      return closedWith;
    },
    r: {
      frame: (f: Uint8Array) => void frames.push(f),
      closed: (e?: Error) => {
        closedWith = e;
        onClose();
      },
    },
  };
}

describe('channels', () => {
  it('PortChannel carries a connection over a MessageChannel and transfers frame buffers', async () => {
    const { port1, port2 } = new MessageChannel();
    const [a, b] = await Promise.all([
      connectChannel(new PortChannel(port1), { service: Echo }),
      connectChannel(new PortChannel(port2)),
    ]);
    const big = new Uint8Array(1 << 20).fill(7);
    const back = (await (b.root as Remote<Echo>).echo(big)) as Uint8Array;
    assert.equal(back.byteLength, big.byteLength);
    assert.equal(back[12345], 7);
    await b.close();
    assert.ok((await within(a.closed, 2000, 'the other end to close')) instanceof Error);
  });

  it('PortChannel transfers a frame that owns its buffer, and copies a view into a larger one', () => {
    const posted: { value: unknown; transfer: readonly unknown[] | undefined }[] = [];
    const fake = {
      postMessage: (value: unknown, transfer?: readonly unknown[]) => void posted.push({ value, transfer }),
      on: () => fake,
    };
    const ch = new PortChannel(fake);
    const own = new Uint8Array([1, 2, 3]);
    ch.send(own);
    assert.equal(posted[0]!.value, own);
    assert.equal(posted[0]!.transfer![0], own.buffer);
    const pool = new Uint8Array(16);
    const view = pool.subarray(4, 8);
    ch.send(view);
    assert.notEqual((posted[1]!.value as Uint8Array).buffer, pool.buffer, 'a shared buffer must not be detached');
    assert.equal(pool.buffer.byteLength, 16);
  });

  it('StreamChannel writes the frames of one tick with one write', async () => {
    const writes: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk);
        cb();
      },
    });
    const ch = new StreamChannel(new PassThrough(), sink);
    ch.start(receiver().r);
    for (let i = 0; i < 100; i++) ch.send(new Uint8Array([i]));
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.length, 100 * 5);
    assert.equal(writes[0]!.readUInt32BE(0), 1);
    ch.close();
  });

  it('StreamChannel reassembles frames split across reads and joined in one read', async () => {
    const input = new PassThrough();
    const ch = new StreamChannel(input, new PassThrough());
    const rec = receiver();
    ch.start(rec.r);
    const frame = (bytes: number[]) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), Buffer.from(bytes)]);
    const all = Buffer.concat([frame([1, 2, 3]), frame([]), frame([4])]);
    for (const b of all) input.write(Buffer.from([b]));
    input.write(Buffer.concat([frame([5]), frame([6, 7])]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      rec.frames.map((f) => [...f]),
      [[1, 2, 3], [], [4], [5], [6, 7]],
    );
    ch.close();
  });

  it('StreamChannel closes on a length over maxFrameSize before reading the body', async () => {
    const input = new PassThrough();
    const ch = new StreamChannel(input, new PassThrough(), { maxFrameSize: 10 });
    const rec = receiver();
    ch.start(rec.r);
    input.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await within(rec.closed, 2000, 'close');
    assert.match(String(rec.error), /over maxFrameSize/);
    assert.equal(ch.send(new Uint8Array(1)), false, 'send on a closed channel drops the frame');
  });

  it('StreamChannel reports a stream that ends inside a frame', async () => {
    const input = new PassThrough();
    const ch = new StreamChannel(input, new PassThrough());
    const rec = receiver();
    ch.start(rec.r);
    input.end(Buffer.from([0, 0, 0, 9, 1, 2]));
    await within(rec.closed, 2000, 'close');
    assert.match(String(rec.error), /ended in the middle of a frame/);
  });

  it('channelPair delivers in order and never inside send', async () => {
    const [a, b] = channelPair();
    const rec = receiver();
    b.start(rec.r);
    a.start(receiver().r);
    a.send(new Uint8Array([1]));
    assert.equal(rec.frames.length, 0);
    a.send(new Uint8Array([2]));
    a.close();
    await within(rec.closed, 2000, 'close');
    assert.deepEqual(
      rec.frames.map((f) => f[0]),
      [1, 2],
    );
  });
});

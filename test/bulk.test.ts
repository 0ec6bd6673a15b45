import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import {
  connect,
  connectChannel,
  PortChannel,
  Server,
  Service,
  StreamChannel,
  ThreadedServer,
  type Connection,
  type Remote,
} from '../src/index.js';
import { claimOwnedFrame, markOwnedFrame } from '../src/channel/index.js';
import { decode, encode } from '../src/protocol/index.js';
import { within } from './support/pair.js';

const MIB = 1024 * 1024;

/** Bytes whose every position differs from its neighbours, so a shifted or stale copy shows. */
function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Asserts equal bytes without printing megabytes when they differ. */
function assertSameBytes(actual: ArrayBufferView, expected: ArrayBufferView, what = 'the bytes'): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  assert.ok(a.equals(e), `${what} differ (${a.length} bytes, expected ${e.length})`);
}

function checksum(view: ArrayBufferView): number {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (sum * 33 + bytes[i]!) >>> 0;
  return sum;
}

class Bulk extends Service {
  echo<T>(value: T): T {
    return value;
  }
  /** What arrived: its type, size and a checksum of its bytes. */
  describe(value: ArrayBufferView): { type: string; bytes: number; sum: number } {
    return { type: value.constructor.name, bytes: value.byteLength, sum: checksum(value) };
  }
  /** One large binary and small ones, all in one frame. */
  mixed(): [Uint8Array, Buffer, Uint8Array] {
    return [pattern(MIB, 3), Buffer.from('tiny'), new Uint8Array([1, 2, 3])];
  }
}

interface Transport {
  name: string;
  open(): Promise<{ root: Remote<Bulk>; close(): Promise<void> }>;
}

async function overPorts(batch: boolean) {
  const { port1, port2 } = new MessageChannel();
  const [server, client] = await Promise.all([
    connectChannel(new PortChannel(port1, { batch }), { service: Bulk }),
    connectChannel(new PortChannel(port2, { batch })),
  ]);
  return {
    root: client.root as Remote<Bulk>,
    async close() {
      await client.close();
      await within(server.closed, 5000, 'the serving end to close');
    },
  };
}

const transports: Transport[] = [
  {
    name: 'TCP',
    async open() {
      const server = new Server(Bulk, { host: '127.0.0.1', port: 0 });
      await server.start();
      let conn: Connection;
      try {
        conn = await connect('127.0.0.1', server.port!);
      } catch (error) {
        await server.close();
        throw error;
      }
      return {
        root: conn.root as Remote<Bulk>,
        async close() {
          await conn.close();
          await server.close();
        },
      };
    },
  },
  { name: 'a MessagePort', open: () => overPorts(false) },
  { name: 'a MessagePort with batches', open: () => overPorts(true) },
];

for (const transport of transports) {
  describe(`large binaries over ${transport.name}`, () => {
    it('a Uint8Array, a Buffer and a Float64Array arrive intact and keep their types', async () => {
      const t = await transport.open();
      try {
        const bytes = pattern(MIB, 1);
        const buffer = Buffer.from(pattern(300 * 1024, 2));
        const floats = new Float64Array(64 * 1024).map((_, i) => i / 7);
        const [b1, b2, b3] = (await Promise.all([t.root.echo(bytes), t.root.echo(buffer), t.root.echo(floats)])) as [
          Uint8Array,
          Buffer,
          Float64Array,
        ];
        assert.equal(b1.constructor, Uint8Array);
        assertSameBytes(b1, bytes);
        assert.ok(Buffer.isBuffer(b2), 'a Buffer arrives as a Buffer');
        assert.ok(b2.equals(buffer));
        assert.equal(b3.constructor, Float64Array);
        assertSameBytes(b3, floats);
        // As arguments, too: what the service saw.
        assert.deepEqual(await t.root.describe(buffer), {
          type: 'Buffer',
          bytes: buffer.byteLength,
          sum: checksum(buffer),
        });
        assert.deepEqual(await t.root.describe(floats), {
          type: 'Float64Array',
          bytes: floats.byteLength,
          sum: checksum(floats),
        });
      } finally {
        await t.close();
      }
    });

    it('what arrives is what was passed at call time: the caller may reuse its array at once', async () => {
      const t = await transport.open();
      try {
        const bytes = pattern(MIB, 5);
        const sent = checksum(bytes);
        const seen = t.root.describe(bytes);
        const echoed = t.root.echo(bytes);
        bytes.fill(9); // before anything was written
        assert.deepEqual(await seen, { type: 'Uint8Array', bytes: MIB, sum: sent });
        assert.equal(checksum((await echoed) as Uint8Array), sent);
      } finally {
        await t.close();
      }
    });

    it('many large calls in flight, each with other bytes, all arrive intact (reused memory never leaks)', async () => {
      const t = await transport.open();
      try {
        const calls = Array.from({ length: 24 }, (_, i) => {
          const bytes = pattern(256 * 1024 + i * 4096, i);
          return { sum: checksum(bytes), back: t.root.echo(bytes) as Promise<Uint8Array> };
        });
        for (const [i, call] of calls.entries()) assert.equal(checksum(await call.back), call.sum, `call ${i}`);
      } finally {
        await t.close();
      }
    });

    it('a small binary decoded from a large frame does not keep the large frame alive', async () => {
      const t = await transport.open();
      try {
        const [big, tinyBuffer, tinyBytes] = (await t.root.mixed()) as [Uint8Array, Buffer, Uint8Array];
        assert.equal(checksum(big), checksum(pattern(MIB, 3)));
        assert.ok(Buffer.isBuffer(tinyBuffer));
        assert.equal(tinyBuffer.toString(), 'tiny');
        assert.ok(
          tinyBuffer.buffer.byteLength < 64 * 1024,
          `a 4-byte Buffer holds ${tinyBuffer.buffer.byteLength} bytes`,
        );
        assert.deepEqual([...tinyBytes], [1, 2, 3]);
        assert.ok(tinyBytes.buffer.byteLength < 64 * 1024, `a 3-byte array holds ${tinyBytes.buffer.byteLength} bytes`);
        assert.ok(big.buffer.byteLength < MIB + 1024, 'the large array holds little more than its frame');
      } finally {
        await t.close();
      }
    });
  });
}

describe('large binaries through a ThreadedServer (TCP relayed to a worker port)', () => {
  it('arrive intact both ways, with call-time values', async () => {
    const server = new ThreadedServer(new URL('./fixtures/thread-service.ts', import.meta.url), {
      port: 0,
      workers: 1,
      preload: [new URL('./support/tsxWorker.mjs', import.meta.url)],
    });
    await server.start();
    try {
      const conn = await connect('127.0.0.1', server.port!);
      try {
        const root = conn.root as Remote<Bulk>;
        const calls = Array.from({ length: 8 }, (_, i) => {
          const bytes = pattern(MIB, i);
          const sum = checksum(bytes);
          const back = root.echo(bytes) as Promise<Uint8Array>;
          bytes.fill(0);
          return { sum, back };
        });
        for (const call of calls) assert.equal(checksum(await call.back), call.sum);
        const buffer = (await root.echo(Buffer.from(pattern(200 * 1024, 9)))) as Buffer;
        assert.ok(Buffer.isBuffer(buffer));
        assert.equal(checksum(buffer), checksum(pattern(200 * 1024, 9)));
      } finally {
        await conn.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('the codec with large binaries', () => {
  it('encodes a large binary into a frame of its own, copied at encode time', () => {
    const bytes = pattern(MIB, 4);
    const frame = encode([1, bytes]);
    bytes.fill(0);
    // Memory of its own, not a view into the encoder's buffer: a port can transfer it (if it is not a reused
    // buffer larger than the frame, see frameBuffers.ts).
    assert.equal(frame.byteOffset, 0);
    assert.ok(!Buffer.isBuffer(frame));
    const [, back] = decode(frame) as [number, Uint8Array];
    assertSameBytes(back, pattern(MIB, 4));
  });

  it('encodes large binaries right wherever they sit, between other large data too', () => {
    const long = 'x'.repeat(100_000);
    const value = { head: pattern(MIB, 1), middle: [long, Buffer.from(pattern(70_000, 2))], tail: long };
    const back = decode(encode(value)) as typeof value;
    assertSameBytes(back.head, pattern(MIB, 1));
    assert.equal(back.middle[0], long);
    assert.ok(Buffer.isBuffer(back.middle[1]));
    assertSameBytes(back.middle[1] as Buffer, pattern(70_000, 2));
    assert.equal(back.tail, long);
  });

  it('encodes exactly as msgpackr does', () => {
    // Framing as msgpackr writes it: ext 32 (0xc9), length + 1, 0x74 't', type code 1 (Uint8Array), the bytes.
    const frame = encode(pattern(70000, 6));
    assert.deepEqual([...frame.subarray(0, 7)], [0xc9, 0, 1, 0x11, 0x71, 0x74, 1]);
    assertSameBytes(frame.subarray(7), pattern(70000, 6));
    const bin = encode(Buffer.from(pattern(70000, 6)));
    assert.deepEqual([...bin.subarray(0, 5)], [0xc6, 0, 1, 0x11, 0x70]);
    // Small ones too.
    assert.deepEqual([...encode(new Uint8Array([5, 6]))], [0xc7, 3, 0x74, 1, 5, 6]);
    assert.deepEqual([...encode(Buffer.from([5, 6]))], [0xc4, 2, 5, 6]);
    assert.deepEqual([...encode(new Int16Array([1]))], [0xc7, 3, 0x74, 3, 1, 0]);
  });

  it('decodes a binary of a third of a frame a channel owns, or more, as a view into it; smaller ones are copies', () => {
    const frame = new Uint8Array(
      encode([pattern(MIB, 7), Buffer.from(pattern(MIB, 8)), Buffer.from('ab'), pattern(5, 1)]),
    );
    markOwnedFrame(frame);
    const [bytes, buffer, small, smallBytes] = decode(frame) as [Uint8Array, Buffer, Buffer, Uint8Array];
    assert.ok(bytes.buffer === frame.buffer, 'no copy of the large Uint8Array');
    assert.ok(buffer.buffer === frame.buffer, 'no copy of the large Buffer');
    assert.ok(Buffer.isBuffer(buffer));
    assertSameBytes(bytes, pattern(MIB, 7));
    assertSameBytes(buffer, pattern(MIB, 8));
    assert.ok(small.buffer !== frame.buffer);
    assert.ok(Buffer.isBuffer(small));
    assert.equal(small.toString(), 'ab');
    assert.ok(smallBytes.buffer !== frame.buffer);
    assert.equal(claimOwnedFrame(frame), false, 'decoding took the mark: the frame is the values’ memory now');
  });

  it('copies out of a large frame nobody marked, and out of a marked one whose binaries are small', () => {
    const frame = new Uint8Array(encode([pattern(MIB, 1)]));
    const [bytes] = decode(frame) as [Uint8Array];
    assert.ok(bytes.buffer !== frame.buffer);
    frame.fill(0);
    assertSameBytes(bytes, pattern(MIB, 1));

    const many = new Uint8Array(encode(Array.from({ length: 4 }, (_, i) => pattern(100_000, i))));
    markOwnedFrame(many);
    for (const [i, part] of (decode(many) as Uint8Array[]).entries()) {
      assert.ok(part.buffer !== many.buffer, 'a quarter of the frame is copied');
      assertSameBytes(part, pattern(100_000, i));
    }
  });

  it('decodes a wider typed array correctly whether or not it lies aligned in the frame', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg']) {
      const floats = new Float64Array(100_000).map((_, i) => i * 1.5);
      const frame = new Uint8Array(encode([prefix, floats]));
      markOwnedFrame(frame);
      const [, back] = decode(frame) as [string, Float64Array];
      assert.equal(back.constructor, Float64Array);
      assertSameBytes(back, floats);
    }
  });
});

describe('channels and owned frames', () => {
  it('a port batch that carries the same buffer twice is not trusted to be owned', () => {
    let deliver: (value: unknown) => void = () => {};
    const fake = {
      postMessage: () => {},
      on: (event: string, listener: (value: unknown) => void) => {
        if (event === 'message') deliver = listener;
        return fake;
      },
    };
    const ch = new PortChannel(fake);
    const got: Uint8Array[] = [];
    ch.start({ frame: (f) => void got.push(f), closed: () => {} });
    const twice = new Uint8Array(encode([pattern(MIB, 2)]));
    const alone = new Uint8Array(encode([pattern(MIB, 3)]));
    deliver([twice, twice, alone]);
    assert.equal(got.length, 3);
    assert.equal(claimOwnedFrame(twice), false);
    assert.equal(claimOwnedFrame(alone), true);
    ch.close();
  });

  it('StreamChannel marks the large frames it assembles, and only those', async () => {
    const input = new PassThrough();
    const ch = new StreamChannel(input, new PassThrough());
    const got: Uint8Array[] = [];
    ch.start({ frame: (f) => void got.push(f), closed: () => {} });
    const body = encode([pattern(200 * 1024, 1)]);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.byteLength);
    // In pieces, as a socket delivers it: the channel joins them into a buffer of its own.
    const whole = Buffer.concat([header, body]);
    for (let at = 0; at < whole.length; at += 65536) input.write(whole.subarray(at, at + 65536));
    // In one piece: the frame is a view of a chunk the stream gave us, which we do not own.
    input.write(Buffer.concat([header, body]));
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 2);
    assert.equal(claimOwnedFrame(got[0]!), true);
    assert.equal(claimOwnedFrame(got[1]!), false);
    ch.close();
  });

  it('StreamChannel over a stream other than a socket never reuses a frame the stream may still hold', async () => {
    const output = new PassThrough();
    const ch = new StreamChannel(new PassThrough(), output);
    ch.start({ frame: () => {}, closed: () => {} });
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    ch.send(encode([pattern(MIB, 1)]));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 4; i++) ch.send(encode([pattern(MIB, 10 + i)]));
    await new Promise((r) => setImmediate(r));
    const first = Buffer.concat(chunks).subarray(4, 4 + encode([pattern(MIB, 1)]).byteLength);
    assertSameBytes((decode(first) as [Uint8Array])[0], pattern(MIB, 1));
    ch.close();
  });
});

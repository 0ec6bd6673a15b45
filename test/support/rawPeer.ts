import net from 'node:net';
import { decode, encode, MessageKind } from '../../src/protocol/index.js';
import { until, within } from './pair.js';

/** The hello a well-behaved peer of protocol 1.0 sends first. */
export const HELLO = { magic: 'netref', version: [1, 0], features: [] as string[] };

/** A 4-byte big-endian length prefix followed by `body`. */
export function frame(body: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.byteLength, 0);
  return Buffer.concat([head, body]);
}

/** A bare length prefix (no body): for lengths the peer must refuse before reading anything more. */
export function header(length: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(length, 0);
  return head;
}

export { until, within };

/** A reply as decoded from the wire: [RESULT | ERROR, seq, value]. */
export type Reply = [number, number, unknown];

/**
 * A hand-driven netref peer over TCP: it writes whatever bytes a test gives it and decodes every frame it
 * receives. Nothing here follows the protocol unless the test says so; this is the attacker's end.
 */
export class RawPeer {
  /** Every frame received, decoded (a frame this end cannot decode is stored as the Error). */
  readonly frames: unknown[] = [];
  readonly closed: Promise<void>;
  #closed = false;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #listeners = new Set<() => void>();

  /** The local port of this socket: the server sees it as the connection's `peer.port`. */
  readonly localPort: number;

  private constructor(readonly socket: net.Socket) {
    this.localPort = socket.localPort!;
    socket.on('error', () => {}); // resets and EPIPE are expected here: the other end is supposed to hang up
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#closed = true;
        resolve();
        this.#wake();
      });
    });
  }

  /** Connects to 127.0.0.1:`port`; sends `hello` (HELLO unless false) as the first frame. */
  static async open(port: number, hello: unknown | false = HELLO): Promise<RawPeer> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      3000,
      `a TCP connection to 127.0.0.1:${port}`,
    );
    const peer = new RawPeer(socket);
    if (hello !== false) peer.send(hello);
    return peer;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes bytes as they are. */
  writeRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Writes one length-prefixed frame with `body`. */
  sendBody(body: Uint8Array): void {
    this.writeRaw(frame(body));
  }

  /** Encodes `msg` with the protocol's codec and writes it as one frame. */
  send(msg: unknown): void {
    this.sendBody(encode(msg));
  }

  /** Writes a request [kind, flags, seq, target, path, payload]. */
  request(kind: number, seq: unknown, target: unknown, path: unknown, payload: unknown, flags: unknown = 0): void {
    this.send([kind, flags, seq, target, path, payload]);
  }

  /** Resolves with the first received frame (already or later) for which `pred` holds; rejects after `ms`. */
  async waitFor(pred: (f: unknown) => boolean, ms: number, what: string): Promise<unknown> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(pred);
      if (found !== undefined) return found;
      if (this.#closed) throw new Error(`the connection closed before ${what} arrived`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const listeners = this.#listeners;
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        listeners.add(done);
      });
    }
  }

  /** The reply (RESULT or ERROR) to request `seq`. */
  async reply(seq: number, ms = 3000): Promise<Reply> {
    const isReply = (f: unknown) =>
      Array.isArray(f) && (f[0] === MessageKind.RESULT || f[0] === MessageKind.ERROR) && f[1] === seq;
    return (await this.waitFor(isReply, ms, `the reply to request #${seq}`)) as Reply;
  }

  /** Resolves once the other end has closed the socket; rejects if it is still open after `ms`. */
  async waitClosed(ms = 3000): Promise<void> {
    await within(this.closed, ms, 'the server to close the connection');
  }

  /** Stops reading (the kernel buffers fill, then the other end's writes back up). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Ends this end at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const l of [...this.#listeners]) l();
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#buffered < 4) break;
      const head = Buffer.concat(this.#chunks);
      this.#chunks = [head];
      const len = head.readUInt32BE(0);
      if (head.length < 4 + len) break;
      const body = head.subarray(4, 4 + len);
      this.#chunks = [head.subarray(4 + len)];
      this.#buffered = head.length - 4 - len;
      try {
        this.frames.push(decode(Uint8Array.prototype.slice.call(body)));
      } catch (error) {
        this.frames.push(error);
      }
    }
    this.#wake();
  }
}

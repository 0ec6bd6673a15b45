import type { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';

/** Sends one message over a process's IPC channel; `done` runs once it is written (or could not be). */
export type IpcSend = (message: unknown, done: (error: Error | null) => void) => void;

/** The IPC messages an IpcStream sends and takes; other messages on the channel are left to their own listeners. */
type StreamMessage = { netref: 'data'; chunk: Uint8Array } | { netref: 'end' };

function isStreamMessage(m: unknown): m is StreamMessage {
  const kind = (m as { netref?: unknown } | null)?.netref;
  return kind === 'end' || (kind === 'data' && (m as { chunk?: unknown }).chunk instanceof Uint8Array);
}

/**
 * A byte stream over a process's IPC channel (a ChildProcess in the parent, `process` in the child), beside the
 * other messages of that channel. The forking server uses it when the client's stream cannot be handed to the child
 * (an authenticator's wrapper lives in the parent): the parent pipes that stream to its IpcStream, and the child
 * speaks netref over its own with a StreamChannel, exactly as over a socket. The channel must use `serialization:
 * 'advanced'`, so that chunks arrive as bytes.
 *
 * Failure: a write while the IPC channel is down is dropped (whoever owns the process sees it exit or disconnect);
 * the stream ends when the other side ends its IpcStream, and is destroyed (with no error) when the channel
 * disconnects. It never emits `error` on its own.
 */
export class IpcStream extends Duplex {
  #ipc: EventEmitter;
  #send: IpcSend;

  constructor(ipc: EventEmitter, send: IpcSend) {
    super();
    this.#ipc = ipc;
    this.#send = send;
    ipc.on('message', this.#onMessage);
    ipc.on('disconnect', this.#onDisconnect);
  }

  #onMessage = (m: unknown): void => {
    if (!isStreamMessage(m)) return;
    if (m.netref === 'end') {
      this.push(null);
      return;
    }
    // An IPC channel cannot be paused for one reader; the StreamChannel above bounds what it holds.
    this.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
  };

  #onDisconnect = (): void => {
    this.destroy();
  };

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Waiting for the write gives backpressure: the writer stops while the channel is full.
    this.#send({ netref: 'data', chunk } satisfies StreamMessage, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#send({ netref: 'end' } satisfies StreamMessage, () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#ipc.off('message', this.#onMessage);
    this.#ipc.off('disconnect', this.#onDisconnect);
    callback(error);
  }
}

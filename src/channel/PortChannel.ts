import type { Channel, ChannelInfo, ChannelReceiver } from './Channel.js';
import { ChannelError, DEFAULT_MAX_FRAME_SIZE } from './StreamChannel.js';

/**
 * What `PortChannel` needs of a port: worker_threads `MessagePort` and `Worker` have it, and so does anything with
 * `postMessage` and `on('message')`.
 */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly any[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close' | 'exit', listener: (...args: any[]) => void): unknown;
  off?(event: string, listener: (...args: any[]) => void): unknown;
  close?(): void;
  start?(): void;
  unref?(): void;
  ref?(): void;
}

/** Ends a port channel: sent as the last message so the other end learns of an orderly close. */
const GOODBYE = 'netref:goodbye';

/**
 * Frames over a worker_threads `MessagePort`, a `Worker`, or anything alike: each frame is one posted
 * `Uint8Array` whose buffer is transferred, not copied. A message that is not a `Uint8Array` closes the channel
 * with an error (a port is shared with nothing else).
 */
export class PortChannel implements Channel {
  readonly info: ChannelInfo = { transport: 'port' };
  #port: MessagePortLike;
  #receiver: ChannelReceiver | undefined;
  #held: Uint8Array[] = [];
  #paused = false;
  #closed = false;
  #notified = false;
  #error: Error | undefined;
  #maxFrameSize: number;

  constructor(port: MessagePortLike, options?: { maxFrameSize?: number }) {
    this.#port = port;
    this.#maxFrameSize = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    port.on('message', this.#onMessage);
    port.on('close', this.#onClose);
    port.on('exit', this.#onClose);
    port.start?.();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  start(receiver: ChannelReceiver): void {
    if (this.#receiver) throw new Error('PortChannel.start() was called twice');
    this.#receiver = receiver;
    this.#deliverHeld();
    if (this.#closed) this.#notify();
  }

  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    // Transfer only a buffer the frame owns whole. A view into larger memory (a Node Buffer from a pool, the
    // encoder's output buffer) is copied first, or the transfer would detach memory that others still use. (Not
    // `frame.slice()`: on a Buffer that is a view, not a copy.)
    const owns =
      !Buffer.isBuffer(frame) &&
      frame.byteOffset === 0 &&
      frame.byteLength === frame.buffer.byteLength &&
      !(frame.buffer instanceof SharedArrayBuffer);
    const own = owns ? frame : new Uint8Array(frame);
    try {
      this.#port.postMessage(own, [own.buffer]);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    return true;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#deliverHeld();
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#port.postMessage(GOODBYE);
    } catch {
      // the port is gone already; nothing to tell
    }
    this.#closed = true;
    this.#detach();
    this.#notify();
  }

  #onMessage = (value: unknown): void => {
    if (this.#closed) return;
    if (value === GOODBYE) {
      this.#closed = true;
      this.#detach();
      this.#notify();
      return;
    }
    if (!(value instanceof Uint8Array)) {
      this.#fail(new Error(`a port message was not a frame (got ${typeof value})`));
      return;
    }
    if (value.byteLength > this.#maxFrameSize) {
      this.#fail(
        new ChannelError(
          `frame of ${value.byteLength} bytes is over maxFrameSize (${this.#maxFrameSize} bytes)`,
          'ERR_NETREF_FRAME_TOO_LARGE',
        ),
      );
      return;
    }
    if (this.#receiver && !this.#paused && this.#held.length === 0) this.#receiver.frame(value);
    else this.#held.push(value);
  };

  #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    this.#notify();
  };

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#detach();
    this.#notify();
  }

  #detach(): void {
    this.#port.off?.('message', this.#onMessage);
    this.#port.off?.('close', this.#onClose);
    this.#port.off?.('exit', this.#onClose);
    this.#port.close?.();
  }

  #deliverHeld(): void {
    while (this.#receiver && !this.#paused && this.#held.length > 0 && !this.#notified) {
      this.#receiver.frame(this.#held.shift()!);
    }
  }

  #notify(): void {
    if (this.#notified || !this.#receiver) return;
    this.#paused = false;
    this.#deliverHeld();
    this.#notified = true;
    this.#held = [];
    this.#receiver.closed(this.#error);
  }
}

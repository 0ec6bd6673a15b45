import type { Channel, ChannelInfo, ChannelReceiver } from './Channel.js';
import { claimOwnedFrame, isLargeWholeFrame, markOwnedFrame } from './ownedFrames.js';
import { ChannelError, DEFAULT_MAX_FRAME_SIZE } from './StreamChannel.js';

/**
 * What `PortChannel` needs of a port: worker_threads `MessagePort` and `Worker` have it, and so does anything with
 * `postMessage` and `on('message')`. As with those, a message must arrive as the receiving side's own copy (or with
 * its buffers transferred): a received frame's memory is taken to be no one else's.
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

export interface PortChannelOptions {
  /** Largest frame accepted; a larger one closes the channel. */
  maxFrameSize?: number;
  /**
   * Post the frames sent in one tick together, as one message (an array of up to 16 frames, every buffer
   * transferred), as a StreamChannel writes them with one write; `flush()` posts at once. Far fewer messages between
   * threads when many calls are in flight. The other end must be a PortChannel that knows batches (this one always
   * accepts both). Default false: each frame is posted as its own message at once.
   */
  batch?: boolean;
}

/**
 * A batch this long is posted at once, without waiting for the end of the tick: the other thread starts on it while
 * this one carries on. Whole-tick batches of many calls made the two threads take turns (half the throughput).
 */
const BATCH_FRAMES = 16;

/** Ends a port channel: sent as the last message so the other end learns of an orderly close. */
const GOODBYE = 'netref:goodbye';

/**
 * Frames over a worker_threads `MessagePort`, a `Worker`, or anything alike: each frame is one posted
 * `Uint8Array` (or, with `batch`, the frames of a tick are one posted array of them) whose buffer is transferred,
 * not copied. A message that is neither a `Uint8Array` nor an array of them closes the channel with an error (a
 * port is shared with nothing else).
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
  #batch: boolean;
  #out: Uint8Array[] = [];
  #flushScheduled = false;

  constructor(port: MessagePortLike, options?: PortChannelOptions) {
    this.#port = port;
    this.#maxFrameSize = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#batch = options?.batch ?? false;
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
    // `frame.slice()`: on a Buffer that is a view, not a copy.) The encoder's frames that carry a large binary own
    // their buffer, and so does a large frame another channel handed over for good (relayed by a ThreadLink).
    const owns =
      claimOwnedFrame(frame) ||
      (!Buffer.isBuffer(frame) &&
        frame.byteOffset === 0 &&
        frame.byteLength === frame.buffer.byteLength &&
        !(frame.buffer instanceof SharedArrayBuffer));
    const own = owns ? frame : new Uint8Array(frame);
    if (this.#batch) {
      this.#out.push(own);
      if (this.#out.length >= BATCH_FRAMES) this.flush();
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(this.flush);
      }
      return true;
    }
    return this.#post(own, [own.buffer]);
  }

  /** Posts the frames batched so far now (with `batch`; otherwise nothing is ever waiting). */
  flush = (): void => {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#closed) return;
    this.#out = [];
    if (out.length === 1) this.#post(out[0]!, [out[0]!.buffer]);
    else
      this.#post(
        out,
        out.map((f) => f.buffer),
      );
  };

  #post(value: Uint8Array | Uint8Array[], transfer: ArrayBufferLike[]): boolean {
    try {
      this.#port.postMessage(value, transfer);
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
    this.flush();
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
    if (Array.isArray(value)) {
      const shared = sharedBuffers(value);
      for (const frame of value) {
        this.#onFrame(frame, shared);
        if (this.#closed) return;
      }
    } else this.#onFrame(value, undefined);
    // The frames of this message are delivered: the receiver may answer now rather than later in the turn.
    if (this.#receiver && !this.#closed && !this.#paused) this.#receiver.drained?.();
  };

  #onFrame(value: unknown, shared: Set<ArrayBufferLike> | undefined): void {
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
    // A posted frame arrives as this thread's own copy (or transferred memory): nothing else can reach it, unless
    // the sender put the same buffer in a batch twice.
    if (!shared?.has(value.buffer)) markOwnedFrame(value);
    if (this.#receiver && !this.#paused && this.#held.length === 0) this.#receiver.frame(value);
    else this.#held.push(value);
  }

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

/** The buffers that more than one large frame of a batch spans whole (only a hostile sender makes any). */
function sharedBuffers(frames: unknown[]): Set<ArrayBufferLike> | undefined {
  let seen: Set<ArrayBufferLike> | undefined;
  let shared: Set<ArrayBufferLike> | undefined;
  for (const frame of frames) {
    if (!(frame instanceof Uint8Array) || !isLargeWholeFrame(frame)) continue;
    seen ??= new Set();
    if (seen.has(frame.buffer)) (shared ??= new Set()).add(frame.buffer);
    else seen.add(frame.buffer);
  }
  return shared;
}

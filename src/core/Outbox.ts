import type { Channel } from '../channel/index.js';
import { encode, MessageKind } from '../protocol/index.js';

/** A settled promise: `then` on it queues a microtask without the wrapping `queueMicrotask` adds under async hooks. */
const settled = Promise.resolve();

/** Bytes of queued frames past which the outbox is written at once instead of at the end of the turn. */
const HIGH_WATER = 1024 * 1024;

/** A request whose encoded frame may still be changed in place while it waits in the outbox. */
export interface Unsent {
  frame: Uint8Array | undefined;
}

/**
 * The frames a session sends. Frames queued in one synchronous run reach the channel together, at the end of the
 * turn, so that a request pipelined on an earlier one can still mark it (KEEP) before either is written.
 */
export class Outbox {
  #frames: Uint8Array[] = [];
  /** Bytes queued: past HIGH_WATER they are written at once, so that the channel can push back. */
  #bytes = 0;
  #unsent: Unsent[] = [];
  #finished: number[] = [];
  #released: number[] = [];
  #scheduled = false;
  #closed = false;

  constructor(private readonly channel: Channel) {}

  get isEmpty(): boolean {
    return this.#frames.length === 0;
  }

  /** Frames queued. */
  get length(): number {
    return this.#frames.length;
  }

  /** Queues a frame. `unsent.frame` is cleared once it has been handed to the channel. No effect once closed. */
  push(frame: Uint8Array, unsent?: Unsent): void {
    if (this.#closed) return;
    this.#frames.push(frame);
    this.#bytes += frame.byteLength;
    if (unsent) this.#unsent.push(unsent);
    // Replies of one read (a peer's burst of small requests with large answers) must not pile up unwritten: written
    // now, a full socket pauses the channel, which stops delivering the rest of the read until it drains.
    if (this.#bytes >= HIGH_WATER) {
      this.flush();
      return;
    }
    this.#schedule();
  }

  /** Tells the peer, with the next batch, that it may drop the kept answer of our request `seq` (FINISH). */
  finish(seq: number): void {
    if (this.#closed) return;
    this.#finished.push(seq);
    this.#schedule();
  }

  /**
   * Tells the peer, with the next batch, that we dropped `count` references to its object `id` (RELEASE). Sent after
   * the batch's requests, so one that still targets `id` reaches the peer first.
   */
  release(id: number, count: number): void {
    if (this.#closed) return;
    this.#released.push(id, count);
    this.#schedule();
  }

  /**
   * Flushes once the microtasks of this turn have all run: not sooner, because `await x` asks x for `then` in a later
   * microtask, and a request pipelined there must still find the earlier one unsent to mark it KEEP; not later,
   * because every microsecond here is added to the round trip. A nextTick queued from a microtask runs only after the
   * microtask queue is empty, and still before any I/O.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    void settled.then(this.#afterMicrotasks);
  }

  #afterMicrotasks = (): void => {
    process.nextTick(this.flush);
  };

  /** Hands everything queued to the channel now. */
  flush = (): void => {
    this.#scheduled = false;
    if (this.#released.length) {
      this.#frames.push(encode([MessageKind.RELEASE, this.#released]));
      this.#released = [];
    }
    if (this.#finished.length) {
      this.#frames.push(encode([MessageKind.FINISH, this.#finished]));
      this.#finished = [];
    }
    const out = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    for (const u of this.#unsent) u.frame = undefined;
    this.#unsent = [];
    for (const frame of out) this.channel.send(frame);
    // The batch is complete: no need for the channel to wait for the end of the tick.
    if (out.length) this.channel.flush?.();
  };

  /** Sends what is queued and then `last` (a goodbye), with no FINISH after it; nothing is sent afterwards. */
  close(last: Uint8Array): void {
    if (this.#closed) return;
    // The goodbye releases everything anyway.
    this.#finished = [];
    this.#released = [];
    this.#frames.push(last);
    this.flush();
    this.#closed = true;
  }

  /** Drops whatever is unsent (the connection is gone); nothing is sent afterwards. */
  discard(): void {
    this.#closed = true;
    this.#frames = [];
    this.#unsent = [];
    this.#finished = [];
    this.#released = [];
    this.#bytes = 0;
  }
}

import type { Channel, ChannelInfo, ChannelReceiver } from './Channel.js';

/**
 * One end of an in-memory channel. Frames are delivered on a later microtask, never inside `send`, so the two
 * ends behave like a real transport (no re-entrancy).
 */
class MemoryChannel implements Channel {
  readonly info: ChannelInfo = { transport: 'memory' };
  other!: MemoryChannel;
  #receiver: ChannelReceiver | undefined;
  #inbox: Uint8Array[] = [];
  #scheduled = false;
  #paused = false;
  #closed = false;
  #notified = false;

  get isClosed(): boolean {
    return this.#closed;
  }

  start(receiver: ChannelReceiver): void {
    if (this.#receiver) throw new Error('channel.start() was called twice');
    this.#receiver = receiver;
    this.#schedule();
  }

  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    // Copy, as a socket would: the sender may reuse its bytes. (`new Uint8Array(x)` copies; Buffer#slice would not.)
    this.other.#deliver(new Uint8Array(frame));
    return true;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.other.#peerClosed();
    this.#schedule();
  }

  #deliver(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#inbox.push(frame);
    this.#schedule();
  }

  #peerClosed(): void {
    if (this.#closed) return;
    // Frames already sent arrive before the close, in order.
    this.#closed = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || !this.#receiver) return;
    this.#scheduled = true;
    queueMicrotask(this.#drain);
  }

  #drain = (): void => {
    this.#scheduled = false;
    const receiver = this.#receiver!;
    while (this.#inbox.length > 0 && !this.#paused && !this.#notified) receiver.frame(this.#inbox.shift()!);
    if (this.#closed && !this.#notified && (this.#inbox.length === 0 || this.#paused)) {
      this.#notified = true;
      this.#inbox = [];
      receiver.closed();
    }
  };
}

/** Two connected in-memory channel ends, for tests and in-process use. */
export function channelPair(): [Channel, Channel] {
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  a.other = b;
  b.other = a;
  return [a, b];
}

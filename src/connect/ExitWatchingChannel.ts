import type { Channel, ChannelInfo, ChannelReceiver } from '../channel/index.js';

/** How long a channel that closed first waits for its owner's exit, to name the exit in the close reason. */
const EXIT_WAIT = 1000;

/** What an ExitWatchingChannel needs of the process or thread at the other end. */
export interface ExitWatch {
  /** True once the owner has exited. */
  exited(): boolean;
  /** Calls `listener` once when the owner exits; returns the function that stops watching. */
  onExit(listener: () => void): () => void;
  /** How the owner ended, as a close reason (`the child process 42 exited with code 3`). */
  exitError(cause?: Error): Error;
  /** Whether a channel that closed with `error`, followed by this exit, was an orderly end (no reason). */
  orderly?(error: Error | undefined): boolean;
  /**
   * After the owner exits with the channel still open, how long the channel may take to close by itself (data
   * still in a pipe) before it is closed with the exit as the reason. Default 0.
   */
  exitGrace?: number;
}

/**
 * A channel to a child process or worker thread that also watches the owner: whichever of the channel's close and
 * the owner's exit Node reports first, the close reason names how the owner ended (its exit code, signal or crash).
 * A channel that closes first waits (a bounded time) for the exit; an exit with the channel still open closes it.
 */
export class ExitWatchingChannel implements Channel {
  readonly info: ChannelInfo;
  #inner: Channel;
  #watch: ExitWatch;
  #closedByUs = false;

  constructor(inner: Channel, watch: ExitWatch, info: ChannelInfo) {
    this.#inner = inner;
    this.#watch = watch;
    this.info = info;
  }

  get isClosed(): boolean {
    return this.#inner.isClosed;
  }

  start(receiver: ChannelReceiver): void {
    const watch = this.#watch;
    let notified = false;
    let waiting: (() => void) | undefined;
    const notify = (error: Error | undefined) => {
      if (notified) return;
      notified = true;
      stopWatching();
      receiver.closed(error);
    };
    const cut = () => {
      if (notified || this.#inner.isClosed) return;
      notify(watch.exitError()); // first: closing the inner channel reports a close of its own
      this.#closedByUs = true;
      this.#inner.close();
    };
    const stopWatching = watch.onExit(() => {
      if (waiting) return waiting();
      if (!watch.exitGrace) return cut();
      setTimeout(cut, watch.exitGrace).unref();
    });
    const afterExit = (error: Error | undefined) => notify(watch.orderly?.(error) ? undefined : watch.exitError(error));
    this.#inner.start({
      frame: (f) => receiver.frame(f),
      drained: () => receiver.drained?.(),
      closed: (error) => {
        if (this.#closedByUs || notified) return notify(error);
        if (watch.exited()) return afterExit(error);
        // The channel closed first: the owner is going away. Name how it ended if it does so soon.
        const timer = setTimeout(() => notify(error), EXIT_WAIT);
        timer.unref();
        waiting = () => {
          clearTimeout(timer);
          afterExit(error);
        };
      },
    });
  }

  send(frame: Uint8Array): boolean {
    return this.#inner.send(frame);
  }

  flush(): void {
    this.#inner.flush?.();
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  close(): void {
    this.#closedByUs = true;
    this.#inner.close();
  }
}

import type { OutCall } from './netref.js';

/** One of our requests (or pings) awaiting its reply. */
export class PendingCall implements OutCall {
  settled: OutCall['settled'];
  /** The encoded request while it is still in the outbox (its KEEP flag can still be set). */
  frame: Uint8Array | undefined;
  /** The peer was asked to keep the answer (KEEP): it must be told when it may drop it (FINISH). */
  keep = false;
  /** When the default timeout gives up on it (ms since the epoch), or 0 when a timer of its own does. */
  deadline = 0;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
  #promise: Promise<unknown> | undefined;
  #resolve: ((v: unknown) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;
  constructor(readonly seq: number) {}

  /**
   * Made on first use, which always attaches a reaction at once: a call nobody awaits then has no promise that could
   * reject unhandled, and the common call saves a promise and a catch handler.
   */
  get promise(): Promise<unknown> {
    if (!this.#promise) {
      const s = this.settled;
      if (s) this.#promise = s.ok ? Promise.resolve(s.value) : Promise.reject(s.error);
      else {
        this.#promise = new Promise((res, rej) => {
          this.#resolve = res;
          this.#reject = rej;
        });
      }
    }
    return this.#promise;
  }

  /** Records the outcome and settles the promise, if anyone asked for it. Only the first call counts. */
  finish(outcome: NonNullable<OutCall['settled']>): void {
    if (this.settled) return;
    this.settled = outcome;
    if (this.timer) clearTimeout(this.timer);
    this.cleanup?.();
    if (outcome.ok) this.#resolve?.(outcome.value);
    else this.#reject?.(outcome.error);
  }
}

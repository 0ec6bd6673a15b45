import { TimeoutError } from '../protocol/index.js';

/** Heartbeat settings: ping after `interval` ms of silence, give up after `timeout` ms. */
export interface HeartbeatOptions {
  interval: number;
  timeout: number;
}

/**
 * Watches a connection for silence: after `interval` ms without a frame it pings, after `timeout` ms it calls
 * `fail` with a TimeoutError. Any frame counts as life (`heard`). Its timer never keeps the process alive.
 */
export class Heartbeat {
  #lastHeard = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly ping: () => void,
    private readonly fail: (reason: TimeoutError) => void,
  ) {}

  heard(): void {
    this.#lastHeard = Date.now();
  }

  start(): void {
    if (this.#timer) return;
    const { interval, timeout } = this.options;
    this.#lastHeard = Date.now();
    this.#timer = setInterval(
      () => {
        const quiet = Date.now() - this.#lastHeard;
        if (quiet >= timeout) {
          this.fail(new TimeoutError(`heartbeat: the peer sent nothing for ${quiet} ms (timeout ${timeout} ms)`));
        } else if (quiet >= interval) {
          this.ping();
        }
      },
      Math.max(10, Math.min(interval, timeout / 2)),
    );
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

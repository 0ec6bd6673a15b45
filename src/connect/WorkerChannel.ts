import type { MessagePort, Worker } from 'node:worker_threads';
import { PortChannel, type Channel, type ChannelInfo, type ChannelReceiver } from '../channel/index.js';

/** How long a closed port waits for its worker's exit, to name the exit code in the close reason. */
const EXIT_WAIT = 1000;

/** How a worker ended, in words: `the worker thread exited with code 3`, `the worker thread crashed: boom`. */
export function workerExitText(code: number | undefined, crash: Error | undefined): string {
  if (crash) return `the worker thread crashed: ${crash.message}${code !== undefined ? ` (exit code ${code})` : ''}`;
  return `the worker thread exited with code ${code ?? 'unknown'}`;
}

/**
 * Frames over a MessagePort to a worker thread (a PortChannel) that also watches the worker: when the worker exits
 * (or crashes) the channel closes with a reason saying so, whichever of the port's close and the worker's `exit`
 * Node reports first. The port's own close waits (a bounded time) for the exit so the reason can name it.
 */
export class WorkerChannel implements Channel {
  readonly info: ChannelInfo = { transport: 'thread' };
  #inner: PortChannel;
  #worker: Worker;
  #crash: () => Error | undefined;
  #closedByUs = false;
  #exitCode: number | undefined;
  #detach: () => void = () => {};

  /** `crash` tells the error the worker crashed with, if the caller watches its `error` event. */
  constructor(port: MessagePort, worker: Worker, options: { maxFrameSize: number; crash?: () => Error | undefined }) {
    this.#inner = new PortChannel(port, { maxFrameSize: options.maxFrameSize, batch: true });
    this.#worker = worker;
    this.#crash = options.crash ?? (() => undefined);
  }

  get isClosed(): boolean {
    return this.#inner.isClosed;
  }

  start(receiver: ChannelReceiver): void {
    let notified = false;
    let exited = false;
    let waiting: (() => void) | undefined;
    const notify = (error: Error | undefined) => {
      if (notified) return;
      notified = true;
      this.#detach();
      receiver.closed(error);
    };
    const exitError = () => new Error(workerExitText(this.#exitCode, this.#crash()));
    const onExit = (code: number) => {
      exited = true;
      this.#exitCode = code;
      if (waiting) return waiting();
      if (this.#inner.isClosed) return;
      notify(exitError()); // first: closing the port below reports a close of its own
      this.#closedByUs = true;
      this.#inner.close();
    };
    this.#worker.on('exit', onExit);
    this.#detach = () => this.#worker.off('exit', onExit);
    this.#inner.start({
      frame: (f) => receiver.frame(f),
      drained: () => receiver.drained?.(),
      closed: (error) => {
        if (this.#closedByUs || notified) return notify(error);
        if (exited) return notify(exitError());
        // The port closed first: the worker is going away (or closed it). Name how it ended if it does so soon.
        const timer = setTimeout(() => notify(error), EXIT_WAIT);
        timer.unref();
        waiting = () => {
          clearTimeout(timer);
          notify(exitError());
        };
      },
    });
  }

  send(frame: Uint8Array): boolean {
    return this.#inner.send(frame);
  }

  flush(): void {
    this.#inner.flush();
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

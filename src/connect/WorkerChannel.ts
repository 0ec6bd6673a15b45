import type { MessagePort, Worker } from 'node:worker_threads';
import { PortChannel } from '../channel/index.js';
import { ExitWatchingChannel } from './ExitWatchingChannel.js';

/** How a worker ended, in words: `the worker thread exited with code 3`, `the worker thread crashed: boom`. */
export function workerExitText(code: number | undefined, crash: Error | undefined): string {
  if (crash) return `the worker thread crashed: ${crash.message}${code !== undefined ? ` (exit code ${code})` : ''}`;
  return `the worker thread exited with code ${code ?? 'unknown'}`;
}

/**
 * Frames over a MessagePort to a worker thread (a batching PortChannel) that also watches the worker: its exit or
 * crash closes the channel with a reason saying so (see ExitWatchingChannel).
 */
export class WorkerChannel extends ExitWatchingChannel {
  /** `crash` tells the error the worker crashed with, if the caller watches its `error` event. */
  constructor(port: MessagePort, worker: Worker, options: { maxFrameSize: number; crash?: () => Error | undefined }) {
    const crash = options.crash ?? (() => undefined);
    let exited = false;
    let exitCode: number | undefined;
    super(
      new PortChannel(port, { maxFrameSize: options.maxFrameSize, batch: true }),
      {
        exited: () => exited,
        onExit: (listener) => {
          const onExit = (code: number) => {
            exited = true;
            exitCode = code;
            listener();
          };
          worker.once('exit', onExit);
          return () => worker.off('exit', onExit);
        },
        exitError: (cause) => new Error(workerExitText(exitCode, crash()), { cause }),
      },
      { transport: 'thread' },
    );
  }
}

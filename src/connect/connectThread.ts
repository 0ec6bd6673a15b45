import type { Worker } from 'node:worker_threads';
import { netrefModule, settlesWithin, toServiceModule, type ServiceModule } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { attachWorker, type ThreadConnection } from './connectWorker.js';
import { startWorker, type WorkerStartOptions } from './startWorker.js';
import type { ThreadData } from './threadMessages.js';

/** Options of `connectThread`: every factory's, plus how the worker is started. */
export interface ThreadOptions extends ConnectOptions, WorkerStartOptions {
  /**
   * Once the connection has closed, how long the worker may take to exit by itself (it does as soon as its end has
   * closed, unless the service keeps it busy) before it is terminated. Default 1000 ms.
   */
  exitTimeout?: number;
}

/** Resolves once the worker has exited (at once if it has). */
function exited(worker: Worker): Promise<void> {
  if (worker.threadId < 0) return Promise.resolve();
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}

/** Ends the worker: waits `grace` ms for it to exit by itself, then terminates it. */
async function endWorker(worker: Worker, grace: number): Promise<void> {
  const done = exited(worker);
  if (grace > 0 && (await settlesWithin(done, grace))) return;
  await worker.terminate();
  await done;
}

/**
 * Runs a service in a new worker_threads Worker and connects to it over a MessagePort (frames are transferred, not
 * copied). `spec` is `{ module, export? }` or just the module (path or URL; a relative path resolves against
 * `process.cwd()`; the export defaults to `default`). The worker is `conn.worker`; it ends with the connection:
 * `close()` and `closed` resolve once it has exited. Its exit or crash closes the connection, with the exit code
 * or the error in the reason.
 *
 * Rejects with a clear error, and leaves no worker behind, when the module does not exist (naming it), throws while
 * loading (with its message), has no such export (naming the ones it has), exports neither a class nor an object,
 * when a preload fails or the worker crashes or exits during startup, on a handshake timeout, or when `signal`
 * aborts.
 */
export async function connectThread(
  spec: ServiceModule | string | URL,
  options: ThreadOptions = {},
): Promise<ThreadConnection> {
  const target = toServiceModule(spec);
  const { preload, resourceLimits, env, execArgv, stdout, stderr, exitTimeout = 1000, ...connect } = options;
  // The worker's end takes the limits that must match ours (or our frames would break it), not our exposure
  // rules: those of the service are its class's `protocolConfig`.
  const { maxFrameSize, maxDepth } = connect.protocolConfig ?? {};
  const limits = { ...(maxFrameSize ? { maxFrameSize } : {}), ...(maxDepth ? { maxDepth } : {}) };
  const data: ThreadData = { netrefThread: { ...target, protocolConfig: limits } };
  const entry = netrefModule('connect/threadEntry');
  const worker = startWorker(entry, data, { preload, resourceLimits, env, execArgv, stdout, stderr });
  let crash: Error | undefined;
  // Kept for the worker's whole life: a crash of a worker netref owns is the connection's business, never an
  // uncaught `error` event in the caller's program.
  worker.on('error', (error) => (crash ??= error));
  return attachWorker(worker, connect, {
    crash: () => crash,
    end: (connected) => endWorker(worker, connected ? exitTimeout : 0),
  });
}

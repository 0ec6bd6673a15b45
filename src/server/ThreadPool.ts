import type { Worker } from 'node:worker_threads';
import { workerExitText } from '../connect/index.js';
import { NetrefError, type ProtocolConfig } from '../core/index.js';
import { reviveError, type FromThread, type ToThread } from './threadMessages.js';

/** One worker of the pool, with the number of connections it serves. */
export interface PoolThread {
  readonly worker: Worker;
  /** The worker's threadId, kept after it exits (when `worker.threadId` becomes -1). */
  readonly threadId: number;
  load: number;
}

/** What the pool tells its owner. Each is called on the main thread, never while the pool is closing. */
export interface ThreadPoolEvents {
  /** A message from a worker that is serving. */
  message(thread: PoolThread, message: FromThread): void;
  /** A serving worker exited or crashed; a replacement is being started. `reason` says how it ended. */
  lost(thread: PoolThread, reason: Error): void;
  /** A replacement worker failed to start; the pool is one worker smaller. */
  error(error: Error): void;
}

/** A worker that has loaded the service module, and what it said of the service. */
interface Started {
  thread: PoolThread;
  loaded: ServiceLoaded;
}

/** What the workers say of the service they loaded: its discovery names and its class's own protocolConfig. */
export interface ServiceLoaded {
  names: string[];
  protocolConfig?: Partial<ProtocolConfig>;
}

/** Resolves once the worker has exited (at once if it has). */
function exited(worker: Worker): Promise<void> {
  if (worker.threadId < 0) return Promise.resolve();
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}

async function stop(worker: Worker): Promise<void> {
  const done = exited(worker);
  await worker.terminate();
  await done;
}

/**
 * The worker threads of a ThreadedServer. Each loads the service module once when it starts; a worker that dies
 * while serving is replaced. `spawn` starts one worker (running threadedServerWorker).
 */
export class ThreadPool {
  #spawn: () => Worker;
  #size: number;
  #events: ThreadPoolEvents;
  #threads: PoolThread[] = [];
  #starting = new Set<Worker>();
  #closing = false;

  constructor(spawn: () => Worker, size: number, events: ThreadPoolEvents) {
    this.#spawn = spawn;
    this.#size = size;
    this.#events = events;
  }

  /** The workers serving now. */
  get workers(): Worker[] {
    return this.#threads.map((t) => t.worker);
  }

  /**
   * Starts every worker and resolves once all have loaded the service module, with what the first said of it. Rejects with the first failure (the module's load error, or how a worker crashed) once every
   * worker it started has exited.
   */
  async open(): Promise<ServiceLoaded> {
    const started = await Promise.allSettled(Array.from({ length: this.#size }, () => this.#startOne()));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    return (started[0] as PromiseFulfilledResult<Started>).value.loaded;
  }

  /** The worker with the fewest connections (the first of equals). Throws when none is left. */
  pick(): PoolThread {
    let best: PoolThread | undefined;
    for (const t of this.#threads) if (!best || t.load < best.load) best = t;
    if (!best)
      throw new NetrefError(
        'no worker thread is left to serve the connection (they crashed and could not be restarted)',
      );
    return best;
  }

  /** Posts to every worker serving now (a worker started later gets its state from its workerData). */
  broadcast(message: ToThread): void {
    for (const t of this.#threads) t.worker.postMessage(message);
  }

  /** Terminates every worker, resolving once all have exited. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    const all = [...this.#threads.map((t) => t.worker), ...this.#starting];
    this.#threads = [];
    await Promise.all(all.map(stop));
  }

  #startOne(): Promise<Started> {
    const worker = this.#spawn();
    const threadId = worker.threadId;
    this.#starting.add(worker);
    let crash: Error | undefined;
    // For the worker's whole life: its crash is reported as `lost`, never as an uncaught `error` event.
    worker.on('error', (error) => (crash ??= error));
    return new Promise((resolve, reject) => {
      const settle = (error: Error | undefined, message?: FromThread & { type: 'ready' }) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        this.#starting.delete(worker);
        if (error) {
          void stop(worker).then(() => reject(error));
          return;
        }
        const thread: PoolThread = { worker, threadId, load: 0 };
        if (this.#closing) void stop(worker);
        else this.#serving(thread);
        const { names = [], protocolConfig } = message ?? {};
        resolve({ thread, loaded: { names, ...(protocolConfig ? { protocolConfig } : {}) } });
      };
      const onMessage = (message: FromThread) => {
        if (message.type === 'ready') settle(undefined, message);
        else if (message.type === 'failed') settle(reviveError(message.error));
      };
      const onExit = (code: number) =>
        settle(new NetrefError(`${workerExitText(code, crash)} while loading the service module`));
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      // Read when the worker exits: the crash it recorded by then names the cause.
      worker.once('exit', (code: number) => this.#exited(worker, code, () => crash));
    });
  }

  /** A worker that loaded the service begins serving: its messages go to the owner. */
  #serving(thread: PoolThread): void {
    this.#threads.push(thread);
    thread.worker.on('message', (message: FromThread) => {
      if (!this.#closing) this.#events.message(thread, message);
    });
  }

  #exited(worker: Worker, code: number, crash: () => Error | undefined): void {
    const thread = this.#threads.find((t) => t.worker === worker);
    if (!thread || this.#closing) return;
    this.#threads = this.#threads.filter((t) => t !== thread);
    this.#events.lost(thread, new NetrefError(workerExitText(code, crash())));
    this.#startOne().catch((error: Error) => {
      if (!this.#closing) {
        this.#events.error(new NetrefError(`could not replace a worker thread: ${error.message}`, { cause: error }));
      }
    });
  }
}

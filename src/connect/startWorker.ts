import { Worker, type WorkerOptions } from 'node:worker_threads';
import { moduleHref } from '../core/index.js';

/** How netref starts a worker thread of its own (`connectThread`, `ThreadedServer`). */
export interface WorkerStartOptions extends Pick<WorkerOptions, 'resourceLimits' | 'env' | 'execArgv'> {
  /**
   * Modules imported in the worker before anything else, in order: paths (relative to `process.cwd()`), `file:`
   * URLs, or bare package names. This is where a loader the worker needs is registered: on Node 20 the parent's
   * `--import` hooks do not reach workers, so a TypeScript service module needs e.g. a preload that runs
   * `register()` from `tsx/esm/api`. A preload that fails to load fails the start like a crash, naming its error.
   */
  preload?: readonly (string | URL)[];
  /**
   * `true`: the worker's `process.stdout` / `process.stderr` are not copied to the parent's but are readable as
   * `worker.stdout` / `worker.stderr` (read them, or the worker blocks once the pipe is full). Default false.
   */
  stdout?: boolean;
  stderr?: boolean;
}

/**
 * Starts a worker that imports `options.preload`, then `entry`. The bootstrap is a tiny CommonJS snippet evaluated in
 * the worker (no file of its own) whose `import()` calls go through whatever loaders the preloads registered, so
 * `entry` may be a `.ts` file when a preload registers a TypeScript loader. A failing import is an unhandled
 * rejection, which Node turns into the worker's `error` event, then its exit.
 */
export function startWorker(entry: URL, workerData: unknown, options: WorkerStartOptions = {}): Worker {
  const hrefs = [...(options.preload ?? []).map(moduleHref), entry.href];
  const code = `(async () => { for (const href of ${JSON.stringify(hrefs)}) await import(href); })();`;
  return new Worker(code, {
    eval: true,
    workerData,
    resourceLimits: options.resourceLimits,
    env: options.env,
    execArgv: options.execArgv,
    stdout: options.stdout,
    stderr: options.stderr,
  });
}

import { MessageChannel, type Worker } from 'node:worker_threads';
import { NetrefError, resolveProtocolConfig, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { abortReason, connectChannel } from './connectChannel.js';
import { CONNECT_MESSAGE, isMessage, THREAD_FAILED_MESSAGE, type ThreadFailedMessage } from './threadMessages.js';
import { WorkerChannel, workerExitText } from './WorkerChannel.js';

/** A connection to a worker thread; the worker is `worker`. */
export type ThreadConnection = Connection & { readonly worker: Worker };

/**
 * Connects to a service in a worker_threads Worker you made, whose code calls `connectParent({ service })`. Posts
 * one `{ type: 'netref:connect', port }` message on the worker (see `connectParent`), so the worker's `parentPort`
 * stays free for your own messages. Closing the connection leaves the worker running; the worker's exit closes
 * the connection with a reason naming the exit code. The worker's `error` event stays yours to listen to.
 *
 * Rejects, leaving the worker as it is, if the worker has exited or exits before the handshake (naming the exit
 * code), on a handshake timeout (the worker never called `connectParent`), or when `signal` aborts.
 */
export function connectWorker(worker: Worker, options: ConnectOptions = {}): Promise<ThreadConnection> {
  return attachWorker(worker, options);
}

/** What `connectThread` adds for a worker it started: it ends the worker and watches its crashes. */
export interface OwnedWorker {
  /** The error the worker crashed with, if any. */
  crash(): Error | undefined;
  /** Ends the worker once the connection has closed; resolves when it has exited. */
  end(connected: boolean): Promise<void>;
}

/** `connectWorker`, and `connectThread` with `owned`: the worker's startup failure message is awaited too. */
export async function attachWorker(
  worker: Worker,
  options: ConnectOptions,
  owned?: OwnedWorker,
): Promise<ThreadConnection> {
  const { signal, ...rest } = options;
  if (signal?.aborted) {
    await owned?.end(false);
    throw abortReason(signal);
  }
  if (worker.threadId < 0) {
    await owned?.end(false);
    throw new NetrefError('cannot connect to the worker thread: it has exited');
  }
  const { maxFrameSize } = resolveProtocolConfig(rest.protocolConfig);
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ type: CONNECT_MESSAGE, port: port2 }, [port2]);

  // Whatever ends the startup becomes the reason connectChannel rejects with (through the signal it watches).
  const startup = new AbortController();
  const onAbort = () => startup.abort(abortReason(signal!));
  const onExit = (code: number) =>
    startup.abort(new NetrefError(`${workerExitText(code, owned?.crash())} before the connection was made`));
  const onMessage = (value: unknown) => {
    if (!isMessage<ThreadFailedMessage>(value, THREAD_FAILED_MESSAGE)) return;
    const error = new NetrefError(value.message);
    if (value.code) (error as NodeJS.ErrnoException).code = value.code;
    startup.abort(error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Listening before the channel does, so the startup reason wins over the channel's "lost" one.
  worker.on('exit', onExit);
  if (owned) worker.on('message', onMessage);
  const channel = new WorkerChannel(port1, worker, { maxFrameSize, crash: () => owned?.crash() });
  let connected = false;
  let conn: Connection;
  try {
    conn = await connectChannel(channel, {
      ...rest,
      signal: startup.signal,
      ...(owned ? { release: () => owned.end(connected) } : {}),
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    worker.off('exit', onExit);
    worker.off('message', onMessage);
  }
  connected = true;
  Object.defineProperty(conn, 'worker', { value: worker, enumerable: true });
  return conn as ThreadConnection;
}

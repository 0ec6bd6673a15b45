import os from 'node:os';
import { MessageChannel, type Worker } from 'node:worker_threads';
import type { ChannelInfo } from '../channel/index.js';
import { DEFAULT_TCP_HEARTBEAT, startWorker, type WorkerStartOptions } from '../connect/index.js';
import {
  NetrefError,
  netrefModule,
  resolveProtocolConfig,
  toServiceModule,
  type PeerInfo,
  type ServiceModule,
} from '../core/index.js';
import { ServerBase, type Accepted, type Served } from './ServerBase.js';
import type { ServerOptions } from './ServerOptions.js';
import { ThreadLink, type ThreadedConnectionInfo } from './ThreadLink.js';
import { ThreadPool, type PoolThread } from './ThreadPool.js';
import { reviveError, type FromThread, type ThreadedServerData, type ToThread } from './threadMessages.js';

/** Options of a ThreadedServer: every server's, how many workers, and how each is started. */
export interface ThreadedServerOptions extends ServerOptions, WorkerStartOptions {
  /** Worker threads in the pool. Default `os.availableParallelism()`. */
  workers?: number;
}

let nextLink = 1;

/**
 * Serves a service on TCP or a Unix socket, each connection run in one of a pool of worker threads, so a CPU-heavy
 * call holds up only the connections of its worker, never the acceptor or the other workers. The service is given
 * as a module, `{ module, export? }` or just its path or URL (a relative path resolves against `process.cwd()`;
 * the export defaults to `default`); each worker loads it once, at `start()`. A class export gives each connection
 * its own instance; an instance export is shared by the connections of one worker (not across workers).
 *
 * The acceptor (this thread) reads whole frames from each socket and moves them, unread, over a MessagePort to the
 * worker that runs the connection; handshake, heartbeat and calls are between the client and that worker. New
 * connections go to the worker serving the fewest.
 *
 * Events: `listening`; `connection` (info) and `disconnect` (info, reason), where info is a
 * `ThreadedConnectionInfo` `{ id, peer, threadId }`, since the Connection itself lives in a worker; `close`; and
 * `error` (see ServerBase), which also reports a worker that crashed. A crashed worker takes down only its own
 * connections (their clients see ConnectionClosedError naming the crash) and is replaced.
 *
 * `publish(name, value)` sends `value` to the workers as a structured clone (plain data: objects, arrays, Maps,
 * typed arrays…): class instances arrive as plain objects, and functions are refused with a TypeError. To share
 * objects with behaviour, export them from the service module instead.
 */
export class ThreadedServer extends ServerBase {
  readonly service: { module: string; export: string };
  #size: number;
  #start: WorkerStartOptions;
  #pool: ThreadPool | undefined;
  #links = new Map<string, { link: ThreadLink; thread: PoolThread }>();
  #maxFrameSize: number;
  #closing = false;
  #allowAll = false;
  /** The service's discovery names, from the workers (see discoveryNames). */
  #names: string[] = [];

  constructor(spec: ServiceModule | string | URL, options: ThreadedServerOptions = {}) {
    const { workers, preload, resourceLimits, env, execArgv, stdout, stderr, ...serverOptions } = options;
    super(serverOptions, undefined);
    this.service = toServiceModule(spec);
    this.#size = workers ?? os.availableParallelism();
    if (!Number.isInteger(this.#size) || this.#size < 1) {
      throw new TypeError(`workers must be a positive integer, got ${String(workers)}`);
    }
    this.#start = { preload, resourceLimits, env, execArgv, stdout, stderr };
    this.#maxFrameSize = this.config.maxFrameSize;
  }

  /** The worker threads serving now (empty before `start()` and after `close()`). */
  get threads(): readonly Worker[] {
    return this.#pool?.workers ?? [];
  }

  /** The connections being served now. */
  get connections(): ThreadedConnectionInfo[] {
    return [...this.#links.values()].map(({ link }) => link.info);
  }

  /**
   * Makes `value` reachable by every client as `conn.lookup(name)`. The workers get a structured clone of it, now
   * and when they start. Throws a TypeError for what cannot be cloned (functions, symbols, netrefs).
   */
  override publish(name: string, value: unknown): void {
    try {
      structuredClone(value);
    } catch (error) {
      throw new TypeError(
        `ThreadedServer.publish('${String(name)}'): the value goes to worker threads as a structured clone, and ` +
          `this one cannot be cloned (${(error as Error).message}). Publish plain data, or export objects with ` +
          'behaviour from the service module.',
        { cause: error },
      );
    }
    super.publish(name, value);
    this.#pool?.broadcast({ type: 'publish', name, value });
  }

  override close(): Promise<void> {
    this.#closing = true;
    return super.close();
  }

  protected override async prepare(): Promise<void> {
    const data = (): ThreadedServerData => ({
      netrefThreadedServer: {
        ...this.service,
        ...(this.options.protocolConfig ? { protocolConfig: { ...this.options.protocolConfig } } : {}),
        published: [...this.published],
      },
    });
    const entry = netrefModule('server/threadedServerWorker');
    const pool = new ThreadPool(() => startWorker(entry, data(), this.#start), this.#size, {
      message: (thread, message) => this.#onMessage(thread, message),
      lost: (thread, reason) => this.#onLost(thread, reason),
      error: (error) => this.report(error),
    });
    const loaded = await pool.open();
    this.#names = loaded.names;
    const config = resolveProtocolConfig(loaded.protocolConfig, this.options.protocolConfig);
    this.#allowAll = config.allowAllAttrs;
    this.#maxFrameSize = config.maxFrameSize;
    this.#pool = pool;
  }

  /** As the workers read them from the service module: the acceptor never loads it. */
  protected override async discoveryNames(): Promise<string[]> {
    return this.#names;
  }

  /** The service's own config is known once the workers have loaded it (in `prepare`). */
  protected override get exposesEverything(): boolean {
    return this.#allowAll;
  }

  protected override async shutdown(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
    // Links whose worker never answered (terminated above) are done now.
    for (const { link } of this.#links.values()) link.cut(new NetrefError('the server closed'));
  }

  protected serve({ stream, info, credentials }: Accepted): { served: Served; done: Promise<unknown> } {
    if (!this.#pool) throw new NetrefError('the server is not serving');
    const thread = this.#pool.pick();
    const id = `t${nextLink++}`;
    const { port1, port2 } = new MessageChannel();
    const message: ToThread = {
      type: 'serve',
      id,
      port: port2,
      info,
      heartbeat: this.options.heartbeat ?? (info.transport === 'tcp' ? DEFAULT_TCP_HEARTBEAT : false),
      ...(credentials !== undefined ? { credentials } : {}),
    };
    try {
      thread.worker.postMessage(message, [port2]);
    } catch (error) {
      port1.close();
      port2.close();
      throw new NetrefError(
        `cannot hand the connection to a worker thread: ${(error as Error).message} ` +
          "(an authenticator's credentials must be structured-cloneable)",
        { cause: error },
      );
    }
    const link = new ThreadLink(stream, port1, {
      info: { id, peer: peerOf(info, credentials), threadId: thread.threadId },
      channelInfo: info,
      maxFrameSize: this.#maxFrameSize,
      askClose: () => thread.worker.postMessage({ type: 'close', id } satisfies ToThread),
    });
    thread.load++;
    this.#links.set(id, { link, thread });
    void link.done.then((reason) => {
      thread.load--;
      this.#links.delete(id);
      if (!link.connected && reason && !this.#closing) this.report(reason);
      this.emit('disconnect', link.info, reason);
    });
    return { served: link, done: link.done };
  }

  #onMessage(thread: PoolThread, message: FromThread): void {
    if (!('id' in message)) return;
    const entry = this.#links.get(message.id);
    if (!entry || entry.thread !== thread) return;
    const { link } = entry;
    switch (message.type) {
      case 'connected':
        link.connected = true;
        this.emit('connection', link.info);
        return;
      case 'closed':
        link.workerClosed(message.reason && reviveError(message.reason));
        return;
      case 'pause':
      case 'resume':
        link.pause(message.type === 'pause');
        return;
    }
  }

  #onLost(thread: PoolThread, reason: Error): void {
    let count = 0;
    for (const { link, thread: t } of this.#links.values()) {
      if (t !== thread) continue;
      count++;
      link.cut(new NetrefError(`the server lost the worker thread serving this connection: ${reason.message}`));
    }
    this.report(
      new NetrefError(
        `worker thread ${thread.threadId} of the ThreadedServer ended: ${reason.message}; ` +
          `its ${count} connection(s) were closed and a new worker is being started`,
        { cause: reason },
      ),
    );
  }
}

function peerOf(info: ChannelInfo, credentials: unknown): PeerInfo {
  return {
    transport: info.transport,
    ...(info.remoteAddress !== undefined ? { address: info.remoteAddress } : {}),
    ...(info.remotePort !== undefined ? { port: info.remotePort } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
  };
}

import type { ChildProcess } from 'node:child_process';
import { builtins } from '../channel/index.js';
import { DEFAULT_TCP_HEARTBEAT } from '../connect/index.js';
import {
  NetrefError,
  resolveProtocolConfig,
  toServiceModule,
  type ProtocolConfig,
  type ServiceModule,
} from '../core/index.js';
import { ForkedClient, type ForkedConnection } from './ForkedClient.js';
import { exitText, forkChild, stopChild } from './forkChild.js';
import { isFromChild, type FromChild } from './forkMessages.js';
import { ServerBase, type Accepted, type Served } from './ServerBase.js';
import type { ServerOptions } from './ServerOptions.js';

/** Options of a ForkingServer: every server's, plus how long its children may take. */
export interface ForkingServerOptions extends ServerOptions {
  /**
   * How long a child told to close (by `close()`) may take to exit before it is killed with SIGKILL. Default
   * 5000 ms.
   */
  exitTimeout?: number;
  /**
   * How long the service module may take to load in a child: at `start()`, which fails past it, and for each client,
   * whose child is killed past it. Default 30000 ms.
   */
  loadTimeout?: number;
}

/**
 * Serves each connection in a child process of its own (RPyC's ForkingServer; DESIGN §3 "Servers"): a client
 * that crashes its child, or blocks it, affects no other client. The service is given as a module (`{ module,
 * export }`, or just the module's path or URL for its default export), since each child loads it itself; children
 * start with this process's Node options (`process.execArgv`, so loaders such as tsx apply) and share its stdout and
 * stderr. A new client waits for its child to start and load the module (tens of ms for plain Node, more under a
 * loader) before its handshake completes.
 *
 * The accepted socket is handed to the child unread. With an authenticator, the authenticated stream stays in this
 * process and its bytes are relayed to the child over IPC.
 *
 * `start()` first loads the module in one child, so that a module that is missing, throws while loading, lacks the
 * export or exits fails `start()` with an error saying so, and nothing is left running.
 *
 * Events: `listening`; `connection` ({ id, pid, peer }) once a child's client completed the netref handshake;
 * `disconnect` ({ id, pid, peer }, reason) once that child has exited, `reason` being why its connection ended
 * (undefined when the server closed it); `error` (if anyone listens) for one client's failure — a child that
 * crashed (its exit code or signal named), or one killed because it did not exit within `exitTimeout` of `close()`
 * — after which the server carries on; `close`.
 */
export class ForkingServer extends ServerBase {
  /** The service module every child loads (its URL, and the export name). */
  readonly service: { module: string; export: string };
  #clients = new Set<ForkedClient>();
  #exitTimeout: number;
  #loadTimeout: number;
  /** The service's own protocol config, as the probe child reported it. */
  #serviceConfig: ProtocolConfig | undefined;
  /** The service's discovery names, from the probe (see discoveryNames). */
  #names: string[] = [];

  constructor(spec: ServiceModule | string | URL, options: ForkingServerOptions = {}) {
    const service = toServiceModule(spec);
    super(options, undefined);
    for (const key of ['exitTimeout', 'loadTimeout'] as const) {
      const v = options[key];
      if (v !== undefined && !(typeof v === 'number' && v > 0)) {
        throw new TypeError(`ForkingServer option ${key} must be a positive number of ms, got ${String(v)}`);
      }
    }
    this.service = service;
    this.#exitTimeout = options.exitTimeout ?? 5000;
    this.#loadTimeout = options.loadTimeout ?? 30_000;
    this.pauseOnConnect = true;
  }

  /** The clients being served now, one child each. */
  get connections(): ReadonlySet<ForkedConnection> {
    return new Set([...this.#clients].map((c) => c.connection));
  }

  /**
   * Checks that the service module loads (in a probe child process) before the listener opens, so `start()`
   * rejects with a NetrefError naming the module and the cause when it does not.
   */
  protected override async prepare(): Promise<void> {
    await this.#probe();
  }

  /**
   * Makes `value` reachable by every client as `conn.lookup(name)`. Children get a copy (structured clone, as IPC
   * sends it): plain data, arrays, Maps, Dates, typed arrays arrive as such; class instances arrive as plain objects.
   * A function, or an object holding one, cannot be copied and is refused with a TypeError.
   */
  override publish(name: string, value: unknown): void {
    if (typeof value === 'function') {
      throw new TypeError(
        `ForkingServer cannot publish '${name}': it is a function, and children get published values as data ` +
          '(publish it from the service module, or serve with Server)',
      );
    }
    try {
      builtins.v8().serialize(value);
    } catch (error) {
      throw new TypeError(
        `ForkingServer cannot publish '${name}': children get published values as data, and this one cannot be ` +
          `copied (${(error as Error).message})`,
      );
    }
    super.publish(name, value);
    for (const client of this.#clients) client.publish(name, value);
  }

  /** A service with `allowAllAttrs` in its own config counts, as it would for Server. */
  protected override get exposesEverything(): boolean {
    return this.config.allowAllAttrs || (this.#serviceConfig?.allowAllAttrs ?? false);
  }

  protected serve(accepted: Accepted): { served: Served; done: Promise<unknown> } {
    const client = new ForkedClient(accepted, {
      service: this.service,
      bridged: this.options.authenticator !== undefined,
      exitTimeout: this.#exitTimeout,
      loadTimeout: this.#loadTimeout,
      serveMessage: () => ({
        heartbeat: this.options.heartbeat ?? (accepted.info.transport === 'tcp' ? DEFAULT_TCP_HEARTBEAT : false),
        ...(this.options.protocolConfig ? { protocolConfig: this.options.protocolConfig } : {}),
        published: [...this.published],
      }),
      onConnected: (connection) => this.emit('connection', connection),
      onExit: (connection, reason, crash) => {
        this.#clients.delete(client);
        this.emit('disconnect', connection, reason);
        if (crash) this.report(crash);
      },
    });
    this.#clients.add(client);
    return { served: client, done: client.done };
  }

  /** Loads the service module in a child that is then let go. */
  async #probe(): Promise<void> {
    const { module } = this.service;
    const child = forkChild(this.service);
    let answer: FromChild | 'timeout' | Error | undefined;
    try {
      answer = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), this.#loadTimeout);
        child.on('message', (m: unknown) => {
          if (isFromChild(m) && (m.netref === 'loaded' || m.netref === 'failed')) {
            clearTimeout(timer);
            resolve(m);
          }
        });
        child.on('error', (error) => {
          clearTimeout(timer);
          resolve(error);
        });
        // After the exit and the end of IPC: an answer sent just before exiting has arrived by then.
        child.once('close', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    } finally {
      await stopChild(child, this.#exitTimeout);
    }
    const loaded = this.#loaded(answer, child, module);
    this.#names = loaded.names;
    this.#serviceConfig = resolveProtocolConfig(loaded.protocolConfig, this.options.protocolConfig);
  }

  /** As the probe read them from the service module: the parent never loads it (children do, one per client). */
  protected override async discoveryNames(): Promise<string[]> {
    return this.#names;
  }

  /** The probe's answer (the service's names and protocol config), or the error that start() rejects with. */
  #loaded(answer: FromChild | 'timeout' | Error | undefined, child: ChildProcess, module: string) {
    if (answer && typeof answer === 'object' && 'netref' in answer) {
      if (answer.netref === 'loaded') return answer;
      if (answer.netref === 'failed') {
        const e = new NetrefError(`ForkingServer: ${answer.message}`);
        if (answer.code) (e as NodeJS.ErrnoException).code = answer.code;
        throw e;
      }
    }
    if (answer === 'timeout') {
      throw new NetrefError(
        `ForkingServer: the service module ${module} did not load within ${this.#loadTimeout} ms (loadTimeout)`,
      );
    }
    if (answer instanceof Error) {
      throw new NetrefError(`ForkingServer: cannot start a child process: ${answer.message}`, { cause: answer });
    }
    throw new NetrefError(
      `ForkingServer: the child process loading the service module ${module} ${exitText(child)} before it loaded`,
    );
  }
}

export type { ForkedConnection };

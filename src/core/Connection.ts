import { EventEmitter } from 'node:events';
import type { Channel } from '../channel/index.js';
import { resolveProtocolConfig, type ProtocolConfig } from './ProtocolConfig.js';
import { serviceInstance, type ServiceLike } from './Service.js';
import { Session, type HeartbeatOptions } from './Session.js';

/** Options of a Connection made over a channel (the factories build on these). */
export interface ConnectionOptions {
  /** What this end exposes as its root to the peer: a Service class (one instance per connection) or instance. */
  service?: ServiceLike;
  protocolConfig?: Partial<ProtocolConfig>;
  /** Ping after `interval` ms of silence; close with TimeoutError after `timeout` ms. Off unless given. */
  heartbeat?: HeartbeatOptions | false;
  /** Who the peer is, as an authenticator established it. */
  credentials?: unknown;
  /** Consulted by `lookup` after the connection's own published names (a server's `publish`). */
  lookupFallback?: (name: string) => unknown;
  /**
   * Releases what the connection owns besides its channel (a child process, a worker) once it has closed;
   * `closed` and `close()` resolve only after it settles. A throw or rejection is ignored: closing never fails.
   */
  release?: (reason: Error | undefined) => void | Promise<void>;
}

/** Who is on the other end. */
export interface PeerInfo {
  transport: string;
  address?: string;
  port?: number;
  credentials?: unknown;
}

const sessions = new WeakMap<Connection, Session>();

/** The session behind a connection; internal to netref. */
export function sessionOf(conn: Connection): Session {
  const s = sessions.get(conn);
  if (!s) throw new TypeError('not a netref Connection');
  return s;
}

let nextId = 1;

/**
 * One end of a netref session. Both ends are equal: each exposes a root (its service) and can call the other's.
 *
 * A connection never emits `error`: whatever goes wrong closes it, and the reason is what `closed` resolves to and
 * what the `close` event carries (undefined when this end called `close()`). Every pending call then rejects with
 * ConnectionClosedError naming the reason, and every netref of the connection fails at once when used.
 */
export class Connection extends EventEmitter {
  readonly id = `c${nextId++}`;
  readonly peer: PeerInfo;
  /** This end's service instance (what the peer sees as its `root`). */
  readonly service: object;
  readonly #session: Session;
  readonly #closed: Promise<Error | undefined>;

  constructor(channel: Channel, options: ConnectionOptions = {}) {
    super();
    this.service = serviceInstance(options.service);
    const cls = this.service.constructor as { protocolConfig?: Partial<ProtocolConfig> };
    const config = resolveProtocolConfig(cls.protocolConfig, options.protocolConfig);
    const info = channel.info;
    this.peer = {
      transport: info.transport,
      ...(info.remoteAddress !== undefined ? { address: info.remoteAddress } : {}),
      ...(info.remotePort !== undefined ? { port: info.remotePort } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    };
    let connected = false;
    this.#session = new Session(
      this,
      channel,
      this.service,
      { config, heartbeat: options.heartbeat ?? false, lookupFallback: options.lookupFallback },
      (reason) => {
        this.emit('close', reason);
        if (connected) void this.#hook('onDisconnect');
      },
    );
    sessions.set(this, this.#session);
    const release = options.release;
    this.#closed = release
      ? this.#session.closedPromise.then(async (reason) => {
          try {
            await release(reason);
          } catch {
            // a resource that fails to go away must not make close() fail
          }
          return reason;
        })
      : this.#session.closedPromise;
    this.#session.ready.then(
      () => {
        connected = true;
        void this.#hook('onConnect');
      },
      () => {},
    );
  }

  async #hook(name: 'onConnect' | 'onDisconnect'): Promise<void> {
    const fn = (this.service as Record<string, unknown>)[name];
    if (typeof fn !== 'function') return;
    try {
      await fn.call(this.service, this);
    } catch (error) {
      console.error(`netref: ${name} of ${this.service.constructor.name} failed:`, error);
    }
  }

  /** The peer's service, as a netref. Usable at once: calls made now go out right behind the handshake frame. */
  get root(): any {
    return this.#session.root;
  }

  get config(): Readonly<ProtocolConfig> {
    return this.#session.config;
  }

  /** Resolves (never rejects) with the reason the connection ended; see the class comment. */
  get closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.#session.isClosed;
  }

  /** Makes `value` reachable by the peer as `conn.lookup(name)`. */
  publish(name: string, value: unknown): void {
    this.#session.publish(name, value);
  }

  /**
   * A RemotePromise of what the peer published under `name` (with `conn.publish` or `server.publish`); it
   * rejects with AttributeError if nothing is. Pipelines: `await conn.lookup('db').query(1)` is one round trip.
   */
  lookup(name: string): any {
    if (typeof name !== 'string') throw new TypeError('lookup() takes a name');
    return this.#session.lookup(name);
  }

  /** One round trip; resolves with its duration in ms. Rejects with ConnectionClosedError or TimeoutError. */
  ping(): Promise<number> {
    return this.#session.ping();
  }

  /** The peer's wall clock minus ours, in ms, estimated from the fastest of a few round trips. */
  measureClockDiff(): Promise<number> {
    return this.#session.measureClockDiff();
  }

  /** Closes the connection: pending calls on both ends reject with ConnectionClosedError. Idempotent. */
  async close(): Promise<void> {
    this.#session.close();
    await this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

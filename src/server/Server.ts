import { StreamChannel } from '../channel/index.js';
import { DEFAULT_TCP_HEARTBEAT } from '../connect/index.js';
import { Connection, serviceNames, sessionOf, type ProtocolConfig, type ServiceLike } from '../core/index.js';
import { ServerBase, type Accepted, type Served } from './ServerBase.js';
import type { ServerOptions } from './ServerOptions.js';

/**
 * Serves a service on TCP or a Unix socket, each connection on this event loop (the default and the fastest).
 * Give it a Service class for one instance per connection, or an instance to share.
 *
 * Events: `listening`, `connection` (conn), `disconnect` (conn, reason), `close`, and `error` (see ServerBase).
 */
export class Server extends ServerBase {
  readonly service: ServiceLike;
  #connections = new Set<Connection>();

  constructor(service: ServiceLike, options: ServerOptions = {}) {
    if (service === null || (typeof service !== 'function' && typeof service !== 'object')) {
      throw new TypeError('Server needs a Service class or instance');
    }
    const cls = (typeof service === 'function' ? service : service.constructor) as {
      protocolConfig?: Partial<ProtocolConfig>;
    };
    super(options, cls.protocolConfig);
    this.service = service;
  }

  protected override async discoveryNames(): Promise<string[]> {
    return serviceNames(this.service);
  }

  /** Connections being served now. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  protected serve({ stream, info, credentials }: Accepted): { served: Served; done: Promise<unknown> } {
    const channel = new StreamChannel(stream, { maxFrameSize: this.config.maxFrameSize, info });
    const conn = new Connection(channel, {
      service: this.service,
      protocolConfig: this.options.protocolConfig,
      heartbeat: this.options.heartbeat ?? (info.transport === 'tcp' ? DEFAULT_TCP_HEARTBEAT : false),
      lookupFallback: (name) => this.published.get(name),
      ...(credentials !== undefined ? { credentials } : {}),
    });
    this.#connections.add(conn);
    conn.once('close', (reason) => {
      this.#connections.delete(conn);
      this.emit('disconnect', conn, reason);
    });
    this.onServe(conn);
    sessionOf(conn).ready.then(
      () => this.emit('connection', conn),
      (error) => this.report(error),
    );
    return { served: conn, done: conn.closed };
  }

  /** A hook for subclasses: a connection was just made (before its handshake completes). */
  protected onServe(_conn: Connection): void {}
}

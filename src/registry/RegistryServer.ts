import { EventEmitter } from 'node:events';
import net from 'node:net';
import { StreamChannel } from '../channel/index.js';
import { Connection, NetrefError } from '../core/index.js';
import { REGISTRY_PORT } from './registryAddress.js';
import { RegistryService, type RegistryServiceOptions } from './RegistryService.js';

/** Options of a RegistryServer. */
export interface RegistryServerOptions extends RegistryServiceOptions {
  /** Interface to bind. Default `127.0.0.1`; give the LAN address (or `0.0.0.0`) for other hosts to use it. */
  host?: string;
  /** TCP port; 0 picks a free one (read `port` after `start()`). Default 18811. */
  port?: number;
  /** Clients served at once; more are disconnected at once. Default 256. */
  maxConnections?: number;
}

/** Each client is pinged after this much silence and dropped when it stays silent (as netref's TCP default). */
const HEARTBEAT = { interval: 10_000, timeout: 45_000 };

/**
 * A RegistryService on its own TCP listener, for networks where multicast does not pass (DESIGN §7): servers
 * register with `registry: 'host:port'` (announce, autoRegister, `netref serve --register --registry`), clients
 * find them with `discover(name, { registry: 'host:port' })`.
 *
 * Plain netref over TCP, no authenticator: for auth or TLS, serve a RegistryService with a netref Server instead.
 * Events: `listening`, `close`, `error` (a client's failure; emitted only when someone listens).
 */
export class RegistryServer extends EventEmitter {
  readonly service: RegistryService;
  readonly options: RegistryServerOptions;
  #server: net.Server | undefined;
  #connections = new Set<Connection>();
  #closing: Promise<void> | undefined;

  constructor(options: RegistryServerOptions = {}) {
    super();
    this.options = options;
    this.service = new RegistryService(options);
  }

  /** The bound port, after `start()`. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** `host:port` as clients pass it in `registry`. */
  get address(): string | undefined {
    const a = this.#server?.address();
    if (!a || typeof a !== 'object') return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Starts listening. Rejects with an error naming the address and the code (`EADDRINUSE`…). */
  async start(): Promise<void> {
    if (this.#server || this.#closing) throw new NetrefError('the registry server is already started (or closed)');
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? REGISTRY_PORT;
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          const e = new NetrefError(`cannot listen on tcp://${host}:${port}: ${error.code ?? error.message}`, {
            cause: error,
          });
          (e as NodeJS.ErrnoException).code = error.code;
          reject(e);
        });
        server.listen({ host, port }, () => {
          server.removeAllListeners('error');
          server.on('error', (error) => this.#report(error));
          resolve();
        });
      });
    } catch (error) {
      this.#server = undefined;
      throw error;
    }
    this.emit('listening');
  }

  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #accept(socket: net.Socket): void {
    socket.on('error', () => {}); // reaches the channel; this only keeps a dying socket from crashing us
    if (this.#closing || this.#connections.size >= (this.options.maxConnections ?? 256)) {
      socket.destroy();
      return;
    }
    const conn = new Connection(
      new StreamChannel(socket, {
        info: { transport: 'tcp', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
      }),
      { service: this.service, heartbeat: HEARTBEAT },
    );
    this.#connections.add(conn);
    void conn.closed.then((reason) => {
      this.#connections.delete(conn);
      if (reason && !/closed/i.test(reason.name)) this.#report(reason);
    });
  }

  /** Stops listening and closes every client connection. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const server = this.#server;
      const stopped = server?.listening
        ? new Promise<void>((resolve) => server.close(() => resolve()))
        : Promise.resolve();
      await Promise.all([...this.#connections].map((c) => c.close()));
      await stopped;
      this.emit('close');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

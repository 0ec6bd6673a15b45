import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { StreamChannel } from '../channel/index.js';
import { runAuthenticator, DEFAULT_TCP_HEARTBEAT } from '../connect/index.js';
import {
  Connection,
  NetrefError,
  resolveProtocolConfig,
  sessionOf,
  type ProtocolConfig,
  type ServiceLike,
} from '../core/index.js';
import { encode, MessageKind } from '../protocol/index.js';
import { isLoopback } from './isLoopback.js';
import { DEFAULT_PORT, type ServerOptions } from './ServerOptions.js';

/**
 * Serves a service on TCP or a Unix socket, each connection on this event loop (the default and the fastest).
 * Give it a Service class for one instance per connection, or an instance to share.
 *
 * Events: `listening`, `connection` (conn), `disconnect` (conn, reason), and `error` (error, about one client:
 * a refused authenticator, a failed handshake) — emitted only when someone listens, so an unlistened `error` never
 * crashes the program. The server itself carries on after any one connection's failure.
 */
export class Server extends EventEmitter {
  readonly options: ServerOptions;
  readonly service: ServiceLike;
  #server: net.Server | undefined;
  #connections = new Set<Connection>();
  #handshaking = new Set<Duplex>();
  #refusing = new Set<net.Socket>();
  #published = new Map<string, unknown>();
  #config: ProtocolConfig;
  #closing: Promise<void> | undefined;

  constructor(service: ServiceLike, options: ServerOptions = {}) {
    super();
    if (service === null || (typeof service !== 'function' && typeof service !== 'object')) {
      throw new TypeError('Server needs a Service class or instance');
    }
    this.service = service;
    this.options = options;
    const cls = (typeof service === 'function' ? service : service.constructor) as {
      protocolConfig?: Partial<ProtocolConfig>;
    };
    this.#config = resolveProtocolConfig(cls.protocolConfig, options.protocolConfig);
  }

  /** Connections being served now. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** The bound TCP port (after `start()`), or undefined on a Unix socket. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  address(): net.AddressInfo | string | null {
    return this.#server?.address() ?? null;
  }

  /** Makes `value` reachable by every client as `conn.lookup(name)`. */
  publish(name: string, value: unknown): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('publish() needs a non-empty name');
    this.#published.set(name, value);
  }

  /**
   * Starts listening. Rejects with an error naming the address and the code (`EADDRINUSE` when another server has
   * the port, `EACCES`…), or when a service that exposes everything would be served to the network unprotected.
   */
  async start(): Promise<void> {
    if (this.#server) throw new NetrefError('the server is already started');
    const o = this.options;
    const host = o.host ?? '127.0.0.1';
    if (o.autoRegister) {
      throw new NetrefError('autoRegister needs mDNS discovery, which this build does not have yet');
    }
    if (this.#config.allowAllAttrs && !o.path && !isLoopback(host) && !o.authenticator && !o.insecure) {
      throw new NetrefError(
        `refusing to serve a service with allowAllAttrs (remote code execution) on ${host} without an authenticator; ` +
          'bind to 127.0.0.1, add an authenticator, or pass insecure: true',
      );
    }
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    const where = o.path ? `unix://${o.path}` : `tcp://${host}:${o.port ?? DEFAULT_PORT}`;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#server = undefined;
        const hint = error.code === 'EADDRINUSE' ? ' (address in use: is another server running there?)' : '';
        const e = new NetrefError(`cannot listen on ${where}: ${error.code ?? error.message}${hint}`, { cause: error });
        (e as NodeJS.ErrnoException).code = error.code;
        reject(e);
      };
      server.once('error', onError);
      const listening = () => {
        server.off('error', onError);
        server.on('error', (error) => this.#report(error));
        resolve();
      };
      if (o.path) server.listen({ path: o.path, backlog: o.backlog }, listening);
      else server.listen({ host, port: o.port ?? DEFAULT_PORT, backlog: o.backlog }, listening);
    });
    this.emit('listening');
  }

  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #refuse(socket: net.Socket, why: string): void {
    // A GOODBYE instead of the handshake: the client's connect() rejects with this reason.
    const body = encode([MessageKind.GOODBYE, why]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.byteLength);
    socket.on('error', () => {});
    // Read (and drop) whatever the client sends so its FIN is seen and the socket closes; the listener's close()
    // waits for every socket.
    socket.resume();
    socket.end(Buffer.concat([head, body]));
    this.#refusing.add(socket);
    socket.once('close', () => this.#refusing.delete(socket));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  async #accept(socket: net.Socket): Promise<void> {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const o = this.options;
    const max = o.maxConnections ?? Infinity;
    if (this.#connections.size + this.#handshaking.size >= max) {
      this.#refuse(socket, `the server is full (maxConnections ${max})`);
      return;
    }
    if (this.#handshaking.size >= (o.maxHandshakes ?? 64)) {
      this.#refuse(socket, 'too many connections are authenticating; try again');
      return;
    }
    const tcp = !o.path;
    const info = tcp
      ? { transport: 'tcp', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }
      : { transport: 'unix' };
    socket.on('error', () => {}); // errors reach the channel; this only keeps a dying socket from crashing us
    this.#handshaking.add(socket);
    let stream: Duplex = socket;
    let credentials: unknown;
    try {
      if (o.authenticator) {
        ({ stream, credentials } = await runAuthenticator(
          o.authenticator,
          socket,
          { side: 'server', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
          this.#config.handshakeTimeout,
        ));
      }
    } catch (error) {
      this.#handshaking.delete(socket);
      this.#report(error);
      return;
    }
    if (this.#closing) {
      this.#handshaking.delete(socket);
      stream.destroy();
      return;
    }
    const channel = new StreamChannel(stream, { maxFrameSize: this.#config.maxFrameSize, info });
    const conn = new Connection(channel, {
      service: this.service,
      protocolConfig: this.options.protocolConfig,
      heartbeat: o.heartbeat ?? (tcp ? DEFAULT_TCP_HEARTBEAT : false),
      lookupFallback: (name) => this.#published.get(name),
      ...(credentials !== undefined ? { credentials } : {}),
    });
    this.#handshaking.delete(socket);
    this.#connections.add(conn);
    conn.once('close', (reason) => {
      this.#connections.delete(conn);
      this.emit('disconnect', conn, reason);
    });
    try {
      await sessionOf(conn).ready;
      this.emit('connection', conn);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Stops accepting, closes every connection (their pending calls reject with ConnectionClosedError) and resolves
   * once the listener and all connections are closed. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        const server = this.#server;
        const listenerClosed = server
          ? new Promise<void>((resolve) => server.close(() => resolve()))
          : Promise.resolve();
        for (const s of this.#handshaking) s.destroy();
        for (const s of this.#refusing) s.destroy();
        await Promise.all([...this.#connections].map((c) => c.close()));
        await listenerClosed;
      })();
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

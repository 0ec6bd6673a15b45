import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ChannelInfo } from '../channel/index.js';
import { runAuthenticator } from '../connect/index.js';
import { NetrefError, resolveProtocolConfig, type ProtocolConfig } from '../core/index.js';
import { goodbyeFrame } from '../protocol/index.js';
import { announceServer, type Announcement } from '../registry/index.js';
import { isLoopback } from './isLoopback.js';
import { DEFAULT_PORT, type ServerOptions } from './ServerOptions.js';

/** One accepted client, however it is run (on this loop, in a worker, in a child process). */
export interface Served {
  /** Closes it: its pending calls reject with ConnectionClosedError. Resolves once it has ended; never rejects. */
  close(): Promise<void>;
}

/** A socket the server accepted, after the authenticator (if any) ran on it. */
export interface Accepted {
  /** The raw socket, still paused when the subclass asked for `pauseOnConnect` and there is no authenticator. */
  socket: net.Socket;
  /** What to speak netref over: the socket itself, or the authenticator's stream on top of it. */
  stream: Duplex;
  info: ChannelInfo;
  credentials: unknown;
}

/**
 * What every server shares (DESIGN §3 "Servers"): listening on TCP or a Unix socket, a clear error when the
 * address is taken, refusing clients over `maxConnections` with a reason they see, running the authenticator with a
 * deadline, and a graceful `close()`. Subclasses decide where a connection runs (`serve`).
 *
 * Events: `listening`; `connection` and `disconnect` (emitted by subclasses); `error` (error, about one client: a
 * refused authenticator, a failed handshake, a crashed worker) — emitted only when someone listens, so an unlistened
 * `error` never crashes the program. The server itself carries on after any one client's failure.
 */
export abstract class ServerBase extends EventEmitter {
  readonly options: ServerOptions;
  protected readonly config: ProtocolConfig;
  protected readonly published = new Map<string, unknown>();
  /** Accept sockets paused, so that a subclass can hand over a socket nobody has read from. */
  protected pauseOnConnect = false;
  #server: net.Server | undefined;
  #served = new Set<Served>();
  #handshaking = new Set<Duplex>();
  #refusing = new Set<net.Socket>();
  #closing: Promise<void> | undefined;
  #announcement: Announcement | undefined;

  constructor(options: ServerOptions, serviceConfig: Partial<ProtocolConfig> | undefined) {
    super();
    this.options = options;
    this.config = resolveProtocolConfig(serviceConfig, options.protocolConfig);
  }

  /** The bound TCP port (after `start()`), or undefined on a Unix socket. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  address(): net.AddressInfo | string | null {
    return this.#server?.address() ?? null;
  }

  /** Where the server listens, as a URI: `tcp://HOST:PORT` (host as bound) or `unix://PATH`. */
  get uri(): string | undefined {
    const a = this.#server?.address();
    if (!a) return undefined;
    return typeof a === 'string'
      ? `unix://${a}`
      : `tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** How many clients are being served now. */
  get clientCount(): number {
    return this.#served.size;
  }

  /** Makes `value` reachable by every client as `conn.lookup(name)`. */
  publish(name: string, value: unknown): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('publish() needs a non-empty name');
    this.published.set(name, value);
  }

  /** Sets up what serving needs before the listener opens (a worker pool). A throw fails `start()`. */
  protected async prepare(): Promise<void> {}

  /** Releases what `prepare` made, after every client is gone. */
  protected async shutdown(): Promise<void> {}

  /** Serves one accepted client. Returns its handle; the base counts it until `done` settles. */
  protected abstract serve(accepted: Accepted): { served: Served; done: Promise<unknown> } | undefined;

  /**
   * Whether the service exposes everything (then a network bind needs an authenticator or `insecure`). Read after
   * `prepare`, so a subclass that learns the service's config there can answer.
   */
  protected get exposesEverything(): boolean {
    return this.config.allowAllAttrs;
  }

  /**
   * Starts listening. Rejects with an error naming the address and the code (`EADDRINUSE` when another server has
   * the port, `EACCES`…), when a service that exposes everything would be served to the network unprotected, or
   * when `prepare` fails (a service module that does not load). Nothing is left open on failure.
   */
  async start(): Promise<void> {
    if (this.#server || this.#closing) throw new NetrefError('the server is already started (or closed)');
    const o = this.options;
    const host = o.host ?? '127.0.0.1';
    if ((o.autoRegister || o.registry !== undefined) && o.path) {
      throw new NetrefError('autoRegister and registry announce a TCP port; a server on a Unix socket has none');
    }
    // Checked once `prepare` has run: a service loaded in workers or children is known only then.
    await this.prepare();
    if (this.exposesEverything && !o.path && !isLoopback(host) && !o.authenticator && !o.insecure) {
      await this.shutdown();
      throw new NetrefError(
        `refusing to serve a service with allowAllAttrs (remote code execution) on ${host} without an authenticator; ` +
          'bind to 127.0.0.1, add an authenticator, or pass insecure: true',
      );
    }
    const server = net.createServer({ noDelay: true, pauseOnConnect: this.pauseOnConnect }, (socket) =>
      this.#accept(socket),
    );
    this.#server = server;
    const where = o.path ? `unix://${o.path}` : `tcp://${host}:${o.port ?? DEFAULT_PORT}`;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          const hint = error.code === 'EADDRINUSE' ? ' (address in use: is another server running there?)' : '';
          const e = new NetrefError(`cannot listen on ${where}: ${error.code ?? error.message}${hint}`, {
            cause: error,
          });
          (e as NodeJS.ErrnoException).code = error.code;
          reject(e);
        };
        server.once('error', onError);
        const listening = () => {
          server.off('error', onError);
          server.on('error', (error) => this.report(error));
          resolve();
        };
        if (o.path) server.listen({ path: o.path, backlog: o.backlog }, listening);
        else server.listen({ host, port: o.port ?? DEFAULT_PORT, backlog: o.backlog }, listening);
      });
    } catch (error) {
      this.#server = undefined;
      await this.shutdown();
      throw error;
    }
    if (o.autoRegister || o.registry !== undefined) {
      try {
        this.#announcement = await announceServer({
          names: await this.discoveryNames(),
          port: this.port!,
          authenticator: o.authenticator,
          mdns: o.autoRegister === true,
          ...(o.registry !== undefined ? { registry: o.registry } : {}),
        });
      } catch (error) {
        await this.close();
        throw error;
      }
      // Unheard, the announcement turns its first problem into a process warning; heard, it is a server `error`.
      this.#announcement.on('error', (error) =>
        this.listenerCount('error') > 0 ? this.emit('error', error) : process.emitWarning(error),
      );
    }
    this.emit('listening');
  }

  /**
   * The names `autoRegister` announces: the service's (`serviceNames`), as known after `prepare`. The module-based
   * servers have them from the workers or the child that loaded the module.
   */
  protected abstract discoveryNames(): Promise<string[]>;

  /** Emits `error` if anyone listens. */
  protected report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Stops accepting new clients (the ones being served carry on). */
  protected stopListening(): Promise<void> {
    const server = this.#server;
    if (!server?.listening) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #refuse(socket: net.Socket, why: string): void {
    if (this.options.authenticator?.kind === 'shs') {
      // The secure channel promises a peer without the network key no answer at all (DESIGN §6): not even that a
      // netref server is here, or that it is full. A legitimate client sees the connection closed in its handshake.
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    // A GOODBYE instead of the handshake: the client's connect() rejects with this reason.
    socket.on('error', () => {});
    // Read (and drop) whatever the client sends so its FIN is seen and the socket closes; the listener's close()
    // waits for every socket.
    socket.resume();
    socket.end(goodbyeFrame(why));
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
    if (this.#served.size + this.#handshaking.size >= max) {
      this.#refuse(socket, `the server is full (maxConnections ${max})`);
      return;
    }
    if (this.#handshaking.size >= (o.maxHandshakes ?? 64)) {
      this.#refuse(socket, 'too many connections are authenticating; try again');
      return;
    }
    const info: ChannelInfo = o.path
      ? { transport: 'unix' }
      : { transport: 'tcp', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
    socket.on('error', () => {}); // errors reach the channel; this only keeps a dying socket from crashing us
    this.#handshaking.add(socket);
    let stream: Duplex = socket;
    let credentials: unknown;
    try {
      if (o.authenticator) {
        if (this.pauseOnConnect) socket.resume();
        ({ stream, credentials } = await runAuthenticator(
          o.authenticator,
          socket,
          { side: 'server', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
          this.config.handshakeTimeout,
        ));
      }
    } catch (error) {
      this.#handshaking.delete(socket);
      this.report(error);
      return;
    }
    this.#handshaking.delete(socket);
    if (this.#closing) {
      stream.destroy();
      return;
    }
    let handle: ReturnType<ServerBase['serve']>;
    try {
      handle = this.serve({ socket, stream, info, credentials });
    } catch (error) {
      stream.destroy();
      this.report(error);
      return;
    }
    if (!handle) return;
    const { served, done } = handle;
    this.#served.add(served);
    const forget = () => this.#served.delete(served);
    done.then(forget, forget);
  }

  /**
   * Stops accepting, closes every client (their pending calls reject with ConnectionClosedError), releases workers
   * or children, and resolves once nothing of the server is left open. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        // Goodbyes first, so that nobody is sent here while the server goes away (bounded: about 1 s at most).
        await this.#announcement?.close();
        const listenerClosed = this.stopListening();
        for (const s of this.#handshaking) s.destroy();
        for (const s of this.#refusing) s.destroy();
        await Promise.all([...this.#served].map((s) => s.close()));
        await listenerClosed;
        await this.shutdown();
        this.emit('close');
      })();
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

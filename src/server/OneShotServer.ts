import type { Connection, ServiceLike } from '../core/index.js';
import { Server } from './Server.js';
import type { ServerOptions } from './ServerOptions.js';

/**
 * Serves one connection on this event loop, then closes (RPyC's OneShotServer; DESIGN §3 "Servers").
 *
 * The listener closes as soon as the first client is served, so a second client is refused: `ECONNREFUSED`, or — if
 * it arrived while the first was still being authenticated — a refusal its `connect()` rejects with ("the server is
 * full (maxConnections 1)"). A client the authenticator refuses does not count: the server keeps waiting for the one
 * it will serve. When that connection ends (either end closes it, or it breaks), the server closes itself: `close()`
 * resolves, `close` is emitted, `done` resolves, and nothing of the server is left open.
 *
 * Events and options are those of `Server`; `maxConnections` is always 1.
 */
export class OneShotServer extends Server {
  /**
   * Resolves once the server has served its connection and closed: with the reason that connection ended
   * (undefined when this end closed it, a ConnectionClosedError when the client did). It resolves with undefined if
   * the server is closed before any client came. Never rejects.
   */
  readonly done: Promise<Error | undefined>;
  #reason: Error | undefined;
  /** The listener's own close, which waits for every socket it accepted (the served one, refused ones). */
  #unlistened: Promise<void> | undefined;

  constructor(service: ServiceLike, options: ServerOptions = {}) {
    super(service, { ...options, maxConnections: 1 });
    this.done = new Promise((resolve) => this.once('close', () => resolve(this.#reason)));
  }

  protected override onServe(conn: Connection): void {
    this.#unlistened = this.stopListening();
    conn.closed.then((reason) => {
      this.#reason = reason;
      void this.close();
    });
  }

  /** Resolves once the listener has let go of every socket, so `close` means nothing is left open. */
  protected override async shutdown(): Promise<void> {
    await this.#unlistened;
    await super.shutdown();
  }
}

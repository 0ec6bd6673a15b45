import type { Authenticator, TlsConnectOptions } from '../auth/index.js';
import type { ConnectionOptions } from '../core/index.js';

/** Options of every factory (DESIGN §3). */
export interface ConnectOptions extends Omit<ConnectionOptions, 'credentials' | 'lookupFallback' | 'release'> {
  /** Runs on the raw stream before any netref byte (client side of an authenticator). */
  auth?: Authenticator;
  /**
   * TLS (node:tls connect options: `ca`, `key`, `cert`, `servername`, `rejectUnauthorized`…) on the socket, within
   * `handshakeTimeout`; `auth`, if also given, runs on top. `conn.peer.credentials` is `{ certificate }` of the
   * server. An untrusted certificate, a name mismatch or the deadline rejects with AuthenticationError naming the
   * TLS code.
   */
  tls?: TlsConnectOptions;
  /** Aborts the connect: it rejects with the signal's reason and releases the socket. No effect afterwards. */
  signal?: AbortSignal;
  /**
   * Resolve as soon as the transport is open (and `auth`/`tls` done) instead of after the netref handshake: calls
   * made at once go out right behind this end's hello, which saves one round trip on the first call. The price: a
   * peer that refuses the connection (a full server) or speaks another major version no longer rejects the connect;
   * it closes the connection with that reason, and the calls made so far reject with ConnectionClosedError naming
   * it. Off by default.
   */
  earlyCalls?: boolean;
}

/** Heartbeat used on TCP unless the caller says otherwise. */
export const DEFAULT_TCP_HEARTBEAT = { interval: 10_000, timeout: 45_000 } as const;

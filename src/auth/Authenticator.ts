import type { Duplex } from 'node:stream';

/** What an authenticator knows about the raw connection it is asked to vet. */
export interface AuthInfo {
  /** `server` when run by a server on an accepted socket, `client` when run by `connect`. */
  side: 'server' | 'client';
  remoteAddress?: string;
  remotePort?: number;
  /** Milliseconds it has before the connection is dropped (`protocolConfig.handshakeTimeout`). */
  timeout: number;
}

/** What a successful authenticator hands back: the stream netref frames travel on, and who the peer is. */
export interface AuthResult {
  stream: Duplex;
  credentials?: unknown;
}

/**
 * A hook on the raw byte stream, run before any netref byte (DESIGN §6). It may talk on the stream (a handshake)
 * and return a different stream (e.g. one that encrypts). Throwing or rejecting refuses the connection: the socket
 * is destroyed and no service code runs. It must finish within `info.timeout` ms, else the connection is dropped.
 * `credentials` become `conn.peer.credentials`.
 */
export interface Authenticator {
  (stream: Duplex, info: AuthInfo): Promise<AuthResult>;
  /**
   * Which built-in this is, set by `shsServer` and `tlsAuthenticator`; a server announces it as `auth=` (a custom
   * authenticator leaves it out and is announced as `custom`). Behind `shs` a full server refuses in silence.
   */
  readonly kind?: 'shs' | 'tls';
  /** The server's public key, set by `shsServer`; announced as `pk=` so clients can pin it. */
  readonly publicKey?: Uint8Array;
}

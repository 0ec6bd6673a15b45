import type { Authenticator } from '../auth/index.js';
import type { HeartbeatOptions, ProtocolConfig } from '../core/index.js';

/** Options of every server (DESIGN §3 "Servers"). */
export interface ServerOptions {
  /** Interface to bind. Default `127.0.0.1`: nothing is reachable from the network unless you say so. */
  host?: string;
  /** TCP port; 0 picks a free one (read `server.port` after `start()`). Default 18812. */
  port?: number;
  /** A Unix socket path (or Windows pipe) instead of TCP. */
  path?: string;
  backlog?: number;
  /** Connections served at once; one more is refused with a reason the client sees. Default unlimited. */
  maxConnections?: number;
  /** Run on each accepted socket before any netref byte; throwing refuses the connection. */
  authenticator?: Authenticator;
  /**
   * Announce on mDNS once listening (DESIGN §7): `_netref._tcp` with the service's names, the bound port and the
   * authenticator's kind; withdrawn with goodbye packets by `close()` and on SIGINT/SIGTERM. TCP only.
   */
  autoRegister?: boolean;
  /** Also register with the RegistryServer at `host:port` (renewed until `close()`), with or without autoRegister. */
  registry?: string;
  protocolConfig?: Partial<ProtocolConfig>;
  /** Heartbeat of each connection. Default for TCP: ping after 10 s of silence, drop after 45 s. */
  heartbeat?: HeartbeatOptions | false;
  /** Serve a service with `allowAllAttrs` (e.g. ClassicService) on a non-loopback host without an authenticator. */
  insecure?: boolean;
  /** Simultaneous authenticator/handshake runs; more sockets wait in the backlog. Default 64. */
  maxHandshakes?: number;
}

export const DEFAULT_PORT = 18812;

import { tlsClient } from '../auth/index.js';
import { StreamChannel } from '../channel/index.js';
import { resolveProtocolConfig, type Connection } from '../core/index.js';
import { DEFAULT_TCP_HEARTBEAT, type ConnectOptions } from './ConnectOptions.js';
import { abortReason, connectChannel } from './connectChannel.js';
import { connectByService } from './connectByService.js';
import { openSocket, runAuthenticator } from './openSocket.js';
import { parseTarget } from './parseTarget.js';
import { ReconnectingConnection, type ReconnectOptions } from './ReconnectingConnection.js';

/**
 * Connects over TCP or a Unix socket: `connect(host, port)`, `connect('tcp://host:port')`,
 * `connect('unix:///tmp/s.sock')`, `connect({ host, port })`, `connect({ path })`. Options may follow any form.
 *
 * Rejects with a clear error (and leaves no socket behind) when the address is bad, nothing listens there, the
 * authenticator refuses, the handshake fails or times out, or `signal` aborts.
 *
 * With `reconnect`, resolves with a ReconnectingConnection that dials again after a break (the first dial is not
 * retried: its failure rejects as above).
 */
export function connect(
  uri: string | { host?: string; port: number } | { path: string },
  options: ConnectOptions & { reconnect: ReconnectOptions },
): Promise<ReconnectingConnection>;
export function connect(
  host: string,
  port: number,
  options: ConnectOptions & { reconnect: ReconnectOptions },
): Promise<ReconnectingConnection>;
export function connect(
  uri: string | { host?: string; port: number } | { path: string },
  options?: ConnectOptions,
): Promise<Connection>;
export function connect(host: string, port: number, options?: ConnectOptions): Promise<Connection>;
export async function connect(a: unknown, b?: unknown, c?: unknown): Promise<Connection | ReconnectingConnection> {
  const portGiven = typeof b === 'number' || (typeof b === 'string' && /^\d+$/.test(b));
  const options = ((portGiven ? c : b) ?? {}) as ConnectOptions & { reconnect?: ReconnectOptions };
  if (options.reconnect) {
    const { reconnect, signal, ...rest } = options;
    // Each dial is a plain connect with the same target and options; close() aborts one under way.
    const dial = (s: AbortSignal): Promise<Connection> =>
      portGiven
        ? connect(a as string, b as number, { ...rest, signal: s })
        : connect(a as string, { ...rest, signal: s });
    return ReconnectingConnection.open(dial, reconnect, signal);
  }
  const target = parseTarget(a, portGiven ? b : undefined);
  if ('service' in target) return connectByService(target.service, options);
  const config = resolveProtocolConfig(options.protocolConfig);
  if (options.signal?.aborted) throw abortReason(options.signal);
  const socket = await openSocket(target, config.handshakeTimeout, options.signal, abortReason);
  const tcp = 'host' in target;
  const info = tcp
    ? {
        transport: 'tcp',
        remoteAddress: socket.remoteAddress ?? target.host,
        remotePort: socket.remotePort ?? target.port,
      }
    : { transport: 'unix', remoteAddress: target.path };
  let stream: import('node:stream').Duplex = socket;
  let credentials: unknown;
  const peer = {
    side: 'client' as const,
    remoteAddress: info.remoteAddress,
    ...(tcp ? { remotePort: info.remotePort } : {}),
  };
  if (options.tls) {
    // Not through runAuthenticator: a TLS failure, the deadline included, is an AuthenticationError naming the code.
    const where = tcp ? `tcp://${target.host}:${target.port}` : `unix://${target.path}`;
    const tls = tlsClient({ ...options.tls, ...(tcp ? { host: target.host } : {}), where });
    ({ stream, credentials } = await tls(socket, { ...peer, timeout: config.handshakeTimeout }));
  }
  if (options.auth) {
    const auth = await runAuthenticator(options.auth, stream, peer, config.handshakeTimeout);
    stream = auth.stream;
    // On top of TLS, the authenticator's credentials join the server's certificate.
    if (auth.credentials !== undefined) {
      credentials =
        credentials && typeof auth.credentials === 'object'
          ? { ...credentials, ...auth.credentials }
          : auth.credentials;
    }
  }
  const channel = new StreamChannel(stream, { maxFrameSize: config.maxFrameSize, info });
  return connectChannel(channel, {
    ...options,
    heartbeat: options.heartbeat ?? (tcp ? DEFAULT_TCP_HEARTBEAT : false),
    ...(credentials !== undefined ? { credentials } : {}),
  });
}

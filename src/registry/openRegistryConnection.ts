import net from 'node:net';
import { StreamChannel } from '../channel/index.js';
import { Connection, DiscoveryError, sessionOf } from '../core/index.js';
import { registryAddress } from './registryAddress.js';

/**
 * A netref connection to a RegistryServer at `host:port` (plain TCP, as the registry serves it). Rejects with
 * DiscoveryError naming the registry and the reason (refused, unreachable, no handshake within `timeout` ms); no
 * socket is left open then.
 */
export async function openRegistryConnection(address: string, timeout: number): Promise<Connection> {
  const { host, port } = registryAddress(address);
  const where = `the registry at ${host}:${port}`;
  const socket = net.connect({ host, port, noDelay: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DiscoveryError(`${where} did not answer within ${timeout} ms`)), timeout);
  });
  let conn: Connection | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', (error: NodeJS.ErrnoException) =>
          reject(new DiscoveryError(`cannot reach ${where}: ${error.code ?? error.message}`, { cause: error })),
        );
      }),
      deadline,
    ]);
    conn = new Connection(
      new StreamChannel(socket, {
        info: { transport: 'tcp', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
      }),
    );
    await Promise.race([sessionOf(conn).ready, deadline]);
    return conn;
  } catch (error) {
    socket.destroy();
    await conn?.close();
    if (error instanceof DiscoveryError) throw error;
    throw new DiscoveryError(`cannot talk to ${where}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

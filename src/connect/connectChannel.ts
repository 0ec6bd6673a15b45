import type { Channel } from '../channel/index.js';
import { Connection, sessionOf, type ConnectionOptions } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';

/** The signal's reason, or an AbortError like fetch's. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The connect was aborted', 'AbortError');
}

/**
 * A connection over any Channel. Resolves once both ends have exchanged the handshake; rejects (and closes the
 * channel) on a version mismatch, a handshake timeout, a channel that closes first, or an aborted `signal`. With
 * `earlyCalls` it resolves at once, and those failures close the connection instead.
 */
export async function connectChannel(
  channel: Channel,
  options: ConnectOptions & Pick<ConnectionOptions, 'credentials' | 'release'> = {},
): Promise<Connection> {
  const { signal, auth: _auth, earlyCalls, ...rest } = options;
  if (signal?.aborted) {
    channel.close();
    throw abortReason(signal);
  }
  const conn = new Connection(channel, rest);
  const session = sessionOf(conn);
  if (earlyCalls) return conn;
  if (!signal) {
    await session.ready.catch(async (error) => {
      await conn.close();
      throw error;
    });
    return conn;
  }
  const onAbort = () => session.fail(abortReason(signal) as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await session.ready;
  } catch (error) {
    await conn.close();
    throw signal.aborted ? abortReason(signal) : error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return conn;
}

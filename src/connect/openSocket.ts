import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Authenticator } from '../auth/index.js';
import { AuthenticationError, TimeoutError } from '../core/index.js';

/**
 * Runs an authenticator with a deadline. On refusal or timeout the stream is destroyed and the error says which;
 * an error the authenticator throws is wrapped in AuthenticationError unless it is one already.
 */
export async function runAuthenticator(
  auth: Authenticator,
  stream: Duplex,
  info: { side: 'server' | 'client'; remoteAddress?: string; remotePort?: number },
  timeout: number,
): Promise<{ stream: Duplex; credentials?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`the authenticator did not finish within ${timeout} ms`)),
      timeout,
    );
  });
  try {
    const result = await Promise.race([auth(stream, { ...info, timeout }), deadline]);
    if (!result || typeof result !== 'object' || !result.stream) {
      throw new AuthenticationError('the authenticator did not return { stream }');
    }
    return result;
  } catch (error) {
    stream.destroy();
    if (error instanceof AuthenticationError || error instanceof TimeoutError) throw error;
    throw new AuthenticationError(`authentication failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a TCP (with TCP_NODELAY) or Unix socket. Rejects with the socket's error (ECONNREFUSED, ENOENT…) named
 * with the address, with TimeoutError after `timeout` ms, or with the signal's reason; the socket is destroyed.
 */
export function openSocket(
  target: { host: string; port: number } | { path: string },
  timeout: number,
  signal: AbortSignal | undefined,
  abortReason: (s: AbortSignal) => unknown,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const where = 'path' in target ? `unix://${target.path}` : `tcp://${target.host}:${target.port}`;
    const socket =
      'path' in target
        ? net.connect({ path: target.path })
        : net.connect({ host: target.host, port: target.port, noDelay: true });
    const done = (error?: unknown) => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    const onConnect = () => {
      if ('host' in target) socket.setNoDelay(true);
      done();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      const e = new Error(`cannot connect to ${where}: ${error.code ?? error.message}`, { cause: error });
      (e as NodeJS.ErrnoException).code = error.code;
      done(e);
    };
    const onAbort = () => done(abortReason(signal!));
    const timer = setTimeout(
      () => done(new TimeoutError(`connecting to ${where} took longer than ${timeout} ms`)),
      timeout,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

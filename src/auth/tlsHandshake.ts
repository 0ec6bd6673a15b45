import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { AuthenticationError } from '../protocol/index.js';

/**
 * An AuthenticationError for a TLS failure: `what` (e.g. `TLS handshake with 10.0.0.7:53122 failed`), then the TLS
 * code and OpenSSL's reason, which is what a user can act on (`DEPTH_ZERO_SELF_SIGNED_CERT (self-signed
 * certificate)`), rather than OpenSSL's full error string. The error's `code` is the TLS code; `cause` is the
 * original error; `hint` is appended (what to do about it).
 */
export function tlsFailure(what: string, error: unknown, hint = ''): AuthenticationError {
  const e = error as (Error & { code?: string; reason?: string }) | undefined;
  const code = e?.code;
  const reason = e?.reason ?? (e?.message && !/^[0-9A-F]+:error:/.test(e.message) ? e.message : undefined);
  const text = [code, reason && code ? `(${reason})` : reason].filter(Boolean).join(' ') || String(error);
  const failure = new AuthenticationError(`${what}: ${text}${hint}`, { cause: error });
  if (code) (failure as NodeJS.ErrnoException).code = code;
  return failure;
}

/**
 * Waits for `socket` to finish its TLS handshake (`event`: `secure` on a server socket, `secureConnect` on a
 * client's) within `timeout` ms. Rejects with an AuthenticationError naming the TLS code when the handshake fails,
 * the peer closes first (`ECONNRESET`) or the deadline passes (`ETIMEDOUT`); then both the TLS socket and the raw
 * stream under it are destroyed, so nothing is left open.
 */
export function awaitTlsHandshake(
  socket: tls.TLSSocket,
  raw: Duplex,
  {
    event,
    timeout,
    what,
    hint,
  }: { event: 'secure' | 'secureConnect'; timeout: number; what: string; hint?: (error: Error) => string },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: AuthenticationError) => {
      clearTimeout(timer);
      socket.off(event, onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      raw.off('close', onClose);
      if (!error) return resolve();
      // A late error of a socket being torn down must not become an uncaught 'error' event.
      socket.on('error', () => {});
      socket.destroy();
      raw.destroy();
      reject(error);
    };
    const onSecure = () => settle();
    const onError = (error: Error) => settle(tlsFailure(`${what} failed`, error, hint?.(error)));
    const onClose = () => {
      const e = new Error('the peer closed the connection before the handshake finished');
      (e as NodeJS.ErrnoException).code = 'ECONNRESET';
      settle(tlsFailure(`${what} failed`, e));
    };
    const timer = setTimeout(() => {
      const e = new Error(`did not finish within ${timeout} ms`);
      (e as NodeJS.ErrnoException).code = 'ETIMEDOUT';
      settle(tlsFailure(`${what} failed`, e));
    }, timeout);
    socket.once(event, onSecure);
    socket.on('error', onError);
    socket.once('close', onClose);
    raw.once('close', onClose);
  });
}

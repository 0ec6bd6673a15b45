import type { Duplex } from 'node:stream';
import { AuthenticationError, TimeoutError } from '../../protocol/errors.js';
import { DEFAULT_HANDSHAKE_TIMEOUT } from '../../protocol/handshake.js';

/** How the steps of a handshake talk on the stream. */
export interface HandshakeIO {
  /**
   * Resolves with exactly `n` bytes (a fresh Uint8Array), leaving whatever follows them in the stream for the next
   * reader, so bytes a peer sent right after the handshake stay readable for the box-stream. `what` names the
   * message in errors ("msg2"); `hint` says what the peer closing before sending it probably means.
   */
  read(n: number, what: string, hint?: string): Promise<Uint8Array>;
  /** Writes `bytes`; does nothing once the handshake has failed. */
  write(bytes: Uint8Array): void;
  /** What the handshake is doing now, for the timeout's message ("authorize()"). `read` sets it too. */
  stage: string;
}

/**
 * Runs the steps of one side of a handshake on `stream` with a deadline. Resolves with what the steps return. On
 * any failure — a step throws, the stream ends, closes or errors, or `timeout` ms pass — it rejects with
 * AuthenticationError (TimeoutError for the deadline; TypeError and those two pass through unchanged) and destroys
 * the stream, writing nothing more. Listeners it added are removed either way.
 */
export function runHandshake<T>(
  stream: Duplex,
  side: 'client' | 'server',
  timeout: number,
  steps: (io: HandshakeIO) => Promise<T>,
): Promise<T> {
  const peer = side === 'client' ? 'server' : 'client';
  const prefix = `secret handshake (${side})`;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let pending: { n: number; what: string; hint?: string; resolve: (b: Uint8Array) => void } | undefined;

    const finish = (error: Error | undefined, value?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('readable', tryRead);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      stream.off('error', onError);
      pending = undefined;
      if (error) {
        // A stream being torn down may still report something; nobody is waiting for it any more.
        stream.on('error', () => {});
        stream.destroy();
        reject(error);
      } else resolve(value as T);
    };

    const closedError = (): AuthenticationError => {
      const what = pending ? `before sending ${pending.what} (${pending.n} bytes)` : `during the handshake`;
      const hint = pending?.hint ? `: ${pending.hint}` : '';
      return new AuthenticationError(`${prefix}: the ${peer} closed the connection ${what}${hint}`);
    };

    function tryRead(): void {
      if (!pending || done) return;
      const chunk: Buffer | string | null = stream.read(pending.n);
      if (chunk === null) return;
      if (typeof chunk === 'string') {
        finish(new TypeError(`${prefix}: the stream has a string encoding set; it must deliver bytes`));
        return;
      }
      // read(n) hands over fewer than n bytes only when the stream has ended.
      if (chunk.length < pending.n) {
        finish(closedError());
        return;
      }
      const p = pending;
      pending = undefined;
      p.resolve(new Uint8Array(chunk));
    }
    const onEnd = (): void => finish(closedError());
    const onClose = (): void => finish(closedError());
    const onError = (error: Error): void => {
      const at = pending ? ` while waiting for ${pending.what}` : '';
      finish(new AuthenticationError(`${prefix}: stream error${at}: ${error.message}`, { cause: error }));
    };

    const io: HandshakeIO = {
      stage: 'the start',
      read(n, what, hint) {
        io.stage = what;
        return new Promise<Uint8Array>((res) => {
          if (done) return; // the handshake has failed; the steps are abandoned
          pending = { n, what, ...(hint ? { hint } : {}), resolve: res };
          tryRead();
        });
      },
      write(bytes) {
        if (!done) stream.write(bytes);
      },
    };

    const timer = setTimeout(
      () => finish(new TimeoutError(`${prefix} did not finish within ${timeout} ms (waiting for ${io.stage})`)),
      timeout,
    );
    // One 'readable' listener for the whole handshake: taking it off between messages could let the stream start
    // flowing and drop bytes nobody listens to.
    stream.on('readable', tryRead);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onError);
    if (stream.destroyed || stream.readableEnded) {
      finish(new AuthenticationError(`${prefix}: the stream is already closed`));
      return;
    }

    steps(io).then(
      (value) => finish(undefined, value),
      (error: unknown) => {
        if (error instanceof AuthenticationError || error instanceof TimeoutError || error instanceof TypeError) {
          finish(error);
        } else {
          const message = error instanceof Error ? error.message : String(error);
          finish(new AuthenticationError(`${prefix}: ${message}`, { cause: error }));
        }
      },
    );
  });
}

/** Throws a TypeError unless `timeout` is a positive finite number of milliseconds; returns it (or the default). */
export function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return DEFAULT_HANDSHAKE_TIMEOUT;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError(`timeout must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  return timeout;
}

/** The peer sent an ephemeral key that makes a Diffie-Hellman result all zeros. */
export function lowOrderKey(peer: 'client' | 'server'): AuthenticationError {
  return new AuthenticationError(
    `secret handshake: the ${peer}'s ephemeral key gives an all-zero shared secret (a low-order point); refused`,
  );
}

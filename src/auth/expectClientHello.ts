import type { Duplex } from 'node:stream';
import { goodbyeFrame } from '../protocol/index.js';
import { tlsFailure } from './tlsHandshake.js';

/** The first byte of every TLS connection a client opens: a handshake record (its ClientHello). */
const TLS_HANDSHAKE_RECORD = 0x16;

/** What a client that sent something else is told, as a netref GOODBYE (a plain netref client shows it). */
const REFUSAL = 'this server speaks TLS; connect with the tls option (connect(..., { tls: { ca } }))';

/**
 * Waits (within `timeout` ms) for the first byte a client sends on `stream`, and puts it back. A TLS client starts
 * with a handshake record; anything else is most likely a plain netref client (whose first bytes are a frame
 * length), and OpenSSL would only answer it with an alert it cannot read. So it gets a netref GOODBYE saying the
 * server wants TLS, which its `connect` rejects with, and this rejects with an AuthenticationError saying the
 * client spoke no TLS. Also rejects (ECONNRESET, ETIMEDOUT) when the client closes or sends nothing in time.
 */
export function expectClientHello(stream: Duplex, { timeout, what }: { timeout: number; what: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onClose);
      stream.off('close', onClose);
      stream.off('error', onClose);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      done();
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        stream.unshift(chunk);
        resolve();
      } else {
        refuse(stream, Math.min(timeout, 1000)).then(() => {
          const e = new Error(`the client sent no TLS ClientHello (a plain netref client?); told it to use TLS`);
          (e as NodeJS.ErrnoException).code = 'ERR_NETREF_NOT_TLS';
          reject(tlsFailure(`${what} failed`, e));
        });
      }
    };
    const onClose = () => {
      done();
      const e = new Error('the client closed the connection before the handshake');
      (e as NodeJS.ErrnoException).code = 'ECONNRESET';
      reject(tlsFailure(`${what} failed`, e));
    };
    const timer = setTimeout(() => {
      done();
      const e = new Error(`did not finish within ${timeout} ms`);
      (e as NodeJS.ErrnoException).code = 'ETIMEDOUT';
      reject(tlsFailure(`${what} failed`, e));
    }, timeout);
    stream.on('readable', onReadable);
    stream.once('end', onClose);
    stream.once('close', onClose);
    stream.once('error', onClose);
  });
}

/**
 * Sends the GOODBYE and ends the stream, reading (and dropping) what the client still sends so that it sees the
 * GOODBYE rather than a reset; resolves once the stream closed, or after `ms`.
 */
function refuse(stream: Duplex, ms: number): Promise<void> {
  stream.on('error', () => {});
  stream.end(goodbyeFrame(REFUSAL));
  stream.resume();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

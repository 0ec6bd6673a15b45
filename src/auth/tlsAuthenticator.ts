import type tls from 'node:tls';
import type { Authenticator } from './Authenticator.js';
import { expectClientHello } from './expectClientHello.js';
import { builtins } from '../channel/index.js';
import { awaitTlsHandshake, tlsFailure } from './tlsHandshake.js';

/**
 * Options of `tlsAuthenticator`: node:tls server options (`tls.createServer`'s), of which these matter most.
 * Everything else (`ciphers`, `minVersion`, `ALPNProtocols`, `SNICallback`, `passphrase`, `pfx`…) is passed on.
 */
export interface TlsAuthenticatorOptions extends tls.TlsOptions {
  /** The server's private key (PEM), or keys. */
  key: tls.SecureContextOptions['key'];
  /** The server's certificate chain (PEM). */
  cert: tls.SecureContextOptions['cert'];
  /** The CAs a client certificate must chain to (default: Node's bundled root CAs). */
  ca?: tls.SecureContextOptions['ca'];
  /** Ask each client for a certificate. Default false. */
  requestCert?: boolean;
  /**
   * With `requestCert`: refuse a client whose certificate does not chain to `ca`, or that sends none. Default true,
   * as for a node:tls server. When false, such a client is admitted and its credentials say why it was not trusted.
   */
  rejectUnauthorized?: boolean;
}

/** What `tlsAuthenticator` puts in `conn.peer.credentials` (and `connect(..., { tls })` on the client side). */
export interface TlsCredentials {
  /** The peer's certificate (`getPeerCertificate()`), when it sent one. */
  certificate?: tls.PeerCertificate;
  /**
   * Set only when a certificate was requested, did not verify, and `rejectUnauthorized: false` let the client in
   * anyway: the TLS code saying why (`DEPTH_ZERO_SELF_SIGNED_CERT`…). Never set on a trusted certificate.
   */
  authorizationError?: string;
}

/**
 * TLS as a server's `authenticator` (DESIGN §6): the accepted socket is wrapped in a server-side `tls.TLSSocket`,
 * the handshake must finish within `protocolConfig.handshakeTimeout`, and every netref byte then travels encrypted.
 * `conn.peer.credentials` is `{ certificate }` when the client sent a certificate, else `{}`.
 *
 * Refused (the socket destroyed, no service code run, the server's `error` event gets an AuthenticationError naming
 * the TLS code): a failed handshake (a client that does not trust us, or closes), a client that speaks no TLS (a
 * plain netref client is told, in a GOODBYE its `connect` shows, to use TLS), and with
 * `requestCert` (and `rejectUnauthorized`, the default) a client certificate that does not chain to `ca` or none at
 * all. The secure context is made once, here: a bad key or certificate throws at once.
 */
export function tlsAuthenticator(options: TlsAuthenticatorOptions): Authenticator {
  if (!options || typeof options !== 'object') throw new TypeError('tlsAuthenticator needs { key, cert }');
  if (!options.key && !options.pfx) throw new TypeError('tlsAuthenticator needs the server key (key, or pfx)');
  if (!options.cert && !options.pfx) throw new TypeError('tlsAuthenticator needs the server certificate (cert)');
  const { createSecureContext, TLSSocket } = builtins.tls();
  const secureContext = options.secureContext ?? createSecureContext(options);
  const requestCert = options.requestCert === true;
  // A lone server-side TLSSocket defaults to not rejecting, unlike tls.Server; keep tls.Server's default.
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  const authenticator: Authenticator = async (stream, info) => {
    const started = Date.now();
    const where =
      info.remotePort !== undefined ? `${info.remoteAddress}:${info.remotePort}` : (info.remoteAddress ?? 'a client');
    const what = `TLS handshake with ${where}`;
    await expectClientHello(stream, { timeout: info.timeout, what });
    const socket = new TLSSocket(stream, {
      ...options,
      isServer: true,
      secureContext,
      requestCert,
      rejectUnauthorized,
    });
    const timeout = Math.max(0, info.timeout - (Date.now() - started));
    await awaitTlsHandshake(socket, stream, { event: 'secure', timeout, what });

    const refuse = (error: Error) => {
      socket.on('error', () => {}); // nothing is listening any more; a late error must not crash the server
      socket.destroy();
      stream.destroy();
      return error;
    };
    let authorizationError: string | undefined;
    if (requestCert) {
      // tls.Server checks the chain in its own 'secure' handler, which a TLSSocket made outside one does not get:
      // OpenSSL completes the handshake whatever the chain, and leaves the verdict here (null when trusted).
      const verdict = (socket as unknown as { _handle?: { verifyError(): Error | null } })._handle?.verifyError();
      if (verdict === undefined) {
        throw refuse(tlsFailure(`${what} failed`, new Error('cannot read the certificate check of this Node.js')));
      }
      if (verdict) {
        if (rejectUnauthorized)
          throw refuse(tlsFailure(`TLS with ${where}: the client certificate is not trusted`, verdict));
        authorizationError = (verdict as NodeJS.ErrnoException).code ?? verdict.message;
      }
    }
    const certificate = socket.getPeerCertificate();
    const credentials: TlsCredentials = {
      ...(certificate && Object.keys(certificate).length > 0 ? { certificate } : {}),
      ...(authorizationError !== undefined ? { authorizationError } : {}),
    };
    return { stream: socket, credentials };
  };
  // Tagged so that discovery announces `auth=tls` (DESIGN §7).
  return Object.assign(authenticator, { kind: 'tls' as const });
}

import net from 'node:net';
import type tls from 'node:tls';
import type { Authenticator } from './Authenticator.js';
import type { TlsCredentials } from './tlsAuthenticator.js';
import { builtins } from '../channel/index.js';
import { awaitTlsHandshake } from './tlsHandshake.js';

/**
 * The `tls` option of `connect` (DESIGN §6): node:tls connect options. The socket is netref's own; `host`, `port`
 * and `path` come from the address given to `connect`.
 */
export interface TlsConnectOptions extends Omit<tls.ConnectionOptions, 'socket' | 'host' | 'port' | 'path'> {
  /** The CAs the server's certificate must chain to (default: Node's bundled root CAs). */
  ca?: tls.SecureContextOptions['ca'];
  /** This client's key and certificate, for a server that asks for one (`requestCert`). */
  key?: tls.SecureContextOptions['key'];
  cert?: tls.SecureContextOptions['cert'];
  /**
   * The name the server's certificate must carry, and the SNI name sent. Default: the host given to `connect` (an
   * IP address is checked against the certificate's IP entries and sent as no SNI name).
   */
  servername?: string;
  /** Refuse a server whose certificate does not verify (untrusted, or the wrong name). Default true. */
  rejectUnauthorized?: boolean;
}

/** Certificate codes for which the fix is to tell the client which CA to trust. */
const UNTRUSTED = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF))/;

/**
 * TLS on the client side, as `connect(..., { tls })` runs it on the socket it opened: `tls.connect({ socket, ...
 * options })`, the handshake within `info.timeout` ms, and the server's certificate as credentials
 * (`{ certificate }`). `host` is the name the server's certificate is checked against (unless `servername` says
 * otherwise); `where` names the server in errors.
 *
 * Rejects with an AuthenticationError whose `code` and message name the TLS error — an untrusted certificate
 * (`DEPTH_ZERO_SELF_SIGNED_CERT`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`…), a name mismatch
 * (`ERR_TLS_CERT_ALTNAME_INVALID`), a server that speaks no TLS, a close (`ECONNRESET`) or the deadline
 * (`ETIMEDOUT`) — and then both the TLS socket and the raw socket are destroyed.
 */
export function tlsClient(options: TlsConnectOptions & { host?: string; where?: string }): Authenticator {
  const { host, where, ...rest } = options;
  // SNI carries names only (RFC 6066); an address is still checked against the certificate through `host`.
  const servername = rest.servername ?? (host && net.isIP(host) === 0 ? host : undefined);
  const { connect } = builtins.tls();
  return async (stream, info) => {
    const socket = connect({
      ...rest,
      socket: stream,
      ...(host !== undefined ? { host } : {}),
      ...(servername !== undefined ? { servername } : {}),
    });
    const what = `TLS handshake with ${where ?? host ?? 'the server'}`;
    await awaitTlsHandshake(socket, stream, {
      event: 'secureConnect',
      timeout: info.timeout,
      what,
      hint: (error) =>
        UNTRUSTED.test((error as NodeJS.ErrnoException).code ?? '')
          ? "; the server's certificate is not trusted (give the CA that signed it as tls: { ca })"
          : '',
    });
    const certificate = socket.getPeerCertificate();
    const credentials: TlsCredentials = certificate && Object.keys(certificate).length > 0 ? { certificate } : {};
    if (!socket.authorized && socket.authorizationError) {
      credentials.authorizationError = String(socket.authorizationError);
    }
    return { stream: socket, credentials };
  };
}

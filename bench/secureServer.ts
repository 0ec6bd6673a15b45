// The server side of the secure-channel bench, in its own process like a real peer: one netref server, plain TCP,
// secret handshake or TLS as NETREF_BENCH_AUTH says (keys and certificate files come in the environment).
import { readFileSync } from 'node:fs';
import { Server, Service, shsServer, tlsAuthenticator, type Authenticator } from '../dist/index.js';
import { announceReady } from './serverLifetime.js';

class BenchService extends Service {
  /** W7's W1, as the plain TCP bench server's `add`. */
  add(a: number, b: number): number {
    return a + b;
  }

  /** W7's W4: the bytes come back. */
  echo(x: unknown): unknown {
    return x;
  }
}

function authenticator(env: NodeJS.ProcessEnv): Authenticator | undefined {
  const b64 = (name: string) => new Uint8Array(Buffer.from(env[name] ?? '', 'base64'));
  switch (env.NETREF_BENCH_AUTH) {
    case 'plain':
      return undefined;
    case 'shs':
      return shsServer({
        networkKey: b64('NETREF_BENCH_NETWORK_KEY'),
        keys: { publicKey: b64('NETREF_BENCH_PUBLIC_KEY'), secretKey: b64('NETREF_BENCH_SECRET_KEY') },
      });
    case 'tls':
      return tlsAuthenticator({
        key: readFileSync(env.NETREF_BENCH_TLS_KEY ?? ''),
        cert: readFileSync(env.NETREF_BENCH_TLS_CERT ?? ''),
      });
    default:
      throw new Error(`secureServer: NETREF_BENCH_AUTH must be plain, shs or tls, got ${env.NETREF_BENCH_AUTH}`);
  }
}

const auth = authenticator(process.env);
const server = new Server(BenchService, { host: '127.0.0.1', port: 0, ...(auth ? { authenticator: auth } : {}) });
await server.start();
if (server.port === undefined) throw new Error('secureServer: no TCP port');
announceReady(server.port);

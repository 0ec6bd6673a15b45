import { createRequire } from 'node:module';
import type Tls from 'node:tls';

/*
 * node:tls is loaded on first use, not when netref is imported: only `tls` connections and `tlsAuthenticator`
 * need it, and loading it (with what it brings: TLS sockets, secure contexts) costs every process and worker thread
 * 2–3 ms. Loaded with `require`, synchronously, because `tlsAuthenticator()` makes its secure context (and throws
 * for a bad key or certificate) at once.
 */
const load = createRequire(import.meta.url);

let tlsModule: typeof Tls | undefined;

/** node:tls, loaded on the first call. */
export function loadTls(): typeof Tls {
  return (tlsModule ??= load('node:tls') as typeof Tls);
}

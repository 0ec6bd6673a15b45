import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectStdpipes } from '../connect/index.js';
import {
  ClassicService,
  loadServiceModule,
  netrefModule,
  parseServiceModule,
  toServiceModule,
  type ServiceLike,
  type ServiceModule,
} from '../core/index.js';
import { ForkingServer, Server, ThreadedServer, type ServerBase, type ServerOptions } from '../server/index.js';
import { serverAuthFromFlags } from './serverAuthFromFlags.js';
import { parseServeFlags } from './serveOptions.js';
import { UsageError } from './UsageError.js';

/**
 * A bare module name (`my-pkg/service`) resolved from the current directory, as a user running the command there
 * means it; paths and URLs are left to `toServiceModule`.
 */
function fromCwd(module: string): string {
  if (/^[./]/.test(module) || /^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  try {
    return pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(module)).href;
  } catch {
    return module; // an ESM-only package: let import() resolve it (and report it if it cannot)
  }
}

/** Waits for SIGINT or SIGTERM, or for `done`; removes its handlers either way. */
function untilStopped(done?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void done?.then(stop);
  });
}

/**
 * `netref serve MODULE[#Export]` and `netref classic`: serves until SIGINT/SIGTERM (or, with --stdio, until the
 * connection ends). Prints one line when ready. Returns the exit code; throws UsageError for bad options.
 */
export async function serveCommand(command: 'serve' | 'classic', args: string[]): Promise<number> {
  const flags = parseServeFlags(args);
  // Before loading anything: a bad key or file is a usage error, reported at once.
  const auth = serverAuthFromFlags(flags);
  let spec: ServiceModule;
  if (command === 'serve') {
    if (flags.positionals.length !== 1) {
      throw new UsageError('netref serve takes one MODULE[#Export] (a path, URL or package name)');
    }
    const parsed = parseServiceModule(flags.positionals[0]!);
    spec = { ...parsed, module: fromCwd(parsed.module as string) };
  } else {
    if (flags.positionals.length) throw new UsageError(`netref classic takes no ${flags.positionals[0]}`);
    spec = { module: netrefModule('core/ClassicService'), export: 'ClassicService' };
  }
  const label = `netref ${command}`;

  if (flags.stdio) {
    const service: ServiceLike = command === 'classic' ? ClassicService : await loadServiceModule(spec);
    const conn = await connectStdpipes({ service });
    console.error(`${label} listening on stdio`);
    await untilStopped(conn.closed);
    await conn.close();
    return 0;
  }

  if (auth) {
    const who =
      auth.authorizedCount === undefined
        ? 'any client holding the network key'
        : `the ${auth.authorizedCount} key(s) of ${flags.authorizedKeys}`;
    console.error(`${label}: secure channel on; server key ${auth.publicKey}; admitting ${who}`);
    if (auth.authorizedCount === 0)
      console.error(`${label}: ${flags.authorizedKeys} lists no keys: nobody can connect`);
  }
  const options: ServerOptions = {
    ...(auth ? { authenticator: auth.authenticator } : {}),
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.path !== undefined ? { path: flags.path } : {}),
    ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
    insecure: flags.insecure,
    autoRegister: flags.register,
    ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
  };
  let server: ServerBase;
  if (flags.mode === 'event') {
    const service: ServiceLike = command === 'classic' ? ClassicService : await loadServiceModule(spec);
    server = new Server(service, options);
  } else if (flags.mode === 'threaded') {
    const module = toServiceModule(spec);
    server = new ThreadedServer(module, { ...options, ...(flags.workers ? { workers: flags.workers } : {}) });
  } else {
    server = new ForkingServer(toServiceModule(spec), options);
  }
  server.on('error', (error: Error) => console.error(`${label}: ${error.message}`));
  await server.start();
  console.log(`${label} listening on ${server.uri}`);
  await untilStopped();
  await server.close();
  return 0;
}

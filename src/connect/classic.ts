// The `classic` namespace (DESIGN §3 "Classic mode"): the factories, each resolving to a ClassicConnection.
import { fileURLToPath } from 'node:url';
import type { Channel } from '../channel/index.js';
import { netrefModule } from '../core/index.js';
import { asClassic, type ClassicConnection } from './ClassicConnection.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { connect as connectSocket } from './connect.js';
import { connectChannel as connectOverChannel } from './connectChannel.js';
import { connectSubproc as spawnSubproc, type SubprocConnection, type SubprocOptions } from './connectSubproc.js';
import { connectThread as startThread, type ThreadOptions } from './connectThread.js';
import type { ThreadConnection } from './connectWorker.js';

/** The command line the package ships (`bin/netref.js` at its root), from here in `src/connect` or `dist/chunks`. */
const netrefBin = fileURLToPath(new URL('../../bin/netref.js', import.meta.url));

/**
 * `connect` to a `ClassicService` (a `netref classic` server): the same arguments, and the same failures, as
 * `connect`.
 */
export function connect(
  uri: string | { host?: string; port: number } | { path: string },
  options?: ConnectOptions,
): Promise<ClassicConnection>;
export function connect(host: string, port: number, options?: ConnectOptions): Promise<ClassicConnection>;
export async function connect(...args: unknown[]): Promise<ClassicConnection> {
  return asClassic(await (connectSocket as (...a: unknown[]) => ReturnType<typeof connectSocket>)(...args));
}

/** `connectChannel` to a `ClassicService` on the other end of any Channel; fails as `connectChannel` does. */
export async function connectChannel(channel: Channel, options?: ConnectOptions): Promise<ClassicConnection> {
  return asClassic(await connectOverChannel(channel, options));
}

/**
 * Starts `netref classic --stdio` in a child Node process (this Node, `process.execPath`) and connects to it: the
 * whole runtime of a fresh process, ended with the connection. `options` are `connectSubproc`'s (`cwd` decides
 * where `modules` resolves from). Rejects as `connectSubproc` does, leaving no child behind.
 */
export async function connectSubproc(options?: SubprocOptions): Promise<ClassicConnection<SubprocConnection>> {
  return asClassic(await spawnSubproc(process.execPath, [netrefBin, 'classic', '--stdio'], options));
}

/**
 * Runs a `ClassicService` in a new worker thread and connects to it; the worker ends with the connection. `options`
 * are `connectThread`'s. Rejects as `connectThread` does, leaving no worker behind.
 */
export async function connectThread(options?: ThreadOptions): Promise<ClassicConnection<ThreadConnection>> {
  const module = netrefModule('core/ClassicService');
  return asClassic(await startThread({ module, export: 'ClassicService' }, options));
}

import type { ChildProcess } from 'node:child_process';
import { builtins, StreamChannel } from '../channel/index.js';
import { resolveProtocolConfig, settlesWithin, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { abortReason, connectChannel } from './connectChannel.js';
import { ExitWatchingChannel } from './ExitWatchingChannel.js';

/** Options of `connectSubproc`: every factory's, plus how the child is run. */
export interface SubprocOptions extends ConnectOptions {
  cwd?: string | URL;
  env?: NodeJS.ProcessEnv;
  /** The child's stderr: passed through to ours (default), readable as `conn.process.stderr`, or dropped. */
  stderr?: 'inherit' | 'pipe' | 'ignore';
  /**
   * Once the connection has closed, how long the child may take to exit by itself (it sees its stdin end) before
   * it is sent SIGTERM, and then as long again before SIGKILL. Default 2000 ms.
   */
  exitTimeout?: number;
}

/** A connection to a child process; the child is `process`. */
export type SubprocConnection = Connection & { readonly process: ChildProcess };

/** How a child ended, in words: `exited with code 3`, `was killed by SIGKILL`. */
function exitText(child: ChildProcess): string {
  const { exitCode, signalCode, pid } = child;
  const who = pid === undefined ? 'the child process' : `the child process ${pid}`;
  return `${who} ${signalCode ? `was killed by ${signalCode}` : `exited with code ${exitCode}`}`;
}

/** Resolves once the child has exited (at once if it has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * The child's stdio as a channel, closed with the child's exit code or signal as the reason when the child ends
 * (see ExitWatchingChannel). An orderly goodbye followed by exit 0 is an orderly close. A child that exits while
 * its stdout stays open (a grandchild holds it) ends the connection all the same, a second later.
 */
class ChildChannel extends ExitWatchingChannel {
  constructor(child: ChildProcess, maxFrameSize: number) {
    const info = { transport: 'subprocess' };
    const hasExited = () => child.exitCode !== null || child.signalCode !== null;
    super(
      new StreamChannel(child.stdout!, child.stdin!, { maxFrameSize, info }),
      {
        exited: hasExited,
        onExit: (listener) => {
          child.once('exit', listener);
          return () => child.off('exit', listener);
        },
        exitError: (cause) => new Error(exitText(child), { cause }),
        orderly: (error) => !error && child.exitCode === 0,
        exitGrace: 1000,
      },
      info,
    );
  }
}

/** Ends the child: waits for it to exit by itself, then SIGTERM, then SIGKILL, each `grace` ms apart. */
async function endChild(child: ChildProcess, grace: number): Promise<void> {
  const done = exited(child);
  for (const signal of [undefined, 'SIGTERM', 'SIGKILL'] as const) {
    if (signal) child.kill(signal);
    if (await settlesWithin(done, grace)) return;
  }
}

/**
 * Spawns `command` with `args`, a program that speaks netref on its stdin/stdout (e.g.
 * `netref serve ./svc.js#Svc --stdio`, or the same through `ssh host …`), and connects to it. The child is
 * `conn.process`. Closing the connection ends the child (`close()` resolves once it has exited); the child's exit
 * or crash closes the connection, with the exit code or signal in the reason.
 *
 * Rejects with a clear error, and leaves no child behind, when the program cannot be started (ENOENT, EACCES), when
 * it exits before the handshake completes (the reason names its exit code), or on a handshake timeout.
 */
export async function connectSubproc(
  command: string,
  args: readonly string[] = [],
  options: SubprocOptions = {},
): Promise<SubprocConnection> {
  const { cwd, env, stderr = 'inherit', exitTimeout = 2000, ...rest } = options;
  if (typeof command !== 'string' || command === '') throw new TypeError('connectSubproc needs a command');
  if (rest.signal?.aborted) throw abortReason(rest.signal);
  const { maxFrameSize } = resolveProtocolConfig(rest.protocolConfig);
  const { spawn } = builtins.childProcess();
  const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', stderr], windowsHide: true });
  // A spawn failure (ENOENT…) is reported as an `error` event, before any stdio activity.
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (spawned) {
    const code = (spawned as NodeJS.ErrnoException).code;
    const e = new Error(`cannot start ${command}: ${code ?? spawned.message}`, { cause: spawned });
    (e as NodeJS.ErrnoException).code = code;
    throw e;
  }
  child.on('error', () => {}); // a failed kill; the exit (or its absence) is what we act on
  child.stdin!.on('error', () => {}); // EPIPE once the child is gone: the channel learns of it from stdout
  const channel = new ChildChannel(child, maxFrameSize);
  const conn = await connectChannel(channel, { ...rest, release: () => endChild(child, exitTimeout) });
  Object.defineProperty(conn, 'process', { value: child, enumerable: true });
  return conn as SubprocConnection;
}

import { spawn, type ChildProcess } from 'node:child_process';
import type { Channel, ChannelReceiver } from '../channel/index.js';
import { StreamChannel } from '../channel/index.js';
import { resolveProtocolConfig, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { abortReason, connectChannel } from './connectChannel.js';

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
  const what = signalCode ? `was killed by ${signalCode}` : `exited with code ${exitCode}`;
  return `the child process ${pid ?? ''} ${what}`.replace('  ', ' ');
}

/** Resolves once the child has exited (at once if it has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * The child's stdio as a channel. When the child's end closes first, the close is reported once the child has
 * exited (waiting a bounded time), with its exit code or signal as the reason: what a caller needs to know.
 */
class ChildChannel implements Channel {
  readonly info = { transport: 'subprocess' };
  #inner: StreamChannel;
  #child: ChildProcess;
  #closedByUs = false;

  constructor(child: ChildProcess, maxFrameSize: number) {
    this.#child = child;
    this.#inner = new StreamChannel(child.stdout!, child.stdin!, { maxFrameSize, info: this.info });
  }

  get isClosed(): boolean {
    return this.#inner.isClosed;
  }

  start(receiver: ChannelReceiver): void {
    let notified = false;
    const notify = (error: Error | undefined) => {
      if (notified) return;
      notified = true;
      receiver.closed(error);
    };
    // The child exited but its stdout stays open (a grandchild holds it): the connection is over all the same.
    const onExit = () => {
      const t = setTimeout(() => {
        if (notified) return;
        notify(new Error(exitText(this.#child)));
        this.#closedByUs = true;
        this.#inner.close();
      }, 1000);
      t.unref();
    };
    this.#child.once('exit', onExit);
    this.#inner.start({
      frame: (f) => receiver.frame(f),
      drained: () => receiver.drained?.(),
      closed: (error) => {
        this.#child.off('exit', onExit);
        if (this.#closedByUs) return notify(error);
        const timer = setTimeout(() => notify(error), 1000);
        void exited(this.#child).then(() => {
          clearTimeout(timer);
          const { exitCode } = this.#child;
          // An orderly goodbye followed by exit 0 is an orderly close; anything else names how the child ended.
          notify(!error && exitCode === 0 ? undefined : new Error(exitText(this.#child), { cause: error }));
        });
      },
    });
  }

  send(frame: Uint8Array): boolean {
    return this.#inner.send(frame);
  }

  flush(): void {
    this.#inner.flush();
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  close(): void {
    this.#closedByUs = true;
    this.#inner.close();
  }
}

/** Ends the child: waits for it to exit by itself, then SIGTERM, then SIGKILL, each `grace` ms apart. */
async function endChild(child: ChildProcess, grace: number): Promise<void> {
  const done = exited(child);
  for (const signal of [undefined, 'SIGTERM', 'SIGKILL'] as const) {
    if (signal) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      done.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
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

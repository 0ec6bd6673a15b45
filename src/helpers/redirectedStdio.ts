import type { Connection } from '../core/index.js';
import { quietly } from './quietly.js';
import { release } from './release.js';
import { remoteAgent } from './remoteAgent.js';

/** Where the remote end's output goes here. */
export interface RedirectedStdioOptions {
  /** Receives the remote `process.stdout` writes (default: this process's `process.stdout`). */
  stdout?: NodeJS.WritableStream;
  /** Receives the remote `process.stderr` writes (default: this process's `process.stderr`). */
  stderr?: NodeJS.WritableStream;
}

/** An active redirection; ended by `close()` or by disposing it. */
export interface RedirectedStdio extends Disposable, AsyncDisposable {
  /**
   * Restores the remote end's streams; resolves once it has. Never rejects: on a closed connection there is
   * nothing left to restore (the remote end stops forwarding by itself when a write cannot reach here). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Makes the remote end's `process.stdout` and `process.stderr` writes (and so its `console.log`) appear here too,
 * on this process's stdout and stderr (or the streams in `options`), in the order they were written, until the
 * result is disposed: `using r = await redirectedStdio(conn)`, `await using`, or `await r.close()`. The remote end
 * still writes to its own streams as well. Redirections may nest; each ends on its own.
 *
 * Needs a classic end (a `ClassicService`): rejects with a TypeError saying so otherwise, and with the
 * connection's error when it is closed. Do not redirect, to the default streams, an end that is this very thread
 * (an in-process `ClassicService`): its writes would be forwarded to itself.
 */
export async function redirectedStdio(
  conn: Connection,
  options: RedirectedStdioOptions = {},
): Promise<RedirectedStdio> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const agent = await remoteAgent(conn, 'redirectedStdio');
  const sink = (stream: NodeJS.WritableStream) => (data: string | Uint8Array) => {
    stream.write(data);
  };
  const restore = await agent.redirect(sink(stdout), sink(stderr));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // A call on a closed connection may fail at once, or later: either way there is nothing left to restore.
    closing ??= new Promise<unknown>((resolve) => resolve(restore())).then(
      () => quietly(() => release(restore)),
      () => quietly(() => release(restore)),
    );
    return closing;
  };
  return {
    close,
    [Symbol.dispose]: () => void close(),
    [Symbol.asyncDispose]: close,
  };
}

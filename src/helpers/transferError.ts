import { ConnectionClosedError, TimeoutError } from '../core/index.js';

/** What the failed step was doing, for the message: `cannot read PATH here`, `cannot write PATH on the remote end`. */
export type TransferStep = 'read' | 'write' | 'create' | 'verify';

/** Node's fs messages end with the syscall and the path (`ENOENT: no such file or directory, open '/x/.f.part'`). */
function reasonOf(cause: unknown): string {
  const message = (cause as Error)?.message ?? String(cause);
  const m = /^([A-Z][A-Z0-9_]*: [^,]*), \w+ '.*'$/s.exec(message);
  return m ? m[1]! : message;
}

/**
 * The error a failed copy rejects with. The message names the copy, the path concerned, on which end, and the
 * reason (the cause's message, without the temporary file name Node would put in it); `code` is the cause's
 * (`ENOENT`, `EACCES`, `ENOTDIR`, `ECHECKSUM`, …), `path` the path concerned, `cause` the original error. A broken
 * connection or a timeout keeps its class (`ConnectionClosedError`, `TimeoutError`), so a caller can tell it apart.
 */
export function transferError(copy: string, step: TransferStep, path: string, remote: boolean, cause: unknown): Error {
  if (cause instanceof ConnectionClosedError || cause instanceof TimeoutError) {
    const Cls = cause instanceof TimeoutError ? TimeoutError : ConnectionClosedError;
    return Object.assign(new Cls(`${copy} failed at ${path}: ${cause.message}`, { cause }), { path });
  }
  const where = remote ? ' on the remote end' : '';
  const error = new Error(`${copy} failed: cannot ${step} ${path}${where}: ${reasonOf(cause)}`, { cause });
  const code = (cause as { code?: unknown })?.code;
  return Object.assign(error, { ...(code !== undefined ? { code } : {}), path });
}

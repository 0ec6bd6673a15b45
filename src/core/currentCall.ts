import { AsyncLocalStorage } from 'node:async_hooks';
import type { Connection } from './Connection.js';

/** What a handler can learn about the call it is serving. */
export interface CallInfo {
  /** The connection the call came in on. */
  readonly connection: Connection;
  /** Aborts when the caller stops waiting (its signal aborted, its timeout passed) or the connection closes. */
  readonly signal: AbortSignal;
}

/** One incoming request being handled; the abort controller is made only if someone asks for the signal. */
export class CallContext implements CallInfo {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  constructor(readonly connection: Connection) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export const callStorage = new AsyncLocalStorage<CallContext>();

/**
 * Inside a handler (also after its first `await`): the connection and abort signal of the call being served.
 * Throws a TypeError when called outside a handler.
 */
export function currentCall(): CallInfo {
  const ctx = callStorage.getStore();
  if (!ctx) throw new TypeError('currentCall() was called outside a netref call handler');
  return ctx;
}

import { EventEmitter } from 'node:events';
import { ConnectionClosedError, type Connection, type PeerInfo } from '../core/index.js';

/** `connect(..., { reconnect })`: how a lost connection is dialled again. */
export interface ReconnectOptions {
  /** Wait before the first attempt after a break, in ms. Default 100. */
  initialDelay?: number;
  /** Longest wait between attempts, in ms. Default 30 000. */
  maxDelay?: number;
  /** Each failed attempt multiplies the wait by this. Default 2. */
  factor?: number;
  /** Each wait is the backoff times a random factor in [1 − jitter, 1 + jitter] (then capped). Default 0.2. */
  jitter?: number;
  /** Consecutive failed attempts before giving up (the `close` event). Default Infinity. */
  maxAttempts?: number;
}

/** Dials one plain connection; `signal` aborts a dial that `close()` made pointless. */
export type Dial = (signal: AbortSignal) => Promise<Connection>;

/** Where a ReconnectingConnection is. */
export type ReconnectState = 'connected' | 'reconnecting' | 'closed';

/** The wait before attempt `attempt` (1-based): exponential backoff, jittered, capped at `maxDelay`. */
export function backoffDelay(options: Required<ReconnectOptions>, attempt: number, random = Math.random): number {
  const base = options.initialDelay * options.factor ** (attempt - 1);
  const jittered = base * (1 + options.jitter * (2 * random() - 1));
  return Math.max(0, Math.min(options.maxDelay, jittered));
}

function resolveOptions(o: ReconnectOptions): Required<ReconnectOptions> {
  const r = {
    initialDelay: o.initialDelay ?? 100,
    maxDelay: o.maxDelay ?? 30_000,
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.2,
    maxAttempts: o.maxAttempts ?? Infinity,
  };
  if (!(r.initialDelay >= 0 && r.maxDelay >= 0 && r.factor >= 1 && r.jitter >= 0 && r.jitter <= 1)) {
    throw new RangeError('reconnect: initialDelay and maxDelay must be ≥ 0, factor ≥ 1 and jitter within [0, 1]');
  }
  if (!(r.maxAttempts >= 1)) throw new RangeError('reconnect: maxAttempts must be at least 1');
  return r;
}

/**
 * A client connection that dials again when the connection breaks, with exponential backoff and jitter.
 *
 * Each break gives a new underlying Connection: calls in flight at the break reject with ConnectionClosedError and
 * are never resent (netref cannot know whether the peer ran them), and every netref of the old connection, its
 * `root` included, stays dead. `root` always answers for the current connection, so `rc.root.method()` works again
 * once `reconnected` fired; while reconnecting it rejects with ConnectionClosedError at once (nothing is queued).
 *
 * Events: `disconnected` (reason) when the connection breaks; `reconnecting` (attempt, delay) before each wait;
 * `reconnected` (connection) once a dial succeeds; `close` (reason) once, when `close()` is called (undefined) or it
 * gives up after `maxAttempts` (a ConnectionClosedError whose cause is the last dial's error). Never `error`.
 */
export class ReconnectingConnection extends EventEmitter {
  readonly #dial: Dial;
  readonly #options: Required<ReconnectOptions>;
  #current: Connection;
  #state: ReconnectState = 'connected';
  #timer: NodeJS.Timeout | undefined;
  #dialing: AbortController | undefined;
  readonly #published = new Map<string, unknown>();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed!: (reason: Error | undefined) => void;

  /** Dials the first connection (its failure rejects, with no retry: the address may just be wrong). */
  static async open(dial: Dial, options: ReconnectOptions, signal?: AbortSignal): Promise<ReconnectingConnection> {
    const resolved = resolveOptions(options);
    const first = await dial(signal ?? new AbortController().signal);
    return new ReconnectingConnection(dial, resolved, first);
  }

  private constructor(dial: Dial, options: Required<ReconnectOptions>, first: Connection) {
    super();
    this.#dial = dial;
    this.#options = options;
    this.#current = first;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#watch(first);
  }

  /** The current underlying connection (a closed one while reconnecting). */
  get connection(): Connection {
    return this.#current;
  }

  get state(): ReconnectState {
    return this.#state;
  }

  /** The current connection's root: a new netref after each reconnect. */
  get root(): any {
    return this.#current.root;
  }

  get peer(): PeerInfo {
    return this.#current.peer;
  }

  /** True once closed for good (not while reconnecting). */
  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** Resolves (never rejects) with the final reason; see the class comment. */
  get closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  /** Publishes on the current connection and on every later one. */
  publish(name: string, value: unknown): void {
    this.#published.set(name, value);
    if (!this.#current.isClosed) this.#current.publish(name, value);
  }

  lookup(name: string): any {
    return this.#current.lookup(name);
  }

  /** Stops reconnecting (no timer or dial is left) and closes the current connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#state !== 'closed') this.#finish(undefined);
    await this.#current.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #watch(conn: Connection): void {
    conn.once('close', (reason: Error | undefined) => {
      if (this.#state !== 'connected' || conn !== this.#current) return;
      // This end closed the underlying connection itself: that is a close, not a break.
      if (reason === undefined) return this.#finish(undefined);
      this.#state = 'reconnecting';
      this.emit('disconnected', reason);
      this.#schedule(1, reason);
    });
  }

  #schedule(attempt: number, lastError: Error): void {
    if (this.#state !== 'reconnecting') return;
    if (attempt > this.#options.maxAttempts) {
      const n = this.#options.maxAttempts;
      const why = new ConnectionClosedError(`gave up reconnecting after ${n} attempt${n === 1 ? '' : 's'}`, {
        cause: lastError,
      });
      return this.#finish(why);
    }
    const delay = backoffDelay(this.#options, attempt);
    this.emit('reconnecting', attempt, delay);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt(attempt);
    }, delay);
  }

  async #attempt(attempt: number): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    const controller = new AbortController();
    this.#dialing = controller;
    let conn: Connection;
    try {
      conn = await this.#dial(controller.signal);
    } catch (error) {
      if (this.#dialing === controller) this.#dialing = undefined;
      return this.#schedule(attempt + 1, error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#dialing === controller) this.#dialing = undefined;
    if (this.#state !== 'reconnecting') {
      // close() came while the dial was finishing.
      void conn.close();
      return;
    }
    this.#current = conn;
    this.#state = 'connected';
    for (const [name, value] of this.#published) conn.publish(name, value);
    this.#watch(conn);
    this.emit('reconnected', conn);
  }

  #finish(reason: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dialing?.abort(new ConnectionClosedError('closed while reconnecting'));
    this.#dialing = undefined;
    this.#resolveClosed(reason);
    this.emit('close', reason);
  }
}

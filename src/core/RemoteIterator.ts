import { ConnectionClosedError, IterateAction, MAX_ITERATE_COUNT, ProtocolError } from '../protocol/index.js';
import { nodeOf, type Node } from './netref.js';
import { DEFAULT_PROTOCOL_CONFIG } from './ProtocolConfig.js';
import { pullIterator } from './pullIterator.js';

/** How many items each request of a remote iteration asks for. */
export interface ChunkOptions {
  /** Items asked for by the first request. Default 1, so the first item arrives as early as it can. */
  chunk?: number;
  /** The most items one request asks for (at most 65536). Default 1000. */
  maxChunk?: number;
  /** Each request asks for this many times more than the one before, up to `maxChunk`. Default 2. */
  factor?: number;
}

function checkOptions(options: ChunkOptions | undefined): Required<ChunkOptions> {
  const { chunk = 1, maxChunk = 1000, factor = 2 } = options ?? {};
  for (const [key, value, min] of [
    ['chunk', chunk, 1],
    ['maxChunk', maxChunk, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min || value > MAX_ITERATE_COUNT) {
      throw new RangeError(`${key} must be an integer from 1 to ${MAX_ITERATE_COUNT}, got ${String(value)}`);
    }
  }
  if (typeof factor !== 'number' || !(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`factor must be a finite number of at least 1, got ${String(factor)}`);
  }
  return { chunk: Math.min(chunk, maxChunk), maxChunk, factor };
}

/**
 * The async iterator behind `for await (const x of netref)` and `buffiter()`: it opens the remote value's iterator
 * with one ITERATE request (pipelined when the netref is a pending result) and pulls items in chunks that grow from
 * `chunk` by `factor` up to `maxChunk`, so 10,000 items take about twenty round trips.
 *
 * Failures: an error the remote iterator throws is thrown by `next()` after the items it yielded before it; a
 * value that is not iterable rejects the first `next()` (TypeError); a closed connection rejects with
 * ConnectionClosedError. `return()` (a `break` out of the loop) closes the remote iterator (its `return()` runs) and
 * releases the netref to it; on a closed connection there is nothing left to close and it just resolves. Calls are
 * served one at a time, in order.
 */
export class RemoteIterator implements AsyncIterableIterator<unknown> {
  readonly #source: object;
  /** The remote iterator once opened: a netref, or a local object when the value turned out to be local. */
  #iterator: object | undefined;
  #opened = false;
  #finished = false;
  #buffer: unknown[] = [];
  #at = 0;
  #error: { error: unknown } | undefined;
  #chunk: number;
  readonly #maxChunk: number;
  readonly #factor: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(source: object, options?: ChunkOptions) {
    const { chunk, maxChunk, factor } = checkOptions(options);
    this.#source = source;
    this.#chunk = chunk;
    this.#maxChunk = maxChunk;
    this.#factor = factor;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    return this.#serialize(() => this.#next());
  }

  return(): Promise<IteratorResult<unknown>> {
    return this.#serialize(() => this.#return());
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #next(): Promise<IteratorResult<unknown>> {
    while (this.#at >= this.#buffer.length) {
      if (this.#error) {
        const { error } = this.#error;
        this.#error = undefined;
        throw error;
      }
      if (this.#finished) return { value: undefined, done: true };
      await this.#fetch();
    }
    const value = this.#buffer[this.#at];
    this.#buffer[this.#at++] = undefined; // let a consumed item go
    return { value, done: false };
  }

  async #fetch(): Promise<void> {
    const count = this.#chunk;
    this.#chunk = Math.min(this.#maxChunk, Math.max(count, Math.round(count * this.#factor)));
    let answer: unknown;
    try {
      answer = this.#opened
        ? await this.#step(this.#iterator!, IterateAction.NEXT, count)
        : await this.#step(this.#source, IterateAction.OPEN, count);
    } catch (error) {
      // Timed out or aborted, say: the remote iterator is still open. Close it (best effort) so its `finally` runs.
      if (this.#opened && this.#iterator && !(error instanceof ConnectionClosedError)) {
        this.#step(this.#iterator, IterateAction.CLOSE, 0).catch(() => {});
      }
      this.#finish();
      throw error;
    }
    if (!Array.isArray(answer) || !Array.isArray(answer[0]) || typeof answer[1] !== 'boolean') {
      this.#finish();
      throw new ProtocolError('the peer answered an iterate request with a malformed chunk');
    }
    if (!this.#opened) {
      this.#opened = true;
      const it: unknown = answer[2];
      if (it !== null && (typeof it === 'object' || typeof it === 'function')) this.#iterator = it;
    }
    this.#buffer = answer[0] as unknown[];
    this.#at = 0;
    if (answer[1]) {
      this.#finish();
      if (answer.length > 3) this.#error = { error: answer[3] };
    } else if (!this.#iterator) {
      this.#finish();
      throw new ProtocolError('the peer left an iteration unfinished without giving its iterator');
    }
  }

  async #return(): Promise<IteratorResult<unknown>> {
    this.#buffer = [];
    this.#at = 0;
    this.#error = undefined;
    if (this.#finished || !this.#opened) {
      this.#finish();
      return { value: undefined, done: true };
    }
    const iterator = this.#iterator!;
    this.#finished = true;
    try {
      await this.#step(iterator, IterateAction.CLOSE, 0);
    } catch (error) {
      // The connection is gone, and the remote iterator with it: nothing is left to close.
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      this.#finish();
    }
    return { value: undefined, done: true };
  }

  /** One ITERATE on `target` (with the source's per-call options), or the same done here on a local value. */
  #step(target: object, action: number, count: number): Promise<unknown> {
    const node = nodeOf(target);
    if (!node) return pullIterator(target, action, count, DEFAULT_PROTOCOL_CONFIG, undefined);
    const opts = nodeOf(this.#source)?.opts ?? node.opts;
    const request: Node = { session: node.session, base: node.base, path: node.path, opts, anchor: node.anchor };
    return Promise.resolve(node.session.request('iterate', request, [action, count]));
  }

  /** No more remote calls: release the iterator's netref, unless it is the very netref the loop was given. */
  #finish(): void {
    this.#finished = true;
    const iterator = this.#iterator;
    this.#iterator = undefined;
    if (!iterator || iterator === this.#source) return;
    const node = nodeOf(iterator);
    if (node && node.base.kind === 'ref' && node.path.length === 0) node.session.releaseNetref(iterator);
  }
}

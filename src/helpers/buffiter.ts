import { nodeOf, type ChunkOptions } from '../core/index.js';

/** Chunk sizes of `buffiter`: the first request asks for `chunk` items, each next one `factor` times more. */
export type BuffiterOptions = ChunkOptions;

/**
 * Iterates a remote iterable or iterator (a netref or a RemotePromise of one) with explicit chunk sizes:
 * `for await (const x of buffiter(remote.items(), { chunk: 100, maxChunk: 5000 }))`. The first request asks for
 * `chunk` items (default 1), each next one `factor` (default 2) times more, up to `maxChunk` (default 1000); a
 * plain `for await` over a netref uses those defaults. A local iterable is iterated as it is.
 *
 * Failures are those of the loop (see `for await` in the README): the remote iterator's error after the items
 * before it, TypeError for a value that is not iterable, ConnectionClosedError when the connection closes. Bad
 * options throw a RangeError at once.
 */
export function buffiter<T>(
  iterable: AsyncIterable<T> | Iterable<T>,
  options?: BuffiterOptions,
): AsyncIterableIterator<T> {
  const node = nodeOf(iterable);
  if (node) return node.session.iterate(iterable as object, options) as AsyncIterableIterator<T>;
  const local = iterable as Partial<AsyncIterable<T> & Iterable<T>> | null | undefined;
  if (typeof local?.[Symbol.asyncIterator] !== 'function' && typeof local?.[Symbol.iterator] !== 'function') {
    throw new TypeError('buffiter() takes a netref to a remote iterable, or an iterable');
  }
  return (async function* () {
    yield* iterable;
  })();
}

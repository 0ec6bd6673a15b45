import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A module that only some features need, loaded on the first call of the function returned (and the same object on
 * every call after). With `require`, synchronously, so the APIs using it keep their signatures. The first call throws
 * what `require` throws (say, a package that is not installed), and so does each later one until it loads.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}

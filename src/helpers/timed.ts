import { withOptions } from './callOptions.js';

/** The same netref, whose calls reject with TimeoutError after `ms` instead of `syncRequestTimeout`. */
export function timed<T>(netref: T, ms: number): T {
  if (typeof ms !== 'number' || !(ms > 0))
    throw new TypeError(`timed() needs a positive number of ms, got ${String(ms)}`);
  return withOptions(netref, 'timed', { timeout: ms });
}

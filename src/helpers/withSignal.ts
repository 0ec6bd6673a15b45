import { withOptions } from './callOptions.js';

/**
 * The same netref, whose calls stop waiting when `signal` aborts: they reject with the signal's reason, and the
 * callee's handler sees `currentCall().signal` abort.
 */
export function withSignal<T>(netref: T, signal: AbortSignal): T {
  if (!(signal instanceof AbortSignal)) throw new TypeError('withSignal() takes an AbortSignal');
  return withOptions(netref, 'withSignal', { signal });
}

import { withOptions } from './callOptions.js';

/**
 * The same netref, whose calls are sent without a reply: `oneway(remote).log('x')` resolves at once with
 * undefined. A failure of the call is logged on the callee side and never reaches the caller.
 */
export function oneway<T>(netref: T): T {
  return withOptions(netref, 'oneway', { oneway: true });
}

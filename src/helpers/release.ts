import { requireNode } from './callOptions.js';

/**
 * Releases a netref now instead of at garbage collection: the peer may free the object once no other netref to it
 * is held. Using the netref afterwards fails with a ReferenceError. Releasing twice is harmless; so is releasing
 * the root, which is never freed. Also available as `netref[Symbol.dispose]()` (`using x = ...`).
 */
export function release(netref: unknown): void {
  const node = requireNode(netref, 'release');
  node.session.releaseNetref(netref as object);
}

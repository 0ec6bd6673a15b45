import { makeNetref, nodeOf, type CallOptions, type Node } from '../core/index.js';

/** The node of a netref argument; throws a TypeError naming the helper when it is not one. */
export function requireNode(value: unknown, helper: string): Node {
  const node = nodeOf(value);
  if (!node) throw new TypeError(`${helper}() takes a netref, got ${value === null ? 'null' : typeof value}`);
  return node;
}

/** The same netref, with per-call options added (they carry over to attributes and results read through it). */
export function withOptions<T>(netref: T, helper: string, opts: CallOptions): T {
  const node = requireNode(netref, helper);
  return makeNetref({
    session: node.session,
    base: node.base,
    path: node.path,
    opts: { ...node.opts, ...opts },
    // keep the original alive: it holds the reference count
    anchor: node.anchor ?? (node.base.kind === 'ref' && node.path.length === 0 ? (netref as object) : undefined),
  }) as T;
}

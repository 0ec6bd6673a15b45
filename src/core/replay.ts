import { describeMembers } from './describeMembers.js';
import { label, nodeOf, type Node } from './netref.js';
import { DEFAULT_PROTOCOL_CONFIG } from './ProtocolConfig.js';
import { pullIterator } from './pullIterator.js';
import type { Op } from './Session.js';

/**
 * Does `op` on a netref whose base has settled here, the way plain JavaScript would: reading a netref's attribute
 * makes a path, calling it sends a request. `root` stands for a base that is the peer's root. Used for requests
 * that had to wait (their target or arguments were still pending), so it may find local values on the way.
 */
export async function replay(op: Op, node: Node, payload: unknown, root: unknown): Promise<unknown> {
  const base = node.base;
  let value: unknown;
  if (base.kind === 'answer') value = await base.call.promise;
  else if (base.kind === 'local') value = await base.promise;
  else value = root;
  const path = node.path;
  if (op === 'get' || op === 'copy' || op === 'iterate' || op === 'describe') {
    let v = value;
    for (const name of path) v = (v as Record<string, unknown>)[name];
    v = await v;
    // A copy of data that came by value is that data; `obtain` copies the netrefs it may still hold.
    if (op === 'get' || op === 'copy') return v;
    const vn = nodeOf(v);
    if (vn) return await vn.session.request(op, vn, payload);
    // The value is here already: do locally what the peer would have done (it is ours now, public rules apply).
    if (op === 'describe') return describeMembers(v, DEFAULT_PROTOCOL_CONFIG);
    const [action, count] = payload as [number, number];
    return await pullIterator(v, action, count, DEFAULT_PROTOCOL_CONFIG, undefined);
  }
  let holder: unknown = undefined;
  let v = value;
  for (let i = 0; i < path.length - 1; i++) v = (v as Record<string, unknown>)[path[i]!];
  if (path.length) {
    holder = v;
    v = (v as Record<string, unknown>)[path[path.length - 1]!];
  }
  if (op === 'call') {
    if (typeof v !== 'function') throw new TypeError(`${label(node)} is not a function`);
    return await Reflect.apply(v as (...a: unknown[]) => unknown, holder, payload as unknown[]);
  }
  const hn = nodeOf(holder);
  const name = path[path.length - 1]!;
  if (hn) {
    const next = { session: hn.session, base: hn.base, path: [...hn.path, name], opts: hn.opts, anchor: hn.anchor };
    return await hn.session.request(op, next, payload);
  }
  if (op === 'set') (holder as Record<string, unknown>)[name] = payload;
  else delete (holder as Record<string, unknown>)[name];
  return undefined;
}

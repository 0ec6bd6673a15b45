import { requireNode } from './callOptions.js';

/**
 * Sets `name` on the remote object to `value`. Resolves when done; rejects with AttributeError when the peer
 * refuses it (`allowSetAttr` is off there, or the name is never reachable).
 */
export async function setAttr(netref: unknown, name: string, value: unknown): Promise<void> {
  const node = requireNode(netref, 'setAttr');
  if (typeof name !== 'string') throw new TypeError('setAttr() takes an attribute name');
  await node.session.request(
    'set',
    { session: node.session, base: node.base, path: [...node.path, name], opts: node.opts, anchor: node.anchor },
    value,
  );
}

/** Deletes `name` on the remote object. Rejects with AttributeError when the peer refuses (`allowDelAttr`). */
export async function delAttr(netref: unknown, name: string): Promise<void> {
  const node = requireNode(netref, 'delAttr');
  if (typeof name !== 'string') throw new TypeError('delAttr() takes an attribute name');
  await node.session.request(
    'del',
    { session: node.session, base: node.base, path: [...node.path, name], opts: node.opts, anchor: node.anchor },
    null,
  );
}

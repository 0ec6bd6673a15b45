import { nodeOf } from '../core/index.js';

/** How deep netrefs inside copies are followed; a peer that answers copies with more netrefs is stopped here. */
const MAX_DEPTH = 128;

/**
 * A local deep copy of what `value` (a netref, a RemotePromise, or local data holding netrefs) stands for, the way
 * RPyC's `obtain` gives one: the remote end copies the object by value, in one round trip for the whole tree.
 * Plain objects, arrays, Maps, Sets, Dates, RegExps, Errors, typed arrays and ArrayBuffers are copied with their
 * contents. A class instance becomes a plain object of its own enumerable data properties that this end may read
 * (not its `_private` ones, unless the peer is classic); its methods, getters and `#private` fields stay behind.
 * Functions cannot be copied and stay netrefs. Shared objects are copied once per place they appear.
 *
 * Rejects with the remote error when the path is refused (AttributeError), a TypeError when the value is cyclic or
 * nested deeper than the peer's `maxDepth`, ConnectionClosedError when the connection closes, and a NetrefError
 * when the peer does not speak `copy`.
 */
export async function obtain<T = any>(value: unknown): Promise<T> {
  return (await obtainAt(value, 0)) as T;
}

async function obtainAt(value: unknown, depth: number): Promise<unknown> {
  if (depth > MAX_DEPTH) {
    throw new TypeError(`obtain(): the value is nested deeper than ${MAX_DEPTH} levels; is it cyclic?`);
  }
  const node = nodeOf(value);
  if (node) {
    if (node.base.kind === 'ref' && node.path.length === 0 && node.base.callable) return value; // a function
    const copy: unknown = await node.session.request('copy', node, null);
    // A copy holds no netrefs to data, unless it was made here from a value that had already arrived.
    return copyNested(copy, depth + 1);
  }
  return copyNested(value, depth);
}

/** Copies local data, obtaining the netrefs to data it holds. */
async function copyNested(value: unknown, depth: number): Promise<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (nodeOf(value)) return obtainAt(value, depth + 1);
  if (depth > MAX_DEPTH) {
    throw new TypeError(`obtain(): the value is nested deeper than ${MAX_DEPTH} levels; is it cyclic?`);
  }
  const next = depth + 1;
  if (Array.isArray(value)) return Promise.all(value.map((v) => copyNested(v, next)));
  if (value instanceof Map) {
    const entries = await Promise.all(
      [...value].map(async ([k, v]) => [await copyNested(k, next), await copyNested(v, next)] as const),
    );
    return new Map(entries);
  }
  if (value instanceof Set) return new Set(await Promise.all([...value].map((v) => copyNested(v, next))));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, {
      value: await copyNested((value as Record<string, unknown>)[key], next),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

import { accessCheck } from './accessCheck.js';
import { nodeOf } from './netref.js';
import type { ProtocolConfig } from './ProtocolConfig.js';
import { Service } from './Service.js';

/** One reachable name of a remote object, as `describe()` reports it. */
export interface MemberDescription {
  name: string;
  /** `method`: a function (a class counts); `getter`: an accessor (never run to describe it); `property`: data. */
  kind: 'method' | 'property' | 'getter';
  /** The function's `length` (declared parameters before the first default or rest one); methods only. */
  arity?: number;
  /** From the `static docs = { name: 'text' }` map of the object's class or one of its base classes. */
  doc?: string;
}

/** More names than any shell completes on; an object with more is described in part. */
const MAX_MEMBERS = 10_000;

/**
 * The names of `value` the peer may reach under `config`, each through the one access check, with their kind,
 * arity and doc string (callee side of DESCRIBE). Own names come first in the walk, then inherited ones, down to
 * (not including) `Object.prototype`, `Function.prototype` and `Service.prototype` unless `allowAllAttrs`, where
 * everything but the never-reachable names is listed. Array indices are left out. Sorted by name. Getters are not
 * run. A primitive has no members (`[]`); a netref of another connection is described by its owner.
 */
export function describeMembers(
  value: unknown,
  config: ProtocolConfig,
): MemberDescription[] | Promise<MemberDescription[]> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [];
  const node = nodeOf(value);
  if (node) return node.session.request('describe', node, null) as Promise<MemberDescription[]>;
  const seen = new Set<string>();
  const out: MemberDescription[] = [];
  const docs = docsOf(value);
  for (let p: object | null = value; p && out.length < MAX_MEMBERS; p = Object.getPrototypeOf(p)) {
    if (!config.allowAllAttrs && (p === Object.prototype || p === Function.prototype || p === Service.prototype)) {
      break;
    }
    for (const name of Object.getOwnPropertyNames(p)) {
      if (seen.has(name) || /^(0|[1-9]\d*)$/.test(name)) continue;
      seen.add(name);
      try {
        accessCheck(value, name, 'get', config);
        const d = Object.getOwnPropertyDescriptor(p, name)!;
        const member: MemberDescription = { name, kind: 'property' };
        if (d.get || d.set) member.kind = 'getter';
        else if (typeof d.value === 'function') {
          member.kind = 'method';
          const arity = (d.value as { length?: unknown }).length;
          if (typeof arity === 'number') member.arity = arity;
        }
        const doc = docs.get(name);
        if (doc !== undefined) member.doc = doc;
        out.push(member);
      } catch {
        // refused, or a proxy or binding that cannot be inspected: not reachable, so not described
      }
      if (out.length >= MAX_MEMBERS) break;
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The doc strings of `value`'s class and its base classes (`static docs`), the nearest class winning. */
function docsOf(value: object): Map<string, string> {
  const docs = new Map<string, string>();
  for (let p: object | null = Object.getPrototypeOf(value); p; p = Object.getPrototypeOf(p)) {
    if (p === Object.prototype || p === Function.prototype) break;
    const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown;
    if (typeof ctor !== 'function' || !Object.hasOwn(ctor, 'docs')) continue;
    const map = (ctor as { docs?: unknown }).docs;
    if (map === null || typeof map !== 'object') continue;
    for (const [name, text] of Object.entries(map)) {
      if (typeof text === 'string' && !docs.has(name)) docs.set(name, text);
    }
  }
  return docs;
}

import { AttributeError } from '../protocol/index.js';
import type { ProtocolConfig } from './ProtocolConfig.js';
import { Service } from './Service.js';
import { showValue } from './showValue.js';
import { nodeOf } from './netref.js';

/** What the peer wants to do with a name. `call` reads the name in order to call it with its holder as `this`. */
export type AccessOp = 'get' | 'call' | 'set' | 'del';

/**
 * Never reachable whatever the config, `allowAllAttrs` included: these lead to the constructor (and so to
 * `Function`, i.e. code execution) or rewrite prototypes.
 */
const NEVER = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

// Refused by name, not by where the property is found: an object that overrides `toString` or `call` still gets
// them refused, so a peer can never reach the generic built-ins through a look-alike.
// `name` and `length` are left out: harmless data that a class may well use for its own methods (a function's own
// `name`/`length` are non-enumerable and refused by the own-property rule below).
const BUILTIN_NAMES = new Set(
  [...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Function.prototype)].filter(
    (n) => n !== 'name' && n !== 'length',
  ),
);
// Lifecycle hooks netref itself calls on whatever object serves as a root, Service subclass or not: refused by name.
const SERVICE_NAMES = new Set(Object.getOwnPropertyNames(Service.prototype).filter((n) => n !== 'constructor'));

/** How an object is named in error messages: `a CalculatorService`, `function add`, `an object`. */
export function describeTarget(target: unknown): string {
  if (typeof target === 'function') return `function ${target.name || '(anonymous)'}`;
  if (target === null || typeof target !== 'object') return showValue(target);
  const proto = Object.getPrototypeOf(target);
  const cls = proto?.constructor?.name;
  if (!cls || proto === Object.prototype) return 'an object';
  return `${/^[AEIOU]/.test(cls) ? 'an' : 'a'} ${cls}`;
}

/**
 * The one exposure check (DESIGN §4). Every request that names an attribute passes through here before the name is
 * touched; it throws `AttributeError` (sent back to the caller) or returns, and the object is never reached on
 * refusal.
 *
 * Reachable without `allowAllAttrs`: methods and getters found on the prototype chain below `Object.prototype`,
 * `Function.prototype` and `Service.prototype`; own enumerable data properties when `allowPublicAttrs` is on.
 * Never reachable: names starting with `_`, the NEVER set, names of `Object.prototype`/`Function.prototype`
 * (unless an own enumerable data property — a plain `{ name, length }` is readable), Service lifecycle hooks.
 */
export function accessCheck(target: unknown, name: unknown, op: AccessOp, config: ProtocolConfig): void {
  if (typeof name !== 'string') {
    throw new AttributeError(`attribute names must be strings, got ${typeof name}`);
  }
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    throw new AttributeError(`cannot ${op} '${name}' on ${describeTarget(target)}: it is not an object`);
  }
  if (NEVER.has(name)) {
    throw new AttributeError(`'${name}' is not reachable on a netref (never exposed, whatever the config)`);
  }
  if (op === 'set' && !config.allowSetAttr && !config.allowAllAttrs) {
    throw new AttributeError(`setting '${name}' on ${describeTarget(target)} is refused: allowSetAttr is off`);
  }
  if (op === 'del' && !config.allowDelAttr && !config.allowAllAttrs) {
    throw new AttributeError(`deleting '${name}' on ${describeTarget(target)} is refused: allowDelAttr is off`);
  }
  if (config.allowAllAttrs) return;
  // A netref of another connection, forwarded: its owner applies its own rules to what we relay.
  if (nodeOf(target)) return;
  if (name.startsWith('_')) {
    throw new AttributeError(`'${name}' is not reachable on a netref (names starting with '_' are private)`);
  }
  if (SERVICE_NAMES.has(name)) {
    throw new AttributeError(`'${name}' is not reachable on a netref (Service lifecycle hooks are never exposed)`);
  }
  const own = Object.getOwnPropertyDescriptor(target, name);
  if (own) {
    if ('value' in own && (own.enumerable || op === 'set' || op === 'del')) {
      if (!config.allowPublicAttrs && op !== 'set' && op !== 'del') {
        throw new AttributeError(`'${name}' is a data attribute and allowPublicAttrs is off`);
      }
      return;
    }
    throw new AttributeError(
      `'${name}' is not reachable on ${describeTarget(target)} (only methods and own enumerable data properties are exposed)`,
    );
  }
  if (BUILTIN_NAMES.has(name)) {
    throw new AttributeError(
      `'${name}' is not reachable on a netref (names from Object.prototype and Function.prototype are never exposed)`,
    );
  }
  if (op === 'set' || op === 'del') return;
  if (!inheritsMethod(Object.getPrototypeOf(target), name)) {
    throw new AttributeError(`${describeTarget(target)} has no attribute '${name}'`);
  }
}

// Verdicts of the prototype walk, per prototype and name: the walk runs on every call, and classes rarely change.
// Only a positive verdict is cached, so a method added later is found; one deleted later is still refused by the
// call itself (it is no longer a function).
const methodCache = new WeakMap<object, Set<string>>();

/** True if a method or getter named `name` is on `proto`'s chain below the never-exposed prototypes. */
function inheritsMethod(proto: object | null, name: string): boolean {
  if (!proto) return false;
  const known = methodCache.get(proto);
  if (known?.has(name)) return true;
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p)) {
    if (p === Object.prototype || p === Function.prototype || p === Service.prototype) return false;
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (!d) continue;
    if (typeof d.value === 'function' || d.get) {
      if (known) known.add(name);
      else methodCache.set(proto, new Set([name]));
      return true;
    }
    return false;
  }
  return false;
}

/**
 * Reads the first `end` names of `path` (all by default) from `target`, checking each; returns the last value.
 * A step that yields a promise (an async getter, a lazy module) is awaited before the walk goes on, so the result
 * is then a promise too: a pipelined path reads the same as awaiting each step.
 */
export function readPath(
  target: unknown,
  path: readonly unknown[],
  config: ProtocolConfig,
  end = path.length,
  from = 0,
): unknown {
  let value = target;
  for (let i = from; i < end; i++) {
    const name = path[i];
    accessCheck(value, name, 'get', config);
    value = (value as Record<string, unknown>)[name as string];
    if (i + 1 < end && isThenable(value)) {
      return Promise.resolve(value).then((v) => readPath(v, path, config, end, i + 1));
    }
  }
  return value;
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** How an iterator opened by ITERATE yields: a sync iterator's values are awaited, as `for await` does. */
export type IteratorMode = 'sync' | 'async';

/**
 * The exposure rule for iteration (ITERATE, `for await` over a netref): the method that opens `target`'s iterator,
 * or undefined when it has none the peer may use. These well-known symbols are the only symbol-keyed members a
 * peer ever reaches, and only this way: an object that declares itself iterable with a method on its prototype
 * chain (below `Object.prototype`, `Function.prototype` and `Service.prototype`, like any reachable method) or an
 * own one can be iterated, which is what calling a `values()` method of it would give. A getter is never run here.
 * With `allowAllAttrs` any such method counts. A netref of another connection opens its own remote iteration.
 */
export function iteratorMethod(
  target: object,
  config: ProtocolConfig,
): { method: (...a: unknown[]) => unknown; mode: IteratorMode } | undefined {
  if (nodeOf(target)) {
    const method = (target as Record<symbol, unknown>)[Symbol.asyncIterator] as (...a: unknown[]) => unknown;
    return { method, mode: 'async' };
  }
  for (const [symbol, mode] of [
    [Symbol.asyncIterator, 'async'],
    [Symbol.iterator, 'sync'],
  ] as const) {
    for (let p: object | null = target; p; p = Object.getPrototypeOf(p)) {
      if (!config.allowAllAttrs && (p === Object.prototype || p === Function.prototype || p === Service.prototype)) {
        break;
      }
      const d = Object.getOwnPropertyDescriptor(p, symbol);
      if (!d) continue;
      if (typeof d.value === 'function') return { method: d.value as (...a: unknown[]) => unknown, mode };
      break; // a getter or a non-function shadows whatever is further up
    }
  }
  return undefined;
}

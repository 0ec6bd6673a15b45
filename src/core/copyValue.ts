import { accessCheck } from './accessCheck.js';
import { isMarkedByValue } from './marks.js';
import type { ProtocolConfig } from './ProtocolConfig.js';

/**
 * A deep copy of `value` made of what crosses by value (callee side of a GET with COPY, `obtain`; and `deliver`'s
 * local copy): plain objects, arrays, Maps and Sets are copied with their contents, and a class instance becomes a
 * plain object of its own enumerable data properties that `config` lets the peer read (never its `_private` ones,
 * unless `allowAllAttrs`). Its methods stay behind, as do `#private` fields and getters. Functions and netrefs are
 * left as they are (they cross by reference); Dates, RegExps, Errors, typed arrays and ArrayBuffers already cross
 * by value. Shared objects are copied once per place they appear. Throws a TypeError past `config.maxDepth`, which
 * is where a cyclic value ends.
 */
export function copyValue(value: unknown, config: ProtocolConfig, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > config.maxDepth) {
    throw new TypeError(`cannot copy a value nested deeper than maxDepth (${config.maxDepth}); is it cyclic?`);
  }
  const next = depth + 1;
  if (Array.isArray(value)) return value.map((v) => copyValue(v, config, next));
  if (value instanceof Map) {
    const map = new Map();
    for (const [k, v] of value) map.set(copyValue(k, config, next), copyValue(v, config, next));
    return map;
  }
  if (value instanceof Set) {
    const set = new Set();
    for (const v of value) set.add(copyValue(v, config, next));
    return set;
  }
  if (
    value instanceof Error ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value)
  ) {
    return value;
  }
  const proto = Object.getPrototypeOf(value);
  // Plain data crosses by value with all its keys anyway; only an instance's fields go through the access check.
  const plain = proto === Object.prototype || proto === null || isMarkedByValue(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let v: unknown;
    if (plain) v = (value as Record<string, unknown>)[key];
    else {
      try {
        accessCheck(value, key, 'get', config);
      } catch {
        continue;
      }
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (!d || !('value' in d)) continue;
      v = d.value;
    }
    Object.defineProperty(out, key, {
      value: copyValue(v, config, next),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

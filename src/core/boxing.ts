import { ProtocolError, Tag, Tagged } from '../protocol/index.js';
import { errorFromWire, errorToWire } from './errorCodec.js';
import type { ExportTable } from './ExportTable.js';
import { isMarkedByRef, isMarkedByValue } from './marks.js';
import { awaitNode, label, nodeOf, type Node, type OutCall } from './netref.js';

/** What boxing needs of a session. */
export interface BoxContext {
  readonly exports: ExportTable;
  readonly maxDepth: number;
  readonly includeStack: boolean;
  /** True if the peer will keep `call`'s answer for us (its request is unsent, or already marked KEEP). */
  keepAnswer(call: OutCall): boolean;
  /** The netref for the peer's export `id` (counts one received reference). */
  importRef(id: number, callable: boolean): object;
  /** The value of a PROMISE tag: one of our exports or kept answers, read at `path` through the access check. */
  resolvePromise(onAnswer: boolean, target: number, path: readonly string[]): Promise<unknown>;
}

/**
 * Values that must settle before a request can be encoded: netrefs of other connections still pending, or our own
 * answers the peer no longer keeps. The request waits for them and is then sent with their values.
 */
export type Deferred = Promise<unknown>[];

/**
 * Turns a value into what the codec carries (DESIGN §4): data is copied, functions and class instances become
 * references, netrefs of this connection go home, netrefs of another connection are forwarded. Throws a TypeError
 * naming what cannot be sent (a symbol, nesting past `maxDepth`).
 */
export function box(
  value: unknown,
  ctx: BoxContext,
  self: unknown,
  deferred: Deferred | null,
  depth = 0,
  inCollection = false,
): unknown {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return value;
    case 'symbol':
      throw new TypeError(`cannot send ${String(value)}: symbols do not cross a connection`);
  }
  if (value === null) return null;
  if (depth > ctx.maxDepth) {
    throw new TypeError(`cannot send a value nested deeper than maxDepth (${ctx.maxDepth}); is it cyclic?`);
  }
  const node = nodeOf(value);
  if (node) return boxNode(value as object, node, ctx, self, deferred, depth, inCollection);
  if (typeof value === 'function') return new Tagged(Tag.REMOTE, [ctx.exports.send(value), true]);
  const obj = value as object;
  if (isMarkedByRef(obj)) return new Tagged(Tag.REMOTE, [ctx.exports.send(obj), false]);
  if (Array.isArray(obj)) {
    // Encoding follows at once, so an array of primitives needs no copy (the common case: call arguments).
    if (allPrimitive(obj)) return obj;
    const out = new Array(obj.length);
    for (let i = 0; i < obj.length; i++) out[i] = box(obj[i], ctx, self, deferred, depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null || isMarkedByValue(obj)) {
    return boxFields(obj as Record<string, unknown>, ctx, self, deferred, depth);
  }
  if (obj instanceof Map) {
    const flat: unknown[] = [];
    for (const [k, v] of obj) {
      flat.push(box(k, ctx, self, deferred, depth + 1, true), box(v, ctx, self, deferred, depth + 1, true));
    }
    return new Tagged(Tag.MAP, flat);
  }
  if (obj instanceof Set) {
    const out = new Set();
    for (const v of obj) out.add(box(v, ctx, self, deferred, depth + 1, true));
    return out;
  }
  if (obj instanceof Error) {
    return errorToWire(obj, ctx.includeStack, (v) => box(v, ctx, self, null, depth + 1));
  }
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)) {
    return obj;
  }
  return new Tagged(Tag.REMOTE, [ctx.exports.send(obj), false]);
}

function allPrimitive(arr: unknown[]): boolean {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return false;
  }
  return true; // a hole reads as undefined, which is what the encoder writes for it
}

function boxFields(
  obj: Record<string, unknown>,
  ctx: BoxContext,
  self: unknown,
  deferred: Deferred | null,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const v = box(obj[key], ctx, self, deferred, depth + 1);
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

function boxNode(
  proxy: object,
  node: Node,
  ctx: BoxContext,
  self: unknown,
  deferred: Deferred | null,
  depth: number,
  inCollection: boolean,
): unknown {
  const settled =
    node.resolved ?? (node.base.kind === 'answer' && node.path.length === 0 ? node.base.call.settled : undefined);
  if (settled) {
    if (!settled.ok) throw settled.error;
    return box(settled.value, ctx, self, deferred, depth, inCollection);
  }
  const base = node.base;
  if (base.kind === 'ref' && node.path.length === 0) {
    if (node.session !== self) {
      // A netref of another connection: forward it; calls from our peer go through this end to its owner.
      return new Tagged(Tag.REMOTE, [ctx.exports.send(proxy), true]);
    }
    if (base.released) throw new TypeError('cannot send a netref that was released');
    return new Tagged(Tag.HOME, base.id);
  }
  // A PROMISE tag only where the receiver can wait for it: in a request's arguments, not inside a Map or Set.
  if (node.session === self && deferred && !inCollection) {
    if (base.kind === 'ref') return new Tagged(Tag.PROMISE, [false, base.id, node.path]);
    if (base.kind === 'answer' && ctx.keepAnswer(base.call)) {
      return new Tagged(Tag.PROMISE, [true, base.call.seq, node.path]);
    }
  }
  if (!deferred) throw new TypeError(`cannot send the pending remote value ${label(node)} here: await it first`);
  deferred.push(awaitNode(node));
  return null;
}

/**
 * Turns a decoded value back into values and netrefs. Nothing in it is trusted: anything but the value table's
 * types, an unknown tag, a reference the peer does not hold or nesting past `maxDepth` throws ProtocolError (the
 * connection closes). PROMISE tags become values once `waits` settle; where `waits` is null they are refused.
 */
export function unbox(value: unknown, ctx: BoxContext, waits: Promise<unknown>[] | null, depth: number): unknown {
  if (value === null || typeof value !== 'object') {
    // Decoded data never holds a function; msgpackr's own Error extension can be steered into returning its table
    // of Error constructors (name 'valueOf'), so this is a real check, not a formality.
    if (typeof value === 'function') throw new ProtocolError('a decoded value holds a function');
    return value;
  }
  if (depth > ctx.maxDepth) throw new ProtocolError(`a decoded value nests deeper than maxDepth (${ctx.maxDepth})`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      value[i] = unboxSlot(value as unknown as Record<number, unknown>, i, value[i], ctx, waits, depth + 1);
    return value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) obj[key] = unboxSlot(obj, key, obj[key], ctx, waits, depth + 1);
    return obj;
  }
  if (value instanceof Tagged) return unboxTagged(value, ctx, depth);
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(unbox(v, ctx, null, depth + 1));
    return out;
  }
  if (value instanceof Date || value instanceof RegExp || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return value;
  }
  throw new ProtocolError(`a decoded value has an unexpected type (${proto?.constructor?.name ?? 'null prototype'})`);
}

function unboxSlot(
  holder: Record<string | number, unknown>,
  key: string | number,
  value: unknown,
  ctx: BoxContext,
  waits: Promise<unknown>[] | null,
  depth: number,
): unknown {
  if (value instanceof Tagged && value.tag === Tag.PROMISE) {
    if (!waits) throw new ProtocolError('a promise reference is not allowed here');
    const [onAnswer, target, path] = checkPromiseTag(value.value);
    const wait = ctx.resolvePromise(onAnswer, target, path).then((v) => (holder[key] = v));
    // Awaited when the request runs; a request refused before that (or a closed connection) never awaits it.
    wait.catch(() => {});
    waits.push(wait);
    return undefined;
  }
  return unbox(value, ctx, waits, depth);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkPromiseTag(v: unknown): [boolean, number, string[]] {
  if (
    Array.isArray(v) &&
    v.length === 3 &&
    typeof v[0] === 'boolean' &&
    isId(v[1]) &&
    Array.isArray(v[2]) &&
    v[2].every((n) => typeof n === 'string')
  ) {
    return v as [boolean, number, string[]];
  }
  throw new ProtocolError('malformed promise reference');
}

function unboxTagged(t: Tagged, ctx: BoxContext, depth: number): unknown {
  const v = t.value;
  switch (t.tag) {
    case Tag.REMOTE:
      if (!Array.isArray(v) || v.length !== 2 || !isId(v[0]) || typeof v[1] !== 'boolean') {
        throw new ProtocolError('malformed remote reference');
      }
      return ctx.importRef(v[0], v[1]);
    case Tag.HOME:
      if (!isId(v)) throw new ProtocolError('malformed home reference');
      return ctx.exports.get(v);
    case Tag.MAP: {
      if (!Array.isArray(v) || v.length % 2 !== 0) throw new ProtocolError('malformed Map');
      const map = new Map();
      for (let i = 0; i < v.length; i += 2)
        map.set(unbox(v[i], ctx, null, depth + 1), unbox(v[i + 1], ctx, null, depth + 1));
      return map;
    }
    case Tag.ERROR: {
      const error = errorFromWire(unbox(v, ctx, null, depth + 1));
      if (!error) throw new ProtocolError('malformed Error');
      return error;
    }
    default:
      throw new ProtocolError(`unknown value tag ${t.tag}`);
  }
}

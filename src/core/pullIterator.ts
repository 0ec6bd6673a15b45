import { AttributeError, IterateAction, ProtocolError } from '../protocol/index.js';
import { accessCheck, describeTarget, isThenable, iteratorMethod, type IteratorMode } from './accessCheck.js';
import { byRef } from './marks.js';
import type { OpenIterators } from './OpenIterators.js';
import type { ProtocolConfig } from './ProtocolConfig.js';

/**
 * The answer to an ITERATE: `[items, done, iterator, error?]`. `iterator` is the opened iterator (sent by
 * reference) when an OPEN left it unfinished, else null; `error` is what the iterator threw after yielding `items`.
 */
export type Chunk = [unknown[], boolean, object | null] | [unknown[], true, null, unknown];

/** How each opened iterator yields (a sync iterator's values are awaited). */
const modes = new WeakMap<object, IteratorMode>();
/**
 * The outstanding `next()` of an async iterator. One that had not settled when its chunk was answered stays here and
 * starts the next chunk.
 */
const pending = new WeakMap<object, Promise<unknown>>();
/** What the race against the end of a chunk's first turn settles with when the turn ended first. */
const LATER = Symbol('later');

/**
 * Does what an ITERATE asks of `value` (callee side, and locally for values that are already here): OPEN its
 * iterator and pull up to `count` items, pull up to `count` more (NEXT), or CLOSE it. Every method it calls passes
 * the access check: the iterator's `next` and `return` as calls, the opening method by `iteratorMethod`.
 *
 * A chunk ends early, with fewer items, when an async iterator's next item is not ready within the turn of the
 * event loop in which the chunk's first item arrived: a live stream delivers each event at once rather than waiting for a full chunk.
 * An iterator that throws after yielding some items answers them with the error (the caller throws it after the
 * items); one that throws before any rejects (an ERROR reply). Rejects with TypeError for a value that is not
 * iterable, AttributeError for a refused method, ProtocolError for a malformed request.
 */
export async function pullIterator(
  value: unknown,
  action: unknown,
  count: unknown,
  config: ProtocolConfig,
  open: OpenIterators | undefined,
): Promise<Chunk> {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new ProtocolError(`an iterate request asks for an invalid count ${String(count)}`);
  }
  switch (action) {
    case IterateAction.OPEN: {
      const [iterator, mode] = openIterator(value, config);
      modes.set(iterator, mode);
      open?.add(iterator);
      const chunk = await take(iterator, count, config, open);
      if (chunk[1]) return chunk;
      // A plain-object iterator would otherwise be copied; the caller needs a reference to pull more.
      const proto = Object.getPrototypeOf(iterator);
      return [chunk[0], false, proto === Object.prototype || proto === null ? byRef(iterator) : iterator];
    }
    case IterateAction.NEXT:
      if (value === null || typeof value !== 'object') {
        throw new TypeError(`${describeTarget(value)} is not an iterator`);
      }
      return take(value, count, config, open);
    case IterateAction.CLOSE:
      if (value === null || typeof value !== 'object') return [[], true, null];
      await close(value, config, open);
      return [[], true, null];
    default:
      throw new ProtocolError(`an iterate request has an unknown action ${String(action)}`);
  }
}

function openIterator(value: unknown, config: ProtocolConfig): [object, IteratorMode] {
  if (typeof value === 'string') return [value[Symbol.iterator](), 'sync'];
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    throw new TypeError(`${describeTarget(value)} is not iterable`);
  }
  const opener = iteratorMethod(value, config);
  if (!opener) {
    // An iterator without Symbol.iterator (a bare `{ next }`) is its own iterator, if its `next` is reachable.
    try {
      accessCheck(value, 'next', 'call', config);
    } catch {
      throw new TypeError(
        `${describeTarget(value)} is not iterable (it has no reachable Symbol.asyncIterator, Symbol.iterator or next method)`,
      );
    }
    return [value, 'async'];
  }
  const iterator = Reflect.apply(opener.method, value, []);
  if (iterator === null || typeof iterator !== 'object') {
    throw new TypeError(`the iterator method of ${describeTarget(value)} did not return an object`);
  }
  return [iterator, opener.mode];
}

async function take(
  iterator: object,
  count: number,
  config: ProtocolConfig,
  open: OpenIterators | undefined,
): Promise<Chunk> {
  accessCheck(iterator, 'next', 'call', config);
  const next = (iterator as { next?: unknown }).next;
  if (typeof next !== 'function') throw new TypeError(`${describeTarget(iterator)} has no next method`);
  const sync = modes.get(iterator) === 'sync';
  const items: unknown[] = [];
  let turnOver: Promise<typeof LATER> | undefined;
  try {
    while (items.length < count) {
      let result: unknown = pending.get(iterator);
      if (result === undefined) {
        result = Reflect.apply(next, iterator, []) as unknown;
        if (isThenable(result)) {
          // Recorded while outstanding: a CLOSE must not wait behind it, and a chunk that ends first hands it on.
          const p = Promise.resolve(result);
          p.catch(() => {}); // its outcome is read below, or by the next chunk
          pending.set(iterator, p);
          result = p;
        }
      }
      if (items.length > 0 && isThenable(result)) {
        turnOver ??= new Promise((resolve) => setImmediate(() => resolve(LATER)));
        if ((await Promise.race([result, turnOver])) === LATER) break; // the next chunk starts with it
      }
      let step: unknown;
      try {
        step = await result;
      } finally {
        if (pending.get(iterator) === result) pending.delete(iterator);
      }
      if (step === null || typeof step !== 'object') {
        throw new TypeError(`the iterator result ${String(step)} is not an object`);
      }
      if ((step as IteratorResult<unknown>).done) {
        forget(iterator, open);
        return [items, true, null];
      }
      const item = (step as IteratorResult<unknown>).value;
      items.push(sync && isThenable(item) ? await item : item);
    }
  } catch (error) {
    forget(iterator, open);
    if (items.length === 0) throw error;
    return [items, true, null, error];
  }
  return [items, false, null];
}

async function close(iterator: object, config: ProtocolConfig, open: OpenIterators | undefined): Promise<void> {
  const waiting = pending.get(iterator);
  forget(iterator, open);
  try {
    accessCheck(iterator, 'return', 'call', config);
  } catch (error) {
    if (error instanceof AttributeError) return; // `return` is optional in the iterator protocol
    throw error;
  }
  const ret = (iterator as { return?: unknown }).return;
  if (typeof ret !== 'function') return;
  const done = Promise.resolve(Reflect.apply(ret, iterator, []));
  // With a `next()` outstanding, an async generator runs `return()` only after it: answer now, not then.
  if (waiting) done.catch(() => {});
  else await done;
}

function forget(iterator: object, open: OpenIterators | undefined): void {
  pending.delete(iterator);
  open?.delete(iterator);
}

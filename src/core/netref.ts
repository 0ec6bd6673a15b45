import { inspect } from 'node:util';
import type { Session } from './Session.js';

/** Per-call options carried by a netref made with `timed`, `withSignal` or `oneway`. */
export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal;
  oneway?: boolean;
}

/** A request of ours, as the netref of its result sees it. */
export interface OutCall {
  readonly seq: number;
  readonly promise: Promise<unknown>;
  /** Set once the reply arrived. */
  settled: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
}

/**
 * What a netref stands for:
 * - `ref`: an object the peer exported to us (`id` in its export table);
 * - `answer`: the eventual result of one of our requests, usable as a target before it arrives (pipelining);
 * - `local`: an eventual value known only here (a request that had to wait for its arguments).
 */
export type Base =
  | { kind: 'ref'; id: number; callable: boolean; released: boolean }
  | { kind: 'answer'; call: OutCall }
  | { kind: 'local'; promise: Promise<unknown> };

export interface Node {
  session: Session;
  /** Proxies of attribute paths read off a resolved netref, reused (`root.add` is the same proxy every time). */
  children?: Map<string, object>;
  base: Base;
  /** Lazy attribute path from the base; nothing is sent until the node is awaited or called. */
  path: readonly string[];
  opts: CallOptions | undefined;
  /** Keeps the root netref of a path alive (and so its reference counted) while the path is in use. */
  anchor: object | undefined;
  /** The settled value of awaiting this node, once known. */
  resolved?: { ok: true; value: unknown } | { ok: false; error: unknown };
  awaited?: Promise<unknown>;
}

// The node and proxy live on the proxy's target, which no one else ever sees (the traps never expose it). This is
// much cheaper per netref than WeakMaps: a netref is made for every call.
const NODE = Symbol('netref.node');
const PROXY = Symbol('netref.proxy');
interface Target {
  (): void;
  [NODE]: Node;
  [PROXY]: object;
}

/** Children cached per resolved netref; past this many names, paths are made afresh. */
const MAX_CHILDREN = 256;

/** The node behind a netref proxy, or undefined for anything else. */
export function nodeOf(value: unknown): Node | undefined {
  if (typeof value !== 'function') return undefined; // every netref is callable
  const n = (value as unknown as Record<symbol, unknown>)[NODE] as Record<symbol, unknown> | undefined;
  // Guards against a foreign Proxy that answers every key: only nodes made here carry the mark.
  return typeof n === 'object' && n !== null && n[MARK] === true ? (n as unknown as Node) : undefined;
}
const MARK = Symbol('netref.mark');

/** True for a netref or a RemotePromise. */
export function isNetref(value: unknown): boolean {
  return nodeOf(value) !== undefined;
}

/** A resolved netref awaits to nothing; everything else (a path, an answer) is thenable. */
export function isAwaitable(node: Node): boolean {
  return node.base.kind !== 'ref' || node.path.length > 0;
}

/** How a netref prints: `[netref #3.a.b]`, `[RemotePromise #7]`. */
export function label(node: Node): string {
  const b = node.base;
  const head =
    b.kind === 'ref' ? `netref #${b.id}` : b.kind === 'answer' ? `RemotePromise #${b.call.seq}` : 'RemotePromise';
  const tail = node.path.length ? '.' + node.path.join('.') : '';
  const dead = b.kind === 'ref' && b.released ? ' (released)' : '';
  return `[${head}${tail}${dead}]`;
}

/** Settles a node's value, once: a GET for a path, the reply for an answer. */
export function awaitNode(node: Node): Promise<unknown> {
  // An answer already tracks its outcome (call.settled); only paths and local values need it recorded here.
  if (node.base.kind === 'answer' && node.path.length === 0) return node.base.call.promise;
  if (!node.awaited) {
    const p = node.session.resolveNode(node);
    node.awaited = p;
    p.then(
      (value) => (node.resolved = { ok: true, value }),
      (error) => (node.resolved = { ok: false, error }),
    );
  }
  return node.awaited;
}

function inspectNetref(this: Target): string {
  return label(this[NODE]);
}

const handler: ProxyHandler<Target> = {
  get(target, name) {
    const node = target[NODE];
    if (typeof name === 'symbol') {
      if (name === NODE) return node;
      if (name === Symbol.toPrimitive || name === inspect.custom) return () => label(node);
      if (name === Symbol.toStringTag) return 'Netref';
      if (name === Symbol.dispose) return () => node.session.releaseNetref(target[PROXY]);
      // `for await (const x of netref)`: iterated on the remote end, fetched in chunks (RemoteIterator).
      if (name === Symbol.asyncIterator) return () => node.session.iterate(target[PROXY]);
      return undefined;
    }
    if (isAwaitable(node)) {
      if (name === 'then') return (f?: any, r?: any) => awaitNode(node).then(f, r);
      if (name === 'catch') return (r?: any) => awaitNode(node).catch(r);
      if (name === 'finally') return (f?: any) => awaitNode(node).finally(f);
    } else if (name === 'then') {
      // Not thenable: a resolved netref can be returned from async functions and stored in promises.
      return undefined;
    }
    if (name === 'toString') return () => label(node);
    // A path on an answer is there to be pipelined on it, often by a request made only in a later microtask (`await`,
    // Promise.all): marked now, while the answer's request is surely still unsent, a burst split (Session.request)
    // cannot send it first without the mark.
    if (node.base.kind === 'answer' && !node.base.call.settled) node.session.keepAnswer(node.base.call);
    const resolvedRef = node.path.length === 0 && node.base.kind === 'ref';
    if (resolvedRef) {
      const cached = node.children?.get(name);
      if (cached) return cached;
    }
    const child = makeNetref({
      session: node.session,
      base: node.base,
      path: [...node.path, name],
      opts: node.opts,
      anchor: node.anchor ?? (resolvedRef ? target[PROXY] : undefined),
    });
    if (resolvedRef) {
      node.children ??= new Map();
      if (node.children.size < MAX_CHILDREN) node.children.set(name, child);
    }
    return child;
  },
  apply(target, _this, args) {
    const node = target[NODE];
    return node.session.request('call', node, args);
  },
  set(target, name) {
    const node = target[NODE];
    throw new TypeError(
      `cannot assign ${label(node)}.${String(name)} directly: a remote write must be awaited; use await setAttr(netref, ${JSON.stringify(String(name))}, value)`,
    );
  },
  deleteProperty(target, name) {
    const node = target[NODE];
    throw new TypeError(
      `cannot delete ${label(node)}.${String(name)} directly: use await delAttr(netref, ${JSON.stringify(String(name))})`,
    );
  },
  defineProperty() {
    throw new TypeError('cannot define properties on a netref; use setAttr');
  },
  has() {
    return false;
  },
};

/** Makes the proxy for a node. The target is an arrow function so the proxy is callable and has no `prototype`. */
export function makeNetref(node: Node): any {
  const target = (() => {}) as Target;
  target[NODE] = node;
  // util.inspect looks at a proxy's target, not through its traps: give the target the label.
  (target as unknown as Record<symbol, unknown>)[inspect.custom] = inspectNetref;
  const proxy = new Proxy(target, handler);
  target[PROXY] = proxy;
  (node as unknown as Record<symbol, boolean>)[MARK] = true;
  return proxy;
}

type AnyFn = (...args: any[]) => any;

/** Types that cross by value even though they are objects (DESIGN §4). */
type ByValueBuiltin =
  Date | RegExp | Map<any, any> | Set<any> | ArrayBuffer | ArrayBufferView | Error | readonly unknown[];

/** Names a netref never reaches: private names, the constructor, Service lifecycle hooks. */
type Hidden = `_${string}` | 'constructor' | 'onConnect' | 'onDisconnect';

type HasMethods<T> = { [K in keyof T]-?: T[K] extends AnyFn ? K : never }[keyof T] extends never ? false : true;

/**
 * What awaiting a remote value of type T gives: data arrives as a copy (T itself); functions and objects with
 * methods (class instances, services) arrive as netrefs (`Remote<T>`).
 */
export type Resolved<T> = T extends AnyFn
  ? Remote<T>
  : T extends ByValueBuiltin
    ? T
    : T extends object
      ? HasMethods<T> extends true
        ? Remote<T>
        : T
      : T;

/**
 * An argument may be a local value, a netref, or a RemotePromise of one (pipelined). A callback parameter stays as
 * declared, so an inline arrow function keeps its contextual types.
 */
type RemoteArg<P> = P extends AnyFn ? P : P extends object ? P | Remote<P> | RemotePromise<P> : P | RemotePromise<P>;
type RemoteArgs<A extends readonly unknown[]> = { [I in keyof A]: RemoteArg<A[I]> };

type RemoteMethod<F> = F extends (...args: infer A) => infer R
  ? (...args: RemoteArgs<A>) => RemotePromise<Awaited<R>>
  : never;

type Members<T> = {
  readonly [K in keyof T as K extends string ? (K extends Hidden ? never : K) : never]: T[K] extends AnyFn
    ? RemoteMethod<T[K]>
    : RemotePromise<T[K]>;
};

/** The items of an iterable or iterator type (never for anything else; strings are left out on purpose). */
type Items<T> = T extends string
  ? never
  : T extends Iterable<infer X> | AsyncIterable<infer X>
    ? X
    : T extends Iterator<infer X> | AsyncIterator<infer X>
      ? X
      : never;

/** A remote iterable or iterator can be iterated with `for await`; each item arrives as it would be returned. */
type RemoteIteration<T> = [Items<T>] extends [never] ? unknown : AsyncIterable<Resolved<Items<T>>>;

/**
 * A netref to a T that lives on the other end: every method returns a RemotePromise, every property read is
 * awaitable (a RemotePromise of its value), and whatever a member returns can be used before it resolves.
 * Private (`_x`) names and Service hooks are absent, as they are unreachable. A remote iterable or iterator (and
 * so a RemotePromise of one) is an `AsyncIterable` of its items: `for await (const x of remote.items())`.
 */
export type Remote<T> = (T extends AnyFn ? RemoteMethod<T> : unknown) &
  (T extends ByValueBuiltin ? unknown : T extends object ? Members<T> : unknown) &
  RemoteIteration<T>;

/**
 * The result of a remote call or attribute read: a Promise of the value, and at the same time a target for more
 * calls and reads before it resolves (pipelining). `await root.getUser(1).profile.name` is one round trip.
 */
export type RemotePromise<T> = Promise<Resolved<T>> & Remote<T>;

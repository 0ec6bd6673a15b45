/**
 * Every message is a msgpack array whose first element is one of these. The layout of each kind is given beside it
 * and in docs/PROTOCOL.md; this is the one place that knows the numbers.
 */
export const MessageKind = {
  // requests: [kind, flags, seq, target, path, payload]
  /** Call the function at `path` on `target` with `payload` (an array of arguments). */
  CALL: 1,
  /** Read the value at `path` on `target`. `payload` is null. */
  GET: 2,
  /** Set the last name of `path` on the object at the rest of it to `payload`. */
  SET: 3,
  /** Delete the last name of `path` on the object at the rest of it. `payload` is null. */
  DEL: 4,
  /** Look up the object published under the name `path[0]`. `target` is 0, `payload` null. */
  LOOKUP: 5,
  /** List the reachable names of the value at `path`, with their kind, arity and doc string. `payload` is null. */
  DESCRIBE: 6,
  /**
   * Iterate the value at `path`: `payload` is `[action, count]` (see IterateAction). Answers
   * `[items, done, iterator, error?]`.
   */
  ITERATE: 7,
  // replies: [kind, seq, value]
  RESULT: 8,
  ERROR: 9,
  // control
  /** [16, [id, count, id, count, ...]]: the sender dropped `count` references to each of our exports. */
  RELEASE: 16,
  /** [17, [seq, ...]]: the kept answers (see Flags.KEEP) of these requests are no longer needed. */
  FINISH: 17,
  /** [18, seq]: the caller stopped waiting for request `seq`; its handler's signal aborts. */
  CANCEL: 18,
  /** [19, seq]: answer with PONG. */
  PING: 19,
  /** [20, seq, time]: `time` is the responder's wall clock (ms since the epoch, fractional). */
  PONG: 20,
  /** [21, reason]: the sender is closing the connection on purpose. */
  GOODBYE: 21,
} as const;

export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** Bits of a request's `flags`. */
export const Flags = {
  /** `target` is the seq of an earlier request of ours (pipelining), not an export id. */
  ON_ANSWER: 1,
  /** Keep this request's answer: later requests will target it (pipelining). Drop on FINISH. */
  KEEP: 2,
  /** Do not reply (oneway). Errors are logged on the callee. */
  ONEWAY: 4,
  /** GET only: answer with a deep copy of the value (class instances become plain data; `obtain`). */
  COPY: 8,
} as const;

/** The first element of an ITERATE payload. */
export const IterateAction = {
  /** Open the value's iterator (`Symbol.asyncIterator`, `Symbol.iterator`, or the value itself if it has `next`). */
  OPEN: 0,
  /** Pull more items from the target, an iterator an earlier OPEN answered. */
  NEXT: 1,
  /** Close the target iterator early: call its `return()`. */
  CLOSE: 2,
} as const;

/** The most items one ITERATE may ask for. */
export const MAX_ITERATE_COUNT = 65536;

/** Index of the flags byte in an encoded request frame: 0x96 (fixarray 6), kind (fixint), flags (fixint). */
export const FLAGS_OFFSET = 2;

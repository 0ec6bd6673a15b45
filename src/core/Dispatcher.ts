import {
  AttributeError,
  ConnectionClosedError,
  Flags,
  IterateAction,
  MAX_ITERATE_COUNT,
  MessageKind,
  ProtocolError,
} from '../protocol/index.js';
import { accessCheck, describeTarget, isThenable, readPath } from './accessCheck.js';
import { unbox } from './boxing.js';
import { showValue } from './showValue.js';
import { copyValue } from './copyValue.js';
import { CallContext, callStorage } from './currentCall.js';
import { describeMembers } from './describeMembers.js';
import { pullIterator } from './pullIterator.js';
import type { Session } from './Session.js';

/** A request of the peer's, checked for shape: [kind, flags, seq, target, path, payload]. */
export type Request = [number, number, number, number, string[], unknown];

const MAX_PATH = 64;

/** Checks an untrusted decoded request; throws ProtocolError naming what is wrong. */
export function checkRequest(msg: unknown[]): Request {
  if (msg.length !== 6) throw new ProtocolError(`a request has ${msg.length} fields, expected 6`);
  const [kind, flags, seq, target, path] = msg;
  if (
    typeof flags !== 'number' ||
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 15 ||
    ((flags & Flags.COPY) !== 0 && kind !== MessageKind.GET)
  ) {
    throw new ProtocolError(`a request has invalid flags ${showValue(flags)}`);
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ProtocolError(`a request has an invalid sequence number ${showValue(seq)}`);
  }
  if (typeof target !== 'number' || !Number.isSafeInteger(target) || target < 0) {
    throw new ProtocolError(`a request has an invalid target ${showValue(target)}`);
  }
  if (!Array.isArray(path) || path.length > MAX_PATH || !path.every((n) => typeof n === 'string')) {
    throw new ProtocolError('a request has an invalid attribute path');
  }
  return msg as Request;
}

/** Does what a request asks of `target`, through the access check. May return a promise. */
function perform(
  session: Session,
  kind: number,
  flags: number,
  target: unknown,
  path: string[],
  payload: unknown,
): unknown {
  const config = session.config;
  switch (kind) {
    case MessageKind.CALL: {
      const args = payload as unknown[];
      if (path.length === 0) {
        if (typeof target !== 'function') throw new TypeError(`${describeTarget(target)} is not callable`);
        return Reflect.apply(target as (...a: unknown[]) => unknown, undefined, args);
      }
      const name = path[path.length - 1]!;
      return onHolder(readPath(target, path, config, path.length - 1), (holder) => {
        accessCheck(holder, name, 'call', config);
        const fn = (holder as Record<string, unknown>)[name];
        if (typeof fn !== 'function') throw new TypeError(`'${name}' of ${describeTarget(holder)} is not a function`);
        return Reflect.apply(fn, holder, args);
      });
    }
    case MessageKind.GET:
      if (flags & Flags.COPY) return onHolder(readPath(target, path, config), (v) => copyValue(v, config));
      return readPath(target, path, config);
    case MessageKind.DESCRIBE:
      return onHolder(readPath(target, path, config), (v) => describeMembers(v, config));
    case MessageKind.ITERATE: {
      const [action, count] = payload as [number, number];
      return onHolder(readPath(target, path, config), (v) =>
        pullIterator(v, action, count, config, session.openIterators),
      );
    }
    case MessageKind.SET:
    case MessageKind.DEL: {
      if (path.length === 0) throw new AttributeError('no attribute name given');
      const name = path[path.length - 1]!;
      return onHolder(readPath(target, path, config, path.length - 1), (holder) => {
        accessCheck(holder, name, kind === MessageKind.SET ? 'set' : 'del', config);
        if (kind === MessageKind.SET) (holder as Record<string, unknown>)[name] = payload;
        else delete (holder as Record<string, unknown>)[name];
        return undefined;
      });
    }
    case MessageKind.LOOKUP:
      return session.published(path[0]!);
    default:
      throw new ProtocolError(`unknown request kind ${kind}`);
  }
}

/** Applies `then` to a holder at once, or once it resolves when a step of its path was a promise. */
function onHolder(holder: unknown, then: (holder: unknown) => unknown): unknown {
  return isThenable(holder) ? Promise.resolve(holder).then(then) : then(holder);
}

/** A request of the peer's, unboxed and with its target found at receipt, waiting for its turn to run. */
export interface Job {
  kind: number;
  flags: number;
  seq: number;
  path: string[];
  args: unknown;
  /** The target object, or the kept answer it pipelines on. */
  target: unknown;
  onAnswer: boolean;
  waits: Promise<unknown>[];
  ctx: CallContext;
  /** Settles the kept answer of this request (KEEP), if the peer asked for one. */
  keep: ((ok: boolean, value: unknown) => void) | undefined;
}

/**
 * Takes in a request at receipt, in wire order: unboxes its arguments (references are resolved now, so a RELEASE or
 * FINISH read after it cannot pull them away while it waits for its turn), finds its target, and registers its
 * kept answer. Throws ProtocolError for violations (the session closes the connection).
 */
export function prepare(session: Session, req: Request): Job {
  const [kind, flags, seq, target, path, payload] = req;
  const waits: Promise<unknown>[] = [];
  let args: unknown;
  if (kind === MessageKind.CALL) {
    if (!Array.isArray(payload)) throw new ProtocolError('a call carries an array of arguments');
    args = unbox(payload, session, waits, -1);
  } else if (kind === MessageKind.SET) {
    const holder = [payload];
    unbox(holder, session, waits, -1);
    args = holder;
  } else if (kind === MessageKind.ITERATE) {
    if (
      !Array.isArray(payload) ||
      payload.length !== 2 ||
      !Object.values(IterateAction).includes(payload[0]) ||
      !Number.isInteger(payload[1]) ||
      payload[1] < 0 ||
      payload[1] > MAX_ITERATE_COUNT
    ) {
      throw new ProtocolError(
        `an iterate request carries [action, count]: action 0, 1 or 2, count at most ${MAX_ITERATE_COUNT}`,
      );
    }
    args = payload;
  } else if (payload !== null && payload !== undefined) {
    throw new ProtocolError('this request carries no payload');
  }
  if (kind === MessageKind.LOOKUP && path.length !== 1) throw new ProtocolError('a lookup names exactly one object');
  const onAnswer = (flags & Flags.ON_ANSWER) !== 0;
  const base = onAnswer ? session.keptAnswer(target) : session.exports.get(target);
  const ctx = new CallContext(session.connection);
  session.receiveRequest(seq, ctx);
  const keep = flags & Flags.KEEP ? session.keepAnswerOf(seq) : undefined;
  return { kind, flags, seq, path, args, target: base, onAnswer, waits, ctx, keep };
}

/**
 * Runs a prepared request (callee side) under `currentCall()` and replies. A synchronous handler is answered
 * without an extra turn of the event loop; pipelined targets and promise arguments are awaited first.
 */
export function run(session: Session, job: Job): void {
  const { kind, path, ctx } = job;
  session.startRequest();
  const perform_ = (t: unknown): unknown =>
    callStorage.run(
      ctx,
      perform,
      session,
      kind,
      job.flags,
      t,
      path,
      kind === MessageKind.SET ? (job.args as unknown[])[0] : job.args,
    );

  let outcome: unknown;
  if (!job.onAnswer && job.waits.length === 0) {
    try {
      outcome = perform_(job.target);
    } catch (error) {
      settle(session, job, false, error);
      return;
    }
    if (!isThenable(outcome)) {
      settle(session, job, true, outcome);
      return;
    }
  } else {
    const target = job.waits.length ? Promise.all(job.waits).then(() => job.target) : job.target;
    outcome = Promise.resolve(target).then(perform_);
  }
  Promise.resolve(outcome).then(
    (value) => settle(session, job, true, value),
    (error) => settle(session, job, false, error),
  );
}

function settle(session: Session, job: Job, ok: boolean, value: unknown): void {
  const { seq, flags } = job;
  session.endRequest(seq, job.ctx);
  job.keep?.(ok, value);
  if (session.isClosed) return;
  if (flags & Flags.ONEWAY) {
    if (!ok && !(value instanceof ConnectionClosedError)) {
      console.error('netref: a oneway call failed:', value);
    }
    return;
  }
  session.reply(seq, ok, value);
}

import { encode, Flags, MessageKind } from '../protocol/index.js';
import { accessCheck, describeTarget, readPath } from './accessCheck.js';
import { box, unbox } from './boxing.js';
import { CallContext, callStorage } from './currentCall.js';
import { asError, errorToWire } from './errorCodec.js';
import { AttributeError, ConnectionClosedError, ProtocolError } from './errors.js';
import type { Session } from './Session.js';

/** A request of the peer's, checked for shape: [kind, flags, seq, target, path, payload]. */
export type Request = [number, number, number, number, string[], unknown];

const MAX_PATH = 64;

/** Checks an untrusted decoded request; throws ProtocolError naming what is wrong. */
export function checkRequest(msg: unknown[]): Request {
  if (msg.length !== 6) throw new ProtocolError(`a request has ${msg.length} fields, expected 6`);
  const [, flags, seq, target, path] = msg;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 7) {
    throw new ProtocolError(`a request has invalid flags ${String(flags)}`);
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ProtocolError(`a request has an invalid sequence number ${String(seq)}`);
  }
  if (typeof target !== 'number' || !Number.isSafeInteger(target) || target < 0) {
    throw new ProtocolError(`a request has an invalid target ${String(target)}`);
  }
  if (!Array.isArray(path) || path.length > MAX_PATH || !path.every((n) => typeof n === 'string')) {
    throw new ProtocolError('a request has an invalid attribute path');
  }
  return msg as Request;
}

/** Does what a request asks of `target`, through the access check. May return a promise. */
function perform(session: Session, kind: number, target: unknown, path: string[], payload: unknown): unknown {
  const config = session.config;
  switch (kind) {
    case MessageKind.CALL: {
      const args = payload as unknown[];
      if (path.length === 0) {
        if (typeof target !== 'function') throw new TypeError(`${describeTarget(target)} is not callable`);
        return (target as (...a: unknown[]) => unknown)(...args);
      }
      const holder = readPath(target, path.slice(0, -1), config);
      const name = path[path.length - 1]!;
      accessCheck(holder, name, 'call', config);
      const fn = (holder as Record<string, unknown>)[name];
      if (typeof fn !== 'function') throw new TypeError(`'${name}' of ${describeTarget(holder)} is not a function`);
      return fn.apply(holder, args);
    }
    case MessageKind.GET:
      return readPath(target, path, config);
    case MessageKind.SET:
    case MessageKind.DEL: {
      if (path.length === 0) throw new AttributeError('no attribute name given');
      const holder = readPath(target, path.slice(0, -1), config);
      const name = path[path.length - 1]!;
      accessCheck(holder, name, kind === MessageKind.SET ? 'set' : 'del', config);
      if (kind === MessageKind.SET) (holder as Record<string, unknown>)[name] = payload;
      else delete (holder as Record<string, unknown>)[name];
      return undefined;
    }
    case MessageKind.LOOKUP: {
      const name = path[0];
      if (path.length !== 1 || name === undefined) throw new ProtocolError('a lookup names exactly one object');
      return session.published(name);
    }
    default:
      throw new ProtocolError(`unknown request kind ${kind}`);
  }
}

/**
 * Handles one request of the peer's (callee side): unboxes its arguments, waits for pipelined targets and
 * promise arguments, runs it under `currentCall()`, and replies. A synchronous handler is answered without an
 * extra turn of the event loop. Throws ProtocolError for violations (the caller closes the connection).
 */
export function dispatch(session: Session, req: Request): void {
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
  } else if (payload !== null && payload !== undefined) {
    throw new ProtocolError('this request carries no payload');
  }
  const onAnswer = (flags & Flags.ON_ANSWER) !== 0;
  const base = onAnswer ? undefined : session.exports.get(target);
  const ctx = new CallContext(session.connection);
  session.beginRequest(seq, ctx);

  const run = (t: unknown): unknown =>
    callStorage.run(ctx, perform, session, kind, t, path, kind === MessageKind.SET ? (args as unknown[])[0] : args);

  let outcome: unknown;
  let failed = false;
  if (!onAnswer && waits.length === 0) {
    try {
      outcome = run(base);
    } catch (error) {
      outcome = error;
      failed = true;
    }
    if (failed || !isThenable(outcome)) {
      settle(session, seq, flags, ctx, !failed, outcome);
      return;
    }
  } else {
    outcome = (async () => {
      await Promise.all(waits);
      return run(onAnswer ? await session.keptAnswer(target) : base);
    })();
  }
  Promise.resolve(outcome).then(
    (value) => settle(session, seq, flags, ctx, true, value),
    (error) => settle(session, seq, flags, ctx, false, error),
  );
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

function settle(session: Session, seq: number, flags: number, ctx: CallContext, ok: boolean, value: unknown): void {
  session.endRequest(seq, ctx);
  if (flags & Flags.KEEP) session.keepAnswer_(seq, ok, value);
  if (session.isClosed) return;
  if (flags & Flags.ONEWAY) {
    if (!ok && !(value instanceof ConnectionClosedError)) {
      console.error('netref: a oneway call failed:', value);
    }
    return;
  }
  let frame: Uint8Array;
  try {
    frame = ok
      ? encode([MessageKind.RESULT, seq, box(value, session, session, null)])
      : encode([MessageKind.ERROR, seq, errorToWire(asError(value), session.includeStack, (v) => box(v, session, session, null))]);
  } catch (error) {
    const why = new TypeError(`the ${ok ? 'result' : 'error'} could not be sent: ${asError(error).message}`);
    frame = encode([MessageKind.ERROR, seq, errorToWire(why, session.includeStack, () => undefined)]);
  }
  session.enqueue(frame);
}

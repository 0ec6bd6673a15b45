import { knownErrorClasses, RemoteError, Tag, Tagged } from '../protocol/index.js';

const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause', '__proto__', 'constructor', 'prototype']);

/**
 * An Error as it crosses (DESIGN §4): name, message, stack (unless `includeStack` is off), code, cause and own
 * enumerable properties. `boxValue` boxes nested values; a value that cannot be sent is left out, never fatal.
 */
export function errorToWire(error: Error, includeStack: boolean, boxValue: (v: unknown) => unknown): Tagged {
  const wire: Record<string, unknown> = {
    name: typeof error.name === 'string' ? error.name : 'Error',
    message: typeof error.message === 'string' ? error.message : String(error.message),
  };
  if (includeStack && typeof error.stack === 'string') wire.stack = error.stack;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') wire.code = code;
  if ('cause' in error) {
    try {
      wire.cause = boxValue(error.cause);
    } catch {
      wire.cause = String(error.cause);
    }
  }
  const props: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(error)) {
    if (RESERVED.has(key)) continue;
    try {
      props[key] = boxValue((error as unknown as Record<string, unknown>)[key]);
      any = true;
    } catch {
      // a property that cannot cross is dropped; the error itself still arrives
    }
  }
  if (any) wire.props = props;
  return new Tagged(Tag.ERROR, wire);
}

/** Anything thrown that is not an Error crosses as an Error saying what it was. */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(`a non-Error value was thrown: ${typeof thrown === 'string' ? thrown : String(thrown)}`);
}

/**
 * Rebuilds an error from its (already unboxed) wire form: the same built-in or netref class where there is one,
 * else RemoteError with `remoteName`. The remote stack follows the local one under `--- remote stack ---`.
 * Returns undefined when the wire form is malformed.
 */
export function errorFromWire(wire: unknown): Error | undefined {
  if (wire === null || typeof wire !== 'object' || Array.isArray(wire)) return undefined;
  const w = wire as Record<string, unknown>;
  if (typeof w.name !== 'string' || typeof w.message !== 'string') return undefined;
  const Cls = Object.hasOwn(knownErrorClasses, w.name) ? knownErrorClasses[w.name] : undefined;
  const error: Error = Cls ? new Cls(w.message) : new RemoteError(w.message, w.name);
  if (Cls && error.name !== w.name) error.name = w.name;
  // The local frames at this point are netref's own reply handling, not the caller's: keep the header only.
  const header = `${error.name}: ${error.message}`;
  error.stack = typeof w.stack === 'string' ? `${header}\n--- remote stack ---\n${w.stack}` : header;
  if (typeof w.code === 'string' || typeof w.code === 'number') (error as { code?: unknown }).code = w.code;
  if ('cause' in w) Object.defineProperty(error, 'cause', { value: w.cause, writable: true, configurable: true });
  const props = w.props;
  if (props && typeof props === 'object' && !Array.isArray(props)) {
    for (const [key, value] of Object.entries(props)) {
      if (RESERVED.has(key)) continue;
      Object.defineProperty(error, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }
  return error;
}

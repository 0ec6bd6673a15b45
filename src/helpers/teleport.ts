import { builtins } from '../channel/index.js';
import { AttributeError, Connection, nodeOf, type Remote } from '../core/index.js';

/**
 * Sends `fn`'s source (`fn.toString()`) to a classic peer, which evaluates it in its global scope, and resolves to
 * a netref to the function there: calls run on the peer. Only the source travels, so the function must be
 * self-contained: variables it closes over, its `this` and its module's imports do not exist on the peer (pass
 * values as arguments, import inside with `await import('x')`). Source that a build tool rewrote keeps what it was
 * rewritten to: a helper the tool injected is missing there.
 *
 * Throws a TypeError for a bound or native function (no source to send) or a netref, a SyntaxError for a method
 * written as `name() {}` (not an expression on its own). Rejects with AttributeError when the peer is not a
 * `ClassicService`, and with ConnectionClosedError when the connection closes.
 */
export async function teleport<F extends (...args: any[]) => any>(conn: Connection, fn: F): Promise<Remote<F>> {
  if (!(conn instanceof Connection)) throw new TypeError('teleport() takes a Connection and a function');
  if (typeof fn !== 'function') {
    throw new TypeError(`teleport() takes a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  if (nodeOf(fn)) throw new TypeError('teleport() takes a local function; a netref lives on a remote end already');
  const name = typeof fn.name === 'string' && fn.name ? fn.name : '(anonymous)';
  if (name.startsWith('bound ')) {
    throw new TypeError(
      `teleport() cannot send the bound function '${name}': binding keeps its target out of the source; teleport the unbound function and pass what it was bound to as an argument`,
    );
  }
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(`teleport() cannot send the native function '${name}': it has no JavaScript source`);
  }
  try {
    new (builtins.vm().Script)(`(${source}\n)`); // compiled, never run: only checks that the source is an expression
  } catch (error) {
    throw new SyntaxError(
      `teleport() cannot send '${name}': its source is not a function expression on its own (a method written as \`${name}() {}\` is not; write it as a function or an arrow function)`,
      { cause: error },
    );
  }
  try {
    return await conn.root.eval(source);
  } catch (error) {
    if (error instanceof AttributeError) {
      throw new AttributeError(
        `teleport() needs a peer serving ClassicService (classic mode), which evaluates code: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

import { loadModule } from './loadModule.js';
import { byRef } from './marks.js';
import type { ProtocolConfig } from './ProtocolConfig.js';
import { replEval } from './replEval.js';
import { Service } from './Service.js';

/**
 * `modules.x` imports `x` on read. `then` is never a module: the object is read on its way through pipelined paths,
 * and a `then` there would make it look like a promise (and import a package called `then`). Symbols (what
 * `util.inspect` and friends probe) are not module names either.
 */
const modules: Record<string, unknown> = byRef(
  new Proxy(Object.create(null) as Record<string, unknown>, {
    get: (_target, name) => (typeof name === 'string' && name !== 'then' ? loadModule(name) : undefined),
  }),
);

/**
 * The whole runtime of this end, for the peer: RPyC's classic (slave) service. It turns on `allowAllAttrs`, so the
 * peer can reach and call anything reachable from here — remote code execution by design. Serve it on a loopback
 * address, over an authenticated channel, or to a subprocess or thread you started; a `Server` refuses to serve it
 * on a network address without an authenticator unless told `insecure: true`. The never-reachable names
 * (`constructor`, `__proto__`, `prototype`, …) stay refused.
 *
 * What the peer gets (usually through `classic.connect` and friends):
 * - `modules`: `modules.os`, `modules['node:fs']`, `modules.lodash` import that module here, resolved from this
 *   process's current directory, and yield it by reference.
 * - `execute(code)`: runs statements in the global scope, as the Node REPL does.
 * - `eval(expression)`: the value of one expression in that scope.
 * - `globals`: `globalThis`.
 * - `byRef(value)`: `value` back by reference (how `deliver()` leaves a copy here).
 *
 * Classic code imports with `modules.x` or `await import('x')`: unlike the interactive REPL, no `require` or
 * per-builtin globals are added to the global object of the serving program.
 */
export class ClassicService extends Service {
  static override protocolConfig: Partial<ProtocolConfig> = { allowAllAttrs: true };

  /** Reading `modules.NAME` imports NAME here: synchronously when `require` can, else a promise of `import()`. */
  get modules(): Record<string, unknown> {
    return modules;
  }

  /** This end's `globalThis`, by reference. */
  get globals(): typeof globalThis {
    return byRef(globalThis);
  }

  /**
   * Runs `code` in the global scope as the Node REPL does: `var`, `function` and bare assignments become globals,
   * `let`/`const` persist between calls, top-level `await` works. Resolves to the value of the last expression
   * statement; rejects with what the code threw (class and message kept), a SyntaxError for incomplete code.
   */
  execute(code: string): Promise<unknown> {
    return replEval(code);
  }

  /**
   * `value` (a copy of what the peer sent, as it arrived) returned by reference: the peer gets a netref to this
   * end's copy, which lives here until the peer releases it. A primitive comes back as itself. `deliver()` uses it.
   */
  byRef(value: unknown): unknown {
    return value !== null && (typeof value === 'object' || typeof value === 'function') ? byRef(value) : value;
  }

  /** The value of one expression in the scope `execute` uses (`await` allowed); a SyntaxError for anything else. */
  eval(expression: string): Promise<unknown> {
    if (typeof expression !== 'string') {
      throw new TypeError(`an expression must be a string, got ${typeof expression}`);
    }
    // The newline lets a trailing line comment end before the closing parenthesis.
    return replEval(`(${expression}\n)`);
  }
}

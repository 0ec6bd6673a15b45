import type { Connection, RemotePromise } from '../core/index.js';

/** What classic mode adds to a connection whose peer serves a `ClassicService` (DESIGN §3 "Classic mode"). */
export interface ClassicMembers {
  /**
   * `modules.os`, `modules['node:fs']`, `modules.lodash`: that module, imported on the remote end (resolved from its
   * current directory), by reference. Pipelines: `await c.modules.os.hostname()` is one round trip. A module that
   * does not exist rejects with an Error (code `MODULE_NOT_FOUND`) naming it.
   */
  readonly modules: Record<string, any>;
  /** The remote `globalThis`, by reference: `await c.globals.process.pid`. */
  readonly globals: any;
  /**
   * Runs statements in the remote global scope as the Node REPL does (`var`, `function` and bare assignments become
   * globals, `let`/`const` persist between calls, top-level `await` works); resolves to the value of the last
   * expression statement. Rejects with what the code threw, class and message kept; a SyntaxError for incomplete
   * code.
   */
  execute(code: string): RemotePromise<any>;
  /** The value of one expression in that same scope (`await` allowed); a SyntaxError for anything but one. */
  eval(expression: string): RemotePromise<any>;
}

/** A connection to a `ClassicService`, with its members at hand: `c.modules`, `c.execute(code)`, … */
export type ClassicConnection<C extends Connection = Connection> = C & ClassicMembers;

/**
 * Gives `conn` the classic members. They are only shortcuts for `conn.root.modules` and the like, so they pipeline
 * like any other path and fail like any other call (an AttributeError when the peer is no ClassicService).
 */
export function asClassic<C extends Connection>(conn: C): ClassicConnection<C> {
  Object.defineProperties(conn, {
    modules: { get: () => conn.root.modules, enumerable: true },
    globals: { get: () => conn.root.globals, enumerable: true },
    execute: { value: (code: string) => conn.root.execute(code) },
    eval: { value: (expression: string) => conn.root.eval(expression) },
  });
  return conn as ClassicConnection<C>;
}

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { byRef } from './marks.js';
import { replEval } from './replEval.js';

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | null)?.code;

/** Module objects cross by reference, like RPyC's: `await c.modules.fs` is a netref, not a copy of every export. */
function asReference<T>(mod: T): T {
  return mod !== null && (typeof mod === 'object' || typeof mod === 'function') ? byRef(mod) : mod;
}

/**
 * Imports the module `name` (`os`, `node:fs`, `lodash`, `./local.js`), resolved from `process.cwd()` as a program
 * started there would resolve it. Synchronous when `require` can load it — builtins, CommonJS and ESM without
 * top-level await — so a path through it costs nothing extra; otherwise a promise of `import()` (ESM with top-level
 * await, packages that export only to `import`).
 *
 * Throws (or rejects with) an Error with code `MODULE_NOT_FOUND` naming the module and where it was looked for when
 * there is no such module, and with the module's own error when it throws while loading.
 */
export function loadModule(name: string): unknown {
  if (typeof name !== 'string' || name === '') throw new TypeError('a module name must be a non-empty string');
  const from = process.cwd();
  const require = createRequire(join(from, '[netref-classic]'));
  let resolved: string;
  try {
    resolved = require.resolve(name);
  } catch (error) {
    // The package is there but exports this path to `import` only: let the ESM resolver have it, from the same
    // place (the REPL's dynamic import resolves from the current directory).
    if (errorCode(error) === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      return replEval(`import(${JSON.stringify(name)})`).then(asReference);
    }
    const e = new Error(`cannot import '${name}': no such module (looked for it from ${from})`, { cause: error });
    (e as NodeJS.ErrnoException).code = 'MODULE_NOT_FOUND';
    throw e;
  }
  try {
    return asReference(require(name));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'ERR_REQUIRE_ESM') {
      return import(pathToFileURL(resolved).href).then(asReference);
    }
    throw error;
  }
}

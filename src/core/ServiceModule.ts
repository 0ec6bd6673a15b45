import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NetrefError } from '../protocol/index.js';
import type { ServiceLike } from './Service.js';

/**
 * A service named by where it lives rather than given as a value: what a worker thread, a child process or
 * `netref serve MODULE#Export` can load on its own. `export` defaults to `default`.
 */
export interface ServiceModule {
  module: string | URL;
  export?: string;
}

/**
 * The module URL of a spec, as a string: a URL stays as it is; a path (absolute, or relative to `process.cwd()`)
 * becomes a `file:` URL; a bare name (`my-pkg/service`) is left for the importer to resolve.
 */
export function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') throw new TypeError('a service module must be a path or URL');
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module; // file:, data:, node:
  if (module.startsWith('.') || isAbsolute(module)) return pathToFileURL(resolve(process.cwd(), module)).href;
  return module;
}

/** `'./svc.js#Calc'` → `{ module: './svc.js', export: 'Calc' }`; without `#`, the default export. */
export function parseServiceModule(text: string): ServiceModule {
  const hash = text.lastIndexOf('#');
  if (hash <= 0) return { module: text };
  const name = text.slice(hash + 1);
  return name ? { module: text.slice(0, hash), export: name } : { module: text.slice(0, hash) };
}

/** Normalizes what the factories and servers accept: a spec, or just the module (path or URL). */
export function toServiceModule(spec: ServiceModule | string | URL): { module: string; export: string } {
  const s = typeof spec === 'string' || spec instanceof URL ? { module: spec } : spec;
  if (!s || typeof s !== 'object' || (typeof s.module !== 'string' && !(s.module instanceof URL))) {
    throw new TypeError('a service module is given as { module: string | URL, export?: string }');
  }
  if (s.export !== undefined && (typeof s.export !== 'string' || s.export === '')) {
    throw new TypeError('the export name of a service module must be a non-empty string');
  }
  return { module: moduleHref(s.module), export: s.export ?? 'default' };
}

/**
 * Imports a service module and returns its export (a Service class or instance). Rejects with a NetrefError
 * naming the module and what went wrong: not found, threw while loading, no such export (with the ones there are),
 * or an export that is neither a class nor an object. `importer` is the import function to use (so the module is
 * resolved from the caller's place for bare names).
 */
export async function loadServiceModule(
  spec: ServiceModule | string | URL,
  importer: (href: string) => Promise<Record<string, unknown>> = (href) => import(href),
): Promise<ServiceLike> {
  const { module, export: name } = toServiceModule(spec);
  let ns: Record<string, unknown>;
  try {
    ns = await importer(module);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    const what =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT'
        ? 'it does not exist'
        : `it threw while loading: ${(error as Error)?.message ?? String(error)}`;
    const e = new NetrefError(`cannot load the service module ${module}: ${what}`, { cause: error });
    if (code) (e as NodeJS.ErrnoException).code = code;
    throw e;
  }
  if (!(name in ns)) {
    const names = Object.keys(ns).filter((k) => k !== '__esModule');
    throw new NetrefError(
      `the service module ${module} has no export '${name}' (it exports: ${names.length ? names.join(', ') : 'nothing'})`,
    );
  }
  const value = ns[name];
  if (value === null || (typeof value !== 'function' && typeof value !== 'object')) {
    throw new NetrefError(
      `the export '${name}' of ${module} is a ${value === null ? 'null' : typeof value}, not a Service class or instance`,
    );
  }
  return value as ServiceLike;
}

/**
 * The root of netref's own modules: `src/` when netref runs from source (its tests, under tsx), `dist/` in the built
 * package. This code sits one level below it either way: in src/core/ServiceModule.ts, and in the bundle in a shared
 * chunk, dist/chunks/*.js (scripts/build.mjs puts chunks there and fails the build if this code lands elsewhere).
 */
const ownRoot = new URL('../', import.meta.url);
/** `.ts` under tsx, `.js` in the built package: the extension of this very file. */
const ownExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The URL of one of netref's own modules, by its path under the root without extension (`'connect/threadEntry'`),
 * for entry points handed to a Worker or a child process. Resolved from the root, not from the caller's
 * `import.meta.url`: in the bundle that is the chunk holding the caller's code, not its source file, so a path
 * relative to it would point into dist/chunks/. The entry points are kept at these paths by scripts/build.mjs.
 */
export function netrefModule(path: string): URL {
  return new URL(`${path}${ownExt}`, ownRoot);
}

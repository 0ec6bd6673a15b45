import { basename, resolve } from 'node:path';
import { builtins } from '../channel/index.js';
import type { Connection } from '../core/index.js';
import { remoteAgent } from './remoteAgent.js';
import type { TransferOptions } from './TransferOptions.js';
import { upload } from './upload.js';

/** What `uploadModule` resolves to. */
export interface UploadedModule {
  /** Where the package now is on the remote end: remote code can load it with `modules[path]` or `import()`. */
  path: string;
  /** The package, imported on the remote end (its `main`, or `index.js`), by reference. */
  module: any;
}

/** Version-control folders are no part of a package. */
const notVcs = (relativePath: string) => !/^(\.git|\.hg|\.svn)(\/|$)/.test(relativePath);

/**
 * Uploads the local package directory `dir` (its `package.json`, code and `node_modules`; `.git` and the like left
 * out, unless `options.filter` says otherwise) to a fresh temporary directory on a classic end, as
 * `TMP/netref-module-RANDOM/NAME`, and imports it there the way `modules[path]` does (`require` when it can, else
 * `import()`). Each call makes a new copy, so an edited package is loaded afresh; removing the copy is left to the
 * caller (it is in the remote end's temporary directory).
 *
 * Rejects as `upload` does (a missing `dir`, a failed copy, a TypeError for a connection that is no classic one),
 * and with the remote end's own error when the package fails to load there.
 */
export async function uploadModule(
  conn: Connection,
  dir: string,
  options: TransferOptions = {},
): Promise<UploadedModule> {
  const { stat } = builtins.fsPromises();
  if (typeof dir !== 'string' || !dir) throw new TypeError('uploadModule(conn, dir) takes a package directory');
  const local = resolve(dir);
  const st = await stat(local).catch((error: unknown) => {
    throw Object.assign(
      new Error(`uploadModule: cannot read ${local}: ${(error as Error).message}`, { cause: error }),
      {
        code: (error as { code?: unknown }).code,
        path: local,
      },
    );
  });
  if (!st.isDirectory()) {
    throw Object.assign(new Error(`uploadModule: ${local} is not a directory (give the package's folder)`), {
      code: 'ENOTDIR',
      path: local,
    });
  }
  const agent = await remoteAgent(conn, 'uploadModule');
  const home = await agent.mkdtemp('netref-module-');
  const path = `${home}${agent.sep}${basename(local)}`;
  await upload(conn, local, path, { ...options, filter: options.filter ?? notVcs });
  return { path, module: await conn.root.modules[path] };
}

import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { builtins } from '../channel/index.js';
import type { Connection } from '../core/index.js';
import { quietly } from './quietly.js';
import { release } from './release.js';
import { remoteAgent, type RemoteAgent, type RemoteUpload } from './remoteAgent.js';
import { transferError } from './transferError.js';
import {
  chunkSizeOf,
  ProgressCounter,
  splitPath,
  tempName,
  joinRemote,
  trimSeparators,
  WINDOW,
  type PlannedEntry,
  type TransferOptions,
} from './TransferOptions.js';

/** Local files and directories below `root`, depth first, parents before children, names sorted. */
async function walkLocal(
  root: string,
  filter: TransferOptions['filter'],
  rel: string[] = [],
  out: PlannedEntry[] = [],
): Promise<PlannedEntry[]> {
  const { lstat, readdir, readlink } = builtins.fsPromises();
  for (const name of (await readdir(join(root, ...rel))).sort()) {
    const parts = [...rel, name];
    if (filter && !filter(parts.join('/'))) continue;
    const full = join(root, ...parts);
    const st = await lstat(full);
    const mode = st.mode & 0o7777;
    if (st.isFile()) out.push({ rel: parts, type: 'file', size: st.size, mode });
    else if (st.isSymbolicLink())
      out.push({ rel: parts, type: 'symlink', size: 0, mode, target: await readlink(full) });
    else if (st.isDirectory()) {
      out.push({ rel: parts, type: 'dir', size: 0, mode });
      await walkLocal(root, filter, parts, out);
    }
    // sockets, FIFOs and devices have no content to copy: left out
  }
  return out;
}

/** Copies one local file to `dest` on the remote end; see `upload`. */
async function sendFile(
  agent: RemoteAgent,
  copy: string,
  source: string,
  dest: string,
  mode: number,
  chunkSize: number,
  progress: ProgressCounter,
): Promise<void> {
  const { open } = builtins.fsPromises();
  const { createHash } = builtins.crypto();
  let file: FileHandle;
  try {
    file = await open(source, 'r');
  } catch (error) {
    throw transferError(copy, 'read', source, false, error);
  }
  const [dir, base] = splitPath(dest, agent.sep);
  let remote: RemoteUpload | undefined;
  let remoteSide = true;
  try {
    remote = await agent.upload(tempName(dir, agent.sep, base), dest, mode);
    const hash = createHash('sha256');
    const inFlight: { done: Promise<unknown>; size: number }[] = [];
    const settleOldest = async () => {
      const oldest = inFlight.shift()!;
      await oldest.done;
      progress.add(oldest.size, source);
    };
    let position = 0;
    for (;;) {
      remoteSide = false;
      const buffer = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await file.read(buffer, 0, chunkSize, position);
      remoteSide = true;
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      const done = Promise.resolve(remote.write(chunk, position));
      done.catch(() => {}); // awaited in turn below; a failure meanwhile must not count as unhandled
      inFlight.push({ done, size: bytesRead });
      position += bytesRead;
      if (inFlight.length >= WINDOW) await settleOldest();
    }
    while (inFlight.length) await settleOldest();
    await remote.finish(position, hash.digest('hex'));
    if (position === 0) progress.add(0, source);
  } catch (error) {
    // Removes the temporary file if the remote end can still be reached; a broken connection leaves it to the
    // remote end, which drops a transfer left idle.
    if (remote) quietly(() => remote!.abort());
    throw transferError(copy, 'write', remoteSide ? dest : source, remoteSide, error);
  } finally {
    await file.close().catch(() => {});
    if (remote) quietly(() => release(remote));
  }
}

/**
 * Copies a local file, or a whole directory tree, to `remotePath` on a classic end (a `ClassicService`, as
 * `netref classic` serves), streamed in chunks with at most a few in flight. `remotePath` is the name the copy gets
 * (not a directory to put it in); an existing file there is replaced, an existing directory is merged into.
 *
 * Each file is written under a temporary name next to its final one (`.NAME.netref-RANDOM.part`), its size and
 * sha256 checked on the remote end against what was read here, given the source's permission bits, then renamed:
 * a failure never leaves a partial file under the final name. A tree also keeps its directories' modes and its
 * symlinks (as links, with the same target text); sockets, FIFOs and devices are left out. Files of a tree that
 * were done before a failure stay.
 *
 * Rejects with an Error naming the path and the end where it failed (`code` from the cause: `ENOENT`, `EACCES`,
 * `ENOTDIR`, `ECHECKSUM`, …), a `ConnectionClosedError` naming the file being copied when the connection breaks
 * (the temporary file on the remote end is then removed by the remote end after two idle minutes), or a TypeError
 * when the other end is no classic end.
 */
export async function upload(
  conn: Connection,
  localPath: string,
  remotePath: string,
  options: TransferOptions = {},
): Promise<void> {
  const { stat } = builtins.fsPromises();
  if (typeof localPath !== 'string' || typeof remotePath !== 'string' || !localPath || !remotePath) {
    throw new TypeError('upload(conn, localPath, remotePath) takes two non-empty paths');
  }
  const chunkSize = chunkSizeOf(options, 'upload');
  const copy = `upload ${localPath} -> ${remotePath}`;
  const agent = await remoteAgent(conn, 'upload');
  const dest = trimSeparators(remotePath, agent.sep);
  const remote = (rel: string[]) => joinRemote(dest, rel, agent.sep);
  let root;
  try {
    root = await stat(localPath);
  } catch (error) {
    throw transferError(copy, 'read', localPath, false, error);
  }
  if (root.isFile()) {
    const progress = new ProgressCounter(root.size, options.onProgress);
    await sendFile(agent, copy, localPath, dest, root.mode & 0o7777, chunkSize, progress);
    return;
  }
  if (!root.isDirectory()) {
    throw Object.assign(new Error(`${copy} failed: ${localPath} is neither a regular file nor a directory`), {
      code: 'EINVAL',
      path: localPath,
    });
  }
  let entries: PlannedEntry[];
  try {
    entries = await walkLocal(localPath, options.filter);
  } catch (error) {
    throw transferError(copy, 'read', (error as { path?: string }).path ?? localPath, false, error);
  }
  const progress = new ProgressCounter(
    entries.reduce((sum, e) => sum + e.size, 0),
    options.onProgress,
  );
  const dirs = [{ rel: [] as string[], mode: root.mode & 0o7777 }, ...entries.filter((e) => e.type === 'dir')];
  for (const dir of dirs) {
    try {
      await agent.mkdir(remote(dir.rel));
    } catch (error) {
      throw transferError(copy, 'create', remote(dir.rel), true, error);
    }
  }
  for (const entry of entries) {
    const target = remote(entry.rel);
    if (entry.type === 'file') {
      await sendFile(agent, copy, join(localPath, ...entry.rel), target, entry.mode, chunkSize, progress);
    } else if (entry.type === 'symlink') {
      const [dir, base] = splitPath(target, agent.sep);
      try {
        await agent.symlink(entry.target!, tempName(dir, agent.sep, base), target);
      } catch (error) {
        throw transferError(copy, 'create', target, true, error);
      }
    }
  }
  // Modes of directories last, deepest first: a read-only directory must not stop its own files being written.
  for (const dir of dirs.reverse()) {
    try {
      await agent.chmod(remote(dir.rel), dir.mode);
    } catch (error) {
      throw transferError(copy, 'write', remote(dir.rel), true, error);
    }
  }
}

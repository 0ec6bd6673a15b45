import type { FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { builtins } from '../channel/index.js';
import type { Connection } from '../core/index.js';
import { quietly } from './quietly.js';
import { release } from './release.js';
import { remoteAgent, type RemoteAgent, type RemoteDownload, type RemoteTreeEntry } from './remoteAgent.js';
import { transferError } from './transferError.js';
import {
  chunkSizeOf,
  joinRemote,
  ProgressCounter,
  splitPath,
  tempName,
  trimSeparators,
  WINDOW,
  type TransferOptions,
} from './TransferOptions.js';

/** Copies one remote file to `dest` here; see `download`. */
async function receiveFile(
  agent: RemoteAgent,
  copy: string,
  source: string,
  dest: string,
  chunkSize: number,
  progress: ProgressCounter,
): Promise<void> {
  const { open, rename, unlink } = builtins.fsPromises();
  const { createHash } = builtins.crypto();
  const [dir, base] = splitPath(dest, sep);
  const tmp = tempName(dir, sep, base);
  let file: FileHandle;
  try {
    // 0o600 until finished: nobody else should open a file that is still being written.
    file = await open(tmp, 'wx', 0o600);
  } catch (error) {
    throw transferError(copy, 'write', dest, false, error);
  }
  let reader: RemoteDownload | undefined;
  let remoteSide = true;
  try {
    const opened = await agent.download(source);
    reader = opened.reader;
    const hash = createHash('sha256');
    const inFlight: Promise<Uint8Array>[] = [];
    let requested = 0;
    let position = 0;
    const writeOldest = async () => {
      remoteSide = true;
      const chunk = await inFlight.shift()!;
      remoteSide = false;
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) {
        done += (await file.write(chunk, done, chunk.length - done, position + done)).bytesWritten;
      }
      position += chunk.length;
      progress.add(chunk.length, source);
    };
    while (requested < opened.size || inFlight.length) {
      if (requested < opened.size && inFlight.length < WINDOW) {
        const length = Math.min(chunkSize, opened.size - requested);
        const next = Promise.resolve(reader.read(length));
        next.catch(() => {}); // awaited in turn; a failure meanwhile must not count as unhandled
        inFlight.push(next);
        requested += length;
      } else {
        await writeOldest();
      }
    }
    remoteSide = true;
    const theirs = await reader.finish();
    remoteSide = false;
    const ours = hash.digest('hex');
    if (ours !== theirs) {
      throw Object.assign(new Error(`checksum mismatch: sha256 ${ours} here, ${theirs} on the remote end`), {
        code: 'ECHECKSUM',
      });
    }
    if (position === 0) progress.add(0, source);
    await file.chmod(opened.mode);
    await file.close();
    await rename(tmp, dest);
  } catch (error) {
    if (reader) quietly(() => reader!.close());
    await file.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw transferError(copy, remoteSide ? 'read' : 'write', remoteSide ? source : dest, remoteSide, error);
  } finally {
    if (reader) quietly(() => release(reader));
  }
}

/** Runs a local fs step of a tree copy, turning its failure into the copy's error. */
async function locally<T>(copy: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw transferError(copy, 'create', path, false, error);
  }
}

/**
 * Copies a file, or a whole directory tree, from `remotePath` on a classic end (a `ClassicService`) to `localPath`
 * here; the mirror of `upload`, with the same guarantees: streamed in chunks with at most a few in flight, each
 * file written under a temporary name next to its final one and renamed only once its size and sha256 (computed
 * on both ends) agree, permission bits kept, symlinks kept as links, no partial file under a final name. The local
 * temporary file is removed whatever the failure.
 *
 * Rejects with an Error naming the path and the end where it failed (`code`: `ENOENT`, `EACCES`, `ENOTDIR`,
 * `ECHECKSUM`, …), a `ConnectionClosedError` naming the file being copied when the connection breaks, or a
 * TypeError when the other end is no classic end.
 */
export async function download(
  conn: Connection,
  remotePath: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<void> {
  const { chmod, mkdir, rename, stat, symlink, unlink } = builtins.fsPromises();
  if (typeof localPath !== 'string' || typeof remotePath !== 'string' || !localPath || !remotePath) {
    throw new TypeError('download(conn, remotePath, localPath) takes two non-empty paths');
  }
  const chunkSize = chunkSizeOf(options, 'download');
  const copy = `download ${remotePath} -> ${localPath}`;
  const agent = await remoteAgent(conn, 'download');
  const source = trimSeparators(remotePath, agent.sep);
  const dest = trimSeparators(localPath, sep);
  let root;
  try {
    root = await agent.stat(source);
  } catch (error) {
    throw transferError(copy, 'read', source, true, error);
  }
  if (root.type === 'file') {
    await receiveFile(agent, copy, source, dest, chunkSize, new ProgressCounter(root.size, options.onProgress));
    return;
  }
  if (root.type !== 'dir') {
    throw Object.assign(new Error(`${copy} failed: ${source} is neither a regular file nor a directory`), {
      code: 'EINVAL',
      path: source,
    });
  }
  let entries: RemoteTreeEntry[];
  try {
    entries = await agent.walk(source);
  } catch (error) {
    throw transferError(copy, 'read', source, true, error);
  }
  const filter = options.filter;
  if (filter) {
    // A directory left out takes everything below it along.
    const skipped: string[] = [];
    entries = entries.filter((e) => {
      const rel = e.rel.join('/');
      if (skipped.some((s) => rel.startsWith(s + '/'))) return false;
      if (filter(rel)) return true;
      if (e.type === 'dir') skipped.push(rel);
      return false;
    });
  }
  const progress = new ProgressCounter(
    entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0),
    options.onProgress,
  );
  const dirs = [{ rel: [] as string[], mode: root.mode }, ...entries.filter((e) => e.type === 'dir')];
  for (const dir of dirs) {
    const path = join(dest, ...dir.rel);
    await locally(copy, path, async () => {
      await mkdir(path, { recursive: true });
      if (!(await stat(path)).isDirectory()) {
        throw Object.assign(new Error('EEXIST: file already exists and is not a directory'), { code: 'EEXIST' });
      }
    });
  }
  for (const entry of entries) {
    const target = join(dest, ...entry.rel);
    if (entry.type === 'file') {
      await receiveFile(agent, copy, joinRemote(source, entry.rel, agent.sep), target, chunkSize, progress);
    } else if (entry.type === 'symlink') {
      const [dir, base] = splitPath(target, sep);
      const tmp = tempName(dir, sep, base);
      await locally(copy, target, async () => {
        await symlink(entry.target!, tmp);
        await rename(tmp, target).catch(async (error: unknown) => {
          await unlink(tmp).catch(() => {});
          throw error;
        });
      });
    }
    // sockets, FIFOs and devices have no content to copy: left out
  }
  // Modes of directories last, deepest first: a read-only directory must not stop its own files being written.
  for (const dir of dirs.reverse()) {
    const path = join(dest, ...dir.rel);
    await locally(copy, path, () => chmod(path, dir.mode));
  }
}

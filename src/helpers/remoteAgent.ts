import type { Connection } from '../core/index.js';
import { AGENT_SOURCE } from './agentSource.js';

/** What `stat` and `walk` say of a path on the remote end. */
export interface RemoteEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Bytes, for a regular file; 0 otherwise. */
  size: number;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
}

/** One entry of a remote tree, with its path as segments below the root. */
export interface RemoteTreeEntry extends RemoteEntry {
  rel: string[];
  /** A symlink's target, as written in the link. */
  target?: string;
}

/** A file being written on the remote end, under its temporary name (see AGENT_SOURCE). */
export interface RemoteUpload {
  /** Writes the next chunk, which must start at `position`; resolves with the bytes written so far. */
  write(chunk: Uint8Array, position: number): Promise<number>;
  /** Checks size and sha256, sets the mode, renames to the final name; on any failure removes the temporary file. */
  finish(size: number, sha256: string): Promise<string>;
  /** Closes and removes the temporary file. */
  abort(): Promise<void>;
}

/** A file being read on the remote end. */
export interface RemoteDownload {
  /** The next up to `length` bytes (fewer at the end of the file). */
  read(length: number): Promise<Uint8Array>;
  /** Closes the file; resolves with the sha256 (hex) of every byte read. */
  finish(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The helpers' own functions on a classic end, evaluated there once per connection. The functions are netrefs;
 * the rest are values of the remote end.
 */
export interface RemoteAgent {
  sep: string;
  stat(path: string): Promise<RemoteEntry>;
  walk(root: string): Promise<RemoteTreeEntry[]>;
  mkdir(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  symlink(target: string, tmp: string, final: string): Promise<void>;
  mkdtemp(prefix: string): Promise<string>;
  upload(tmp: string, final: string, mode: number): Promise<RemoteUpload>;
  download(path: string): Promise<{ reader: RemoteDownload; size: number; mode: number }>;
  redirect(stdout: (data: string | Uint8Array) => void, stderr: (data: string | Uint8Array) => void): Promise<any>;
  run(service: unknown, code: string, options: object): Promise<string>;
  /** The names of the remote end's builtin modules (`modules.NAME` completes on them). */
  builtinModules: string[];
  lexicalNames(): Promise<string[]>;
  /** A RemotePromise of a holder whose `value` is what `expression` evaluates to there (for describe). */
  hold(expression: string): any;
  installModules(modules: unknown): Promise<boolean>;
  memberNames(expression: string): Promise<string[]>;
}

const agents = new WeakMap<Connection, Promise<RemoteAgent>>();

/**
 * The agent of `conn`'s remote end, made on first use. Rejects with a TypeError naming `helper` when the other end
 * is not a classic end (it has no `eval`), and with the connection's error when it is closed; a failed attempt is
 * not cached, so a later call tries again.
 */
export function remoteAgent(conn: Connection, helper: string): Promise<RemoteAgent> {
  let agent = agents.get(conn);
  if (!agent) {
    agent = Promise.resolve(conn.root.eval(AGENT_SOURCE)).then(
      (value: unknown) => value as RemoteAgent,
      (error: unknown) => {
        agents.delete(conn);
        if (conn.isClosed) throw error;
        throw new TypeError(
          `${helper}() needs a classic connection (a ClassicService on the other end, as \`netref classic\` serves): ${(error as Error)?.message ?? String(error)}`,
          { cause: error },
        );
      },
    );
    agents.set(conn, agent);
  }
  return agent;
}

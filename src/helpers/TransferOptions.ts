import { builtins } from '../channel/index.js';

/** Where a copy is, reported after every chunk. */
export interface TransferProgress {
  /** Bytes of file content copied so far, over the whole file or tree. */
  bytes: number;
  /** Bytes of file content to copy in all (the sum of the regular files' sizes, counted before the copy starts). */
  totalBytes: number;
  /** The file the last chunk belonged to, as a path on the sending end (local for upload, remote for download). */
  file: string;
}

/** Options of `upload` and `download`. */
export interface TransferOptions {
  /** Called after each chunk has been written on the receiving end. A throw stops the copy (it is its error). */
  onProgress?: (progress: TransferProgress) => void;
  /** Bytes per chunk (default 256 KiB). At most a few chunks are in flight at once. */
  chunkSize?: number;
  /**
   * For a tree: whether to copy an entry, by its path relative to the root, with `/` between segments (default:
   * everything). A directory left out is not entered.
   */
  filter?: (relativePath: string) => boolean;
}

export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Chunks in flight at once: enough to keep a link busy, few enough to bound the memory a copy holds. */
export const WINDOW = 4;

/** Checks the options; throws a TypeError naming the helper. */
export function chunkSizeOf(options: TransferOptions, helper: string): number {
  const size = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 16 * 1024 * 1024) {
    throw new TypeError(`${helper}(): chunkSize must be an integer from 1 to 16 MiB, got ${String(options.chunkSize)}`);
  }
  return size;
}

/**
 * The temporary name a file is written under, next to its final name (same directory, so the last rename is atomic):
 * `.NAME.netref-RANDOM.part`.
 */
export function tempName(dir: string, sep: string, base: string): string {
  return `${dir}${dir.endsWith(sep) ? '' : sep}.${base}.netref-${builtins.crypto().randomBytes(6).toString('hex')}.part`;
}

/** Splits a path at its last separator (either `/`, or `sep` when that differs): [directory, base name]. */
export function splitPath(path: string, sep: string): [string, string] {
  const at = Math.max(path.lastIndexOf('/'), sep === '/' ? -1 : path.lastIndexOf(sep));
  if (at < 0) return ['.', path];
  return [at === 0 ? path.slice(0, 1) : path.slice(0, at), path.slice(at + 1)];
}

/** Counts bytes over a whole copy and reports them to `onProgress`. */
export class ProgressCounter {
  bytes = 0;
  constructor(
    readonly totalBytes: number,
    private readonly onProgress: TransferOptions['onProgress'],
  ) {}
  add(n: number, file: string): void {
    this.bytes += n;
    this.onProgress?.({ bytes: this.bytes, totalBytes: this.totalBytes, file });
  }
}

/** One entry of a tree to copy, as segments below its root. */
export interface PlannedEntry {
  rel: string[];
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  target?: string;
}

/** Strips trailing separators (`/srv/dir/` is `/srv/dir`), leaving a root (`/`, `C:\`) alone. */
export function trimSeparators(path: string, sep: string): string {
  let end = path.length;
  while (end > 1 && (path[end - 1] === '/' || path[end - 1] === sep) && !/^[A-Za-z]:$/.test(path.slice(0, end - 1))) {
    end--;
  }
  return path.slice(0, end);
}

/** `root` and `rel` joined with the remote end's separator. */
export function joinRemote(root: string, rel: string[], sep: string): string {
  if (!rel.length) return root;
  return (root.endsWith(sep) || root.endsWith('/') ? root : root + sep) + rel.join(sep);
}

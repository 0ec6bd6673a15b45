/**
 * Memory for large outgoing frames (those carrying a big binary), reused once a socket has written them. Fresh
 * memory for each costs a page fault per 4 KiB on the copy, and makes V8 collect garbage all the time (it counts
 * such memory as pressure on the heap). Only a frame taken here is ever given back, and only by a channel that has
 * written it to the kernel and is done with it (StreamChannel on a net.Socket); all other frames are left to the
 * garbage collector as before, and a port transfers its frames away.
 */

/** At most this many buffers wait for reuse, */
const MAX_FREE = 8;
/** holding at most this much together; */
const MAX_FREE_BYTES = 16 * 1024 * 1024;
/** and they are let go once none was taken for this long. */
const IDLE_MS = 2000;
/** A buffer more than this many times the size asked for is not used for it (the rest would be wasted). */
const MAX_SLACK = 2;

let free: ArrayBuffer[] = [];
let freeBytes = 0;
let lastTaken = 0;
let trimTimer: NodeJS.Timeout | undefined;
/** The buffers handed out by `takeFrameBuffer` that may come back. */
const lent = new WeakSet<ArrayBuffer>();

/**
 * Memory for one frame: `size` bytes, uninitialized, used by nothing else. A freshly made one spans its whole
 * ArrayBuffer; a reused one may be part of a larger one (up to twice the size).
 */
export function takeFrameBuffer(size: number): Uint8Array {
  lastTaken = Date.now();
  for (let i = free.length - 1; i >= 0; i--) {
    const buffer = free[i]!;
    if (buffer.byteLength >= size && buffer.byteLength <= size * MAX_SLACK) {
      free.splice(i, 1);
      freeBytes -= buffer.byteLength;
      lent.add(buffer);
      return new Uint8Array(buffer, 0, size);
    }
  }
  const buffer = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
  if (size <= MAX_FREE_BYTES) lent.add(buffer);
  return new Uint8Array(buffer, 0, size);
}

/**
 * Gives a frame's memory back for reuse. The caller (a channel) has written the frame out and guarantees that
 * nothing reads or writes it any more. A frame not from `takeFrameBuffer`, or already given back, is ignored.
 */
export function recycleFrameBuffer(frame: Uint8Array): void {
  const buffer = frame.buffer as ArrayBuffer;
  if (!lent.has(buffer)) return;
  lent.delete(buffer);
  while (free.length > 0 && (free.length >= MAX_FREE || freeBytes + buffer.byteLength > MAX_FREE_BYTES)) {
    freeBytes -= free.shift()!.byteLength; // the oldest goes: sizes follow the workload
  }
  free.push(buffer);
  freeBytes += buffer.byteLength;
  if (!trimTimer) {
    trimTimer = setInterval(trimIdle, IDLE_MS);
    trimTimer.unref();
  }
}

function trimIdle(): void {
  if (Date.now() - lastTaken < IDLE_MS) return;
  free = [];
  freeBytes = 0;
  clearInterval(trimTimer);
  trimTimer = undefined;
}

/**
 * Frames larger than this are worth not copying: a channel marks such a frame it owns outright (see
 * `markOwnedFrame`), and the decoder leaves large binary values in it instead of copying them out. Frames up to this
 * size are decoded from one reused buffer anyway.
 */
export const LARGE_FRAME_BYTES = 64 * 1024;

const owned = new WeakSet<Uint8Array>();

/**
 * Marks `frame` as owned outright by whoever receives it: it spans its whole `ArrayBuffer`, which nothing else
 * references, reuses or can change (a channel allocated it for this one frame, or it arrived transferred or cloned
 * over a port), and no other frame shares. The decoder may then return values that are views into it rather than
 * copies. A frame that is not large or not a whole non-shared buffer is left alone: marking is only ever an
 * optimization, and an unmarked frame is decoded by copying, as any frame from any other channel is.
 */
export function markOwnedFrame(frame: Uint8Array): void {
  if (isLargeWholeFrame(frame)) owned.add(frame);
}

/** True if `frame` is large and spans its whole, non-shared `ArrayBuffer`: the shape `markOwnedFrame` asks for. */
export function isLargeWholeFrame(frame: Uint8Array): boolean {
  return (
    frame.byteLength > LARGE_FRAME_BYTES &&
    frame.byteOffset === 0 &&
    frame.byteLength === frame.buffer.byteLength &&
    frame.buffer instanceof ArrayBuffer
  );
}

/**
 * True if `frame` was marked with `markOwnedFrame`, and takes the mark off: whoever claims a frame may give its memory
 * away (to decoded values, to a port's transfer), after which nothing else may.
 */
export function claimOwnedFrame(frame: Uint8Array): boolean {
  // Only large frames are ever marked: the many small ones skip the WeakSet.
  return frame.byteLength > LARGE_FRAME_BYTES && owned.delete(frame);
}

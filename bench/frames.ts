/** Frames at most this long; a larger length prefix means the stream is garbage, not a big frame. */
const MAX_FRAME_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Cuts a byte stream into frames of a 4-byte big-endian length and that many bytes. Each frame is handed over
 * with its header, so an echo can write it back as it is.
 */
export class FrameReader {
  #rest: Buffer = EMPTY;
  /** Chunks of a frame too big for what has arrived so far, kept apart so a 1 MiB frame is copied once. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #needed = 0;

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.#needed > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#needed) return;
      chunk = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#needed = 0;
    } else if (this.#rest.length > 0) {
      chunk = Buffer.concat([this.#rest, chunk]);
    }
    const buf = chunk;
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset);
      if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes is over ${MAX_FRAME_BYTES}`);
      const end = offset + 4 + length;
      if (end > buf.length) {
        this.#needed = 4 + length;
        break;
      }
      onFrame(buf.subarray(offset, end));
      offset = end;
    }
    const rest = offset === buf.length ? EMPTY : buf.subarray(offset);
    if (this.#needed > 0) {
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
      this.#rest = EMPTY;
    } else this.#rest = rest;
  }
}

/** A frame of `payloadBytes` whose payload starts with `seq`, so an echo can be checked. */
export function makeFrame(seq: number, payloadBytes: number): Buffer {
  const frame = Buffer.alloc(4 + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 0);
  frame.writeUInt32BE(seq >>> 0, 4);
  return frame;
}

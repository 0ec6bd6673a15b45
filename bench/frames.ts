/** Frames at most this long; a larger length prefix means the stream is garbage, not a big frame. */
const MAX_FRAME_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Cuts a byte stream into frames of a 4-byte big-endian length and that many bytes. Each frame is handed over
 * with its header, so an echo can write it back as it is.
 */
export class FrameReader {
  #rest: Buffer = EMPTY;

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    // Frames split across chunks are rare with small frames; only then is anything copied.
    const buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset);
      if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes is over ${MAX_FRAME_BYTES}`);
      const end = offset + 4 + length;
      if (end > buf.length) break;
      onFrame(buf.subarray(offset, end));
      offset = end;
    }
    this.#rest = offset === buf.length ? EMPTY : buf.subarray(offset);
  }
}

/** A frame of `payloadBytes` whose payload starts with `seq`, so an echo can be checked. */
export function makeFrame(seq: number, payloadBytes: number): Buffer {
  const frame = Buffer.alloc(4 + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 0);
  frame.writeUInt32BE(seq >>> 0, 4);
  return frame;
}

import { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Channel, ChannelInfo, ChannelReceiver } from './Channel.js';
import { recycleFrameBuffer } from './frameBuffers.js';
import { LARGE_FRAME_BYTES, markOwnedFrame } from './ownedFrames.js';

/** Default largest frame: 64 MiB (DESIGN §5). */
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

/** Frames queued in one tick up to this many bytes are copied into one buffer and written at once. */
const COALESCE_LIMIT = 256 * 1024;

/**
 * Bytes waiting in the writable past which reading stops until it drains. Not the stream's own high-water mark
 * (16 KiB on a socket): every large frame passes that, and stopping to read at each one makes two busy peers take
 * turns instead of streaming both ways. This still bounds what a peer that never reads can make us hold.
 */
const PAUSE_READING_AT = 4 * 1024 * 1024;

export interface StreamChannelOptions {
  /** Largest frame accepted; a longer length prefix closes the channel before anything is allocated. */
  maxFrameSize?: number;
  info?: Partial<ChannelInfo>;
}

/** An error a channel closes with; `code` says which. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly code: 'ERR_NETREF_FRAME_TOO_LARGE' | 'ERR_NETREF_TRUNCATED' | 'ERR_NETREF_STREAM',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChannelError';
  }
}

/**
 * Length-prefixed frames (4-byte big-endian unsigned length, then the bytes) over any Duplex, or over a Readable
 * and a Writable. Frames sent in one tick are written with one call (one syscall on a socket). While the writable
 * side is full, reading stops, so a peer that sends requests without reading the replies slows only itself.
 */
export class StreamChannel implements Channel {
  readonly info: ChannelInfo;
  #readable: Readable;
  #writable: Writable;
  #maxFrameSize: number;
  #receiver: ChannelReceiver | undefined;
  #closed = false;
  #closeError: Error | undefined;
  #notified = false;

  // reading state
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1; // length of the frame being read, or -1 while reading a header
  #held: Uint8Array[] = []; // frames read before start() or while paused
  #paused = false;
  #userPaused = false;
  #drainPaused = false;

  // writing state
  /**
   * True if a frame is done with once its write has called back: a socket hands the bytes to the kernel. Any other
   * stream may still hold the very buffer (a PassThrough gives it to its reader).
   */
  #writtenOnCallback: boolean;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #flushScheduled = false;

  constructor(stream: Duplex, options?: StreamChannelOptions);
  constructor(readable: Readable, writable: Writable, options?: StreamChannelOptions);
  constructor(a: Duplex | Readable, b?: Writable | StreamChannelOptions, c?: StreamChannelOptions) {
    let options: StreamChannelOptions | undefined;
    if (b && typeof (b as Writable).write === 'function') {
      this.#readable = a as Readable;
      this.#writable = b as Writable;
      options = c;
    } else {
      this.#readable = a as Readable;
      this.#writable = a as Duplex;
      options = b as StreamChannelOptions | undefined;
    }
    this.#maxFrameSize = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#writtenOnCallback = this.#writable instanceof Socket;
    const s = a as Partial<{ remoteAddress: string; remotePort: number }>;
    this.info = {
      transport: 'stream',
      ...(s.remoteAddress !== undefined ? { remoteAddress: s.remoteAddress } : {}),
      ...(s.remotePort !== undefined ? { remotePort: s.remotePort } : {}),
      ...options?.info,
    };
    this.#readable.on('data', this.#onData);
    this.#readable.on('end', this.#onEnd);
    this.#readable.on('close', this.#onEnd);
    this.#readable.on('error', this.#onError);
    if ((this.#writable as unknown) !== this.#readable) {
      this.#writable.on('error', this.#onError);
      this.#writable.on('close', this.#onEnd);
    }
    this.#writable.on('drain', this.#onDrain);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  start(receiver: ChannelReceiver): void {
    if (this.#receiver) throw new Error('StreamChannel.start() was called twice');
    this.#receiver = receiver;
    this.#deliverHeld();
    if (this.#closed) this.#notify();
    // An authenticator may have left the stream paused; frames flow from now on.
    else if (!this.#paused) this.#readable.resume();
  }

  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (frame.byteLength > 0xffffffff) return false; // cannot be framed; the Session checks maxFrameSize first
    this.#out.push(frame);
    this.#outBytes += 4 + frame.byteLength;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
    return true;
  }

  pause(): void {
    this.#userPaused = true;
    this.#updatePaused();
  }

  resume(): void {
    this.#userPaused = false;
    this.#updatePaused();
    this.#deliverHeld();
  }

  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    const w = this.#writable;
    if (!w.destroyed && !w.writableEnded) w.end();
    // A Duplex whose peer never ends would keep the process alive; a closed channel owns nothing any more.
    if ((w as unknown) === this.#readable) {
      const d = w as Duplex;
      if (d.writableFinished) d.destroy();
      else d.once('finish', () => d.destroy());
      // Bound the wait for a peer that stopped reading.
      const t = setTimeout(() => d.destroy(), 2000);
      t.unref();
    } else {
      this.#readable.pause();
      this.#readable.destroy();
    }
    this.#notify();
  }

  flush(): void {
    this.#flush();
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#writable.destroyed) {
      this.#out = [];
      this.#outBytes = 0;
      return;
    }
    this.#out = [];
    let ok: boolean;
    if (this.#outBytes <= COALESCE_LIMIT) {
      // One buffer, headers written in place: one allocation and one write for the whole tick.
      const buf = Buffer.allocUnsafe(this.#outBytes);
      let at = 0;
      for (const frame of out) {
        buf.writeUInt32BE(frame.byteLength, at);
        buf.set(frame, at + 4);
        at += 4 + frame.byteLength;
        // copied: a frame's memory may serve another one now (see frameBuffers.ts)
        if (frame.byteLength > LARGE_FRAME_BYTES) recycleFrameBuffer(frame);
      }
      ok = this.#writable.write(buf);
    } else {
      this.#writable.cork();
      ok = true;
      for (const frame of out) {
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(frame.byteLength, 0);
        ok = this.#writable.write(header) && ok;
        ok =
          (frame.byteLength > LARGE_FRAME_BYTES && this.#writtenOnCallback
            ? this.#writable.write(frame, (error) => {
                // written: its memory may serve another frame (see frameBuffers.ts); not after a failure, when
                // the stream may not be done with it
                if (!error) recycleFrameBuffer(frame);
              })
            : this.#writable.write(frame)) && ok;
      }
      process.nextTick(() => this.#writable.uncork());
    }
    this.#outBytes = 0;
    if (!ok && !this.#drainPaused && this.#writable.writableLength >= PAUSE_READING_AT) {
      this.#drainPaused = true;
      this.#updatePaused();
    }
  };

  #onDrain = (): void => {
    if (!this.#drainPaused) return;
    this.#drainPaused = false;
    this.#updatePaused();
    this.#deliverHeld();
  };

  #updatePaused(): void {
    const want = this.#userPaused || this.#drainPaused;
    if (want === this.#paused) return;
    this.#paused = want;
    if (want) this.#readable.pause();
    else if (!this.#closed) this.#readable.resume();
  }

  #onData = (chunk: Buffer | string): void => {
    if (this.#closed) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(buf);
    this.#buffered += buf.length;
    this.#parse();
    if (!this.#closed) this.#receiver?.drained?.();
  };

  #parse(): void {
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) return;
        const len = this.#peekLength();
        if (len > this.#maxFrameSize) {
          this.#fail(
            new ChannelError(
              `frame of ${len} bytes is over maxFrameSize (${this.#maxFrameSize} bytes)`,
              'ERR_NETREF_FRAME_TOO_LARGE',
            ),
          );
          return;
        }
        this.#consume(4);
        this.#need = len;
      }
      if (this.#buffered < this.#need) return;
      const frame = this.#consume(this.#need);
      this.#need = -1;
      if (this.#receiver && !this.#paused && this.#held.length === 0) this.#receiver.frame(frame);
      else this.#held.push(frame);
      if (this.#closed) return;
    }
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.#chunks, Math.min(this.#buffered, 8));
    return head.readUInt32BE(0);
  }

  /** Takes `n` bytes off the front of the buffered chunks; the result owns its bytes. */
  #consume(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    // Allocated for this frame alone and never touched again: the decoder may leave large values in it.
    markOwnedFrame(out);
    return out;
  }

  #deliverHeld(): void {
    while (this.#receiver && !this.#paused && this.#held.length > 0 && !this.#notified) {
      this.#receiver.frame(this.#held.shift()!);
    }
  }

  #onEnd = (): void => {
    if (this.#closed) return;
    if (this.#need >= 0 || this.#buffered > 0) {
      this.#fail(new ChannelError('the stream ended in the middle of a frame', 'ERR_NETREF_TRUNCATED'));
      return;
    }
    this.#closed = true;
    this.#destroy();
    this.#notify();
  };

  #onError = (error: Error): void => {
    this.#fail(new ChannelError(`stream error: ${error.message}`, 'ERR_NETREF_STREAM', { cause: error }));
  };

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#destroy();
    this.#notify();
  }

  #destroy(): void {
    this.#out = [];
    this.#chunks = [];
    this.#buffered = 0;
    if (!this.#readable.destroyed) this.#readable.destroy();
    if ((this.#writable as unknown) !== this.#readable && !this.#writable.destroyed) this.#writable.destroy();
  }

  #notify(): void {
    if (this.#notified || !this.#receiver) return;
    // Frames that arrived before the close are still the peer's last words: hand them over first.
    this.#paused = false;
    this.#deliverHeld();
    this.#notified = true;
    this.#held = [];
    this.#readable.off('data', this.#onData);
    this.#receiver.closed(this.#closeError);
  }
}

import { Duplex } from 'node:stream';
import { ProtocolError } from '../../protocol/errors.js';
import { BoxOpener, type BoxHeader } from './BoxOpener.js';
import { BoxSealer } from './BoxSealer.js';
import type { HandshakeResult } from './HandshakeResult.js';
import { BOX_HEADER_SIZE, BOX_MAX_BODY, checkKey } from './shsCrypto.js';

const EMPTY = new Uint8Array(0);

/**
 * Wraps `stream` (the one a handshake just ran on) in box-stream encryption with the keys and nonces of `keys`
 * (a `HandshakeResult`), as Secure Scuttlebutt's `pull-box-stream` does, byte for byte. What is written to the
 * returned Duplex goes out sealed in frames of at most 4096 bytes; what it reads is what the peer sealed.
 *
 * - Ending it (`end()`) sends the goodbye frame and then ends `stream`; the peer's goodbye ends its readable side.
 * - A frame that does not verify (altered, forged, replayed, reordered, from another session), a length over 4096,
 *   and `stream` ending or closing before the peer's goodbye (a truncated session) destroy it with a ProtocolError
 *   saying which; an error of `stream` destroys it with that error. Nothing unauthenticated is ever delivered.
 * - It owns `stream`: destroying it destroys `stream`.
 * - Backpressure holds both ways: it reads from `stream` only while its own reader wants more, and a write's callback
 *   waits for `stream` to drain.
 *
 * Throws a TypeError naming the key or nonce that is missing or of the wrong length.
 */
export function boxStream(stream: Duplex, keys: HandshakeResult): Duplex {
  if (!keys || typeof keys !== 'object') throw new TypeError('boxStream needs the result of a handshake');
  const sealer = new BoxSealer(
    checkKey('encryptKey', keys.encryptKey, 32),
    checkKey('encryptNonce', keys.encryptNonce, 24),
  );
  const opener = new BoxOpener(
    checkKey('decryptKey', keys.decryptKey, 32),
    checkKey('decryptNonce', keys.decryptNonce, 24),
  );
  return new BoxStream(stream, sealer, opener);
}

class BoxStream extends Duplex {
  readonly #raw: Duplex;
  readonly #sealer: BoxSealer;
  readonly #opener: BoxOpener;
  /** The header of the frame whose body is being waited for. */
  #header: BoxHeader | undefined;
  /** Our reader asked for more and has not been told to wait (push returned false). */
  #wanted = false;
  /** `stream` closed: what it still holds is read at once, whatever our reader's pace, to find the goodbye. */
  #rawClosed = false;
  #goodbye = false;
  #pumping = false;
  #frames = 0;
  #pendingWrite: (() => void) | undefined;

  constructor(raw: Duplex, sealer: BoxSealer, opener: BoxOpener) {
    super();
    this.#raw = raw;
    this.#sealer = sealer;
    this.#opener = opener;
    raw.on('readable', this.#pump);
    raw.on('end', this.#onRawEnd);
    raw.on('close', this.#onRawClose);
    raw.on('error', this.#onRawError);
    raw.on('drain', this.#onRawDrain);
    if (raw.destroyed) process.nextTick(this.#onRawClose);
  }

  override _read(): void {
    this.#wanted = true;
    this.#pump();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (data.length === 0) {
      callback();
      return;
    }
    if (this.#raw.write(this.#sealer.seal(data))) callback();
    else this.#pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const raw = this.#raw;
    // Gone already: only possible after the peer's goodbye (else closing would have destroyed this stream), so
    // there is no one left to say goodbye to.
    if (raw.destroyed || raw.writableEnded) {
      callback();
      return;
    }
    // Finish only once the goodbye has left: whoever destroys this stream after 'finish' must not cut it off.
    raw.end(this.#sealer.goodbye(), () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const raw = this.#raw;
    raw.off('readable', this.#pump);
    raw.off('end', this.#onRawEnd);
    raw.off('close', this.#onRawClose);
    raw.off('error', this.#onRawError);
    raw.off('drain', this.#onRawDrain);
    raw.on('error', () => {}); // it is being torn down; what it still reports has no reader
    this.#pendingWrite = undefined;
    raw.destroy();
    callback(error);
  }

  #onRawDrain = (): void => {
    const resume = this.#pendingWrite;
    this.#pendingWrite = undefined;
    resume?.();
  };

  #onRawEnd = (): void => {
    if (this.#goodbye || this.destroyed) return;
    this.#fail(
      this.#header
        ? `the stream ended in the middle of frame ${this.#frames + 1} (truncated)`
        : `the stream ended without the goodbye frame after ${this.#frames} frames (truncated)`,
    );
  };

  #onRawClose = (): void => {
    if (this.#goodbye || this.destroyed) return;
    this.#rawClosed = true;
    this.#pump();
    if (!this.#goodbye && !this.destroyed) {
      this.#fail(`the stream closed without the goodbye frame after ${this.#frames} frames (truncated)`);
    }
  };

  #onRawError = (error: Error): void => {
    this.destroy(error);
  };

  #fail(why: string): void {
    this.destroy(new ProtocolError(`secure channel: ${why}`));
  }

  /** Opens as many whole frames as `stream` holds and our reader wants (or all of them once `stream` closed). */
  #pump = (): void => {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const raw = this.#raw;
      while ((this.#wanted || this.#rawClosed) && !this.#goodbye && !this.destroyed) {
        if (!this.#header) {
          const bytes: Buffer | null = raw.read(BOX_HEADER_SIZE);
          if (bytes === null) return;
          // read(n) gives fewer than n bytes only once the stream has ended.
          if (bytes.length < BOX_HEADER_SIZE) {
            this.#fail(`the stream ended in the middle of the header of frame ${this.#frames + 1} (truncated)`);
            return;
          }
          const header = this.#opener.openHeader(bytes);
          if (header === null) {
            this.#fail(
              `the header of frame ${this.#frames + 1} failed authentication (altered, forged, replayed or out of order)`,
            );
            return;
          }
          if (header === 'goodbye') {
            this.#goodbye = true;
            raw.off('readable', this.#pump); // nothing may follow the goodbye; the rest is not ours to read
            this.push(null);
            return;
          }
          if (header.length > BOX_MAX_BODY) {
            this.#fail(`frame ${this.#frames + 1} claims ${header.length} bytes (at most ${BOX_MAX_BODY})`);
            return;
          }
          this.#header = header;
        }
        const length = this.#header.length;
        let body: Uint8Array = EMPTY;
        if (length > 0) {
          const bytes: Buffer | null = raw.read(length);
          if (bytes === null) return;
          if (bytes.length < length) {
            this.#fail(`the stream ended in the middle of the body of frame ${this.#frames + 1} (truncated)`);
            return;
          }
          body = bytes;
        }
        const plain = this.#opener.openBody(this.#header, body);
        if (plain === null) {
          this.#fail(`the body of frame ${this.#frames + 1} failed authentication (altered or forged)`);
          return;
        }
        this.#header = undefined;
        this.#frames++;
        if (plain.length > 0 && !this.push(plain)) this.#wanted = false;
      }
    } finally {
      this.#pumping = false;
    }
  };
}

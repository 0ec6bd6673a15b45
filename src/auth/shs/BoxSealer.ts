import { BOX_HEADER_SIZE, BOX_MAX_BODY, incrementNonce, naclLowLevel, type NaclLowLevel } from './shsCrypto.js';

/**
 * The sending half of a box-stream: one key, one nonce counter. Each frame is a 34-byte header — secretbox of the
 * body's length (2 bytes, big-endian) and the body's 16-byte MAC, under nonce N — followed by the body's ciphertext,
 * sealed under nonce N+1; the next frame starts at N+2. So every byte, the framing included, is authenticated, and a
 * frame cannot be dropped, replayed or moved without the receiver's nonce disagreeing.
 */
export class BoxSealer {
  // Taken once here (tweetnacl is loaded on first use), not looked up for every frame.
  readonly #box: NaclLowLevel = naclLowLevel();
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  readonly #bodyNonce = new Uint8Array(24);
  // Scratch buffers in NaCl's padded layout (32 leading zero bytes in, 16 out), reused for every frame.
  readonly #m = new Uint8Array(32 + BOX_MAX_BODY);
  readonly #c = new Uint8Array(32 + BOX_MAX_BODY);
  readonly #hm = new Uint8Array(32 + 18);
  readonly #hc = new Uint8Array(32 + 18);

  constructor(key: Uint8Array, nonce: Uint8Array) {
    this.#key = new Uint8Array(key);
    this.#nonce = new Uint8Array(nonce);
  }

  /** The frames carrying `data`, cut into bodies of at most 4096 bytes, in one buffer. No bytes, no frames. */
  seal(data: Uint8Array): Buffer {
    const count = Math.ceil(data.length / BOX_MAX_BODY);
    const out = Buffer.allocUnsafe(count * BOX_HEADER_SIZE + data.length);
    const m = this.#m;
    const c = this.#c;
    const hm = this.#hm;
    const hc = this.#hc;
    let at = 0;
    for (let offset = 0; offset < data.length; offset += BOX_MAX_BODY) {
      const length = Math.min(BOX_MAX_BODY, data.length - offset);
      m.set(data.subarray(offset, offset + length), 32);
      this.#bodyNonce.set(this.#nonce);
      incrementNonce(this.#bodyNonce);
      this.#box.crypto_secretbox(c, m, 32 + length, this.#bodyNonce, this.#key);
      hm[32] = length >> 8;
      hm[33] = length & 0xff;
      hm.set(c.subarray(16, 32), 34);
      this.#box.crypto_secretbox(hc, hm, 50, this.#nonce, this.#key);
      out.set(hc.subarray(16, 50), at);
      out.set(c.subarray(32, 32 + length), at + BOX_HEADER_SIZE);
      at += BOX_HEADER_SIZE + length;
      incrementNonce(this.#nonce);
      incrementNonce(this.#nonce);
    }
    return out;
  }

  /** The goodbye: a header sealing 18 zero bytes. It authenticates the end of the stream; nothing may follow. */
  goodbye(): Buffer {
    this.#hm.fill(0);
    this.#box.crypto_secretbox(this.#hc, this.#hm, 50, this.#nonce, this.#key);
    return Buffer.from(this.#hc.subarray(16, 50));
  }
}

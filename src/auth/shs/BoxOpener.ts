import { BOX_MAX_BODY, incrementNonce, naclLowLevel, type NaclLowLevel } from './shsCrypto.js';

/** A header that opened: how long the body that follows is, and the MAC that body must carry. */
export interface BoxHeader {
  length: number;
  mac: Uint8Array;
}

/**
 * The receiving half of a box-stream (see BoxSealer for the frame layout): one key, one nonce counter that advances
 * by two per frame. A header or body whose MAC does not verify under the expected nonce — altered, forged, replayed,
 * out of order, or from another session — is refused (null); the caller must then stop reading.
 */
export class BoxOpener {
  // Taken once here (tweetnacl is loaded on first use), not looked up for every frame.
  readonly #box: NaclLowLevel = naclLowLevel();
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  readonly #bodyNonce = new Uint8Array(24);
  readonly #m = new Uint8Array(32 + BOX_MAX_BODY);
  readonly #c = new Uint8Array(32 + BOX_MAX_BODY);
  readonly #hm = new Uint8Array(32 + 18);
  readonly #hc = new Uint8Array(32 + 18);

  constructor(key: Uint8Array, nonce: Uint8Array) {
    this.#key = new Uint8Array(key);
    this.#nonce = new Uint8Array(nonce);
  }

  /**
   * Opens a 34-byte header: its body's length and MAC, `'goodbye'` for the authenticated end of the stream (18 zero
   * bytes inside), or null when it does not verify. A length over 4096 is returned as it is; the caller refuses it.
   */
  openHeader(header: Uint8Array): BoxHeader | 'goodbye' | null {
    const hm = this.#hm;
    const hc = this.#hc;
    hc.fill(0, 0, 16);
    hc.set(header, 16);
    if (this.#box.crypto_secretbox_open(hm, hc, 50, this.#nonce, this.#key) !== 0) return null;
    let any = 0;
    for (let i = 32; i < 50; i++) any |= hm[i]!;
    if (any === 0) return 'goodbye';
    return { length: (hm[32]! << 8) | hm[33]!, mac: hm.slice(34, 50) };
  }

  /**
   * Opens the body that followed `header`: returns its plaintext (a new Buffer) and moves the nonce on to the next
   * frame, or returns null (nonce unchanged) when the body does not verify.
   */
  openBody(header: BoxHeader, body: Uint8Array): Buffer | null {
    const length = body.length;
    if (length !== header.length || length > BOX_MAX_BODY) return null;
    const c = this.#c;
    c.fill(0, 0, 16);
    c.set(header.mac, 16);
    c.set(body, 32);
    this.#bodyNonce.set(this.#nonce);
    incrementNonce(this.#bodyNonce);
    if (this.#box.crypto_secretbox_open(this.#m, c, 32 + length, this.#bodyNonce, this.#key) !== 0) return null;
    incrementNonce(this.#nonce);
    incrementNonce(this.#nonce);
    return Buffer.from(this.#m.subarray(32, 32 + length));
  }
}

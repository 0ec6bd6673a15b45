/**
 * What a successful Secret Handshake v1 leaves each end with (all plain `Uint8Array`s, owned by the caller):
 * who the peer is, and the keys and starting nonces of the two box-streams. `encryptKey`/`encryptNonce` seal what this
 * end sends; `decryptKey`/`decryptNonce` open what it receives, so one end's encrypt pair is the other end's decrypt
 * pair. Hand it to `boxStream(stream, result)`, once: reusing a key and nonce for a second stream would break the
 * encryption.
 */
export interface HandshakeResult {
  /** The peer's long-term Ed25519 public key (32 bytes): the client's on the server, `serverKey` on the client. */
  remotePublicKey: Uint8Array;
  /** 32-byte secretbox key for what this end sends. */
  encryptKey: Uint8Array;
  /** 24-byte starting nonce for what this end sends. */
  encryptNonce: Uint8Array;
  /** 32-byte secretbox key for what this end receives. */
  decryptKey: Uint8Array;
  /** 24-byte starting nonce for what this end receives. */
  decryptNonce: Uint8Array;
}

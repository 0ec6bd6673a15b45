// The subpath `netref/secret-handshake` (DESIGN §6): Secret Handshake v1 and box-stream on their own, for interop
// and conformance testing. Re-exports only.
export {
  clientHandshake,
  serverHandshake,
  boxStream,
  generateKeys,
  randomNetworkKey,
  type ClientHandshakeOptions,
  type ServerHandshakeOptions,
  type Authorize,
  type HandshakeResult,
  type KeyPair,
} from './auth/index.js';

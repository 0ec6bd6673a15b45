// The subpath `netref/secret-handshake` (DESIGN §6): Secret Handshake v1 and box-stream on their own, for interop
// and conformance testing. Re-exports only, from the files themselves rather than auth/index.js: through that, the
// bundle would load the rest of auth and with it the codec and msgpackr, which this subpath never uses.
export { generateKeys, randomNetworkKey, type KeyPair } from './auth/shs/keys.js';
export { clientHandshake, type ClientHandshakeOptions } from './auth/shs/clientHandshake.js';
export { serverHandshake, type ServerHandshakeOptions, type Authorize } from './auth/shs/serverHandshake.js';
export { boxStream } from './auth/shs/boxStream.js';
export type { HandshakeResult } from './auth/shs/HandshakeResult.js';

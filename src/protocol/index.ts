export { MessageKind, Flags, FLAGS_OFFSET, IterateAction, MAX_ITERATE_COUNT } from './MessageKind.js';
export { PROTOCOL_VERSION, MAGIC, FEATURES } from './version.js';
export { Tagged, Tag, TAGGED_EXT, encode, decode } from './codec.js';
export { goodbyeFrame } from './goodbyeFrame.js';
export { makeHello, checkHello, DEFAULT_HANDSHAKE_TIMEOUT, type Hello, type HelloCheck } from './handshake.js';
export {
  NetrefError,
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  AttributeError,
  TimeoutError,
  AuthenticationError,
  DiscoveryError,
  knownErrorClasses,
} from './errors.js';

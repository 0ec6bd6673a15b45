export { MessageKind, Flags, FLAGS_OFFSET, IterateAction, MAX_ITERATE_COUNT } from './MessageKind.js';
export { PROTOCOL_VERSION, MAGIC, FEATURES } from './version.js';
export { Tagged, Tag, TAGGED_EXT, encode, decode } from './codec.js';
export { makeHello, checkHello, type Hello, type HelloCheck } from './handshake.js';

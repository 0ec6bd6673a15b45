export type { Channel, ChannelInfo, ChannelReceiver } from './Channel.js';
export { StreamChannel, ChannelError, DEFAULT_MAX_FRAME_SIZE, type StreamChannelOptions } from './StreamChannel.js';
export { PortChannel, type MessagePortLike } from './PortChannel.js';
export { channelPair } from './channelPair.js';
export { markOwnedFrame, claimOwnedFrame, LARGE_FRAME_BYTES } from './ownedFrames.js';
export { takeFrameBuffer } from './frameBuffers.js';
export * as builtins from './builtins.js';
export { lazyRequire } from './lazyRequire.js';

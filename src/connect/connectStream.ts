import type { Duplex, Readable, Writable } from 'node:stream';
import { StreamChannel } from '../channel/index.js';
import { resolveProtocolConfig, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { connectChannel } from './connectChannel.js';

/** A connection over any Duplex stream (length-prefixed frames). */
export function connectStream(stream: Duplex, options: ConnectOptions = {}): Promise<Connection> {
  const { maxFrameSize } = resolveProtocolConfig(options.protocolConfig);
  return connectChannel(new StreamChannel(stream, { maxFrameSize }), options);
}

/** A connection over a pair of pipes: frames are read from `input` and written to `output`. */
export function connectPipes(input: Readable, output: Writable, options: ConnectOptions = {}): Promise<Connection> {
  const { maxFrameSize } = resolveProtocolConfig(options.protocolConfig);
  return connectChannel(new StreamChannel(input, output, { maxFrameSize, info: { transport: 'pipes' } }), options);
}

import { encode } from './codec.js';
import { MessageKind } from './MessageKind.js';

/**
 * A GOODBYE with `reason` as it goes on a byte stream, its length prefix included: how a server refuses a client
 * before any session exists (it is full, it wants TLS). The client's `connect` rejects with the reason.
 */
export function goodbyeFrame(reason: string): Buffer {
  const body = encode([MessageKind.GOODBYE, reason]);
  const frame = Buffer.allocUnsafe(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, 4);
  return frame;
}

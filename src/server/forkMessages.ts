import type { ChannelInfo } from '../channel/index.js';
import type { HeartbeatOptions, ProtocolConfig } from '../core/index.js';

/*
 * The IPC conversation between a ForkingServer and one of its children (src/server/forkEntry.ts). The child is
 * started with the service module's URL and export name as its arguments and loads it at once; then:
 *
 *   child  → parent  loaded | failed          (the module loaded, or why not; a failed child exits with code 1)
 *   parent → child   serve (+ the socket)     (only after `loaded`, so the child's listener is sure to be there)
 *   child  → parent  connected                (the netref handshake completed)
 *   parent → child   publish*, close          (close: close the connection; the child exits once it has)
 *   child  → parent  closed                   (the connection ended, and why; the child exits next)
 *
 * When the socket cannot be handed over (an authenticator's stream lives in the parent), its bytes travel as
 * IpcStream messages beside these. A parent that disconnects before `serve` (a probe, or a server closing) makes
 * the child exit.
 */

/** What a child is told to serve. Everything is data (the channel uses advanced serialization). */
export interface ServeMessage {
  netref: 'serve';
  /** Where the client is, for the child's `conn.peer`. */
  info: ChannelInfo;
  credentials?: unknown;
  heartbeat: HeartbeatOptions | false;
  protocolConfig?: Partial<ProtocolConfig>;
  /** The server's published names and values, as they are now. */
  published: [string, unknown][];
  /** True: no socket comes with this message; the client's bytes come as IpcStream messages. */
  bridged: boolean;
}

export type ToChild = ServeMessage | { netref: 'publish'; name: string; value: unknown } | { netref: 'close' };

export type FromChild =
  /** The module loaded: its service's discovery names and its class's own protocolConfig. */
  | { netref: 'loaded'; names: string[]; protocolConfig?: Partial<ProtocolConfig> }
  | { netref: 'failed'; message: string; code?: string }
  | { netref: 'connected' }
  /** `reason` is absent when the child's end closed the connection (told to by the parent). */
  | { netref: 'closed'; reason?: { name: string; message: string } };

/** Whether an IPC message is one of the conversation's (and not, say, an IpcStream chunk). */
export function isFromChild(m: unknown): m is FromChild {
  const kind = (m as { netref?: unknown } | null)?.netref;
  return kind === 'loaded' || kind === 'failed' || kind === 'connected' || kind === 'closed';
}

export function isToChild(m: unknown): m is ToChild {
  const kind = (m as { netref?: unknown } | null)?.netref;
  return kind === 'serve' || kind === 'publish' || kind === 'close';
}

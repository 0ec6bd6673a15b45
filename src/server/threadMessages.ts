import type { MessagePort } from 'node:worker_threads';
import type { ChannelInfo } from '../channel/index.js';
import {
  AuthenticationError,
  ConnectionClosedError,
  NetrefError,
  ProtocolError,
  TimeoutError,
  type HeartbeatOptions,
  type ProtocolConfig,
} from '../core/index.js';

// What a ThreadedServer's acceptor (main thread) and its worker threads say to each other on the worker's
// `parentPort`. Frames never travel here: each connection has its own MessagePort for those.

/** What a ThreadedServer worker finds in its `workerData`. */
export interface ThreadedServerData {
  netrefThreadedServer: {
    module: string;
    export: string;
    protocolConfig?: Partial<ProtocolConfig>;
    /** What `server.publish` made reachable so far, as structured clones. */
    published: [string, unknown][];
  };
}

/** An error as it crosses threads: its class is named, not cloned. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
}

export type ToThread =
  /** Serve one client: frames from the client arrive on `port`, and replies go back on it. */
  | {
      type: 'serve';
      id: string;
      port: MessagePort;
      info: ChannelInfo;
      credentials?: unknown;
      heartbeat: HeartbeatOptions | false;
    }
  /** Close this client's connection (the server is closing). */
  | { type: 'close'; id: string }
  | { type: 'publish'; name: string; value: unknown };

export type FromThread =
  /**
   * The service module loaded: its discovery names (what `autoRegister` announces), and its class's own
   * protocolConfig, which the acceptor's limits must match.
   */
  | { type: 'ready'; names: string[]; protocolConfig?: Partial<ProtocolConfig> }
  /** The service module did not load; the server does not start. */
  | { type: 'failed'; error: ErrorInfo }
  /** The handshake with this client completed. */
  | { type: 'connected'; id: string }
  /** This client's connection ended (reason absent: closed by the server). */
  | { type: 'closed'; id: string; reason?: ErrorInfo }
  /** The connection has too many requests pending: stop reading the client's socket, or read it again. */
  | { type: 'pause' | 'resume'; id: string };

export function errorInfo(error: unknown): ErrorInfo {
  const e = error as Partial<NodeJS.ErrnoException> | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}

const KNOWN: Record<string, new (message: string) => Error> = {
  NetrefError,
  ConnectionClosedError,
  ProtocolError,
  TimeoutError,
  AuthenticationError,
};

/** The error again, of its netref class when it had one. */
export function reviveError(info: ErrorInfo): Error {
  const Class = KNOWN[info.name];
  const error = Class ? new Class(info.message) : new Error(info.message);
  if (!Class && info.name !== 'Error') error.name = info.name;
  if (info.code) (error as NodeJS.ErrnoException).code = info.code;
  return error;
}

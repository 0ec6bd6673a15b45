import type { MessagePort } from 'node:worker_threads';
import type { ProtocolConfig } from '../core/index.js';

/**
 * The messages netref posts on a worker's `parentPort` to set up a connection. Users who post their own messages on
 * the same port see them too and should skip them by their `type`.
 *
 * - `{ type: 'netref:connect', port: MessagePort }` (parent → worker): `connectWorker` posts it, with the port
 *   transferred; `connectParent` in the worker takes the first one and speaks netref over that port. The
 *   worker's `parentPort` itself carries no netref frame.
 * - `{ type: 'netref:thread-failed', message, code? }` (worker → parent): only in a worker `connectThread` started,
 *   when the service module does not load; `connectThread` rejects with it.
 */
export const CONNECT_MESSAGE = 'netref:connect';
export const THREAD_FAILED_MESSAGE = 'netref:thread-failed';

export interface ConnectMessage {
  type: typeof CONNECT_MESSAGE;
  port: MessagePort;
}

export interface ThreadFailedMessage {
  type: typeof THREAD_FAILED_MESSAGE;
  message: string;
  code?: string;
}

/** What a `connectThread` worker finds in its `workerData`. */
export interface ThreadData {
  netrefThread: { module: string; export: string; protocolConfig?: Partial<ProtocolConfig> };
}

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}

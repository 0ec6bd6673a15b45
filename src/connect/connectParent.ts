import { MessagePort, parentPort } from 'node:worker_threads';
import { PortChannel } from '../channel/index.js';
import { NetrefError, resolveProtocolConfig, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { abortReason, connectChannel } from './connectChannel.js';
import { CONNECT_MESSAGE, isMessage, type ConnectMessage } from './threadMessages.js';

/**
 * The worker's end of `connectWorker` (call it inside a worker_threads Worker): waits for the parent's
 * `{ type: 'netref:connect', port }` message on `parentPort`, then connects over that port, exposing `service`.
 *
 * `parentPort` stays yours: netref frames travel on the port the parent sent, and this listens on `parentPort` only
 * until that message arrives. Messages sent to a worker wait until something listens, so it does not matter which
 * side starts first; but while this waits, messages of your own that arrive before you attach your own listener
 * reach only this one (which ignores them): attach yours first if the parent posts before `connectWorker`.
 *
 * Waits for the parent as long as it takes (pass `signal` to bound it); then rejects like `connectChannel` (a
 * handshake timeout, a version mismatch). Throws at once outside a worker.
 */
export async function connectParent(options: ConnectOptions = {}): Promise<Connection> {
  const port = parentPort;
  if (!port) throw new NetrefError('connectParent() runs inside a worker thread (it needs worker_threads.parentPort)');
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const { maxFrameSize } = resolveProtocolConfig(options.protocolConfig);
  const connectPort = await new Promise<MessagePort>((resolve, reject) => {
    const onMessage = (value: unknown) => {
      if (!isMessage<ConnectMessage>(value, CONNECT_MESSAGE) || !(value.port instanceof MessagePort)) return;
      done();
      resolve(value.port);
    };
    const onAbort = () => {
      done();
      reject(abortReason(signal!));
    };
    const done = () => {
      port.off('message', onMessage);
      signal?.removeEventListener('abort', onAbort);
    };
    port.on('message', onMessage);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // Both ends are netref's (connectWorker made the port), so frames travel in batches, one message per tick.
  return connectChannel(new PortChannel(connectPort, { maxFrameSize, batch: true }), options);
}

// One worker thread of a ThreadedServer: loads the service module once, then runs a netref Connection for each
// client the acceptor hands over, on that client's own MessagePort. The handshake, heartbeat and everything else
// are between the client and this thread; the acceptor only moves frames. Does nothing outside such a worker.
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PortChannel, type ChannelInfo } from '../channel/index.js';
import {
  Connection,
  loadServiceModule,
  resolveProtocolConfig,
  serviceNames,
  sessionOf,
  type ProtocolConfig,
  type ServiceLike,
} from '../core/index.js';
import { errorInfo, type FromThread, type ThreadedServerData, type ToThread } from './threadMessages.js';

/**
 * A client's port, labelled with the client's address (so `conn.peer` is the client, not "a port"), that tells the
 * acceptor when the connection stops reading: a flooded connection then stops reading the socket, as it would on
 * one thread, instead of piling frames up in this thread's queue.
 */
class ClientPortChannel extends PortChannel {
  override readonly info: ChannelInfo;
  readonly #paused: (paused: boolean) => void;

  constructor(port: MessagePort, info: ChannelInfo, maxFrameSize: number, paused: (paused: boolean) => void) {
    super(port, { maxFrameSize, batch: true });
    this.info = { ...info };
    this.#paused = paused;
  }

  override pause(): void {
    super.pause();
    this.#paused(true);
  }

  override resume(): void {
    super.resume();
    this.#paused(false);
  }
}

async function run(port: NonNullable<typeof parentPort>, data: ThreadedServerData['netrefThreadedServer']) {
  const post = (message: FromThread) => port.postMessage(message);
  let service: ServiceLike;
  try {
    service = await loadServiceModule({ module: data.module, export: data.export });
  } catch (error) {
    post({ type: 'failed', error: errorInfo(error) });
    // Stay until the acceptor terminates us, so that it sees the failure before any exit (bounded, in case not).
    setTimeout(() => process.exit(1), 60_000);
    return;
  }
  const own = (typeof service === 'function' ? service : service.constructor) as {
    protocolConfig?: Partial<ProtocolConfig>;
  };
  const { maxFrameSize } = resolveProtocolConfig(own.protocolConfig, data.protocolConfig);
  const published = new Map(data.published);
  const connections = new Map<string, Connection>();

  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'serve': {
        const { id } = message;
        const channel = new ClientPortChannel(message.port, message.info, maxFrameSize, (paused) =>
          post({ type: paused ? 'pause' : 'resume', id }),
        );
        const conn = new Connection(channel, {
          service,
          protocolConfig: data.protocolConfig,
          heartbeat: message.heartbeat,
          lookupFallback: (name) => published.get(name),
          ...(message.credentials !== undefined ? { credentials: message.credentials } : {}),
        });
        connections.set(id, conn);
        conn.once('close', (reason: Error | undefined) => {
          connections.delete(id);
          post({ type: 'closed', id, ...(reason ? { reason: errorInfo(reason) } : {}) });
        });
        sessionOf(conn).ready.then(
          () => post({ type: 'connected', id }),
          () => {}, // the close reports it
        );
        return;
      }
      case 'close':
        void connections.get(message.id)?.close();
        return;
      case 'publish':
        published.set(message.name, message.value);
        return;
    }
  });
  post({
    type: 'ready',
    names: serviceNames(service),
    ...(own.protocolConfig ? { protocolConfig: { ...own.protocolConfig } } : {}),
  });
}

const data = (workerData as Partial<ThreadedServerData> | undefined)?.netrefThreadedServer;
if (!isMainThread && parentPort && data) {
  run(parentPort, data).catch((error) => {
    // Not expected (loading failures are reported above); crash so the acceptor sees it.
    setImmediate(() => {
      throw error;
    });
  });
}

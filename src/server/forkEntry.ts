// The child process of a ForkingServer: loads the service module named by its arguments, serves the one connection
// the parent hands it, and exits when that connection ends. The conversation is described in forkMessages.ts.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { StreamChannel } from '../channel/index.js';
import {
  Connection,
  loadServiceModule,
  resolveProtocolConfig,
  serviceNames,
  sessionOf,
  type ProtocolConfig,
  type ServiceLike,
} from '../core/index.js';
import { isToChild, type FromChild, type ServeMessage } from './forkMessages.js';
import { IpcStream, type IpcSend } from './IpcStream.js';

/** After its connection closed, how long the child waits for stragglers (a socket still flushing) before exiting. */
const EXIT_GRACE = 2000;

const send: IpcSend = (message, done) => {
  if (!process.connected || !process.send) {
    done(new Error('the IPC channel is closed'));
    return;
  }
  process.send(message, undefined, undefined, done);
};

function tell(message: FromChild, then: () => void = () => {}): void {
  send(message, () => then());
}

let service: ServiceLike | undefined;
let serviceConfig: Partial<ProtocolConfig> | undefined;
let conn: Connection | undefined;
const published = new Map<string, unknown>();

/**
 * Ends the child once what it served is done. Service code may leave timers or handles behind (and an async
 * onDisconnect may still be running), so the child gives them a moment and then exits regardless.
 */
let exiting = false;
function exitSoon(code: number): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(code), EXIT_GRACE).unref();
}

function serve(m: ServeMessage, handle: unknown): void {
  if (conn || !service) return;
  const stream: Duplex | undefined = m.bridged ? new IpcStream(process, send) : (handle as Socket | undefined);
  if (!stream) {
    tell({ netref: 'failed', message: 'the parent sent no socket to serve' }, () => exitSoon(1));
    return;
  }
  stream.on('error', () => {}); // a reset socket reaches the channel as its close; nothing to crash on
  for (const [name, value] of m.published) published.set(name, value);
  const config = resolveProtocolConfig(serviceConfig, m.protocolConfig);
  const channel = new StreamChannel(stream, { maxFrameSize: config.maxFrameSize, info: m.info });
  const c = new Connection(channel, {
    service,
    protocolConfig: m.protocolConfig,
    heartbeat: m.heartbeat,
    lookupFallback: (name) => published.get(name),
    ...(m.credentials !== undefined ? { credentials: m.credentials } : {}),
  });
  conn = c;
  sessionOf(c).ready.then(
    () => tell({ netref: 'connected' }),
    () => {},
  );
  void c.closed.then((reason) => {
    const closed: FromChild = reason
      ? { netref: 'closed', reason: { name: reason.name, message: reason.message } }
      : { netref: 'closed' };
    // The client's last bytes (the goodbye) leave before the child goes: wait for the socket, within bounds.
    const gone = stream.destroyed ? Promise.resolve() : new Promise<void>((r) => stream.once('close', () => r()));
    const bound = new Promise<void>((r) => setTimeout(r, EXIT_GRACE).unref());
    void Promise.race([gone, bound]).then(() => tell(closed, () => exitSoon(0)));
  });
}

process.on('message', (m: unknown, handle: unknown) => {
  if (!isToChild(m)) return;
  if (m.netref === 'serve') serve(m, handle);
  else if (m.netref === 'publish') published.set(m.name, m.value);
  else if (m.netref === 'close') {
    if (conn) void conn.close();
    else exitSoon(0);
  }
});

// The parent is gone (it crashed, or it closed before giving us a client): nobody is left to report to.
process.on('disconnect', () => {
  if (conn) void conn.close();
  exitSoon(0);
});

if (!process.send) {
  console.error('netref: forkEntry runs only as a child process of a ForkingServer');
  process.exit(2);
}
if (!process.connected) process.exit(0); // the parent disconnected while this module was loading

const [href, exportName] = process.argv.slice(2);
try {
  service = await loadServiceModule({ module: href!, export: exportName! });
  const cls = (typeof service === 'function' ? service : service.constructor) as {
    protocolConfig?: Partial<ProtocolConfig>;
  };
  resolveProtocolConfig(cls.protocolConfig); // a bad static protocolConfig fails here, where the parent hears of it
  serviceConfig = cls.protocolConfig ? { ...cls.protocolConfig } : undefined;
  tell({ netref: 'loaded', names: serviceNames(service), ...(serviceConfig ? { protocolConfig: serviceConfig } : {}) });
} catch (error) {
  const code = (error as NodeJS.ErrnoException)?.code;
  const message = error instanceof Error ? error.message : String(error);
  tell({ netref: 'failed', message, ...(typeof code === 'string' ? { code } : {}) }, () => exitSoon(1));
}

export { connect } from './connect.js';
export {
  ReconnectingConnection,
  backoffDelay,
  type ReconnectOptions,
  type ReconnectState,
} from './ReconnectingConnection.js';
export { connectChannel } from './connectChannel.js';
export { connectStream, connectPipes } from './connectStream.js';
export { parseUri, type ConnectTarget } from './parseTarget.js';
export { openSocket, runAuthenticator } from './openSocket.js';
export { DEFAULT_TCP_HEARTBEAT, type ConnectOptions } from './ConnectOptions.js';
export { connectStdpipes } from './connectStdpipes.js';
export { connectSubproc, type SubprocOptions, type SubprocConnection } from './connectSubproc.js';
export * as classic from './classic.js';
export { asClassic, type ClassicConnection, type ClassicMembers } from './ClassicConnection.js';
export { connectThread, type ThreadOptions } from './connectThread.js';
export { connectWorker, type ThreadConnection } from './connectWorker.js';
export { connectParent } from './connectParent.js';
export { startWorker, type WorkerStartOptions } from './startWorker.js';
export { workerExitText } from './WorkerChannel.js';
export { connectByService, type ConnectByServiceOptions } from './connectByService.js';

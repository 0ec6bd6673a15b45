export { connect } from './connect.js';
export { connectChannel } from './connectChannel.js';
export { connectStream, connectPipes } from './connectStream.js';
export { parseUri, type ConnectTarget } from './parseTarget.js';
export { openSocket, runAuthenticator } from './openSocket.js';
export { DEFAULT_TCP_HEARTBEAT, type ConnectOptions } from './ConnectOptions.js';
export { connectStdpipes } from './connectStdpipes.js';
export { connectSubproc, type SubprocOptions, type SubprocConnection } from './connectSubproc.js';

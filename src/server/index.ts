export { Server } from './Server.js';
export { ThreadedServer, type ThreadedServerOptions } from './ThreadedServer.js';
export { type ThreadedConnectionInfo } from './ThreadLink.js';
export { ForkingServer, type ForkingServerOptions, type ForkedConnection } from './ForkingServer.js';
export { OneShotServer } from './OneShotServer.js';
export { ServerBase, type Accepted, type Served } from './ServerBase.js';
export { DEFAULT_PORT, type ServerOptions } from './ServerOptions.js';
export { isLoopback } from './isLoopback.js';

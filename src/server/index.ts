export { Server } from './Server.js';
export { ServerBase, type Accepted, type Served } from './ServerBase.js';
export { DEFAULT_PORT, type ServerOptions } from './ServerOptions.js';
export { isLoopback } from './isLoopback.js';

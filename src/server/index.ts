export { Server } from './Server.js';
export { DEFAULT_PORT, type ServerOptions } from './ServerOptions.js';
export { isLoopback } from './isLoopback.js';

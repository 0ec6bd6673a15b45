// The netref side's server, in its own process like a real peer. Run as a child process.
import { Server, Service } from '../dist/index.js';
import { announceReady } from './serverLifetime.js';

class BenchService extends Service {
  add(a: number, b: number): number {
    return a + b;
  }
}

const server = new Server(BenchService, { host: '127.0.0.1', port: 0 });
await server.start();
if (server.port === undefined) throw new Error('netrefServer: no TCP port');
announceReady(server.port);

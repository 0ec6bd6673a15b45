// The netref side's server, in its own process like a real peer. Run as a child process.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Server, Service, byRef } from '../dist/index.js';
import { announceReady } from './serverLifetime.js';

// W5 reports the heap after a full collection, which needs gc(); the flag set at run time shows it to a new context.
v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

class BenchService extends Service {
  add(a: number, b: number): number {
    return a + b;
  }

  /** W4: the bytes come back, as the raw baseline's frames do. */
  echo(bytes: Uint8Array): Uint8Array {
    return bytes;
  }

  /**
   * W3: calls the client's `fn` `count` times one after another and returns the microseconds that took, timed
   * here so the figure is the callback round trip alone, without the call that carried `fn` over.
   */
  async bounce(fn: (i: number) => Promise<number>, count: number): Promise<number> {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const got = await fn(i);
      if (got !== i + 1) throw new Error(`callback returned ${got} for ${i}`);
    }
    return (performance.now() - start) * 1000;
  }

  /** W5: a fresh object each time, crossing by reference. */
  make(n: number): { value(): number } {
    return byRef({ value: () => n });
  }

  /** W5: the heap after a full collection, in bytes. */
  heap(): number {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  }
}

const server = new Server(BenchService, { host: '127.0.0.1', port: 0 });
await server.start();
if (server.port === undefined) throw new Error('netrefServer: no TCP port');
announceReady(server.port);

// The peer process of the both-ways example. main.ts starts it; it serves PeerService on 127.0.0.1 (a free port)
// and prints one line, `listening on tcp://127.0.0.1:PORT`, on stdout. It stops on SIGTERM.
import { currentCall, Server, Service, type Connection, type Remote } from '../../src/index.js';
import type { MainService } from './main.js';

/** main's root, seen from here: the service main passed to connect(). */
function main(): Remote<MainService> {
  return currentCall().connection.root as Remote<MainService>;
}

/** What this process offers to main. One instance per connection. */
export class PeerService extends Service {
  greet(name: string): string {
    return `hello ${name}, this is peer (pid ${process.pid})`;
  }

  /** Calls main back while main is still waiting for this call. */
  async whoAmI(): Promise<string> {
    await main().log('whoAmI: asking main.identify() before answering');
    return `you are ${await main().identify()}`;
  }

  /** Calls the function main passed in, once per tick; each call runs in main's process. */
  async countdown(from: number, onTick: (n: number) => string | Promise<string>): Promise<string> {
    for (let n = from; n > 0; n--) {
      const answer = await onTick(n);
      await main().log(`countdown: onTick(${n}) answered "${answer}"`);
    }
    return 'liftoff';
  }

  /** One step of the nested-call chain: peer -> main -> peer -> ... until n is 0. */
  async bounce(n: number, trail: string[]): Promise<string[]> {
    trail = [...trail, `peer.bounce(${n})`];
    if (n === 0) {
      await main().log(`${'  '.repeat(trail.length - 1)}bounce(0): bottom reached`);
      return trail;
    }
    await main().log(`${'  '.repeat(trail.length - 1)}bounce(${n}): calling main.bounce(${n - 1})`);
    return main().bounce(n - 1, trail);
  }
}

const server = new Server(PeerService, { host: '127.0.0.1', port: 0 });
// A client that connects with `{ service }` gives this end its root: the peer calls main on its own here, not in
// answer to a call of main's.
server.on('connection', (conn: Connection) => {
  const main = conn.root as Remote<MainService>;
  main.hello(`peer (pid ${process.pid})`).catch((error: unknown) => console.error('peer: hello failed:', error));
});
await server.start();
console.log(`listening on tcp://127.0.0.1:${server.port}`);

// main ends this process by its PID with SIGTERM: close the server (and its connections), then let the process end.
process.once('SIGTERM', () => {
  void server.close();
});

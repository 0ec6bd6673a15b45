// The both-ways example (DESIGN §8, use 1): two processes connect and call each other both ways, with callbacks
// and nested calls. Run it from the repository root with `npm run example both-ways`.
//
// This process ("main") starts peer.ts as a child process, connects to it offering its own service, and plays the
// scenario. peer.ts serves PeerService and calls main back through the connection's root.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, currentCall, Service, type Remote } from '../../src/index.js';
import type { PeerService } from './peer.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Bounded waits: for the peer to start listening, and for it to exit once told to. */
const STARTUP_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 5_000;

function say(line: string): void {
  console.log(`[main] ${line}`);
}

/** The peer of the call being served, as a netref. */
function peer(): Remote<PeerService> {
  return currentCall().connection.root as Remote<PeerService>;
}

/** A promise and its resolve function (Promise.withResolvers arrives in Node 22). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Settled when the peer calls main.hello(). */
const helloFrom = deferred<string>();

/** Waits at most `ms` for `promise`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What this process offers to the peer: it is passed to connect() as `service`. */
export class MainService extends Service {
  /** The peer calls this on its own as soon as it has the connection. */
  hello(from: string): string {
    helloFrom.resolve(from);
    return 'hello from main';
  }

  identify(): string {
    return `main (pid ${process.pid})`;
  }

  /** The peer narrates its side by calling this; the line is printed here, in order with ours. */
  log(line: string): void {
    console.log(`[peer] ${line}`);
  }

  /** One step of the nested-call chain: main -> peer -> main -> ... until n is 0. */
  async bounce(n: number, trail: string[]): Promise<string[]> {
    trail = [...trail, `main.bounce(${n})`];
    if (n === 0) {
      say(`${'  '.repeat(trail.length - 1)}bounce(0): bottom reached`);
      return trail;
    }
    say(`${'  '.repeat(trail.length - 1)}bounce(${n}): calling peer.bounce(${n - 1})`);
    return peer().bounce(n - 1, trail);
  }
}

/** Starts peer.ts and resolves with its port once it prints `listening on tcp://HOST:PORT`. */
async function startPeer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'peer.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Should this process end early (an error), the peer goes with it.
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const timeout = AbortSignal.timeout(STARTUP_TIMEOUT_MS);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let first = true;
      lines.on('line', (line) => {
        if (!first) {
          console.log(`[peer stdout] ${line}`); // anything else the peer prints is passed through
          return;
        }
        first = false;
        const m = /^listening on tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`unexpected first line from peer.ts: ${JSON.stringify(line)}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`peer.ts exited before listening (${signal ?? code})`)));
      child.once('error', reject);
      timeout.addEventListener('abort', () =>
        reject(new Error(`peer.ts did not print its port within ${STARTUP_TIMEOUT_MS} ms`)),
      );
    });
    return { child, port };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Ends the child by its PID (SIGTERM), then SIGKILL if it is still there after EXIT_TIMEOUT_MS. */
async function stopPeer(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return `had already exited (${child.exitCode ?? child.signalCode})`;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), EXIT_TIMEOUT_MS);
  const [code, signal] = await exited;
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`peer.ts did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM`);
  if (code !== 0) throw new Error(`peer.ts exited with ${signal ?? code}`);
  return 'exited with code 0';
}

console.log('both-ways: two processes calling each other with netref');
const { child, port } = await startPeer();
say(`started peer.ts as pid ${child.pid}; it listens on tcp://127.0.0.1:${port}`);

const conn = await connect('127.0.0.1', port, { service: new MainService() });
const remote = conn.root as Remote<PeerService>;
say("connected, offering MainService as this end's root");

console.log("\n1. peer calls main on its own (from its server's connection event)");
say(`main.hello() was called by ${await within(helloFrom.promise, 10_000, 'the peer calling main.hello()')}`);

console.log('\n2. main calls peer');
say(`peer.greet('main') -> "${await remote.greet('main')}"`);

console.log('\n3. peer calls main back while main waits');
say(`peer.whoAmI() -> "${await remote.whoAmI()}"`);

console.log('\n4. callbacks: main passes a function, peer calls it');
const onTick = (n: number): string => {
  say(`onTick(${n}) runs in main (pid ${process.pid})`);
  return n === 1 ? 'ignition' : `T-${n}`;
};
say(`peer.countdown(3, onTick) -> "${await remote.countdown(3, onTick)}"`);

console.log('\n5. nested calls: main -> peer -> main -> peer -> main');
say('calling peer.bounce(3)');
const trail = await remote.bounce(3, ['main']);
say(`call chain: ${trail.join(' -> ')}`);

console.log('\n6. shutting down');
await conn.close();
say('connection closed');
say(`peer (pid ${child.pid}) ${await stopPeer(child)}`);
console.log('done');

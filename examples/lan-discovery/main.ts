// The lan-discovery example (DESIGN §7): a service announced on the LAN is found and called by name, with no
// address given anywhere. Run it from the repository root with `npm run example lan-discovery`; add `-- --netns`
// (as root, with iproute2) to play it across two network namespaces joined by a virtual cable instead of the real
// LAN: that is how the tests run it, so that nothing is multicast on the host's own network.
//
// This process ("main") starts service.ts as a child process (it serves GreeterService and announces it), then
// discovers it, connects by name and calls it (client.ts), then has the service withdraw and shows that it is gone.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checkGone, findAndCall } from './client.js';

const here = dirname(fileURLToPath(import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const useNetns = process.argv.includes('--netns');

const say = (line: string) => console.log(`[main] ${line}`);

/** Two namespaces (`a` serves, `b` looks) joined by a veth pair, with a route for multicast in each. */
class Namespaces {
  readonly a = `nrex${process.pid}a`;
  readonly b = `nrex${process.pid}b`;
  readonly #made: string[] = [];

  constructor() {
    const subnet = `10.78.${process.pid % 250}`;
    const ifs = { [this.a]: `vex${process.pid}a`, [this.b]: `vex${process.pid}b` };
    try {
      for (const ns of [this.a, this.b]) {
        ip('netns', 'add', ns);
        this.#made.push(ns);
      }
      ip('link', 'add', ifs[this.a]!, 'netns', this.a, 'type', 'veth', 'peer', 'name', ifs[this.b]!, 'netns', this.b);
      for (const [ns, n] of [
        [this.a, 1],
        [this.b, 2],
      ] as const) {
        ip('-n', ns, 'addr', 'add', `${subnet}.${n}/24`, 'dev', ifs[ns]!);
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('-n', ns, 'link', 'set', ifs[ns]!, 'up');
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', ifs[ns]!);
      }
      say(`made network namespaces ${this.a} (${subnet}.1) and ${this.b} (${subnet}.2), joined by a veth pair`);
    } catch (error) {
      this.remove();
      throw error;
    }
  }

  remove(): void {
    for (const ns of this.#made.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** `node --import tsx FILE ...args`, inside namespace `ns` when given; its lines printed with `tag`. */
function start(tag: string, file: string, args: string[], ns?: string): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', join(here, file), ...args];
  const [command, ...rest] = ns ? ['ip', 'netns', 'exec', ns, ...node] : node;
  const child = spawn(command!, rest, { stdio: ['pipe', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    console.log(`[${tag}] ${line}`);
    child.emit('line', line);
  });
  return child;
}

/** Resolves with the first line of `child` matching `re`, within `ms`. */
function lineOf(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no line matching ${re} within ${ms} ms`)), ms);
    const onLine = (line: string) => re.test(line) && done(undefined, line);
    const onExit = () => done(new Error(`the child exited before printing a line matching ${re}`));
    const done = (error?: Error, line?: string) => {
      clearTimeout(timer);
      child.off('line', onLine);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    };
    child.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Waits for `child` to exit (SIGKILL by its PID past the bound); resolves with its exit code. */
async function exitOf(child: ChildProcess, what: string): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), EXIT_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  say(`${what} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
  return code;
}

console.log(
  `lan-discovery: find a netref service by name, ${useNetns ? 'across two network namespaces' : 'on this LAN'}`,
);
const spaces = useNetns ? new Namespaces() : undefined;
let service: ChildProcess | undefined;
try {
  service = start('service', 'service.ts', [], spaces?.a);
  const announced = await lineOf(service, /^announced '/, STARTUP_TIMEOUT_MS);
  const instance = /^announced '(.*)' on port/.exec(announced)![1]!;

  if (spaces) {
    const client = start('client', 'client.ts', ['call'], spaces.b);
    if ((await exitOf(client, 'client.ts call')) !== 0)
      throw new Error('the client could not find or call the service');
  } else {
    await findAndCall((line) => console.log(`[client] ${line}`));
  }

  say('telling the service to withdraw (closing its stdin)');
  service.stdin!.end();
  await lineOf(service, /^withdrawn/, EXIT_TIMEOUT_MS);
  await exitOf(service, 'service.ts');

  if (spaces) {
    const client = start('client', 'client.ts', ['check', instance], spaces.b);
    if ((await exitOf(client, 'client.ts check')) !== 0)
      throw new Error('the service was still found after its goodbye');
  } else {
    await checkGone(instance, (line) => console.log(`[client] ${line}`));
  }
} catch (error) {
  console.error(`lan-discovery failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  if (service && service.exitCode === null && service.signalCode === null && service.pid !== undefined) {
    process.kill(service.pid, 'SIGKILL');
    await once(service, 'exit');
  }
  if (spaces) {
    spaces.remove();
    say('removed the network namespaces');
  }
}
if (!process.exitCode) console.log('done');

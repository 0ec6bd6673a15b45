// The remote-shell example (DESIGN §8, use 4): `netref shell` against a classic server. Run it from the repository
// root with `npm run example remote-shell`.
//
// This process starts `netref classic --port 0` as a child, runs `netref shell` against it with a short script on
// its stdin (the way you would pipe a file into it), prints the script and what the shell printed, and ends the
// server by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const netref = join(root, 'bin', 'netref.js');
/** Bounded waits: for the server to listen, for the shell to finish, for the server to exit once told to. */
const STARTUP_TIMEOUT_MS = 30_000;
const SHELL_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 5_000;

/** What the shell is given, line by line: each complete input runs on the server, in the same global scope. */
const SCRIPT = `// a variable that persists from one input to the next
let visits = 1
visits += 1
// top-level await
const greeting = await new Promise((resolve) => setTimeout(() => resolve('hello from pid ' + process.pid), 100))
greeting
// modules.NAME imports NAME on the server
modules.os.hostname()
modules.os.platform() + ' ' + process.version
// what the server's code prints shows here too
console.log('printed by the server, visits =', visits)
// a remote error, with the server's stack
function divide(a, b) {
  if (b === 0) throw new RangeError('cannot divide ' + a + ' by zero')
  return a / b
}
divide(visits, 0)
`;

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

/** Starts `netref classic --port 0` and resolves with its port once it prints `... listening on tcp://HOST:PORT`. */
async function startServer(): Promise<{ server: ChildProcess; port: number }> {
  const server = spawn(process.execPath, [netref, 'classic', '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Should this process end early (an error), the server goes with it.
  process.once('exit', () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });
  const lines = createInterface({ input: server.stdout! });
  const listening = new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => {
      const m = /^netref classic listening on tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`unexpected first line from netref classic: ${JSON.stringify(line)}`));
    });
    server.once('exit', (code, signal) =>
      reject(new Error(`netref classic exited before listening (${signal ?? code})`)),
    );
    server.once('error', reject);
  });
  return { server, port: await within(listening, STARTUP_TIMEOUT_MS, 'netref classic listening') };
}

/** Runs `netref shell URI` with `script` on its stdin; resolves with its exit code and what it printed. */
async function runShell(uri: string, script: string): Promise<{ code: number | null; output: string }> {
  const shell = spawn(process.execPath, [netref, 'shell', uri], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  shell.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  shell.stdin.end(script);
  const [code] = (await within(once(shell, 'exit'), SHELL_TIMEOUT_MS, 'netref shell finishing')) as [number | null];
  return { code, output };
}

/** Ends the server by its PID (SIGTERM), then SIGKILL if it is still there after EXIT_TIMEOUT_MS. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) throw new Error('netref classic had already exited');
  const exited = once(server, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(server.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(server.pid!, 'SIGKILL'), EXIT_TIMEOUT_MS);
  const [code, signal] = await exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`netref classic exited with ${signal ?? code}`);
}

const indent = (text: string) => text.replace(/\n$/, '').replace(/^/gm, '  ');

console.log('remote-shell: netref shell against a classic server');
const { server, port } = await startServer();
const uri = `tcp://127.0.0.1:${port}`;
console.log(`started netref classic as pid ${server.pid}; it listens on ${uri}`);

console.log(`\nnetref shell ${uri} is given this script on its stdin:`);
console.log(indent(SCRIPT));
const { code, output } = await runShell(uri, SCRIPT);
console.log('\nand prints one result per input (the code runs in the server):');
console.log(indent(output));
// The script ends with an error on purpose: in script mode the shell then exits with 1.
if (code !== 1) throw new Error(`netref shell exited with ${code}; expected 1, as one input failed`);
console.log('\nnetref shell exited with code 1: one input failed, as planned');

await stopServer(server);
console.log(`netref classic (pid ${server.pid}) exited with code 0`);
console.log('done');

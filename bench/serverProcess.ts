import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A bench server running in a child process. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Kills the child by its PID and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const live = new Set<number>();

// Last resort for every way the parent can end without reaching its own cleanup (an uncaught error, Ctrl-C):
// no server may outlive the bench. Only synchronous work is possible in 'exit', hence SIGKILL.
process.on('exit', () => {
  for (const pid of live) killQuietly(pid, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const pid of live) killQuietly(pid, 'SIGKILL');
    process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
  });
}

/**
 * Starts `bench/<file>` with the same Node and tsx (and `env`), and resolves once it printed the port it listens on.
 * Rejects (and leaves no child) if it exits, fails to spawn or stays silent for `timeoutMs`.
 */
export function startServer(
  file: string,
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerProcess> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env,
    // stdin is the child's lifeline (see serverLifetime.ts); stderr goes straight to ours so its errors show.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid !== undefined) {
    live.add(pid);
    // Forget it the moment it is gone: its PID may be reused, and we must never signal a stranger.
    child.once('exit', () => live.delete(pid));
  }
  const stop = async (): Promise<void> => {
    child.stdin?.destroy();
    if (pid === undefined || !live.has(pid)) return;
    killQuietly(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (live.has(pid)) killQuietly(pid, 'SIGKILL');
    }, 3_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    let out = '';
    const fail = (why: string) => {
      cleanup();
      void stop().then(() => reject(new Error(`${file}: ${why}`)));
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      const line = out.slice(0, newline).trim();
      const port = Number(line);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        fail(`expected a port on its first line, got ${JSON.stringify(line)}`);
        return;
      }
      cleanup();
      // Keep reading so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      resolve({ name: file, pid: pid!, port, stop });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    const onError = (error: Error) => fail(`could not start: ${error.message}`);
    const timer = setTimeout(() => fail(`printed no port within ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: that is what we wanted.
  }
}

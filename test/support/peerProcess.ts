import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './pair.js';

const ENTRY = fileURLToPath(new URL('../fixtures/fault-peer.ts', import.meta.url));

/** A netref server (test/fixtures/fault-peer.ts) in a child process of this test. */
export interface PeerProcess {
  child: ChildProcess;
  port: number;
  /** SIGKILLs the child (after SIGCONT, should it be stopped) and waits for it to exit. Idempotent. */
  kill(): Promise<void>;
}

/** Starts the peer on 127.0.0.1:`port` (0: any) and resolves once it listens. */
export async function startPeer(port = 0): Promise<PeerProcess> {
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', ENTRY, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // A stopped process takes SIGKILL too, but SIGCONT first keeps ps tidy should the kill be delayed.
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  };
  try {
    const line = await within(
      new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        child.once('exit', (code, signal) => reject(new Error(`the peer exited (${code ?? signal}) before listening`)));
      }),
      15_000,
      'the peer process to listen',
    );
    return { child, port: (JSON.parse(line) as { port: number }).port, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

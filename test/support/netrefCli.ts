import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { within } from './pair.js';

/** The repository root, where the built `bin/netref.js` runs from. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'bin', 'netref.js');

export interface StartedCli {
  child: ChildProcess;
  uri: string;
  stderr: () => string;
}

/** Starts `netref ARGS` and waits (bounded) for its one "listening on URI" line on stdout. */
export async function startCli(args: string[]): Promise<StartedCli> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  try {
    const uri = await within(
      new Promise<string>((resolve, reject) => {
        lines.on('line', (line) => {
          const m = /^netref (?:serve|classic) listening on (\S+)$/.exec(line);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`netref exited with ${code} before listening: ${stderr}`)));
      }),
      20_000,
      'the listening line',
    );
    return { child, uri, stderr: () => stderr };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Sends SIGTERM and waits (bounded) for the exit; resolves with the exit code. */
export async function stopCli(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return within(exited, 10_000, 'netref to exit on SIGTERM');
}

/** Runs `netref ARGS` to completion (bounded); for commands that finish by themselves. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return within(done, 20_000, `netref ${args.join(' ')}`).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
}

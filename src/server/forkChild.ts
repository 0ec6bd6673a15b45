import type { ChildProcess } from 'node:child_process';
import { builtins } from '../channel/index.js';
import { netrefModule } from '../core/index.js';
import type { IpcSend } from './IpcStream.js';

/** Options that would make every child do something else than run forkEntry, or fight over a debugger port. */
const DROPPED_WITH_VALUE = new Set(['-e', '--eval', '-p', '--print']);
const DROPPED = /^(--inspect(-brk|-port|-wait)?|--debug-port|-i|--interactive|--test.*|--watch.*)(=|$)/;

/**
 * The parent's Node options for a child: kept, so that loaders (`--import tsx`), conditions and memory limits apply
 * to the service module as they do here; minus those that would make the child evaluate other code or fight over a
 * debugger port.
 */
function childExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (DROPPED_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (DROPPED.test(a)) continue;
    out.push(a);
  }
  return out;
}

/**
 * Starts a child process running forkEntry for `service`. It loads the module at once and reports `loaded` or
 * `failed` (forkMessages.ts). Stdout and stderr are ours; stdin is not given (the child talks over IPC and the
 * client's socket). Spawning errors arrive as the child's `error` event.
 */
export function forkChild(service: { module: string; export: string }): ChildProcess {
  return builtins.childProcess().fork(netrefModule('server/forkEntry'), [service.module, service.export], {
    execArgv: childExecArgv(),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends over a child's IPC channel, never throwing nor emitting `error` when the channel is down. */
export function sendTo(child: ChildProcess): IpcSend {
  return (message, done) => {
    if (!child.connected) {
      done(new Error('the child process has disconnected'));
      return;
    }
    try {
      child.send(message as object, undefined, undefined, done);
    } catch (error) {
      done(error as Error); // a value that cannot be serialized
    }
  };
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** How a child ended, in words: `exited with code 3`, `was killed by SIGKILL`. */
export function exitText(child: ChildProcess): string {
  return child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
}

/** Resolves once the child has exited (at once if it has, or if it never started). */
export function whenExited(child: ChildProcess): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => {
      if (child.pid === undefined || hasExited(child)) resolve();
    });
  });
}

/**
 * Ends a child that has no connection (a probe): disconnecting tells it to exit; after `grace` ms it is killed.
 * Resolves once it has exited.
 */
export async function stopChild(child: ChildProcess, grace: number): Promise<void> {
  if (hasExited(child)) return;
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), grace);
  await whenExited(child);
  clearTimeout(timer);
}

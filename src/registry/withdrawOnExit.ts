import { settlesWithin } from '../core/index.js';

/** Something to withdraw when the process is told to stop. */
export interface Withdrawable {
  /** Sends the goodbyes; resolves when they are out (or have failed). Never rejects. */
  withdraw(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** The longest goodbyes and unregistering may take, and hold up a process that was told to stop. */
export const WITHDRAW_LIMIT = 1000;

const live = new Set<Withdrawable>();
const handlers = new Map<NodeJS.Signals, () => void>();

function onSignal(signal: NodeJS.Signals): void {
  // Counted now, while every other handler is still registered (ours runs first: it was prepended).
  const othersListen = process.listenerCount(signal) > 1;
  uninstall();
  const pending = [...live].map((a) => a.withdraw());
  live.clear();
  void settlesWithin(Promise.allSettled(pending), WITHDRAW_LIMIT).then(() => {
    // Nobody else handles the signal: raise it again so the process ends as it would have without us (by the
    // signal, exit code 128+n). A program with its own handler keeps control of what happens next.
    if (!othersListen && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function install(): void {
  if (handlers.size) return;
  for (const signal of SIGNALS) {
    const handler = () => onSignal(signal);
    handlers.set(signal, handler);
    process.prependListener(signal, handler);
  }
}

function uninstall(): void {
  for (const [signal, handler] of handlers) process.off(signal, handler);
  handlers.clear();
}

/**
 * Withdraws `a` (goodbye packets, unregistering) when the process gets SIGINT or SIGTERM. Without another handler for
 * that signal, the signal is raised again once the goodbyes are out (at most 1 s later), so the process still ends
 * by it as it would have; with one, that handler decides what happens next (`netref serve` closes its server).
 * Returns a function that forgets `a`; the handlers are removed once nothing is left to withdraw, so an idle
 * program's signals behave as Node's defaults.
 *
 * A crash, `process.exit()` or SIGKILL sends no goodbye: browsers drop such a service when its records' TTL runs
 * out, and `connectByService` moves past a server that does not answer.
 */
export function withdrawOnExit(a: Withdrawable): () => void {
  live.add(a);
  install();
  return () => {
    live.delete(a);
    if (live.size === 0) uninstall();
  };
}

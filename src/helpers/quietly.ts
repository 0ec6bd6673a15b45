/**
 * Runs a clean-up step whose failure does not matter (a call on a connection that may be gone: it can throw at once
 * or reject later): both are swallowed, and nothing waits for it.
 */
export function quietly(step: () => unknown): void {
  try {
    const result = step();
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      Promise.resolve(result).catch(() => {});
    }
  } catch {
    // already gone
  }
}

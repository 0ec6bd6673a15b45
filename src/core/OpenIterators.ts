/**
 * The iterators the peer opened with ITERATE on one connection and has neither exhausted nor closed. When the
 * connection closes they are closed (`return()`), so a generator's `finally` runs and what it holds (a file, a
 * cursor) is let go. Held weakly: an iterator the peer released and nobody else holds is simply collected.
 */
export class OpenIterators {
  #refs = new Set<WeakRef<object>>();
  #byIterator = new WeakMap<object, WeakRef<object>>();
  /** Size at which dead references are swept next, so the set stays near the number of live iterators. */
  #sweepAt = 64;

  add(iterator: object): void {
    if (this.#byIterator.has(iterator)) return;
    const ref = new WeakRef(iterator);
    this.#byIterator.set(iterator, ref);
    this.#refs.add(ref);
    if (this.#refs.size >= this.#sweepAt) {
      for (const r of this.#refs) if (!r.deref()) this.#refs.delete(r);
      this.#sweepAt = Math.max(64, this.#refs.size * 2);
    }
  }

  delete(iterator: object): void {
    const ref = this.#byIterator.get(iterator);
    if (!ref) return;
    this.#byIterator.delete(iterator);
    this.#refs.delete(ref);
  }

  /** Calls `return()` on every iterator still open, later (not inside the close), ignoring what they throw. */
  closeAll(): void {
    const open = [...this.#refs].map((r) => r.deref()).filter((it): it is object => it !== undefined);
    this.#refs.clear();
    this.#byIterator = new WeakMap();
    if (open.length === 0) return;
    queueMicrotask(() => {
      for (const it of open) {
        try {
          const ret = (it as { return?: unknown }).return;
          if (typeof ret === 'function') Promise.resolve(ret.call(it)).catch(() => {});
        } catch {
          // a connection that is gone cannot report anything, and the close must not fail
        }
      }
    });
  }
}

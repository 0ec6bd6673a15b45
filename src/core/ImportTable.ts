interface ImportEntry {
  ref: WeakRef<object>;
  /** References received for this id since it was last released. */
  count: number;
  /** Distinguishes this entry from a later one for the same id, for the finalizer. */
  gen: number;
}

/**
 * One registry for every table: making one per connection costs each connection more than the rest of its tables.
 * A registered entry (and the table it names) is kept only until its proxy is collected or the table unregisters
 * it, so the registry keeps no table alive longer than that table's own netrefs do.
 */
const registry = new FinalizationRegistry<{ table: ImportTable; id: number; gen: number }>(({ table, id, gen }) =>
  table.collected(id, gen),
);

/**
 * The peer's objects we hold netrefs to: one live proxy per id (so `===` holds), and the count of references
 * received for it. A proxy that is released, or garbage collected, hands its id and count to `onRelease`, which
 * batches them into RELEASE messages.
 */
export class ImportTable {
  #entries = new Map<number, ImportEntry>();
  #gen = 0;
  #onRelease: (id: number, count: number) => void;

  constructor(onRelease: (id: number, count: number) => void) {
    this.#onRelease = onRelease;
  }

  /** The proxy for `id`, made with `make` the first time; counts one received reference. */
  receive(id: number, make: () => object): object {
    const entry = this.#entries.get(id);
    const existing = entry?.ref.deref();
    if (entry && existing) {
      entry.count++;
      return existing;
    }
    if (entry) this.#drop(id, entry); // collected, finalizer not run yet: report its count now
    const proxy = make();
    const gen = ++this.#gen;
    this.#entries.set(id, { ref: new WeakRef(proxy), count: 1, gen });
    registry.register(proxy, { table: this, id, gen }, proxy);
    return proxy;
  }

  /** Releases `proxy` now. Returns false if it was not the live netref for `id` (already released). */
  release(id: number, proxy: object): boolean {
    const entry = this.#entries.get(id);
    if (!entry || entry.ref.deref() !== proxy) return false;
    registry.unregister(proxy);
    this.#drop(id, entry);
    return true;
  }

  /** Forgets everything without reporting: the connection is gone. */
  clear(): void {
    for (const entry of this.#entries.values()) {
      const p = entry.ref.deref();
      if (p) registry.unregister(p);
    }
    this.#entries.clear();
  }

  /** A proxy of `id` was garbage collected (the registry tells). */
  collected(id: number, gen: number): void {
    const entry = this.#entries.get(id);
    if (entry && entry.gen === gen) this.#drop(id, entry);
  }

  #drop(id: number, entry: ImportEntry): void {
    this.#entries.delete(id);
    this.#onRelease(id, entry.count);
  }
}
